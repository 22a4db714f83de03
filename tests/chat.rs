//! The phone as a remote, with real pieces: the fake Telegram Bot API of the notification tests
//! (getUpdates with offset and long-poll, sendMessage recorded) on loopback, real git homes with
//! a real kept branch (`brl cycle`), the poller in-process and the real control room
//! (`brl up --no-tui`) across a restart, and `POST /command` on the real HTTP server.

mod common;
#[path = "chat/room.rs"]
mod room;
#[path = "notify/support.rs"]
#[allow(dead_code)]
mod support;

use std::time::Duration;

use brl::chat::{self, Options};
use brl::home::Home;
use common::room::wait_for;
use common::{World, agent, git};
use serde_json::Value;
use support::{FakeBot, TOKEN_ENV, set_token};

/// The configured chat, and two people in it.
pub const CHAT: i64 = -100123;
pub const ANN: i64 = 42;
pub const BOB: i64 = 43;

/// The `[notify.telegram]` section for `bot`, with `extra` keys.
pub fn telegram(bot: &FakeBot, extra: &str) -> String {
    format!(
        "\n[notify]\nheartbeat_secs = 0\n[notify.telegram]\nbot_token_env = \"{TOKEN_ENV}\"\nchat_id = {CHAT}\napi_base = \"{}\"\n{extra}",
        bot.url()
    )
}

/// Short waits for the tests.
pub fn fast() -> Options {
    Options {
        poll: Duration::from_secs(1),
        retry: Duration::from_millis(500),
        send_timeout: Duration::from_secs(5),
        idle_check: Duration::from_millis(200),
    }
}

/// A world whose session s1 kept one branch (a real cycle), talking to `bot`.
fn kept_world(bot: &FakeBot, extra: &str) -> (World, String) {
    set_token();
    let w = World::new(1);
    w.write_config(1, &agent("fix_one.sh"), 20, &telegram(bot, extra));
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    let q = w.queue();
    let branch = q[0]["branch"].as_str().expect("branch").to_string();
    (w, branch)
}

fn commands(w: &World) -> Vec<Value> {
    w.entries("command")
}

#[test]
fn each_command_answers_and_acts() {
    let bot = FakeBot::start();
    let (w, branch) = kept_world(&bot, "");
    let home = Home::new(&w.home);
    let p = chat::spawn_with(&home, fast());
    let ask = |text: &str| bot.wait_answer(bot.say(CHAT, ANN, "ann", text));

    let a = ask("/help");
    assert!(
        a.contains("/approve &lt;n&gt;") && a.contains("/task"),
        "{a}"
    );
    let a = ask("/status");
    assert!(
        a.contains("<b>brl status</b>") && a.contains("control room: not running"),
        "{a}"
    );
    let a = ask("/queue");
    assert!(
        a.contains("1 waiting for a decision")
            && a.contains("b1 pending s1")
            && a.contains(&branch),
        "{a}"
    );
    let a = ask("/diff 1");
    assert!(
        a.contains("b1: 1 file(s), +1 −1 onto main") && a.contains("+1 −1 f1.txt"),
        "{a}"
    );
    let a = ask("/diff 7");
    assert!(a.contains("there is no branch b7"), "{a}");

    let a = ask("/task Document the config keys");
    assert!(
        a.contains("task #1 queued") && a.contains("tier proposed"),
        "{a}"
    );
    let tasks = brl::store::tasks::Tasks::new(&home.tasks_path())
        .load()
        .expect("tasks");
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        (tasks[0].title.as_str(), tasks[0].tier.as_str()),
        ("Document the config keys", "proposed")
    );

    let a = ask("/pause");
    assert!(a.contains("the fleet is paused"), "{a}");
    assert_eq!(w.entries("fleet_paused")[0]["data"]["by"], "telegram");
    let a = ask("/resume");
    assert!(a.contains("the fleet is resumed"), "{a}");
    assert_eq!(w.entries("fleet_resumed").len(), 1);
    let a = ask("/pause s9");
    assert!(a.contains("s9"), "{a}");
    assert_eq!(w.entries("fleet_paused").len(), 1, "nothing paused");

    let a = ask("/frobnicate");
    assert!(a.contains("unknown command") && a.contains("/queue"), "{a}");

    let a = ask("/doctor");
    assert!(a.contains("the doctor job started"), "{a}");
    wait_for(30, "the doctor's entry", || {
        !w.entries("doctor_analysis").is_empty()
    });

    // Every command is one entry, with its source, user, text and result.
    let c = commands(&w);
    assert_eq!(c.len(), 11, "{c:?}");
    let task = c
        .iter()
        .find(|e| e["data"]["command"] == "task")
        .expect("task entry");
    assert_eq!(task["data"]["source"], "telegram");
    assert_eq!(task["data"]["user"], "@ann");
    assert_eq!(task["data"]["text"], "/task Document the config keys");
    assert_eq!(task["data"]["result"], "ok");
    assert!(task["data"]["update_id"].as_i64().is_some());
    let unknown = c
        .iter()
        .find(|e| e["data"]["command"] == "unknown")
        .expect("entry");
    assert_eq!(unknown["data"]["result"], "refused");
    p.stop();
}

