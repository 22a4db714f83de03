//! One repair: the branch merged onto main in a session's worktree, a cycle of role `fix` from
//! there, and the review queue settled by its outcome (replaced, or the attempt counted).

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use chrono::Utc;
use serde_json::json;

use crate::config::Config;
use crate::cycle::{self, Options, PhaseFn, Start};
use crate::git::{self, Target};
use crate::home::Home;
use crate::outcome::Outcome;
use crate::scheduler::fix as order;
use crate::store::atomic::{LockGuard, lock_owner};
use crate::store::log::{self, Entry};
use crate::store::queue::{Fix, Queue, QueueEntry};

use super::{lock_path, refusal};

/// What one repair did (also the `fix_result` entry's data).
#[derive(Debug, Clone)]
pub struct FixReport {
    /// The branch repaired.
    pub branch: String,
    /// The repair cycle's branch; in the queue in place of `branch` when `ok`.
    pub new_branch: String,
    pub ok: bool,
    pub outcome: Outcome,
    pub reason: String,
    pub attempt: u32,
    /// This failure was the last attempt.
    pub gave_up: bool,
    pub data: serde_json::Value,
}

impl FixReport {
    pub fn summary(&self) -> String {
        match (self.ok, self.gave_up) {
            (true, _) => format!(
                "fix: {} repaired as {} (attempt {}) — {}",
                self.branch, self.new_branch, self.attempt, self.reason
            ),
            (false, true) => format!(
                "fix: {} not repaired ({}), and that was its last attempt: {}",
                self.branch,
                self.outcome.as_str(),
                self.reason
            ),
            (false, false) => format!(
                "fix: {} not repaired (attempt {}, {}): {}",
                self.branch,
                self.attempt,
                self.outcome.as_str(),
                self.reason
            ),
        }
    }
}

