//! `git::restore_worktree`, what the cycle relies on to keep check byproducts out of branches, on
//! the byproducts real tools leave: untracked files deep inside untracked directories.

use crate::common::git;

#[test]
fn restoring_removes_untracked_files_nested_in_untracked_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["config", "user.name", "Test"]);
    git(repo, &["config", "user.email", "test@example.invalid"]);
    std::fs::create_dir_all(repo.join("src")).expect("mkdir");
    std::fs::write(repo.join("src/a.ts"), "export const a = 1;\n").expect("write");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "initial"]);
    // What vitest, Python and cargo leave behind when they run.
    let left = [
        "node_modules/.vite/vitest/da39a3ee/results.json",
        "src/__pycache__/a.cpython-311.pyc",
        "Cargo.lock",
        "build/deep/er/stamp.txt",
    ];
    for p in left {
        let path = repo.join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, "byproduct").expect("write");
    }
    // What agents keep between runs (never committed by brl): left alone.
    let state = [".aider.chat.history.md", ".claude/settings.local.json"];
    for p in state {
        let path = repo.join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, "agent state").expect("write");
    }
    std::fs::write(repo.join("src/a.ts"), "changed by a check\n").expect("write");
    let n = brl::git::restore_worktree(repo).expect("restore");
    assert_eq!(n, left.len() + 1, "paths put back or removed");
    let status = git(repo, &["status", "--porcelain", "--untracked-files=all"]);
    assert_eq!(
        status, "?? .aider.chat.history.md\n?? .claude/settings.local.json",
        "left after the restore"
    );
    for p in left {
        assert!(!repo.join(p).exists(), "{p} survived the restore");
    }
    for d in ["node_modules", "build", "src/__pycache__"] {
        assert!(!repo.join(d).exists(), "the emptied {d} stays");
    }
    assert_eq!(
        std::fs::read_to_string(repo.join("src/a.ts")).expect("read"),
        "export const a = 1;\n"
    );
}
