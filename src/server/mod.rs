//! The control room's HTTP triggers: a small axum server that other programs (cron, CI, a chat
//! bot) use to queue tasks and ask for jobs, and that monitors use to read the status.
//!
//! ```text
//! GET  /healthz          200 {"ok":true,"brl":true,"home":"<the home's path>"}
//! GET  /status           200 <the control room's status JSON>
//! POST /trigger/task     201 {"id","title","tier","state","ready"}   body {"title","body"?,"tier"?}
//! POST /trigger/review   202 the automated review starts (409: one is running); /trigger/standup, /trigger/doctor likewise
//! POST /command          200 {"ok","result","answer"}   body {"text": "/queue", "user"?}: the chat commands
//! ```
//!
//! Every POST needs `Authorization: Bearer <token>`, the token being the value of the environment
//! variable named by `[server] token_env`. Without a token the server still answers GETs but
//! refuses POSTs with 403, and it refuses to start at all on an address other than loopback.
//! Every answer, errors included, is a JSON object; errors are `{"error": "<what and the fix>"}`.
//!
//! The server is a face: it calls the same store functions as the command line and never owns a
//! file itself.

mod auth;
mod command_route;
mod error;
pub mod limits;
pub mod occupant;
mod routes;
mod session_routes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

use crate::home::Home;

/// The largest request body accepted, in bytes (64 KiB); larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What `GET /status` answers: the control room's current state as JSON. It is called on a
/// blocking thread, so it may read files.
pub type StatusFn = Arc<dyn Fn() -> anyhow::Result<serde_json::Value> + Send + Sync>;

/// Everything the server needs; built by the control room from `brl.toml` and its environment.
#[derive(Clone)]
pub struct ServerOptions {
    /// The home whose task queue `POST /trigger/task` adds to.
    pub home: Home,
    /// The address [`spawn`] binds (`[server] listen`).
    pub listen: SocketAddr,
    /// The bearer token POSTs must carry; `None` (or empty) refuses every POST with 403.
    pub token: Option<String>,
    /// The name of the environment variable the token comes from (`[server] token_env`), for
    /// messages.
    pub token_env: String,
    /// The task queue's cap (`[tasks] max_pending`).
    pub max_pending: usize,
    /// Answers `GET /status`.
    pub status: StatusFn,
}

/// The shared state of the handlers.
struct AppState {
    home: Home,
    tasks_path: PathBuf,
    token: Option<String>,
    token_env: String,
    max_pending: usize,
    status: StatusFn,
}

/// The token from the environment variable `token_env`; unset, empty or not UTF-8 is no token.
pub fn token_from_env(token_env: &str) -> Option<String> {
    std::env::var(token_env)
        .ok()
        .filter(|t| !t.trim().is_empty())
}

/// The start-up rules. Without a token, a listen address other than loopback is an error (anyone
/// who can reach it could queue work); on loopback the server starts and the returned warning
/// says that POSTs will be refused with 403 and which variable to set. With a token: `Ok(None)`.
pub fn check_startup(
    listen: SocketAddr,
    token: Option<&str>,
    token_env: &str,
) -> Result<Option<String>, String> {
    if token.is_some_and(|t| !t.trim().is_empty()) {
        return Ok(None);
    }
    if !listen.ip().to_canonical().is_loopback() {
        return Err(format!(
            "the HTTP server would listen on {listen} ([server] listen in brl.toml), which is not a loopback address, \
             but there is no token: the environment variable {token_env} ([server] token_env) is not set. \
             fix: set {token_env} to a long random string in the control room's environment, \
             or set [server] listen = \"127.0.0.1:{port}\", or turn the server off with [server] enabled = false",
            port = listen.port()
        ));
    }
    Ok(Some(format!(
        "the HTTP server on {listen} has no token: the environment variable {token_env} ([server] token_env) is not set, \
         so every POST /trigger/… will be refused with 403 (GET /healthz and /status still answer). \
         set {token_env} in the control room's environment to use the triggers"
    )))
}

