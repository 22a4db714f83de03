//! The one shape of every error answer: a status and `{"error": "<what happened and the fix>"}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::store::state::StateError;

/// An error answer.
#[derive(Debug)]
pub(super) struct ApiError {
    pub(super) status: StatusCode,
    pub(super) message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// A refusal or failure of the task queue: its rules (cap, duplicate) are 409; a file that
    /// cannot be read or written is 500.
    pub(super) fn from_queue(e: StateError) -> ApiError {
        let status = match &e {
            StateError::Refused(_) => StatusCode::CONFLICT,
            StateError::Corrupt { .. }
            | StateError::NewerVersion { .. }
            | StateError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
