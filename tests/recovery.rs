//! A `brl cycle` killed (SIGKILL) at each of its crash points, then the session's next cycle:
//! every cycle recorded exactly once by its id, no process of the dead cycle left, its agent's
//! commit never in the next cycle's branch, no git lock file left, and the next cycle ends
//! normally. Also: stale git locks repaired, broken worktrees recreated, and a session that cannot
//! be repaired shown as blocked. Real git, the real binary, fake agents from `tests/agents/`.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use brl::home::Home;
use common::{World, agent, git};
use serde_json::Value;

fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn state_of(pid: u32) -> Option<char> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    text.rsplit(')')
        .next()?
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

/// Start `brl cycle s1` that stops itself at `point`; wait until it is stopped, then SIGKILL it.
fn kill_at(w: &World, point: &str) {
    assert!(
        brl::chaos::POINTS.contains(&point),
        "{point} is not a crash point"
    );
    let mut child: Child = w
        .spawnable()
        .args(["cycle", "s1", "--quiet"])
        .env(brl::chaos::ENV, point)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn brl cycle");
    let pid = child.id();
    wait_for(60, &format!("brl cycle to stop at {point}"), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("brl cycle ended ({status}) before reaching {point}");
        }
        state_of(pid) == Some('T')
    });
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
}

/// `brl cycle s1` to its end; its entry.
fn next_cycle(w: &World) -> Value {
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "the next cycle could not run: {out}{err}");
    w.cycles().pop().expect("an entry")
}

/// Every `ralph_cycle` entry has an id, and no id is recorded twice.
fn ids_once(w: &World) -> Vec<String> {
    let ids: Vec<String> = w
        .cycles()
        .iter()
        .map(|c| {
            c["data"]["cycle_id"]
                .as_str()
                .unwrap_or_else(|| panic!("an entry without a cycle id: {c}"))
                .to_string()
        })
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a cycle recorded twice: {ids:?}");
    ids
}

fn lock_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            lock_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "lock") {
            out.push(p);
        }
    }
}

fn assert_no_git_locks(w: &World) {
    let mut found = Vec::new();
    lock_files(&w.repo.join(".git"), &mut found);
    assert!(found.is_empty(), "git lock files left: {found:?}");
}

/// No agent of any cycle runs, and nothing runs in the session's worktree.
fn assert_no_agent_left(w: &World) {
    let pids = std::fs::read_to_string(w.home.join("agent-pids.txt")).unwrap_or_default();
    for pid in pids.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
        assert!(
            !brl::proc::is_running(pid),
            "agent {pid} outlived its cycle"
        );
    }
    let wt = w
        .home
        .join("worktrees/s1")
        .canonicalize()
        .unwrap_or_else(|_| w.home.join("worktrees/s1"));
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if let Ok(cwd) = std::fs::read_link(format!("/proc/{pid}/cwd"))
            && cwd.starts_with(&wt)
            && brl::proc::is_running(pid)
        {
            panic!("process {pid} still runs in the worktree {}", wt.display());
        }
    }
}

/// The kept branch's commits are all its own agent's (or brl's for it), none of a dead cycle.
fn assert_only_own_commits(w: &World, entry: &Value) {
    let d = &entry["data"];
    let branch = d["branch"].as_str().expect("branch");
    let log = git(
        &w.repo,
        &[
            "log",
            "--format=%s",
            &format!("{}..{branch}", d["base"].as_str().expect("base")),
        ],
    );
    for subject in log.lines() {
        assert!(
            subject.contains(branch) || subject.starts_with("brl: commit the changes the agent"),
            "{branch} holds a commit of another cycle: {subject:?}\n{log}"
        );
    }
}

fn world() -> World {
    let w = World::new(1);
    w.write_config(1, &agent("pid_fix_leftover.sh"), 60, "");
    w
}

