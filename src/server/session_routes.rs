//! `POST /sessions/{session}/{pause|resume|restart|stop}` and `POST /pause`, `POST /resume`:
//! the operator's control of each session and of the fleet over HTTP, the same calls as
//! `brl pause|resume|restart|stop` ([`crate::control::ops`], logged `by: "http"`). Token as the
//! other POSTs. 200 with `{"ok": true, "result": "<what happened>"}`; 404 for a session the
//! home does not run; 409 when the operation cannot be done now (no cycle to stop, no worker).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::AppState;
use super::auth::authorize;
use super::error::ApiError;
use crate::control::ops::{self, By};
use crate::home::Home;

type AppStateRef = State<Arc<AppState>>;

/// One operation, on a blocking thread.
async fn run(
    state: &AppState,
    session: Option<String>,
    op: String,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let home = Home::new(state.home.root());
    let done = tokio::task::spawn_blocking(move || -> Result<String, (StatusCode, String)> {
        if let Some(s) = &session {
            let config = home
                .load_config()
                .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            config
                .check_session(s)
                .map_err(|e| (StatusCode::NOT_FOUND, format!("{e:#}")))?;
        }
        let s = session.as_deref();
        let r = match (op.as_str(), s) {
            ("pause", _) => ops::pause(&home, s, By::Http),
            ("resume", _) => ops::resume(&home, s, By::Http),
            ("stop", Some(s)) => ops::stop(&home, s, By::Http),
            ("restart", Some(s)) => ops::restart(&home, s, By::Http),
            _ => {
                return Err((
                    StatusCode::NOT_FOUND,
                    format!(
                        "no operation `{op}`: POST /sessions/<session>/pause|resume|restart|stop, or /pause, /resume for the fleet"
                    ),
                ));
            }
        };
        r.map_err(|e| (StatusCode::CONFLICT, e.to_string()))
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the operation failed: {e}; see logs/brl.log"),
        )
    })?;
    match done {
        Ok(text) => Ok((StatusCode::OK, Json(json!({"ok": true, "result": text})))),
        Err((status, message)) => Err(ApiError::new(status, message)),
    }
}

/// `POST /sessions/{session}/{op}`.
pub(super) async fn session_op(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path((session, op)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorize(&state, &headers)?;
    run(&state, Some(session), op).await
}

/// `POST /pause`: the whole fleet.
pub(super) async fn fleet_pause(
    State(state): AppStateRef,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorize(&state, &headers)?;
    run(&state, None, "pause".into()).await
}

/// `POST /resume`: the whole fleet.
pub(super) async fn fleet_resume(
    State(state): AppStateRef,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorize(&state, &headers)?;
    run(&state, None, "resume".into()).await
}
