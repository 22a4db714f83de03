//! One cycle at a time on a real repository, with fake agents: every outcome, the queue entry, the
//! log entry, and the target repo's working tree left untouched.

mod common;

use common::{World, agent, git};

fn one_cycle(w: &World, session: &str) -> serde_json::Value {
    let (code, out, err) = w.run(&["cycle", session, "--quiet"]);
    assert_eq!(code, 0, "brl cycle failed: {out}\n{err}");
    assert_eq!(out.lines().count(), 1, "one summary line: {out}");
    w.cycles().pop().expect("a ralph_cycle entry")
}

#[test]
fn fixing_one_error_is_kept_and_queued() {
    let w = World::new(1);
    let before = w.snapshot();
    let e = one_cycle(&w, "s1");
    let d = &e["data"];
    assert_eq!(d["outcome"], "kept", "{e}");
    assert_eq!(e["session"], "s1");
    assert_eq!(d["before"]["errors"], 2);
    assert_eq!(d["after"]["errors"], 1);
    assert_eq!(d["before"]["failures"], 1);
    assert_eq!(d["before"]["passed"], 2);
    assert_eq!(d["reason"], "errors 2 → 1");
    assert_eq!(d["commits"], 1);
    for phase in ["read", "analyze", "hack", "evaluate", "total"] {
        assert!(d["duration_ms"][phase].is_u64(), "duration of {phase}: {e}");
    }
    let branch = d["branch"].as_str().expect("branch");
    assert!(
        branch.starts_with("brl/s1/") && branch.len() == "brl/s1/20260101-120000".len(),
        "{branch}"
    );
    assert_eq!(w.branches(), vec![branch.to_string()]);
    assert_eq!(
        git(&w.repo, &["rev-parse", branch]),
        d["head"].as_str().expect("head")
    );
    assert_eq!(
        git(&w.repo, &["rev-parse", "main"]),
        d["base"].as_str().expect("base")
    );
    let q = w.queue();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["branch"], branch);
    assert_eq!(q[0]["status"], "pending");
    assert_eq!(q[0]["after"]["errors"], 1);
    assert_eq!(
        w.snapshot(),
        before,
        "the target repo's working tree was touched"
    );
    // The agent got the prompt on stdin and the BRL_* variables.
    let prompt = std::fs::read_to_string(w.home.join("prompt-s1.txt")).expect("prompt");
    assert!(
        prompt.contains(branch)
            && prompt.contains("2 errors")
            && prompt.contains("Context: fix ERR lines."),
        "{prompt}"
    );
    let env = std::fs::read_to_string(w.home.join("env-s1.txt")).expect("env");
    for var in [
        "BRL_HOME=",
        "BRL_SESSION=s1",
        &format!("BRL_BRANCH={branch}"),
        "BRL_ROLE=ralph",
    ] {
        assert!(env.contains(var), "{var} missing in {env}");
    }
    // The agent's output was saved.
    let output =
        std::fs::read_to_string(d["output"].as_str().expect("output path")).expect("saved output");
    assert!(output.contains("fixed one error in f1.txt"));
}

#[test]
fn a_second_cycle_reuses_the_baseline_and_sees_the_others() {
    let w = World::new(2);
    one_cycle(&w, "s1");
    let e = one_cycle(&w, "s2");
    assert_eq!(e["data"]["baseline_cached"], true, "{e}");
    let prompt = std::fs::read_to_string(w.home.join("prompt-s2.txt")).expect("prompt");
    assert!(
        prompt.contains("s1 kept brl/s1/"),
        "the other session's cycle is in the prompt: {prompt}"
    );
}

#[test]
fn adding_an_error_is_discarded_with_the_reason() {
    let w = World::new(1);
    w.write_config(1, &agent("add_error.sh"), 20, "");
    let before = w.snapshot();
    let e = one_cycle(&w, "s1");
    assert_eq!(e["data"]["outcome"], "discarded", "{e}");
    assert_eq!(e["data"]["reason"], "errors 2 → 3");
    assert_eq!(e["data"]["branch_deleted"], true);
    assert!(w.branches().is_empty());
    assert!(w.queue().is_empty());
    assert_eq!(w.snapshot(), before);
}