/// One trial: kill at `point`, run the next cycle, check everything. Returns the entries.
fn trial(point: &str) -> (World, Vec<Value>) {
    let w = world();
    kill_at(&w, point);
    let next = next_cycle(&w);
    assert_eq!(
        next["data"]["outcome"], "kept",
        "after a kill at {point}: {next}"
    );
    assert_only_own_commits(&w, &next);
    let ids = ids_once(&w);
    assert_eq!(ids.len(), 2, "after {point}: {:#?}", w.cycles());
    assert_no_agent_left(&w);
    assert_no_git_locks(&w);
    assert!(
        !w.home.join("logs/sessions/s1/inflight.json").exists(),
        "the marker is cleared"
    );
    // Every kept branch of the queue exists.
    for q in w.queue() {
        let b = q["branch"].as_str().expect("branch");
        assert!(w.branches().iter().any(|x| x == b), "{b} queued but gone");
    }
    let cycles = w.cycles();
    (w, cycles)
}

#[test]
fn killed_after_the_branch_exists() {
    let (w, c) = trial("cycle:after-branch");
    assert_eq!(c[0]["data"]["outcome"], "error");
    assert_eq!(c[0]["data"]["recovered"], true);
    assert_eq!(c[0]["data"]["branch_deleted"], true);
    assert_eq!(w.branches().len(), 1, "only the next cycle's kept branch");
}

#[test]
fn killed_after_the_agent_spawned_before_its_group_was_recorded() {
    let (w, c) = trial("cycle:after-agent-spawn");
    assert_eq!(c[0]["data"]["recovered"], true);
    assert_eq!(
        c[0]["data"]["commits"], 0,
        "the dead cycle's agent never ran"
    );
    let pids = std::fs::read_to_string(w.home.join("agent-pids.txt")).expect("pids");
    assert_eq!(
        pids.lines().count(),
        1,
        "only the next cycle's agent ran: {pids}"
    );
}

#[test]
fn killed_after_the_agent_group_was_recorded() {
    let (w, c) = trial("cycle:after-agent-recorded");
    assert_eq!(c[0]["data"]["recovered"], true);
    assert_eq!(c[0]["data"]["commits"], 0);
    let pids = std::fs::read_to_string(w.home.join("agent-pids.txt")).expect("pids");
    assert_eq!(
        pids.lines().count(),
        1,
        "only the next cycle's agent ran: {pids}"
    );
}

#[test]
fn killed_before_the_leftover_commit_keeps_the_leftover() {
    let (w, c) = trial("cycle:before-leftover-commit");
    let d = &c[0]["data"];
    assert_eq!(d["recovered"], true);
    assert_eq!(d["committed_by_brl"], true, "{d}");
    assert_eq!(d["commits"], 2, "the agent's commit and its leftover: {d}");
    let dead = d["branch"].as_str().expect("branch");
    assert!(
        !w.branches().iter().any(|b| b == dead),
        "not a brl/* branch outside the review queue"
    );
    let kept = kept_ref(d);
    let files = git(&w.repo, &["show", "--name-only", "--format=", &kept]);
    assert!(files.contains("leftover.txt"), "{files}");
}

#[test]
fn killed_after_the_leftover_commit() {
    let (w, c) = trial("cycle:after-leftover-commit");
    let d = &c[0]["data"];
    assert_eq!(d["recovered"], true);
    assert_eq!(d["commits"], 2, "{d}");
    let dead = d["branch"].as_str().expect("branch");
    assert!(
        !w.branches().iter().any(|b| b == dead),
        "{dead} left as a branch"
    );
    let kept = kept_ref(d);
    let n = git(&w.repo, &["rev-list", "--count", &format!("main..{kept}")]);
    assert_eq!(n.trim(), "2", "both commits kept under {kept}");
}

/// The ref a dead cycle's commits were kept under: `refs/brl/unjudged/<its cycle id>`.
fn kept_ref(d: &serde_json::Value) -> String {
    let kept = d["kept_as"].as_str().expect("kept_as").to_string();
    let id = d["cycle_id"].as_str().expect("cycle_id");
    assert_eq!(kept, format!("refs/brl/unjudged/{id}"), "{d}");
    kept
}

