//! Approve and reject killed at every crash point (SIGKILL while stopped there): after the next
//! brl command, main, the queue, the branch, the log and the user's checked-out repository all
//! agree, and git lock files a kill left are removed when provably brl's. Real git repos, the real
//! `brl` binary. (A full disk: `tests/approve_disk.rs`.)

mod approve_support;
mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use approve_support::*;
use common::git;

/// What the next command finds after a kill at a point.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum After {
    /// Nothing journaled yet (only an unreferenced merge commit exists): nothing to recover.
    Nothing,
    /// Journaled, main not moved: recovery undoes it.
    Undone,
    /// Main moved: recovery finishes it.
    Finished,
}

fn approve_killed_at(point: &str, moved: bool, after: After) {
    let (w, branch) = setup(moved);
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    kill_at(&w, point, &["approve", &branch]);
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0, "{err}");
    let ctx = format!("killed at {point} (main moved: {moved}); recovery said: {err}");
    let expect_merged = after == After::Finished;
    match after {
        After::Nothing => {
            assert!(!err.contains(&branch), "{ctx}");
            assert!(w.entries("decision_recovered").is_empty(), "{ctx}");
        }
        After::Undone | After::Finished => {
            let verb = if expect_merged { "finished" } else { "undid" };
            assert!(err.contains(verb) && err.contains(&branch), "{ctx}");
            assert_eq!(w.entries("decision_recovered").len(), 1, "{ctx}");
        }
    }
    let merged = assert_approve_consistent(&w, &branch, &old, &tip, &ctx);
    assert_eq!(merged, expect_merged, "{ctx}");
    // The working tree is exactly main's.
    assert_eq!(
        std::fs::read_to_string(w.repo.join("f1.txt")).expect("f1"),
        git(&w.repo, &["show", "main:f1.txt"]) + "\n",
        "{ctx}"
    );
    let (code, out, err) = w.run(&["queue", "approve", &branch]);
    if merged {
        assert_ne!(code, 0, "{ctx}: approved twice: {out}");
        assert!(err.contains("already approved"), "{ctx}: {err}");
    } else {
        assert_eq!(code, 0, "{ctx}: {out}{err}");
        assert!(assert_approve_consistent(&w, &branch, &old, &tip, &ctx));
    }
    // Nothing new for recovery, nothing logged twice.
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0);
    assert!(!err.contains("interrupted"), "{ctx}: {err}");
    assert_eq!(decisions(&w, &branch).len(), 1, "{ctx}");
}

/// In the order an approve passes them: the merge commit is made (and the checked-out main
/// checked) before the one journal write.
const APPROVE_POINTS: &[(&str, After)] = &[
    ("approve:after-merge-commit", After::Nothing),
    ("approve:after-journal", After::Undone),
    ("approve:after-ref", After::Finished),
    ("approve:after-queue", After::Finished),
    ("approve:after-log", After::Finished),
    ("approve:inside-checkout", After::Finished),
    ("approve:after-checkout", After::Finished),
];

#[test]
fn approve_killed_at_every_point_fast_forward() {
    for (point, after) in APPROVE_POINTS {
        approve_killed_at(point, false, *after);
    }
}

#[test]
fn approve_killed_at_every_point_merge_commit() {
    for (point, after) in APPROVE_POINTS {
        approve_killed_at(point, true, *after);
    }
}

#[test]
fn every_approve_and_reject_point_is_a_known_crash_point() {
    for p in APPROVE_POINTS
        .iter()
        .map(|(p, _)| *p)
        .chain(REJECT_POINTS.iter().copied())
    {
        assert!(brl::chaos::POINTS.contains(&p), "{p}");
    }
    let ours = brl::chaos::POINTS
        .iter()
        .filter(|p| p.starts_with("approve:") || p.starts_with("reject:"))
        .count();
    assert_eq!(ours, APPROVE_POINTS.len() + REJECT_POINTS.len());
}

const REJECT_POINTS: &[&str] = &["reject:after-journal", "reject:after-delete"];

