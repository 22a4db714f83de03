//! What a branch would bring to the CURRENT main, computed in memory (no commit, no ref, no
//! working tree): the basis of `superseded` (it would bring nothing), of `brl queue diff` (what
//! approving brings now) and of twins (the shape of a branch's change).

use git2::{DiffOptions, Oid};

use super::{Ctx, Result, Target};

/// What merging a branch tip into main would change ([`Target::merge_effect`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The tip is main or one of its ancestors.
    Contained,
    /// The merge's tree is main's tree: approving would change nothing.
    Nothing,
    /// The merge changes main (its tree is given).
    Changes {
        tree: Oid,
    },
    Conflict {
        files: Vec<String>,
    },
}

/// A branch's change in a comparable form ([`Target::change_shape`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// git's patch id of the change (whitespace-insensitive, like `git patch-id --stable`).
    pub patch_id: Oid,
    /// The changed files (new path; old path for deletions), sorted, each with its hunks' old-side
    /// line ranges `(start, lines)`.
    pub files: Vec<(String, Vec<(u32, u32)>)>,
}

impl Target {
    /// The tree of commit `c`.
    pub fn tree_of(&self, c: Oid) -> Result<Oid> {
        self.repo
            .find_commit(c)
            .map(|c| c.tree_id())
            .ctx(|| format!("commit {c} not found in {}", self.path.display()))
    }

    /// What merging `tip` into `main` would change, without writing a commit.
    pub fn merge_effect(&self, tip: Oid, main: Oid) -> Result<Effect> {
        let what = || {
            format!(
                "cannot try merging {tip} into {main} in {}",
                self.path.display()
            )
        };
        if tip == main || self.repo.graph_descendant_of(main, tip).ctx(what)? {
            return Ok(Effect::Contained);
        }
        let ours = self.repo.find_commit(main).ctx(what)?;
        let theirs = self.repo.find_commit(tip).ctx(what)?;
        let tree = if self.repo.graph_descendant_of(tip, main).ctx(what)? {
            theirs.tree_id()
        } else {
            match self.merged_tree(&ours, &theirs, &what)? {
                Ok(tree) => tree,
                Err(files) => return Ok(Effect::Conflict { files }),
            }
        };
        Ok(if tree == ours.tree_id() {
            Effect::Nothing
        } else {
            Effect::Changes { tree }
        })
    }

    /// The unified patch from main's tree to `tree` (what approving would bring now).
    pub fn patch_from_main(&self, label: &str, tree: Oid) -> Result<String> {
        let what = || {
            format!(
                "cannot diff '{label}' merged into '{}' against it in {}",
                self.main,
                self.path.display()
            )
        };
        let main = self.main_commit()?;
        let main_tree = self
            .repo
            .find_commit(main)
            .and_then(|c| c.tree())
            .ctx(what)?;
        let new_tree = self.repo.find_tree(tree).ctx(what)?;
        let mut diff = self
            .repo
            .diff_tree_to_tree(Some(&main_tree), Some(&new_tree), None)
            .ctx(what)?;
        diff.find_similar(None).ctx(what)?;
        Self::patch_text(label, &diff, &self.path)
    }

    /// The shape of the change `base..head` (`base`: the main commit the branch started from; when
    /// it is gone, their merge base with main is used).
    pub fn change_shape(&self, base: &str, head: Oid) -> Result<Shape> {
        let what = || {
            format!(
                "cannot read the change of {head} in {}",
                self.path.display()
            )
        };
        let base = match Oid::from_str(base)
            .ok()
            .filter(|b| self.repo.find_commit(*b).is_ok())
        {
            Some(b) => b,
            None => self.repo.merge_base(self.main_commit()?, head).ctx(what)?,
        };
        let old = self
            .repo
            .find_commit(base)
            .and_then(|c| c.tree())
            .ctx(what)?;
        let new = self
            .repo
            .find_commit(head)
            .and_then(|c| c.tree())
            .ctx(what)?;
        let mut opts = DiffOptions::new();
        opts.context_lines(0);
        // Only the changed files' paths: libgit2 then loads only the trees on their way, not
        // every tree of the repository (the same deltas, so the same patch id and hunks).
        let changed = super::tree_diff::tree_changes(&self.repo, &old, &new).ctx(what)?;
        if !changed.is_empty() {
            opts.disable_pathspec_match(true);
            for c in &changed {
                opts.pathspec(c.path.as_os_str());
            }
        }
        let diff = self
            .repo
            .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut opts))
            .ctx(what)?;
        let patch_id = diff.patchid(None).ctx(what)?;
        let files = std::cell::RefCell::new(Vec::<(String, Vec<(u32, u32)>)>::new());
        diff.foreach(
            &mut |d, _| {
                let p = d.new_file().path().or(d.old_file().path());
                let name = p.map(|p| p.display().to_string()).unwrap_or_default();
                files.borrow_mut().push((name, vec![]));
                true
            },
            None,
            Some(&mut |_, h| {
                if let Some(f) = files.borrow_mut().last_mut() {
                    f.1.push((h.old_start(), h.old_lines()));
                }
                true
            }),
            None,
        )
        .ctx(what)?;
        let mut files = files.into_inner();
        files.sort();
        Ok(Shape { patch_id, files })
    }
}
