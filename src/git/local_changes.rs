//! What the user has in a working tree with main checked out, as far as moving it along a change
//! is concerned: an operation in progress, staged changes, or uncommitted changes to the files the
//! change touches. Only those files are looked at (like `git merge`), so the cost follows the
//! change, not the size of the repository.

use std::path::Path;

use git2::{RepositoryState, Tree};

use super::tree_update::{Change, GITLINK, OnDisk, on_disk};
use super::worktree::WorkTree;
use super::{Ctx, Result};

/// Why the working tree `t` (main checked out at `old_tree`) must not be brought along `changes`,
/// if it must not: an operation in progress, an index that is not `old_tree` (staged changes,
/// unmerged files), or a tracked file the change touches that is neither its old nor its new
/// content (an uncommitted edit or deletion of the user's). No other file is looked at, so the
/// cost follows the change, not the repository.
pub(super) fn local_changes(
    t: &WorkTree,
    old_tree: &Tree<'_>,
    changes: &[Change],
) -> Result<Option<String>> {
    let state = t.repo.state();
    if state != RepositoryState::Clean {
        return Ok(Some(format!("has an operation in progress ({state:?})")));
    }
    let what = || format!("cannot read the index of {}", t.path.display());
    let mut index = t.repo.index().ctx(what)?;
    if index.has_conflicts() {
        return Ok(Some("has unmerged files".into()));
    }
    if index.write_tree_to(&t.repo).ctx(what)? != old_tree.id() {
        let diff = t
            .repo
            .diff_tree_to_index(Some(old_tree), Some(&index), None)
            .ctx(what)?;
        let paths: Vec<String> = diff
            .deltas()
            .filter_map(|d| d.new_file().path().or(d.old_file().path()))
            .map(|p| p.display().to_string())
            .collect();
        return Ok(Some(format!(
            "has uncommitted (staged) changes ({})",
            listed(&paths)
        )));
    }
    let mut edited = Vec::new();
    for c in changes {
        // A file the old tree lacks is checked for being in the way by the caller.
        let Some((old_id, old_mode)) = c.old else {
            continue;
        };
        if old_mode == GITLINK || c.new.is_some_and(|n| n.1 == GITLINK) {
            continue;
        }
        let now = on_disk(&t.path.join(&c.path));
        let fine = now == OnDisk::Blob(old_id, old_mode)
            || match c.new {
                Some((id, mode)) => now == OnDisk::Blob(id, mode),
                None => now == OnDisk::Absent,
            };
        // The bytes differ from the blob: content filters (line endings, smudge) may explain it,
        // so git's own comparison decides.
        if fine || unmodified(t, &c.path) {
            continue;
        }
        edited.push(c.path.display().to_string());
    }
    if edited.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "has uncommitted changes to files this merge changes ({})",
        listed(&edited)
    )))
}

/// git's status says the tracked file `rel` matches the index (filters applied).
fn unmodified(t: &WorkTree, rel: &Path) -> bool {
    t.repo.status_file(rel).is_ok_and(|s| {
        !s.intersects(
            git2::Status::WT_MODIFIED
                | git2::Status::WT_DELETED
                | git2::Status::WT_TYPECHANGE
                | git2::Status::WT_RENAMED
                | git2::Status::CONFLICTED,
        )
    })
}

/// At most five paths, then how many more.
fn listed(paths: &[String]) -> String {
    let shown: Vec<&str> = paths.iter().take(5).map(String::as_str).collect();
    let more = if paths.len() > 5 {
        format!(" and {} more", paths.len() - 5)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}
