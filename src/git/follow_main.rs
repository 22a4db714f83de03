//! Moving main and keeping a checked-out main in step, as two separate steps.
//!
//! [`Target::move_main`] only moves the ref (compare-and-swap) and never touches a working tree.
//! [`Target::follow_main`] then brings every working tree that has main checked out from the old
//! commit's tree to the new one, file by file: a file with the old content (or absent, when it was
//! absent) gets the new content; a file that already has the new content is done; anything else is
//! the user's and is left as it is, with a note. Each file is replaced by write-temp + rename (the
//! temp name is fixed, so a rerun removes a leftover), and the index is written once at the end
//! (libgit2 keeps the stat data of unchanged entries). Killed at any instant, a rerun finishes it.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use git2::{Delta, FileMode, ObjectType, Oid, Tree};

use super::worktree::WorkTree;
use super::{Ctx, GitError, Result, Target, msg};

/// A file that differs between main's old and new trees: (blob, mode) on each side.
struct Change {
    path: PathBuf,
    old: Option<(Oid, i32)>,
    new: Option<(Oid, i32)>,
}

/// What a working-tree path holds now.
#[derive(PartialEq)]
enum OnDisk {
    Absent,
    Blob(Oid, i32),
    /// A directory, or something unreadable.
    Other,
}

const BLOB: i32 = 0o100644;
const EXEC: i32 = 0o100755;
const LINK: i32 = 0o120000;
const GITLINK: i32 = 0o160000;

