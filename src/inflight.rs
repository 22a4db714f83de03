//! The marker of a cycle in flight, `logs/sessions/<s>/inflight.json`: written when a cycle
//! creates its branch, removed once its log entry is written. A marker found by the session's next
//! cycle means the process running it died (killed, machine rebooted): that cycle is recorded once,
//! as `error`, and its branch settled — deleted when it holds no commits, else kept for a person.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::git::{self, Target};
use crate::home::Home;
use crate::proc;
use crate::store::atomic::write_atomic;
use crate::store::log::{self, Entry, Filter};
use crate::store::tasks::Tasks;

const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inflight {
    pub version: u32,
    pub branch: String,
    pub base: String,
    pub started: DateTime<Utc>,
    pub pid: u32,
    /// The task from the task queue the cycle was running, if any.
    #[serde(default)]
    pub task_id: Option<u64>,
}

impl Inflight {
    pub fn new(branch: &str, base: &str, started: DateTime<Utc>, task_id: Option<u64>) -> Inflight {
        Inflight {
            version: VERSION,
            branch: branch.into(),
            base: base.into(),
            started,
            pid: std::process::id(),
            task_id,
        }
    }
}

fn path(home: &Home, session: &str) -> PathBuf {
    home.session_logs_dir(session).join("inflight.json")
}

pub fn mark(home: &Home, session: &str, m: &Inflight) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(m).map_err(std::io::Error::other)?;
    write_atomic(&path(home, session), &json)
}

pub fn clear(home: &Home, session: &str) -> std::io::Result<()> {
    match std::fs::remove_file(path(home, session)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// With the session's lock held: settle a cycle whose process died. Returns what was done.
pub fn recover(home: &Home, target: &Target, session: &str) -> anyhow::Result<Option<String>> {
    let p = path(home, session);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("cannot read {}: {e}", p.display()),
    };
    if let Some(pgid) = proc::kill_orphaned_group(&crate::cycle::running_pgid(home, session)) {
        eprintln!(
            "{session}: killed process group {pgid} left running by a cycle whose process died"
        );
    }
    let m: Inflight = match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => {
            // Keep the bytes for a person; the session goes on.
            let aside = p.with_extension(format!(
                "json.unreadable-{}",
                Utc::now().format("%Y%m%d-%H%M%S")
            ));
            std::fs::rename(&p, &aside)?;
            let note = format!(
                "the in-flight marker {} was unreadable ({e}); moved to {}. Check `git branch --list 'brl/{session}/*'` for a branch it may have left",
                p.display(),
                aside.display()
            );
            log::append(
                &home.log_path(),
                &Entry::new("cycle_recovery", Some(session), json!({"note": note})),
            )?;
            return Ok(Some(note));
        }
    };
    // Exactly once: the dead process may have logged the cycle just before it died.
    let recent = log::tail(
        &home.log_path(),
        50,
        &Filter {
            kind: Some("ralph_cycle".into()),
            session: Some(session.into()),
        },
    )?;
    if recent
        .entries
        .iter()
        .any(|e| e.data.get("branch").and_then(|b| b.as_str()) == Some(&m.branch))
    {
        clear(home, session)?;
        return Ok(None);
    }
    let worktree = home.worktree(session);
    if git::worktree_head_branch(&worktree)
        .ok()
        .flatten()
        .as_deref()
        == Some(m.branch.as_str())
    {
        git::detach_worktree(&worktree)?;
    }
    let mut commits = 0;
    let mut deleted = false;
    if target.branch_exists(&m.branch) {
        let base = git2::Oid::from_str(&m.base)?;
        commits = target
            .commits_between(base, target.branch_tip(&m.branch)?)?
            .len();
        if commits == 0 {
            target.delete_branch(&m.branch)?;
            deleted = true;
        }
    }
    let reason = format!(
        "the process running this cycle (pid {}) died before finishing it; {}",
        m.pid,
        if deleted || commits == 0 {
            "its branch held no commits and is gone".to_string()
        } else {
            format!(
                "its branch {} holds {commits} commit(s) and is kept for inspection (not in the review queue)",
                m.branch
            )
        }
    );
    let entry = Entry::new(
        "ralph_cycle",
        Some(session),
        json!({
            "outcome": "error", "reason": reason, "branch": m.branch, "base": m.base,
            "started": m.started, "commits": commits, "branch_deleted": deleted, "recovered": true,
        }),
    );
    log::append(&home.log_path(), &entry)?;
    if let Some(id) = m.task_id {
        // The task did not get a fair attempt: back to the queue, uncounted.
        if let Err(e) = Tasks::new(&home.tasks_path()).release(id, "the cycle running it died") {
            eprintln!("{session}: could not put task #{id} back in the queue: {e}");
        }
    }
    clear(home, session)?;
    Ok(Some(reason))
}
