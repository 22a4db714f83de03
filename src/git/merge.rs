//! Reviewing and approving a branch: its diff against main, and merging it into main without
//! touching any working tree (except keeping a clean checked-out main in step).

use git2::build::CheckoutBuilder;
use git2::{
    CheckoutNotificationType, Diff, DiffFormat, ErrorCode, Oid, RepositoryState, StatusOptions,
};

use super::worktree::WorkTree;
use super::{Ctx, GitError, MergeOutcome, Result, Target, Trial, msg, signature};

impl Target {
    /// merge-base(main, branch) .. branch, with renames detected.
    fn branch_diff(&self, branch: &str) -> Result<Diff<'_>> {
        let what = || {
            format!(
                "cannot diff branch '{branch}' against '{}' in {}",
                self.main,
                self.path.display()
            )
        };
        let main = self.main_commit()?;
        let tip = self.branch_tip(branch)?;
        let base_tree = match self.repo.merge_base(main, tip) {
            Ok(b) => Some(self.repo.find_commit(b).and_then(|c| c.tree()).ctx(what)?),
            Err(e) if e.code() == ErrorCode::NotFound => None, // unrelated histories
            Err(e) => return Err(e).ctx(what),
        };
        let tip_tree = self
            .repo
            .find_commit(tip)
            .and_then(|c| c.tree())
            .ctx(what)?;
        let mut diff = self
            .repo
            .diff_tree_to_tree(base_tree.as_ref(), Some(&tip_tree), None)
            .ctx(what)?;
        diff.find_similar(None).ctx(what)?;
        Ok(diff)
    }

    /// The branch's changes as a unified patch: merge-base(main, branch) .. branch.
    pub fn diff_patch(&self, branch: &str) -> Result<String> {
        let diff = self.branch_diff(branch)?;
        let mut out = Vec::<u8>::new();
        diff.print(DiffFormat::Patch, |_, _, line| {
            if matches!(line.origin(), '+' | '-' | ' ') {
                out.push(line.origin() as u8);
            }
            out.extend_from_slice(line.content());
            true
        })
        .ctx(|| {
            format!(
                "cannot render the diff of branch '{branch}' in {}",
                self.path.display()
            )
        })?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// (files changed, lines added, lines deleted) for the same range as [`Self::diff_patch`].
    pub fn diff_stat(&self, branch: &str) -> Result<(usize, usize, usize)> {
        let s = self.branch_diff(branch)?.stats().ctx(|| {
            format!(
                "cannot count the changes of branch '{branch}' in {}",
                self.path.display()
            )
        })?;
        Ok((s.files_changed(), s.insertions(), s.deletions()))
    }

    /// Merge `branch` into main without touching any working tree (fast-forward, or an
    /// in-memory merge + merge commit), compare-and-swap on main's ref. A working tree with main
    /// checked out is refused when dirty and updated along when clean. Does not delete `branch`.
    pub fn merge_into_main(&self, branch: &str) -> Result<MergeOutcome> {
        if branch == self.main {
            return msg(format!(
                "cannot merge '{branch}' into itself in {}",
                self.path.display()
            ));
        }
        let what = || {
            format!(
                "cannot merge branch '{branch}' into '{}' in {}",
                self.main,
                self.path.display()
            )
        };
        let old = self.main_commit()?;
        let tip = self.branch_tip(branch)?;
        if tip == old || self.repo.graph_descendant_of(old, tip).ctx(what)? {
            return Ok(MergeOutcome::AlreadyMerged);
        }
        let fast_forward = self.repo.graph_descendant_of(tip, old).ctx(what)?;
        let new = if fast_forward {
            tip
        } else {
            let message = format!("Merge branch '{branch}' (approved in brl)");
            match self.merge_commit(old, tip, &message, &what)? {
                Ok(c) => c,
                Err(files) => return Ok(MergeOutcome::Conflict { files }),
            }
        };
        let log = format!("brl: approve {branch}");
        if let Some(reason) = self.advance_main(old, new, &log, &mut || {})? {
            return Ok(MergeOutcome::Refused { reason });
        }
        Ok(if fast_forward {
            MergeOutcome::FastForward { new_main: new }
        } else {
            MergeOutcome::MergeCommit { new_main: new }
        })
    }

    /// An unreferenced merge commit of `ours` and `theirs` (parents in that order), or the files
    /// that conflict. No ref and no working tree changes.
    fn merge_commit(
        &self,
        ours: Oid,
        theirs: Oid,
        message: &str,
        what: &dyn Fn() -> String,
    ) -> Result<std::result::Result<Oid, Vec<String>>> {
        let ours = self.repo.find_commit(ours).ctx(what)?;
        let theirs = self.repo.find_commit(theirs).ctx(what)?;
        let mut index = self.repo.merge_commits(&ours, &theirs, None).ctx(what)?;
        if index.has_conflicts() {
            let mut files = Vec::new();
            for c in index.conflicts().ctx(what)? {
                let c = c.ctx(what)?;
                if let Some(e) = c.our.or(c.their).or(c.ancestor) {
                    let p = String::from_utf8_lossy(&e.path).into_owned();
                    if !files.contains(&p) {
                        files.push(p);
                    }
                }
            }
            return Ok(Err(files));
        }
        let tree_id = index.write_tree_to(&self.repo).ctx(what)?;
        let tree = self.repo.find_tree(tree_id).ctx(what)?;
        let sig = signature(&self.repo)?;
        let id = self
            .repo
            .commit(None, &sig, &sig, message, &tree, &[&ours, &theirs])
            .ctx(what)?;
        Ok(Ok(id))
    }

    /// What merging `branch` into the CURRENT main would give, without changing anything: the
    /// commit to check (the branch tip when main is its ancestor, else an unreferenced merge
    /// commit), or the conflicting files.
    pub fn trial_merge(&self, branch: &str) -> Result<Trial> {
        let what = || {
            format!(
                "cannot try merging '{branch}' into '{}' in {}",
                self.main,
                self.path.display()
            )
        };
        let main = self.main_commit()?;
        let tip = self.branch_tip(branch)?;
        if tip == main || self.repo.graph_descendant_of(main, tip).ctx(what)? {
            return Ok(Trial::AlreadyMerged);
        }
        if self.repo.graph_descendant_of(tip, main).ctx(what)? {
            return Ok(Trial::Clean { commit: tip, main });
        }
        let message = format!("brl review: trial merge of '{branch}' into '{}'", self.main);
        Ok(match self.merge_commit(main, tip, &message, &what)? {
            Ok(commit) => Trial::Clean { commit, main },
            Err(files) => Trial::Conflict { files },
        })
    }

    /// Point the scratch branch `name` at `at` (created or moved), for a worktree brl owns.
    pub fn set_scratch_branch(&self, name: &str, at: Oid) -> Result<()> {
        let what = || {
            format!(
                "cannot point branch '{name}' at {at} in {}",
                self.path.display()
            )
        };
        let commit = self.repo.find_commit(at).ctx(what)?;
        self.repo.branch(name, &commit, true).ctx(what)?;
        Ok(())
    }

    /// Move main from `old` to `new` (compare-and-swap). Every working tree with main checked
    /// out must be clean and is checked out to `new`'s tree first (while its HEAD still means
    /// `old`, which libgit2 uses as the checkout baseline). `Some(reason)` = refused, nothing
    /// changed. `before_cas` runs just before the ref update (a hook for tests).
    pub(super) fn advance_main(
        &self,
        old: Oid,
        new: Oid,
        log: &str,
        before_cas: &mut dyn FnMut(),
    ) -> Result<Option<String>> {
        let main_ref = self.main_ref();
        let moved = || {
            msg(format!(
                "'{}' in {} moved while approving (it is no longer {old}); nothing was \
                 merged — try again",
                self.main,
                self.path.display()
            ))
        };
        if self.main_commit()? != old {
            return moved();
        }
        let trees = self.trees_on(&main_ref)?;
        for t in &trees {
            if let Some(why) = dirty_reason(t)? {
                return Ok(Some(format!(
                    "'{}' is checked out in {} and {why}; nothing was changed — commit or \
                     stash there first, then approve again",
                    self.main,
                    t.path.display()
                )));
            }
        }
        let what = || {
            format!(
                "cannot move '{}' of {} to {new}",
                self.main,
                self.path.display()
            )
        };
        let new_tree_id = self.repo.find_commit(new).ctx(what)?.tree_id();
        // libgit2 detects all checkout conflicts before it writes anything, so a failing safe
        // checkout leaves that tree as it was.
        // (git2's CheckoutBuilder::dry_run sets GIT_CHECKOUT_NONE, which skips conflict
        // detection entirely with libgit2 1.9, so it is no use as a pre-check.)
        let mut updated: Vec<&WorkTree> = Vec::new();
        for t in &trees {
            let mut in_the_way: Vec<String> = Vec::new();
            let checked_out = {
                let mut co = CheckoutBuilder::new();
                co.safe().overwrite_ignored(false);
                co.notify_on(CheckoutNotificationType::CONFLICT);
                co.notify(|_, path, _, _, _| {
                    if let Some(p) = path {
                        in_the_way.push(p.display().to_string());
                    }
                    true
                });
                // libgit2 wants objects looked up through the very handle that checks them
                // out ("object to checkout does not match repository" otherwise).
                t.repo
                    .find_tree(new_tree_id)
                    .and_then(|tree| t.repo.checkout_tree(tree.as_object(), Some(&mut co)))
            };
            if let Err(e) = checked_out {
                restore(&updated);
                if e.code() != ErrorCode::Conflict {
                    restore(&[t]);
                    return Err(GitError::Msg(format!(
                        "cannot update the working tree {} to the new '{}' ({}); '{}' was not \
                         moved and brl put the tree back as it was",
                        t.path.display(),
                        self.main,
                        e.message(),
                        self.main
                    )));
                }
                let files = if in_the_way.is_empty() {
                    e.message().to_string()
                } else {
                    in_the_way.join(", ")
                };
                return Ok(Some(format!(
                    "'{}' is checked out in {} and its files cannot be updated to the new \
                     '{}': untracked or ignored files in the way ({files}); nothing was \
                     changed — move them away there, then approve again",
                    self.main,
                    t.path.display(),
                    self.main,
                )));
            }
            updated.push(t);
        }
        before_cas();
        if let Err(e) = self.repo.reference_matching(&main_ref, new, true, old, log) {
            // Back to whatever main is now, so each tree is consistent with its HEAD again.
            restore(&updated);
            if e.code() == ErrorCode::Modified {
                return moved();
            }
            return Err(GitError::Msg(format!("{}: {}", what(), e.message())));
        }
        Ok(None)
    }
}

