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
//!
//! Use from a test binary (it needs no other test support):
//!
//! ```ignore
//! #[path = "common/fake_model/mod.rs"]
//! mod fake_model;
//! use fake_model::{FakeModel, Script, Turn};
//!
//! let server = FakeModel::start(Script::new(vec![
//!     Turn::call("Write", json!({"file_path": "/abs/repo/hello.txt", "content": "hi\n"})),
//!     Turn::text("Done."),
//! ]));
//! let env = server.claude_env(); // or codex_env(home, ""), gemini_env(home), … (clients.rs)
//! // run `claude -p --permission-mode acceptEdits …` (or brl with that preset) with `env`
//! assert!(server.requests().iter().any(|r| r.body.to_string().contains("my prompt")));
//! ```
#![allow(dead_code)]

mod anthropic;
mod chat;
pub mod clients;
mod gemini;
mod responses;
mod route;

pub(crate) use route::{Answer, json_response, sse_event, sse_response};

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
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
    /// An HTTP error: status, extra headers, and a JSON body in the protocol's error shape made
    /// from `message` — or `body` verbatim when given (a provider's own shape, e.g. OpenAI's
    /// `usage_limit_reached`). Built by [`Turn::rate_limited`], [`Turn::overloaded`],
    /// [`Turn::error_body`]. A `sticky` error answers every later request too (for CLIs that
    /// retry), without being used up.
    Error {
        status: u16,
        headers: Vec<(String, String)>,
        message: String,
        body: Option<Value>,
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
                // Anthropic's subscription ("unified") limit headers: which window ran out, when it
                // resets, and that no extra usage is available — with them Claude Code signed in
                // to a subscription reports "You've hit your session limit · resets <time>".
                (
                    "anthropic-ratelimit-unified-status".into(),
                    "rejected".into(),
                ),
                (
                    "anthropic-ratelimit-unified-reset".into(),
                    reset_epoch.to_string(),
                ),
                (
                    "anthropic-ratelimit-unified-representative-claim".into(),
                    "five_hour".into(),
                ),
                (
                    "anthropic-ratelimit-unified-5h-status".into(),
                    "rejected".into(),
                ),
                (
                    "anthropic-ratelimit-unified-5h-reset".into(),
                    reset_epoch.to_string(),
                ),
                (
                    "anthropic-ratelimit-unified-5h-utilization".into(),
                    "1.0".into(),
                ),
                (
                    "anthropic-ratelimit-unified-overage-status".into(),
                    "rejected".into(),
                ),
                (
                    "anthropic-ratelimit-unified-overage-disabled-reason".into(),
                    "org_level_disabled".into(),
                ),
                (
                    "x-ratelimit-reset-requests".into(),
                    format!("{retry_after_secs}s"),
                ),
                ("x-ratelimit-remaining-requests".into(), "0".into()),
            ],
            message: "Rate limit reached: usage limit exceeded for this key".into(),
            body: None,
            sticky: true,
        }
    }

    /// HTTP 529 "overloaded" (Anthropic's own status), sticky.
    pub fn overloaded() -> Turn {
        Turn::Error {
            status: 529,
            headers: Vec::new(),
            message: "Overloaded".into(),
            body: None,
            sticky: true,
        }
    }
}

impl Turn {
    /// An HTTP error with this exact JSON body and headers; sticky.
    pub fn error_body(status: u16, headers: &[(&str, String)], body: Value) -> Turn {
        Turn::Error {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            message: String::new(),
            body: Some(body),
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

pub(crate) struct State {
    pub(crate) turns: VecDeque<Turn>,
    pub(crate) consume: Consume,
    pub(crate) idle_text: String,
    pub(crate) taken: usize,
    pub(crate) requests: Vec<Recorded>,
}

pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) fn lock(s: &Shared) -> MutexGuard<'_, State> {
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
                let app = Router::new().fallback(route::handle).with_state(shared);
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
