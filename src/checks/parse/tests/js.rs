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

#[test]
fn vitest_names_failing_tests() {
    let names = v(&[
        "src/math.test.ts > parse > handles NaN",
        // `rounds  down` (two spaces in the title): whitespace is collapsed.
        "src/math.test.ts > parse > floats > rounds down",
        "src/math.test.ts > sum > empty",
    ]);
    assert_eq!(named(Vitest, fixture!("vitest-names"), 1), (3, 5, names));
    let old = v(&[
        "src/math.test.ts > math > subtracts",
        "src/str.test.ts > lower",
    ]);
    assert_eq!(
        named(Vitest, fixture!("vitest-failures"), 1),
        (2, 4, old.clone())
    );
    assert_eq!(
        named(Vitest, fixture!("vitest-v3-failures"), 1),
        (2, 4, old)
    );
    assert_eq!(
        named(Vitest, fixture!("vitest-skipped-todo"), 1),
        (
            2,
            2,
            v(&[
                "src/math.test.ts > math > divides",
                "src/str.test.ts > lower"
            ])
        )
    );
    assert_eq!(named(Vitest, fixture!("vitest-clean"), 0), (0, 4, v(&[])));
    assert_eq!(
        named(Vitest, fixture!("vitest-no-tests-pass"), 0),
        (0, 0, v(&[]))
    );
}

#[test]
fn vitest_swap_keeps_the_count_but_not_the_names() {
    let want = v(&[
        "src/math.test.ts > parse > floats > rounds down",
        "src/math.test.ts > sum > empty",
        "src/math.test.ts > sum > one",
    ]);
    let (_, _, before) = named(Vitest, fixture!("vitest-names"), 1);
    assert_eq!(
        named(Vitest, fixture!("vitest-swap"), 1),
        (3, 5, want.clone())
    );
    // The verbose reporter lists every test with `×`/`✓` too; the names are the same.
    assert_eq!(
        named(Vitest, fixture!("vitest-swap-verbose"), 1),
        (3, 5, want.clone())
    );
    assert!(before.contains(&"src/math.test.ts > parse > handles NaN".to_string()));
    assert!(!before.contains(&want[2]));
}

#[test]
fn vitest_names_broken_suites_and_unhandled_errors() {
    // 3 failed tests + `Failed Suites 2` (a file that does not parse, a throwing beforeAll)
    // + `Errors  1 error`: every failure counted has a name.
    assert_eq!(
        named(Vitest, fixture!("vitest-broken"), 1),
        (
            6,
            8,
            v(&[
                "src/broken.test.ts (suite failed to load)",
                "src/hook.test.ts > db (suite failed)",
                "src/math.test.ts > parse > floats > rounds down",
                "src/math.test.ts > sum > empty",
                "src/math.test.ts > sum > one",
                "(unhandled error)",
            ])
        )
    );
    assert_eq!(
        named(Vitest, fixture!("vitest-suite-load-error"), 1),
        (1, 0, v(&["src/bad.test.ts (suite failed to load)"]))
    );
    assert_eq!(
        named(Vitest, fixture!("vitest-hook-failure"), 1),
        (1, 1, v(&["src/hook.test.ts > hooked (suite failed)"]))
    );
    assert_eq!(
        named(Vitest, fixture!("vitest-only-failed"), 1),
        (
            3,
            0,
            v(&[
                "src/bad.test.ts > a",
                "src/bad.test.ts > b",
                "(unhandled error)"
            ])
        )
    );
}

#[test]
fn vitest_without_fail_headers_is_incomplete() {
    // A summary alone (e.g. a reporter that prints no `FAIL` headers): counts, no usable names.
    let p = run(
        Vitest,
        " Test Files  1 failed (1)\n      Tests  3 failed (3)\n",
        Some(1),
    )
    .unwrap();
    assert_eq!((p.failures, p.failing.as_deref()), (Some(3), Some(&[][..])));
    assert!(!p.complete());
}

#[test]
fn jest_names_failing_tests() {
    assert_eq!(
        named(Jest, fixture!("jest-failures"), 1),
        (
            2,
            4,
            v(&["math.test.js > math > subtracts", "str.test.js > lower"])
        )
    );
    assert_eq!(
        named(Jest, fixture!("jest-skipped-todo-broken-suite"), 1),
        (
            3,
            2,
            v(&[
                "math.test.js > math > divides",
                "str.test.js > lower",
                "broken.test.js (suite failed to load)",
            ])
        )
    );
    assert_eq!(
        named(Jest, fixture!("jest-broken-suite"), 1),
        (1, 0, v(&["broken.test.js (suite failed to load)"]))
    );
    assert_eq!(named(Jest, fixture!("jest-clean"), 0), (0, 4, v(&[])));
}

#[test]
fn jest_recap_and_console_blocks_are_not_tests() {
    // jest repeats the failures after `Summary of all failing tests` when several files ran.
    let out = "FAIL src/a.test.js (5.2 s)\n  ● Console\n\n    console.log\n      hi\n\n  \
               ● outer › inner\n\n    boom\n\nPASS src/b.test.js\n\nSummary of all failing tests\n\
               FAIL src/a.test.js (5.2 s)\n  ● outer › inner\n\n\
               Tests:       1 failed, 1 passed, 2 total\n";
    assert_eq!(
        named(Jest, out, 1),
        (1, 1, v(&["src/a.test.js > outer > inner"]))
    );
}
