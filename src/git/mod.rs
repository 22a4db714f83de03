//! Git plumbing for brl, on top of libgit2 (`git2`).
//!
//! The sacred rule: nothing here checks out, resets, stashes or writes anything in the target
//! repository's own working tree — except [`Target::follow_main`], which brings a CLEAN working
//! tree that has `main` checked out in step with the new `main`, AFTER main's ref moved, file by
//! file and resumably. Agent sessions work in
//! their own linked worktrees (see [`Target::ensure_worktree`]), which brl owns and may reset.

use std::path::{Path, PathBuf};

use git2::{BranchType, ErrorCode, Oid, Repository, Signature, Sort, StatusOptions};

mod clean;
mod commit;
mod effect;
mod fix_merge;
mod follow_main;
mod keep;
mod local_changes;
mod merge;
mod merged;
mod tree_diff;
mod tree_update;
mod worktree;

#[cfg(test)]
mod follow_tests;
#[cfg(test)]
mod merge_tests;
#[cfg(test)]
mod tests;

pub use clean::restore_worktree;
pub use commit::{commit_all, commit_all_except};
pub use effect::{Effect, Shape};
pub use fix_merge::{FixStart, merge_for_fix};
pub use keep::{DISCARDED_PREFIX, discarded_ref};
pub use merged::merges_made;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// A message naming the repository path / branch and the fix.
    #[error("{0}")]
    Msg(String),
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

pub type Result<T> = std::result::Result<T, GitError>;

/// What [`Target::merge_into_main`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// `main` was an ancestor of the branch and now points at the branch tip.
    FastForward { new_main: Oid },
    /// A merge commit with parents `[main, branch]` was created and `main` points at it.
    MergeCommit { new_main: Oid },
    /// The branch tip is already an ancestor of (or equal to) `main`; nothing changed.
    AlreadyMerged,
    /// The merge conflicts in these files; nothing changed.
    Conflict { files: Vec<String> },
    /// The merge was not attempted (e.g. `main` is checked out with uncommitted changes);
    /// nothing changed.
    Refused { reason: String },
}

/// How a branch would merge into main ([`Target::plan_merge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergePlan {
    AlreadyMerged,
    FastForward,
    MergeCommit,
}

/// What [`Target::trial_merge`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trial {
    /// Merging gives `commit` (main was at `main`).
    Clean {
        commit: Oid,
        main: Oid,
    },
    /// The branch is already part of main.
    AlreadyMerged,
    Conflict {
        files: Vec<String>,
    },
}

/// The user's repository that agents work on.
pub struct Target {
    repo: Repository,
    path: PathBuf,
    main: String,
    /// The working trees with main checked out that [`Target::check_main_trees`] found clean,
    /// their index read: [`Target::follow_main`] of the same decision takes them (the index is
    /// read again only if its file changed since), so the user's index is parsed once.
    checked: std::cell::RefCell<Vec<worktree::WorkTree>>,
}

/// Attach a human-readable context (naming the repo / branch) to a libgit2 error.
pub(crate) trait Ctx<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Ctx<T> for std::result::Result<T, git2::Error> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| GitError::Msg(format!("{}: {}", what(), e.message())))
    }
}

fn msg<T>(m: impl Into<String>) -> Result<T> {
    Err(GitError::Msg(m.into()))
}

