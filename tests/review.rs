//! `brl review` end to end: real git repositories, real cycles, a fake agent that answers by
//! `BRL_ROLE` (tests/agents/review_agent.sh) and records its prompts.

mod common;

use common::{World, agent, git};
use serde_json::Value;

/// A world whose agent is review_agent.sh (fix_one.sh as `ralph`), with `review` appended to
/// brl.toml, and `kept` kept branches from cycles of s1..
fn world(sessions: usize, kept: usize, review: &str) -> World {
    let w = World::new(sessions);
    w.write_config(sessions, &agent("review_agent.sh"), 20, review);
    for i in 1..=kept {
        let s = format!("s{i}");
        let (code, out, err) = w.run(&["cycle", &s]);
        assert_eq!(code, 0, "cycle {s}: {out}{err}");
    }
    assert_eq!(w.queue().len(), kept);
    w
}

fn verdict(w: &World, v: &str) {
    std::fs::write(w.dir.path().join("verdict"), v).expect("write verdict");
}

fn review(w: &World) -> Value {
    let (code, out, err) = w.run(&["review"]);
    assert_eq!(code, 0, "brl review: {out}{err}");
    // A summary a person reads, not the raw entry.
    assert!(out.starts_with("review: done\n"), "{out}");
    assert!(!out.trim_start().starts_with('{'), "{out}");
    w.entries("cto_review").pop().expect("a cto_review entry")
}

/// The prompts the agent got as `role`, oldest first.
fn prompts(w: &World, role: &str) -> Vec<String> {
    let dir = w.dir.path().join("agent-stdin");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort_by_key(|p| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.rsplit('-').next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    });
    files
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix(&format!("{role}-")))
                .and_then(|r| r.strip_suffix(".txt"))
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        })
        .map(|p| std::fs::read_to_string(p).expect("read prompt"))
        .collect()
}

#[test]
fn advisory_stores_the_verdict_and_decides_nothing() {
    let w = world(2, 2, "");
    verdict(&w, "approve");
    let main = git(&w.repo, &["rev-parse", "main"]);
    let e = review(&w);
    assert_eq!(e["data"]["ok"], true, "{e}");
    assert_eq!(e["data"]["mode"], "advisory");
    assert_eq!(e["data"]["calls"], 2);
    let q = w.queue();
    for entry in &q {
        assert_eq!(entry["status"], "pending");
        assert_eq!(entry["review"]["verdict"], "approve", "{entry}");
        assert!(
            entry["review"]["reasons"]
                .as_str()
                .unwrap()
                .contains("one thing")
        );
    }
    assert_eq!(
        git(&w.repo, &["rev-parse", "main"]),
        main,
        "advisory never merges"
    );
    // The reviewer got the diff, the figures and the criteria.
    let p = prompts(&w, "review");
    assert_eq!(p.len(), 2);
    assert!(p[0].contains("+fixed one"), "the diff: {}", p[0]);
    assert!(
        p[0].contains("errors 2 → 1") || p[0].contains("errors"),
        "{}",
        p[0]
    );
    assert!(p[0].contains("Does it do one thing"), "{}", p[0]);
    assert!(!p[0].contains("[diff truncated"), "{}", p[0]);
    // The env: BRL_ROLE=review was how the fake agent knew what to answer.
    assert!(w.entries("review_decision").is_empty());
}

#[test]
fn a_long_diff_is_cut_and_says_so() {
    let w = world(1, 1, "\n[review]\nmax_diff_bytes = 100\n");
    verdict(&w, "approve");
    review(&w);
    let p = prompts(&w, "review");
    assert!(p[0].contains("[diff truncated"), "{}", p[0]);
    assert_eq!(w.queue()[0]["review"]["truncated"], true);
}

