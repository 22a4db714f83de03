use super::*;

#[test]
fn cargo_fixtures() {
    assert_eq!(errs(Cargo, fixture!("cargo-clean-warning"), 0), 0);
    assert_eq!(errs(Cargo, fixture!("cargo-errors"), 101), 4);
    // --all-targets: every lib error is reported once more for `(lib test)` by the summaries.
    assert_eq!(errs(Cargo, fixture!("cargo-errors-all-targets"), 101), 8);
    assert_eq!(errs(Cargo, fixture!("cargo-one-error"), 101), 1);
    assert_eq!(errs(Cargo, fixture!("cargo-clippy-deny-warnings"), 101), 2);
    assert_eq!(errs(Cargo, fixture!("cargo-clippy-warnings-only"), 0), 0);
    let e = err(Cargo, fixture!("cargo-manifest-error"), Some(101));
    assert!(
        e.starts_with("cargo failed before compiling anything"),
        "{e}"
    );
    assert!(e.contains("string values must be quoted"), "{e}");
    let e = err(Cargo, "sh: 1: cargo: not found\n", Some(127));
    assert!(e.contains("without printing any compiler error"), "{e}");
}

#[test]
fn cargo_fallback_counts_diagnostics() {
    // Old cargo / plain rustc: no `due to N previous errors` on the `could not compile` line.
    let out = "   Compiling x v0.1.0\nerror[E0425]: cannot find value `y`\nerror: unused import\n\
               warning: unused\nerror: aborting due to 2 previous errors\n\
               error: could not compile `x`.\n";
    assert_eq!(errs(Cargo, out, 101), 2);
    let script =
        "   Compiling x v0.1.0\nerror: failed to run custom build command for `x v0.1.0`\n";
    assert_eq!(errs(Cargo, script, 101), 1);
}

#[test]
fn cargo_test_fixtures() {
    assert_eq!(tests(CargoTest, fixture!("cargo-test-clean"), 0), (0, 4));
    assert_eq!(
        tests(CargoTest, fixture!("cargo-test-failures"), 101),
        (1, 2)
    );
    assert_eq!(
        tests(CargoTest, fixture!("cargo-test-failures-no-fail-fast"), 101),
        (2, 4)
    );
    // The aborted binary announced 2 tests and printed no result: both count as failed.
    assert_eq!(tests(CargoTest, fixture!("cargo-test-abort"), 101), (3, 2));
    let e = err(CargoTest, fixture!("cargo-test-compile-error"), Some(101));
    assert_eq!(
        e,
        "cargo test printed no `test result:` line — the tests did not compile \
         (could not compile `beta` (lib))"
    );
    let e = err(CargoTest, "", Some(0));
    assert!(e.contains("did not compile or run"), "{e}");
}

#[test]
fn cargo_names_errors_by_file_code_and_message() {
    assert_eq!(
        ids(Cargo, fixture!("cargo-ids"), 101),
        (
            2,
            v(&[
                "src/lib.rs: E0425: cannot find value `undefined_name` in this scope",
                "src/lib.rs: E0308: mismatched types",
            ])
        )
    );
    let two_crates = v(&[
        "alpha/src/lib.rs: E0277: cannot add `&str` to `u64`",
        "alpha/src/lib.rs: E0425: cannot find function `undefined_fn` in this scope",
        "beta/src/lib.rs: E0308: mismatched types",
        "beta/src/lib.rs: E0308: mismatched types",
    ]);
    assert_eq!(
        ids(Cargo, fixture!("cargo-errors"), 101),
        (4, two_crates.clone())
    );
    assert_eq!(
        ids(Cargo, fixture!("cargo-one-error"), 101),
        (1, v(&[&two_crates[1]]))
    );
    assert_eq!(ids(Cargo, fixture!("cargo-clean-warning"), 0), (0, v(&[])));
    assert_eq!(
        ids(Cargo, fixture!("cargo-clippy-warnings-only"), 0),
        (0, v(&[]))
    );
}

#[test]
fn cargo_all_targets_names_fall_short_of_the_count() {
    // Cargo prints a diagnostic once though `lib` and `lib test` both count it: 4 names for 8
    // errors, so the names are not complete and a ratchet must compare counts.
    let p = run(Cargo, fixture!("cargo-errors-all-targets"), Some(101)).unwrap();
    assert_eq!(p.errors, Some(8));
    assert_eq!(p.error_ids.as_ref().map(Vec::len), Some(4));
    assert!(!p.complete());
}

