//! Approve and reject: the ONE operation behind the CLI, the keys, HTTP and the automated review.
//!
//! Each decision is a journaled transaction (`store::journal`), one at a time per home under the
//! flock `logs/locks/approve.lock`:
//! - approve: (merge commit, unreferenced; the checked-out main checked where the merge changes
//!   it) → journal the result, once → move main by compare-and-swap, touching no working tree →
//!   queue entry → log entry → delete the branch → bring the checked-out main along, only the
//!   files the merge changes (resumable) → remove the journal;
//! - reject: journal → delete the branch → queue entry → log entry → remove the journal.
//!
//! Killed at any instant, the next brl command ([`recover_pending`]) finishes the decision from
//! the journal, or undoes it when main never moved. Every decision has an id, kept in the journal
//! and in its `review_decision` log entry, so it is logged exactly once. A checked-out main with
//! staged changes, or uncommitted changes to a file the merge changes, refuses before anything is
//! journaled. Nothing before the journal changes anything but git's object store (an unreferenced
//! merge commit a death leaves is garbage for `git gc`), so one journal write (plus its removal)
//! is the whole protocol's cost: two `fsync`s.

mod approval;
mod recover;
mod steps;
mod supersede;
pub mod twins;

pub use approval::Approval;
use approval::blind;
pub use recover::recover_pending;
pub use supersede::{Superseded, sweep};

use chrono::Utc;
use serde_json::json;

use crate::chaos;
use crate::config::Config;
use crate::git::{MergePlan, Target};
use crate::home::Home;
use crate::store::atomic::LockGuard;
use crate::store::journal::{self, JOURNAL_VERSION, Journal, Op, Record, Step};
use crate::store::queue::{Queue, QueueEntry, Status};

/// How long a decision waits for another one in progress.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The lock that makes decisions (and their recovery) one at a time per home.
fn lock_path(home: &Home) -> std::path::PathBuf {
    home.locks_dir().join("approve.lock")
}

/// Take the decision lock (waiting for a decision in progress), then finish any interrupted one.
/// An unfinished decision on `branch` itself stops this one.
fn begin(home: &Home, config: &Config, branch: &str) -> anyhow::Result<LockGuard> {
    let path = lock_path(home);
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    let mut lock = loop {
        match LockGuard::try_exclusive(&path) {
            Ok(Some(l)) => break l,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Ok(None) => anyhow::bail!(
                "another approve or reject ({}) has held {} for over {}s; nothing was decided — \
                 try again when it ends",
                crate::store::atomic::lock_owner(&path)
                    .map_or_else(|| "pid unknown".to_string(), |p| format!("pid {p}")),
                path.display(),
                LOCK_WAIT.as_secs()
            ),
            Err(e) => anyhow::bail!(
                "cannot take the decision lock {}: {e}; nothing was decided",
                path.display()
            ),
        }
    };
    let _ = lock.write_owner(); // informative only; a full disk must not stop the decision
    for r in recover::recover_locked(home, config) {
        match r.branch.as_deref() {
            _ if !r.pending => {}
            None => anyhow::bail!(
                "the decision journal needs attention first, so {branch} is not decided now \
                 (nothing was changed): {}",
                r.line
            ),
            Some(b) if b == branch => anyhow::bail!(
                "an earlier decision on {branch} is unfinished, so it is not decided again now \
                 (nothing was changed): {}",
                r.line
            ),
            Some(_) => {}
        }
        tracing::warn!("{}", r.line);
    }
    Ok(lock)
}

/// Approve `branch`: merge it into main, close its entry, log the decision, delete the branch.
/// A `stale` or `conflict` entry is refused (see [`approve_with`]).
pub fn approve(home: &Home, config: &Config, branch: &str, by: &str) -> anyhow::Result<Approval> {
    approve_with(home, config, branch, by, false)
}

