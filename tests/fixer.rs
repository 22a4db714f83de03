//! The fixer end to end with `brl fix`: a real target repository whose main moved under a kept
//! branch (a real conflict), fake fixer agents (tests/agents/fix-*.sh), the real ratchet.

mod common;

use common::{World, agent, git};

use brl::home::Home;
use brl::store::queue::{Queue, Status};

/// A kept branch of session s1 (it fixed `ERR one` in f1.txt), then main changes the same line:
/// the branch is marked `conflict` as the review's re-check would. Returns the branch.
fn conflicting_branch(w: &World) -> String {
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    let q = w.queue();
    assert_eq!(q.len(), 1, "{q:?}");
    let branch = q[0]["branch"].as_str().expect("branch").to_string();
    // The user edits the same line on main.
    std::fs::write(w.repo.join("f1.txt"), "ok line\nERR uno\nERR two\n").expect("write");
    git(
        &w.repo,
        &["commit", "-q", "-am", "main rewords the first error"],
    );
    Queue::new(&Home::new(&w.home).queue_path())
        .update(|entries| {
            let e = entries
                .iter_mut()
                .find(|e| e.branch == branch)
                .expect("entry");
            e.status = Status::Conflict;
            e.conflict_files = vec!["f1.txt".into()];
            e.decision_reason = Some("conflicts with main in f1.txt".into());
            Ok(())
        })
        .expect("mark conflict");
    branch
}

fn entry(w: &World, branch: &str) -> Option<brl::store::queue::QueueEntry> {
    Queue::new(&Home::new(&w.home).queue_path())
        .find(branch)
        .expect("queue")
}

#[test]
fn a_conflicting_branch_is_repaired_onto_the_new_main_and_replaces_its_entry() {
    let w = World::new(2);
    let old = conflicting_branch(&w);
    let main_before = git(&w.repo, &["rev-parse", "main"]);
    w.write_config(2, &agent("fix-resolve.sh"), 20, "");
    let (code, out, err) = w.run(&["fix"]);
    assert_eq!(code, 0, "{out}{err}");

    // The prompt named the branch and the conflicted file.
    let prompt = std::fs::read_to_string(w.home.join("prompt-fix-s1.txt")).expect("prompt");
    assert!(
        prompt.contains(&old) && prompt.contains("- f1.txt"),
        "{prompt}"
    );
    assert!(prompt.contains("conflicts with main in f1.txt"), "{prompt}");

    let results = w.entries("fix_result");
    assert_eq!(results.len(), 1, "{results:?}");
    let r = &results[0]["data"];
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["branch"], old.as_str());
    assert_eq!(r["conflicted"], serde_json::json!(["f1.txt"]));
    let new = r["new_branch"].as_str().expect("new branch").to_string();

    // The repair replaced the entry, the old branch is gone, main is untouched.
    assert!(entry(&w, &old).is_none(), "the old entry is replaced");
    let e = entry(&w, &new).expect("the repair's entry");
    assert_eq!(e.status, Status::Pending);
    let fix = e.fix.expect("fix record");
    assert_eq!(fix.fixes.as_deref(), Some(old.as_str()));
    assert_eq!(fix.fixed_by_attempt, Some(1));
    assert!(!w.branches().contains(&old), "{:?}", w.branches());
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main_before);

    // Judged against the new main: its base is main, and it merges cleanly into it now.
    assert_eq!(e.base, main_before);
    assert!(
        e.after.errors < e.before.errors,
        "{:?} → {:?}",
        e.before,
        e.after
    );
    let f1 = git(&w.repo, &["show", &format!("{new}:f1.txt")]);
    assert_eq!(f1, "ok line\nfixed one\nERR two");
    let parents = git(
        &w.repo,
        &["log", "--format=%P", "-n", "1", &format!("{new}~1")],
    );
    assert!(
        parents.contains(&main_before),
        "the merge has main as a parent: {parents}"
    );
    let cycle = w.cycles().last().cloned().expect("a cycle");
    assert_eq!(cycle["data"]["role"], "fix");
    assert_eq!(cycle["data"]["outcome"], "kept");
}