#[test]
fn approve_merges_only_after_the_same_users_yes() {
    let bot = FakeBot::start();
    let (w, branch) = kept_world(&bot, "");
    let home = Home::new(&w.home);
    let main_before = git(&w.repo, &["rev-parse", "main"]);
    let p = chat::spawn_with(&home, fast());
    let ask = |user: i64, name: &str, text: &str| bot.wait_answer(bot.say(CHAT, user, name, text));

    assert!(ask(ANN, "ann", "/queue").contains("b1"));
    let a = ask(ANN, "ann", "/approve 1");
    assert!(
        a.contains("reply yes to approve b1") && a.contains(&branch),
        "{a}"
    );
    assert_eq!(
        git(&w.repo, &["rev-parse", "main"]),
        main_before,
        "not before the yes"
    );
    // Someone else's yes confirms nothing.
    let a = ask(BOB, "bob", "yes");
    assert!(a.contains("nothing waits for your yes"), "{a}");
    // Nor a yes from another chat (ignored altogether).
    bot.say(-555, ANN, "ann", "yes");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main_before);
    let a = ask(ANN, "ann", "yes");
    assert!(
        a.contains("approved") && a.contains("merged into main"),
        "{a}"
    );
    assert_ne!(git(&w.repo, &["rev-parse", "main"]), main_before);
    let d = w.entries("review_decision");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["data"]["by"], "telegram:@ann");
    assert_eq!(d[0]["data"]["branch"], branch.as_str());
    // A second yes has nothing to confirm; the branch is no longer open.
    assert!(ask(ANN, "ann", "yes").contains("nothing waits"));
    assert!(ask(ANN, "ann", "/approve 1").contains("approved already"));

    // Reject: the next kept branch, with a reason, after a yes; "no" cancels.
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    let q = ask(ANN, "ann", "/queue");
    assert!(q.contains("b2"), "{q}");
    assert!(ask(ANN, "ann", "/reject 2 too small").contains("reply yes to reject b2"));
    assert!(ask(ANN, "ann", "no").contains("cancelled"));
    assert!(ask(ANN, "ann", "yes").contains("nothing waits"));
    assert!(ask(ANN, "ann", "/reject 2 too small").contains("reply yes to reject b2"));
    let a = ask(ANN, "ann", "yes");
    assert!(a.contains("rejected b2"), "{a}");
    let d = w.entries("review_decision");
    assert_eq!(d.len(), 2);
    assert_eq!(d[1]["data"]["by"], "telegram:@ann");
    assert_eq!(d[1]["data"]["reason"], "too small");
    p.stop();
}

#[test]
fn other_chats_are_ignored_and_logged_once_per_sender() {
    let bot = FakeBot::start();
    let (w, _) = kept_world(&bot, "allowed_users = [42]\n");
    let home = Home::new(&w.home);
    let p = chat::spawn_with(&home, fast());
    bot.say(-555, ANN, "ann", "/pause");
    bot.say(-555, ANN, "ann", "/pause");
    bot.say(CHAT, BOB, "bob", "/pause"); // in the chat, but not an allowed user
    let last = bot.say(CHAT, ANN, "ann", "/help");
    bot.wait_answer(last);
    assert_eq!(
        bot.sent().len(),
        1,
        "only the allowed user got an answer: {:?}",
        bot.sent()
    );
    assert!(w.entries("fleet_paused").is_empty(), "nothing was paused");
    let ignored = w.entries("command_ignored");
    assert_eq!(ignored.len(), 2, "once per sender: {ignored:?}");
    assert_eq!(ignored[0]["data"]["chat"], -555);
    assert_eq!(commands(&w).len(), 1);
    p.stop();
}

