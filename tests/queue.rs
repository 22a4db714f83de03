//! Approving and rejecting kept branches from the command line, against real repositories.

mod common;

use common::{World, git};

/// A world with one kept branch waiting in the queue.
fn with_pending() -> (World, String) {
    let w = World::new(1);
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    let q = w.queue();
    assert_eq!(q.len(), 1, "{out}");
    (w, q[0]["branch"].as_str().expect("branch").to_string())
}

fn decisions(w: &World) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(w.home.join("logs/experiment-log.jsonl")).expect("log");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "review_decision")
        .collect()
}

#[test]
fn diff_shows_the_change() {
    let (w, branch) = with_pending();
    let (code, out, _) = w.run(&["queue", "diff", &branch]);
    assert_eq!(code, 0);
    assert!(
        out.contains("-ERR one") && out.contains("+fixed one"),
        "{out}"
    );
    let (code, _, err) = w.run(&["queue", "diff", "brl/s1/nope"]);
    assert_ne!(code, 0);
    assert!(err.contains("brl/s1/nope"), "{err}");
}

#[test]
fn approve_fast_forwards_without_touching_another_checkout() {
    let (w, branch) = with_pending();
    git(&w.repo, &["checkout", "-q", "-b", "elsewhere"]);
    let head = git(&w.repo, &["rev-parse", &branch]);
    let (code, out, err) = w.run(&["queue", "approve", &branch]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("fast-forward"), "{out}");
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), head);
    assert!(
        w.branches().is_empty(),
        "the branch is deleted after merging"
    );
    assert_eq!(
        git(&w.repo, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "elsewhere"
    );
    assert_eq!(git(&w.repo, &["status", "--porcelain"]), "");
    assert!(
        std::fs::read_to_string(w.repo.join("f1.txt"))
            .expect("f1")
            .contains("ERR one"),
        "the other branch's files stay"
    );
    let q = w.queue();
    assert_eq!(q[0]["status"], "approved");
    assert_eq!(q[0]["merged_as"], head.as_str());
    let d = decisions(&w);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["data"]["decision"], "approve");
    assert_eq!(d[0]["data"]["result"], "fast_forward");
    assert_eq!(d[0]["data"]["branch"], branch.as_str());
    // Deciding twice is refused.
    let (code, _, err) = w.run(&["queue", "approve", &branch]);
    assert_ne!(code, 0);
    assert!(err.contains("already approved"), "{err}");
}

#[test]
fn approve_makes_a_merge_commit_when_main_moved() {
    let (w, branch) = with_pending();
    std::fs::write(w.repo.join("other.txt"), "someone else's work\n").expect("write");
    git(&w.repo, &["add", "other.txt"]);
    git(&w.repo, &["commit", "-q", "-m", "meanwhile on main"]);
    let (code, out, err) = w.run(&["queue", "approve", &branch]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("merge commit"), "{out}");
    let parents = git(&w.repo, &["log", "-1", "--format=%P", "main"]);
    assert_eq!(parents.split_whitespace().count(), 2, "{parents}");
    // main was checked out and clean: its working tree follows.
    assert!(
        std::fs::read_to_string(w.repo.join("f1.txt"))
            .expect("f1")
            .contains("fixed one")
    );
    assert_eq!(git(&w.repo, &["status", "--porcelain"]), "");
}

#[test]
fn conflict_changes_nothing_and_names_the_files() {
    let (w, branch) = with_pending();
    std::fs::write(
        w.repo.join("f1.txt"),
        "ok line\nERR one changed on main\nERR two\n",
    )
    .expect("write");
    git(&w.repo, &["commit", "-q", "-am", "conflicting edit"]);
    let main_before = git(&w.repo, &["rev-parse", "main"]);
    let (code, _, err) = w.run(&["queue", "approve", &branch]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("conflict") && err.contains("f1.txt"), "{err}");
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main_before);
    assert_eq!(w.branches(), vec![branch.clone()]);
    let q = w.queue();
    assert_eq!(q[0]["status"], "conflict");
    assert_eq!(q[0]["conflict_files"][0], "f1.txt");
    assert_eq!(decisions(&w)[0]["data"]["result"], "conflict");
}

#[test]
fn dirty_checked_out_main_refuses_and_keeps_the_edit() {
    let (w, branch) = with_pending();
    // f1.txt is the file the branch changes: an uncommitted edit of it refuses the approval.
    let mine = "ok line\nERR one\nERR two\nmy unsaved work\n";
    std::fs::write(w.repo.join("f1.txt"), mine).expect("write");
    let main_before = git(&w.repo, &["rev-parse", "main"]);
    let (code, _, err) = w.run(&["queue", "approve", &branch]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("uncommitted") && err.contains("f1.txt"),
        "{err}"
    );
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main_before);
    assert_eq!(
        std::fs::read_to_string(w.repo.join("f1.txt")).expect("read"),
        mine
    );
    assert_eq!(w.queue()[0]["status"], "pending");
    assert_eq!(w.branches(), vec![branch.clone()]);

    // An uncommitted edit of a file the branch does not change is not in the way (as with
    // `git merge`): approved, and the edit is still there, still uncommitted.
    git(&w.repo, &["checkout", "--", "f1.txt"]);
    std::fs::write(w.repo.join("tests.txt"), "PASS a\nmy unsaved work\n").expect("write");
    let (code, out, err) = w.run(&["queue", "approve", &branch]);
    assert_eq!(code, 0, "{out}{err}");
    assert_ne!(git(&w.repo, &["rev-parse", "main"]), main_before);
    assert_eq!(
        std::fs::read_to_string(w.repo.join("tests.txt")).expect("read"),
        "PASS a\nmy unsaved work\n"
    );
    assert_eq!(git(&w.repo, &["status", "--porcelain"]), "M tests.txt");
    assert_eq!(w.queue()[0]["status"], "approved");
}

#[test]
fn reject_deletes_the_branch_and_records_why() {
    let (w, branch) = with_pending();
    let main_before = git(&w.repo, &["rev-parse", "main"]);
    let (code, out, err) = w.run(&["queue", "reject", &branch, "--reason", "not what we need"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(w.branches().is_empty());
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main_before);
    let q = w.queue();
    assert_eq!(q[0]["status"], "rejected");
    assert_eq!(q[0]["decision_reason"], "not what we need");
    let d = decisions(&w);
    assert_eq!(d[0]["data"]["decision"], "reject");
    assert_eq!(d[0]["data"]["reason"], "not what we need");
}

#[test]
fn unknown_branch_and_corrupt_queue_are_clear_errors() {
    let (w, branch) = with_pending();
    let (code, _, err) = w.run(&["queue", "approve", "brl/s1/nope"]);
    assert_ne!(code, 0);
    assert!(err.contains("not in the review queue"), "{err}");
    let qpath = w.home.join("logs/review-queue.json");
    std::fs::write(&qpath, "{\"version\": 1, \"entries\": [ {broken").expect("write");
    let (code, _, err) = w.run(&["queue", "approve", &branch]);
    assert_ne!(code, 0);
    assert!(
        err.contains(&qpath.display().to_string()) && err.contains("will not overwrite"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&qpath).expect("read"),
        "{\"version\": 1, \"entries\": [ {broken"
    );
    assert_eq!(w.branches(), vec![branch], "nothing merged or deleted");
}
