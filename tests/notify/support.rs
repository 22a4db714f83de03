//! Shared pieces of the notification tests: a temp home with a [notify] section, the command's
//! received events, and an HTTP receiver (std TcpListener) for the webhook and the fake Bot API.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use brl::config::Config;
use brl::home::Home;
use brl::notify::Options;
use brl::store::log::{self, Entry, Filter};
use serde_json::{Value, json};

use crate::common::room::wait_for;

pub const TOKEN_ENV: &str = "BRL_NOTIFY_TEST_TOKEN";
pub const TOKEN: &str = "123456:ABC-secret-token";

/// A temp home with a brl.toml holding `notify` (a [notify] section, or "").
pub struct H {
    _dir: tempfile::TempDir,
    pub home: Home,
    pub config: Config,
    pub events: PathBuf,
}

pub fn home_with(notify: &str) -> H {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events.jsonl");
    let text = format!(
        "repo = \"repo\"\nsessions = 2\n[agent]\ncommand = \"true\"\n{}",
        notify.replace("{events}", &events.display().to_string())
    );
    std::fs::write(dir.path().join("brl.toml"), &text).expect("write brl.toml");
    let home = Home::new(dir.path());
    let config = home.load_config().expect("valid config");
    H {
        _dir: dir,
        home,
        config,
        events,
    }
}

/// Short waits for the tests; no heartbeat unless asked.
pub fn fast() -> Options {
    Options {
        heartbeat: Some(Duration::ZERO),
        backoff: vec![Duration::from_millis(50), Duration::from_millis(100)],
        http_timeout: Duration::from_secs(2),
        command_timeout: Duration::from_secs(5),
        reload_every: Duration::from_millis(100),
        ..Options::default()
    }
}

pub const COMMAND: &str = "[notify]\ncommand = \"cat >> '{events}'\"\n";

impl H {
    pub fn append(&self, kind: &str, session: Option<&str>, data: Value) {
        log::append(&self.home.log_path(), &Entry::new(kind, session, data)).expect("append");
    }
    pub fn entries(&self, kind: &str) -> Vec<Entry> {
        let filter = Filter {
            kind: Some(kind.into()),
            session: None,
        };
        log::tail(&self.home.log_path(), 1000, &filter)
            .expect("tail")
            .entries
    }
    /// What the command received, one event per line.
    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
    pub fn wait_received(&self, n: usize) -> Vec<Value> {
        wait_for(20, &format!("{n} events"), || self.received().len() >= n);
        self.received()
    }
}

pub fn kept(h: &H, session: &str, branch: &str) {
    h.append(
        "ralph_cycle",
        Some(session),
        json!({"outcome": "kept", "branch": branch, "subject": "Fix one error",
               "before": {"errors": 3, "failures": 0, "passed": 5},
               "after": {"errors": 2, "failures": 0, "passed": 5}, "cost_usd": 0.05}),
    );
}

#[derive(Clone, Debug)]
pub struct Request {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// An HTTP server on 127.0.0.1:<free port> that records requests and answers `status` with
/// `body`, or never answers (`status` 0).
pub struct Receiver {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    pub fn start(status: u16, body: &'static str) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || serve(stream, &seen, status, body));
            }
        });
        Receiver { port, requests }
    }
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }
}

/// One request read from `stream`; `None` when the connection closes first.
fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let Some((k, v)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut buf = vec![0u8; len];
    reader.read_exact(&mut buf).ok()?;
    Some(Request {
        path,
        headers,
        body: String::from_utf8_lossy(&buf).into_owned(),
    })
}

fn respond(stream: &TcpStream, status: u16, body: &str) {
    let answer = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut out = stream;
    let _ = out.write_all(answer.as_bytes());
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Request>>, status: u16, body: &str) {
    let request = read_request(&stream).expect("a request");
    seen.lock().expect("lock").push(request);
    if status == 0 {
        std::thread::sleep(Duration::from_secs(60));
        return;
    }
    respond(&stream, status, body);
}

/// The fake Telegram Bot API for commands, on 127.0.0.1: `getUpdates` with the real offset and
/// long-poll semantics (updates below `offset` are confirmed and dropped; with none pending the
/// request waits up to `timeout` seconds for one), `sendMessage` recorded. [`FakeBot::stop`]
/// makes it unreachable (nothing listens; requests in flight are cut), [`FakeBot::restart`]
/// listens again on the same port with the same updates. (Commands: `tests/chat.rs`.)
#[allow(dead_code)]
pub struct FakeBot {
    port: u16,
    state: Arc<BotState>,
    running: Mutex<Option<Arc<std::sync::atomic::AtomicBool>>>,
}

