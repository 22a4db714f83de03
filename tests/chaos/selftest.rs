//! The harness checks itself, so that "0 violations" means brl kept its promises and not that a
//! check looked at nothing: a process that stops itself is seen stopped and killed, tagged
//! processes are found and only they are killed, and each check fires on a state that breaks it.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::checks::{self, Started, USER_FILE, USER_TEXT};
use crate::harness::{self, Stop, TAG_ENV, Trial};

fn checks_of(t: &Trial) -> BTreeSet<&'static str> {
    t.violations.iter().map(|v| v.check).collect()
}

#[test]
fn a_self_stopped_process_is_killed_and_one_that_ends_is_told_apart() {
    let mut stops = Command::new("sh")
        .args(["-c", "kill -STOP $$; sleep 30"])
        .spawn()
        .expect("sh runs");
    let pid = stops.id();
    assert!(matches!(
        harness::kill_at_point(&mut stops, Duration::from_secs(10)),
        Stop::Hit
    ));
    assert_eq!(harness::proc_state(pid), None, "killed and reaped");
    let mut ends = Command::new("true").spawn().expect("true runs");
    assert!(matches!(
        harness::kill_at_point(&mut ends, Duration::from_secs(10)),
        Stop::Exited
    ));
    let mut runs = Command::new("sleep").arg("30").spawn().expect("sleep runs");
    assert!(harness::kill_after(&mut runs, Duration::from_millis(50)));
}

#[test]
fn tagged_processes_are_found_and_only_they_are_killed() {
    let tag = format!("chaos-selftest-{}", std::process::id());
    let mut mine = Command::new("sleep")
        .arg("30")
        .env(TAG_ENV, &tag)
        .stdout(Stdio::null())
        .spawn()
        .expect("sleep runs");
    let mut other = Command::new("sleep")
        .arg("30")
        .env(TAG_ENV, format!("{tag}-other"))
        .spawn()
        .expect("sleep runs");
    let found = harness::tagged(&tag);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, mine.id());
    let mut t = Trial::default();
    let dir = tempfile::tempdir().expect("tempdir");
    checks::no_processes(dir.path(), &[&tag], "self test", &mut t);
    assert_eq!(checks_of(&t), BTreeSet::from(["no_orphan_process"]));
    harness::kill_tagged(&tag);
    let _ = mine.wait();
    assert!(harness::tagged(&tag).is_empty());
    assert!(
        matches!(other.try_wait(), Ok(None)),
        "the other tag lives on"
    );
    let _ = other.kill();
    let _ = other.wait();
}

#[test]
fn each_check_fires_on_a_state_that_breaks_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let repo = dir.path().join("app");
    std::fs::create_dir_all(home.join("logs")).expect("mkdir");
    std::fs::create_dir_all(&repo).expect("mkdir");
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["config", "user.name", "T"],
        &["config", "user.email", "t@example.invalid"],
        &["commit", "-q", "--allow-empty", "-m", "initial"],
        &["branch", "brl/s1/20260101-000000"],
    ] {
        checks::git(&repo, args).expect("git");
    }
    // A clean repository with the user's file: nothing to say.
    std::fs::write(repo.join(USER_FILE), USER_TEXT).expect("write");
    let mut t = Trial::default();
    checks::user_repo(&repo, "main", &mut t);
    assert!(t.violations.is_empty(), "{:?}", t.violations);

    // A broken log line, a cycle logged twice, one never logged.
    let line = |b: &str| {
        format!(
            r#"{{"ts":"2026-01-01T00:00:00Z","type":"ralph_cycle","session":"s1","data":{{"branch":"{b}","outcome":"kept"}}}}"#
        )
    };
    let log = format!("{}\n{}\n{{\"broken\n", line("brl/s1/a"), line("brl/s1/a"));
    std::fs::write(home.join("logs/experiment-log.jsonl"), log).expect("write");
    let mut t = Trial::default();
    let entries = checks::log_entries(&home, &mut t);
    let started = |b: &str, i: &str| Started {
        branch: b.into(),
        instance: i.into(),
        cycle_id: None,
    };
    checks::cycles_once(
        &entries,
        &[started("brl/s1/a", "x"), started("brl/s1/b", "y")],
        &mut t,
    );
    // A branch not in the queue, a kept cycle not in it, a pending entry without its branch.
    let queue = vec![serde_json::json!({"branch": "brl/s1/gone", "status": "pending"})];
    checks::queue_matches_branches(&repo, &entries, &queue, &BTreeSet::new(), &mut t);
    // The user's repository: HEAD elsewhere, a modified file, the user's file gone, a lock.
    checks::git(&repo, &["checkout", "-q", "-b", "elsewhere"]).expect("git");
    std::fs::write(repo.join("new.txt"), "x").expect("write");
    std::fs::remove_file(repo.join(USER_FILE)).expect("rm");
    std::fs::write(repo.join(".git/index.lock"), "").expect("write");
    checks::user_repo(&repo, "main", &mut t);
    assert_eq!(
        checks_of(&t),
        BTreeSet::from([
            "log_parses",
            "cycle_recorded_once",
            "kept_branch_queued",
            "pending_has_branch",
            "head_on_main",
            "repo_clean",
            "user_file_survives",
            "no_git_locks",
        ]),
        "{:#?}",
        t.violations
    );
}