#[test]
fn killed_before_the_log_entry() {
    let (w, c) = trial("cycle:before-log");
    let d = &c[0]["data"];
    assert_eq!(d["recovered"], true);
    // It had decided `kept` and queued its branch before it died: recorded as such.
    assert_eq!(d["outcome"], "kept", "{d}");
    let q = w.queue();
    assert_eq!(q.len(), 2, "both kept branches are queued: {q:#?}");
    assert_eq!(q[0]["cycle_id"], d["cycle_id"]);
}

#[test]
fn killed_after_the_log_entry() {
    let (_w, c) = trial("cycle:after-log");
    let d = &c[0]["data"];
    assert_eq!(d["outcome"], "kept", "its own entry, not a recovery: {d}");
    assert!(d["recovered"].is_null(), "{d}");
}

#[test]
fn two_kills_in_the_same_second_get_two_names_and_two_ids() {
    let w = world();
    kill_at(&w, "cycle:after-branch");
    kill_at(&w, "cycle:after-branch");
    let next = next_cycle(&w);
    assert_eq!(next["data"]["outcome"], "kept");
    let cycles = w.cycles();
    assert_eq!(cycles.len(), 3, "{cycles:#?}");
    ids_once(&w);
    let names: HashSet<&str> = cycles
        .iter()
        .map(|c| c["data"]["branch"].as_str().expect("branch"))
        .collect();
    assert_eq!(names.len(), 3, "a branch name was reused: {names:?}");
    assert_eq!(
        cycles
            .iter()
            .filter(|c| c["data"]["recovered"] == true)
            .count(),
        2,
        "both dead cycles are recorded"
    );
    assert_no_git_locks(&w);
}

fn worktree_gitdir(w: &World) -> PathBuf {
    let name = Home::new(&w.home).worktree_name("s1");
    w.repo.join(".git/worktrees").join(name)
}

#[test]
fn a_stale_index_lock_in_the_worktree_is_repaired() {
    let w = world();
    assert_eq!(next_cycle(&w)["data"]["outcome"], "kept");
    let gitdir = worktree_gitdir(&w);
    assert!(gitdir.is_dir(), "{}", gitdir.display());
    std::fs::write(gitdir.join("index.lock"), "").expect("plant index.lock");
    std::fs::write(gitdir.join("HEAD.lock"), "").expect("plant HEAD.lock");
    let next = next_cycle(&w);
    assert_eq!(next["data"]["outcome"], "kept", "{next}");
    assert_no_git_locks(&w);
    assert!(w.entries("session_blocked").is_empty());
}

#[test]
fn a_worktree_with_a_broken_git_pointer_is_recreated() {
    let w = world();
    assert_eq!(next_cycle(&w)["data"]["outcome"], "kept");
    let wt = w.home.join("worktrees/s1");
    std::fs::write(wt.join(".git"), "gitdir: /nonexistent/nowhere\n").expect("break .git");
    let next = next_cycle(&w);
    assert_eq!(next["data"]["outcome"], "kept", "{next}");
    assert_eq!(
        git(&wt, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "HEAD",
        "a working worktree again (detached after the cycle)"
    );
    let aside: Vec<_> = std::fs::read_dir(w.home.join("worktrees"))
        .expect("worktrees")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("s1.broken-"))
        .collect();
    assert_eq!(aside.len(), 1, "the broken one is kept aside, not deleted");
}