#[test]
fn decisions_can_be_switched_off_and_floods_are_cut() {
    let bot = FakeBot::start();
    let (w, _) = kept_world(
        &bot,
        "allow_decisions = false\nmax_commands_per_minute = 3\n",
    );
    let home = Home::new(&w.home);
    let main_before = git(&w.repo, &["rev-parse", "main"]);
    let p = chat::spawn_with(&home, fast());
    let a = bot.wait_answer(bot.say(CHAT, ANN, "ann", "/approve 1"));
    assert!(a.contains("allow_decisions = false"), "{a}");
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main_before);
    // Two more make three this minute; the next six are cut, and said so once.
    let ids: Vec<i64> = (0..8).map(|_| bot.say(CHAT, ANN, "ann", "/help")).collect();
    let a = bot.wait_answer(ids[2]);
    assert!(a.contains("too many commands: at most 3 a minute"), "{a}");
    let last = bot.say(CHAT, BOB, "bob", "/help"); // another sender is not held up
    bot.wait_answer(last);
    assert_eq!(bot.sent().len(), 5, "{:?}", bot.sent());
    let c = commands(&w);
    assert_eq!(c.len(), 5, "{c:?}");
    assert_eq!(c[3]["data"]["result"], "ignored");
    p.stop();
}

/// Killed between a command's log entry and the offset save: Telegram sends the update again,
/// and it is not run again.
#[test]
fn a_replayed_update_is_not_run_twice() {
    let bot = FakeBot::start();
    let (w, _) = kept_world(&bot, "");
    let home = Home::new(&w.home);
    let p = chat::spawn_with(&home, fast());
    let first = bot.say(CHAT, ANN, "ann", "/task First");
    bot.wait_answer(first);
    p.stop();
    // As if the offset had not been saved past it.
    brl::store::atomic::write_atomic(
        &home.logs_dir().join("telegram-offset.json"),
        format!("{{\"version\": 1, \"offset\": {first}}}").as_bytes(),
    )
    .expect("write");
    let p = chat::spawn_with(&home, fast());
    let second = bot.say(CHAT, ANN, "ann", "/task Second");
    bot.wait_answer(second);
    assert!(
        bot.polls().contains(&Some(first)),
        "the update was offered again"
    );
    let tasks = brl::store::tasks::Tasks::new(&home.tasks_path())
        .load()
        .expect("tasks");
    let titles: Vec<&str> = tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["First", "Second"]);
    assert_eq!(bot.answers(first).len(), 1, "answered once");
    assert_eq!(commands(&w).len(), 2);
    p.stop();
    assert_eq!(
        brl::chat::offset::load(&home).expect("offset"),
        Some(second + 1)
    );
}

/// The Bot API unreachable for a while (nothing listens on its port): commands sent meanwhile
/// are handled, once each, when it is back on the same port.
#[test]
fn commands_sent_during_an_outage_are_handled_once_when_it_ends() {
    let bot = FakeBot::start();
    let (w, _) = kept_world(&bot, "");
    let home = Home::new(&w.home);
    let p = chat::spawn_with(&home, fast());
    bot.wait_answer(bot.say(CHAT, ANN, "ann", "/help"));
    bot.stop();
    let a = bot.say(CHAT, ANN, "ann", "/task During the outage");
    let b = bot.say(CHAT, ANN, "ann", "/pause s1");
    std::thread::sleep(Duration::from_secs(6));
    assert!(bot.answers(a).is_empty());
    bot.restart();
    assert!(bot.wait_answer(a).contains("task #1 queued"));
    assert!(bot.wait_answer(b).contains("session s1 is paused"));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!((bot.answers(a).len(), bot.answers(b).len()), (1, 1));
    assert_eq!(commands(&w).len(), 3);
    assert_eq!(w.entries("session_paused").len(), 1);
    let tasks = brl::store::tasks::Tasks::new(&home.tasks_path())
        .load()
        .expect("tasks");
    assert_eq!(tasks.len(), 1);
    p.stop();
}

#[test]
fn post_command_runs_the_same_commands() {
    room::post_command();
}

#[test]
fn the_control_room_restarted_between_two_updates_neither_loses_nor_repeats() {
    room::restart_between_updates();
}
