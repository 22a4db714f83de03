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

use git2::Oid;
use git2::build::CheckoutBuilder;

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
    let annotated = repo.find_annotated_commit(theirs).ctx(what)?;
    let mut checkout = CheckoutBuilder::new();
    checkout
        .safe()
        .allow_conflicts(true)
        .conflict_style_merge(true)
        .our_label(ours_label)
        .their_label(theirs_label);
    repo.merge(&[&annotated], None, Some(&mut checkout))
        .ctx(what)?;
    let mut index = repo.index().ctx(what)?;
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
            // The file as the merge left it in the worktree: with markers where both sides
            // changed it; the surviving side where one side deleted it.
            if worktree.join(&path).exists() {
                index.add_path(Path::new(&path)).ctx(what)?;
            } else {
                index.remove_path(Path::new(&path)).ctx(what)?;
            }
            conflicted.push(path);
        }
    }
    index.write().ctx(what)?;
    let tree_id = index.write_tree().ctx(what)?;
    let tree = repo.find_tree(tree_id).ctx(what)?;
    let sig = signature(&repo)?;
    let commit = repo
        .commit(Some("HEAD"), &sig, &sig, message, &tree, &[&ours, &other])
        .ctx(what)?;
    repo.cleanup_state().ctx(what)?;
    repo.checkout_head(Some(CheckoutBuilder::new().force()))
        .ctx(what)?;
    conflicted.sort();
    Ok(FixStart { commit, conflicted })
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

#[cfg(test)]
mod tests {
    use std::process::Command;

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn a_conflict_is_committed_with_markers_and_both_parents() {
        let d = tempfile::tempdir().expect("tempdir");
        let repo = d.path().join("r");
        std::fs::create_dir_all(&repo).expect("mkdir");
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["config", "user.name", "T"]);
        git(&repo, &["config", "user.email", "t@example.invalid"]);
        std::fs::write(repo.join("a.txt"), "one\ntwo\n").expect("write");
        std::fs::write(repo.join("b.txt"), "b\n").expect("write");
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "init"]);
        git(&repo, &["checkout", "-qb", "topic"]);
        std::fs::write(repo.join("a.txt"), "one\nTOPIC\n").expect("write");
        git(&repo, &["commit", "-qam", "topic"]);
        let topic = git(&repo, &["rev-parse", "HEAD"]);
        git(&repo, &["checkout", "-q", "main"]);
        std::fs::write(repo.join("a.txt"), "one\nMAIN\n").expect("write");
        std::fs::write(repo.join("b.txt"), "b2\n").expect("write");
        git(&repo, &["commit", "-qam", "main"]);
        let wt = d.path().join("wt");
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                "fixb",
                wt.to_str().expect("utf-8"),
                "main",
            ],
        );
        let st = super::merge_for_fix(
            &wt,
            git2::Oid::from_str(&topic).expect("oid"),
            "main",
            "topic",
            "merge",
        )
        .expect("merged");
        assert_eq!(st.conflicted, vec!["a.txt".to_string()]);
        let a = std::fs::read_to_string(wt.join("a.txt")).expect("read");
        assert!(
            a.contains("<<<<<<< main") && a.contains(">>>>>>> topic"),
            "{a}"
        );
        assert_eq!(git(&wt, &["status", "--porcelain"]), "");
        assert_eq!(git(&wt, &["rev-parse", "HEAD"]), st.commit.to_string());
        let parents = git(&wt, &["log", "-1", "--format=%P"]);
        assert!(parents.contains(&topic), "{parents}");
        let t = crate::git::Target::open(&repo, "main").expect("open");
        assert_eq!(
            t.markers_left(st.commit, &st.conflicted).expect("read"),
            vec!["a.txt".to_string()]
        );
    }
}
