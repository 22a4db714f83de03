//! A merge train: several branches approved in order, each re-checked against the main that
//! already holds the previous ones.
//!
//! For each branch: merge it into the current main in memory, run the configured checks there (in
//! the review's re-check worktree, never the user's checkout), compare with main's own measure
//! (`outcome::evaluate`, the cycle's ratchet); then a normal journaled `decision::approve_with`
//! (crash-safe on its own: a train killed between two merges leaves every merge done complete and
//! the rest open). Main's measure is the previous step's merge measure when the approve produced
//! the same tree, so a train of N costs N merges and about N + 1 check runs, and never checks out
//! the user's main. With no check configured there is nothing to measure, and no re-check
//! worktree is checked out at all: the train is then its merges.
//!
//! The user's checked-out main is brought along by each approve, only the files that merge
//! changes (`Target::follow_main`), so the train's cost on it is proportional to what it merges,
//! never a checkout of the whole tree per step.
//!
//! **Stop, not skip.** The train stops at the first branch that conflicts or makes a count worse
//! (it becomes `conflict`/`stale` with the figures, for a person or the fixer) and does not merge
//! the rest: the order was the person's, later branches may build on or overlap the stopped one,
//! and merging them onto a main the person did not foresee would be a decision they did not make.
//! Fix the stopped branch (or reject it) and run the train again with the rest.

use serde_json::json;

use crate::config::Config;
use crate::decision::{self, Approval};
use crate::git::{Target, Trial};
use crate::home::Home;
use crate::outcome::{self, AgentExit, Facts, Measure, Outcome};
use crate::store::atomic::LockGuard;
use crate::store::log::{self, Entry};
use crate::store::queue::{Queue, Status};

use super::recheck::{Env, Recheck};
use super::{counts_text, short};

/// How one branch of a train ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub branch: String,
    /// `merged`, `superseded`, `conflict`, `stale`, `refused`, `error`, `not_tried`.
    pub result: String,
    pub detail: String,
}

/// What a train did, in order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub steps: Vec<Step>,
}

impl Report {
    /// Every branch the train was given reached main (merged, or its change was already there).
    pub fn complete(&self) -> bool {
        self.steps
            .iter()
            .all(|s| s.result == "merged" || s.result == "superseded")
    }

    pub fn lines(&self) -> Vec<String> {
        self.steps
            .iter()
            .map(|s| format!("{:<10} {}  {}", s.result, s.branch, s.detail))
            .collect()
    }
}

/// The open entries whose automated review said `verdict`, oldest first.
pub fn by_verdict(home: &Home, verdict: &str) -> anyhow::Result<Vec<String>> {
    Ok(Queue::new(&home.queue_path())
        .load()?
        .into_iter()
        .filter(|e| e.status.is_open())
        .filter(|e| e.review.as_ref().is_some_and(|r| r.verdict == verdict))
        .map(|e| e.branch)
        .collect())
}

/// Run the train over `branches` in order. Refused before anything changes when a name is not an
/// open entry, or when the automated review is running (it uses the same re-check worktree).
pub fn run(
    home: &Home,
    config: &Config,
    branches: &[String],
    by: &str,
    force: bool,
) -> anyhow::Result<Report> {
    let queue = Queue::new(&home.queue_path());
    let entries = queue.load()?;
    for b in branches {
        match entries.iter().find(|e| e.branch == *b) {
            Some(e) if e.status.is_open() => {}
            Some(e) => anyhow::bail!(
                "{b} is already {}; nothing was merged — leave it out of the train",
                e.status.as_str()
            ),
            None => anyhow::bail!(
                "{b} is not in the review queue {}; nothing was merged — `brl queue list` shows what is",
                queue.path().display()
            ),
        }
    }
    let lock_path = crate::jobs::Job::Review.lock_path(home);
    let Some(_lock) = LockGuard::try_exclusive(&lock_path)? else {
        anyhow::bail!(
            "the automated review is running (it holds {}, and the train re-checks in the same worktree); nothing was merged — try again when it ends",
            lock_path.display()
        );
    };
    let target = Target::open(&config.repo_path(home.root()), &config.main)?;
    let env = Env {
        home,
        config,
        cancel: None,
        started: chrono::Utc::now(),
    };
    let mut recheck = Recheck::new(home);
    let mut report = Report::default();
    let mut progress = crate::jobs::progress::Publisher::start(home, "train");
    let result = ride(
        env,
        &target,
        &mut recheck,
        branches,
        by,
        force,
        &mut report,
        &mut progress,
    );
    recheck.finish(&target);
    let data = json!({
        "by": by, "forced": force,
        "steps": report.steps.iter().map(|s| json!({"branch": s.branch, "result": s.result, "detail": s.detail})).collect::<Vec<_>>(),
        "error": result.as_ref().err().map(|e| format!("{e:#}")),
    });
    let merged = report
        .steps
        .iter()
        .filter(|s| s.result == "merged" || s.result == "superseded")
        .count();
    let mut shown = data.clone();
    shown["ok"] = serde_json::json!(result.is_ok() && report.complete());
    shown["result"] = serde_json::json!(match report
        .steps
        .iter()
        .find(|s| s.result != "merged" && s.result != "superseded")
    {
        None => format!("{merged} of {} reached {}", branches.len(), config.main),
        Some(s) => format!(
            "{merged} of {} reached {}; stopped at {} ({})",
            branches.len(),
            config.main,
            s.branch,
            s.result
        ),
    });
    progress.finish(&shown);
    let _ = log::append(&home.log_path(), &Entry::new("merge_train", None, data));
    result.map(|()| report)
}

