//! The steps after a decision is journaled, each safe to run again: the same code finishes a
//! live decision and one recovered from its journal.

use std::io::BufRead;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use git2::Oid;
use serde_json::json;

use crate::chaos;
use crate::git::Target;
use crate::home::Home;
use crate::store::journal::{Journal, Op, Record};
use crate::store::log::{self, Entry};
use crate::store::queue::{Queue, QueueError, Status};

/// Finish `rec` from wherever it got to; returns notes for the user. `recovering`: the process
/// that journaled it died, so the log is searched for its id before appending, and a git lock file
/// it left may be removed. On success the journal file is gone. A reject whose branch cannot be
/// deleted is given up (journal removed, nothing else changed) and returned as the error.
pub(super) fn finish(
    home: &Home,
    target: &Target,
    journal: &Journal,
    rec: &mut Record,
    recovering: bool,
) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    match rec.op {
        Op::Approve => {
            notes.extend(queue_step(home, rec)?);
            chaos::point("approve:after-queue");
            log_step(home, rec, recovering)?;
            chaos::point("approve:after-log");
            if rec.result != "conflict" {
                notes.extend(delete_approved_branch(target, rec));
            }
            if let (Some(old), Some(new)) = (oid(&rec.old_main)?, oid(&rec.new_main)?) {
                // No journal write for this step (it would cost two fsyncs): every step before is
                // idempotent and recovery tells from main whether it moved. A lock file of the
                // user's index written since the decision was journaled and held open by nobody
                // is a leftover of this update (a journal of an older brl may carry the instant
                // the update began; it is the narrower one).
                let since = recovering
                    .then(|| rec.checkout_started.unwrap_or(rec.started))
                    .map(|t| SystemTime::from(t) - Duration::from_secs(2));
                let mut inside = || chaos::point("approve:inside-checkout");
                notes.extend(target.follow_main(old, new, since, &mut inside)?);
                chaos::point("approve:after-checkout");
            }
        }
        Op::Reject => {
            if let Err(e) = delete_rejected_branch(target, rec) {
                journal.remove(&rec.id)?;
                return Err(e);
            }
            chaos::point("reject:after-delete");
            notes.extend(queue_step(home, rec)?);
            log_step(home, rec, recovering)?;
        }
    }
    journal.remove(&rec.id)?;
    Ok(notes)
}

fn oid(s: &Option<String>) -> anyhow::Result<Option<Oid>> {
    s.as_deref()
        .map(|s| {
            Oid::from_str(s).map_err(|e| anyhow::anyhow!("bad commit id {s} in the journal: {e}"))
        })
        .transpose()
}

/// The queue entry says what the decision says (unless it was already decided; then a note).
fn queue_step(home: &Home, rec: &Record) -> anyhow::Result<Vec<String>> {
    let queue = Queue::new(&home.queue_path());
    let want = match (rec.op, rec.result.as_str()) {
        (Op::Reject, _) => Status::Rejected,
        (Op::Approve, "conflict") => Status::Conflict,
        (Op::Approve, _) => Status::Approved,
    };
    let updated = queue.update(|entries| {
        let Some(entry) = entries.iter_mut().find(|e| e.branch == rec.branch) else {
            return Ok(vec![format!(
                "{} is no longer in the review queue {}; the decision is logged all the same",
                rec.branch,
                queue.path().display()
            )]);
        };
        if !entry.status.is_open() {
            return Ok(if entry.status == want {
                vec![]
            } else {
                vec![format!(
                    "the queue entry of {} was already {}; left as it is",
                    rec.branch,
                    entry.status.as_str()
                )]
            });
        }
        entry.status = want;
        entry.decided = Some(Utc::now());
        match want {
            Status::Approved => entry.merged_as = rec.new_main.clone(),
            Status::Conflict => {
                entry.conflict_files = rec.conflict_files.clone();
                entry.decision_reason = rec.reason.clone();
            }
            _ => entry.decision_reason = rec.reason.clone(),
        }
        Ok(vec![])
    });
    updated.map_err(|e| match e {
        QueueError::Io { path, source, .. } => {
            anyhow::anyhow!("cannot write {}: {source}", path.display())
        }
        other => other.into(),
    })
}

/// The `review_decision` entry, with the decision's id; once only.
fn log_step(home: &Home, rec: &Record, recovering: bool) -> anyhow::Result<()> {
    if recovering && logged(home, &rec.id, rec.log_offset)? {
        return Ok(());
    }
    let data = match rec.op {
        Op::Approve => json!({
            "decision": "approve", "result": rec.result, "merged_as": rec.new_main,
            "conflict_files": rec.conflict_files, "reason": rec.reason, "by": rec.by,
            "notes": [], "decision_id": rec.id, "forced": rec.forced,
        }),
        Op::Reject => json!({
            "decision": "reject", "result": rec.result, "reason": rec.reason, "by": rec.by,
            "branch_existed": rec.tip.is_some(), "decision_id": rec.id,
        }),
    };
    log_decision(home, &rec.branch, data)
}

/// Is a `review_decision` with this id in the log? Only the part from `offset` (the log's length
/// when the decision was journaled) is read, unless the log is shorter now (replaced): then all.
fn logged(home: &Home, id: &str, offset: u64) -> anyhow::Result<bool> {
    use std::io::{Seek, SeekFrom};
    let path = home.log_path();
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let start = if offset <= len { offset } else { 0 };
    file.seek(SeekFrom::Start(start))
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let quoted = format!("\"{id}\"");
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line.map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let text = String::from_utf8_lossy(&line);
        if text.contains(&quoted)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && v["type"] == "review_decision"
            && v["data"]["decision_id"] == id
        {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(super) fn log_decision(
    home: &Home,
    branch: &str,
    mut data: serde_json::Value,
) -> anyhow::Result<()> {
    data["branch"] = json!(branch);
    let session = branch.split('/').nth(1).map(String::from);
    let entry = Entry::new("review_decision", session.as_deref(), data);
    log::append(&home.log_path(), &entry)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", home.log_path().display()))
}

/// After an approval: delete the branch if it is still at the approved tip.
fn delete_approved_branch(target: &Target, rec: &Record) -> Option<String> {
    if !target.branch_exists(&rec.branch) {
        return None;
    }
    let now = target.branch_tip(&rec.branch).ok().map(|t| t.to_string());
    if now != rec.tip {
        return Some(format!(
            "merged, but {} moved since it was approved (now {}); it was kept — review the new commits",
            rec.branch,
            now.as_deref().unwrap_or("unreadable")
        ));
    }
    target
        .delete_branch(&rec.branch)
        .err()
        .map(|e| format!("merged, but the branch could not be deleted: {e}"))
}

/// A rejection deletes the branch it saw; a branch that moved since is not deleted.
fn delete_rejected_branch(target: &Target, rec: &Record) -> anyhow::Result<()> {
    if !target.branch_exists(&rec.branch) {
        return Ok(());
    }
    let now = target.branch_tip(&rec.branch).ok().map(|t| t.to_string());
    if now != rec.tip {
        anyhow::bail!(
            "{} moved since it was rejected (now {}); nothing was rejected — look at the new commits, then reject again",
            rec.branch,
            now.as_deref().unwrap_or("unreadable")
        );
    }
    target
        .delete_branch(&rec.branch)
        .map_err(|e| anyhow::anyhow!("cannot delete {}: {e}; nothing was rejected", rec.branch))
}
