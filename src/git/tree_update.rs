//! Bringing one working tree from main's old tree to its new one, file by file (see
//! `follow_main.rs`): the per-file decision (old content → new, new → done, anything else is the
//! user's), crash-safe replacement with a fixed temp name, and the index written once at the end.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use git2::{IndexEntry, IndexTime, ObjectType, Oid, Tree};

use super::worktree::WorkTree;
use super::{Ctx, GitError, Result, msg};
use crate::proc::held_open;

/// A file that differs between main's old and new trees: (blob, mode) on each side.
pub(super) struct Change {
    pub path: PathBuf,
    pub old: Option<(Oid, i32)>,
    pub new: Option<(Oid, i32)>,
}

/// What a working-tree path holds now.
#[derive(PartialEq)]
pub(super) enum OnDisk {
    Absent,
    Blob(Oid, i32),
    /// A directory, or something unreadable.
    Other,
}

pub(super) const BLOB: i32 = 0o100644;
pub(super) const EXEC: i32 = 0o100755;
pub(super) const LINK: i32 = 0o120000;
pub(super) const GITLINK: i32 = 0o160000;

pub(super) fn follow_tree(
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
    // A handle kept since the check holds the index as it was read then: read it again if its
    // file changed since.
    index.read(false).ctx(what)?;
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
    // The entries the new tree will have: as many as now, give or take the change's additions
    // and deletions (none when the index is the new tree already: a rerun).
    let mut want = index.len() as i64;
    if index_tree == old_tree.id() {
        for c in changes {
            want += i64::from(c.new.is_some()) - i64::from(c.old.is_some());
        }
    }
    set_entries(t, &mut index, changes, &done).ctx(what)?;
    if !is_new(&index, changes, want) {
        // Never expected (the index was the old tree and took every change); the whole-tree way
        // is right whatever happened, at the cost of reading every entry and tree.
        tracing::warn!(
            "the index of {} did not come out as the new tree; rebuilt from it",
            t.path.display()
        );
        index.read_tree(new_tree).ctx(what)?;
        for p in &done {
            if t.path.join(p).symlink_metadata().is_ok() {
                index.add_path(p).ctx(what)?;
            }
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

/// The index entries of the changed paths become the new tree's (deletions first, so a file can
/// become a directory): a file written (or found with the new content) is added with its stat
/// data; any other (the user's, a submodule) gets the new blob with no stat data, so git
/// compares its content. Every other entry is left as it is.
fn set_entries(
    t: &WorkTree,
    index: &mut git2::Index,
    changes: &[Change],
    done: &[&Path],
) -> std::result::Result<(), git2::Error> {
    for c in changes.iter().filter(|c| c.new.is_none()) {
        index.remove_path(&c.path)?;
    }
    for c in changes {
        let Some((id, mode)) = c.new else { continue };
        if mode != GITLINK
            && done.contains(&c.path.as_path())
            && t.path.join(&c.path).symlink_metadata().is_ok()
        {
            index.add_path(&c.path)?;
            continue;
        }
        let path = c.path.as_os_str().as_encoded_bytes().to_vec();
        index.add(&IndexEntry {
            ctime: IndexTime::new(0, 0),
            mtime: IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: mode as u32,
            uid: 0,
            gid: 0,
            file_size: 0,
            id,
            flags: path.len().min(0xfff) as u16,
            flags_extended: 0,
            path,
        })?;
    }
    Ok(())
}

/// The index has the new side of every change and `want` entries (so nothing else went).
fn is_new(index: &git2::Index, changes: &[Change], want: i64) -> bool {
    index.len() as i64 == want
        && changes.iter().all(|c| {
            let now = index.get_path(&c.path, 0).map(|e| (e.id, e.mode as i32));
            now == c.new
        })
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

pub(super) fn on_disk(p: &Path) -> OnDisk {
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
pub(super) fn only_tracked(old_tree: &Tree<'_>, root: &Path, rel: &Path) -> bool {
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
