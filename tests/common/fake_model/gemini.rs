//! Gemini (`POST /v1beta/models/<model>:streamGenerateContent?alt=sse` and `:generateContent`),
//! as Gemini CLI calls it with `GOOGLE_GEMINI_BASE_URL`: candidates with text and
//! `functionCall` parts, finishReason and usageMetadata; SSE `data:` lines when streaming.

use serde_json::{Value, json};

use super::{Answer, Turn, json_response, sse_event, sse_response};
use axum::response::Response;

pub(crate) fn model_from_path(path: &str) -> Option<String> {
    let p = path.split('?').next()?;
    let rest = p.split("/models/").nth(1)?;
    Some(rest.split(':').next()?.to_string())
}

/// Google's error shape. A 429 carries the details Google sends for a spent quota: a
/// QuotaFailure naming a per-day quota, an ErrorInfo, and a RetryInfo with the delay.
pub(crate) fn error_body(status: u16, message: &str, retry_after: Option<u64>) -> Value {
    let s = match status {
        429 => "RESOURCE_EXHAUSTED",
        503 | 529 => "UNAVAILABLE",
        400 => "INVALID_ARGUMENT",
        401 | 403 => "PERMISSION_DENIED",
        _ => "INTERNAL",
    };
    let mut error = json!({"code": status, "message": message, "status": s});
    if status == 429 {
        let delay = retry_after.unwrap_or(60);
        error["details"] = json!([
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
             "violations": [{"quotaMetric":
                                 "generativelanguage.googleapis.com/generate_content_requests",
                             "quotaId": "GenerateRequestsPerDayPerProjectPerModel",
                             "quotaValue": "50"}]},
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
             "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com"},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo",
             "retryDelay": format!("{delay}s")},
        ]);
    }
    json!({ "error": error })
}

pub(crate) fn answer(a: &Answer) -> Response {
    let mut parts = Vec::new();
    if let Turn::Reply { text, calls } = a.turn {
        if !text.is_empty() || calls.is_empty() {
            parts.push(json!({"text": text}));
        }
        for c in calls {
            parts.push(json!({"functionCall": {"name": c.name, "args": c.args}}));
        }
    }
    let body = json!({
        "candidates": [{"content": {"role": "model", "parts": parts},
                        "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": a.input_tokens,
                          "candidatesTokenCount": a.output_tokens(),
                          "totalTokenCount": a.input_tokens + a.output_tokens()},
        "modelVersion": a.model,
        "responseId": format!("fake-{}", a.seq),
    });
    if a.stream {
        sse_response(sse_event(None, &body))
    } else {
        json_response(200, body)
    }
}