impl Target {
    /// Open the target repository at `path` (bare is fine) whose main branch is `main`.
    pub fn open(path: &Path, main: &str) -> Result<Target> {
        let repo = match Repository::open(path) {
            Ok(r) => r,
            Err(e) => {
                return msg(format!(
                    "{} is not a git repository ({}); point brl at the top directory of a git \
                     repository (or run `git init` there)",
                    path.display(),
                    e.message()
                ));
            }
        };
        let refname = format!("refs/heads/{main}");
        let found = repo
            .find_reference(&refname)
            .and_then(|r| r.peel_to_commit().map(|c| c.id()));
        if let Err(e) = found {
            let unborn = repo
                .find_reference("HEAD")
                .ok()
                .and_then(|h| h.symbolic_target().map(|t| t == refname))
                .unwrap_or(false);
            if unborn && e.code() == ErrorCode::NotFound {
                return msg(format!(
                    "branch '{main}' in {} has no commits yet; make an initial commit there \
                     first (e.g. `git -C {} commit --allow-empty -m init`)",
                    path.display(),
                    path.display()
                ));
            }
            let others = local_branches(&repo);
            let hint = if others.is_empty() {
                String::from("the repository has no branches yet; make an initial commit first")
            } else {
                format!(
                    "create it (`git -C {} branch {main} <commit>`) or configure brl's main \
                     branch to one of: {}",
                    path.display(),
                    others.join(", ")
                )
            };
            return msg(format!(
                "main branch '{main}' not found in {} ({}); {hint}",
                path.display(),
                e.message()
            ));
        }
        Ok(Target {
            repo,
            path: path.to_path_buf(),
            main: main.to_string(),
            checked: std::cell::RefCell::new(Vec::new()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn main_name(&self) -> &str {
        &self.main
    }

    fn main_ref(&self) -> String {
        format!("refs/heads/{}", self.main)
    }

    pub fn main_commit(&self) -> Result<Oid> {
        self.branch_tip(&self.main)
    }

    pub fn branch_exists(&self, branch: &str) -> bool {
        self.repo
            .find_reference(&format!("refs/heads/{branch}"))
            .is_ok()
    }

    pub fn branch_tip(&self, branch: &str) -> Result<Oid> {
        let r = self
            .repo
            .find_reference(&format!("refs/heads/{branch}"))
            .ctx(|| format!("branch '{branch}' not found in {}", self.path.display()))?;
        let c = r.peel_to_commit().ctx(|| {
            format!(
                "branch '{branch}' in {} does not point at a commit",
                self.path.display()
            )
        })?;
        Ok(c.id())
    }

    /// Create `refs/heads/<branch>` at `at`; error if it already exists.
    pub fn create_branch(&self, branch: &str, at: Oid) -> Result<()> {
        if !git2::Branch::name_is_valid(branch).unwrap_or(false) {
            return msg(format!(
                "'{branch}' is not a valid branch name (in {})",
                self.path.display()
            ));
        }
        if self.branch_exists(branch) {
            return msg(format!(
                "branch '{branch}' already exists in {}; pick another name or delete it first",
                self.path.display()
            ));
        }
        let commit = self.repo.find_commit(at).ctx(|| {
            format!(
                "cannot create branch '{branch}' in {}: commit {at} not found",
                self.path.display()
            )
        })?;
        self.repo
            .branch(branch, &commit, false)
            .ctx(|| format!("cannot create branch '{branch}' in {}", self.path.display()))?;
        Ok(())
    }

    /// Keep what `branch` holds under `refname` (outside `refs/heads/`, e.g. [`unjudged_ref`]),
    /// then delete the branch. Safe to run again after a kill
    /// between the two steps: the ref is (re)pointed at the branch's tip first.
    pub fn move_branch_to_ref(&self, branch: &str, refname: &str, log: &str) -> Result<Oid> {
        let tip = self.branch_tip(branch)?;
        self.repo.reference(refname, tip, true, log).ctx(|| {
            format!(
                "cannot keep branch '{branch}' as {refname} in {}",
                self.path.display()
            )
        })?;
        self.delete_branch(branch)?;
        Ok(tip)
    }

    /// Delete `refs/heads/<branch>`. A worktree that has it checked out must be detached first
    /// ([`detach_worktree`]); libgit2 refuses to delete a branch that is any worktree's HEAD.
    pub fn delete_branch(&self, branch: &str) -> Result<()> {
        if branch == self.main {
            return msg(format!(
                "refusing to delete the main branch '{branch}' of {}",
                self.path.display()
            ));
        }
        let mut b = self
            .repo
            .find_branch(branch, BranchType::Local)
            .ctx(|| format!("branch '{branch}' not found in {}", self.path.display()))?;
        let holders = self.trees_on(&format!("refs/heads/{branch}"))?;
        if let Some(t) = holders.first() {
            return msg(format!(
                "cannot delete branch '{branch}' of {}: it is checked out in {}; detach that \
                 worktree (or switch it to another branch) first",
                self.path.display(),
                t.path.display()
            ));
        }
        b.delete()
            .ctx(|| format!("cannot delete branch '{branch}' in {}", self.path.display()))?;
        Ok(())
    }

    /// Commits between `base` (exclusive) and `head` (inclusive), newest first:
    /// (id, first line of the message).
    pub fn commits_between(&self, base: Oid, head: Oid) -> Result<Vec<(Oid, String)>> {
        let what = || {
            format!(
                "cannot list commits {base}..{head} in {}",
                self.path.display()
            )
        };
        let mut walk = self.repo.revwalk().ctx(what)?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME).ctx(what)?;
        walk.push(head).ctx(what)?;
        walk.hide(base).ctx(what)?;
        let mut out = Vec::new();
        for id in walk {
            let id = id.ctx(what)?;
            let c = self.repo.find_commit(id).ctx(what)?;
            let summary = c
                .summary()
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(c.message_bytes()).into_owned());
            out.push((id, summary.lines().next().unwrap_or("").to_string()));
        }
        Ok(out)
    }

    /// True when the two commits have the same tree.
    pub fn same_tree(&self, a: Oid, b: Oid) -> Result<bool> {
        let tree = |id: Oid| {
            self.repo
                .find_commit(id)
                .map(|c| c.tree_id())
                .ctx(|| format!("commit {id} not found in {}", self.path.display()))
        };
        Ok(tree(a)? == tree(b)?)
    }
}

fn local_branches(repo: &Repository) -> Vec<String> {
    let Ok(branches) = repo.branches(Some(BranchType::Local)) else {
        return Vec::new();
    };
    branches
        .flatten()
        .filter_map(|(b, _)| b.name().ok().flatten().map(str::to_string))
        .take(10)
        .collect()
}

/// The repo's configured user, else "brl <brl@localhost>".
fn signature(repo: &Repository) -> Result<Signature<'static>> {
    match repo.signature() {
        Ok(s) => Ok(s),
        Err(_) => Ok(Signature::now("brl", "brl@localhost")?),
    }
}

fn open_worktree(worktree: &Path) -> Result<Repository> {
    Repository::open(worktree).ctx(|| {
        format!(
            "cannot open the git worktree at {} (was it deleted? brl recreates it next cycle)",
            worktree.display()
        )
    })
}

/// The branch name the worktree's HEAD points at (None when detached).
pub fn worktree_head_branch(worktree: &Path) -> Result<Option<String>> {
    let repo = open_worktree(worktree)?;
    let head = repo
        .find_reference("HEAD")
        .ctx(|| format!("cannot read HEAD of {}", worktree.display()))?;
    Ok(head
        .symbolic_target()
        .and_then(|t| t.strip_prefix("refs/heads/"))
        .map(str::to_string))
}

/// Detach the worktree's HEAD at its current commit (so its branch can be deleted or merged).
pub fn detach_worktree(worktree: &Path) -> Result<()> {
    let repo = open_worktree(worktree)?;
    let what = || format!("cannot detach HEAD of {}", worktree.display());
    let id = repo.head().and_then(|h| h.peel_to_commit()).ctx(what)?.id();
    repo.set_head_detached(id).ctx(what)?;
    Ok(())
}

/// The paths with uncommitted changes in a worktree (modified, deleted, new untracked files that
/// are not ignored), at most `max` of them.
pub fn dirty_files(worktree: &Path, max: usize) -> Result<Vec<String>> {
    let repo = open_worktree(worktree)?;
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true);
    let st = repo
        .statuses(Some(&mut opts))
        .ctx(|| format!("cannot read the status of {}", worktree.display()))?;
    Ok(st
        .iter()
        .filter_map(|e| e.path().map(str::to_string))
        .take(max)
        .collect())
}

/// Where the commits of a cycle that was never judged (its process died, or it ended in
/// `error` after the agent committed) are kept for a person: a ref outside `refs/heads/`, so
/// every `brl/*` branch is one the review queue holds.
pub fn unjudged_ref(cycle_id: &str) -> String {
    format!("refs/brl/unjudged/{cycle_id}")
}