/// The routes, with the body limit, JSON errors and request logging.
pub fn router(opts: ServerOptions) -> Router {
    let state = Arc::new(AppState {
        tasks_path: opts.home.tasks_path(),
        home: opts.home.clone(),
        token: opts.token.filter(|t| !t.trim().is_empty()),
        token_env: opts.token_env,
        max_pending: opts.max_pending,
        status: opts.status,
    });
    Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/status", get(routes::status))
        .route("/trigger/task", post(routes::trigger_task))
        .route("/trigger/review", post(routes::trigger_review))
        .route("/trigger/standup", post(routes::trigger_standup))
        .route("/trigger/doctor", post(routes::trigger_doctor))
        .route("/queue/approve", post(routes::queue_approve))
        .route("/trigger/fix", post(routes::trigger_fix))
        .route("/pause", post(session_routes::fleet_pause))
        .route("/resume", post(session_routes::fleet_resume))
        .route("/sessions/{session}/{op}", post(session_routes::session_op))
        .route("/command", post(command_route::command))
        .method_not_allowed_fallback(routes::method_not_allowed)
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(limits::limit_body))
        .layer(axum::middleware::from_fn(routes::log_request))
        .with_state(state)
}

/// Serve on `listener` until `cancel` fires, then finish the requests in flight and return.
/// Runs on the caller's tokio runtime. Each connection is served by hyper's HTTP/1 server with
/// the limits of [`limits`]: at most [`limits::MAX_CONNECTIONS`] at once (more wait in the
/// backlog), the head within [`limits::HEAD_TIMEOUT`] and [`limits::MAX_HEAD_BYTES`] (431).
pub async fn serve(
    listener: tokio::net::TcpListener,
    opts: ServerOptions,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let addr = listener.local_addr()?;
    tracing::info!(%addr, "HTTP server listening");
    let app = router(opts);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits::MAX_CONNECTIONS));
    let tracker = tokio_util::task::TaskTracker::new();
    loop {
        let permit = tokio::select! {
            _ = cancel.cancelled() => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = cancel.cancelled() => break,
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(%addr, error = %e, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(app.clone());
        let cancel = cancel.clone();
        tracker.spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits::HEAD_TIMEOUT)
                .max_buf_size(limits::MAX_HEAD_BYTES);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "HTTP connection ended with an error");
                    }
                }
                _ = cancel.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    tracker.close();
    tracker.wait().await;
    tracing::info!(%addr, "HTTP server stopped");
    Ok(())
}

/// For the synchronous control room: bind `opts.listen` now (an address in use is an error naming
/// it, `[server] listen` and who holds it: the other brl home, or "not a brl"), then serve on a
/// dedicated thread with a current-thread runtime until `cancel` fires. Join the handle after
/// cancelling to wait for the requests in flight.
pub fn spawn(
    opts: ServerOptions,
    cancel: CancellationToken,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let addr = opts.listen;
    let std_listener = match std::net::TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let who = occupant::ask(addr, std::time::Duration::from_secs(2));
            anyhow::bail!(
                "the HTTP server cannot listen on {addr} ([server] listen in {}): the port is in use by {}\n  \
                 fix: set another [server] listen = \"127.0.0.1:<port>\" in brl.toml (or remove the line for this home's own port), \
                 stop what uses it, or set [server] enabled = false",
                opts.home.config_path().display(),
                who.describe()
            );
        }
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "the HTTP server cannot listen on {addr} ([server] listen in brl.toml); \
                     fix: choose another [server] listen, or set [server] enabled = false"
                )
            });
        }
    };
    std_listener
        .set_nonblocking(true)
        .context("cannot make the HTTP server's socket non-blocking")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the HTTP server's runtime")?;
    let listener = {
        let _guard = runtime.enter();
        tokio::net::TcpListener::from_std(std_listener)
            .with_context(|| format!("cannot register the HTTP server's socket on {addr}"))?
    };
    std::thread::Builder::new()
        .name("brl-http".into())
        .spawn(move || {
            if let Err(e) = runtime.block_on(serve(listener, opts, cancel)) {
                tracing::error!(%addr, error = %e, "the HTTP server stopped with an error");
            }
        })
        .context("cannot start the HTTP server's thread")
}
