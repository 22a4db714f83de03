//! The evaluate phase: the agent's change — what it committed plus what it left in the worktree
//! when it exited, committed by brl *before* any check runs — measured against the baseline,
//! a test regression confirmed by re-runs, and the worktree returned to the branch tip after
//! every measurement so nothing a check writes enters a branch.

use std::time::Instant;

use super::{Cycle, Report, describe_exit};
use crate::checks::{self, CheckError, confirm};
use crate::git;
use crate::inflight;
use crate::outcome::{self, AgentExit, CheckState, Facts, Measure, Outcome};

/// Why `m` (a baseline) cannot judge anything: a configured check that did not run or whose
/// output could not be read, in the check's own words.
pub(super) fn unusable(m: &Measure) -> Option<String> {
    let broken: Vec<String> = [("typecheck", &m.typecheck), ("test", &m.test)]
        .into_iter()
        .filter_map(|(name, state)| match state {
            CheckState::Failed(why) => Some(format!("{name}: {why}")),
            _ => None,
        })
        .collect();
    (!broken.is_empty()).then(|| {
        format!(
            "{} — no change can be judged until it runs (fix the command under [checks] in brl.toml or install the tool; `brl checks` shows what each check finds); the session retries by itself",
            broken.join("; ")
        )
    })
}

impl Cycle<'_> {
    /// Judge by the commits on the branch, not by what the agent printed.
    pub(super) fn evaluate(&mut self, exit: AgentExit) -> anyhow::Result<(Outcome, String)> {
        self.phase("evaluate");
        let t = Instant::now();
        match git::worktree_head_branch(&self.worktree)? {
            Some(b) if b == self.branch => {}
            other => anyhow::bail!(
                "the agent left the worktree {} on {} instead of the cycle's branch {}",
                self.worktree.display(),
                other.unwrap_or_else(|| "a detached HEAD".into()),
                self.branch
            ),
        }
        let message = format!(
            "brl: commit the changes the agent left uncommitted\n\nThe agent ({}) ended ({}) with uncommitted changes in session {}'s worktree; brl committed them so they are evaluated and kept or discarded with the cycle.",
            self.config.agent.command,
            describe_exit(exit),
            self.session
        );
        crate::chaos::point("cycle:before-leftover-commit");
        let leftover = git::commit_all(&self.worktree, &message)?;
        crate::chaos::point("cycle:after-leftover-commit");
        if leftover.is_some() {
            self.data.committed_by_brl = true;
            self.data
                .notes
                .push("the agent left changes uncommitted; brl committed them".into());
        }
        let head = self.target.branch_tip(&self.branch)?;
        let base = git2::Oid::from_str(&self.base)?;
        let commits = self.target.commits_between(base, head)?;
        self.data.commits = commits.len();
        self.data.subject = commits.first().map(|(_, s)| s.clone()).unwrap_or_default();
        self.data.head = Some(head.to_string());
        let changed = !self.target.same_tree(base, head)?;
        if !changed {
            return Ok(self.decide(exit, false));
        }
        // The change may touch the setup's inputs (a new dependency in the lockfile).
        match self.setup() {
            Ok(()) => {}
            Err(crate::checks::setup::SetupError::Cancelled) => {
                return Ok(self.decide(AgentExit::Interrupted, true));
            }
            Err(e) => {
                self.restore("the worktree setup")?;
                return Ok((
                    Outcome::Discarded,
                    format!("the worktree setup fails on the change: {e}"),
                ));
            }
        }
        let ctx = self.measure_ctx();
        let measured = checks::measure(&ctx, "after").and_then(|first| {
            let before = self.data.before.clone().unwrap_or_else(Measure::none);
            let flaky = self.data.flaky.clone();
            if outcome::compare(&before, &first, &flaky).tests_worse {
                // A test regression decides only if it reproduces.
                confirm::rerun(&ctx, "after", first, &head.to_string(), |m| {
                    outcome::compare(&before, m, &flaky).tests_worse
                })
            } else {
                Ok(first)
            }
        });
        self.restore("the checks after the change")?;
        let after = match measured {
            Ok(m) => m,
            Err(CheckError::Cancelled) => return Ok(self.decide(AgentExit::Interrupted, true)),
            Err(e) => return Err(e.into()),
        };
        if !after.names.flaky.is_empty() {
            self.data.notes.push(format!(
                "flaky (ignored in this decision): {}",
                after.names.flaky.join(", ")
            ));
        }
        self.data.after = Some(after);
        self.data
            .durations
            .push(("evaluate", t.elapsed().as_millis()));
        Ok(self.decide(exit, true))
    }

    pub(super) fn decide(&self, agent: AgentExit, changed: bool) -> (Outcome, String) {
        let none = Measure::none();
        outcome::evaluate_run(
            &Facts {
                agent,
                changed,
                before: self.data.before.as_ref().unwrap_or(&none),
                after: self.data.after.as_ref(),
                timeout_secs: self.config.agent.timeout_secs.get(),
                flaky: &self.data.flaky,
            },
            &self.signals(),
        )
    }

    /// Return the worktree to the branch tip after `what` ran in it; a note says what the
    /// checks left.
    pub(super) fn restore(&mut self, what: &str) -> anyhow::Result<()> {
        let n = git::restore_worktree(&self.worktree)?;
        if n > 0 {
            tracing::info!(
                "{}: {what} left {n} path(s) changed or new in the worktree; removed",
                self.session
            );
        }
        Ok(())
    }

    /// The cycle cannot be judged: undo its branch, block the session with `why`, log nothing
    /// but the block (the agent never ran).
    pub(super) fn abandon(mut self, why: String) -> anyhow::Result<Report> {
        if let Err(e) = git::detach_worktree(&self.worktree) {
            self.data
                .notes
                .push(format!("could not detach the worktree: {e}"));
        }
        if let Err(e) = self.target.delete_branch(&self.branch) {
            crate::say_err!(
                "{}: could not delete the unused branch {}: {e}",
                self.session,
                self.branch
            );
        }
        inflight::clear(self.home, self.session)?;
        super::blocked::set(self.home, self.session, &why);
        anyhow::bail!("session {} is blocked: {why}", self.session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_check_that_cannot_run_is_named_in_its_own_words() {
        let mut m = Measure::none();
        m.test = CheckState::Failed("sh: 1: pytest: not found (exit code 127)".into());
        let why = unusable(&m).unwrap();
        assert!(why.starts_with("test: sh: 1: pytest: not found"), "{why}");
        m.test = CheckState::Ran;
        assert_eq!(unusable(&m), None);
    }
}
