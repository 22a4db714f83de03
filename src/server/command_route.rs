//! `POST /command` `{"text": "/queue", "user": "ann"}`: the chat commands for any bridge (Slack,
//! Discord, a shell script) — the same interpreter as the Telegram chat ([`crate::chat`]), the
//! same answer as plain text. Token as the other POSTs. 200 with `{"ok", "result", "answer"}`
//! (`result`: `ok`, `asked` — send `yes` as the same `user` to confirm —, `refused` or `error`);
//! 400 for a body that is not such an object. Logged as a `command` entry, `source: "http"`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::authorize;
use super::error::ApiError;
use crate::chat::{self, Source};
use crate::home::Home;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandRequest {
    text: String,
    /// Who typed it on the bridge: logged, and only the same user's `yes` confirms their
    /// `/approve`.
    #[serde(default)]
    user: Option<String>,
}

pub(super) async fn command(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let bytes = body.map_err(|e| {
        ApiError::new(
            e.status(),
            format!("cannot read the request body: {}", e.body_text()),
        )
    })?;
    let req: CommandRequest = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "the request body is not a command: {e}; send a JSON object {{\"text\": \"/status\", \"user\": \"ann\" (optional)}}"
            ),
        )
    })?;
    if req.text.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the command's `text` is empty; send e.g. {\"text\": \"/help\"}",
        ));
    }
    let home = Home::new(state.home.root());
    let answer = tokio::task::spawn_blocking(move || {
        let source = Source::http(req.user.as_deref());
        chat::handle(&home, &source, &req.text, None)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the command failed: {e}; see logs/brl.log"),
        )
    })?;
    Ok(Json(json!({
        "ok": matches!(answer.result, "ok" | "asked"),
        "result": answer.result,
        "answer": answer.plain(),
    })))
}
