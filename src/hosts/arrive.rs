//! What a collected entry brings to the control host, each step idempotent so that a pass killed
//! anywhere and run again does it once: a kept branch fetched over git into the control repo and
//! added to the central review queue (a branch already queued is neither fetched nor added
//! again), a task's result applied to the central task queue (only to the run it belongs to),
//! and `main` pushed to the host's clone.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::Value;

use crate::home::Home;
use crate::hosts::Ssh;
use crate::hosts::ssh::SshError;
use crate::outcome::Counts;
use crate::store::log::Entry;
use crate::store::queue::{Queue, QueueEntry, Status};
use crate::store::tasks::{TaskState, Tasks};

/// How far the host's clock may be ahead of the control host's when telling a task's run from a
/// later one (a task claimed again after the cycle's entry was written is not that cycle's).
const CLOCK_SLACK_SECS: i64 = 120;

/// The branch a `ralph_cycle` entry kept for review (it went to the host's review queue).
pub fn kept_branch(e: &Entry) -> Option<&str> {
    (e.kind == "ralph_cycle" && e.data["outcome"].as_str() == Some("kept"))
        .then(|| e.data["branch"].as_str())
        .flatten()
        .filter(|b| !b.is_empty())
}

/// Of `branches`, those the central review queue does not hold yet.
pub fn not_queued(home: &Home, branches: &[String]) -> anyhow::Result<Vec<String>> {
    let queued = Queue::new(&home.queue_path()).load()?;
    Ok(branches
        .iter()
        .filter(|b| !queued.iter().any(|q| &q.branch == *b))
        .cloned()
        .collect())
}

/// `git fetch` the branches from the host's clone into the control repo, each to the same name,
/// riding the host's ssh master. Not forced: a kept branch never moves on its host, so fetching
/// it again is a no-op, and a branch of the same name at another commit in the control repo is
/// never overwritten (git refuses, and the error says what to do).
pub fn fetch(repo: &Path, ssh: &Ssh, remote_repo: &str, branches: &[String]) -> anyhow::Result<()> {
    if branches.is_empty() {
        return Ok(());
    }
    let mut args: Vec<String> = vec![
        "fetch".into(),
        "--no-tags".into(),
        "--no-write-fetch-head".into(),
        ssh.git_url(remote_repo),
    ];
    args.extend(
        branches
            .iter()
            .map(|b| format!("refs/heads/{b}:refs/heads/{b}")),
    );
    git_over_ssh(repo, ssh, &args, "fetch the kept branches from")
}

/// [`fetch`] all at once; when that fails with the host reachable, one by one, so a branch that
/// is gone from the host (deleted there by hand) does not hold back the others forever. Returns
/// the branches the host no longer has; any other failure is an error.
pub fn fetch_each(
    repo: &Path,
    ssh: &Ssh,
    remote_repo: &str,
    branches: &[String],
) -> anyhow::Result<Vec<String>> {
    let Err(all) = fetch(repo, ssh, remote_repo, branches) else {
        return Ok(Vec::new());
    };
    if is_ssh(&all) || branches.len() < 2 && !ref_missing(&all) {
        return Err(all);
    }
    let mut missing = Vec::new();
    for b in branches {
        match fetch(repo, ssh, remote_repo, std::slice::from_ref(b)) {
            Ok(()) => {}
            Err(e) if !is_ssh(&e) && ref_missing(&e) => missing.push(b.clone()),
            Err(e) => return Err(e),
        }
    }
    Ok(missing)
}

fn is_ssh(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<SshError>().is_some())
}

/// git's words for a ref the other side does not have.
fn ref_missing(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("couldn't find remote ref")
}

/// `git push` the control repo's `main` to the host's clone (which has
/// `receive.denyCurrentBranch=updateInstead`, so its checked-out main follows).
pub fn push_main(repo: &Path, ssh: &Ssh, remote_repo: &str, main: &str) -> anyhow::Result<()> {
    let args = vec![
        "push".into(),
        "--quiet".into(),
        ssh.git_url(remote_repo),
        format!("refs/heads/{main}:refs/heads/{main}"),
    ];
    git_over_ssh(repo, ssh, &args, "push main to")
}

