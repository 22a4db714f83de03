//! The sweep: open entries that would bring nothing to the CURRENT main become `superseded`
//! (log `queue_superseded`, branch deleted), and the rest are grouped into twins.
//!
//! Run whenever main may have moved: after every approve (under the decision lock), after the
//! review's re-check, at the start of `brl queue list` / `approve`, and on the control room's tick.
//! Cheap when nothing moved: a fingerprint of main's commit and the open branches' tips is kept in
//! `logs/review-queue-checked.json` and the work is skipped while it is unchanged.

use chrono::Utc;
use serde_json::json;

use crate::config::Config;
use crate::git::{Effect, Target};
use crate::home::Home;
use crate::store::atomic::LockGuard;
use crate::store::log::{self, Entry};
use crate::store::queue::{Checked, Queue, Status};

use super::twins;

/// One entry the sweep closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superseded {
    pub branch: String,
    pub why: String,
}

/// The sweep from outside a decision: skipped (empty) while a decision holds the lock — that
/// decision sweeps when it ends.
pub fn sweep(home: &Home, config: &Config) -> anyhow::Result<Vec<Superseded>> {
    let Some(_lock) = LockGuard::try_exclusive(&super::lock_path(home))? else {
        return Ok(Vec::new());
    };
    let target = Target::open(&config.repo_path(home.root()), &config.main)?;
    sweep_locked(home, config, &target)
}

/// The sweep; the decision lock must be held.
pub(super) fn sweep_locked(
    home: &Home,
    config: &Config,
    target: &Target,
) -> anyhow::Result<Vec<Superseded>> {
    let queue = Queue::new(&home.queue_path());
    let checked = Checked::beside(&home.queue_path());
    let main = target.main_commit()?;
    let open: Vec<_> = queue
        .load()?
        .into_iter()
        .filter(|e| e.status.is_open())
        .collect();
    let tips: Vec<Option<git2::Oid>> = open
        .iter()
        .map(|e| target.branch_tip(&e.branch).ok())
        .collect();
    let mut fingerprint = main.to_string();
    for (e, t) in open.iter().zip(&tips) {
        fingerprint.push_str(&format!(
            " {}={}",
            e.branch,
            t.map(|t| t.to_string()).unwrap_or_default()
        ));
    }
    if checked.last().as_deref() == Some(fingerprint.as_str()) {
        return Ok(Vec::new());
    }
    let mut gone = Vec::new();
    let mut shapes = Vec::new();
    for (e, tip) in open.iter().zip(&tips) {
        let Some(tip) = *tip else {
            shapes.push(None);
            continue;
        };
        let why = match target.merge_effect(tip, main)? {
            Effect::Contained => Some(format!("it is already part of {}", config.main)),
            Effect::Nothing => Some(format!(
                "merging it into {} at {} would change nothing: its change is already there",
                config.main,
                &main.to_string()[..12]
            )),
            Effect::Changes { .. } | Effect::Conflict { .. } => None,
        };
        match why {
            Some(why) => {
                close(home, &queue, target, &e.branch, tip, main, &why)?;
                gone.push(Superseded {
                    branch: e.branch.clone(),
                    why,
                });
                shapes.push(None);
            }
            None => shapes.push(target.change_shape(&e.base, tip).ok()),
        }
    }
    let groups = twins::groups(&shapes);
    let by_branch: Vec<(String, Option<String>)> = open
        .iter()
        .zip(groups)
        .map(|(e, g)| (e.branch.clone(), g))
        .collect();
    let regroup = open.iter().zip(&by_branch).any(|(e, (_, g))| e.group != *g);
    if regroup {
        queue.update(|entries| {
            for e in entries.iter_mut().filter(|e| e.status.is_open()) {
                if let Some((_, g)) = by_branch.iter().find(|(b, _)| *b == e.branch) {
                    e.group = g.clone();
                }
            }
            Ok(())
        })?;
    }
    if let Err(e) = checked.save(&fingerprint) {
        // Only a cache: the next sweep does the work again.
        tracing::warn!(
            "cannot write the sweep state beside {}: {e}",
            queue.path().display()
        );
    }
    Ok(gone)
}

/// Close one entry as superseded: queue first (so a death after it leaves no open entry that
/// merges to nothing), then the log entry, then the branch (only if still at `tip`).
pub(super) fn close(
    home: &Home,
    queue: &Queue,
    target: &Target,
    branch: &str,
    tip: git2::Oid,
    main: git2::Oid,
    why: &str,
) -> anyhow::Result<()> {
    let changed = queue.update(|entries| {
        let Some(e) = entries
            .iter_mut()
            .find(|e| e.branch == branch && e.status.is_open())
        else {
            return Ok(false);
        };
        e.status = Status::Superseded;
        e.decided = Some(Utc::now());
        e.decision_reason = Some(format!("superseded: {why}"));
        e.superseded_by = Some(main.to_string());
        e.group = None;
        Ok(true)
    })?;
    if !changed {
        return Ok(());
    }
    let deleted = if target.branch_tip(branch).ok() == Some(tip) {
        target.delete_branch(branch).map_err(|e| e.to_string())
    } else {
        Err("it moved since it was checked; kept — look at its new commits".to_string())
    };
    let entry = Entry::new(
        "queue_superseded",
        branch.split('/').nth(1),
        json!({
            "branch": branch, "by": main.to_string(), "why": why, "tip": tip.to_string(),
            "branch_deleted": deleted.is_ok(),
            "note": deleted.err(),
        }),
    );
    log::append(&home.log_path(), &entry)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", home.log_path().display()))
}

/// Main moved: sweep (twins that now merge to nothing are superseded), and the near-twins of
/// `branch` that still change something get a `twin_of` note. Never fails the approval.
pub(super) fn after_approval(
    home: &Home,
    config: &Config,
    target: &Target,
    branch: &str,
    twins: &[String],
) {
    if let Err(e) = sweep_locked(home, config, target) {
        tracing::warn!("approved {branch}, but the queue sweep failed: {e:#}");
    }
    if twins.is_empty() {
        return;
    }
    let noted = Queue::new(&home.queue_path()).update(|entries| {
        for e in entries.iter_mut().filter(|e| e.status.is_open()) {
            if twins.contains(&e.branch) {
                e.twin_of = Some(branch.to_string());
            }
        }
        Ok(())
    });
    if let Err(e) = noted {
        tracing::warn!("approved {branch}, but its near-twins were not noted: {e}");
    }
}