#[test]
fn an_unrepairable_session_is_blocked_then_unblocks() {
    let w = world();
    assert_eq!(next_cycle(&w)["data"]["outcome"], "kept");
    // Something brl will not remove on its own stands where the worktree should be.
    let wt = w.home.join("worktrees/s1");
    std::fs::rename(&wt, w.home.join("moved-by-hand")).expect("move");
    std::fs::write(&wt, "a file a person put here").expect("a file in the way");
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("BLOCKED"), "{err}");
    let blocked = w.entries("session_blocked");
    assert_eq!(blocked.len(), 1, "{blocked:#?}");
    let reason = blocked[0]["data"]["reason"].as_str().expect("reason");
    assert!(
        reason.contains("worktrees/s1"),
        "the reason names the worktree: {reason}"
    );
    // Again: still blocked, no second entry for the same reason.
    w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(w.entries("session_blocked").len(), 1);
    let (_, status, _) = w.run(&["status"]);
    assert!(
        status.contains("BLOCKED") && status.contains("worktrees/s1"),
        "{status}"
    );
    let (_, json, _) = w.run(&["status", "--json"]);
    let v: Value = serde_json::from_str(&json).expect("status json");
    assert!(
        v["sessions"][0]["blocked"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("worktrees/s1")),
        "{v}"
    );
    // A person removes the file: the next cycle succeeds and lifts the block.
    std::fs::remove_file(&wt).expect("remove the file");
    assert_eq!(next_cycle(&w)["data"]["outcome"], "kept");
    assert_eq!(w.entries("session_unblocked").len(), 1);
    let (_, status, _) = w.run(&["status"]);
    assert!(!status.contains("BLOCKED"), "{status}");
    ids_once(&w);
}

/// brl killed while its agent runs, the group file lost too (as a kill in the old window between
/// spawn and recording left it): the next cycle still finds the agent by its working directory,
/// kills it before it can commit, and its commit never lands anywhere.
#[test]
fn an_agent_left_running_unrecorded_is_found_in_the_worktree_and_killed() {
    let w = world();
    let mut child = w
        .spawnable()
        .args(["cycle", "s1", "--quiet"])
        .env("BRL_TEST_AGENT_SECS", "4")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn brl cycle");
    let pids = w.home.join("agent-pids.txt");
    wait_for(30, "the agent to start", || pids.exists());
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let dead_agent: i32 = std::fs::read_to_string(&pids)
        .expect("pid")
        .trim()
        .parse()
        .expect("a pid");
    assert!(brl::proc::is_running(dead_agent), "the orphan still runs");
    std::fs::remove_file(w.home.join("logs/sessions/s1/running.pgid")).expect("lose it");
    let next = next_cycle(&w);
    assert!(!brl::proc::is_running(dead_agent), "the orphan was killed");
    assert_eq!(next["data"]["outcome"], "kept", "{next}");
    assert_only_own_commits(&w, &next);
    ids_once(&w);
    // Long after, the orphan's commit has not appeared on any branch.
    std::thread::sleep(Duration::from_secs(5));
    let all = git(&w.repo, &["log", "--all", "--format=%s"]);
    let dead_branch = w.cycles()[0]["data"]["branch"]
        .as_str()
        .expect("branch")
        .to_string();
    assert!(
        !all.lines()
            .any(|l| l.ends_with(&format!(" on {dead_branch}"))),
        "the dead cycle's agent committed after all: {all}"
    );
    assert_no_agent_left(&w);
    assert_no_git_locks(&w);
}

/// Recovery itself cannot proceed (something that is not a marker stands where the in-flight
/// marker goes): the cycle does not start, the session is blocked with the path, and it
/// unblocks once the path is cleared.
#[test]
fn a_recovery_that_cannot_proceed_blocks_the_session() {
    let w = world();
    let marker = w.home.join("logs/sessions/s1/inflight.json");
    std::fs::create_dir_all(&marker).expect("a directory where the marker goes");
    let (code, _, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_ne!(code, 0, "the cycle cannot start");
    assert!(
        err.contains("blocked") && err.contains("inflight.json"),
        "{err}"
    );
    assert!(w.cycles().is_empty());
    let blocked = w.entries("session_blocked");
    assert_eq!(blocked.len(), 1);
    assert!(
        blocked[0]["data"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("inflight.json")),
        "{blocked:?}"
    );
    let (_, status, _) = w.run(&["status"]);
    assert!(status.contains("BLOCKED"), "{status}");
    std::fs::remove_dir(&marker).expect("clear it");
    assert_eq!(next_cycle(&w)["data"]["outcome"], "kept");
    assert_eq!(w.entries("session_unblocked").len(), 1);
}
