//! The chat commands through the real faces: `POST /command` on the HTTP server, and the
//! Telegram poller of the real control room (`brl up --no-tui`) across a restart.

use std::time::Duration;

use serde_json::json;

use crate::common::agent;
use crate::common::http::{Server, TOKEN, error_of};
use crate::common::room::Room;
use crate::support::{FakeBot, TOKEN as BOT_TOKEN, TOKEN_ENV, set_token};
use crate::{ANN, CHAT, telegram};

pub fn post_command() {
    let s = Server::with_token();
    std::fs::write(
        s.dir.path().join("brl.toml"),
        "repo = \"repo\"\nsessions = 1\n[agent]\ncommand = \"true\"\n",
    )
    .expect("brl.toml");
    let (code, v) = s.post("/command", None, r#"{"text": "/help"}"#);
    assert_eq!(code, 401, "{v}");
    let (code, v) = s.post("/command", Some(TOKEN), r#"{"text": "/help"}"#);
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        (v["ok"].as_bool(), v["result"].as_str()),
        (Some(true), Some("ok"))
    );
    let text = v["answer"].as_str().unwrap_or("");
    assert!(
        text.contains("/approve <n>"),
        "plain text, not HTML: {text}"
    );
    let (code, v) = s.post(
        "/command",
        Some(TOKEN),
        r#"{"text": "/task From a bridge", "user": "slackbot"}"#,
    );
    assert_eq!(code, 200, "{v}");
    assert!(
        v["answer"]
            .as_str()
            .unwrap_or("")
            .contains("task #1 queued"),
        "{v}"
    );
    let tasks = s.tasks();
    assert_eq!(
        (tasks[0]["title"].as_str(), tasks[0]["source"].as_str()),
        (Some("From a bridge"), Some("http"))
    );
    let (code, v) = s.post("/command", Some(TOKEN), r#"{"text": "/approve 1"}"#);
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["result"], "refused");
    assert!(
        v["answer"].as_str().unwrap_or("").contains("no branch b1"),
        "{v}"
    );
    let (code, v) = s.post("/command", Some(TOKEN), r#"{"text": "yes"}"#);
    assert_eq!((code, v["result"].as_str()), (200, Some("refused")), "{v}");
    let (code, v) = s.post("/command", Some(TOKEN), r#"{"text": "  "}"#);
    assert_eq!(code, 400, "{v}");
    assert!(error_of(&v).contains("empty"), "{v}");
    let (code, v) = s.post("/command", Some(TOKEN), r#"{"txt": "/help"}"#);
    assert_eq!(code, 400, "{v}");
    let log = std::fs::read_to_string(s.dir.path().join("logs/experiment-log.jsonl")).expect("log");
    let entries: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e["type"] == "command")
        .collect();
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert_eq!(
        (&entries[1]["data"]["source"], &entries[1]["data"]["user"]),
        (&json!("http"), &json!("slackbot"))
    );
}

pub fn restart_between_updates() {
    set_token();
    let bot = FakeBot::start();
    let mut r = Room::new(1, &agent("fix_one.sh"), &telegram(&bot, ""));
    let env = [(TOKEN_ENV, BOT_TOKEN)];
    r.up_with_env(&[], &env);
    let one = bot.say(CHAT, ANN, "ann", "/task One");
    let a = bot.wait_answer(one);
    assert!(a.contains("task #1 queued"), "{a}");
    let (status, took) = r.stop();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(5),
        "the poller held up the stop: {took:?}"
    );
    let two = bot.say(CHAT, ANN, "ann", "/task Two");
    std::thread::sleep(Duration::from_secs(1));
    assert!(bot.answers(two).is_empty(), "no control room runs");
    r.up_with_env(&[], &env);
    let a = bot.wait_answer(two);
    assert!(a.contains("task #2 queued"), "{a}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!((bot.answers(one).len(), bot.answers(two).len()), (1, 1));
    let ids: Vec<i64> = r
        .entries("command")
        .iter()
        .filter_map(|e| e["data"]["update_id"].as_i64())
        .collect();
    assert_eq!(ids, [one, two], "each command once");
    let tasks = brl::store::tasks::Tasks::new(&r.w.home.join("logs/tasks.json"))
        .load()
        .expect("tasks");
    let titles: Vec<&str> = tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["One", "Two"]);
    let (status, _) = r.stop();
    assert!(status.success());
    assert_eq!(
        brl::chat::offset::load(&brl::home::Home::new(&r.w.home)).expect("offset"),
        Some(two + 1)
    );
    // The token never reached a log.
    let log = std::fs::read_to_string(r.w.home.join("logs/experiment-log.jsonl")).expect("log");
    assert!(!log.contains(BOT_TOKEN));
}