#[test]
fn breaking_a_test_is_discarded_even_when_errors_drop() {
    let w = World::new(1);
    w.write_config(1, &agent("break_tests.sh"), 20, "");
    let e = one_cycle(&w, "s1");
    assert_eq!(e["data"]["outcome"], "discarded", "{e}");
    assert_eq!(e["data"]["reason"], "failures 1 → 2, passed 2 → 1");
}

#[test]
fn no_change_and_agent_failed() {
    let w = World::new(1);
    let before = w.snapshot();
    w.write_config(1, &agent("no_change.sh"), 20, "");
    assert_eq!(one_cycle(&w, "s1")["data"]["outcome"], "no_change");
    w.write_config(1, &agent("fail.sh"), 20, "");
    let e = one_cycle(&w, "s1");
    assert_eq!(e["data"]["outcome"], "agent_failed", "{e}");
    assert_eq!(
        e["data"]["reason"],
        "the agent exited with code 3 and changed nothing"
    );
    assert!(w.branches().is_empty());
    assert_eq!(w.snapshot(), before);
}

#[test]
fn a_hanging_agent_times_out_and_leaves_no_process() {
    let w = World::new(1);
    w.write_config(1, &agent("hang.sh"), 2, "");
    let start = std::time::Instant::now();
    let e = one_cycle(&w, "s1");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(e["data"]["outcome"], "timeout", "{e}");
    assert!(w.branches().is_empty());
    w.assert_hang_agent_gone();
}

#[test]
fn uncommitted_changes_are_committed_by_brl_and_evaluated() {
    let w = World::new(1);
    w.write_config(1, &agent("uncommitted.sh"), 20, "");
    let e = one_cycle(&w, "s1");
    let d = &e["data"];
    assert_eq!(d["outcome"], "kept", "{e}");
    assert_eq!(d["committed_by_brl"], true);
    assert_eq!(d["after"]["errors"], 1);
    let branch = d["branch"].as_str().expect("branch");
    let msg = git(&w.repo, &["log", "-1", "--format=%B", branch]);
    assert!(msg.contains("left uncommitted"), "{msg}");
    let files = git(&w.repo, &["show", "--name-only", "--format=", branch]);
    assert!(
        files.contains("notes.txt") && files.contains("f1.txt"),
        "{files}"
    );
}

#[test]
fn claude_json_figures_go_into_the_entry() {
    let w = World::new(1);
    w.write_config(1, &agent("claude_json.sh"), 20, "");
    let e = one_cycle(&w, "s1");
    assert_eq!(e["data"]["outcome"], "kept");
    assert_eq!(e["data"]["cost_usd"], 0.0312);
    assert_eq!(e["data"]["num_turns"], 4);
    assert_eq!(e["data"]["agent"]["session_id"], "sess-1");
    assert_eq!(e["data"]["agent"]["preset"], "custom");
    assert_eq!(e["data"]["cost_source"], "reported");
}

