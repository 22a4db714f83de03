//! What keeps a hostile or broken client from holding the server: a connection cap, a time limit
//! on the request head and on the body, a cap on the head's size (431) and on the body's (413,
//! sent after reading and throwing away the body up to a bound, so the client is still listening
//! when the answer comes instead of finding its connection reset).

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::time::Instant;

use super::MAX_BODY_BYTES;
use super::error::ApiError;

/// Connections served at once; more wait in the listen backlog (they are not refused).
pub const MAX_CONNECTIONS: usize = 256;
/// A request head (request line and headers) must arrive within this, counted from the moment
/// the server waits for it (an idle kept-alive connection included).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head, in bytes: larger gets 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// A body must arrive within this.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// An oversized body is read and thrown away up to this many bytes before the 413 is sent.
pub const DRAIN_BYTES: u64 = 32 * 1024 * 1024;

/// Read the whole body within [`BODY_TIMEOUT`] and at most [`MAX_BODY_BYTES`] of it, then pass
/// the request on with the body in memory.
pub async fn limit_body(req: Request, next: Next) -> Response {
    let (parts, mut body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let deadline = Instant::now() + BODY_TIMEOUT;
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        drain(&mut body, 0, deadline).await;
        return too_large(declared);
    }
    let mut buf: Vec<u8> = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the request body did not arrive within {} s",
                        BODY_TIMEOUT.as_secs()
                    ),
                )
                .into_response();
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the request body: {e}"),
                )
                .into_response();
            }
            Ok(Some(Ok(frame))) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if buf.len() + data.len() > MAX_BODY_BYTES {
                    let seen = (buf.len() + data.len()) as u64;
                    drain(&mut body, seen, deadline).await;
                    return too_large(None);
                }
                buf.extend_from_slice(&data);
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(buf))).await
}

/// Read and drop the rest of `body` (`seen` bytes already read), up to [`DRAIN_BYTES`] in all
/// and until `deadline`.
async fn drain(body: &mut Body, mut seen: u64, deadline: Instant) {
    while seen < DRAIN_BYTES {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    seen += data.len() as u64;
                }
            }
            _ => return,
        }
    }
}

fn too_large(declared: Option<u64>) -> Response {
    let size = declared.map_or(String::new(), |n| format!(" ({n} bytes)"));
    let mut r = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request body{size} is larger than {MAX_BODY_BYTES} bytes (64 KiB); a task's title and body fit well within that"
        ),
    )
    .into_response();
    // What is left of the body is not read: this connection cannot carry another request.
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}
