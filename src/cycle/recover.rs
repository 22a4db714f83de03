//! Before each cycle, with the session's lock held: settle what a dead cycle left, and repair
//! the session's worktree so the new cycle can run.
//!
//! 1. A cycle whose process died (its in-flight marker is there): its agent's process group and
//!    anything still running in the worktree are killed.
//! 2. Git lock files of the session no live process holds (`index.lock`, `HEAD.lock`, a branch's
//!    ref `.lock`) are removed: a dead git write left them, and they would fail every later cycle.
//!    A commit the dead process was writing whose ref did not move is only unreferenced objects.
//! 3. Changes the dead cycle left uncommitted in the worktree are committed onto its branch when
//!    it still exists (nothing lost), else named in the entry.
//! 4. The dead cycle is recorded exactly once, keyed by its id, as `error`; its branch is deleted
//!    when it holds no commits, else its commits move to `refs/brl/unjudged/<cycle id>` (the
//!    `brl/*` branches are exactly the review queue's); its task goes back to the queue.

use std::time::{Duration, SystemTime};

use chrono::Utc;
use serde_json::json;

use crate::git::{self, Target};
use crate::home::Home;
use crate::inflight::{self, Inflight};
use crate::proc;
use crate::store::log::{self, Entry, Filter};
use crate::store::queue::{Queue, QueueEntry};
use crate::store::tasks::Tasks;

/// `packed-refs.lock` is shared with the user's own git: removed only when this old.
const SHARED_LOCK_AGE: Duration = Duration::from_secs(60);
/// How far back the log is searched for the dead cycle's own entry (this session's entries).
const LOOKBACK: usize = 200;

/// Settle and repair; returns what was done, one line each, for the person watching.
pub fn before_cycle(home: &Home, target: &Target, session: &str) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    let marker = read_marker(home, session)?;
    let worktree = home.worktree(session);
    if marker.is_some() {
        if let Some(pgid) = proc::kill_orphaned_group(&super::running_pgid(home, session)) {
            notes.push(format!(
                "killed process group {pgid} left running by a cycle whose process died"
            ));
        }
        if worktree.exists() {
            let pids = proc::kill_in_dir(&worktree);
            if !pids.is_empty() {
                notes.push(format!(
                    "killed {} process(es) still running in {}: {pids:?}",
                    pids.len(),
                    worktree.display()
                ));
            }
        }
    }
    notes.extend(remove_stale_locks(home, target, session)?);
    match marker {
        None => {}
        Some(Marker::Unreadable(note)) => notes.push(note),
        Some(Marker::Found(m)) => {
            if let Some(note) = settle(home, target, session, &m)? {
                notes.push(note);
            }
        }
    }
    Ok(notes)
}

enum Marker {
    Found(Inflight),
    /// Moved aside and recorded; the note says where.
    Unreadable(String),
}

fn read_marker(home: &Home, session: &str) -> anyhow::Result<Option<Marker>> {
    let p = inflight::path(home, session);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("cannot read the in-flight marker {}: {e}", p.display()),
    };
    match serde_json::from_str(&text) {
        Ok(m) => Ok(Some(Marker::Found(m))),
        Err(e) => {
            // Keep the bytes for a person; the session goes on.
            let aside = p.with_extension(format!(
                "json.unreadable-{}",
                Utc::now().format("%Y%m%d-%H%M%S%.3f")
            ));
            std::fs::rename(&p, &aside)
                .map_err(|e| anyhow::anyhow!("cannot move {} aside: {e}", p.display()))?;
            let note = format!(
                "the in-flight marker {} was unreadable ({e}); moved to {}. Check `git branch --list 'brl/{session}/*'` for a branch it may have left",
                p.display(),
                aside.display()
            );
            log::append(
                &home.log_path(),
                &Entry::new("cycle_recovery", Some(session), json!({"note": note})),
            )?;
            Ok(Some(Marker::Unreadable(note)))
        }
    }
}

/// Remove the session's git lock files that no live process holds open.
fn remove_stale_locks(home: &Home, target: &Target, session: &str) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    let locks = target.session_lock_files(&home.worktree_name(session), &format!("brl/{session}"));
    for lock in locks {
        if proc::held_open(&lock) {
            continue;
        }
        let shared = lock.file_name().is_some_and(|n| n == "packed-refs.lock");
        if shared && !older_than(&lock, SHARED_LOCK_AGE) {
            continue;
        }
        std::fs::remove_file(&lock).map_err(|e| {
            anyhow::anyhow!(
                "the stale git lock {} (no process holds it) cannot be removed: {e}; remove it by hand",
                lock.display()
            )
        })?;
        notes.push(format!(
            "removed the stale git lock {} (left by a process that died)",
            lock.display()
        ));
    }
    Ok(notes)
}

fn older_than(p: &std::path::Path, age: Duration) -> bool {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .is_ok_and(|t| SystemTime::now().duration_since(t).unwrap_or_default() > age)
}

/// Has the dead cycle's entry already been written (it died just after logging)?
fn already_logged(home: &Home, session: &str, m: &Inflight) -> anyhow::Result<bool> {
    let recent = log::tail(
        &home.log_path(),
        LOOKBACK,
        &Filter {
            kind: Some("ralph_cycle".into()),
            session: Some(session.into()),
        },
    )?;
    Ok(recent.entries.iter().any(|e| match &m.cycle_id {
        Some(id) => e.data.get("cycle_id").and_then(|v| v.as_str()) == Some(id),
        // A marker from before ids: the branch name is all there is.
        None => e.data.get("branch").and_then(|b| b.as_str()) == Some(&m.branch),
    }))
}

