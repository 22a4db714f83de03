//! Linked worktrees: brl's per-session working copies, and finding which working trees have a
//! branch checked out.

use std::path::{Path, PathBuf};

use git2::Repository;
use git2::build::CheckoutBuilder;

use super::{Ctx, Result, Target, msg};

/// A live working tree (the target's main one or a linked worktree) and a handle on it.
pub(super) struct WorkTree {
    pub path: PathBuf,
    pub repo: Repository,
}

/// HEAD of `repo` is a symbolic ref to `refname` (without resolving it).
fn head_points_at(repo: &Repository, refname: &str) -> bool {
    repo.find_reference("HEAD")
        .ok()
        .and_then(|h| h.symbolic_target().map(|t| t == refname))
        .unwrap_or(false)
}

/// Same directory? Canonicalizes when both exist (symlinked temp dirs etc.).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.components().eq(b.components()),
    }
}

impl Target {
    /// Every live working tree (the main one, unless bare, and each linked worktree whose
    /// directory still exists) whose HEAD is a symbolic ref to `refname`.
    pub(super) fn trees_on(&self, refname: &str) -> Result<Vec<WorkTree>> {
        let what = || format!("cannot list the worktrees of {}", self.path.display());
        let mut out = Vec::new();
        let common = Repository::open(self.repo.commondir()).ctx(what)?;
        if !common.is_bare()
            && head_points_at(&common, refname)
            && let Some(wd) = common.workdir()
        {
            out.push(WorkTree {
                path: wd.components().collect(), // no trailing slash
                repo: common,
            });
        }
        let names = self.repo.worktrees().ctx(what)?;
        for name in names.iter().flatten() {
            let Ok(wt) = self.repo.find_worktree(name) else {
                continue;
            };
            if wt.validate().is_err() {
                // Its directory is gone (prunable): there is no working tree to look after.
                continue;
            }
            // A worktree git cannot open holds nothing checked out that git could use.
            let Ok(repo) = Repository::open_from_worktree(&wt) else {
                continue;
            };
            if head_points_at(&repo, refname) {
                out.push(WorkTree {
                    path: wt.path().to_path_buf(),
                    repo,
                });
            }
        }
        Ok(out)
    }

    /// The git lock files that concern one session: `*.lock` in its worktree's git dir
    /// (`.git/worktrees/<wt_name>/`, e.g. `index.lock`, `HEAD.lock`), under
    /// `refs/heads/<prefix>` and `logs/refs/heads/<prefix>` of the common dir, and
    /// `packed-refs.lock`. Only the files that exist; whether a live process holds them is the
    /// caller's question.
    pub fn session_lock_files(&self, wt_name: &str, prefix: &str) -> Vec<PathBuf> {
        let common = self.repo.commondir().to_path_buf();
        let mut out = Vec::new();
        let gitdir = common.join("worktrees").join(wt_name);
        collect_locks(&gitdir, false, &mut out);
        collect_locks(&gitdir.join("logs"), false, &mut out);
        for base in ["refs/heads", "logs/refs/heads"] {
            collect_locks(&common.join(base).join(prefix), true, &mut out);
        }
        let packed = common.join("packed-refs.lock");
        if packed.exists() {
            out.push(packed);
        }
        out
    }

