//! The task queue from the command line, and cycles that take their task from it.

mod common;

use common::{World, agent};

fn tasks(w: &World) -> Vec<serde_json::Value> {
    let (code, out, err) = w.run(&["task", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("tasks json")
}

#[test]
fn auto_safe_runs_first_proposed_waits_for_approval() {
    let w = World::new(1);
    let (code, out, err) = w.run(&[
        "task",
        "add",
        "Add a feature",
        "--tier",
        "proposed",
        "--body",
        "details here",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("#1") && out.contains("approve"), "{out}");
    assert_eq!(w.run(&["task", "add", "Fix the first error"]).0, 0);

    let (code, out, err) = w.run(&["cycle", "s1", "--from-queue", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    let prompt = std::fs::read_to_string(w.home.join("prompt-s1.txt")).expect("prompt");
    assert!(
        prompt.contains("TASK: Fix the first error") && prompt.contains("task #2"),
        "{prompt}"
    );
    let c = w.cycles().pop().expect("cycle");
    assert_eq!(c["data"]["task_id"], 2);
    assert_eq!(c["data"]["task_state"], "done");
    let t = tasks(&w);
    assert_eq!(t[1]["state"], "done");
    assert_eq!(t[1]["branch"], c["data"]["branch"]);
    assert_eq!(t[0]["state"], "pending");

    // Nothing else is ready until #1 is approved.
    let (_, out, _) = w.run(&["cycle", "s1", "--from-queue", "--quiet"]);
    assert!(out.contains("no ready task"), "{out}");
    assert_eq!(w.run(&["task", "approve", "1"]).0, 0);
    w.run(&["cycle", "s1", "--from-queue", "--quiet"]);
    let prompt = std::fs::read_to_string(w.home.join("prompt-s1.txt")).expect("prompt");
    assert!(
        prompt.contains("TASK: Add a feature") && prompt.contains("details here"),
        "{prompt}"
    );
    assert_eq!(tasks(&w)[0]["state"], "done");
}

#[test]
fn caps_and_duplicates_are_refused_clearly() {
    let w = World::new(1);
    w.write_config(1, &agent("fix_one.sh"), 20, "[tasks]\nmax_pending = 2\n");
    assert_eq!(w.run(&["task", "add", "one"]).0, 0);
    let (code, _, err) = w.run(&["task", "add", "ONE "]);
    assert_ne!(code, 0);
    assert!(err.contains("same title"), "{err}");
    assert_eq!(w.run(&["task", "add", "two"]).0, 0);
    let (code, _, err) = w.run(&["task", "add", "three"]);
    assert_ne!(code, 0);
    assert!(err.contains("max_pending"), "{err}");
    // Completed work frees the cap: pending is capped, not done.
    w.run(&["cycle", "s1", "--from-queue", "--quiet"]);
    assert_eq!(w.run(&["task", "add", "three"]).0, 0);
    assert_eq!(w.run(&["task", "drop", "3"]).0, 0);
    assert_eq!(tasks(&w)[2]["state"], "dropped");
}

#[test]
fn a_task_fails_after_max_attempts() {
    let w = World::new(1);
    w.write_config(
        1,
        &agent("add_error.sh"),
        20,
        "[scheduler]\nmax_attempts = 2\n",
    );
    assert_eq!(w.run(&["task", "add", "make it better"]).0, 0);
    w.run(&["cycle", "s1", "--from-queue", "--quiet"]);
    let t = tasks(&w);
    assert_eq!(t[0]["state"], "pending");
    assert_eq!(t[0]["attempts"], 1);
    assert_eq!(t[0]["last_reason"], "errors 2 → 3");
    w.run(&["cycle", "s1", "--from-queue", "--quiet"]);
    assert_eq!(tasks(&w)[0]["state"], "failed");
    let (_, out, _) = w.run(&["cycle", "s1", "--from-queue", "--quiet"]);
    assert!(out.contains("no ready task"), "{out}");
}