#[test]
fn reject_killed_at_every_point() {
    for point in REJECT_POINTS {
        let (w, branch) = setup(false);
        let old = git(&w.repo, &["rev-parse", "main"]);
        kill_at(&w, point, &["reject", &branch, "--reason", "not this"]);
        let (code, _, err) = w.run(&["queue", "list"]);
        assert_eq!(code, 0, "{err}");
        let ctx = format!("killed at {point}; recovery said: {err}");
        assert!(err.contains("finished") && err.contains(&branch), "{ctx}");
        assert_eq!(git(&w.repo, &["rev-parse", "main"]), old, "{ctx}");
        assert!(w.branches().is_empty(), "{ctx}");
        let q = w.queue();
        assert_eq!(q[0]["status"], "rejected", "{ctx}");
        assert_eq!(q[0]["decision_reason"], "not this", "{ctx}");
        let d = decisions(&w, &branch);
        assert_eq!(d.len(), 1, "{ctx}: {d:?}");
        assert_eq!(d[0]["data"]["decision"], "reject", "{ctx}");
        assert_user_repo_intact(&w, &ctx);
        let (code, _, err) = w.run(&["queue", "reject", &branch]);
        assert_ne!(code, 0, "{ctx}");
        assert!(err.contains("already rejected"), "{ctx}: {err}");
        assert_eq!(decisions(&w, &branch).len(), 1, "{ctx}");
    }
}

#[test]
fn a_live_decision_is_not_recovered_under_it() {
    // A stopped (not killed) approve holds the decision lock: other commands leave its journal.
    let (w, branch) = setup(true);
    let mut child = w
        .spawnable()
        .args(["queue", "approve", &branch])
        .env("BRL_CHAOS_STOP", "approve:after-ref")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    while proc_state(pid) != Some('T') {
        assert!(Instant::now() < deadline, "never stopped");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0);
    assert!(!err.contains("interrupted"), "{err}");
    assert_eq!(w.queue()[0]["status"], "pending");
    assert!(
        w.home
            .join("logs/journal")
            .read_dir()
            .expect("dir")
            .next()
            .is_some()
    );
    // A second decision on the same branch waits for the first one's lock...
    let second = w
        .spawnable()
        .args(["queue", "reject", &branch])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the second");
    std::thread::sleep(Duration::from_millis(300));
    // ...the first goes on and finishes by itself.
    // SAFETY: signals to the child this test spawned.
    unsafe {
        libc::kill(pid as i32, libc::SIGCONT);
    }
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
    let out = second.wait_with_output().expect("second");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("already approved"),
        "{err}"
    );
    let old = git(&w.repo, &["rev-parse", "main^1"]);
    let tip = git(&w.repo, &["rev-parse", "main^2"]);
    assert!(assert_approve_consistent(
        &w,
        &branch,
        &old,
        &tip,
        "continued"
    ));
}

/// A user's stale `refs/heads/main.lock` that is not brl's is left, and said.
#[test]
fn a_foreign_ref_lock_makes_approve_fail_cleanly() {
    let (w, branch) = setup(false);
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    let lock = w.repo.join(".git/refs/heads/main.lock");
    std::fs::write(&lock, "someone else's\n").expect("lock");
    let (code, _, err) = w.run(&["queue", "approve", &branch]);
    assert_ne!(code, 0);
    assert!(
        err.contains("nothing was merged") || err.contains("lock"),
        "{err}"
    );
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), old);
    assert_eq!(
        std::fs::read_to_string(&lock).expect("kept"),
        "someone else's\n"
    );
    std::fs::remove_file(&lock).expect("rm");
    let (code, out, err) = w.run(&["queue", "approve", &branch]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(assert_approve_consistent(
        &w,
        &branch,
        &old,
        &tip,
        "after the user's lock"
    ));
}

/// Killed inside main's compare-and-swap (the ref's lock file written with the new commit, the
/// rename not done): recovery removes that lock, which is provably brl's, and undoes the approval.
#[test]
fn a_ref_lock_left_inside_the_compare_and_swap_is_removed() {
    let (w, branch) = setup(true);
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    kill_at(&w, "approve:after-ref", &["approve", &branch]);
    // Put the instant back to just before the rename.
    let new = git(&w.repo, &["rev-parse", "main"]);
    git(&w.repo, &["update-ref", "refs/heads/main", &old]);
    let lock = w.repo.join(".git/refs/heads/main.lock");
    std::fs::write(&lock, format!("{new}\n")).expect("lock");
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("undid") && err.contains("removed"), "{err}");
    assert!(!lock.exists());
    assert!(!assert_approve_consistent(&w, &branch, &old, &tip, &err));
}

/// Killed while writing the user's index (libgit2's `index.lock` written after the checkout
/// step began, held by no one): recovery removes it and finishes the update.
#[test]
fn an_index_lock_left_inside_the_checkout_is_removed() {
    let (w, branch) = setup(true);
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    kill_at(&w, "approve:inside-checkout", &["approve", &branch]);
    let lock = w.repo.join(".git/index.lock");
    std::fs::write(&lock, "half an index").expect("lock");
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("finished") && err.contains("index.lock"),
        "{err}"
    );
    assert!(assert_approve_consistent(&w, &branch, &old, &tip, &err));
}