    /// Make `path` a worktree of the target repo (worktree name `wt_name`) with `branch` checked
    /// out and clean. Reuses an existing worktree of that name at `path` (force-checkout of the
    /// branch, removing untracked but keeping ignored files); prunes a stale record whose
    /// directory is gone. The target repo's own working tree, index and HEAD are untouched.
    pub fn ensure_worktree(&self, wt_name: &str, path: &Path, branch: &str) -> Result<()> {
        if wt_name.is_empty()
            || wt_name.starts_with('.')
            || wt_name.contains(['/', '\\'])
            || wt_name.chars().any(char::is_whitespace)
        {
            return msg(format!(
                "'{wt_name}' is not a usable worktree name (no slashes, spaces or leading dot)"
            ));
        }
        let refname = format!("refs/heads/{branch}");
        let what = || {
            format!(
                "cannot set up worktree '{wt_name}' at {} for branch '{branch}' of {}",
                path.display(),
                self.path.display()
            )
        };
        let branch_ref = self
            .repo
            .find_reference(&refname)
            .ctx(|| format!("branch '{branch}' not found in {}", self.path.display()))?;
        let tip = branch_ref.peel_to_commit().ctx(what)?;

        // Someone else (the user's own tree, another session) must not have the branch.
        for t in self.trees_on(&refname)? {
            if !same_dir(&t.path, path) {
                return msg(format!(
                    "branch '{branch}' of {} is already checked out in {}; it cannot also be \
                     checked out in {}",
                    self.path.display(),
                    t.path.display(),
                    path.display()
                ));
            }
        }

        match self.repo.find_worktree(wt_name) {
            Ok(wt) => {
                let registered = wt.path().to_path_buf();
                let gitdir = self.repo.commondir().join("worktrees").join(wt_name);
                if wt.validate().is_ok()
                    && path.is_dir()
                    && same_dir(&registered, path)
                    && let Some(why) = broken_pointer(path, &gitdir)
                {
                    // Its `.git` pointer is broken: keep the files aside, start it afresh.
                    let aside = move_aside(path)?;
                    tracing::warn!(
                        "worktree '{wt_name}' at {} was broken ({why}); moved to {}",
                        path.display(),
                        aside.display()
                    );
                    // The record is pruned below, as for a deleted directory.
                } else if wt.validate().is_ok() {
                    if !same_dir(&registered, path) {
                        return msg(format!(
                            "worktree '{wt_name}' of {} is at {}, not at {}; remove it \
                             (`git -C {} worktree remove {wt_name}`) or use another name",
                            self.path.display(),
                            registered.display(),
                            path.display(),
                            self.path.display()
                        ));
                    }
                    let wt_repo = Repository::open_from_worktree(&wt).ctx(what)?;
                    let mut co = CheckoutBuilder::new();
                    co.force().remove_untracked(true).remove_ignored(false);
                    // Objects must come from the handle doing the checkout.
                    let tree = wt_repo.find_tree(tip.tree_id()).ctx(what)?;
                    wt_repo
                        .checkout_tree(tree.as_object(), Some(&mut co))
                        .ctx(what)?;
                    wt_repo.set_head(&refname).ctx(what)?;
                    return Ok(());
                }
                if registered.exists() {
                    return msg(format!(
                        "worktree '{wt_name}' of {} at {} is broken ({}); remove it \
                         (`git -C {} worktree remove --force {wt_name}`) and retry",
                        self.path.display(),
                        registered.display(),
                        wt.validate()
                            .err()
                            .map(|e| e.message().to_string())
                            .unwrap_or_default(),
                        self.path.display()
                    ));
                }
                // Its directory was deleted: drop the stale record (fails if locked).
                wt.prune(None).ctx(|| {
                    format!(
                        "cannot prune the stale worktree '{wt_name}' of {} (its directory {} \
                         is gone); if it is locked run `git -C {} worktree unlock {wt_name}`",
                        self.path.display(),
                        registered.display(),
                        self.path.display()
                    )
                })?;
            }
            Err(_) => {
                // A half-written record (e.g. from a failed add) blocks re-adding the name.
                let meta = self.repo.commondir().join("worktrees").join(wt_name);
                if meta.is_dir() {
                    std::fs::remove_dir_all(&meta).map_err(|e| {
                        super::GitError::Msg(format!(
                            "cannot remove the invalid worktree record {}: {e}",
                            meta.display()
                        ))
                    })?;
                }
            }
        }

        // A directory whose `.git` pointer names this record is a broken worktree of ours.
        if path.join(".git").is_file()
            && std::fs::read_to_string(path.join(".git")).is_ok_and(|t| {
                t.trim().strip_prefix("gitdir:").is_some_and(|g| {
                    Path::new(g.trim()).ends_with(Path::new("worktrees").join(wt_name))
                })
            })
        {
            let aside = move_aside(path)?;
            tracing::warn!(
                "worktree '{wt_name}' at {} had lost its record; moved to {}",
                path.display(),
                aside.display()
            );
        }
        // libgit2 creates the directory itself (exclusively) but not its parents.
        if path.exists() {
            let empty = std::fs::read_dir(path)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !empty {
                return msg(format!(
                    "{} already exists and is not worktree '{wt_name}' of {}; remove it or \
                     choose another location",
                    path.display(),
                    self.path.display()
                ));
            }
            std::fs::remove_dir(path).map_err(|e| {
                super::GitError::Msg(format!("cannot reuse empty dir {}: {e}", path.display()))
            })?;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                super::GitError::Msg(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let mut opts = git2::WorktreeAddOptions::new();
        opts.reference(Some(&branch_ref));
        self.repo.worktree(wt_name, path, Some(&opts)).ctx(what)?;
        Ok(())
    }
}

/// `*.lock` files in `dir` (and below it when `deep`).
fn collect_locks(dir: &Path, deep: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && deep {
            collect_locks(&p, true, out);
        } else if !is_dir && p.extension().is_some_and(|x| x == "lock") {
            out.push(p);
        }
    }
}

/// A directory with a `.git` file (a linked worktree's pointer) that does not lead to a usable
/// repository, or that leads to another record than `gitdir`: a broken worktree of ours when its
/// pointer names our record.
fn broken_pointer(path: &Path, gitdir: &Path) -> Option<String> {
    let dotgit = path.join(".git");
    let text = std::fs::read_to_string(&dotgit).ok();
    let points_here = text.as_deref().is_some_and(|t| {
        t.trim()
            .strip_prefix("gitdir:")
            .is_some_and(|g| same_dir(Path::new(g.trim()), gitdir))
    });
    if !points_here {
        return Some(match text {
            None if dotgit.exists() => format!("{} is not a readable file", dotgit.display()),
            None => format!("{} is missing", dotgit.display()),
            Some(_) => format!(
                "{} does not point at {}",
                dotgit.display(),
                gitdir.display()
            ),
        });
    }
    Repository::open(path)
        .err()
        .map(|e| format!("{} cannot be opened: {}", path.display(), e.message()))
}

/// Move a broken worktree directory aside (never delete what may hold someone's files):
/// `<path>.broken-<timestamp>`. Returns where it went.
fn move_aside(path: &Path) -> Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S%.3f");
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".broken-{stamp}"));
    let aside = path.with_file_name(name);
    std::fs::rename(path, &aside).map_err(|e| {
        super::GitError::Msg(format!(
            "cannot move the broken worktree {} aside to {}: {e}",
            path.display(),
            aside.display()
        ))
    })?;
    Ok(aside)
}