impl Target {
    /// Why main's checked-out working trees cannot follow main from `old` to `new`, if they
    /// cannot: uncommitted changes, an operation in progress, or untracked/ignored files where
    /// the new tree puts files. Changes nothing.
    pub fn check_main_trees(&self, old: Oid, new: Oid) -> Result<Option<String>> {
        let trees = self.trees_on(&self.main_ref())?;
        if trees.is_empty() {
            return Ok(None);
        }
        for t in &trees {
            if let Some(why) = super::merge::dirty_reason(t)? {
                return Ok(Some(format!(
                    "'{}' is checked out in {} and {why}; nothing was changed — commit or \
                     stash there first, then approve again",
                    self.main,
                    t.path.display()
                )));
            }
        }
        let (old_tree, _) = self.trees_of(old, new)?;
        let changes = self.changes(old, new)?;
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
        for t in self.trees_on(&self.main_ref())? {
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

    /// Remove `refs/heads/<main>.lock` when it is a leftover of ours: it holds exactly `ours`
    /// (the journaled new main) and no process has it open. Otherwise say what to do.
    pub fn clear_main_ref_lock(&self, ours: Oid) -> Option<String> {
        let lock = self
            .repo
            .commondir()
            .join(format!("{}.lock", self.main_ref()));
        let text = std::fs::read_to_string(&lock).ok()?;
        if text.trim() == ours.to_string() && !held_open(&lock) {
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

    /// Remove `refs/heads/<branch>.lock` (of a brl branch being decided) when no process has it
    /// open: a kill while the branch was being deleted leaves it.
    pub fn clear_branch_ref_lock(&self, branch: &str) -> Option<String> {
        let lock = self
            .repo
            .commondir()
            .join(format!("refs/heads/{branch}.lock"));
        if !lock.exists() {
            return None;
        }
        if held_open(&lock) {
            return Some(format!(
                "{} is held by a running process; left as it is",
                lock.display()
            ));
        }
        Some(match std::fs::remove_file(&lock) {
            Ok(()) => format!("removed {} (left by a killed decision)", lock.display()),
            Err(e) => format!("cannot remove {}: {e}", lock.display()),
        })
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

    /// The files that differ between the trees of `old` and `new` (no rename detection).
    fn changes(&self, old: Oid, new: Oid) -> Result<Vec<Change>> {
        let what = || format!("cannot diff {old}..{new} in {}", self.path.display());
        let (a, b) = self.trees_of(old, new)?;
        let diff = self
            .repo
            .diff_tree_to_tree(Some(&a), Some(&b), None)
            .ctx(what)?;
        let side = |f: git2::DiffFile<'_>| {
            f.exists()
                .then(|| match f.mode() {
                    FileMode::BlobGroupWritable => (f.id(), BLOB),
                    m => (f.id(), i32::from(m)),
                })
                .filter(|(_, m)| *m != i32::from(FileMode::Tree))
        };
        let mut out = Vec::new();
        for d in diff.deltas() {
            if d.status() == Delta::Unmodified {
                continue;
            }
            let Some(path) = d.new_file().path().or(d.old_file().path()) else {
                continue;
            };
            out.push(Change {
                path: path.to_path_buf(),
                old: side(d.old_file()),
                new: side(d.new_file()),
            });
        }
        Ok(out)
    }
}

fn follow_tree(
    t: &WorkTree,
    changes: &[Change],
    (old_tree, new_tree): (&Tree<'_>, &Tree<'_>),
    since: Option<SystemTime>,
    first: &mut Option<&mut dyn FnMut()>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let index_lock = t.repo.path().join("index.lock");
    if index_lock.exists() {
        let ours = since.is_some_and(|s| {
            index_lock
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|m| m >= s)
        }) && !held_open(&index_lock);
        if !ours {
            return msg(format!(
                "{} exists: a git command is using {} (or died there); the update of its files \
                 to the new main waits — if no git command is running there, remove it \
                 (rm {}) and run any brl command",
                index_lock.display(),
                t.path.display(),
                index_lock.display()
            ));
        }
        std::fs::remove_file(&index_lock)
            .map_err(|e| GitError::Msg(format!("cannot remove {}: {e}", index_lock.display())))?;
        notes.push(format!(
            "removed {} (left by a killed approve)",
            index_lock.display()
        ));
    }
    let what = || format!("cannot read the index of {}", t.path.display());
    let mut index = t.repo.index().ctx(what)?;
    let index_tree = index.write_tree_to(&t.repo).ctx(what)?;
    if index_tree != old_tree.id() && index_tree != new_tree.id() {
        notes.push(format!(
            "{} was left as it is: its index changed since main moved (see `git -C {} status`)",
            t.path.display(),
            t.path.display()
        ));
        return Ok(());
    }
    // Deletions first, so a file can turn into a directory and back.
    let mut order: Vec<&Change> = changes.iter().filter(|c| c.new.is_none()).collect();
    order.extend(changes.iter().filter(|c| c.new.is_some()));
    let mut done: Vec<&Path> = Vec::new();
    let mut left: Vec<String> = Vec::new();
    for c in order {
        if c.old.is_some_and(|o| o.1 == GITLINK) || c.new.is_some_and(|n| n.1 == GITLINK) {
            continue;
        }
        let full = t.path.join(&c.path);
        let _ = std::fs::remove_file(temp_for(&full));
        let now = on_disk(&full);
        let is = |side: Option<(Oid, i32)>| match side {
            None => now == OnDisk::Absent,
            Some((id, mode)) => now == OnDisk::Blob(id, mode),
        };
        if is(c.new) {
            done.push(&c.path);
            continue;
        }
        if !is(c.old) {
            left.push(c.path.display().to_string());
            continue;
        }
        match c.new {
            None => {
                std::fs::remove_file(&full).map_err(|e| cannot("remove", &full, e))?;
                remove_empty_parents(&t.path, &full);
            }
            Some((id, mode)) => match write_blob(t, &full, id, mode) {
                Ok(()) => {}
                Err(WriteError::InTheWay) => {
                    left.push(c.path.display().to_string());
                    continue;
                }
                Err(WriteError::Failed(e)) => return Err(e),
            },
        }
        done.push(&c.path);
        if let Some(f) = first.take() {
            f();
        }
    }
    let what = || format!("cannot write the index of {}", t.path.display());
    index.read_tree(new_tree).ctx(what)?;
    for p in done {
        if t.path.join(p).symlink_metadata().is_ok() {
            index.add_path(p).ctx(what)?;
        }
    }
    index.write().ctx(what)?;
    if !left.is_empty() {
        notes.push(format!(
            "in {}, these files were neither the old nor the new content and were left as they \
             are (yours; compare them with the new main): {}",
            t.path.display(),
            left.join(", ")
        ));
    }
    Ok(())
}

enum WriteError {
    /// A parent path is not a directory (a file of the user's).
    InTheWay,
    Failed(GitError),
}

fn write_blob(
    t: &WorkTree,
    full: &Path,
    id: Oid,
    mode: i32,
) -> std::result::Result<(), WriteError> {
    use std::os::unix::fs::PermissionsExt;
    let blob = t
        .repo
        .find_blob(id)
        .ctx(|| format!("blob {id} for {} not found", full.display()))
        .map_err(WriteError::Failed)?;
    if let Some(dir) = full.parent()
        && std::fs::create_dir_all(dir).is_err()
    {
        return Err(WriteError::InTheWay);
    }
    if full.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        return Err(WriteError::InTheWay);
    }
    let tmp = temp_for(full);
    let fail = |e| WriteError::Failed(cannot("write", &tmp, e));
    if mode == LINK {
        use std::os::unix::ffi::OsStrExt;
        let target = std::ffi::OsStr::from_bytes(blob.content());
        std::os::unix::fs::symlink(target, &tmp).map_err(fail)?;
    } else {
        std::fs::write(&tmp, blob.content()).map_err(fail)?;
        let perm = if mode == EXEC { 0o755 } else { 0o644 };
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(perm)).map_err(fail)?;
    }
    std::fs::rename(&tmp, full).map_err(|e| WriteError::Failed(cannot("write", full, e)))
}

fn cannot(verb: &str, path: &Path, e: std::io::Error) -> GitError {
    GitError::Msg(format!("cannot {verb} {}: {e}", path.display()))
}

/// The fixed temp name beside `full` used while replacing it.
fn temp_for(full: &Path) -> PathBuf {
    let name = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    full.with_file_name(format!(".{name}.brl-new"))
}

fn on_disk(p: &Path) -> OnDisk {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = p.symlink_metadata() else {
        return OnDisk::Absent;
    };
    if meta.file_type().is_symlink() {
        return match std::fs::read_link(p) {
            Ok(target) => Oid::hash_object(ObjectType::Blob, target.as_os_str().as_encoded_bytes())
                .map_or(OnDisk::Other, |id| OnDisk::Blob(id, LINK)),
            Err(_) => OnDisk::Other,
        };
    }
    if !meta.is_file() {
        return OnDisk::Other;
    }
    let mode = if meta.permissions().mode() & 0o111 != 0 {
        EXEC
    } else {
        BLOB
    };
    Oid::hash_file(ObjectType::Blob, p).map_or(OnDisk::Other, |id| OnDisk::Blob(id, mode))
}

/// `rel` is a directory of `old_tree` and every file under it in `root` is tracked there.
fn only_tracked(old_tree: &Tree<'_>, root: &Path, rel: &Path) -> bool {
    if !old_tree
        .get_path(rel)
        .is_ok_and(|e| e.kind() == Some(ObjectType::Tree))
    {
        return false;
    }
    let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
        return false;
    };
    rd.flatten().all(|e| {
        let sub = rel.join(e.file_name());
        if e.file_type().is_ok_and(|f| f.is_dir()) {
            only_tracked(old_tree, root, &sub)
        } else {
            old_tree.get_path(&sub).is_ok()
        }
    })
}

fn remove_empty_parents(root: &Path, full: &Path) {
    let mut dir = full.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Does any process have `path` open? (Scans `/proc/*/fd`; Linux.)
pub(crate) fn held_open(path: &Path) -> bool {
    let want = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    for p in procs.flatten() {
        if !p
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| l == want) {
                return true;
            }
        }
    }
    false
}