#[test]
fn a_hopeless_branch_stops_after_max_attempts_with_a_note() {
    let w = World::new(2);
    let old = conflicting_branch(&w);
    w.write_config(2, &agent("fix-fail.sh"), 20, "[fixer]\nmax_attempts = 2\n");
    for attempt in 1..=2 {
        let (code, out, err) = w.run(&["fix", &old]);
        assert_eq!(code, 1, "attempt {attempt} is not a repair: {out}{err}");
        let e = entry(&w, &old).expect("the entry stays");
        assert_eq!(e.status, Status::Conflict);
        let fix = e.fix.expect("fix record");
        assert_eq!(fix.attempts, attempt);
        let note = fix.note.expect("a note");
        assert!(note.contains("conflict markers left in f1.txt"), "{note}");
    }
    let results = w.entries("fix_result");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["data"]["gave_up"], false);
    let last = &results[1]["data"];
    assert_eq!(last["gave_up"], true, "{last}");
    assert_eq!(last["ok"], false);
    assert!(
        entry(&w, &old)
            .and_then(|e| e.fix?.note)
            .is_some_and(|n| n.contains("gave up after 2")),
        "the note says the fixer gave up"
    );
    // The repairs that left markers are out of the queue and out of brl/*; the old branch stays.
    assert_eq!(w.queue().len(), 1);
    assert_eq!(w.branches(), vec![old.clone()]);
    // A third repair is refused, naming the limit.
    let (code, _, err) = w.run(&["fix", &old]);
    assert_eq!(code, 1);
    assert!(err.contains("max_attempts"), "{err}");
    assert_eq!(w.entries("fix_result").len(), 2, "nothing ran");
}

#[test]
fn two_fixers_never_work_one_branch() {
    let w = World::new(2);
    let old = conflicting_branch(&w);
    w.write_config(2, &agent("fix-slow.sh"), 30, "");
    let spawn = |session: &str| {
        w.spawnable()
            .args(["fix", &old, "--session", session])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn brl fix")
    };
    let a = spawn("s1");
    let b = spawn("s2");
    let a = a.wait_with_output().expect("a");
    let b = b.wait_with_output().expect("b");
    let (won, lost) = if a.status.success() { (a, b) } else { (b, a) };
    assert!(
        won.status.success(),
        "{}",
        String::from_utf8_lossy(&won.stderr)
    );
    let err = String::from_utf8_lossy(&lost.stderr);
    assert!(!lost.status.success());
    assert!(err.contains("being repaired already"), "{err}");
    let results = w.entries("fix_result");
    assert_eq!(results.len(), 1, "one repair ran: {results:?}");
    let fix_cycles = w
        .cycles()
        .iter()
        .filter(|c| c["data"]["role"] == "fix")
        .count();
    assert_eq!(fix_cycles, 1);
}

#[test]
fn the_control_room_grants_a_repair_to_an_idle_session() {
    use common::room::{Room, wait_for};
    let mut r = Room::new(1, &agent("fix-or-work.sh"), "[fixer]\ninterval_secs = 1\n");
    let old = conflicting_branch(&r.w);
    r.up(&[]);
    wait_for(90, "the repair's fix_result", || {
        !r.entries("fix_result").is_empty()
    });
    let res = &r.entries("fix_result")[0]["data"];
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["branch"], old.as_str());
    let new = res["new_branch"].as_str().expect("new branch");
    let e = entry(&r.w, new).expect("the repair's entry");
    assert_eq!(e.fix.and_then(|f| f.fixes).as_deref(), Some(old.as_str()));
    assert!(entry(&r.w, &old).is_none());
    // The worker said what it ran; the scheduler granted it as a repair.
    let last = r.control("s1").last.expect("a last cycle");
    assert!(!last.reason.is_empty());
    let fix_cycles: Vec<_> = r
        .entries("ralph_cycle")
        .into_iter()
        .filter(|c| c["data"]["role"] == "fix")
        .collect();
    assert_eq!(fix_cycles.len(), 1, "{fix_cycles:?}");
}
