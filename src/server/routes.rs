//! The handlers. Each answers JSON; errors go through [`ApiError`] as `{"error": …}`.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::{AppState, MAX_BODY_BYTES, auth::authorize};
use crate::jobs::{self, Job, JobError};
use crate::store::tasks::{Tasks, Tier, check_text};

/// What the tasks added over HTTP record as their source.
const SOURCE: &str = "http";

type AppStateRef = State<Arc<AppState>>;

/// `POST /trigger/task`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskRequest {
    title: String,
    #[serde(default)]
    body: Option<String>,
    /// Default: auto_safe, as for `brl task add`.
    #[serde(default)]
    tier: Option<Tier>,
    /// Reserved for this session: its next cycle takes it (as `brl task add --session`).
    #[serde(default)]
    session: Option<String>,
}

/// `GET /healthz`: `{"ok": true, "brl": true, "home": "<the home's path>"}`. The home lets a
/// second control room that finds the port taken say which home holds it (see `occupant`).
pub(super) async fn healthz(State(state): AppStateRef) -> Json<Value> {
    Json(json!({ "ok": true, "brl": true, "home": state.home.root().display().to_string() }))
}

/// `GET /status`: the control room's status function, run on a blocking thread.
pub(super) async fn status(State(state): AppStateRef) -> Result<Json<Value>, ApiError> {
    let status = Arc::clone(&state.status);
    match tokio::task::spawn_blocking(move || status()).await {
        Ok(Ok(value)) => Ok(Json(value)),
        Ok(Err(e)) => {
            tracing::warn!(error = %format!("{e:#}"), "GET /status failed");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read the control room's status: {e:#}"),
            ))
        }
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the status could not be computed: {e}; see logs/brl.log"),
        )),
    }
}

/// `POST /trigger/task`: add a pending task to the queue, as `brl task add` does.
pub(super) async fn trigger_task(
    State(state): AppStateRef,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorize(&state, &headers)?;
    let bytes = body.map_err(body_error)?;
    let req: TaskRequest = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "the request body is not a valid task: {e}; send a JSON object \
                 {{\"title\": \"…\", \"body\": \"…\" (optional), \"tier\": \"auto_safe\" or \"proposed\" (optional), \"session\": \"s1\" (optional)}}"
            ),
        )
    })?;
    let tier = req.tier.unwrap_or(Tier::AutoSafe);
    // A title or body refused in itself is 422; the queue's own rules (cap, duplicate) are 409.
    if let Err(message) = check_text(&req.title, req.body.as_deref()) {
        tracing::info!(error = %message, "task refused over HTTP");
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message));
    }
    if let Some(s) = &req.session {
        let home = crate::home::Home::new(state.home.root());
        let s = s.clone();
        let known = tokio::task::spawn_blocking(move || {
            home.load_config()
                .map_err(|e| e.to_string())
                .and_then(|c| c.check_session(&s).map_err(|e| format!("{e:#}")))
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        if let Err(message) = known {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message));
        }
    }
    let path = state.tasks_path.clone();
    let max_pending = state.max_pending;
    let added = tokio::task::spawn_blocking(move || {
        Tasks::new(&path).add_for(
            &req.title,
            req.body.as_deref(),
            tier,
            SOURCE,
            max_pending,
            req.session.as_deref(),
        )
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("adding the task failed: {e}; see logs/brl.log"),
        )
    })?;
    match added {
        Ok(task) => {
            tracing::info!(id = task.id, title = %task.title, tier = task.tier.as_str(), "task added over HTTP");
            Ok((
                StatusCode::CREATED,
                Json(json!({
                    "id": task.id,
                    "title": task.title,
                    "tier": task.tier,
                    "state": task.state,
                    "ready": task.ready(),
                    "session": task.for_session,
                })),
            ))
        }
        Err(e) => {
            let err = ApiError::from_queue(e);
            tracing::info!(status = err.status.as_u16(), error = %err.message, "task refused over HTTP");
            Err(err)
        }
    }
}

/// `POST /trigger/review`.
pub(super) async fn trigger_review(
    State(state): AppStateRef,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    start_job(&state, &headers, Job::Review)
}

/// `POST /trigger/standup`.
pub(super) async fn trigger_standup(
    State(state): AppStateRef,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    start_job(&state, &headers, Job::Standup)
}

/// `POST /trigger/doctor`.
pub(super) async fn trigger_doctor(
    State(state): AppStateRef,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    start_job(&state, &headers, Job::Doctor)
}