#[test]
fn auto_approves_and_rejects_as_the_keys_do() {
    let w = world(2, 1, "\n[review]\nmode = \"auto\"\n");
    verdict(&w, "approve");
    let branch = w.queue()[0]["branch"].as_str().unwrap().to_string();
    let main = git(&w.repo, &["rev-parse", "main"]);
    let e = review(&w);
    assert_eq!(e["data"]["decisions"][0]["decision"], "approve", "{e}");
    assert_ne!(git(&w.repo, &["rev-parse", "main"]), main, "merged");
    assert_eq!(w.queue()[0]["status"], "approved");
    let d = w.entries("review_decision");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["data"]["by"], "cto_review");
    assert!(!w.branches().contains(&branch));

    // A reject verdict deletes the next one, with the reasons.
    let (code, _, err) = w.run(&["cycle", "s2"]);
    assert_eq!(code, 0, "{err}");
    verdict(&w, "reject");
    review(&w);
    let q = w.queue();
    assert_eq!(q[1]["status"], "rejected", "{q:?}");
    assert!(
        q[1]["decision_reason"]
            .as_str()
            .unwrap()
            .starts_with("automated review:"),
        "{q:?}"
    );
    assert!(w.branches().is_empty());
}

#[test]
fn an_answer_without_a_verdict_is_unclear_and_decides_nothing() {
    let w = world(1, 1, "\n[review]\nmode = \"auto\"\n");
    verdict(&w, "maybe");
    let e = review(&w);
    let q = w.queue();
    assert_eq!(q[0]["review"]["verdict"], "unclear");
    assert_eq!(q[0]["status"], "pending", "unclear is never guessed");
    assert_eq!(e["data"]["decisions"][0]["decision"], "none");
    assert!(w.entries("review_decision").is_empty());
}

#[test]
fn a_newer_main_that_conflicts_makes_the_branch_conflict_and_no_reviewer_sees_it() {
    let w = world(1, 1, "");
    verdict(&w, "approve");
    // Main rewrites the line the branch fixed.
    std::fs::write(
        w.repo.join("f1.txt"),
        "ok line\nERR changed on main\nERR two\n",
    )
    .unwrap();
    git(&w.repo, &["commit", "-q", "-am", "main moves"]);
    let e = review(&w);
    assert_eq!(e["data"]["conflict"][0]["files"][0], "f1.txt", "{e}");
    let q = w.queue();
    assert_eq!(q[0]["status"], "conflict");
    assert_eq!(q[0]["conflict_files"][0], "f1.txt");
    assert!(
        prompts(&w, "review").is_empty(),
        "not offered to the reviewer"
    );
}

