//! Linked worktrees: brl's per-session working copies, and finding which working trees have a
//! branch checked out.

use std::path::{Path, PathBuf};

use git2::Repository;
use git2::build::CheckoutBuilder;

use super::{Ctx, Result, Target, msg};

/// A live working tree (the target's main one or a linked worktree) and a handle on it.
pub(super) struct WorkTree {
    pub path: PathBuf,
    pub repo: Repository,
}

/// HEAD of `repo` is a symbolic ref to `refname` (without resolving it).
fn head_points_at(repo: &Repository, refname: &str) -> bool {
    repo.find_reference("HEAD")
        .ok()
        .and_then(|h| h.symbolic_target().map(|t| t == refname))
        .unwrap_or(false)
}

/// Same directory? Canonicalizes when both exist (symlinked temp dirs etc.).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.components().eq(b.components()),
    }
}

impl Target {
    /// Every live working tree (the main one, unless bare, and each linked worktree whose
    /// directory still exists) whose HEAD is a symbolic ref to `refname`.
    pub(super) fn trees_on(&self, refname: &str) -> Result<Vec<WorkTree>> {
        let what = || format!("cannot list the worktrees of {}", self.path.display());
        let mut out = Vec::new();
        let common = Repository::open(self.repo.commondir()).ctx(what)?;
        if !common.is_bare()
            && head_points_at(&common, refname)
            && let Some(wd) = common.workdir()
        {
            out.push(WorkTree {
                path: wd.components().collect(), // no trailing slash
                repo: common,
            });
        }
        let names = self.repo.worktrees().ctx(what)?;
        for name in names.iter().flatten() {
            let Ok(wt) = self.repo.find_worktree(name) else {
                continue;
            };
            if wt.validate().is_err() {
                // Its directory is gone (prunable): there is no working tree to look after.
                continue;
            }
            let repo = Repository::open_from_worktree(&wt).ctx(what)?;
            if head_points_at(&repo, refname) {
                out.push(WorkTree {
                    path: wt.path().to_path_buf(),
                    repo,
                });
            }
        }
        Ok(out)
    }

    /// Make `path` a worktree of the target repo (worktree name `wt_name`) with `branch` checked
    /// out and clean. Reuses an existing worktree of that name at `path` (force-checkout of the
    /// branch, removing untracked but keeping ignored files); prunes a stale record whose
    /// directory is gone. The target repo's own working tree, index and HEAD are untouched.
    pub fn ensure_worktree(&self, wt_name: &str, path: &Path, branch: &str) -> Result<()> {
        if wt_name.is_empty()
            || wt_name.starts_with('.')
            || wt_name.contains(['/', '\\'])
            || wt_name.chars().any(char::is_whitespace)
        {
            return msg(format!(
                "'{wt_name}' is not a usable worktree name (no slashes, spaces or leading dot)"
            ));
        }
        let refname = format!("refs/heads/{branch}");
        let what = || {
            format!(
                "cannot set up worktree '{wt_name}' at {} for branch '{branch}' of {}",
                path.display(),
                self.path.display()
            )
        };
        let branch_ref = self
            .repo
            .find_reference(&refname)
            .ctx(|| format!("branch '{branch}' not found in {}", self.path.display()))?;
        let tip = branch_ref.peel_to_commit().ctx(what)?;

        // Someone else (the user's own tree, another session) must not have the branch.
        for t in self.trees_on(&refname)? {
            if !same_dir(&t.path, path) {
                return msg(format!(
                    "branch '{branch}' of {} is already checked out in {}; it cannot also be \
                     checked out in {}",
                    self.path.display(),
                    t.path.display(),
                    path.display()
                ));
            }
        }

        match self.repo.find_worktree(wt_name) {
            Ok(wt) => {
                let registered = wt.path().to_path_buf();
                if wt.validate().is_ok() {
                    if !same_dir(&registered, path) {
                        return msg(format!(
                            "worktree '{wt_name}' of {} is at {}, not at {}; remove it \
                             (`git -C {} worktree remove {wt_name}`) or use another name",
                            self.path.display(),
                            registered.display(),
                            path.display(),
                            self.path.display()
                        ));
                    }
                    let wt_repo = Repository::open_from_worktree(&wt).ctx(what)?;
                    let mut co = CheckoutBuilder::new();
                    co.force().remove_untracked(true).remove_ignored(false);
                    // Objects must come from the handle doing the checkout.
                    let tree = wt_repo.find_tree(tip.tree_id()).ctx(what)?;
                    wt_repo
                        .checkout_tree(tree.as_object(), Some(&mut co))
                        .ctx(what)?;
                    wt_repo.set_head(&refname).ctx(what)?;
                    return Ok(());
                }
                if registered.exists() {
                    return msg(format!(
                        "worktree '{wt_name}' of {} at {} is broken ({}); remove it \
                         (`git -C {} worktree remove --force {wt_name}`) and retry",
                        self.path.display(),
                        registered.display(),
                        wt.validate()
                            .err()
                            .map(|e| e.message().to_string())
                            .unwrap_or_default(),
                        self.path.display()
                    ));
                }
                // Its directory was deleted: drop the stale record (fails if locked).
                wt.prune(None).ctx(|| {
                    format!(
                        "cannot prune the stale worktree '{wt_name}' of {} (its directory {} \
                         is gone); if it is locked run `git -C {} worktree unlock {wt_name}`",
                        self.path.display(),
                        registered.display(),
                        self.path.display()
                    )
                })?;
            }
            Err(_) => {
                // A half-written record (e.g. from a failed add) blocks re-adding the name.
                let meta = self.repo.commondir().join("worktrees").join(wt_name);
                if meta.is_dir() {
                    std::fs::remove_dir_all(&meta).map_err(|e| {
                        super::GitError::Msg(format!(
                            "cannot remove the invalid worktree record {}: {e}",
                            meta.display()
                        ))
                    })?;
                }
            }
        }

        // libgit2 creates the directory itself (exclusively) but not its parents.
        if path.exists() {
            let empty = std::fs::read_dir(path)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !empty {
                return msg(format!(
                    "{} already exists and is not worktree '{wt_name}' of {}; remove it or \
                     choose another location",
                    path.display(),
                    self.path.display()
                ));
            }
            std::fs::remove_dir(path).map_err(|e| {
                super::GitError::Msg(format!("cannot reuse empty dir {}: {e}", path.display()))
            })?;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                super::GitError::Msg(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let mut opts = git2::WorktreeAddOptions::new();
        opts.reference(Some(&branch_ref));
        self.repo.worktree(wt_name, path, Some(&opts)).ctx(what)?;
        Ok(())
    }
}
