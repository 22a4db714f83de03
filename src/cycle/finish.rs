//! The end of a cycle: its branch put where the outcome says (the review queue, or gone) and
//! the data of its `ralph_cycle` entry.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Cycle;
use crate::git;
use crate::outcome::{Measure, Outcome};
use crate::store::queue::{Queue, QueueEntry, Status};
use crate::store::tasks::Tasks;

/// At most this many test names and error identities per list in a `ralph_cycle` entry.
const NAMES_IN_ENTRY: usize = 50;

impl Cycle<'_> {
    /// Put the branch where the outcome says: the review queue, or gone. Returns the final
    /// outcome (a kept branch that cannot be queued is an error, and the branch stays).
    pub(super) fn dispose(&mut self, outcome: Outcome, reason: String) -> (Outcome, String) {
        if self.worktree.exists()
            && let Err(e) = git::detach_worktree(&self.worktree)
        {
            self.data
                .notes
                .push(format!("could not detach the worktree: {e}"));
        }
        if outcome == Outcome::Kept {
            let entry = QueueEntry {
                branch: self.branch.clone(),
                session: self.session.to_string(),
                status: Status::Pending,
                created: Utc::now(),
                before: self
                    .data
                    .before
                    .as_ref()
                    .map(|m| m.counts)
                    .unwrap_or_default(),
                after: self
                    .data
                    .after
                    .as_ref()
                    .map(|m| m.counts)
                    .unwrap_or_default(),
                reason: reason.clone(),
                base: self.base.clone(),
                head: self.data.head.clone().unwrap_or_default(),
                commits: self.data.commits,
                subject: self.data.subject.clone(),
                decided: None,
                decision_reason: None,
                merged_as: None,
                conflict_files: vec![],
                review: None,
                cycle_id: Some(self.id.clone()),
                group: None,
                twin_of: None,
                superseded_by: None,
                fix: None,
            };
            return match Queue::new(&self.home.queue_path()).add(entry) {
                Ok(()) => (outcome, reason),
                Err(e) => (
                    Outcome::Error,
                    format!(
                        "kept ({reason}) but not queued, the branch {} stays: {e}",
                        self.branch
                    ),
                ),
            };
        }
        // Commits that were judged and discarded, or never judged (an error after the agent
        // committed): kept for a person to look at, outside the `brl/*` branches (those are
        // exactly the review queue's).
        self.prune_discarded();
        let keep = match outcome {
            Outcome::Error => Some(git::unjudged_ref(&self.id)),
            Outcome::Discarded => Some(git::discarded_ref(&self.id)),
            _ => None,
        };
        if let Some(refname) = keep.filter(|_| self.branch_has_commits()) {
            match self.target.move_branch_to_ref(
                &self.branch,
                &refname,
                &format!(
                    "brl: keep the commits of a cycle that ended {}",
                    outcome.as_str()
                ),
            ) {
                Ok(_) => {
                    self.data.branch_deleted = true;
                    self.data.kept_as = Some(refname.clone());
                    self.data.notes.push(format!(
                        "its commits are kept as {refname} (`git log {refname}`), not in the review queue"
                    ));
                }
                Err(e) => self.data.notes.push(format!(
                    "branch {} kept for inspection (could not move it to {refname}: {e})",
                    self.branch
                )),
            }
            return (outcome, reason);
        }
        match self.target.delete_branch(&self.branch) {
            Ok(()) => self.data.branch_deleted = true,
            Err(e) => self
                .data
                .notes
                .push(format!("could not delete branch {}: {e}", self.branch)),
        }
        (outcome, reason)
    }

    /// Drop the kept commits of discarded cycles older than `[checks] keep_discarded_days`.
    fn prune_discarded(&mut self) {
        let days = self.config.checks.keep_discarded_days;
        match self.target.prune_discarded(days, Utc::now()) {
            Ok(gone) if !gone.is_empty() => tracing::info!(
                "pruned {} discarded cycle(s) older than {days} days",
                gone.len()
            ),
            Ok(_) => {}
            Err(e) => self.data.notes.push(format!("{e}")),
        }
    }

    /// Does the branch hold commits past its base? Counted here, not taken from the data: an
    /// error can end the cycle before the evaluation counted them. Unknown counts as yes, so
    /// nothing is deleted on a guess.
    fn branch_has_commits(&self) -> bool {
        if self.data.commits > 0 {
            return true;
        }
        let Ok(base) = git2::Oid::from_str(&self.base) else {
            return true;
        };
        match self.target.branch_tip(&self.branch) {
            Ok(tip) => self
                .target
                .commits_between(base, tip)
                .map_or(true, |c| !c.is_empty()),
            Err(_) => self.target.branch_exists(&self.branch),
        }
    }

    /// A task from the queue: done with the kept branch; back to the queue (or failed after
    /// `max_attempts`) otherwise; released uncounted when the cycle was interrupted.
    pub(super) fn settle_task(&mut self, outcome: Outcome, reason: &str) {
        let Some(id) = self.opts.task.as_ref().and_then(|t| t.id) else {
            return;
        };
        let tasks = Tasks::new(&self.home.tasks_path());
        // In a host's own home the task was claimed by the control room, in its task queue: it
        // settles the task when it collects this cycle's entry (`hosts::collect`).
        if self.config.host.is_some()
            && tasks
                .load()
                .is_ok_and(|list| !list.iter().any(|t| t.id == id))
        {
            return;
        }
        let result = match outcome {
            // Not the task's fault: back to the queue, uncounted.
            Outcome::Interrupted | Outcome::RateLimited => tasks.release(id, reason),
            _ => tasks.finish(
                id,
                outcome == Outcome::Kept,
                &self.branch,
                reason,
                self.config.scheduler.max_attempts.get(),
            ),
        };
        match result {
            Ok(t) => self.data.task_state = Some(t.state.as_str()),
            Err(e) => self
                .data
                .notes
                .push(format!("could not update task #{id}: {e}")),
        }
    }

    pub(super) fn entry_data(
        &self,
        outcome: Outcome,
        reason: &str,
        started: DateTime<Utc>,
    ) -> Value {
        let d = &self.data;
        let mut durations: serde_json::Map<String, Value> = d
            .durations
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let total = (Utc::now() - started).num_milliseconds();
        durations.insert("total".into(), json!(total));
        let counts = |m: &Option<Measure>| m.as_ref().map(|m| json!(m.counts));
        let states = |m: &Option<Measure>| {
            m.as_ref()
                .map(|m| json!({"typecheck": m.typecheck, "test": m.test}))
        };
        // Which tests fail and which errors exist, as far as the parsers name them (capped: the
        // full lists are in the checks' output files).
        let names = |m: &Option<Measure>| {
            m.as_ref().filter(|m| !m.names.is_empty()).map(|m| {
                let cap = |v: &Option<Vec<String>>| {
                    v.as_ref()
                        .map(|v| v.iter().take(NAMES_IN_ENTRY).cloned().collect::<Vec<_>>())
                };
                json!({
                    "failing": cap(&m.names.failing),
                    "errors": cap(&m.names.errors),
                    "flaky": m.names.flaky,
                })
            })
        };
        json!({
            "cycle_id": self.id,
            "role": self.opts.start.as_ref().map_or("ralph", |s| s.role),
            "outcome": outcome.as_str(),
            "reason": reason,
            "branch": self.branch,
            "base": self.base,
            "head": d.head,
            "kept_as": d.kept_as,
            "before": counts(&d.before),
            "after": counts(&d.after),
            "checks": { "before": states(&d.before), "after": states(&d.after) },
            "names": { "before": names(&d.before), "after": names(&d.after) },
            "baseline_cached": d.baseline_cached,
            "duration_ms": durations,
            "commits": d.commits,
            "subject": d.subject,
            "committed_by_brl": d.committed_by_brl,
            "branch_deleted": d.branch_deleted,
            "agent": d.agent,
            "cost_usd": d.result.as_ref().and_then(|r| r.cost_usd),
            "cost_source": d.result.as_ref().and_then(|r| r.cost_source),
            "num_turns": d.result.as_ref().and_then(|r| r.turns),
            "denials": d.result.as_ref().map(|r| &r.denials).filter(|v| !v.is_empty()),
            "limit": d.limited.as_ref().map(|(l, _)| l),
            "task": self.opts.task.as_ref().map(|t| t.title.clone()),
            "task_id": self.opts.task.as_ref().and_then(|t| t.id),
            "task_state": d.task_state,
            "output": self.output_path().display().to_string(),
            "notes": d.notes,
        })
    }
}