/// Repair `branch` in `session`'s worktree now (the caller made sure no other cycle of the
/// session runs: the cycle's session lock refuses otherwise). `Err` when the repair could not
/// start (the branch is being repaired, is not broken, out of attempts, the session is busy);
/// then nothing is counted.
pub fn run_one(
    home: &Home,
    config: &Config,
    session: &str,
    branch: &str,
    echo: bool,
    cancel: Option<&AtomicBool>,
    on_phase: Option<&PhaseFn<'_>>,
) -> anyhow::Result<FixReport> {
    let lock = lock_path(home, branch);
    let Some(mut guard) = LockGuard::try_exclusive(&lock)? else {
        let who = lock_owner(&lock)
            .map(|p| format!(" (pid {p})"))
            .unwrap_or_default();
        anyhow::bail!(
            "branch {branch} is being repaired already{who}, holding {}; one repair per branch at a time — its `fix_result` entry appears in the log",
            lock.display()
        );
    };
    guard.write_owner()?;
    let queue = Queue::new(&home.queue_path());
    let entry = queue.find(branch)?.with_context(|| {
        format!("branch {branch} is not in the review queue (`brl queue` lists it)")
    })?;
    let max = config.fixer.max_attempts.get();
    if let Err(why) = order::eligible(&entry, max, &Default::default(), None, Utc::now()) {
        anyhow::bail!("{}", refusal(branch, &entry, &why, max));
    }
    let target = Target::open(&config.repo_path(home.root()), &config.main)?;
    let tip = target.branch_tip(branch)?;
    let attempt = entry.fix.as_ref().map_or(0, |f| f.attempts) + 1;
    let mut progress = crate::jobs::progress::Publisher::start(home, "fix");
    progress.step(format!(
        "repairing {branch} in {session} (attempt {attempt} of {max})"
    ));
    let conflicted = RefCell::new(Vec::<String>::new());
    let main = config.main.clone();
    let prepare = |wt: &Path, _new: &str| -> anyhow::Result<Vec<(&'static str, String)>> {
        let message = format!(
            "brl fix: merge {branch} onto {main} (attempt {attempt} of {max})\n\nThe review queue had {branch} as `{}`; files that conflicted are committed with their markers for the fixer to resolve.",
            entry.status.as_str()
        );
        let st = git::merge_for_fix(wt, tip, &main, branch, &message)?;
        let list = if st.conflicted.is_empty() {
            "(none: the merge was clean; what got worse is in the figures above)".to_string()
        } else {
            st.conflicted
                .iter()
                .map(|f| format!("- {f}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        *conflicted.borrow_mut() = st.conflicted;
        Ok(vec![
            ("fix_branch", branch.to_string()),
            ("fix_status", entry.status.as_str().to_string()),
            ("fix_subject", entry.subject.clone()),
            ("fix_attempt", attempt.to_string()),
            ("fix_max_attempts", max.to_string()),
            ("fix_why", why_broken(&entry)),
            ("fix_conflicted", list),
        ])
    };
    let opts = Options {
        task: None,
        echo,
        cancel,
        on_phase,
        start: Some(Start {
            role: "fix",
            prepare: &prepare,
        }),
    };
    let report = cycle::run(home, config, session, &opts)?;
    let conflicted = conflicted.into_inner();
    let cycle_id = report.entry.data["cycle_id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut outcome = report.outcome;
    let mut reason = report.reason.clone();
    let mut notes: Vec<String> = Vec::new();
    if outcome == Outcome::Kept {
        let left = target
            .branch_tip(&report.branch)
            .and_then(|h| target.markers_left(h, &conflicted));
        match left {
            Ok(files) if files.is_empty() => {}
            found => {
                reason = match found {
                    Ok(files) => format!("conflict markers left in {}", files.join(", ")),
                    Err(e) => format!("cannot check the repair for conflict markers: {e}"),
                };
                outcome = Outcome::Discarded;
                notes.push(withdraw(&target, &queue, &report.branch, &cycle_id));
            }
        }
    }
    let counted = !matches!(outcome, Outcome::Interrupted | Outcome::RateLimited);
    let ok = outcome == Outcome::Kept;
    let gave_up = !ok && counted && attempt >= max;
    if ok {
        notes.extend(replace(&target, &queue, branch, &report.branch, attempt));
    } else if counted {
        let note = if gave_up {
            format!("the fixer gave up after {attempt} attempt(s): {reason}; a person decides")
        } else {
            format!(
                "repair attempt {attempt} of {max} failed ({}): {reason}",
                outcome.as_str()
            )
        };
        let r = queue.update(|entries| {
            if let Some(e) = entries.iter_mut().find(|e| e.branch == branch) {
                let f = e.fix.get_or_insert_with(Fix::default);
                f.attempts = attempt;
                f.last_at = Some(Utc::now());
                f.note = Some(note.clone());
            }
            Ok(())
        });
        if let Err(e) = r {
            notes.push(format!("could not count the attempt on {branch}: {e}"));
        }
    }
    let data = json!({
        "branch": branch,
        "new_branch": report.branch,
        "cycle_id": cycle_id,
        "ok": ok,
        "outcome": outcome.as_str(),
        "reason": reason,
        "attempt": attempt,
        "max_attempts": max,
        "counted": counted,
        "gave_up": gave_up,
        "was": entry.status.as_str(),
        "conflicted": conflicted,
        "notes": notes,
    });
    log::append(
        &home.log_path(),
        &Entry::new("fix_result", Some(session), data.clone()),
    )
    .with_context(|| format!("cannot append to {}", home.log_path().display()))?;
    let report = FixReport {
        branch: branch.to_string(),
        new_branch: report.branch,
        ok,
        outcome,
        reason,
        attempt,
        gave_up,
        data,
    };
    let mut shown = report.data.clone();
    shown["result"] = json!(report.summary());
    progress.finish(&shown);
    Ok(report)
}

/// The figures and words that made the entry `conflict` or `stale`.
fn why_broken(e: &QueueEntry) -> String {
    let mut s = Vec::new();
    if let Some(r) = &e.decision_reason {
        s.push(r.clone());
    }
    if let Some(f) = e.review.as_ref().and_then(|r| r.figures.as_ref()) {
        s.push(format!("Re-check figures: {f}"));
    }
    if !e.conflict_files.is_empty() {
        s.push(format!(
            "Conflicting files: {}",
            e.conflict_files.join(", ")
        ));
    }
    s.push(format!("When it was kept: {}", e.reason));
    s.join("\n")
}

/// A kept repair that still holds conflict markers: out of the queue, its commits kept under
/// the discarded refs like any discarded cycle's.
fn withdraw(target: &Target, queue: &Queue, new: &str, cycle_id: &str) -> String {
    if let Err(e) = queue.update(|entries| {
        entries.retain(|e| e.branch != new);
        Ok(())
    }) {
        return format!("could not take {new} out of the review queue: {e}");
    }
    let refname = git::discarded_ref(cycle_id);
    match target.move_branch_to_ref(new, &refname, "brl fix: the repair left conflict markers") {
        Ok(_) => format!("the repair's commits are kept as {refname}"),
        Err(e) => format!("branch {new} stays (could not move it to {refname}: {e})"),
    }
}

/// The repair `new` replaces `old` in the queue; `old`'s branch is deleted (its commits live on
/// in `new`'s merge commit).
fn replace(target: &Target, queue: &Queue, old: &str, new: &str, attempt: u32) -> Vec<String> {
    let mut notes = Vec::new();
    let still_open = queue.update(|entries| {
        if let Some(e) = entries.iter_mut().find(|e| e.branch == new) {
            e.fix = Some(Fix {
                fixes: Some(old.to_string()),
                fixed_by_attempt: Some(attempt),
                ..Fix::default()
            });
        }
        let open = entries
            .iter()
            .any(|e| e.branch == old && e.status.is_open());
        if open {
            entries.retain(|e| e.branch != old);
        }
        Ok(open)
    });
    match still_open {
        Ok(true) => match target.delete_branch(old) {
            Ok(()) => notes.push(format!("{old} replaced by {new} and deleted")),
            Err(e) => notes.push(format!("{old} replaced by {new}; could not delete it: {e}")),
        },
        Ok(false) => notes.push(format!(
            "{old} was decided while it was repaired; {new} waits for review on its own"
        )),
        Err(e) => notes.push(format!(
            "could not replace {old} by {new} in the queue: {e}"
        )),
    }
    notes
}
