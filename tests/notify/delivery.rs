//! Each notifier delivers: the command, the webhook, Telegram (and its failures).

use std::time::Duration;

use brl::notify;
use serde_json::{Value, json};

use super::support::*;
use crate::common::room::wait_for;

#[test]
fn the_command_gets_each_event_as_one_json_object_on_stdin() {
    let h = home_with(
        "[notify]\ncommand = \"printf '%s\\\\n' \\\"$BRL_EVENT\\\" >> '{events}.kinds'; cat >> '{events}'\"\n",
    );
    let n = notify::spawn_with(&h.home, &h.config, fast());
    kept(&h, "s1", "brl/s1/a");
    h.append("ralph_cycle", Some("s2"), json!({"outcome": "discarded"}));
    h.append("notify_failed", None, json!({"notifier": "webhook"}));
    h.append("review_decision", Some("s1"), json!({"decision": "reject", "result": "deleted", "reason": "too broad", "by": "cli", "branch": "brl/s1/a"}));
    h.append("budget_reached", None, json!({"reason": "budget", "limit": "max_cycles_per_day", "cycles": 9, "max_cycles_per_day": 9}));
    h.append(
        "worker_respawned",
        Some("s2"),
        json!({"pane": "%1", "exit_status": 1, "respawns_in_a_row": 1}),
    );
    h.append(
        "team_standup",
        None,
        json!({"file": "logs/meetings/1.md", "summary": "All good."}),
    );
    let got = h.wait_received(5);
    let kinds: Vec<&str> = got.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "kept",
            "review_decision",
            "budget_reached",
            "worker_died",
            "meeting"
        ]
    );
    let k = &got[0];
    assert_eq!(k["session"], "s1");
    assert_eq!(k["home"], h.home.root().display().to_string());
    assert!(k["ts"].as_str().is_some_and(|t| t.ends_with('Z')), "{k}");
    assert_eq!(k["data"]["branch"], "brl/s1/a");
    assert_eq!(
        k["text"],
        "b1 s1 kept brl/s1/a, waiting for review: \"Fix one error\"\nerrors 3 → 2 · failures 0 → 0 · passed 5 → 5 · $0.05\n\
         /diff 1 · /approve 1 · /reject 1"
    );
    assert_eq!(k["data"]["number"], 1, "the number /queue shows");
    assert_eq!(
        got[1]["text"], "b1 brl/s1/a rejected by cli: too broad",
        "the same branch keeps its number"
    );
    assert_eq!(
        got[3]["text"],
        "worker of s2 died (exit status 1), respawned"
    );
    let kinds_env =
        std::fs::read_to_string(format!("{}.kinds", h.events.display())).expect("kinds");
    assert_eq!(kinds_env.lines().next(), Some("kept"), "BRL_EVENT is set");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        h.received().len(),
        5,
        "nothing else, and no notify_failed loop"
    );
    n.stop();
}

#[test]
fn the_webhook_gets_the_event_as_a_json_post() {
    let r = Receiver::start(200, "{}");
    let h = home_with(&format!(
        "[notify]\nwebhook = \"{}\"\n",
        r.url("/hook/s3cr3t")
    ));
    let n = notify::spawn_with(&h.home, &h.config, fast());
    kept(&h, "s2", "brl/s2/b");
    wait_for(20, "the POST", || !r.requests().is_empty());
    let req = &r.requests()[0];
    assert_eq!(req.path, "/hook/s3cr3t");
    assert!(
        req.headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "application/json"),
        "{req:?}"
    );
    let body: Value = serde_json::from_str(&req.body).expect("JSON body");
    assert_eq!(
        (body["event"].as_str(), body["session"].as_str()),
        (Some("kept"), Some("s2"))
    );
    n.stop();
    assert!(h.entries("notify_failed").is_empty());
}

#[test]
fn telegram_gets_send_message_with_the_text() {
    set_token();
    let r = Receiver::start(200, r#"{"ok":true,"result":{"message_id":1}}"#);
    let h = home_with(&format!(
        "[notify.telegram]\nbot_token_env = \"{TOKEN_ENV}\"\nchat_id = -100123\napi_base = \"{}\"\n",
        r.url("")
    ));
    let n = notify::spawn_with(&h.home, &h.config, fast());
    h.append(
        "review_decision",
        Some("s1"),
        json!({"decision": "approve", "result": "fast_forward", "by": "cli", "branch": "brl/s1/c"}),
    );
    wait_for(20, "sendMessage", || !r.requests().is_empty());
    let req = &r.requests()[0];
    assert_eq!(req.path, format!("/bot{TOKEN}/sendMessage"));
    let body: Value = serde_json::from_str(&req.body).expect("JSON body");
    assert_eq!(body["chat_id"], "-100123");
    let name = h
        .home
        .root()
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        body["text"],
        format!("brl {name}: b1 brl/s1/c approved by cli: merged (fast-forward)")
    );
    n.stop();
    assert!(h.entries("notify_failed").is_empty());
}

