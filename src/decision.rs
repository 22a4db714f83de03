//! Approve and reject: the ONE operation behind the CLI (and later the keys, HTTP and the automated
//! review). Approve merges the branch into main without touching any working tree (a checked-out,
//! clean main is updated; a dirty one refuses); reject deletes the branch. Both update the queue
//! entry under its lock and append a `review_decision` entry.

use chrono::Utc;
use serde_json::json;

use crate::config::Config;
use crate::git::{MergeOutcome, Target};
use crate::home::Home;
use crate::store::log::{self, Entry};
use crate::store::queue::{Queue, QueueEntry, QueueError, Status};

/// What an approval came to. Only `Merged` changed main.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    Merged {
        new_main: String,
        fast_forward: bool,
    },
    /// The branch was already part of main; the entry is closed as approved.
    AlreadyMerged,
    /// Nothing changed; the entry is now `conflict`.
    Conflict { files: Vec<String> },
    /// Nothing changed (e.g. main is checked out with uncommitted changes).
    Refused { reason: String },
}

impl Approval {
    pub fn succeeded(&self) -> bool {
        matches!(self, Approval::Merged { .. } | Approval::AlreadyMerged)
    }

    pub fn describe(&self, branch: &str, main: &str) -> String {
        match self {
            Approval::Merged {
                new_main,
                fast_forward,
            } => format!(
                "approved {branch}: merged into {main} ({}), {main} is now {}",
                if *fast_forward {
                    "fast-forward"
                } else {
                    "merge commit"
                },
                &new_main[..new_main.len().min(12)]
            ),
            Approval::AlreadyMerged => {
                format!("approved {branch}: it was already part of {main}")
            }
            Approval::Conflict { files } => format!(
                "not merged: {branch} conflicts with {main} in {}; nothing changed, the entry is now `conflict` (reject it, or merge it by hand)",
                files.join(", ")
            ),
            Approval::Refused { reason } => format!("not merged: {reason}"),
        }
    }
}

/// Approve `branch`: merge it into main, close its entry, delete the branch, log the decision.
pub fn approve(home: &Home, config: &Config, branch: &str, by: &str) -> anyhow::Result<Approval> {
    let target = Target::open(&config.repo_path(home.root()), &config.main)?;
    let queue = Queue::new(&home.queue_path());
    let approval = queue.update(|entries| {
        let entry = open_entry(&queue, entries, branch)?;
        if !target.branch_exists(branch) {
            return Err(QueueError::Refused(format!(
                "branch {branch} no longer exists in {}; fix: `brl queue reject {branch}` to close its entry",
                target.path().display()
            )));
        }
        let merge = target
            .merge_into_main(branch)
            .map_err(|e| QueueError::Refused(format!("cannot merge {branch}: {e}")))?;
        let approval = match merge {
            MergeOutcome::FastForward { new_main } => Approval::Merged {
                new_main: new_main.to_string(),
                fast_forward: true,
            },
            MergeOutcome::MergeCommit { new_main } => Approval::Merged {
                new_main: new_main.to_string(),
                fast_forward: false,
            },
            MergeOutcome::AlreadyMerged => Approval::AlreadyMerged,
            MergeOutcome::Conflict { files } => Approval::Conflict { files },
            MergeOutcome::Refused { reason } => Approval::Refused { reason },
        };
        match &approval {
            Approval::Merged { new_main, .. } => {
                entry.status = Status::Approved;
                entry.merged_as = Some(new_main.clone());
            }
            Approval::AlreadyMerged => entry.status = Status::Approved,
            Approval::Conflict { files } => {
                entry.status = Status::Conflict;
                entry.conflict_files = files.clone();
                entry.decision_reason = Some(format!("conflicts with {} in {}", config.main, files.join(", ")));
            }
            Approval::Refused { .. } => return Ok(approval),
        }
        entry.decided = Some(Utc::now());
        Ok(approval)
    })?;
    let mut notes = Vec::new();
    if approval.succeeded()
        && let Err(e) = target.delete_branch(branch)
    {
        notes.push(format!("merged, but the branch could not be deleted: {e}"));
    }
    let (result, files, merged_as) = match &approval {
        Approval::Merged {
            new_main,
            fast_forward,
        } => (
            if *fast_forward {
                "fast_forward"
            } else {
                "merge_commit"
            },
            vec![],
            Some(new_main.clone()),
        ),
        Approval::AlreadyMerged => ("already_merged", vec![], None),
        Approval::Conflict { files } => ("conflict", files.clone(), None),
        Approval::Refused { .. } => ("refused", vec![], None),
    };
    let reason = match &approval {
        Approval::Refused { reason } => Some(reason.clone()),
        _ => None,
    };
    log_decision(
        home,
        branch,
        json!({
            "decision": "approve", "result": result, "merged_as": merged_as,
            "conflict_files": files, "reason": reason, "by": by, "notes": notes,
        }),
    )?;
    Ok(approval)
}

/// Reject `branch`: delete it, record the reason, log the decision.
pub fn reject(
    home: &Home,
    config: &Config,
    branch: &str,
    reason: Option<&str>,
    by: &str,
) -> anyhow::Result<()> {
    let target = Target::open(&config.repo_path(home.root()), &config.main)?;
    let queue = Queue::new(&home.queue_path());
    let reason = reason.unwrap_or("rejected without a reason").to_string();
    let existed = queue.update(|entries| {
        let entry = open_entry(&queue, entries, branch)?;
        let existed = target.branch_exists(branch);
        if existed {
            target
                .delete_branch(branch)
                .map_err(|e| QueueError::Refused(format!("cannot delete {branch}: {e}")))?;
        }
        entry.status = Status::Rejected;
        entry.decided = Some(Utc::now());
        entry.decision_reason = Some(reason.clone());
        Ok(existed)
    })?;
    log_decision(
        home,
        branch,
        json!({"decision": "reject", "result": "deleted", "reason": reason, "by": by, "branch_existed": existed}),
    )
}

/// The entry for `branch`, which must still wait for a decision (pending, or conflict to retry).
fn open_entry<'e>(
    queue: &Queue,
    entries: &'e mut [QueueEntry],
    branch: &str,
) -> Result<&'e mut QueueEntry, QueueError> {
    let entry = entries
        .iter_mut()
        .find(|e| e.branch == branch)
        .ok_or_else(|| {
            QueueError::Refused(format!(
                "{branch} is not in the review queue {}; `brl queue list` shows what is",
                queue.path().display()
            ))
        })?;
    match entry.status {
        Status::Pending | Status::Conflict | Status::Stale => Ok(entry),
        done => Err(QueueError::Refused(format!(
            "{branch} was already {} {}; nothing to do",
            done.as_str(),
            entry
                .decided
                .map(|d| format!("at {}", d.format("%Y-%m-%d %H:%M:%S UTC")))
                .unwrap_or_default()
        ))),
    }
}

fn log_decision(home: &Home, branch: &str, mut data: serde_json::Value) -> anyhow::Result<()> {
    data["branch"] = json!(branch);
    let session = branch.split('/').nth(1).map(String::from);
    let entry = Entry::new("review_decision", session.as_deref(), data);
    log::append(&home.log_path(), &entry).map_err(|e| {
        anyhow::anyhow!(
            "the decision was made but could not be logged to {}: {e}",
            home.log_path().display()
        )
    })
}