// The train's inputs (where, what, who, how) and its two outputs (the report, the progress).
#[allow(clippy::too_many_arguments)]
fn ride(
    env: Env,
    target: &Target,
    recheck: &mut Recheck,
    branches: &[String],
    by: &str,
    force: bool,
    report: &mut Report,
    progress: &mut crate::jobs::progress::Publisher,
) -> anyhow::Result<()> {
    let queue = Queue::new(&env.home.queue_path());
    let main_name = &env.config.main;
    // (main's tree after the last merge, the measure of that merge)
    let mut last: Option<(git2::Oid, Measure)> = None;
    let mut stopped = false;
    let measured = env.config.checks.typecheck.is_some() || env.config.checks.test.is_some();
    let n = branches.len();
    for (i, branch) in branches.iter().enumerate() {
        if !stopped {
            progress.step(format!("branch {} of {n}: {branch}", i + 1));
        }
        if stopped {
            report.steps.push(Step {
                branch: branch.clone(),
                result: "not_tried".into(),
                detail: "not merged by this train: it stopped before (see above)".into(),
            });
            continue;
        }
        let step = |result: &str, detail: String| Step {
            branch: branch.clone(),
            result: result.into(),
            detail,
        };
        let entry = queue.find(branch)?;
        if let Some(e) = entry.as_ref().filter(|e| !e.status.is_open()) {
            // Closed since the train started (a twin merged before it: superseded).
            report.steps.push(step(
                e.status.as_str(),
                e.decision_reason.clone().unwrap_or_default(),
            ));
            stopped = e.status != Status::Superseded;
            continue;
        }
        let blind = entry
            .as_ref()
            .is_some_and(|e| matches!(e.status, Status::Stale | Status::Conflict));
        if blind && !force {
            // The same refusal a single approve gives, with the re-check's figures.
            let a = decision::approve_with(env.home, env.config, branch, by, false)?;
            report
                .steps
                .push(step("refused", a.describe(branch, main_name)));
            stopped = true;
            continue;
        }
        let (merged, main) = match target.trial_merge(branch)? {
            Trial::AlreadyMerged => (None, target.main_commit()?),
            Trial::Conflict { files } => {
                let why = format!(
                    "merge train: conflicts with {main_name} (with the branches merged before it) in {}",
                    files.join(", ")
                );
                mark(&queue, branch, Status::Conflict, &why, files)?;
                report.steps.push(step("conflict", why));
                stopped = true;
                continue;
            }
            Trial::Clean { commit, main } => (Some(commit), main),
        };
        if let Some(merged) = merged {
            let (before, after) = if !measured {
                // No check configured: nothing to measure, so no checkout to measure it in.
                (Measure::none(), Measure::none())
            } else {
                let main_tree = target.tree_of(main)?;
                let before = match last.take() {
                    Some((tree, m)) if tree == main_tree => m,
                    _ => recheck.measure_main(env, target, main)?,
                };
                (before, recheck.measure_merge(env, target, merged)?)
            };
            let (verdict, why) = outcome::evaluate(&Facts {
                agent: AgentExit::Exited(0),
                changed: true,
                before: &before,
                after: Some(&after),
                timeout_secs: 0,
                flaky: &crate::checks::flaky::known(env.home),
            });
            let figures = format!(
                "{} on {main_name} at {} → {} merged",
                counts_text(&before),
                short(&main.to_string()),
                counts_text(&after)
            );
            if verdict == Outcome::Discarded && !force {
                let why = format!("merge train: regresses against {main_name}: {why} ({figures})");
                mark(&queue, branch, Status::Stale, &why, vec![])?;
                report.steps.push(step("stale", why));
                stopped = true;
                continue;
            }
            last = Some((target.tree_of(merged)?, after));
        }
        match decision::approve_with(env.home, env.config, branch, by, force) {
            Ok(a @ Approval::Merged { .. }) | Ok(a @ Approval::AlreadyMerged) => {
                report
                    .steps
                    .push(step("merged", a.describe(branch, main_name)));
            }
            Ok(Approval::Superseded { why }) => report.steps.push(step("superseded", why)),
            Ok(a @ Approval::Conflict { .. }) => {
                report
                    .steps
                    .push(step("conflict", a.describe(branch, main_name)));
                stopped = true;
            }
            Ok(a @ Approval::Refused { .. }) => {
                report
                    .steps
                    .push(step("refused", a.describe(branch, main_name)));
                stopped = true;
            }
            Err(e) => {
                report.steps.push(step("error", format!("{e:#}")));
                stopped = true;
            }
        }
    }
    Ok(())
}

/// The entry becomes `status` with `why` (the train's figures); only while still open.
fn mark(
    queue: &Queue,
    branch: &str,
    status: Status,
    why: &str,
    files: Vec<String>,
) -> anyhow::Result<()> {
    queue.update(|entries| {
        if let Some(e) = entries
            .iter_mut()
            .find(|e| e.branch == branch && e.status.is_open())
        {
            e.status = status;
            e.decision_reason = Some(why.to_string());
            if !files.is_empty() {
                e.conflict_files = files;
            }
        }
        Ok(())
    })?;
    Ok(())
}
