//! The HTTP triggers, served in-process on 127.0.0.1:<a free port>, and the `brl trigger` client.
//! Every test has its own server, home and environment variable, so they run in parallel.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use brl::cmd::trigger::{self, TriggerCommand};
use brl::home::Home;
use brl::server::{self, ServerOptions, StatusFn};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "s3cret-token";

/// A server on its own runtime, over a temp home; stopped when dropped.
struct Server {
    port: u16,
    dir: tempfile::TempDir,
    cancel: CancellationToken,
    runtime: Option<tokio::runtime::Runtime>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

fn status_ok() -> StatusFn {
    Arc::new(|| Ok(json!({ "sessions": ["s1", "s2"], "running": 1 })))
}

impl Server {
    fn start(token: Option<&str>, max_pending: usize, status: StatusFn) -> Server {
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

    fn with_token() -> Server {
        Server::start(Some(TOKEN), 20, status_ok())
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let response = agent().get(&self.url(path)).call();
        answer(response)
    }

    fn post(&self, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        let mut req = agent().post(&self.url(path));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        answer(req.content_type("application/json").send(body))
    }

    fn tasks(&self) -> Vec<Value> {
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

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into()
}

/// (status, JSON body); every answer of the server must be JSON.
fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut response = response.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"));
    (status, json)
}

fn error_of(v: &Value) -> &str {
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field: {v}"))
}

#[test]
fn healthz_is_200() {
    let s = Server::start(None, 20, status_ok());
    assert_eq!(s.get("/healthz"), (200, json!({ "ok": true })));
}

#[test]
fn status_is_the_status_functions_json() {
    let s = Server::start(None, 20, status_ok());
    assert_eq!(
        s.get("/status"),
        (200, json!({ "sessions": ["s1", "s2"], "running": 1 }))
    );
}

#[test]
fn status_error_is_500_with_the_message() {
    let failing: StatusFn = Arc::new(|| Err(anyhow::anyhow!("the control files are unreadable")));
    let s = Server::start(None, 20, failing);
    let (code, v) = s.get("/status");
    assert_eq!(code, 500);
    assert!(
        error_of(&v).contains("the control files are unreadable"),
        "{v}"
    );
}

#[test]
fn task_is_201_and_lands_in_the_queue() {
    let s = Server::with_token();
    let (code, v) = s.post(
        "/trigger/task",
        Some(TOKEN),
        r#"{"title": "  Document the API  ", "body": "in README", "tier": "proposed"}"#,
    );
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["id"], 1);
    assert_eq!(v["title"], "Document the API");
    assert_eq!(v["tier"], "proposed");
    assert_eq!(v["state"], "pending");
    assert_eq!(v["ready"], false);

