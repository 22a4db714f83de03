//! Notifications with real pieces: the notifier spawned on a temp home whose log the test
//! appends to, a real shell command, a real HTTP receiver (std TcpListener) for the webhook and a
//! fake Telegram Bot API; failing and hanging receivers; the heartbeat; a crashed control room;
//! and once end to end, `brl up` on a private tmux socket.

mod common;
#[path = "notify/delivery.rs"]
mod delivery;
#[path = "notify/failures.rs"]
mod failures;
#[path = "notify/support.rs"]
mod support;

use std::time::Duration;

use brl::notify::{self, Options};
use common::room::{Room, signal, wait_for};
use serde_json::{Value, json};
use support::*;

#[test]
fn the_heartbeat_summarises_each_period() {
    let h = home_with(COMMAND);
    let home = &h.home;
    // s1's worker holds its life lock; one branch waits for review.
    let _alive = brl::store::atomic::LockGuard::try_exclusive(
        &brl::store::control::worker_lock_path(home, "s1"),
    )
    .expect("lock")
    .expect("free");
    let entry = brl::store::queue::QueueEntry {
        branch: "brl/s1/x".into(),
        session: "s1".into(),
        status: brl::store::queue::Status::Pending,
        created: chrono::Utc::now(),
        before: Default::default(),
        after: Default::default(),
        reason: "no check got worse".into(),
        base: "0".repeat(40),
        head: "1".repeat(40),
        commits: 1,
        subject: "x".into(),
        decided: None,
        decision_reason: None,
        merged_as: None,
        conflict_files: vec![],
        review: None,
        cycle_id: None,
        group: None,
        twin_of: None,
        superseded_by: None,
        fix: None,
    };
    brl::store::queue::Queue::new(&home.queue_path())
        .add(entry)
        .expect("queue");
    let opts = Options {
        heartbeat: Some(Duration::from_millis(1500)),
        ..fast()
    };
    let n = notify::spawn_with(home, &h.config, opts);
    kept(&h, "s1", "brl/s1/k1");
    kept(&h, "s2", "brl/s2/k2");
    h.append(
        "ralph_cycle",
        Some("s1"),
        json!({"outcome": "discarded", "cost_usd": 0.1}),
    );
    h.append("ralph_cycle", Some("s2"), json!({"outcome": "timeout"}));
    let beats = || -> Vec<Value> {
        h.received()
            .into_iter()
            .filter(|e| e["event"] == "heartbeat")
            .collect()
    };
    wait_for(20, "two heartbeats", || beats().len() >= 2);
    let b = beats();
    // What waits for a decision is listed with its number (kept notifications may have
    // numbered k1 and k2 first: the number is whatever the branch got when first named).
    let text = |i: usize| b[i]["text"].as_str().unwrap_or("").to_string();
    let number = brl::chat::numbers::Numbers::new(home)
        .of("brl/s1/x")
        .expect("numbers");
    let waiting = format!(
        "\nwaiting for a decision:\nb{number} brl/s1/x \"x\"\n/approve <n> · /reject <n> · /diff <n>"
    );
    assert_eq!(
        text(0),
        format!(
            "heartbeat, last 1 s: 1 of 2 sessions alive, 2 kept, 1 discarded, 1 other (1 timeout), \
             1 waiting for review; $0.20 spent{waiting}"
        )
    );
    assert_eq!(b[0]["data"]["kept"], 2);
    // The next period starts from zero.
    assert_eq!(
        text(1),
        format!(
            "heartbeat, last 1 s: 1 of 2 sessions alive, 0 kept, 0 discarded, 1 waiting for review{waiting}"
        )
    );
    n.stop();
}

#[test]
fn a_control_room_that_died_is_reported_at_the_next_start() {
    let crashed = home_with(COMMAND);
    crashed.append("control_started", None, json!({"pid": 4242}));
    kept(&crashed, "s1", "brl/s1/before-the-crash");
    std::thread::sleep(Duration::from_millis(10)); // the log's timestamps are in milliseconds
    let n = notify::spawn_with(&crashed.home, &crashed.config, fast());
    // This control room's own start is not mistaken for the previous one.
    crashed.append("control_started", None, json!({"pid": 1}));
    let got = crashed.wait_received(1);
    assert_eq!(got[0]["event"], "control_room_crashed");
    let text = got[0]["text"].as_str().unwrap_or("");
    assert!(
        text.contains("without a clean shutdown")
            && text.contains("pid 4242")
            && text.contains("at about"),
        "{text}"
    );
    n.stop();

    let clean = home_with(COMMAND);
    clean.append("control_started", None, json!({"pid": 4242}));
    clean.append("control_stopped", None, json!({"pid": 4242}));
    std::thread::sleep(Duration::from_millis(10));
    let n = notify::spawn_with(&clean.home, &clean.config, fast());
    clean.append("control_started", None, json!({"pid": 1}));
    std::thread::sleep(Duration::from_millis(700));
    kept(&clean, "s1", "brl/s1/after");
    let got = clean.wait_received(1);
    assert_eq!(
        got[0]["event"], "kept",
        "a clean stop is not a crash: {got:?}"
    );
    n.stop();
}

#[test]
fn a_notifier_added_to_brl_toml_applies_without_a_restart() {
    let h = home_with("");
    let n = notify::spawn_with(&h.home, &h.config, fast());
    kept(&h, "s1", "brl/s1/unseen");
    let text = std::fs::read_to_string(h.home.config_path()).expect("read");
    let text = format!(
        "{text}{}",
        COMMAND.replace("{events}", &h.events.display().to_string())
    );
    std::fs::write(h.home.config_path(), text).expect("write");
    std::thread::sleep(Duration::from_millis(600));
    kept(&h, "s1", "brl/s1/seen");
    let got = h.wait_received(1);
    assert_eq!(got[0]["data"]["branch"], "brl/s1/seen");
    n.stop();
}

/// End to end: `brl up` notifies a kept branch; after a kill -9 the next `brl up` says the
/// control room crashed; SIGTERM still stops it promptly.
#[test]
fn brl_up_notifies_and_reports_its_own_crash() {
    let events = tempfile::tempdir().expect("tempdir");
    let file = events.path().join("events.jsonl");
    let notify = format!("[notify]\ncommand = \"cat >> '{}'\"\n", file.display());
    let mut r = Room::new(1, &common::agent("fix_one.sh"), &notify);
    let received = |kind: &str| -> Vec<Value> {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["event"] == kind)
            .collect()
    };
    r.up(&[]);
    wait_for(60, "a kept event", || !received("kept").is_empty());
    assert_eq!(received("kept")[0]["session"], "s1");
    let pid = r.child.as_ref().expect("child").id();
    signal(pid, libc::SIGKILL);
    let _ = r.child.take().expect("child").wait();
    r.up(&[]);
    wait_for(30, "the crash report", || {
        !received("control_room_crashed").is_empty()
    });
    let text = received("control_room_crashed")[0]["text"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(text.contains(&format!("pid {pid}")), "{text}");
    let (status, took) = r.stop();
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(
        r.entries("notify_failed").is_empty(),
        "{:?}",
        r.entries("notify_failed")
    );
}
