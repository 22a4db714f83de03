use super::*;

#[test]
fn pytest_fixtures() {
    assert_eq!(tests(Pytest, fixture!("pytest-clean"), 0), (0, 4));
    assert_eq!(tests(Pytest, fixture!("pytest-clean-q"), 0), (0, 4));
    assert_eq!(tests(Pytest, fixture!("pytest-failures"), 1), (2, 4));
    assert_eq!(tests(Pytest, fixture!("pytest-failures-q"), 1), (2, 4));
    assert_eq!(tests(Pytest, fixture!("pytest-mixed"), 1), (3, 5));
    assert_eq!(tests(Pytest, fixture!("pytest-mixed-q"), 1), (3, 5));
    assert_eq!(
        tests(Pytest, fixture!("pytest-collection-error"), 2),
        (1, 0)
    );
    assert_eq!(tests(Pytest, fixture!("pytest-no-tests"), 5), (0, 0));
    assert_eq!(tests(Pytest, fixture!("pytest-no-tests-q"), 5), (0, 0));
    let e = err(Pytest, fixture!("pytest-usage-error"), Some(4));
    assert!(
        e.contains("exit code 4") && e.contains("ERROR: usage"),
        "{e}"
    );
}

#[test]
fn pytest_summary_forms() {
    let t = |s: &str| tests(Pytest, s, 1);
    assert_eq!(
        t("==== 10 passed, 2 failed, 3 errors in 65.20s (0:01:05) ===="),
        (5, 10)
    );
    assert_eq!(t("1 passed, 1 deselected in 0.3 seconds"), (0, 1));
    assert_eq!(t("= 1 failed in 0.01s =\n"), (1, 0));
    // Only the last summary counts (e.g. pytester output earlier in the log).
    assert_eq!(t("3 passed in 0.1s\n== 1 passed in 0.2s =="), (0, 1));
}

#[test]
fn mypy_fixtures() {
    assert_eq!(errs(Mypy, fixture!("mypy-clean"), 0), 0);
    assert_eq!(errs(Mypy, fixture!("mypy-errors"), 1), 3);
    assert_eq!(errs(Mypy, fixture!("mypy-errors-pretty"), 1), 3);
    assert_eq!(errs(Mypy, fixture!("mypy-one-error"), 1), 1);
    assert_eq!(errs(Mypy, fixture!("mypy-syntax-error"), 2), 2);
    let e = err(Mypy, fixture!("mypy-usage-error"), Some(2));
    assert!(
        e.contains("exit code 2") && e.contains("usage: mypy"),
        "{e}"
    );
}
