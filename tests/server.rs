//! The HTTP triggers, served in-process on 127.0.0.1:<a free port>: the routes, their answers
//! and errors, and the server's start-up checks. Every test has its own server and home, so
//! they run in parallel. The `brl trigger` client is tested in `tests/trigger.rs`.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use brl::home::Home;
use brl::server::{self, ServerOptions, StatusFn};
use common::http::{Server, TOKEN, agent, answer, error_of, status_ok};
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[test]
fn healthz_is_200() {
    let s = Server::start(None, 20, status_ok());
    let (code, v) = s.get("/healthz");
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        (v["ok"].as_bool(), v["brl"].as_bool()),
        (Some(true), Some(true))
    );
    // It names its home, so a second control room that finds the port taken can say whose.
    assert!(v["home"].as_str().is_some_and(|h| !h.is_empty()), "{v}");
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
fn jobs_start_with_202_409_while_running_and_401_without_token() {
    let s = Server::with_token();
    for job in ["review", "standup", "doctor"] {
        let path = format!("/trigger/{job}");
        assert_eq!(s.post(&path, None, "").0, 401);
        assert_eq!(s.post(&path, Some("wrong"), "").0, 401);
        // A run in progress (its lock held): 409, nothing started.
        let lock = s.dir.path().join(format!("logs/locks/job-{job}.lock"));
        let guard = brl::store::atomic::LockGuard::exclusive(&lock).expect("lock");
        let (code, v) = s.post(&path, Some(TOKEN), "");
        assert_eq!(code, 409, "{v}");
        assert!(error_of(&v).contains("already running"), "{v}");
        drop(guard);
        let (code, v) = s.post(&path, Some(TOKEN), "");
        assert_eq!(code, 202, "{v}");
        assert_eq!(v["job"], job);
        assert_eq!(v["started"], true);
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
    // A listener that never answers HTTP is named as not a brl.
    assert!(m.contains("not brl"), "{m}");
}

#[test]
fn spawn_names_the_other_home_holding_the_port() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let (a, b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let opts = |dir: &std::path::Path| ServerOptions {
        home: Home::new(dir),
        listen: addr,
        token: None,
        token_env: "BRL_TOKEN".into(),
        max_pending: 20,
        status: status_ok(),
    };
    let cancel = CancellationToken::new();
    let first = server::spawn(opts(a.path()), cancel.clone()).expect("the first home binds");
    let e = server::spawn(opts(b.path()), CancellationToken::new()).expect_err("taken");
    let m = format!("{e:#}");
    assert!(
        m.contains(&a.path().display().to_string()) && m.contains(&addr.to_string()),
        "{m}"
    );
    cancel.cancel();
    first.join().expect("the server thread ends");
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

#[test]
fn trigger_fix_hands_out_a_repair_or_says_why_not() {
    let s = Server::with_token();
    assert_eq!(s.post("/trigger/fix", None, "").0, 401);
    std::fs::write(
        s.dir.path().join("brl.toml"),
        format!(
            "repo = \"{}\"\n[agent]\ncommand = \"true\"\n",
            s.dir.path().display()
        ),
    )
    .expect("write brl.toml");
    // An empty review queue: nothing to repair, 409 with the reason.
    let (code, v) = s.post("/trigger/fix", Some(TOKEN), "");
    assert_eq!(code, 409, "{v}");
    assert!(error_of(&v).contains("nothing to repair"), "{v}");
}