/// The review-queue entry the dead cycle made before it died (it had decided `kept`), if any.
fn queued(home: &Home, m: &Inflight) -> anyhow::Result<Option<QueueEntry>> {
    let Some(id) = &m.cycle_id else {
        return Ok(None);
    };
    let entries = Queue::new(&home.queue_path()).load()?;
    Ok(entries
        .into_iter()
        .find(|q| q.cycle_id.as_ref() == Some(id)))
}

/// The dead cycle had kept and queued its branch, then died before its entry: record it as kept.
fn settle_queued(
    home: &Home,
    session: &str,
    m: &Inflight,
    q: &QueueEntry,
) -> anyhow::Result<String> {
    let reason = format!(
        "{}; the process running this cycle (pid {}) died after queueing its branch {} for review, before logging it",
        q.reason, m.pid, m.branch
    );
    let entry = Entry::new(
        "ralph_cycle",
        Some(session),
        json!({
            "outcome": "kept", "reason": reason, "cycle_id": m.cycle_id, "branch": m.branch,
            "base": m.base, "head": q.head, "before": q.before, "after": q.after,
            "started": m.started, "commits": q.commits, "subject": q.subject,
            "branch_deleted": false, "recovered": true,
        }),
    );
    log::append(&home.log_path(), &entry)?;
    if let Some(id) = m.task_id {
        // Done with the kept branch; a task already settled by the dead cycle stays as it is.
        let _ = Tasks::new(&home.tasks_path()).finish(id, true, &m.branch, &reason, u32::MAX);
    }
    inflight::clear(home, session)?;
    Ok(reason)
}

/// Record the dead cycle once and settle its branch.
fn settle(
    home: &Home,
    target: &Target,
    session: &str,
    m: &Inflight,
) -> anyhow::Result<Option<String>> {
    if already_logged(home, session, m)? {
        inflight::clear(home, session)?;
        return Ok(None);
    }
    if let Some(q) = queued(home, m)? {
        return settle_queued(home, session, m, &q).map(Some);
    }
    let worktree = home.worktree(session);
    let mut notes: Vec<String> = Vec::new();
    let on_branch = git::worktree_head_branch(&worktree)
        .ok()
        .flatten()
        .is_some_and(|b| b == m.branch);
    let mut committed_leftover = false;
    if on_branch && target.branch_exists(&m.branch) {
        let message = format!(
            "brl: commit the changes a dead cycle left uncommitted\n\nThe process running cycle {} of session {session} died; brl committed what it left in the worktree so nothing is lost.",
            m.cycle_id.as_deref().unwrap_or("?")
        );
        match git::commit_all(&worktree, &message) {
            Ok(Some(id)) => {
                committed_leftover = true;
                notes.push(format!(
                    "committed the changes it left uncommitted as {id} on {}",
                    m.branch
                ));
            }
            Ok(None) => {}
            Err(e) => notes.push(format!(
                "could not commit the changes it left in {}: {e}",
                worktree.display()
            )),
        }
    } else if worktree.exists() {
        match git::dirty_files(&worktree, 20) {
            Ok(files) if !files.is_empty() => notes.push(format!(
                "the worktree {} was not on its branch {} (gone or detached), so the next cycle's reset discards its uncommitted changes to: {}",
                worktree.display(),
                m.branch,
                files.join(", ")
            )),
            _ => {}
        }
    }
    if on_branch {
        git::detach_worktree(&worktree)?;
    }
    let mut commits = 0;
    let mut deleted = false;
    let mut kept_as: Option<String> = None;
    if target.branch_exists(&m.branch) {
        let base = git2::Oid::from_str(&m.base)?;
        commits = target
            .commits_between(base, target.branch_tip(&m.branch)?)?
            .len();
        if commits == 0 {
            target.delete_branch(&m.branch)?;
        } else {
            // Unjudged work is neither offered for review nor lost: it moves out of the `brl/*`
            // branches (which are exactly the review queue's) to a ref of brl's own.
            let refname = recovered_ref(m);
            target.move_branch_to_ref(
                &m.branch,
                &refname,
                "brl: keep the commits of a cycle whose process died",
            )?;
            kept_as = Some(refname);
        }
        deleted = true;
    }
    let mut reason = format!(
        "the process running this cycle (pid {}) died before finishing it; {}",
        m.pid,
        match &kept_as {
            Some(r) => format!(
                "its branch {} held {commits} commit(s), not judged; they are kept as {r} (`git log {r}` in the target repo; `git branch <name> {r}` to take them up)",
                m.branch
            ),
            None if deleted => "its branch held no commits and is gone".to_string(),
            None => "its branch is gone".to_string(),
        }
    );
    for n in &notes {
        reason.push_str("; ");
        reason.push_str(n);
    }
    let entry = Entry::new(
        "ralph_cycle",
        Some(session),
        json!({
            "outcome": "error", "reason": reason, "cycle_id": m.cycle_id, "branch": m.branch,
            "base": m.base, "started": m.started, "commits": commits, "branch_deleted": deleted,
            "committed_by_brl": committed_leftover, "recovered": true, "notes": notes,
            "kept_as": kept_as,
        }),
    );
    log::append(&home.log_path(), &entry)?;
    if let Some(id) = m.task_id {
        // The task did not get a fair attempt: back to the queue, uncounted.
        if let Err(e) = Tasks::new(&home.tasks_path()).release(id, "the cycle running it died") {
            crate::say_err!("{session}: could not put task #{id} back in the queue: {e}");
        }
    }
    inflight::clear(home, session)?;
    Ok(Some(reason))
}

/// Where a dead cycle's commits are kept (the branch's last part names markers written before
/// cycles had ids).
fn recovered_ref(m: &Inflight) -> String {
    let id = m
        .cycle_id
        .clone()
        .unwrap_or_else(|| m.branch.rsplit('/').next().unwrap_or("unknown").to_string());
    git::unjudged_ref(&id)
}
