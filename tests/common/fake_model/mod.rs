//! A scripted fake model API for the real agent CLIs, on 127.0.0.1:<a free port>, in-process.
//!
//! A test gives a [`Script`]: the turns the "model" answers, in order (text, tool calls with
//! arguments, or an HTTP error such as 429 with `retry-after` / rate-limit headers or 529
//! overloaded). Each turn is spoken in the wire protocol of the endpoint the CLI called:
//! Anthropic Messages (Claude Code), OpenAI Responses (Codex), Gemini generateContent (Gemini CLI)
//! and OpenAI Chat Completions (opencode, aider) — streaming (SSE) when the request asks for it.
//! Every request is recorded ([`FakeModel::requests`]) so tests can assert on prompts.
//!
//! CLIs also send side requests (a title for the session, a routing classifier, token counts).
//! With [`Consume::WithTools`] (the default) only requests that offer the model tools take a turn
//! from the script; the others get a short text answer. aider offers no tools (it parses edits
//! out of the text), so its scripts use [`Consume::Every`]. When the script is used up, the model
//! answers "Done." so the CLI ends its loop instead of hanging.
#![allow(dead_code)]

mod anthropic;
mod chat;
mod gemini;
mod responses;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};

/// One tool call the model makes: the CLI's own tool name and its arguments. For the Responses
/// protocol a string `args` is sent as a freeform (custom) tool call's input, e.g. a patch.
#[derive(Clone, Debug)]
pub struct Call {
    pub name: String,
    pub args: Value,
}

/// One answer of the model.
#[derive(Clone, Debug)]
pub enum Turn {
    /// Text and then tool calls (either may be empty); the turn ends with "tool use" when there
    /// are calls, else with a normal stop.
    Reply { text: String, calls: Vec<Call> },
    /// An HTTP error: status, extra headers, JSON body in the protocol's error shape (built by
    /// [`Turn::rate_limited`] / [`Turn::overloaded`], or given raw). A `sticky` error answers
    /// every later request too (for CLIs that retry), without being used up.
    Error {
        status: u16,
        headers: Vec<(String, String)>,
        message: String,
        sticky: bool,
    },
}

impl Turn {
    pub fn text(text: &str) -> Turn {
        Turn::Reply {
            text: text.to_string(),
            calls: Vec::new(),
        }
    }

    pub fn call(name: &str, args: Value) -> Turn {
        Turn::Reply {
            text: String::new(),
            calls: vec![Call {
                name: name.to_string(),
                args,
            }],
        }
    }

    /// HTTP 429 with `retry-after` (seconds) and the rate-limit reset headers the providers send;
    /// sticky, so every retry of the CLI gets it too.
    pub fn rate_limited(retry_after_secs: u64, reset_epoch: i64) -> Turn {
        let reset = chrono::DateTime::from_timestamp(reset_epoch, 0)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        Turn::Error {
            status: 429,
            headers: vec![
                ("retry-after".into(), retry_after_secs.to_string()),
                ("anthropic-ratelimit-requests-reset".into(), reset.clone()),
                ("anthropic-ratelimit-tokens-reset".into(), reset.clone()),
                (
                    "anthropic-ratelimit-unified-status".into(),
                    "rejected".into(),
                ),
                (
                    "anthropic-ratelimit-unified-reset".into(),
                    reset_epoch.to_string(),
                ),
                (
                    "x-ratelimit-reset-requests".into(),
                    format!("{retry_after_secs}s"),
                ),
                ("x-ratelimit-remaining-requests".into(), "0".into()),
            ],
            message: "Rate limit reached: usage limit exceeded for this key".into(),
            sticky: true,
        }
    }

    /// HTTP 529 "overloaded" (Anthropic's own status), sticky.
    pub fn overloaded() -> Turn {
        Turn::Error {
            status: 529,
            headers: Vec::new(),
            message: "Overloaded".into(),
            sticky: true,
        }
    }
}

/// Which requests take a turn from the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consume {
    /// Only requests that offer tools (the agent's own loop); side requests get a short text.
    WithTools,
    /// Every model request (aider, which offers no tools).
    Every,
}

#[derive(Clone, Debug)]
pub struct Script {
    pub turns: Vec<Turn>,
    pub consume: Consume,
    /// The answer to side requests and to requests after the script ran out.
    pub idle_text: String,
}

impl Script {
    pub fn new(turns: Vec<Turn>) -> Script {
        Script {
            turns,
            consume: Consume::WithTools,
            idle_text: "Done.".into(),
        }
    }

    pub fn every_request(mut self) -> Script {
        self.consume = Consume::Every;
        self
    }
}

/// A request the server got.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path and query, e.g. `/v1/messages?beta=true`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Value::Null` when empty, a string when not JSON).
    pub body: Value,
    /// Whether this request took a turn from the script (and which, 0-based).
    pub turn: Option<usize>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    turns: VecDeque<Turn>,
    consume: Consume,
    idle_text: String,
    taken: usize,
    requests: Vec<Recorded>,
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running server; stopped when dropped.
pub struct FakeModel {
    pub addr: SocketAddr,
    state: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeModel {
    pub fn start(script: Script) -> FakeModel {
        let state: Shared = Arc::new(Mutex::new(State {
            turns: script.turns.into(),
            consume: script.consume,
            idle_text: script.idle_text,
            taken: 0,
            requests: Vec::new(),
        }));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("fake model runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("fake model binds 127.0.0.1");
                addr_tx
                    .send(listener.local_addr().expect("local addr"))
                    .expect("addr sent");
                let app = Router::new().fallback(handle).with_state(shared);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    })
                    .await
                    .expect("fake model serves");
            });
        });
        let addr = addr_rx.recv().expect("fake model started");
        FakeModel {
            addr,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state).requests.clone()
    }

    /// How many turns of the script were used.
    pub fn turns_taken(&self) -> usize {
        lock(&self.state).taken
    }

    /// The recorded requests as JSON lines (for a test's failure message or a fixture).
    pub fn dump(&self) -> String {
        self.requests()
            .iter()
            .map(|r| {
                json!({"method": r.method, "path": r.path, "turn": r.turn,
                       "body_chars": r.body.to_string().len()})
                .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

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

async fn handle(
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
        ..
    } = &turn
    {
        let body = match proto {
            Protocol::Anthropic => anthropic::error_body(*status, message),
            Protocol::Gemini { .. } => {
                let retry = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                    .and_then(|(_, v)| v.parse().ok());
                gemini::error_body(*status, message, retry)
            }
            _ => chat::error_body(*status, message),
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