#[test]
fn cycle_that_cannot_run_exits_non_zero_with_the_reason() {
    let w = World::new(1);
    let (code, _, err) = w.run(&["cycle", "s9"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("unknown session `s9`") && err.contains("s1..s1"),
        "{err}"
    );
    std::fs::remove_dir_all(w.repo.join(".git")).expect("rm");
    let (code, _, err) = w.run(&["cycle", "s1"]);
    assert_ne!(code, 0);
    assert!(err.contains(&w.repo.display().to_string()), "{err}");
}

#[test]
fn eight_concurrent_cycles_make_eight_queue_entries() {
    let w = World::new(8);
    let handles: Vec<_> = (1..=8)
        .map(|i| {
            let home = w.home.clone();
            std::thread::spawn(move || {
                std::process::Command::new(assert_cmd::cargo::cargo_bin("brl"))
                    .args([
                        "--home",
                        &home.display().to_string(),
                        "cycle",
                        &format!("s{i}"),
                        "--quiet",
                    ])
                    .env_remove("BRL_HOME")
                    .output()
                    .expect("brl runs")
            })
        })
        .collect();
    for h in handles {
        let out = h.join().expect("thread");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let q = w.queue();
    assert_eq!(q.len(), 8, "{q:#?}");
    assert!(q.iter().all(|e| e["status"] == "pending"));
    let cycles = w.cycles();
    assert_eq!(cycles.len(), 8);
    assert!(
        cycles
            .iter()
            .all(|c| c["data"]["reason"] == "errors 16 → 15"),
        "{cycles:#?}"
    );
    assert_eq!(w.branches().len(), 8);
}

#[test]
fn type_checks_never_exceed_the_semaphore_across_processes() {
    let w = World::new(3);
    let record = w.home.join("typecheck-times.txt");
    let tc = format!(
        "echo start $(date +%s%N) >> '{r}'; sleep 0.4; cat f*.txt; echo end $(date +%s%N) >> '{r}'",
        r = record.display()
    );
    let good = std::fs::read_to_string(w.home.join("brl.toml")).expect("config");
    let text = good
        .replace("command = \"cat f*.txt\"", &format!("command = \"{tc}\""))
        .replace("max_parallel_typechecks = 2", "max_parallel_typechecks = 1");
    std::fs::write(w.home.join("brl.toml"), text).expect("write");
    let handles: Vec<_> = (1..=3)
        .map(|i| {
            let mut c = w.spawnable();
            std::thread::spawn(move || {
                c.args(["cycle", &format!("s{i}"), "--quiet"])
                    .output()
                    .expect("runs")
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().expect("thread").status.success());
    }
    let mut events: Vec<(u128, i32)> = std::fs::read_to_string(&record)
        .expect("record")
        .lines()
        .map(|l| {
            let (what, t) = l.split_once(' ').expect("event");
            (
                t.parse().expect("time"),
                if what == "start" { 1 } else { -1 },
            )
        })
        .collect();
    events.sort();
    // One baseline run plus one run after each of the three changes.
    assert_eq!(events.len(), 8, "{events:?}");
    let mut running = 0;
    for (_, d) in events {
        running += d;
        assert!(running <= 1, "two type checks ran at once");
    }
    assert!(w.queue().len() == 3);
}

#[test]
fn an_error_after_the_agent_committed_keeps_its_commits_out_of_the_brl_branches() {
    let w = World::new(1);
    w.write_config(1, &agent("commit_then_leave.sh"), 20, "");
    let e = one_cycle(&w, "s1");
    let d = &e["data"];
    assert_eq!(d["outcome"], "error", "{e}");
    let reason = d["reason"].as_str().expect("reason");
    assert!(reason.contains("agent-wandered-off"), "{reason}");
    // Every brl/* branch is one the review queue holds; the commit is kept under a ref of brl's.
    assert!(w.branches().is_empty(), "{:?}", w.branches());
    assert!(w.queue().is_empty());
    let id = d["cycle_id"].as_str().expect("cycle_id");
    let kept = format!("refs/brl/unjudged/{id}");
    let subject = git(&w.repo, &["log", "-1", "--format=%s", &kept]);
    assert_eq!(subject.trim(), "fix one error in f1.txt");
    let notes = d["notes"].to_string();
    assert!(notes.contains(&kept), "{notes}");
}

#[test]
fn agent_state_left_in_the_worktree_never_enters_the_branch() {
    let w = World::new(1);
    w.write_config(1, &agent("leave_state.sh"), 20, "");
    let e = one_cycle(&w, "s1");
    let d = &e["data"];
    assert_eq!(d["outcome"], "kept", "{e}");
    assert_eq!(d["committed_by_brl"], true, "{e}");
    let branch = d["branch"].as_str().expect("branch");
    let files = git(&w.repo, &["ls-tree", "-r", "--name-only", branch]);
    assert!(files.contains("f1.txt"), "{files}");
    for state in [
        ".aider.chat.history.md",
        ".aider.tags.cache.v4",
        ".claude/settings.local.json",
    ] {
        assert!(!files.contains(state), "{state} committed: {files}");
    }
    // Still in the worktree for the agent's next run, untracked.
    let wt = w.home.join("worktrees/s1");
    assert!(wt.join(".aider.chat.history.md").exists());
    assert!(wt.join(".claude/settings.local.json").exists());
    // And the next cycle starts cleanly in that worktree.
    w.write_config(1, &agent("fix_one.sh"), 20, "");
    let e = one_cycle(&w, "s1");
    assert_eq!(e["data"]["outcome"], "kept", "{e}");
}