/// [`approve`]; `force` merges an entry the latest re-check marked `stale` or `conflict` (logged
/// `forced: true`). Without it such an entry is refused with the re-check's figures.
pub fn approve_with(
    home: &Home,
    config: &Config,
    branch: &str,
    by: &str,
    force: bool,
) -> anyhow::Result<Approval> {
    let _lock = begin(home, config, branch)?;
    let target = Target::open(&config.repo_path(home.root()), &config.main)?;
    // Before any approve: an entry that would bring nothing is superseded, never merged empty.
    // A sweep that cannot write (a full disk) does not stop the approval: the merge below
    // still refuses to make an empty merge commit on its own.
    match supersede::sweep_locked(home, config, &target) {
        Ok(swept) => {
            if let Some(s) = swept.into_iter().find(|s| s.branch == branch) {
                return Ok(Approval::Superseded { why: s.why });
            }
        }
        Err(e) => tracing::warn!("the review queue sweep before approving {branch} failed: {e:#}"),
    }
    let queue = Queue::new(&home.queue_path());
    let mut entries = queue.load()?;
    let entry = open_entry(&queue, &mut entries, branch)?;
    if !force && matches!(entry.status, Status::Stale | Status::Conflict) {
        return refused(home, branch, by, blind(entry, &config.main));
    }
    let forced = force && matches!(entry.status, Status::Stale | Status::Conflict);
    let group = entry.group.clone();
    let twins: Vec<String> = entries
        .iter()
        .filter(|e| e.branch != branch && e.status.is_open() && group.is_some() && e.group == group)
        .map(|e| e.branch.clone())
        .collect();
    if !target.branch_exists(branch) {
        anyhow::bail!(
            "branch {branch} no longer exists in {}; fix: `brl queue reject {branch}` to close its entry",
            target.path().display()
        );
    }
    let tip = target.branch_tip(branch)?;
    let old = target.main_commit()?;
    let plan = target.plan_merge(branch, tip, old)?;
    let mut conflict_files = Vec::new();
    let new = match plan {
        MergePlan::AlreadyMerged => None,
        MergePlan::FastForward => Some(tip),
        MergePlan::MergeCommit => match target.approval_merge_commit(branch, old, tip)? {
            Ok(c) => Some(c),
            Err(files) => {
                conflict_files = files;
                None
            }
        },
    };
    // The merge commit exists (unreferenced, nothing journaled, main not moved).
    chaos::point("approve:after-merge-commit");
    if let Some(new) = new
        && plan == MergePlan::MergeCommit
        && target.same_tree(new, old)?
    {
        // Main got the change since the sweep: never an empty merge commit.
        let why = format!(
            "merging it into {} would change nothing: its change is already there",
            config.main
        );
        supersede::close(home, &queue, &target, branch, tip, old, &why)?;
        return Ok(Approval::Superseded { why });
    }
    // A checked-out main with staged changes, an uncommitted change to a file the merge changes
    // or a file in the way refuses here, before anything is journaled or moved.
    if let Some(new) = new
        && let Some(reason) = target.check_main_trees(old, new)?
    {
        return refused(home, branch, by, reason);
    }
    let journal = Journal::new(home);
    let mut rec = Record {
        version: JOURNAL_VERSION,
        id: journal::new_id(),
        op: Op::Approve,
        branch: branch.to_string(),
        by: by.to_string(),
        pid: std::process::id(),
        started: Utc::now(),
        tip: Some(tip.to_string()),
        old_main: Some(old.to_string()),
        new_main: new.map(|n| n.to_string()),
        result: match plan {
            _ if !conflict_files.is_empty() => "conflict",
            MergePlan::AlreadyMerged => "already_merged",
            MergePlan::FastForward => "fast_forward",
            MergePlan::MergeCommit => "merge_commit",
        }
        .to_string(),
        reason: (!conflict_files.is_empty()).then(|| {
            format!(
                "conflicts with {} in {}",
                config.main,
                conflict_files.join(", ")
            )
        }),
        conflict_files,
        step: Step::Prepared,
        checkout_started: None,
        log_offset: log_len(home),
        forced,
    };
    journal
        .write(&rec)
        .map_err(|e| anyhow::anyhow!("{e}; nothing was merged"))?;
    chaos::point("approve:after-journal");
    let abandon = |e: anyhow::Error| {
        let _ = journal.remove(&rec.id);
        e
    };
    if let Some(new) = new {
        let log = format!("brl: approve {branch}");
        if let Err(e) = target.move_main(old, new, &log) {
            // An error after the ref was written still moved main: then finish, never abandon.
            if target.main_commit().ok() != Some(new) {
                return Err(abandon(e.into()));
            }
            tracing::warn!("main moved, but git said: {e}");
        }
        chaos::point("approve:after-ref");
    }
    let approval = Approval::of(&rec);
    match steps::finish(home, &target, &journal, &mut rec, false) {
        Ok(notes) => {
            for n in notes {
                tracing::warn!("{n}");
            }
            if approval.succeeded() {
                supersede::after_approval(home, config, &target, branch, &twins);
            }
            Ok(approval)
        }
        Err(e) => Err(unfinished(&journal, &rec, &config.main, e)),
    }
}

