//! The promises checked after every trial, each a named check that records violations (never a
//! panic): the log parses, each cycle is recorded once, kept branches and the queue agree, the
//! user's repository is clean on `main` with no lock files, no process of a dead cycle lives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::harness::{AgentRun, Trial, tagged};

/// The user's own untracked file in the target repository, which must survive everything.
pub const USER_FILE: &str = "user-notes.txt";
pub const USER_TEXT: &str = "the user's own notes, never committed\n";

pub fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .map_err(|e| format!("git {args:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "git {} in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Every line of the experiment log parses as JSON; returns the entries that do.
pub fn log_entries(home: &Path, t: &mut Trial) -> Vec<Value> {
    let path = home.join("logs/experiment-log.jsonl");
    let text = match std::fs::read(&path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return vec![],
        Err(e) => {
            t.violation("log_parses", format!("cannot read {}: {e}", path.display()));
            return vec![];
        }
    };
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match serde_json::from_str::<Value>(line) {
            Ok(v) => entries.push(v),
            Err(e) => t.violation(
                "log_parses",
                format!(
                    "{} line {}: {e}: {:.120}",
                    path.display(),
                    i + 1,
                    line.trim()
                ),
            ),
        }
    }
    if !text.is_empty() && !text.ends_with('\n') {
        t.violation(
            "log_parses",
            format!("{} ends in a partial line", path.display()),
        );
    }
    entries
}

pub fn of_kind<'a>(entries: &'a [Value], kind: &str) -> Vec<&'a Value> {
    entries.iter().filter(|e| e["type"] == kind).collect()
}

/// A cycle the harness knows started: its branch, who saw it (a distinct cycle per instance),
/// and its cycle id when brl gives one.
#[derive(Debug, Clone)]
pub struct Started {
    pub branch: String,
    pub instance: String,
    pub cycle_id: Option<String>,
}

/// Cycles seen by the agents' pid lines (one agent run = one cycle).
pub fn started_by_agents(runs: &[AgentRun]) -> Vec<Started> {
    runs.iter()
        .filter(|r| r.role == "agent")
        .map(|r| Started {
            branch: r.branch.clone(),
            instance: format!("agent:{}:{}", r.tag, r.pid),
            cycle_id: r.cycle_id.clone(),
        })
        .collect()
}

/// Each cycle is recorded exactly once. By `data.cycle_id` when the entries carry one (every id
/// once, every id seen started among them); always also by branch, where a branch seen by N
/// distinct cycles must have N entries (a reused name shows as a count mismatch).
/// Returns which keying applied ("cycle_id" or "branch").
pub fn cycles_once(entries: &[Value], started: &[Started], t: &mut Trial) -> &'static str {
    let cycles = of_kind(entries, "ralph_cycle");
    let ids: Vec<String> = cycles
        .iter()
        .filter_map(|c| c["data"]["cycle_id"].as_str().map(String::from))
        .collect();
    let keyed = if ids.is_empty() { "branch" } else { "cycle_id" };
    if !ids.is_empty() {
        if ids.len() < cycles.len() {
            t.violation(
                "cycle_recorded_once",
                format!(
                    "{} of {} ralph_cycle entries have no data.cycle_id",
                    cycles.len() - ids.len(),
                    cycles.len()
                ),
            );
        }
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for id in &ids {
            *count.entry(id).or_default() += 1;
        }
        for (id, n) in count.iter().filter(|(_, n)| **n > 1) {
            t.violation(
                "cycle_recorded_once",
                format!("cycle id {id} is recorded {n} times"),
            );
        }
        let seen: BTreeSet<&str> = started
            .iter()
            .filter_map(|s| s.cycle_id.as_deref())
            .collect();
        for id in seen.iter().filter(|id| !count.contains_key(*id)) {
            t.violation(
                "cycle_recorded_once",
                format!("cycle id {id} started but has no ralph_cycle entry"),
            );
        }
    }
    let mut by_branch: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in started {
        // One cycle seen twice (its marker and its agent's pid line) is one cycle: its id says so.
        by_branch
            .entry(s.branch.clone())
            .or_default()
            .insert(s.cycle_id.clone().unwrap_or_else(|| s.instance.clone()));
    }
    let mut recorded: BTreeMap<String, usize> = BTreeMap::new();
    for c in &cycles {
        if let Some(b) = c["data"]["branch"].as_str() {
            *recorded.entry(b.to_string()).or_default() += 1;
        }
    }
    for (b, instances) in &by_branch {
        let n = recorded.get(b).copied().unwrap_or(0);
        if n != instances.len() {
            t.violation(
                "cycle_recorded_once",
                format!(
                    "branch {b}: {} cycle(s) ran on it, {n} ralph_cycle entr{} ({})",
                    instances.len(),
                    if n == 1 { "y" } else { "ies" },
                    if n == 0 {
                        "never recorded"
                    } else if n < instances.len() {
                        "a reused name hides a cycle"
                    } else {
                        "recorded twice"
                    }
                ),
            );
        }
    }
    for (b, n) in recorded.iter().filter(|(b, _)| !by_branch.contains_key(*b)) {
        if *n > 1 {
            t.violation(
                "cycle_recorded_once",
                format!("branch {b} has {n} ralph_cycle entries"),
            );
        }
    }
    keyed
}

