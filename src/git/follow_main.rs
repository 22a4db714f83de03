//! Moving main and keeping a checked-out main in step, as two separate steps.
//!
//! [`Target::move_main`] only moves the ref (compare-and-swap) and never touches a working tree.
//! [`Target::follow_main`] then brings every working tree that has main checked out from the old
//! commit's tree to the new one, file by file: a file with the old content (or absent, when it was
//! absent) gets the new content; a file that already has the new content is done; anything else is
//! the user's and is left as it is, with a note. Each file is replaced by write-temp + rename (the
//! temp name is fixed, so a rerun removes a leftover), and the index is written once at the end
//! (libgit2 keeps the stat data of unchanged entries). Killed at any instant, a rerun finishes it.

use std::time::SystemTime;

use git2::{Oid, Tree};

use super::local_changes::local_changes;
use super::tree_update::{Change, GITLINK, OnDisk, follow_tree, on_disk, only_tracked};
use super::{Ctx, Result, Target, msg};
use crate::proc::held_open;

impl Target {
    /// Why main's checked-out working trees cannot follow main from `old` to `new`, if they
    /// cannot: an operation in progress, staged changes, uncommitted changes to a file the move
    /// changes, or untracked/ignored files where the new tree puts files. Changes nothing.
    ///
    /// Proportional to the change, not to the repository: only the files that differ between the
    /// two trees are looked at (and hashed), like `git merge`; an uncommitted edit of any other
    /// file is not in the way — it is left as it is and stays uncommitted on the new main.
    pub fn check_main_trees(&self, old: Oid, new: Oid) -> Result<Option<String>> {
        let trees = self.trees_on(&self.main_ref())?;
        if trees.is_empty() {
            return Ok(None);
        }
        let (old_tree, _) = self.trees_of(old, new)?;
        let changes = self.changes(old, new)?;
        for t in &trees {
            if let Some(why) = local_changes(t, &old_tree, &changes)? {
                return Ok(Some(format!(
                    "'{}' is checked out in {} and {why}; nothing was changed — commit or \
                     stash there first, then approve again",
                    self.main,
                    t.path.display()
                )));
            }
        }
        for t in &trees {
            let mut in_the_way = Vec::new();
            for c in changes.iter().filter(|c| c.old.is_none()) {
                let Some((id, mode)) = c.new else { continue };
                if mode == GITLINK {
                    continue;
                }
                let full = t.path.join(&c.path);
                match on_disk(&full) {
                    OnDisk::Absent => {}
                    OnDisk::Blob(i, m) if i == id && m == mode => {}
                    // A tracked directory that becomes a file: fine if nothing untracked is in it.
                    OnDisk::Other if only_tracked(&old_tree, &t.path, &c.path) => {}
                    _ => in_the_way.push(c.path.display().to_string()),
                }
                // A parent directory of the new file that is an untracked file of the user's.
                for a in c.path.ancestors().skip(1) {
                    if a.as_os_str().is_empty() || old_tree.get_path(a).is_ok() {
                        continue;
                    }
                    let p = t.path.join(a);
                    if p.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
                        in_the_way.push(a.display().to_string());
                    }
                }
            }
            if !in_the_way.is_empty() {
                in_the_way.dedup();
                return Ok(Some(format!(
                    "'{}' is checked out in {} and its files cannot be updated to the new \
                     '{}': untracked or ignored files in the way ({}); nothing was \
                     changed — move them away there, then approve again",
                    self.main,
                    t.path.display(),
                    self.main,
                    in_the_way.join(", ")
                )));
            }
        }
        *self.checked.borrow_mut() = trees;
        Ok(None)
    }

    /// Move main from `old` to `new` by compare-and-swap. No working tree is touched.
    pub fn move_main(&self, old: Oid, new: Oid, log: &str) -> Result<()> {
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
        if let Err(e) = self
            .repo
            .reference_matching(&self.main_ref(), new, true, old, log)
        {
            if e.code() == git2::ErrorCode::Modified {
                return moved();
            }
            return msg(format!(
                "cannot move '{}' of {} to {new}: {}",
                self.main,
                self.path.display(),
                e.message()
            ));
        }
        Ok(())
    }

    /// Bring every working tree with main checked out from `old`'s tree to `new`'s (see the
    /// module doc). Only while main is `new`; a tree whose index is neither the old nor the new
    /// tree is left alone. `after_first` runs once, after the first file was replaced. With
    /// `since`, an `index.lock` nobody holds open and written after `since` is taken for a
    /// leftover of ours and removed. Returns notes on what was left for the user.
    pub fn follow_main(
        &self,
        old: Oid,
        new: Oid,
        since: Option<SystemTime>,
        after_first: &mut dyn FnMut(),
    ) -> Result<Vec<String>> {
        let mut notes = Vec::new();
        if self.main_commit()? != new {
            notes.push(format!(
                "'{}' of {} is no longer {new}; its checked-out trees were left as they are",
                self.main,
                self.path.display()
            ));
            return Ok(notes);
        }
        let changes = self.changes(old, new)?;
        let (old_tree, new_tree) = self.trees_of(old, new)?;
        let mut first = Some(after_first);
        let mut checked = self.checked.take();
        for t in self.trees_on(&self.main_ref())? {
            let t = match checked.iter().position(|c| c.path == t.path) {
                Some(i) => checked.swap_remove(i),
                None => t,
            };
            follow_tree(
                &t,
                &changes,
                (&old_tree, &new_tree),
                since,
                &mut first,
                &mut notes,
            )?;
        }
        Ok(notes)
    }

    /// Remove `refs/heads/<main>.lock` when it is a leftover of ours: written since `since` (the
    /// decision began), holding `ours` (the journaled new main) or a part of it (killed before
    /// libgit2 finished writing it), and open in no process. Otherwise say what to do.
    pub fn clear_main_ref_lock(&self, ours: Oid, since: SystemTime) -> Option<String> {
        let lock = self
            .repo
            .commondir()
            .join(format!("{}.lock", self.main_ref()));
        let text = std::fs::read_to_string(&lock).ok()?;
        let recent = lock
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|m| m >= since);
        let text = text.trim_end_matches('\n');
        if recent && ours.to_string().starts_with(text) && !held_open(&lock) {
            return Some(match std::fs::remove_file(&lock) {
                Ok(()) => format!("removed {} (left by a killed approve)", lock.display()),
                Err(e) => format!("cannot remove {}: {e}", lock.display()),
            });
        }
        Some(format!(
            "{} exists and is not brl's; if no git command is running there, remove it (rm {})",
            lock.display(),
            lock.display()
        ))
    }

    /// Remove the lock files a kill while deleting `branch` (a brl branch being decided since
    /// `since`) leaves: `refs/heads/<branch>.lock`, and `packed-refs.lock` when it is newer than
    /// `since` (a packed branch is deleted by rewriting packed-refs). Only when no process has
    /// them open. One note per lock found.
    pub fn clear_branch_locks(&self, branch: &str, since: SystemTime) -> Vec<String> {
        let common = self.repo.commondir();
        let branch_lock = common.join(format!("refs/heads/{branch}.lock"));
        let packed_lock = common.join("packed-refs.lock");
        let packed_ours = packed_lock
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|m| m >= since);
        let mut notes = Vec::new();
        for (lock, ours) in [(branch_lock, true), (packed_lock, packed_ours)] {
            if !lock.exists() {
                continue;
            }
            notes.push(if !ours || held_open(&lock) {
                format!(
                    "{} exists and is not known to be brl's; if no git command is running there, \
                     remove it (rm {})",
                    lock.display(),
                    lock.display()
                )
            } else {
                match std::fs::remove_file(&lock) {
                    Ok(()) => format!("removed {} (left by a killed decision)", lock.display()),
                    Err(e) => format!("cannot remove {}: {e}", lock.display()),
                }
            });
        }
        notes
    }

    fn trees_of(&self, old: Oid, new: Oid) -> Result<(Tree<'_>, Tree<'_>)> {
        let tree = |id: Oid| {
            self.repo
                .find_commit(id)
                .and_then(|c| c.tree())
                .ctx(|| format!("commit {id} not found in {}", self.path.display()))
        };
        Ok((tree(old)?, tree(new)?))
    }

    /// The files that differ between the trees of `old` and `new` (no rename detection), read
    /// only where their trees differ.
    fn changes(&self, old: Oid, new: Oid) -> Result<Vec<Change>> {
        let (a, b) = self.trees_of(old, new)?;
        super::tree_diff::tree_changes(&self.repo, &a, &b)
            .ctx(|| format!("cannot diff {old}..{new} in {}", self.path.display()))
    }
}