/// Why this working tree must not be updated, if it must not.
fn dirty_reason(t: &WorkTree) -> Result<Option<String>> {
    let state = t.repo.state();
    if state != RepositoryState::Clean {
        return Ok(Some(format!("has an operation in progress ({state:?})")));
    }
    let mut opts = StatusOptions::new();
    opts.include_untracked(false)
        .include_ignored(false)
        .exclude_submodules(true);
    let st = t
        .repo
        .statuses(Some(&mut opts))
        .ctx(|| format!("cannot read the status of {}", t.path.display()))?;
    let paths: Vec<String> = st
        .iter()
        .filter(|e| !e.status().is_wt_new() && !e.status().is_ignored())
        .map(|e| String::from_utf8_lossy(e.path_bytes()).into_owned())
        .collect();
    if paths.is_empty() {
        return Ok(None);
    }
    let shown: Vec<&str> = paths.iter().take(5).map(String::as_str).collect();
    let more = if paths.len() > 5 {
        format!(" and {} more", paths.len() - 5)
    } else {
        String::new()
    };
    Ok(Some(format!(
        "has uncommitted changes to tracked files ({}{more})",
        shown.join(", ")
    )))
}

/// Best effort: make each tree match its (current) HEAD again after a partial update.
fn restore(trees: &[&WorkTree]) {
    for t in trees {
        if let Ok(tree) = t.repo.head().and_then(|h| h.peel_to_tree()) {
            let mut co = CheckoutBuilder::new();
            co.force();
            let _ = t.repo.checkout_tree(tree.as_object(), Some(&mut co));
        }
    }
}
