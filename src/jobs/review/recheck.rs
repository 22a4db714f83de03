//! The re-check worktree: main, then main merged with a branch, checked out on a scratch branch
//! in `worktrees/_review` (never a session's), made ready by `[worktree] setup` (run only when its
//! inputs changed, see `checks::setup`), and measured with the configured checks.

use crate::checks::setup::{self, SetupCtx};
use crate::checks::{self, MeasureCtx};
use crate::git::{self, Target};

use super::super::{Ctx, JobError};
use super::SCRATCH;
use crate::config::Config;
use crate::home::Home;

/// What a re-check needs from its caller (the review job, or a merge train).
#[derive(Clone, Copy)]
pub(super) struct Env<'a> {
    pub(super) home: &'a Home,
    pub(super) config: &'a Config,
    pub(super) cancel: Option<&'a std::sync::atomic::AtomicBool>,
    pub(super) started: chrono::DateTime<chrono::Utc>,
}

impl<'a> Env<'a> {
    pub(super) fn of(ctx: &Ctx<'a>) -> Env<'a> {
        Env {
            home: ctx.home,
            config: ctx.config,
            cancel: ctx.cancel,
            started: ctx.started,
        }
    }
}

/// The worktree the re-checks run in: the scratch branch moved to each commit to measure.
pub(super) struct Recheck {
    pub(super) path: std::path::PathBuf,
    name: String,
    used: bool,
}

impl Recheck {
    pub(super) fn new(home: &Home) -> Recheck {
        Recheck {
            path: home.worktrees_dir().join("_review"),
            name: home.worktree_name("review"),
            used: false,
        }
    }

    fn checkout(&mut self, target: &Target, at: git2::Oid) -> Result<(), JobError> {
        let fail = |e: crate::git::GitError| JobError::Failed(format!("re-check worktree: {e}"));
        if self.used {
            // The worktree holds the scratch branch: detach before moving the branch.
            git::detach_worktree(&self.path).map_err(fail)?;
        }
        target.set_scratch_branch(SCRATCH, at).map_err(fail)?;
        target
            .ensure_worktree(&self.name, &self.path, SCRATCH)
            .map_err(fail)?;
        self.used = true;
        Ok(())
    }

    /// `[worktree] setup` in the re-check worktree, now at the commit to measure. A setup that
    /// fails stops the job the way a worktree that cannot be checked out does: the branches stay
    /// pending, and the job's entry carries the command, its exit and its output's tail.
    fn setup(&self, ctx: Env, out: &std::path::Path, what: &str) -> Result<(), JobError> {
        let prefix = std::path::PathBuf::from(format!("{}-{what}", out.display()));
        setup::ensure(&SetupCtx {
            home: ctx.home,
            config: ctx.config,
            worktree: &self.path,
            session: None,
            log_prefix: &prefix,
            cancel: ctx.cancel,
            pgid_file: None,
        })
        .map(|_| ())
        .map_err(|e| JobError::Failed(format!("re-check worktree: {e}")))
    }

    /// (main's measure, the merge's measure).
    pub(super) fn measure(
        &mut self,
        ctx: Env,
        target: &Target,
        main: git2::Oid,
        merged: git2::Oid,
    ) -> Result<(crate::outcome::Measure, crate::outcome::Measure), JobError> {
        let before = self.measure_main(ctx, target, main)?;
        let after = self.measure_merge(ctx, target, merged)?;
        Ok((before, after))
    }

    fn out(ctx: Env) -> std::path::PathBuf {
        ctx.home.logs_dir().join("jobs").join(format!(
            "{}-review-recheck",
            ctx.started.format("%Y%m%d-%H%M%S")
        ))
    }

    fn mctx<'m>(&'m self, ctx: Env<'m>) -> MeasureCtx<'m> {
        MeasureCtx {
            home: ctx.home,
            config: ctx.config,
            worktree: &self.path,
            output_prefix: Self::out(ctx),
            cancel: ctx.cancel,
            pgid_file: None,
        }
    }

    /// Main's measure at `main` (the shared baseline: reused when main's commit was measured).
    pub(super) fn measure_main(
        &mut self,
        ctx: Env,
        target: &Target,
        main: git2::Oid,
    ) -> Result<crate::outcome::Measure, JobError> {
        self.checkout(target, main)?;
        self.setup(ctx, &Self::out(ctx), "main")?;
        let (before, _) = checks::baseline(&self.mctx(ctx), &main.to_string()).map_err(|e| {
            JobError::Failed(format!("checks on {} at {main}: {e}", ctx.config.main))
        })?;
        Ok(before)
    }

    /// The measure of `merged` (main merged with a branch).
    pub(super) fn measure_merge(
        &mut self,
        ctx: Env,
        target: &Target,
        merged: git2::Oid,
    ) -> Result<crate::outcome::Measure, JobError> {
        self.checkout(target, merged)?;
        self.setup(ctx, &Self::out(ctx), "merge")?;
        checks::measure(&self.mctx(ctx), "recheck")
            .map_err(|e| JobError::Failed(format!("checks on the merge: {e}")))
    }

    /// Leave no scratch branch behind (the worktree directory stays, detached, for next time).
    pub(super) fn finish(self, target: &Target) {
        if self.used {
            let _ = git::detach_worktree(&self.path);
        }
        if target.branch_exists(SCRATCH) {
            let _ = target.delete_branch(SCRATCH);
        }
    }
}
