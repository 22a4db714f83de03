//! The demo target repository: a tiny language ("calc") whose type check and tests
//! report countable errors and failures, using only POSIX `sh` and `awk`.
//!
//! Files `src/*.calc` hold one equation per line, `OP A B = C`. `sh check.sh` (the type
//! check) prints one `error: FILE:LINE: why` line per malformed equation; `sh test.sh` (the
//! tests) prints `ok FILE:LINE` or `FAIL FILE:LINE: ...` per well-formed one. The seeded
//! files contain [`SEEDED_TYPE_ERRORS`] malformed lines and [`SEEDED_TEST_FAILURES`] wrong
//! equations. The rules of the language are in the repository's AGENTS.md, and
//! [`super::agent`] implements them in Rust.

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

/// `(path, executable, contents)` of every file in the initial commit.
const FILES: &[(&str, bool, &str)] = &[
    (
        "README.md",
        false,
        r#"# calc demo

A tiny repository for trying out brl without an API key. The "language" is
**calc**: files `src/*.calc` hold one integer equation per line, such as

    add 2 3 = 5
    div -7 2 = -3

Some lines are malformed and some equations are wrong, on purpose.

- `sh check.sh` is the type check: one `error: FILE:LINE: why` line per malformed
  equation, exit status 1 if there is any.
- `sh test.sh` runs the tests: every well-formed equation is evaluated and prints
  `ok FILE:LINE` or `FAIL FILE:LINE: ... (expected N)`, exit status 1 if any fails.

Both need only a POSIX shell and awk. The language rules are in AGENTS.md.
"#,
    ),
    (
        "AGENTS.md",
        false,
        r#"# Working on this repository

This repository is written in **calc**, a tiny language of integer equations.

## The language

- Source files are `src/*.calc`, one equation per line: `OP A B = C`, with the
  tokens separated by spaces. Blank lines and lines starting with `#` are ignored.
- `OP` is one of:
  - `add` (A + B), `sub` (A - B), `mul` (A * B),
  - `div` (A / B, truncated toward zero: `div -7 2 = -3`),
  - `min`, `max`.
- `A` and `B` are integers written as an optional `-` and at most 6 digits.
  `C` is an integer. Not integers: `1,000`, `2.0`, `two`, `x`.
- `div` by `0` is an error.

## The checks

- `sh check.sh` (type check) prints `error: FILE:LINE: why` for every malformed line.
- `sh test.sh` (tests) evaluates every well-formed line and prints `ok FILE:LINE`
  or `FAIL FILE:LINE: OP A B = C (expected N)`. It skips malformed lines.

Both exit with status 1 when they report a problem.

## Rules

- Fix problems by correcting the equation, keeping its intent: a misspelled op
  becomes the op it was meant to be, a wrong result becomes the right one.
- Do not delete or comment out equations, and do not edit `check.sh`, `test.sh`
  or `calc.awk`.
- Commit your work with a short message saying what you fixed.
"#,
    ),
    (".gitattributes", false, "* text=auto eol=lf\n"),
    (
        "check.sh",
        true,
        r#"#!/bin/sh
# The demo's "type check": see README.md.
LC_ALL=C; export LC_ALL
cd "$(dirname "$0")" || exit 2
set -- src/*.calc
if [ ! -e "$1" ]; then
    echo "check.sh: no src/*.calc files"
    exit 0
fi
exec awk -v mode=check -f calc.awk "$@"
"#,
    ),
    (
        "test.sh",
        true,
        r#"#!/bin/sh
# The demo's "tests": see README.md.
LC_ALL=C; export LC_ALL
cd "$(dirname "$0")" || exit 2
set -- src/*.calc
if [ ! -e "$1" ]; then
    echo "test.sh: no src/*.calc files"
    exit 0
fi
exec awk -v mode=test -f calc.awk "$@"
"#,
    ),
    (
        "calc.awk",
        false,
        r#"# calc.awk -- shared by check.sh (mode=check) and test.sh (mode=test).
# One equation per line: OP A B = C. Blank lines and lines starting with # are ignored.

function isint(s) { return s ~ /^-?[0-9]+$/ }
function digits(s) { return length(s) - (substr(s, 1, 1) == "-") }

# Why this line is malformed, or "" when it is well-formed.
function malformed(   i, neq, pos) {
    neq = 0; pos = 0
    for (i = 1; i <= NF; i++) if ($i == "=") { neq++; if (pos == 0) pos = i }
    if (neq == 0) return "missing `=`"
    if (neq > 1) return "more than one `=`"
    if (pos == NF) return "missing result after `=`"
    if (pos < NF - 1) return "expected one result after `=`"
    if (pos == 1) return "missing op before `=`"
    if ($1 !~ /^(add|sub|mul|div|min|max)$/) return "unknown op `" $1 "`"
    if (pos != 4) return "`" $1 "` takes 2 operands, got " (pos - 2)
    for (i = 2; i <= 3; i++) {
        if (!isint($i)) return "operand `" $i "` is not an integer"
        if (digits($i) > 6) return "operand `" $i "` is out of range (at most 6 digits)"
    }
    if (!isint($5)) return "result `" $5 "` is not an integer"
    if ($1 == "div" && $3 + 0 == 0) return "division by zero"
    return ""
}

function evaluate(op, a, b) {
    if (op == "add") return a + b
    if (op == "sub") return a - b
    if (op == "mul") return a * b
    if (op == "div") return int(a / b)
    if (op == "min") return (a < b) ? a : b
    return (a > b) ? a : b
}

NF == 0 || $1 ~ /^#/ { next }

{
    why = malformed()
    where = FILENAME ":" FNR
    if (mode == "check") {
        if (why != "") { print "error: " where ": " why; errors++ }
        next
    }
    if (why != "") { skipped++; next }
    # "+ 0" turns a negative zero into 0.
    want = evaluate($1, $2 + 0, $3 + 0) + 0
    if (want == $5 + 0) { print "ok " where; passed++ }
    else {
        printf "FAIL %s: %s %s %s = %s (expected %.0f)\n", where, $1, $2, $3, $5, want
        failed++
    }
}

END {
    if (mode == "check") {
        printf "check.sh: %d error(s)\n", errors
        exit (errors > 0 ? 1 : 0)
    }
    printf "test.sh: %d passed, %d failed, %d skipped (malformed)\n", passed, failed, skipped
    exit (failed > 0 ? 1 : 0)
}
"#,
    ),
    (
        "src/arith.calc",
        false,
        r#"# Warm-up arithmetic.
add 2 3 = 5
ad 4 4 = 8
add 19 23 = 41
sub 10 4 = 6
sub 3 10 = 7
mul 6 7 = 42
mull 3 5 = 15
div 20 4 = 5
div 7 2 = 4
max 3 9 = 9
"#,
    ),
    (
        "src/budget.calc",
        false,
        r#"# Monthly budget, in whole euros.
add 1200 350 = 1550
sub 1550 900 = 650
mul 12 12 = 124
add 1,000 500 = 1500
div 650 2 = 325
sub 100 1 = 99
add 60 45 = 115
mul 30 4 = 120
sub 400 120 280
"#,
    ),
    (
        "src/clock.calc",
        false,
        r#"# Minutes and hours.
mul 60 24 = 1440
div 90 60 = 1
add 45 30 = 75
sub 60 15 = 45
mul 7 24 = 168
div 1440 0 = 24
add 7 8 =
mul 15 4 = 60
div 125 60 = 2
"#,
    ),
    (
        "src/grid.calc",
        false,
        r#"# Coordinates on a grid, negatives included.
add -3 5 = 2
sub -2 -8 = 6
max -2 -8 = -8
min 0 -1 = 0
mul -3 -3 = -9
mul -4 5 = -20
div -7 2 = -4
min -5 -6 = -6
max 0 0 = 0
add -10 = -4
"#,
    ),
    (
        "src/recipe.calc",
        false,
        r#"# Scaling a recipe.
mul two 3 = 6
mul 250 2 = 500
div 500 4 = 125
add 125 125 = 250
mul 2 150 = 300
sub 300 75 = 225
min 8 3 == 3
mul 25 4 = 1000
max 4 5 = five
add 999 1 = 1001
"#,
    ),
    (
        "src/score.calc",
        false,
        r#"# A small score board.
add 10 20 = 30
add 30 15 = 45
max 45 50 = 50
min 45 50 = 45
sub 50 x = 35
div 90 3 = 30
mul 3 10 = 30
mx 7 2 = 7
sub 0 12 = -12
add 12 12 = 42
"#,
    ),
];

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

/// Helpers shared by the demo's tests: run the checks like brl would and count their
/// output with the [`CHECKS`] regexes.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::Path;
    use std::process::Command;

    use super::CHECKS;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) struct Counts {
        pub type_errors: usize,
        pub test_failures: usize,
        pub tests_passed: usize,
    }

    impl Counts {
        pub(crate) fn problems(&self) -> usize {
            self.type_errors + self.test_failures
        }
    }

    /// Output and success of `sh -c cmd` run in `dir`.
    pub(crate) fn sh(dir: &Path, cmd: &str) -> (String, bool) {
        let out = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(dir)
            .output()
            .expect("cannot run sh");
        assert!(
            out.stderr.is_empty(),
            "{cmd} wrote to stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (String::from_utf8(out.stdout).unwrap(), out.status.success())
    }

    /// How many lines `regex` matches. The regexes in [`CHECKS`] are `(?m)^` followed by a
    /// literal; this asserts that, so counting line prefixes gives what brl's regex
    /// parser would count (without a regex dependency here).
    pub(crate) fn count(regex: &str, output: &str) -> usize {
        let literal = regex
            .strip_prefix("(?m)^")
            .expect("regex starts with (?m)^");
        assert!(
            !literal.contains(|c: char| r"\.+*?()|[]{}^$".contains(c)),
            "regex {regex} is not a plain prefix"
        );
        output
            .lines()
            .filter(|line| line.starts_with(literal))
            .count()
    }

    /// Runs both checks in `dir`, checks their exit status agrees with their counts.
    pub(crate) fn run_checks(dir: &Path) -> Counts {
        let (check_out, check_ok) = sh(dir, CHECKS.typecheck_cmd);
        let (test_out, test_ok) = sh(dir, CHECKS.test_cmd);
        let counts = Counts {
            type_errors: count(CHECKS.typecheck_errors_regex, &check_out),
            test_failures: count(CHECKS.test_failures_regex, &test_out),
            tests_passed: count(CHECKS.test_passed_regex, &test_out),
        };
        assert_eq!(check_ok, counts.type_errors == 0, "{check_out}");
        assert_eq!(test_ok, counts.test_failures == 0, "{test_out}");
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{Counts, run_checks, sh};
    use super::*;

    #[test]
    fn target_is_a_clean_main_branch_with_the_seeded_counts() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("target");
        create_target(&dir).unwrap();

        let repo = git2::Repository::open(&dir).unwrap();
        let head = repo.head().unwrap();
        assert_eq!(head.name(), Some("refs/heads/main"));
        let commit = head.peel_to_commit().unwrap();
        assert_eq!(commit.parent_count(), 0);
        assert_eq!(commit.author().name(), Some("brl demo"));
        assert_eq!(commit.author().email(), Some("demo@brl.invalid"));
        assert_eq!(commit.committer().email(), Some("demo@brl.invalid"));

        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true).include_ignored(false);
        let statuses = repo.statuses(Some(&mut opts)).unwrap();
        assert!(statuses.is_empty(), "fresh target is not clean");

        let tree = commit.tree().unwrap();
        for name in ["check.sh", "test.sh"] {
            assert_eq!(
                tree.get_path(Path::new(name)).unwrap().filemode(),
                0o100755,
                "{name}"
            );
        }
        assert_eq!(
            tree.get_path(Path::new("src/arith.calc"))
                .unwrap()
                .filemode(),
            0o100644
        );
        assert!(tree.get_path(Path::new("AGENTS.md")).is_ok());
        assert!(tree.get_path(Path::new("README.md")).is_ok());

        let counts = run_checks(&dir);
        assert_eq!(
            counts,
            Counts {
                type_errors: SEEDED_TYPE_ERRORS,
                test_failures: SEEDED_TEST_FAILURES,
                tests_passed: SEEDED_TESTS_PASSED,
            }
        );
        // Counting the seeded files: 6 of them, about 60 equations.
        let calc_files = FILES
            .iter()
            .filter(|(p, _, _)| p.ends_with(".calc"))
            .count();
        assert_eq!(calc_files, 6);

        // Running the checks leaves nothing behind.
        assert!(repo.statuses(Some(&mut opts)).unwrap().is_empty());
    }

    #[test]
    fn scripts_work_from_another_directory_and_when_executed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("target");
        create_target(&dir).unwrap();
        let (out, ok) = sh(tmp.path(), "sh target/check.sh");
        assert!(!ok);
        assert_eq!(
            out.lines().filter(|l| l.starts_with("error: ")).count(),
            SEEDED_TYPE_ERRORS
        );
        #[cfg(unix)]
        {
            let (out, ok) = sh(&dir, "./test.sh");
            assert!(!ok);
            assert_eq!(
                out.lines().filter(|l| l.starts_with("FAIL ")).count(),
                SEEDED_TEST_FAILURES
            );
            assert_eq!(
                out.lines().last(),
                Some("test.sh: 34 passed, 12 failed, 12 skipped (malformed)")
            );
        }
    }

    #[test]
    fn checks_pass_with_no_sources() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("target");
        create_target(&dir).unwrap();
        std::fs::remove_dir_all(dir.join("src")).unwrap();
        let counts = run_checks(&dir);
        assert_eq!(counts.problems() + counts.tests_passed, 0);
    }

    #[test]
    fn refuses_a_non_empty_directory() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("x"), "x").unwrap();
        assert!(create_target(tmp.path()).is_err());
        // An existing empty directory is fine.
        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        create_target(&empty).unwrap();
    }
}
