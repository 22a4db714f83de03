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

fn serve(stream: TcpStream, seen: &Mutex<Vec<Request>>, status: u16, body: &str) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("request line");
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header");
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
    reader.read_exact(&mut buf).expect("body");
    let body_in = String::from_utf8_lossy(&buf).into_owned();
    seen.lock().expect("lock").push(Request {
        path,
        headers,
        body: body_in,
    });
    if status == 0 {
        std::thread::sleep(Duration::from_secs(60));
        return;
    }
    let answer = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut out = stream;
    let _ = out.write_all(answer.as_bytes());
}

pub fn set_token() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: set once, before any notifier of this test binary reads it; the other threads of
    // the test binary read the environment only through std, which serialises access.
    ONCE.call_once(|| unsafe { std::env::set_var(TOKEN_ENV, TOKEN) });
}
