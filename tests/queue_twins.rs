//! Superseded entries and twins, against real repositories: the same change made by two
//! sessions is approved once, its twin closes as `superseded`, main never gets an empty merge
//! commit, and `queue diff` shows what approving would bring now.

mod common;

use common::{World, agent, git};

/// Every merge commit on main changes main's tree (no empty merges).
fn assert_no_empty_merge(w: &World) {
    let merges = git(&w.repo, &["rev-list", "--merges", "main"]);
    for m in merges.lines() {
        let tree = git(&w.repo, &["rev-parse", &format!("{m}^{{tree}}")]);
        let first = git(&w.repo, &["rev-parse", &format!("{m}^1^{{tree}}")]);
        assert_ne!(tree, first, "merge commit {m} changes nothing");
    }
}

fn branch_of(w: &World, session: &str) -> String {
    w.queue()
        .iter()
        .find(|e| e["session"] == session)
        .and_then(|e| e["branch"].as_str())
        .expect("entry")
        .to_string()
}

#[test]
fn twins_are_grouped_and_approving_one_supersedes_the_other() {
    let w = World::new(3);
    w.write_config(3, &agent("same_fix.sh"), 20, "");
    for s in ["s1", "s2", "s3"] {
        let (code, out, err) = w.run(&["cycle", s, "--quiet"]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let q = w.queue();
    assert_eq!(q.len(), 3, "{q:?}");
    let group = q[0]["group"].as_str().expect("s1 has a group").to_string();
    assert!(group.starts_with("twin-"), "{group}");
    assert_eq!(q[1]["group"], group.as_str(), "the same patch: twins");
    assert_eq!(
        q[2]["group"],
        group.as_str(),
        "the same line fixed differently: a near-twin"
    );
    let (code, out, _) = w.run(&["queue", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("group     {group}: 3 open entries")),
        "{out}"
    );
    let (b1, b2, b3) = (
        branch_of(&w, "s1"),
        branch_of(&w, "s2"),
        branch_of(&w, "s3"),
    );

    let (code, out, err) = w.run(&["queue", "approve", &b1]);
    assert_eq!(code, 0, "{out}{err}");
    let q = w.queue();
    let by = |b: &str| q.iter().find(|e| e["branch"] == b).expect("entry").clone();
    assert_eq!(by(&b1)["status"], "approved");
    let twin = by(&b2);
    assert_eq!(twin["status"], "superseded", "{twin}");
    assert_eq!(
        twin["superseded_by"],
        git(&w.repo, &["rev-parse", "main"]).as_str()
    );
    assert!(!w.branches().contains(&b2), "the twin's branch is deleted");
    let logged = w.entries("queue_superseded");
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["data"]["branch"], b2.as_str());
    let why = logged[0]["data"]["why"].as_str().expect("why");
    assert!(why.contains("change nothing"), "{why}");
    // The near-twin still changes something (it conflicts now): it stays, with a note.
    let near = by(&b3);
    assert!(
        near["status"] == "pending" || near["status"] == "conflict",
        "{near}"
    );
    assert_eq!(near["twin_of"], b1.as_str());

    // Approving the superseded twin is refused (already closed), and nothing merges empty.
    let (code, _, err) = w.run(&["queue", "approve", &b2]);
    assert_ne!(code, 0);
    assert!(err.contains("already superseded"), "{err}");
    assert_no_empty_merge(&w);
}

#[test]
fn an_approve_that_would_change_nothing_supersedes_instead_of_an_empty_merge() {
    let w = World::new(2);
    w.write_config(2, &agent("same_fix.sh"), 20, "");
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    let b1 = branch_of(&w, "s1");
    // The user makes the same fix on main by hand, and main moves on.
    let text = std::fs::read_to_string(w.repo.join("f1.txt")).expect("f1");
    std::fs::write(w.repo.join("f1.txt"), text.replacen("ERR", "fixed", 1)).expect("write");
    git(&w.repo, &["commit", "-q", "-am", "the same fix, by hand"]);
    std::fs::write(w.repo.join("other.txt"), "more\n").expect("write");
    git(&w.repo, &["add", "other.txt"]);
    git(&w.repo, &["commit", "-q", "-m", "more work on main"]);
    let main = git(&w.repo, &["rev-parse", "main"]);
    let (code, out, err) = w.run(&["queue", "approve", &b1]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("nothing to merge"), "{out}");
    assert_eq!(
        git(&w.repo, &["rev-parse", "main"]),
        main,
        "main did not move"
    );
    assert_eq!(w.queue()[0]["status"], "superseded");
    assert!(w.branches().is_empty());
    assert_no_empty_merge(&w);
}

#[test]
fn queue_diff_of_a_half_merged_branch_shows_only_what_is_new() {
    let w = World::new(2);
    w.write_config(2, &agent("two_fixes.sh"), 20, "");
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    let b1 = branch_of(&w, "s1");
    let (_, before, _) = w.run(&["queue", "diff", &b1]);
    assert!(
        before.contains("f1.txt") && before.contains("f2.txt"),
        "{before}"
    );
    // Half of it reaches main another way (the f1 fix, made by hand).
    let text = std::fs::read_to_string(w.repo.join("f1.txt")).expect("f1");
    std::fs::write(w.repo.join("f1.txt"), text.replacen("ERR", "fixed", 1)).expect("write");
    git(&w.repo, &["commit", "-q", "-am", "f1 fixed by hand"]);
    let (code, out, err) = w.run(&["queue", "diff", &b1]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("f2.txt") && out.contains("+fixed one"),
        "{out}"
    );
    assert!(
        !out.contains("f1.txt"),
        "f1's fix is already on main: {out}"
    );
}

#[test]
fn the_prompt_lists_the_changes_already_waiting() {
    let w = World::new(2);
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = w.run(&["cycle", "s2", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    // fix_one.sh records its prompt: s2 was told about s1's pending change and its file.
    let prompt = std::fs::read_to_string(w.home.join("prompt-s2.txt")).expect("prompt");
    assert!(
        prompt.contains("\"fix one error in f1.txt\" (s1): f1.txt"),
        "{prompt}"
    );
    let first = std::fs::read_to_string(w.home.join("prompt-s1.txt")).expect("prompt");
    assert!(first.contains("Nothing waits for review."), "{first}");
}