/// `brl queue list --json`, parsed; a failure is a violation (the queue must stay readable).
pub fn queue(home: &Path, tag: &str, t: &mut Trial) -> Option<Vec<Value>> {
    let mut c = crate::harness::brl(home, tag);
    c.args(["queue", "list", "--json"]);
    let ran = crate::harness::run_limited(c, std::time::Duration::from_secs(30));
    if !ran.ok() {
        t.violation(
            "next_command_ok",
            format!("brl queue list --json: {}", ran.describe()),
        );
        return None;
    }
    match serde_json::from_str::<Vec<Value>>(&ran.out) {
        Ok(q) => Some(q),
        Err(e) => {
            t.violation(
                "next_command_ok",
                format!("brl queue list --json printed no JSON list: {e}"),
            );
            None
        }
    }
}

pub fn brl_branches(repo: &Path, t: &mut Trial) -> Vec<String> {
    match git(
        repo,
        &[
            "for-each-ref",
            "--format=%(refname:short)",
            "refs/heads/brl/",
        ],
    ) {
        Ok(s) => s.lines().map(String::from).collect(),
        Err(e) => {
            t.violation("repo_readable", e);
            vec![]
        }
    }
}

/// Every kept branch is in the queue, and every open queue entry's branch exists. `in_flight`:
/// branches of cycles still running (not expected in the queue yet).
pub fn queue_matches_branches(
    repo: &Path,
    entries: &[Value],
    queue: &[Value],
    in_flight: &BTreeSet<String>,
    t: &mut Trial,
) {
    let branches: BTreeSet<String> = brl_branches(repo, t).into_iter().collect();
    let queued: BTreeSet<&str> = queue.iter().filter_map(|q| q["branch"].as_str()).collect();
    for b in branches.iter().filter(|b| !in_flight.contains(*b)) {
        if !queued.contains(b.as_str()) {
            t.violation(
                "kept_branch_queued",
                format!("branch {b} exists but is not in the review queue"),
            );
        }
    }
    for c in of_kind(entries, "ralph_cycle") {
        let (Some(b), Some("kept")) = (c["data"]["branch"].as_str(), c["data"]["outcome"].as_str())
        else {
            continue;
        };
        if !queued.contains(b) {
            t.violation(
                "kept_branch_queued",
                format!("cycle on {b} was logged kept but {b} is not in the review queue"),
            );
        }
    }
    for q in queue {
        let (Some(b), Some(status)) = (q["branch"].as_str(), q["status"].as_str()) else {
            t.violation(
                "pending_has_branch",
                format!("a queue entry without branch/status: {q}"),
            );
            continue;
        };
        if matches!(status, "pending" | "conflict" | "stale") && !branches.contains(b) {
            t.violation(
                "pending_has_branch",
                format!("queue entry {b} is {status} but the branch does not exist"),
            );
        }
    }
}

/// The user's repository: HEAD on main, `git status` clean but for the user's own untracked
/// file (which still holds its text), no `*.lock` anywhere under `.git`.
pub fn user_repo(repo: &Path, main: &str, t: &mut Trial) {
    match git(repo, &["symbolic-ref", "--short", "HEAD"]) {
        Ok(h) if h == main => {}
        Ok(h) => t.violation("head_on_main", format!("HEAD of {} is {h}", repo.display())),
        Err(e) => t.violation("head_on_main", e),
    }
    match git(repo, &["status", "--porcelain", "--untracked-files=all"]) {
        Ok(s) => {
            let other: Vec<&str> = s
                .lines()
                .filter(|l| *l != format!("?? {USER_FILE}"))
                .collect();
            if !other.is_empty() {
                t.violation(
                    "repo_clean",
                    format!(
                        "git status in {}: {}",
                        repo.display(),
                        other
                            .iter()
                            .take(6)
                            .copied()
                            .collect::<Vec<_>>()
                            .join(" | ")
                    ),
                );
            }
        }
        Err(e) => t.violation("repo_clean", e),
    }
    match std::fs::read_to_string(repo.join(USER_FILE)) {
        Ok(s) if s == USER_TEXT => {}
        Ok(_) => t.violation("user_file_survives", format!("{USER_FILE} was changed")),
        Err(e) => t.violation("user_file_survives", format!("{USER_FILE}: {e}")),
    }
    let mut locks = Vec::new();
    find_locks(&repo.join(".git"), &mut locks);
    if !locks.is_empty() {
        t.violation(
            "no_git_locks",
            format!("lock files left: {}", locks.join(", ")),
        );
    }
}

fn find_locks(dir: &Path, found: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(ft) if ft.is_dir() => find_locks(&p, found),
            Ok(_) if p.extension().is_some_and(|x| x == "lock") => {
                found.push(p.display().to_string())
            }
            _ => {}
        }
    }
}

/// No process of the given (dead or finished) trial tags is alive: neither one carrying a tag in
/// its environment, nor one whose pid a chaos agent wrote to `<home>/chaos-pids.txt` (still the
/// agent's script or its `sleep` child, so a reused pid is not taken for it).
pub fn no_processes(home: &Path, tags: &[&str], what: &str, t: &mut Trial) {
    for run in crate::harness::agent_runs(home)
        .iter()
        .filter(|r| tags.contains(&r.tag.as_str()))
    {
        if matches!(crate::harness::proc_state(run.pid), None | Some('Z')) {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{}/cmdline", run.pid))
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .unwrap_or_default();
        if cmd.contains("chaos_") || cmd.starts_with("sleep") {
            t.violation(
                "no_orphan_process",
                format!(
                    "{what}: the {} {} of the cycle on {} still runs (`{}`)",
                    run.role,
                    run.pid,
                    run.branch,
                    cmd.trim()
                ),
            );
        }
    }
    for tag in tags {
        let left = tagged(tag);
        if !left.is_empty() {
            t.violation(
                "no_orphan_process",
                format!(
                    "{what}: still alive: {}",
                    left.iter()
                        .map(|(p, c)| format!("{p} `{c:.60}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
}