#[test]
fn cargo_swap_is_a_different_multiset() {
    // E0425 fixed, another E0308 added: 2 errors before and after.
    let (_, before) = ids(Cargo, fixture!("cargo-ids"), 101);
    let (n, after) = ids(Cargo, fixture!("cargo-swap"), 101);
    assert_eq!(n, 2);
    assert_eq!(after, v(&["src/lib.rs: E0308: mismatched types"; 2]));
    assert_ne!(before, after);
}

#[test]
fn cargo_errors_without_a_code_or_a_file() {
    assert_eq!(
        ids(Cargo, fixture!("cargo-clippy-ids"), 101),
        (
            2,
            v(&[
                "src/lib.rs: error: unused variable: `y`",
                "src/lib.rs: error: equal expressions as operands to `==`",
            ])
        )
    );
    assert_eq!(
        ids(Cargo, fixture!("cargo-clippy-deny-warnings"), 101),
        (
            2,
            v(&[
                "alpha/src/lib.rs: error: unused variable: `unused`",
                "alpha/src/lib.rs: error: writing `&Vec` instead of `&[_]` involves a new object where a slice will do",
            ])
        )
    );
    // Old cargo (no `due to N previous errors`): the diagnostics are counted and named; a
    // failed build script is one error named by its own line.
    let out = "   Compiling x v0.1.0\nerror[E0425]: cannot find value `y`\nerror: unused import\n\
               warning: unused\nerror: aborting due to 2 previous errors\n\
               error: could not compile `x`.\n";
    assert_eq!(
        ids(Cargo, out, 101),
        (
            2,
            v(&["E0425: cannot find value `y`", "error: unused import"])
        )
    );
    let script =
        "   Compiling x v0.1.0\nerror: failed to run custom build command for `x v0.1.0`\n";
    assert_eq!(
        ids(Cargo, script, 101),
        (
            1,
            v(&["error: failed to run custom build command for `x v0.1.0`"])
        )
    );
}

#[test]
fn cargo_test_names_failing_tests_per_binary() {
    let names = v(&[
        "calc::tests::nested::deep",
        "calc::tests::parse_handles_nan",
        "api::adds",
        // A doctest is named without its `(line N)`.
        "src/lib.rs - add",
    ]);
    assert_eq!(
        named(CargoTest, fixture!("cargo-test-names"), 101),
        (4, 3, names)
    );
    assert_eq!(
        named(CargoTest, fixture!("cargo-test-failures-no-fail-fast"), 101),
        (
            2,
            4,
            v(&["alpha::tests::adds_wrong", "beta::tests::doubles_wrong"])
        )
    );
    assert_eq!(
        named(CargoTest, fixture!("cargo-test-failures"), 101),
        (1, 2, v(&["alpha::tests::adds_wrong"]))
    );
    assert_eq!(
        named(CargoTest, fixture!("cargo-test-clean"), 0),
        (0, 4, v(&[]))
    );
}

#[test]
fn cargo_test_swap_keeps_the_count_but_not_the_names() {
    let (_, _, before) = named(CargoTest, fixture!("cargo-test-names"), 101);
    let (failures, passed, after) = named(CargoTest, fixture!("cargo-test-swap"), 101);
    assert_eq!((failures, passed), (4, 3));
    assert_eq!(
        after,
        v(&[
            "calc::tests::adds",
            "calc::tests::nested::deep",
            "api::adds",
            "src/lib.rs - add",
        ])
    );
    assert!(!before.contains(&after[0]));
}

#[test]
fn cargo_test_crashed_binary_is_named_after_the_binary() {
    // alpha's binary announced 2 tests and aborted before naming any.
    assert_eq!(
        named(CargoTest, fixture!("cargo-test-abort"), 101),
        (
            3,
            2,
            v(&[
                "alpha (test binary crashed)",
                "alpha (test binary crashed)",
                "beta::tests::doubles_wrong",
            ])
        )
    );
    // Old cargo's `Running target/debug/deps/x-<hash>`; a should_panic test; a binary that
    // crashed after naming one failure of its 3 tests.
    let out = "     Running target/debug/deps/calc-0123456789abcdef\nrunning 3 tests\n\
               test a - should panic ... FAILED\ntest b ... ok\n\
               \x20    Running target/debug/deps/api-0123456789abcdef\nrunning 1 test\n\
               test c ... ok\ntest result: ok. 1 passed; 0 failed; 0 ignored;\n";
    assert_eq!(
        named(CargoTest, out, 101),
        (
            3,
            1,
            v(&[
                "calc::a",
                "calc (test binary crashed)",
                "calc (test binary crashed)",
            ])
        )
    );
}
