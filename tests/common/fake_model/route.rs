//! Routing of the fake model's requests: which protocol a path speaks, which requests take a
//! turn from the script, the recording of every request, and the shared response helpers.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Consume, Recorded, Shared, Turn, anthropic, chat, gemini, lock, responses};

/// What a protocol module is asked to answer.
pub(crate) struct Answer<'a> {
    pub turn: &'a Turn,
    pub stream: bool,
    pub model: String,
    pub input_tokens: u64,
    pub seq: usize,
}

impl Answer<'_> {
    /// A deterministic output token count for a reply.
    pub fn output_tokens(&self) -> u64 {
        match self.turn {
            Turn::Reply { text, calls } => {
                let call_chars: usize = calls.iter().map(|c| c.args.to_string().len()).sum();
                10 + (text.len() + call_chars) as u64 / 4
            }
            Turn::Error { .. } => 0,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Anthropic,
    AnthropicCount,
    Responses,
    Gemini { stream: bool },
    GeminiCount,
    Chat,
}

fn protocol(path: &str) -> Option<Protocol> {
    let p = path.split('?').next().unwrap_or(path);
    if p.ends_with("/messages/count_tokens") {
        Some(Protocol::AnthropicCount)
    } else if p.ends_with("/messages") {
        Some(Protocol::Anthropic)
    } else if p.ends_with("/responses") {
        Some(Protocol::Responses)
    } else if p.ends_with(":streamGenerateContent") {
        Some(Protocol::Gemini { stream: true })
    } else if p.ends_with(":generateContent") {
        Some(Protocol::Gemini { stream: false })
    } else if p.ends_with(":countTokens") {
        Some(Protocol::GeminiCount)
    } else if p.ends_with("/chat/completions") {
        Some(Protocol::Chat)
    } else {
        None
    }
}

fn offers_tools(body: &Value) -> bool {
    body.get("tools")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty())
}

pub(crate) async fn handle(
    axum::extract::State(state): axum::extract::State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| uri.path().to_string());
    let text = String::from_utf8_lossy(&body).to_string();
    let json_body: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
    };
    let proto = if method == Method::POST {
        protocol(&path)
    } else {
        None
    };
    let mut record = Recorded {
        method: method.to_string(),
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).to_string(),
                )
            })
            .collect(),
        body: json_body.clone(),
        turn: None,
    };

    let Some(proto) = proto else {
        lock(&state).requests.push(record);
        return other(&method, &path);
    };
    let input_tokens = 100 + text.len() as u64 / 4;
    match proto {
        Protocol::AnthropicCount => {
            lock(&state).requests.push(record);
            return json_response(200, json!({ "input_tokens": input_tokens }));
        }
        Protocol::GeminiCount => {
            lock(&state).requests.push(record);
            return json_response(200, json!({ "totalTokens": input_tokens }));
        }
        _ => {}
    }

    // Take the next turn (or answer a side request / an exhausted script with idle text).
    let (turn, seq) = {
        let mut s = lock(&state);
        let takes = match s.consume {
            Consume::Every => true,
            Consume::WithTools => offers_tools(&json_body),
        };
        let turn = if takes {
            match s.turns.front().cloned() {
                Some(t) => {
                    let sticky = matches!(t, Turn::Error { sticky: true, .. });
                    if !sticky {
                        s.turns.pop_front();
                    }
                    record.turn = Some(s.taken);
                    s.taken += 1;
                    t
                }
                None => Turn::text(&s.idle_text.clone()),
            }
        } else {
            Turn::text(&s.idle_text.clone())
        };
        let seq = s.requests.len();
        s.requests.push(record);
        (turn, seq)
    };

    let model = json_body
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| gemini::model_from_path(&path))
        .unwrap_or_else(|| "fake-model".into());
    let stream = match proto {
        Protocol::Gemini { stream } => stream,
        _ => json_body.get("stream").and_then(Value::as_bool) == Some(true),
    };
    let answer = Answer {
        turn: &turn,
        stream,
        model,
        input_tokens,
        seq,
    };
    if let Turn::Error {
        status,
        headers,
        message,
        body,
        ..
    } = &turn
    {
        let body = match (body, proto) {
            (Some(raw), _) => raw.clone(),
            (None, proto) => match proto {
                Protocol::Anthropic => anthropic::error_body(*status, message),
                Protocol::Gemini { .. } => {
                    let retry = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                        .and_then(|(_, v)| v.parse().ok());
                    gemini::error_body(*status, message, retry)
                }
                _ => chat::error_body(*status, message),
            },
        };
        let mut r = json_response(*status, body);
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (
                header::HeaderName::from_bytes(k.as_bytes()),
                header::HeaderValue::from_str(v),
            ) {
                r.headers_mut().insert(k, v);
            }
        }
        return r;
    }
    match proto {
        Protocol::Anthropic => anthropic::answer(&answer),
        Protocol::Responses => responses::answer(&answer),
        Protocol::Gemini { .. } => gemini::answer(&answer),
        _ => chat::answer(&answer),
    }
}

/// Requests that are no model call: a HEAD/GET of `/` (Claude Code checks the base URL), a model
/// list; anything else is 404 (recorded, so a test can see what a CLI tried).
fn other(method: &Method, path: &str) -> Response {
    let p = path.split('?').next().unwrap_or(path);
    if *method == Method::HEAD || p == "/" {
        return json_response(200, json!({}));
    }
    if *method == Method::GET && p.ends_with("/models") {
        return json_response(
            200,
            json!({"object": "list", "data": [{"id": "fake-model", "object": "model"}],
                   "models": []}),
        );
    }
    json_response(
        404,
        json!({"error": {"type": "not_found_error",
                         "message": format!("fake model: no {method} {path}")}}),
    )
}

pub(crate) fn json_response(status: u16, body: Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("response builds")
}

/// An SSE response from already-formatted events.
pub(crate) fn sse_response(events: String) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from(events))
        .expect("response builds")
}

/// One SSE event: `event: <name>` (when given) and `data: <json>`.
pub(crate) fn sse_event(name: Option<&str>, data: &Value) -> String {
    match name {
        Some(n) => format!("event: {n}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}
