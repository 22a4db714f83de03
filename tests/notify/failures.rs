//! Failing, hanging and overwhelmed notifiers: retried, logged, bounded, never in the way.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use brl::notify::{self, Options};
use serde_json::json;

use super::support::*;
use crate::common::room::wait_for;

#[test]
fn a_failing_webhook_is_retried_then_logged_and_nothing_else_waits() {
    let r = Receiver::start(500, "oops");
    let refused = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let h = home_with(&format!("{COMMAND}webhook = \"{}\"\n", r.url("/hook")));
    let n = notify::spawn_with(&h.home, &h.config, fast());
    kept(&h, "s1", "brl/s1/f");
    // The command is not held up by the failing webhook.
    assert_eq!(h.wait_received(1)[0]["event"], "kept");
    wait_for(20, "notify_failed", || {
        !h.entries("notify_failed").is_empty()
    });
    let f = &h.entries("notify_failed")[0];
    assert_eq!(f.data["notifier"], "webhook");
    assert_eq!(f.data["event"], "kept");
    assert_eq!(f.data["attempts"], 3);
    assert_eq!(f.session.as_deref(), Some("s1"));
    assert!(
        f.data["error"]
            .as_str()
            .is_some_and(|e| e.contains("HTTP 500: oops")),
        "{f:?}"
    );
    assert_eq!(r.requests().len(), 3, "tried 3 times");
    // The log goes on, and so do the notifications.
    h.append(
        "worker_respawned",
        Some("s2"),
        json!({"exit_status": 137, "respawns_in_a_row": 2}),
    );
    assert_eq!(h.wait_received(2)[1]["event"], "worker_died");
    n.stop();

    // Connection refused: retried, then logged.
    let h = home_with(&format!(
        "[notify]\nwebhook = \"http://127.0.0.1:{refused}/x\"\n"
    ));
    let n = notify::spawn_with(&h.home, &h.config, fast());
    kept(&h, "s1", "brl/s1/g");
    wait_for(20, "notify_failed", || {
        !h.entries("notify_failed").is_empty()
    });
    let f = &h.entries("notify_failed")[0];
    assert_eq!(
        (f.data["attempts"].as_u64(), f.data["permanent"].as_bool()),
        (Some(3), Some(false))
    );
    assert!(!f.data["error"].as_str().unwrap_or("").is_empty());
    n.stop();
}

#[test]
fn a_hanging_webhook_delays_only_itself_and_stop_takes_a_second_at_most() {
    let r = Receiver::start(0, "");
    let h = home_with(&format!("{COMMAND}webhook = \"{}\"\n", r.url("/slow")));
    let opts = Options {
        http_timeout: Duration::from_secs(30),
        ..fast()
    };
    let n = notify::spawn_with(&h.home, &h.config, opts);
    let start = Instant::now();
    for i in 0..3 {
        kept(&h, "s1", &format!("brl/s1/h{i}"));
    }
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "appends never wait"
    );
    assert_eq!(h.wait_received(3).len(), 3);
    assert!(start.elapsed() < Duration::from_secs(10));
    wait_for(20, "the webhook's request", || !r.requests().is_empty());
    let start = Instant::now();
    n.stop();
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_full_queue_drops_the_oldest_and_says_how_many() {
    let r = Receiver::start(0, "");
    let h = home_with(&format!("[notify]\nwebhook = \"{}\"\n", r.url("/slow")));
    let opts = Options {
        http_timeout: Duration::from_millis(700),
        backoff: vec![],
        queue_capacity: 2,
        ..fast()
    };
    let n = notify::spawn_with(&h.home, &h.config, opts);
    for i in 0..10 {
        kept(&h, "s1", &format!("brl/s1/q{i}"));
    }
    let accounted = || {
        let f = h.entries("notify_failed");
        let dropped: u64 = f.iter().filter_map(|e| e.data["dropped"].as_u64()).sum();
        let tried = f.iter().filter(|e| e.data["event"] == "kept").count() as u64;
        (dropped, tried)
    };
    wait_for(30, "all 10 accounted for", || {
        let (d, t) = accounted();
        d + t == 10
    });
    let (dropped, tried) = accounted();
    assert!(
        dropped >= 7 && tried <= 3,
        "dropped {dropped}, tried {tried}"
    );
    let f = h.entries("notify_failed");
    let drop_entry = f
        .iter()
        .find(|e| e.data["event"] == "(dropped)")
        .expect("a drop entry");
    assert!(
        drop_entry.data["error"]
            .as_str()
            .is_some_and(|e| e.contains("oldest notifications were dropped"))
    );
    n.stop();
}
