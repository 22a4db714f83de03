//! The fixer's starting point: a review branch merged onto the current main, committed in a
//! session's worktree — conflicts included, as conflict markers in the committed files.
//!
//! Why a merge and not a rebase: the branch's commits stay as they were reviewed (one merge
//! commit brings main in, the agent's repair comes on top), a rebase would replay each commit
//! and could stop at several of them; and the merge commit names both parents, so `git log`
//! shows what was repaired. Why the conflicts are committed with markers rather than left as a
//! merge in progress: the cycle measures, restores and commits the worktree by the branch tip
//! (a merge in progress would be wiped by the restore, or lose its second parent in brl's own
//! commit of leftovers), a commit survives a crash of the worker, and every agent CLI can edit
//! files while not all of them handle `git merge --continue`. The repaired result must not keep
//! a marker in those files ([`markers_left`]).

use std::path::Path;

use git2::build::CheckoutBuilder;
use git2::{IndexEntry, MergeFileOptions, Oid};

use super::{Ctx, Result, Target, open_worktree, signature};

/// What [`merge_for_fix`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixStart {
    /// The merge commit, now the worktree's HEAD (its branch moved to it).
    pub commit: Oid,
    /// Files that conflicted (committed with markers, or — deleted on one side — as the side
    /// that kept them), `/`-separated.
    pub conflicted: Vec<String>,
}

/// In `worktree` (on a branch at main): merge commit `theirs` into HEAD as one commit with
/// parents [HEAD, theirs], conflicted files written with `<<<<<<<` markers labelled `ours` and
/// `theirs_label`; the worktree is checked out at it.
pub fn merge_for_fix(
    worktree: &Path,
    theirs: Oid,
    ours_label: &str,
    theirs_label: &str,
    message: &str,
) -> Result<FixStart> {
    let repo = open_worktree(worktree)?;
    let what = || {
        format!(
            "cannot merge {theirs_label} into {ours_label} in the worktree {}",
            worktree.display()
        )
    };
    let ours = repo.head().and_then(|h| h.peel_to_commit()).ctx(what)?;
    let other = repo.find_commit(theirs).ctx(what)?;
    let mut index = repo.merge_commits(&ours, &other, None).ctx(what)?;
    let mut conflicted = Vec::new();
    if index.has_conflicts() {
        let all = index
            .conflicts()
            .ctx(what)?
            .collect::<std::result::Result<Vec<_>, _>>()
            .ctx(what)?;
        for c in all {
            let Some(any) = c.our.as_ref().or(c.their.as_ref()).or(c.ancestor.as_ref()) else {
                continue;
            };
            let path = String::from_utf8_lossy(&any.path).into_owned();
            index.conflict_remove(Path::new(&path)).ctx(what)?;
            match (&c.our, &c.their) {
                (Some(o), Some(t)) => {
                    let mut opts = MergeFileOptions::new();
                    opts.our_label(ours_label).their_label(theirs_label);
                    // Added on both sides: an empty common ancestor.
                    let base = c.ancestor.as_ref().unwrap_or(o);
                    let empty;
                    let base = if c.ancestor.is_none() {
                        empty = {
                            let mut e = stage0(o);
                            e.id = repo.blob(b"").ctx(what)?;
                            e.file_size = 0;
                            e
                        };
                        &empty
                    } else {
                        base
                    };
                    let merged = repo
                        .merge_file_from_index(base, o, t, Some(&mut opts))
                        .ctx(what)?;
                    let entry = stage0(o);
                    index.add_frombuffer(&entry, merged.content()).ctx(what)?;
                }
                // Modified on one side, deleted on the other: keep the modified file.
                (Some(e), None) | (None, Some(e)) => {
                    index.add(&stage0(e)).ctx(what)?;
                }
                (None, None) => {}
            }
            conflicted.push(path);
        }
    }
    let tree_id = index.write_tree_to(&repo).ctx(what)?;
    let tree = repo.find_tree(tree_id).ctx(what)?;
    let sig = signature(&repo)?;
    let commit = repo
        .commit(Some("HEAD"), &sig, &sig, message, &tree, &[&ours, &other])
        .ctx(what)?;
    repo.checkout_head(Some(CheckoutBuilder::new().force()))
        .ctx(what)?;
    conflicted.sort();
    Ok(FixStart { commit, conflicted })
}

/// A copy of `e` at stage 0 (resolved).
fn stage0(e: &IndexEntry) -> IndexEntry {
    IndexEntry {
        ctime: e.ctime,
        mtime: e.mtime,
        dev: e.dev,
        ino: e.ino,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        file_size: e.file_size,
        id: e.id,
        flags: e.flags & !0x3000,
        flags_extended: e.flags_extended,
        path: e.path.clone(),
    }
}

impl Target {
    /// Of `files`, those that still hold a conflict marker line (`<<<<<<< `, `>>>>>>> `) at
    /// commit `at` (a file deleted since counts as resolved).
    pub fn markers_left(&self, at: Oid, files: &[String]) -> Result<Vec<String>> {
        let what = || format!("cannot read commit {at} in {}", self.path.display());
        let tree = self.repo.find_commit(at).and_then(|c| c.tree()).ctx(what)?;
        let mut left = Vec::new();
        for f in files {
            let Ok(entry) = tree.get_path(Path::new(f)) else {
                continue;
            };
            let Ok(blob) = self.repo.find_blob(entry.id()) else {
                continue;
            };
            let text = String::from_utf8_lossy(blob.content());
            if text
                .lines()
                .any(|l| l.starts_with("<<<<<<< ") || l.starts_with(">>>>>>> "))
            {
                left.push(f.clone());
            }
        }
        Ok(left)
    }
}
