//! The directory where a job's agent runs when it needs no checkout (standup, doctor, skills):
//! a git repository brl owns, `logs/jobs/scratch/<job>/`, made with `git init` and one empty
//! commit the first time.
//!
//! Why a repository: every preset must be able to run there — Codex refuses to work outside a
//! git directory, aider runs `git init` where there is none (or climbs to a parent repository:
//! the brl home may sit inside the user's checkout). Why a repository of its own and not a
//! worktree of the target repo: what an agent does there (aider commits its caches, Codex and
//! Gemini write state) touches no ref, index or hook of the user's repository, and git's search
//! for a repository stops here, never reaching the user's checkout. Each job has its own, since
//! different jobs may run at the same time.

use std::path::{Path, PathBuf};

use super::JobError;

/// Make `dir` a git repository with a first commit if it is not one yet; returns `dir`.
pub fn prepare(dir: &Path) -> Result<PathBuf, JobError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        JobError::Failed(format!(
            "cannot {what} the jobs' scratch repository {}: {e} (brl owns it: deleting the \
             directory is safe, the next job makes it again)",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("create", &e))?;
    if dir.join(".git").exists() {
        if let Ok(repo) = git2::Repository::open(dir)
            && repo.workdir().is_some_and(|w| same(w, dir))
            && repo.head().is_ok()
        {
            return Ok(dir.to_path_buf());
        }
        // Half made (a crash between init and the first commit) or not ours: make it again.
        std::fs::remove_dir_all(dir.join(".git")).map_err(|e| fail("reset", &e))?;
    }
    let repo = git2::Repository::init(dir).map_err(|e| fail("git init", &e))?;
    let sig = git2::Signature::now("brl", "brl@localhost").map_err(|e| fail("sign", &e))?;
    let tree_id = repo
        .index()
        .and_then(|mut i| i.write_tree())
        .map_err(|e| fail("write the empty tree of", &e))?;
    let tree = repo
        .find_tree(tree_id)
        .map_err(|e| fail("read the empty tree of", &e))?;
    repo.commit(
        Some("HEAD"),
        &sig,
        &sig,
        "brl: the jobs' scratch repository (agents run here; nothing here is the user's)",
        &tree,
        &[],
    )
    .map_err(|e| fail("make the first commit in", &e))?;
    Ok(dir.to_path_buf())
}

fn same(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scratch_dir_becomes_a_repository_of_its_own_once() {
        let d = tempfile::tempdir().expect("tempdir");
        // a parent repository, like a user's checkout holding the brl home
        git2::Repository::init(d.path()).expect("parent repo");
        let dir = d.path().join("home/logs/jobs/scratch/doctor");
        prepare(&dir).expect("prepare");
        let repo = git2::Repository::discover(&dir).expect("discover");
        assert!(same(repo.workdir().expect("workdir"), &dir));
        let first = repo.head().expect("head").target().expect("oid");
        std::fs::write(dir.join("left.txt"), "an agent's file\n").expect("write");
        prepare(&dir).expect("again");
        let again = git2::Repository::open(&dir).expect("open");
        assert_eq!(again.head().expect("head").target(), Some(first));
        assert!(dir.join("left.txt").exists());
    }

    #[test]
    fn a_half_made_scratch_repository_is_made_again() {
        let d = tempfile::tempdir().expect("tempdir");
        let dir = d.path().join("scratch");
        git2::Repository::init(&dir).expect("init without a commit");
        prepare(&dir).expect("prepare");
        assert!(git2::Repository::open(&dir).expect("open").head().is_ok());
    }
}