/// SIGKILL at random instants (not only at the named points) of approves and rejects, then any
/// command: everything agrees. `BRL_APPROVE_TRIALS` sets the number of trials (default 12).
#[test]
fn approve_and_reject_killed_at_random_instants() {
    let trials: u64 = std::env::var("BRL_APPROVE_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut outcomes = [0usize; 2];
    let mut recovered = 0;
    for i in 0..trials {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_micros(2_000 + seed % 12_000);
        let reject = i % 4 == 3;
        let (w, branch) = setup(i % 2 == 0);
        let old = git(&w.repo, &["rev-parse", "main"]);
        let tip = git(&w.repo, &["rev-parse", &branch]);
        let args: &[&str] = if reject {
            &["queue", "reject", &branch]
        } else {
            &["queue", "approve", &branch]
        };
        let mut child = w
            .spawnable()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        // SAFETY: a signal to the child this test spawned (maybe already exited, not reaped).
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
        child.wait().expect("reap");
        let (code, _, err) = w.run(&["queue", "list"]);
        assert_eq!(code, 0, "{err}");
        let ctx = format!("trial {i}: {args:?} killed after {delay:?}; then: {err}");
        let done = if reject {
            let q = w.queue();
            let d = decisions(&w, &branch);
            assert_eq!(git(&w.repo, &["rev-parse", "main"]), old, "{ctx}");
            let rejected = q[0]["status"] == "rejected";
            assert_eq!(w.branches().is_empty(), rejected, "{ctx}");
            assert_eq!(d.len(), usize::from(rejected), "{ctx}: {d:?}");
            if !rejected {
                assert_eq!(q[0]["status"], "pending", "{ctx}");
            }
            assert_user_repo_intact(&w, &ctx);
            rejected
        } else {
            assert_approve_consistent(&w, &branch, &old, &tip, &ctx)
        };
        outcomes[usize::from(done)] += 1;
        recovered += w.entries("decision_recovered").len();
    }
    eprintln!(
        "{trials} random kills: {} left undecided, {} decided, {recovered} finished or undone by recovery",
        outcomes[0], outcomes[1]
    );
}

/// A conflicting approve killed after the queue write: recovery logs the conflict once; main and
/// the branch stay, and the entry can be tried again.
#[test]
fn a_conflict_killed_after_the_queue_is_logged_once() {
    let (w, branch) = setup(false);
    std::fs::write(
        w.repo.join("f1.txt"),
        "ok line\nERR one changed on main\nERR two\n",
    )
    .expect("write");
    git(&w.repo, &["commit", "-q", "-am", "conflicting edit"]);
    let old = git(&w.repo, &["rev-parse", "main"]);
    kill_at(&w, "approve:after-queue", &["approve", &branch]);
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("finished") && err.contains("conflict"),
        "{err}"
    );
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), old);
    assert_eq!(w.branches(), vec![branch.clone()]);
    let q = w.queue();
    assert_eq!(q[0]["status"], "conflict");
    let d = decisions(&w, &branch);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["data"]["result"], "conflict");
    assert_eq!(d[0]["data"]["conflict_files"][0], "f1.txt");
    assert_user_repo_intact(&w, &err);
    let (code, _, err) = w.run(&["queue", "approve", &branch]);
    assert_eq!(code, 1, "tried again, conflicts again: {err}");
    assert_eq!(decisions(&w, &branch).len(), 2);
}

/// A journal file brl cannot read is reported with its path by every command and stops
/// decisions (nothing changed) until it is moved aside; it is never deleted.
#[test]
fn an_unreadable_journal_is_loud_and_kept() {
    let (w, branch) = setup(false);
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    let dir = w.home.join("logs/journal");
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("d-garbage.json");
    std::fs::write(&bad, "\u{0}\u{1} not json").expect("write");
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&bad.display().to_string()) && err.contains("mv "),
        "{err}"
    );
    let (code, _, err) = w.run(&["queue", "approve", &branch]);
    assert_ne!(code, 0);
    assert!(
        err.contains(&bad.display().to_string()) && err.contains("nothing was changed"),
        "{err}"
    );
    assert!(bad.exists());
    assert_nothing_decided(&w, &branch, &old);
    std::fs::rename(&bad, w.home.join("set-aside.json")).expect("mv");
    let (code, out, err) = w.run(&["queue", "approve", &branch]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(assert_approve_consistent(&w, &branch, &old, &tip, &err));
}

/// Nothing decided: main old, entry pending, branch kept, no decision logged.
fn assert_nothing_decided(w: &common::World, branch: &str, old: &str) {
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), old);
    assert_eq!(w.queue()[0]["status"], "pending");
    assert_eq!(w.branches(), vec![branch.to_string()]);
    assert!(decisions(w, branch).is_empty());
}