#[test]
fn telegram_failures_are_logged_without_the_token() {
    set_token();
    let r = Receiver::start(
        400,
        r#"{"ok":false,"description":"Bad Request: chat not found"}"#,
    );
    let h = home_with(&format!(
        "[notify.telegram]\nbot_token_env = \"{TOKEN_ENV}\"\nchat_id = \"@nope\"\napi_base = \"{}\"\n\
         [notify]\ncommand = \"exit 3\"\n",
        r.url("")
    ));
    let n = notify::spawn_with(&h.home, &h.config, fast());
    kept(&h, "s1", "brl/s1/d");
    wait_for(20, "two notify_failed", || {
        h.entries("notify_failed").len() >= 2
    });
    let failed = h.entries("notify_failed");
    let tg = failed
        .iter()
        .find(|e| e.data["notifier"] == "telegram")
        .expect("telegram failed");
    // A 400 is not retried: it will not get better.
    assert_eq!(
        (tg.data["attempts"].as_u64(), tg.data["event"].as_str()),
        (Some(1), Some("kept"))
    );
    let err = tg.data["error"].as_str().unwrap_or("");
    assert!(
        err.contains("HTTP 400") && err.contains("chat not found"),
        "{err}"
    );
    let cmd = failed
        .iter()
        .find(|e| e.data["notifier"] == "command")
        .expect("command failed");
    assert_eq!(cmd.data["attempts"], 3, "{cmd:?}");
    assert!(
        cmd.data["error"]
            .as_str()
            .is_some_and(|e| e.contains("status 3")),
        "{cmd:?}"
    );
    assert_eq!(r.requests().len(), 1);
    n.stop();
    let log = std::fs::read_to_string(h.home.log_path()).expect("log");
    assert!(
        !log.contains(TOKEN) && !log.contains("ABC-secret"),
        "the token leaked into the log"
    );

    // A token variable that is not set: one notify_failed naming the variable, no request.
    let h = home_with(&format!(
        "[notify.telegram]\nbot_token_env = \"BRL_NOTIFY_TEST_UNSET\"\nchat_id = 1\napi_base = \"{}\"\n",
        r.url("")
    ));
    let n = notify::spawn_with(&h.home, &h.config, fast());
    kept(&h, "s1", "brl/s1/e");
    wait_for(20, "notify_failed", || {
        !h.entries("notify_failed").is_empty()
    });
    let e = &h.entries("notify_failed")[0];
    assert!(
        e.data["error"]
            .as_str()
            .is_some_and(|m| m.contains("BRL_NOTIFY_TEST_UNSET")),
        "{e:?}"
    );
    assert_eq!(r.requests().len(), 1);
    n.stop();
}

/// A kept branch's notification carries its number and the commands that act on it, so
/// `/approve 1` can be typed from the notification itself.
#[test]
fn telegram_notifications_carry_the_branch_number() {
    set_token();
    let bot = FakeBot::start();
    let h = home_with(&format!(
        "[notify.telegram]\nbot_token_env = \"{TOKEN_ENV}\"\nchat_id = -100123\napi_base = \"{}\"\n",
        bot.url()
    ));
    let n = notify::spawn_with(&h.home, &h.config, fast());
    kept(&h, "s1", "brl/s1/first");
    kept(&h, "s2", "brl/s2/second");
    wait_for(20, "two sendMessage", || bot.sent().len() >= 2);
    let texts: Vec<String> = bot
        .sent()
        .iter()
        .filter_map(|b| b["text"].as_str().map(str::to_string))
        .collect();
    assert!(
        texts[0].contains(": b1 s1 kept brl/s1/first")
            && texts[0].ends_with("/approve 1 · /reject 1"),
        "{texts:?}"
    );
    assert!(texts[1].contains(": b2 s2 kept brl/s2/second"), "{texts:?}");
    assert_eq!(
        brl::chat::numbers::Numbers::new(&h.home)
            .branch(2)
            .expect("numbers")
            .as_deref(),
        Some("brl/s2/second"),
        "the number /queue and /approve use"
    );
    n.stop();
}
