use super::*;

#[test]
fn vitest_fixtures() {
    assert_eq!(tests(Vitest, fixture!("vitest-clean"), 0), (0, 4));
    assert_eq!(tests(Vitest, fixture!("vitest-failures"), 1), (2, 4));
    assert_eq!(tests(Vitest, fixture!("vitest-v3-failures"), 1), (2, 4));
    assert_eq!(tests(Vitest, fixture!("vitest-skipped-todo"), 1), (2, 2));
    // 2 failed tests + `Errors  1 error` (unhandled error).
    assert_eq!(tests(Vitest, fixture!("vitest-only-failed"), 1), (3, 0));
    // `Tests  no tests` + `Failed Suites 1`.
    assert_eq!(
        tests(Vitest, fixture!("vitest-suite-load-error"), 1),
        (1, 0)
    );
    // `Tests  1 passed | 2 skipped` + `Failed Suites 1` (a beforeAll hook threw).
    assert_eq!(tests(Vitest, fixture!("vitest-hook-failure"), 1), (1, 1));
    assert_eq!(tests(Vitest, fixture!("vitest-no-tests-pass"), 0), (0, 0));
    let e = err(Vitest, fixture!("vitest-no-tests"), Some(1));
    assert!(
        e.contains("found no tests") && e.contains("exit code 1"),
        "{e}"
    );
    let e = err(Vitest, "sh: 1: vitest: not found\n", Some(127));
    assert_eq!(
        e,
        "vitest printed no `Tests` summary line (exit code 127; output starts \
         `sh: 1: vitest: not found`); does the command run vitest?"
    );
}

#[test]
fn vitest_summary_forms() {
    let t = |s: &str| tests(Vitest, s, 1);
    assert_eq!(
        t(" Test Files  1 failed (1)\n      Tests  3 failed (3)\n"),
        (3, 0)
    );
    assert_eq!(t("      Tests  7 passed (7)"), (0, 7));
    assert_eq!(
        t("Tests  1 failed | 2 passed | 3 skipped | 4 todo (10)"),
        (1, 2)
    );
    // `Test Files` alone is not the summary.
    assert!(run(Vitest, " Test Files  2 passed (2)\n", Some(0)).is_err());
}

#[test]
fn jest_fixtures() {
    assert_eq!(tests(Jest, fixture!("jest-clean"), 0), (0, 4));
    assert_eq!(tests(Jest, fixture!("jest-failures"), 1), (2, 4));
    // 2 failed tests + 1 `Test suite failed to run`.
    assert_eq!(
        tests(Jest, fixture!("jest-skipped-todo-broken-suite"), 1),
        (3, 2)
    );
    assert_eq!(tests(Jest, fixture!("jest-broken-suite"), 1), (1, 0));
    assert_eq!(tests(Jest, fixture!("jest-no-tests-pass"), 0), (0, 0));
    let e = err(Jest, fixture!("jest-no-tests"), Some(1));
    assert!(e.contains("found no tests"), "{e}");
    let e = err(Jest, "Error: Cannot find module 'jest-cli'\n", Some(1));
    assert!(
        e.contains("no `Tests:` summary") && e.contains("jest-cli"),
        "{e}"
    );
}
