//! The demo target repository: a tiny language ("calc") whose type check and tests
//! report countable errors and failures, using only POSIX `sh` and `awk`.
//!
//! Files `src/*.calc` hold one equation per line, `OP A B = C`. `sh check.sh` (the type
//! check) prints one `error: FILE:LINE: why` line per malformed equation; `sh test.sh` (the
//! tests) prints `ok FILE:LINE` or `FAIL FILE:LINE: ...` per well-formed one. The seeded
//! files contain [`SEEDED_TYPE_ERRORS`] malformed lines and [`SEEDED_TEST_FAILURES`] wrong
//! equations. The rules of the language are in the repository's AGENTS.md, and
//! [`super::agent`] implements them in Rust.
//!
//! This module holds the check commands and the creation of the repository; the files of the
//! initial commit are in `repo/files.rs`.

mod files;

use files::FILES;

use std::path::Path;

use anyhow::{Context, Result, bail};

/// The commands brl should run in a worktree, and how to count their output with brl's
/// `regex` parser: each regex matches once per reported line (`(?m)` makes `^` match at
/// every line start; the summary lines the scripts print last never match).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoChecks {
    pub typecheck_cmd: &'static str,
    pub typecheck_errors_regex: &'static str,
    pub test_cmd: &'static str,
    pub test_failures_regex: &'static str,
    pub test_passed_regex: &'static str,
}

pub const CHECKS: DemoChecks = DemoChecks {
    typecheck_cmd: "sh check.sh",
    typecheck_errors_regex: r"(?m)^error: ",
    test_cmd: "sh test.sh",
    test_failures_regex: r"(?m)^FAIL ",
    test_passed_regex: r"(?m)^ok ",
};

/// Malformed equations in the seeded files (`error:` lines from `sh check.sh`).
pub const SEEDED_TYPE_ERRORS: usize = 12;
/// Wrong equations in the seeded files (`FAIL` lines from `sh test.sh`).
pub const SEEDED_TEST_FAILURES: usize = 12;
/// Correct equations in the seeded files (`ok` lines from `sh test.sh`).
pub const SEEDED_TESTS_PASSED: usize = 34;

const AUTHOR_NAME: &str = "brl demo";
const AUTHOR_EMAIL: &str = "demo@brl.invalid";

/// Create a git repo at `dir` (must not exist or be empty) with branch `main` and one
/// initial commit (author and committer "brl demo <demo@brl.invalid>", independent of any
/// git config) holding the calc sources, `check.sh`, `test.sh`, `calc.awk`, README.md and
/// AGENTS.md. The working tree is left checked out and clean.
pub fn create_target(dir: &Path) -> Result<()> {
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!("{} is not empty", dir.display());
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let mut opts = git2::RepositoryInitOptions::new();
    opts.initial_head("main").mkdir(true);
    let repo = git2::Repository::init_opts(dir, &opts)
        .with_context(|| format!("cannot create a git repository in {}", dir.display()))?;

    let mut index = repo.index()?;
    for &(path, executable, contents) in FILES {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, contents)
            .with_context(|| format!("cannot write {}", file.display()))?;
        set_executable(&file, executable)?;
        // Record the mode explicitly: the file system may not keep the executable bit.
        let mode = if executable { 0o100755 } else { 0o100644 };
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode,
            uid: 0,
            gid: 0,
            file_size: u32::try_from(contents.len())?,
            id: repo.blob(contents.as_bytes())?,
            flags: 0,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add(&entry)?;
    }
    // Refresh the stat data so that the fresh checkout reads as clean.
    index.update_all(["*"], None)?;
    index.write()?;

    let tree = repo.find_tree(index.write_tree()?)?;
    let sig = git2::Signature::now(AUTHOR_NAME, AUTHOR_EMAIL)?;
    repo.commit(
        Some("HEAD"),
        &sig,
        &sig,
        "Initial calc demo\n\nSeeded with malformed and wrong equations for brl's demo agent to fix.\n",
        &tree,
        &[],
    )?;
    Ok(())
}

#[cfg(unix)]
fn set_executable(file: &Path, executable: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", file.display()))
}

#[cfg(not(unix))]
fn set_executable(_file: &Path, _executable: bool) -> Result<()> {
    Ok(())
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests;
