//! An in-process HTTP trigger server for the integration tests: [`Server`] serves on
//! 127.0.0.1:<a free port> over a temp home on its own runtime, and the helpers send requests
//! and read the JSON answers.

use std::sync::Arc;

use brl::home::Home;
use brl::server::{self, ServerOptions, StatusFn};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub const TOKEN: &str = "s3cret-token";

/// A server on its own runtime, over a temp home; stopped when dropped.
pub struct Server {
    pub port: u16,
    pub dir: tempfile::TempDir,
    cancel: CancellationToken,
    runtime: Option<tokio::runtime::Runtime>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub fn status_ok() -> StatusFn {
    Arc::new(|| Ok(json!({ "sessions": ["s1", "s2"], "running": 1 })))
}

impl Server {
    pub fn start(token: Option<&str>, max_pending: usize, status: StatusFn) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let opts = ServerOptions {
            home: Home::new(dir.path()),
            listen: addr,
            token: token.map(str::to_string),
            token_env: "BRL_TEST_TOKEN".into(),
            max_pending,
            status,
        };
        let cancel = CancellationToken::new();
        let task = runtime.spawn(server::serve(listener, opts, cancel.clone()));
        Server {
            port: addr.port(),
            dir,
            cancel,
            runtime: Some(runtime),
            task: Some(task),
        }
    }

    pub fn with_token() -> Server {
        Server::start(Some(TOKEN), 20, status_ok())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let response = agent().get(&self.url(path)).call();
        answer(response)
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        let mut req = agent().post(&self.url(path));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        answer(req.content_type("application/json").send(body))
    }

    pub fn tasks(&self) -> Vec<Value> {
        let text =
            std::fs::read_to_string(self.dir.path().join("logs/tasks.json")).expect("tasks.json");
        let v: Value = serde_json::from_str(&text).expect("tasks json");
        v["tasks"].as_array().expect("tasks array").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let (Some(rt), Some(task)) = (self.runtime.take(), self.task.take()) {
            let result = rt.block_on(task);
            if !std::thread::panicking() {
                result
                    .expect("server task")
                    .expect("server stopped cleanly");
            }
        }
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into()
}

/// (status, JSON body); every answer of the server must be JSON.
pub fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut response = response.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    (status, json)
}

pub fn error_of(v: &Value) -> &str {
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field: {v}"))
}
