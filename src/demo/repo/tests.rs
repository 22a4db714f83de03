//! Unit tests for the demo target: the fresh repository is a clean `main` with the seeded
//! counts, and its scripts behave from anywhere.

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