/// `POST /trigger/fix`: hand the next repair (the fixer's order) to a waiting worker: 202 with
/// the session and branch (its `fix_result` entry follows), 409 when there is nothing to repair
/// or no session waits for work.
pub(super) async fn trigger_fix(
    State(state): AppStateRef,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorize(&state, &headers)?;
    let config = state
        .home
        .load_config()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")))?;
    match crate::jobs::fix::request(&state.home, &config, None) {
        Ok((session, branch)) => {
            tracing::info!(%session, %branch, "repair handed out over HTTP");
            Ok((
                StatusCode::ACCEPTED,
                Json(json!({
                    "job": "fix",
                    "started": true,
                    "session": session,
                    "branch": branch,
                    "result": "one `fix_result` entry in the experiment log when it ends (`brl log --type fix_result`)",
                })),
            ))
        }
        Err(e) => Err(ApiError::new(StatusCode::CONFLICT, format!("{e:#}"))),
    }
}

/// Start a job on its own thread: 202 when started (its result goes to the experiment log as
/// one entry), 409 when a run is already in progress.
fn start_job(
    state: &AppState,
    headers: &HeaderMap,
    job: Job,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorize(state, headers)?;
    match jobs::spawn(&state.home, job, None) {
        Ok(_) => {
            tracing::info!(job = job.name(), "job started over HTTP");
            Ok((
                StatusCode::ACCEPTED,
                Json(json!({
                    "job": job.name(),
                    "started": true,
                    "result": format!("one `{}` entry in the experiment log when it ends (`brl log --type {}`)", job.entry_kind(), job.entry_kind()),
                })),
            ))
        }
        Err(e @ JobError::Busy { .. }) => Err(ApiError::new(StatusCode::CONFLICT, e.to_string())),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot start the {} job: {e}", job.name()),
        )),
    }
}

/// A known path asked with the wrong method: 405.
pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    let path = uri.path();
    let allowed = if matches!(path, "/healthz" | "/status") {
        "GET"
    } else {
        "POST"
    };
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{path} does not answer {method}; use {allowed}"),
    )
}

/// An unknown path: 404.
pub(super) async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "there is no {method} {path} here; the endpoints are GET /healthz, GET /status, \
             POST /trigger/task, POST /trigger/review, POST /trigger/standup, POST /trigger/doctor, POST /trigger/fix, \
             POST /queue/approve, POST /pause, POST /resume, POST /sessions/<session>/<op>, POST /command",
            path = uri.path()
        ),
    )
}

/// A body that could not be read: 413 past the limit, else the rejection's own status.
fn body_error(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            format!(
                "the request body is larger than {} KiB; shorten it (a task's body is at most 16 KiB; point to a file for more)",
                MAX_BODY_BYTES / 1024
            ),
        );
    }
    ApiError::new(
        status,
        format!("cannot read the request body: {}", rejection.body_text()),
    )
}

/// Logs every request when it is answered: POSTs at info, the rest at debug. Headers (and so the
/// token) are never logged.
pub(super) async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    if method == Method::POST {
        tracing::info!(%method, %path, status, ms, "HTTP request");
    } else {
        tracing::debug!(%method, %path, status, ms, "HTTP request");
    }
    response
}

/// `POST /queue/approve`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveRequest {
    branch: String,
    /// Approve an entry the latest re-check marked `stale` or `conflict` anyway.
    #[serde(default)]
    force: bool,
}

/// `POST /queue/approve` `{"branch": "…", "force": false}`: the same journaled approve as
/// `brl queue approve` (logged `by: "http"`). 200 when merged (or superseded: its change is
/// already on main), 409 when not merged (conflict, refused — a `stale`/`conflict` entry without
/// `"force": true` says why), 422 when it cannot be decided (unknown branch, already decided).
pub(super) async fn queue_approve(
    State(state): AppStateRef,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorize(&state, &headers)?;
    let bytes = body.map_err(body_error)?;
    let req: ApproveRequest = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "the request body is not an approval: {e}; send a JSON object \
                 {{\"branch\": \"brl/s1/…\", \"force\": false (optional)}}"
            ),
        )
    })?;
    let home = crate::home::Home::new(state.home.root());
    let done = tokio::task::spawn_blocking(move || -> anyhow::Result<(bool, String)> {
        let config = home.load_config()?;
        let a = crate::decision::approve_with(&home, &config, &req.branch, "http", req.force)?;
        Ok((a.succeeded(), a.describe(&req.branch, &config.main)))
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the approval failed: {e}; see logs/brl.log"),
        )
    })?;
    match done {
        Ok((true, text)) => Ok((StatusCode::OK, Json(json!({"ok": true, "result": text})))),
        Ok((false, text)) => Err(ApiError::new(StatusCode::CONFLICT, text)),
        Err(e) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{e:#}"),
        )),
    }
}