/// The control repo's `main` commit.
pub fn main_oid(repo: &Path, main: &str) -> anyhow::Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("refs/heads/{main}^{{commit}}"))
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run git: {e}"))?;
    if !out.status.success() {
        anyhow::bail!(
            "the control repo {} has no branch `{main}`\n  fix: check `repo` and `main` in brl.toml",
            repo.display()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn git_over_ssh(repo: &Path, ssh: &Ssh, args: &[String], what: &str) -> anyhow::Result<()> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_SSH_COMMAND", ssh.git_ssh_command())
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run git: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    // git's own words when the transport failed: the host, not the repository, is the problem.
    if stderr.contains("Could not read from remote repository")
        || stderr.contains("Connection refused")
        || stderr.contains("Connection closed")
        || stderr.contains("Connection timed out")
    {
        return Err(SshError::Unreachable {
            host: ssh.host.clone(),
            dest: ssh.dest().to_string(),
            reason: stderr,
        }
        .into());
    }
    let fix = if stderr.contains("[rejected]") {
        "a branch of that name in the control repo (or the host's main) is at a commit the other side does not have; brl never overwrites it: rename the one in the way (`git branch -m`) and the next pass goes on"
    } else {
        "check the host's clone (`brl hosts check`)"
    };
    anyhow::bail!(
        "cannot {what} host `{}` (git {}): {stderr}\n  fix: {fix}",
        ssh.host,
        args.first().map(String::as_str).unwrap_or("")
    )
}

/// The review-queue entry the host's cycle made, rebuilt from its `ralph_cycle` entry (which
/// carries the same figures: see `cycle::finish`).
pub fn queue_entry(e: &Entry, branch: &str) -> QueueEntry {
    let d = &e.data;
    let counts = |v: &Value| serde_json::from_value::<Counts>(v.clone()).unwrap_or_default();
    let text = |k: &str| d[k].as_str().unwrap_or_default().to_string();
    QueueEntry {
        branch: branch.to_string(),
        session: e.session.clone().unwrap_or_default(),
        status: Status::Pending,
        created: e.ts,
        before: counts(&d["before"]),
        after: counts(&d["after"]),
        reason: text("reason"),
        base: text("base"),
        head: text("head"),
        commits: d["commits"].as_u64().unwrap_or(0) as usize,
        subject: text("subject"),
        decided: None,
        decision_reason: None,
        merged_as: None,
        conflict_files: vec![],
        review: None,
        cycle_id: d["cycle_id"].as_str().map(str::to_string),
        group: None,
        twin_of: None,
        superseded_by: None,
        fix: None,
    }
}

/// Add the entry unless its branch is queued already; whether it was added.
pub fn enqueue(home: &Home, entry: QueueEntry) -> anyhow::Result<bool> {
    Ok(Queue::new(&home.queue_path()).update(|entries| {
        if entries.iter().any(|q| q.branch == entry.branch) {
            return Ok(false);
        }
        entries.push(entry);
        Ok(true)
    })?)
}

/// Apply a cycle's task result to the central task queue, as `cycle::finish` does on a single
/// machine: kept → done, interrupted or rate-limited → released uncounted, else an attempt.
/// Only the run this cycle made: the task must be running for this session and claimed before
/// the entry was written; otherwise (already applied before a restart, or claimed again since)
/// nothing changes. Returns the task's new state when it changed.
pub fn settle_task(
    home: &Home,
    e: &Entry,
    max_attempts: u32,
) -> anyhow::Result<Option<&'static str>> {
    let Some(id) = e.data["task_id"].as_u64() else {
        return Ok(None);
    };
    if e.kind != "ralph_cycle" {
        return Ok(None);
    }
    let tasks = Tasks::new(&home.tasks_path());
    let Some(task) = tasks.load()?.into_iter().find(|t| t.id == id) else {
        tracing::warn!(
            "task #{id} of a cycle collected from {} is not in the central task queue",
            e.session.as_deref().unwrap_or("?")
        );
        return Ok(None);
    };
    if !same_run(task.state, task.session.as_deref(), task.updated, e) {
        return Ok(None);
    }
    let outcome = e.data["outcome"].as_str().unwrap_or("");
    let reason = e.data["reason"].as_str().unwrap_or("");
    let branch = e.data["branch"].as_str().unwrap_or("");
    let t = match outcome {
        "interrupted" | "rate_limited" => tasks.release(id, reason)?,
        _ => tasks.finish(id, outcome == "kept", branch, reason, max_attempts)?,
    };
    Ok(Some(t.state.as_str()))
}

fn same_run(state: TaskState, session: Option<&str>, updated: DateTime<Utc>, e: &Entry) -> bool {
    state == TaskState::Running
        && session.is_some()
        && session == e.session.as_deref()
        && updated <= e.ts + ChronoDuration::seconds(CLOCK_SLACK_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kept_entries_make_the_same_queue_entry_and_tasks_settle_once() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        let tasks = Tasks::new(&home.tasks_path());
        let t = tasks
            .add(
                "fix f1",
                None,
                crate::store::tasks::Tier::AutoSafe,
                "cli",
                10,
            )
            .expect("add");
        tasks.claim("a-s1").expect("claim");
        let e = Entry::new(
            "ralph_cycle",
            Some("a-s1"),
            json!({"outcome": "kept", "branch": "brl/a-s1/x", "reason": "errors 2 → 1",
                   "base": "b0", "head": "h1", "commits": 1, "subject": "fix",
                   "before": {"errors": 2, "failures": 1, "passed": 2},
                   "after": {"errors": 1, "failures": 1, "passed": 2},
                   "cycle_id": "c1", "task_id": t.id}),
        );
        assert_eq!(kept_branch(&e), Some("brl/a-s1/x"));
        let q = queue_entry(&e, "brl/a-s1/x");
        assert_eq!((q.after.errors, q.head.as_str()), (Some(1), "h1"));
        assert!(enqueue(&home, q.clone()).expect("add"));
        assert!(
            !enqueue(&home, q).expect("again"),
            "a branch is queued once"
        );
        assert_eq!(
            not_queued(&home, &["brl/a-s1/x".into(), "brl/a-s1/y".into()]).expect("load"),
            vec!["brl/a-s1/y".to_string()]
        );
        assert_eq!(settle_task(&home, &e, 3).expect("settle"), Some("done"));
        assert_eq!(settle_task(&home, &e, 3).expect("again"), None);
        let done = tasks.load().expect("load");
        assert_eq!(done[0].branch.as_deref(), Some("brl/a-s1/x"));
        // Another session's entry does not touch a task it did not run.
        let t2 = tasks
            .add(
                "fix f2",
                None,
                crate::store::tasks::Tier::AutoSafe,
                "cli",
                10,
            )
            .expect("add");
        tasks.claim("a-s2").expect("claim");
        let mut other = e.clone();
        other.data["task_id"] = json!(t2.id);
        assert_eq!(settle_task(&home, &other, 3).expect("other"), None);
        assert_eq!(
            kept_branch(&Entry::new(
                "ralph_cycle",
                None,
                json!({"outcome": "discarded"})
            )),
            None
        );
    }
}