#[allow(dead_code)]
#[derive(Default)]
struct BotState {
    /// Updates not confirmed yet, and the next update id.
    updates: Mutex<(Vec<Value>, i64)>,
    sent: Mutex<Vec<Value>>,
    /// Offsets getUpdates was called with (None: without one).
    polls: Mutex<Vec<Option<i64>>>,
}

#[allow(dead_code)]
impl FakeBot {
    pub fn start() -> FakeBot {
        let mut bot = FakeBot {
            port: 0,
            state: Arc::new(BotState::default()),
            running: Mutex::new(None),
        };
        bot.state.updates.lock().expect("lock").1 = 100;
        bot.port = bot.listen(0);
        bot
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn listen(&self, port: u16) -> u16 {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the fake Bot API");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let alive = Arc::new(std::sync::atomic::AtomicBool::new(true));
        *self.running.lock().expect("lock") = Some(Arc::clone(&alive));
        let state = Arc::clone(&self.state);
        std::thread::spawn(move || {
            use std::sync::atomic::Ordering;
            while alive.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let (state, alive) = (Arc::clone(&state), Arc::clone(&alive));
                        std::thread::spawn(move || bot_serve(&stream, &state, &alive));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        port
    }

    /// Nothing listens any more; long-polls in flight are cut without an answer.
    pub fn stop(&self) {
        if let Some(a) = self.running.lock().expect("lock").take() {
            a.store(false, std::sync::atomic::Ordering::SeqCst);
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Listen again on the same port.
    pub fn restart(&self) {
        self.listen(self.port);
    }

    /// A text message from `user_id` in chat `chat`; returns its update id.
    pub fn say(&self, chat: i64, user_id: i64, username: &str, text: &str) -> i64 {
        let mut u = self.state.updates.lock().expect("lock");
        let id = u.1;
        u.1 += 1;
        u.0.push(json!({"update_id": id, "message": {
            "message_id": id * 10, "date": 1_700_000_000,
            "chat": {"id": chat, "type": "group"},
            "from": {"id": user_id, "is_bot": false, "username": username},
            "text": text}}));
        id
    }

    /// The sendMessage bodies received, oldest first.
    pub fn sent(&self) -> Vec<Value> {
        self.state.sent.lock().expect("lock").clone()
    }

    /// The texts sent in answer to update `id` (sendMessage replying to its message).
    pub fn answers(&self, id: i64) -> Vec<String> {
        self.sent()
            .iter()
            .filter(|b| b["reply_parameters"]["message_id"] == json!(id * 10))
            .filter_map(|b| b["text"].as_str().map(str::to_string))
            .collect()
    }

    /// Wait for the answer to update `id` and return its text (pages joined).
    pub fn wait_answer(&self, id: i64) -> String {
        wait_for(30, &format!("the answer to update {id}"), || {
            !self.answers(id).is_empty()
        });
        self.answers(id).join("\n")
    }

    pub fn polls(&self) -> Vec<Option<i64>> {
        self.state.polls.lock().expect("lock").clone()
    }
}

impl Drop for FakeBot {
    fn drop(&mut self) {
        self.stop();
    }
}

#[allow(dead_code)]
fn bot_serve(stream: &TcpStream, state: &BotState, alive: &std::sync::atomic::AtomicBool) {
    use std::sync::atomic::Ordering;
    let Some(req) = read_request(stream) else {
        return;
    };
    let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
    if req.path.ends_with("/sendMessage") {
        state.sent.lock().expect("lock").push(body);
        respond(stream, 200, r#"{"ok":true,"result":{"message_id":1}}"#);
        return;
    }
    if !req.path.ends_with("/getUpdates") {
        respond(stream, 404, r#"{"ok":false,"description":"Not Found"}"#);
        return;
    }
    let offset = body["offset"].as_i64();
    state.polls.lock().expect("lock").push(offset);
    let deadline =
        std::time::Instant::now() + Duration::from_secs(body["timeout"].as_u64().unwrap_or(0));
    loop {
        let pending: Vec<Value> = {
            let mut u = state.updates.lock().expect("lock");
            if let Some(o) = offset {
                u.0.retain(|x| x["update_id"].as_i64().is_some_and(|id| id >= o));
            }
            u.0.clone()
        };
        if !alive.load(Ordering::SeqCst) {
            return; // stopped: the connection is cut without an answer
        }
        if !pending.is_empty() || std::time::Instant::now() >= deadline {
            let answer = json!({"ok": true, "result": pending}).to_string();
            respond(stream, 200, &answer);
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn set_token() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: set once, before any notifier of this test binary reads it; the other threads of
    // the test binary read the environment only through std, which serialises access.
    ONCE.call_once(|| unsafe { std::env::set_var(TOKEN_ENV, TOKEN) });
}