/// Reject `branch`: delete it, record the reason, log the decision.
pub fn reject(
    home: &Home,
    config: &Config,
    branch: &str,
    reason: Option<&str>,
    by: &str,
) -> anyhow::Result<()> {
    let _lock = begin(home, config, branch)?;
    let target = Target::open(&config.repo_path(home.root()), &config.main)?;
    let queue = Queue::new(&home.queue_path());
    let mut entries = queue.load()?;
    open_entry(&queue, &mut entries, branch)?;
    let journal = Journal::new(home);
    let tip = target.branch_tip(branch).ok().map(|t| t.to_string());
    let mut rec = Record {
        version: JOURNAL_VERSION,
        id: journal::new_id(),
        op: Op::Reject,
        branch: branch.to_string(),
        by: by.to_string(),
        pid: std::process::id(),
        started: Utc::now(),
        tip,
        old_main: None,
        new_main: None,
        result: "deleted".into(),
        conflict_files: Vec::new(),
        reason: Some(reason.unwrap_or("rejected without a reason").to_string()),
        step: Step::Prepared,
        checkout_started: None,
        log_offset: log_len(home),
        forced: false,
    };
    journal
        .write(&rec)
        .map_err(|e| anyhow::anyhow!("{e}; nothing was rejected"))?;
    chaos::point("reject:after-journal");
    match steps::finish(home, &target, &journal, &mut rec, false) {
        Ok(notes) => {
            for n in notes {
                tracing::warn!("{n}");
            }
            Ok(())
        }
        Err(e) => Err(unfinished(&journal, &rec, &config.main, e)),
    }
}

/// The error of a decision that stopped half-way; its journal stays for recovery (or is gone if
/// the decision was given up, which `steps::finish` says in `e`).
fn unfinished(journal: &Journal, rec: &Record, main: &str, e: anyhow::Error) -> anyhow::Error {
    if !journal.path_of(&rec.id).exists() {
        return e;
    }
    let state = match (&rec.op, &rec.new_main) {
        (Op::Approve, Some(n)) => format!("{main} moved to {} (merged)", &n[..n.len().min(12)]),
        (Op::Approve, None) => "the approval is decided".to_string(),
        (Op::Reject, _) => "the rejection is decided".to_string(),
    };
    anyhow::anyhow!(
        "{e:#}\n  {state}; the next brl command finishes it from the journal {}",
        journal.path_of(&rec.id).display()
    )
}

/// The log's current length (0 when it does not exist yet).
fn log_len(home: &Home) -> u64 {
    std::fs::metadata(home.log_path()).map_or(0, |m| m.len())
}

/// A refusal: nothing changed; logged as before (not a decision, so no id and no journal).
fn refused(home: &Home, branch: &str, by: &str, reason: String) -> anyhow::Result<Approval> {
    steps::log_decision(
        home,
        branch,
        json!({
            "decision": "approve", "result": "refused", "merged_as": null,
            "conflict_files": [], "reason": reason, "by": by, "notes": [],
        }),
    )?;
    Ok(Approval::Refused { reason })
}

/// The entry for `branch`, which must still wait for a decision (pending, or conflict to retry).
fn open_entry<'e>(
    queue: &Queue,
    entries: &'e mut [QueueEntry],
    branch: &str,
) -> anyhow::Result<&'e mut QueueEntry> {
    let entry = entries
        .iter_mut()
        .find(|e| e.branch == branch)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{branch} is not in the review queue {}; `brl queue list` shows what is",
                queue.path().display()
            )
        })?;
    match entry.status {
        Status::Pending | Status::Conflict | Status::Stale => Ok(entry),
        done => anyhow::bail!(
            "{branch} was already {} {}; nothing to do",
            done.as_str(),
            entry
                .decided
                .map(|d| format!("at {}", d.format("%Y-%m-%d %H:%M:%S UTC")))
                .unwrap_or_default()
        ),
    }
}
