//! brl's own commit in a worktree: what the agent left uncommitted, never the agents' state.

use std::path::Path;

use git2::{ErrorCode, IndexAddOption, Oid, StatusOptions};

use super::{Ctx, Result, open_worktree, signature};

/// In a worktree: if there are uncommitted changes (modified, deleted, or new untracked
/// non-ignored files), stage everything and commit on the current HEAD with `message` —
/// everything but agent state: the caches and settings any agent preset leaves in a worktree
/// ([`crate::agents::all_state_paths`]: `.aider*`, `.claude/settings.local.json`, …) never enter
/// a branch through brl. Returns the new commit id, or None when there was nothing to commit.
pub fn commit_all(worktree: &Path, message: &str) -> Result<Option<Oid>> {
    let state = crate::agents::all_state_paths();
    commit_all_except(worktree, message, &|rel| {
        crate::agents::is_state_path(&state, rel)
    })
}

/// [`commit_all`] leaving out every path (relative to the worktree, `/`-separated) for which
/// `leave_out` says yes: an untracked one stays untracked, a change to a tracked one stays
/// unstaged.
pub fn commit_all_except(
    worktree: &Path,
    message: &str,
    leave_out: &dyn Fn(&str) -> bool,
) -> Result<Option<Oid>> {
    let repo = open_worktree(worktree)?;
    let what = || format!("cannot commit the changes in {}", worktree.display());
    {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        let st = repo.statuses(Some(&mut opts)).ctx(what)?;
        if st.is_empty() {
            return Ok(None);
        }
    }
    let mut index = repo.index().ctx(what)?;
    // 0: stage it; 1: leave it out.
    let mut pick = |path: &Path, _spec: &[u8]| -> i32 {
        let rel = path.to_string_lossy().replace('\\', "/");
        i32::from(leave_out(&rel))
    };
    index
        .add_all(["*"], IndexAddOption::DEFAULT, Some(&mut pick))
        .ctx(what)?;
    index.update_all(["*"], Some(&mut pick)).ctx(what)?;
    index.write().ctx(what)?;
    let tree_id = index.write_tree().ctx(what)?;
    let parent = match repo.head() {
        Ok(h) => Some(h.peel_to_commit().ctx(what)?),
        Err(e) if e.code() == ErrorCode::UnbornBranch || e.code() == ErrorCode::NotFound => None,
        Err(e) => return Err(e).ctx(what),
    };
    if parent.as_ref().is_some_and(|p| p.tree_id() == tree_id) {
        return Ok(None);
    }
    let tree = repo.find_tree(tree_id).ctx(what)?;
    let sig = signature(&repo)?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    let id = repo
        .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .ctx(what)?;
    Ok(Some(id))
}
