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
