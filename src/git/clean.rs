//! Returning a worktree to its HEAD commit after the checks ran in it: nothing a check writes
//! (byte-code caches, build stamps, files `make` made by its implicit rules, a reformatted
//! source) may be taken for the agent's work.

use std::path::Path;

use git2::build::CheckoutBuilder;
use git2::{Repository, ResetType};

use super::{Ctx, Result};

/// Reset the worktree at `path` to its HEAD commit: tracked files and the index as committed,
/// untracked files removed. Ignored files stay (dependencies such as `node_modules`, caches the
/// checks reuse); git never commits them unless forced. Returns how many paths it put back or
/// removed.
pub fn restore_worktree(path: &Path) -> Result<usize> {
    let what = || {
        format!(
            "cannot return the worktree {} to its commit",
            path.display()
        )
    };
    let repo = Repository::open(path).ctx(what)?;
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(false)
        .include_ignored(false)
        .exclude_submodules(true);
    let dirty = repo.statuses(Some(&mut opts)).ctx(what)?.len();
    if dirty == 0 {
        return Ok(0);
    }
    let head = repo
        .head()
        .and_then(|h| h.peel(git2::ObjectType::Commit))
        .ctx(what)?;
    repo.reset(&head, ResetType::Hard, None).ctx(what)?;
    // libgit2's hard reset checks out with its own strategy (FORCE only), dropping
    // REMOVE_UNTRACKED from the options it is given: the untracked files go in a checkout of
    // their own.
    let mut co = CheckoutBuilder::new();
    co.force().remove_untracked(true).remove_ignored(false);
    repo.checkout_head(Some(&mut co)).ctx(what)?;
    Ok(dirty)
}