#[test]
fn an_approve_is_judged_by_main_the_queue_the_branch_and_the_log_together() {
    use crate::decide::{Before, Decision, decision_state};
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path();
    let b = "brl/s1/20260101-000000";
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["config", "user.name", "T"],
        &["config", "user.email", "t@example.invalid"],
        &["commit", "-q", "--allow-empty", "-m", "initial"],
        &["checkout", "-q", "-b", b],
        &["commit", "-q", "--allow-empty", "-m", "the agent's work"],
        &["checkout", "-q", "main"],
    ] {
        checks::git(repo, args).expect("git");
    }
    let before = Before {
        branch: b.into(),
        main: checks::git(repo, &["rev-parse", "main"]).expect("main"),
        head: checks::git(repo, &["rev-parse", b]).expect("head"),
    };
    let pending = vec![serde_json::json!({"branch": b, "status": "pending"})];
    // Nothing done yet: open, no violation.
    let mut t = Trial::default();
    assert!(decision_state(
        repo,
        Decision::Approve,
        &before,
        &[],
        &pending,
        false,
        &mut t
    ));
    assert!(t.violations.is_empty(), "{:?}", t.violations);
    // Main moved (fast-forward) but the queue still pending, the branch kept, nothing logged.
    checks::git(repo, &["merge", "-q", "--ff-only", b]).expect("ff");
    let mut t = Trial::default();
    assert!(!decision_state(
        repo,
        Decision::Approve,
        &before,
        &[],
        &pending,
        false,
        &mut t
    ));
    assert_eq!(
        checks_of(&t),
        BTreeSet::from(["decision_agrees", "decided_once"]),
        "{:?}",
        t.violations
    );
    // Done completely: approved as the new main, branch gone, logged once.
    checks::git(repo, &["branch", "-D", b]).expect("delete");
    let approved =
        vec![serde_json::json!({"branch": b, "status": "approved", "merged_as": before.head})];
    let logged = vec![
        serde_json::json!({"type": "review_decision", "data": {"branch": b, "decision": "approve", "result": "fast_forward"}}),
    ];
    let mut t = Trial::default();
    decision_state(
        repo,
        Decision::Approve,
        &before,
        &logged,
        &approved,
        false,
        &mut t,
    );
    assert!(t.violations.is_empty(), "{:?}", t.violations);
    // Logged twice.
    let twice = [logged[0].clone(), logged[0].clone()];
    let mut t = Trial::default();
    decision_state(
        repo,
        Decision::Approve,
        &before,
        &twice,
        &approved,
        false,
        &mut t,
    );
    assert_eq!(checks_of(&t), BTreeSet::from(["decided_once"]));
}
