//! Returning a worktree to its HEAD commit after the checks ran in it: nothing a check writes
//! (byte-code caches, build stamps, files `make` made by its implicit rules, a reformatted
//! source) may be taken for the agent's work.

use std::path::Path;

use git2::{Repository, ResetType, Status, StatusOptions};

use super::{Ctx, Result};

/// Reset the worktree at `path` to its HEAD commit: tracked files and the index as committed,
/// untracked files removed — except the agents' own state files (`.aider*`,
/// `.claude/settings.local.json`, …), which brl never commits and the agent needs on its next
/// run. Ignored files stay (dependencies such as `node_modules`, caches the checks reuse); git
/// never commits them unless forced. Returns how many paths it put back or removed.
pub fn restore_worktree(path: &Path) -> Result<usize> {
    let what = || {
        format!(
            "cannot return the worktree {} to its commit",
            path.display()
        )
    };
    let repo = Repository::open(path).ctx(what)?;
    let state = crate::agents::all_state_paths();
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true);
    let (mut changed, mut untracked) = (0, Vec::new());
    for e in repo.statuses(Some(&mut opts)).ctx(what)?.iter() {
        let Some(rel) = e.path().map(str::to_string) else {
            changed += 1; // not UTF-8: the reset still deals with a tracked one
            continue;
        };
        if e.status() == Status::WT_NEW {
            if !crate::agents::is_state_path(&state, &rel) {
                untracked.push(rel);
            }
        } else {
            changed += 1;
        }
    }
    if changed > 0 {
        // libgit2's hard reset checks out with FORCE only (whatever options it is given), so it
        // never removes untracked files: those go below, one by one.
        let head = repo
            .head()
            .and_then(|h| h.peel(git2::ObjectType::Commit))
            .ctx(what)?;
        repo.reset(&head, ResetType::Hard, None).ctx(what)?;
    }
    for rel in &untracked {
        let file = path.join(rel);
        match std::fs::remove_file(&file) {
            Ok(()) => remove_empty_parents(path, &file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return super::msg(format!("{}: cannot remove {}: {e}", what(), file.display()));
            }
        }
    }
    Ok(changed + untracked.len())
}

/// Remove the directories between `file` (just removed) and `root` that are now empty.
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
