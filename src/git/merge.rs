//! Reviewing and approving a branch: its diff against main, and merging it into main without
//! touching any working tree (except keeping a clean checked-out main in step).

use git2::{Diff, DiffFormat, ErrorCode, Oid};

use super::{Ctx, MergeOutcome, MergePlan, Result, Target, Trial, msg, signature};

impl Target {
    /// merge-base(main, branch) .. branch, with renames detected.
    fn branch_diff(&self, branch: &str) -> Result<Diff<'_>> {
        let tip = self.branch_tip(branch)?;
        self.tip_diff(branch, tip)
    }

    /// The diff from where `tip` left main (their merge base) to `tip`; `label` names it in
    /// errors.
    fn tip_diff(&self, label: &str, tip: Oid) -> Result<Diff<'_>> {
        let what = || {
            format!(
                "cannot diff '{label}' against '{}' in {}",
                self.main,
                self.path.display()
            )
        };
        let main = self.main_commit()?;
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
        Self::patch_text(branch, &diff, &self.path)
    }

    /// The patch of the commit `refname` points at (e.g. a discarded cycle's kept commits),
    /// from where it left main.
    pub fn ref_patch(&self, refname: &str) -> Result<String> {
        let tip = self
            .repo
            .find_reference(refname)
            .and_then(|r| r.peel_to_commit())
            .ctx(|| format!("no {refname} in {}", self.path.display()))?
            .id();
        let diff = self.tip_diff(refname, tip)?;
        Self::patch_text(refname, &diff, &self.path)
    }

    pub(super) fn patch_text(
        branch: &str,
        diff: &Diff<'_>,
        path: &std::path::Path,
    ) -> Result<String> {
        let mut out = Vec::<u8>::new();
        diff.print(DiffFormat::Patch, |_, _, line| {
            if matches!(line.origin(), '+' | '-' | ' ') {
                out.push(line.origin() as u8);
            }
            out.extend_from_slice(line.content());
            true
        })
        .ctx(|| format!("cannot render the diff of '{branch}' in {}", path.display()))?;
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

    /// How `branch` (at `tip`) would merge into main at `main`, without changing anything.
    pub fn plan_merge(&self, branch: &str, tip: Oid, main: Oid) -> Result<MergePlan> {
        if branch == self.main {
            return msg(format!(
                "cannot merge '{branch}' into itself in {}",
                self.path.display()
            ));
        }
        Ok(if tip == main || self.is_ancestor(tip, main)? {
            MergePlan::AlreadyMerged
        } else if self.is_ancestor(main, tip)? {
            MergePlan::FastForward
        } else {
            MergePlan::MergeCommit
        })
    }

    /// `a` is an ancestor of `b` (not equal).
    pub fn is_ancestor(&self, a: Oid, b: Oid) -> Result<bool> {
        self.repo.graph_descendant_of(b, a).ctx(|| {
            format!(
                "cannot compare commits {a} and {b} in {}",
                self.path.display()
            )
        })
    }

    /// The unreferenced merge commit (parents `[main, tip]`) approving `branch` would make main,
    /// or the files that conflict. No ref and no working tree changes.
    pub fn approval_merge_commit(
        &self,
        branch: &str,
        main: Oid,
        tip: Oid,
    ) -> Result<std::result::Result<Oid, Vec<String>>> {
        let what = || {
            format!(
                "cannot merge branch '{branch}' into '{}' in {}",
                self.main,
                self.path.display()
            )
        };
        let message = format!("Merge branch '{branch}' (approved in brl)");
        self.merge_commit(main, tip, &message, &what)
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
        let tree_id = match self.merged_tree(&ours, &theirs, what)? {
            Ok(tree) => tree,
            Err(files) => return Ok(Err(files)),
        };
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

    /// Move main from `old` to `new` (compare-and-swap), then bring every clean working tree
    /// with main checked out along ([`Target::follow_main`]). Every such tree must be clean and
    /// have nothing in the way, checked before anything changes. `Some(reason)` = refused,
    /// nothing changed. `before_cas` runs just before the ref update (a hook for tests).
    pub(super) fn advance_main(
        &self,
        old: Oid,
        new: Oid,
        log: &str,
        before_cas: &mut dyn FnMut(),
    ) -> Result<Option<String>> {
        if self.main_commit()? != old {
            return self.move_main(old, new, log).map(|()| None);
        }
        if let Some(reason) = self.check_main_trees(old, new)? {
            return Ok(Some(reason));
        }
        before_cas();
        self.move_main(old, new, log)?;
        for note in self.follow_main(old, new, None, &mut || {})? {
            tracing::warn!("{note}");
        }
        Ok(None)
    }
}
