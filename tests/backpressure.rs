//! Back-pressure end to end: `brl up --no-tui` on a private tmux socket, an agent whose every
//! change is kept, and `[review] max_pending = 3`: the queue stops at 3, the reason is logged
//! once, and `brl status` says so.

mod common;

use std::time::Duration;

use common::agent;
use common::room::{Room, wait_for};

#[test]
fn a_full_review_queue_stops_self_planned_cycles_and_says_why() {
    let mut r = Room::new(3, &agent("fix_one.sh"), "[review]\nmax_pending = 3\n");
    r.up(&[]);
    wait_for(90, "the review_backlog skip", || {
        r.entries("assignment_skipped")
            .iter()
            .any(|e| e["data"]["reason"] == "review_backlog")
    });
    // Several scheduling passes (every second) and worker pauses later, nothing more is kept.
    std::thread::sleep(Duration::from_secs(6));
    let open = |r: &Room| {
        r.w.queue()
            .iter()
            .filter(|e| matches!(e["status"].as_str(), Some("pending" | "conflict" | "stale")))
            .count()
    };
    assert_eq!(open(&r), 3, "{:?}", r.w.queue());
    let kept = r
        .entries("ralph_cycle")
        .iter()
        .filter(|c| c["data"]["outcome"] == "kept")
        .count();
    assert_eq!(kept, 3, "no cycle past the cap");
    let skips: Vec<_> = r
        .entries("assignment_skipped")
        .into_iter()
        .filter(|e| e["data"]["reason"] == "review_backlog")
        .collect();
    assert_eq!(skips.len(), 1, "logged once while it lasts: {skips:?}");
    assert_eq!(skips[0]["data"]["open"], 3);
    assert_eq!(skips[0]["data"]["max_pending"], 3);
    let (code, out, err) = r.w.run(&["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("paused: 3 branches wait for review"), "{out}");
    let (_, json, _) = r.w.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("status json");
    assert_eq!(v["review_backlog"]["paused"], true, "{v}");

    // A decision frees a place: one more cycle is granted, and the queue is at 3 again.
    let first = r.w.queue()[0]["branch"]
        .as_str()
        .expect("branch")
        .to_string();
    let (code, out, err) = r.w.run(&["queue", "reject", &first, "--reason", "not now"]);
    assert_eq!(code, 0, "{out}{err}");
    wait_for(60, "one more kept cycle", || {
        r.entries("ralph_cycle")
            .iter()
            .filter(|c| c["data"]["outcome"] == "kept")
            .count()
            == 4
    });
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(open(&r), 3);
}