#[test]
fn a_newer_main_that_makes_the_branch_regress_makes_it_stale_with_the_figures() {
    let w = World::new(1);
    // The type check is a script in the repository, so main can change what it counts.
    std::fs::write(w.repo.join("tc.sh"), "cat f*.txt\n").unwrap();
    git(&w.repo, &["add", "tc.sh"]);
    git(&w.repo, &["commit", "-q", "-m", "tc.sh"]);
    let config =
        "\n[checks.typecheck]\ncommand = \"sh tc.sh\"\nparser = \"regex\"\nerrors = \"^ERR\"\n";
    w.write_config(1, &agent("fix_and_todo.sh"), 20, "");
    // Replace the default typecheck table with the script-based one.
    let text = std::fs::read_to_string(w.home.join("brl.toml")).unwrap();
    let text = text.replace(
        "[checks.typecheck]\ncommand = \"cat f*.txt\"\nparser = \"regex\"\nerrors = \"^ERR\"\n",
        config,
    );
    std::fs::write(w.home.join("brl.toml"), text).unwrap();
    let (code, out, err) = w.run(&["cycle", "s1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(w.queue()[0]["status"], "pending", "kept: one error fewer");
    // Main now counts TODO lines as errors: the branch's two TODOs outweigh its one fix.
    std::fs::write(w.repo.join("tc.sh"), "cat f*.txt | sed 's/^TODO/ERR/'\n").unwrap();
    git(&w.repo, &["commit", "-q", "-am", "TODOs count as errors"]);
    w.write_config(1, &agent("review_agent.sh"), 20, "");
    let text = std::fs::read_to_string(w.home.join("brl.toml")).unwrap();
    let text = text.replace(
        "[checks.typecheck]\ncommand = \"cat f*.txt\"\nparser = \"regex\"\nerrors = \"^ERR\"\n",
        config,
    );
    std::fs::write(w.home.join("brl.toml"), text).unwrap();
    verdict(&w, "approve");
    let e = review(&w);
    assert!(
        e["data"]["stale"][0]["why"]
            .as_str()
            .unwrap()
            .contains("errors 2 → 3"),
        "{e}"
    );
    let q = w.queue();
    assert_eq!(q[0]["status"], "stale");
    assert!(
        q[0]["decision_reason"]
            .as_str()
            .unwrap()
            .contains("errors 2 → 3")
    );
    assert!(
        prompts(&w, "review").is_empty(),
        "not offered to the reviewer"
    );
    // The re-check left no scratch branch in the user's repository.
    assert!(!git(&w.repo, &["branch", "--list"]).contains("recheck"));
    // A stale branch can still be rejected by a person.
    let branch = q[0]["branch"].as_str().unwrap().to_string();
    let (code, _, err) = w.run(&["queue", "reject", &branch]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_adversarial_style_keeps_three_texts_and_the_referee_decides() {
    let w = world(1, 1, "\n[review]\nstyle = \"adversarial\"\n");
    verdict(&w, "reject");
    let e = review(&w);
    assert_eq!(e["data"]["calls"], 3);
    let r = &w.queue()[0]["review"];
    assert_eq!(r["verdict"], "reject");
    let roles: Vec<&str> = r["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["review-enthusiast", "review-adversary", "review-referee"]
    );
    // The adversary saw the enthusiast's list; the referee saw both.
    assert!(prompts(&w, "review-adversary")[0].contains("It might break the parser"));
    let referee = &prompts(&w, "review-referee")[0];
    assert!(referee.contains("It might break the parser") && referee.contains("disproved"));
}

#[test]
fn off_reviews_nothing_and_two_runs_never_overlap() {
    let w = world(1, 1, "\n[review]\nmode = \"off\"\n");
    let e = review(&w);
    assert_eq!(e["data"]["mode"], "off");
    assert_eq!(e["data"]["calls"], 0);
    assert!(w.queue()[0]["review"].is_null());
    // While a run holds the job's lock, another refuses and logs nothing.
    let lock = brl::store::atomic::LockGuard::exclusive(&w.home.join("logs/locks/job-review.lock"))
        .expect("lock");
    let (code, _, err) = w.run(&["review"]);
    assert_ne!(code, 0);
    assert!(err.contains("already running"), "{err}");
    drop(lock);
    assert_eq!(w.entries("cto_review").len(), 1);
}

#[test]
fn the_control_room_runs_the_review_on_its_interval() {
    let mut room = common::room::Room::new(
        1,
        &agent("review_agent.sh"),
        "[review]\ninterval_secs = 2\n\n[scheduler]\ninterval_secs = 1\nself_plan = false\n",
    );
    room.up(&[]);
    common::room::wait_for(30, "two periodic reviews", || {
        room.entries("cto_review").len() >= 2
    });
    let (status, _) = room.stop();
    assert!(status.success());
    let reviews = room.entries("cto_review");
    assert!(
        reviews.iter().all(|e| e["data"]["ok"] == true),
        "{reviews:?}"
    );
}

#[test]
fn a_hanging_reviewer_is_stopped_at_the_jobs_time_limit_and_the_run_is_logged() {
    let w = world(1, 1, "\n[review]\ntimeout_secs = 10\n");
    verdict(&w, "hang");
    let start = std::time::Instant::now();
    let (code, _, err) = w.run(&["review"]);
    assert_ne!(code, 0);
    assert!(err.contains("ran out of its time"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(40));
    let e = w.entries("cto_review").pop().expect("one entry");
    assert_eq!(e["data"]["ok"], false);
    assert!(
        e["data"]["error"]
            .as_str()
            .unwrap()
            .contains("timeout_secs"),
        "{e}"
    );
    // Nothing was decided or stored.
    assert!(w.queue()[0]["review"].is_null());
    assert_eq!(w.queue()[0]["status"], "pending");
}