    let (code, v) = s.post("/trigger/task", Some(TOKEN), r#"{"title": "Add tests"}"#);
    assert_eq!(code, 201, "{v}");
    assert_eq!(
        (v["id"].clone(), v["tier"].clone()),
        (json!(2), json!("auto_safe"))
    );

    let tasks = s.tasks();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["title"], "Document the API");
    assert_eq!(tasks[0]["body"], "in README");
    assert_eq!(tasks[0]["source"], "http");
    assert_eq!(tasks[1]["tier"], "auto_safe");
}

#[test]
fn body_of_exactly_64_kib_is_accepted() {
    let s = Server::with_token();
    let mut body = String::from(r#"{"title": "padded"}"#);
    body.push_str(&" ".repeat(64 * 1024 - body.len()));
    assert_eq!(body.len(), 64 * 1024);
    assert_eq!(s.post("/trigger/task", Some(TOKEN), &body).0, 201);
}

#[test]
fn body_over_64_kib_is_413() {
    let s = Server::with_token();
    let body = format!(
        r#"{{"title": "big", "body": "{}"}}"#,
        "x".repeat(65 * 1024 + 1)
    );
    let (code, v) = s.post("/trigger/task", Some(TOKEN), &body);
    assert_eq!(code, 413, "{v}");
    assert!(error_of(&v).contains("64 KiB"), "{v}");
    assert!(!s.dir.path().join("logs/tasks.json").exists());
}

#[test]
fn malformed_json_is_400_with_the_parse_error() {
    let s = Server::with_token();
    let (code, v) = s.post("/trigger/task", Some(TOKEN), r#"{"title": "#);
    assert_eq!(code, 400, "{v}");
    assert!(error_of(&v).contains("EOF"), "{v}");
}

#[test]
fn missing_title_and_wrong_fields_are_400() {
    let s = Server::with_token();
    let (code, v) = s.post("/trigger/task", Some(TOKEN), r#"{"body": "no title"}"#);
    assert_eq!(code, 400, "{v}");
    assert!(error_of(&v).contains("missing field `title`"), "{v}");
    let (code, v) = s.post(
        "/trigger/task",
        Some(TOKEN),
        r#"{"title": "t", "tier": "yolo"}"#,
    );
    assert_eq!(code, 400, "{v}");
    assert!(error_of(&v).contains("unknown variant `yolo`"), "{v}");
    let (code, v) = s.post(
        "/trigger/task",
        Some(TOKEN),
        r#"{"title": "t", "priority": 1}"#,
    );
    assert_eq!(code, 400, "{v}");
    assert!(error_of(&v).contains("unknown field `priority`"), "{v}");
}

#[test]
fn blank_title_is_422_with_the_queues_message() {
    let s = Server::with_token();
    let (code, v) = s.post("/trigger/task", Some(TOKEN), r#"{"title": "   "}"#);
    assert_eq!(code, 422, "{v}");
    assert!(error_of(&v).contains("needs a title"), "{v}");
}

#[test]
fn missing_or_wrong_token_is_401() {
    let s = Server::with_token();
    let (code, v) = s.post("/trigger/task", None, r#"{"title": "t"}"#);
    assert_eq!(code, 401, "{v}");
    assert!(error_of(&v).contains("BRL_TEST_TOKEN"), "{v}");
    let (code, v) = s.post("/trigger/task", Some("s3cret-tokem"), r#"{"title": "t"}"#);
    assert_eq!(code, 401, "{v}");
    assert!(!v.to_string().contains(TOKEN), "{v}");
    let (code, _) = s.post(
        "/trigger/task",
        Some("s3cret-token-and-more"),
        r#"{"title": "t"}"#,
    );
    assert_eq!(code, 401);
    assert!(!s.dir.path().join("logs/tasks.json").exists());
}

#[test]
fn no_token_configured_is_403_naming_the_variable() {
    let s = Server::start(None, 20, status_ok());
    let (code, v) = s.post("/trigger/task", Some("anything"), r#"{"title": "t"}"#);
    assert_eq!(code, 403, "{v}");
    assert!(error_of(&v).contains("set BRL_TEST_TOKEN"), "{v}");
    let (code, _) = s.post("/trigger/review", None, "");
    assert_eq!(code, 403);
    let empty = Server::start(Some(""), 20, status_ok());
    assert_eq!(
        empty.post("/trigger/task", Some(""), r#"{"title": "t"}"#).0,
        403
    );
}

#[test]
fn wrong_method_is_405() {
    let s = Server::with_token();
    let response = agent().get(&s.url("/trigger/task")).call().expect("answer");
    let allow = response
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok());
    assert_eq!(allow, Some("POST"));
    let (code, v) = answer(Ok(response));
    assert_eq!(code, 405, "{v}");
    assert!(error_of(&v).contains("POST"), "{v}");
    let (code, v) = s.post("/healthz", Some(TOKEN), "{}");
    assert_eq!(code, 405, "{v}");
}

#[test]
fn unknown_path_is_404_json() {
    let s = Server::with_token();
    let (code, v) = s.get("/nope");
    assert_eq!(code, 404, "{v}");
    assert!(error_of(&v).contains("/trigger/task"), "{v}");
    assert_eq!(s.post("/trigger/nope", Some(TOKEN), "{}").0, 404);
}

#[test]
fn duplicate_title_is_409() {
    let s = Server::with_token();
    assert_eq!(
        s.post("/trigger/task", Some(TOKEN), r#"{"title": "Same"}"#)
            .0,
        201
    );
    let (code, v) = s.post("/trigger/task", Some(TOKEN), r#"{"title": "same "}"#);
    assert_eq!(code, 409, "{v}");
    assert!(error_of(&v).contains("task #1 has the same title"), "{v}");
    assert_eq!(s.tasks().len(), 1);
}

#[test]
fn cap_reached_is_409() {
    let s = Server::start(Some(TOKEN), 1, status_ok());
    assert_eq!(
        s.post("/trigger/task", Some(TOKEN), r#"{"title": "one"}"#)
            .0,
        201
    );
    let (code, v) = s.post("/trigger/task", Some(TOKEN), r#"{"title": "two"}"#);
    assert_eq!(code, 409, "{v}");
    assert!(error_of(&v).contains("max_pending = 1"), "{v}");
}

#[test]
fn corrupt_queue_is_500_and_left_alone() {
    let s = Server::with_token();
    let path = s.dir.path().join("logs/tasks.json");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, "not json {").expect("write");
    let (code, v) = s.post("/trigger/task", Some(TOKEN), r#"{"title": "t"}"#);
    assert_eq!(code, 500, "{v}");
    assert!(error_of(&v).contains("cannot be read"), "{v}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "not json {");
}

#[test]
fn jobs_are_501_with_token_and_401_without() {
    let s = Server::with_token();
    for job in ["review", "standup", "doctor"] {
        let path = format!("/trigger/{job}");
        let (code, v) = s.post(&path, Some(TOKEN), "");
        assert_eq!(code, 501, "{v}");
        let e = error_of(&v);
        assert!(e.starts_with(&format!("{job} is not built yet")), "{e}");
        assert!(e.contains("nothing was started"), "{e}");
        assert_eq!(s.post(&path, None, "").0, 401);
        assert_eq!(s.post(&path, Some("wrong"), "").0, 401);
    }
}

#[test]
fn startup_loopback_without_token_warns() {
    let listen: SocketAddr = "127.0.0.1:7878".parse().expect("addr");
    let warning = server::check_startup(listen, None, "MY_TOKEN")
        .expect("starts")
        .expect("a warning");
    assert!(
        warning.contains("403") && warning.contains("MY_TOKEN"),
        "{warning}"
    );
    let v6: SocketAddr = "[::1]:7878".parse().expect("addr");
    assert!(matches!(
        server::check_startup(v6, Some(""), "MY_TOKEN"),
        Ok(Some(_))
    ));
}

#[test]
fn startup_wildcard_without_token_is_an_error() {
    let listen: SocketAddr = "0.0.0.0:7878".parse().expect("addr");
    let e = server::check_startup(listen, None, "MY_TOKEN").expect_err("refused");
    for part in [
        "[server] listen",
        "[server] token_env",
        "MY_TOKEN",
        "127.0.0.1:7878",
    ] {
        assert!(e.contains(part), "{part} missing from: {e}");
    }
}

#[test]
fn startup_with_token_is_quiet() {
    for addr in ["0.0.0.0:7878", "127.0.0.1:7878"] {
        let listen: SocketAddr = addr.parse().expect("addr");
        assert_eq!(
            server::check_startup(listen, Some("t"), "MY_TOKEN"),
            Ok(None)
        );
    }
}

#[test]
fn spawn_refuses_an_address_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ServerOptions {
        home: Home::new(dir.path()),
        listen: addr,
        token: None,
        token_env: "BRL_TOKEN".into(),
        max_pending: 20,
        status: status_ok(),
    };
    let e = server::spawn(opts, CancellationToken::new()).expect_err("address in use");
    let m = format!("{e:#}");
    assert!(
        m.contains(&addr.to_string()) && m.contains("[server] listen"),
        "{m}"
    );
}

#[test]
fn spawn_serves_until_cancelled() {
    // A port that was free a moment ago; spawn binds it itself.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ServerOptions {
        home: Home::new(dir.path()),
        listen: addr,
        token: Some(TOKEN.into()),
        token_env: "BRL_TOKEN".into(),
        max_pending: 20,
        status: status_ok(),
    };
    let cancel = CancellationToken::new();
    let handle = server::spawn(opts, cancel.clone()).expect("spawn");
    let (code, _) = answer(agent().get(&format!("http://{addr}/healthz")).call());
    assert_eq!(code, 200);
    cancel.cancel();
    handle.join().expect("the server thread ends");
}

/// A home whose brl.toml points `brl trigger` at `port`, with its token in `token_env`.
fn client_home(dir: &Path, port: u16, token_env: &str) -> Home {
    let config = format!(
        "repo = \"app\"\n\n[agent]\ncommand = \"true\"\n\n[server]\nlisten = \"127.0.0.1:{port}\"\ntoken_env = \"{token_env}\"\n"
    );
    std::fs::write(dir.join("brl.toml"), config).expect("write brl.toml");
    Home::new(dir)
}

fn set_env(name: &str, value: &str) {
    // SAFETY: every test uses its own variable name, and nothing in this test binary reads the
    // environment through libc while the variable is being set.
    unsafe { std::env::set_var(name, value) };
}

#[test]
fn client_adds_a_task_through_the_server() {
    let s = Server::with_token();
    let env = "BRL_TEST_TOKEN_CLIENT_ADDS";
    set_env(env, TOKEN);
    let home = client_home(s.dir.path(), s.port, env);
    let cmd = TriggerCommand::Task {
        title: "From the client".into(),
        body: Some("details".into()),
        tier: Some(brl::cli::TierArg::Proposed),
    };
    assert_eq!(trigger::run(&home, cmd).expect("trigger"), 0);
    let tasks = s.tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["title"], "From the client");
    assert_eq!(tasks[0]["body"], "details");
    assert_eq!(tasks[0]["tier"], "proposed");
    assert_eq!(tasks[0]["source"], "http");

    // The same title again is refused by the queue: exit code 1, not an error.
    let again = TriggerCommand::Task {
        title: "From the client".into(),
        body: None,
        tier: None,
    };
    assert_eq!(trigger::run(&home, again).expect("trigger"), 1);
    // Jobs are not built yet: 501 → exit code 1.
    assert_eq!(
        trigger::run(&home, TriggerCommand::Review).expect("trigger"),
        1
    );
}

#[test]
fn client_with_a_wrong_token_exits_1() {
    let s = Server::with_token();
    let env = "BRL_TEST_TOKEN_CLIENT_WRONG";
    set_env(env, "not-the-token");
    let home = client_home(s.dir.path(), s.port, env);
    let cmd = TriggerCommand::Task {
        title: "t".into(),
        body: None,
        tier: None,
    };
    assert_eq!(trigger::run(&home, cmd).expect("trigger"), 1);
    assert!(!s.dir.path().join("logs/tasks.json").exists());
}

#[test]
fn client_without_the_token_variable_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = "BRL_TEST_TOKEN_CLIENT_UNSET";
    let home = client_home(dir.path(), 9, env);
    let e = trigger::run(&home, TriggerCommand::Doctor).expect_err("no token");
    assert!(format!("{e:#}").contains(env), "{e:#}");
}

#[test]
fn client_with_no_server_says_to_start_one() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = tempfile::tempdir().expect("tempdir");
    let env = "BRL_TEST_TOKEN_CLIENT_REFUSED";
    set_env(env, TOKEN);
    let home = client_home(dir.path(), port, env);
    let e = trigger::run(&home, TriggerCommand::Standup).expect_err("refused");
    let m = format!("{e:#}");
    assert!(
        m.contains(&format!("no control room is serving 127.0.0.1:{port}")) && m.contains("brl up"),
        "{m}"
    );
}
