//! The `brl trigger` client against an in-process server (see `common::http`): adding a task,
//! a wrong or missing token, and no server at all. Every test has its own server, home and
//! environment variable, so they run in parallel.

mod common;

use std::path::Path;

use brl::cmd::trigger::{self, TriggerCommand};
use brl::home::Home;
use common::http::{Server, TOKEN};

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
    // A job is started (202) → exit code 0.
    assert_eq!(
        trigger::run(&home, TriggerCommand::Review).expect("trigger"),
        0
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
