//! Tests of the output parsers on real output of each tool, saved under tests/fixtures/checks:
//! counts and names. One file per tool family (tsc, js, cargo, python); shared helpers here.
// Fixtures in tests/fixtures/checks/ are real, unedited output (stdout+stderr merged with
// `cmd > file 2>&1`, not on a TTY) captured from tiny projects under /tmp/x:
//
//   tsc-clean.txt                      TypeScript 7.0.2 (native), `tsc -p .`, exit 0 (prints nothing)
//   tsc-errors.txt                     TypeScript 7.0.2, 3 errors in 2 files, exit 1
//   tsc-errors-pretty.txt              TypeScript 7.0.2, same with `--pretty` (ANSI colours), exit 1
//   tsc-global-errors.txt              TypeScript 7.0.2, bad `lib` in tsconfig: 10 global + 1 located, exit 1
//   tsc-v5-errors.txt                  TypeScript 5.9.3, 3 errors in 2 files, exit 2
//   tsc-v5-errors-pretty.txt           TypeScript 5.9.3, same with `--pretty`, exit 2
//   tsc-v5-global-errors-pretty.txt    TypeScript 5.9.3, bad `lib`, `--pretty`, exit 2
//   tsc-not-found.txt                  dash, `sh -c 'npx-missing tsc --noEmit'`, exit 127
//   vitest-clean.txt                   vitest 4.1.12, `vitest run`, 4 passed, exit 0
//   vitest-failures.txt                vitest 4.1.12, 2 failed 4 passed, exit 1
//   vitest-skipped-todo.txt            vitest 4.1.12, 2 failed 2 passed 1 skipped 1 todo, exit 1
//   vitest-only-failed.txt             vitest 4.1.12, 2 failed + 1 unhandled error, exit 1
//   vitest-suite-load-error.txt        vitest 4.1.12, one file with a syntax error (`Tests  no tests`), exit 1
//   vitest-hook-failure.txt            vitest 4.1.12, a beforeAll hook throws (its 2 tests skipped), 1 passed, exit 1
//   vitest-no-tests.txt                vitest 4.1.12, no test files, exit 1 (no summary)
//   vitest-no-tests-pass.txt           vitest 4.1.12, no test files, `--passWithNoTests`, exit 0
//   vitest-v3-failures.txt             vitest 3.2.7, 2 failed 4 passed, exit 1
//   jest-clean.txt                     jest 30.5.2, 4 passed, exit 0
//   jest-failures.txt                  jest 30.5.2, 2 failed 4 passed, exit 1
//   jest-skipped-todo-broken-suite.txt jest 30.5.2, 2 failed 1 skipped 1 todo 2 passed + 1 suite failed to run, exit 1
//   jest-broken-suite.txt              jest 30.5.2, only a suite that fails to run (`Tests: 0 total`), exit 1
//   jest-no-tests.txt                  jest 30.5.2, no tests found, exit 1 (no summary)
//   jest-no-tests-pass.txt             jest 30.5.2, no tests found, `--passWithNoTests`, exit 0
//   cargo-clean-warning.txt            cargo 1.95.0, `cargo check`, 1 warning, exit 0
//   cargo-errors.txt                   cargo 1.95.0, `cargo check`, 2+2 errors in 2 crates, exit 101
//   cargo-errors-all-targets.txt       cargo 1.95.0, `cargo check --all-targets --keep-going`, same code, exit 101
//   cargo-one-error.txt                cargo 1.95.0, `cargo check`, 1 error + 1 warning, exit 101
//   cargo-clippy-deny-warnings.txt     clippy 0.1.95, `cargo clippy -- -D warnings`, 2 errors, exit 101
//   cargo-clippy-warnings-only.txt     clippy 0.1.95, `cargo clippy`, 2 warnings, exit 0
//   cargo-manifest-error.txt           cargo 1.95.0, `cargo check` with a broken workspace Cargo.toml, exit 101
//   cargo-test-clean.txt               cargo 1.95.0, `cargo test`, 2 lib binaries + 2 doctest runs, exit 0
//   cargo-test-failures.txt            cargo 1.95.0, `cargo test` (fail-fast: stops after 1st failing binary), exit 101
//   cargo-test-failures-no-fail-fast.txt cargo 1.95.0, `cargo test --no-fail-fast`, 2 failed 4 passed, exit 101
//   cargo-test-compile-error.txt       cargo 1.95.0, `cargo test` on code that does not compile, exit 101
//   cargo-test-abort.txt               cargo 1.95.0, `cargo test --no-fail-fast`, a test binary aborts (SIGABRT), exit 101
//   pytest-clean.txt / -q.txt          pytest 9.2.0 (Python 3.11.7), 4 passed, exit 0
//   pytest-failures.txt / -q.txt       pytest 9.2.0, 2 failed 4 passed, exit 1
//   pytest-mixed.txt / -q.txt          pytest 9.2.0, 2 failed 5 passed 1 skipped 1 xfailed 1 xpassed 1 warning 1 error, exit 1
//   pytest-collection-error.txt        pytest 9.2.0, a test module raising at import, exit 2
//   pytest-no-tests.txt / -q.txt       pytest 9.2.0, empty directory (`no tests ran`), exit 5
//   pytest-usage-error.txt             pytest 9.2.0, `pytest --bogus`, exit 4 (no summary)
//   mypy-clean.txt                     mypy 2.4.1, exit 0
//   mypy-errors.txt                    mypy 2.4.1, 3 errors in 2 files, exit 1
//   mypy-errors-pretty.txt             mypy 2.4.1, same with `--pretty`, exit 1
//   mypy-one-error.txt                 mypy 2.4.1, 1 error + 1 note, exit 1
//   mypy-syntax-error.txt              mypy 2.4.1, syntax errors (errors prevented further checking), exit 2
//   mypy-usage-error.txt               mypy 2.4.1, `mypy --bogus`, exit 2
//
// Recorded with the pinned tools of tests/toolchains.sh (`eval "$(bash tests/toolchains.sh)"`),
// same way (`cmd > file 2>&1`, not on a TTY), in tiny projects under /tmp/tf; these fixtures are
// pairs a ratchet must tell apart although their counts are equal (swaps), or that name things:
//
//   tsc-ids.txt / -pretty.txt          TypeScript 7.0.2, `tsc -p .` (/ `--pretty`), 3 errors TS2322 TS2345 TS2741, exit 1
//   tsc-swap.txt                       TypeScript 7.0.2, same project: TS2345 fixed, TS2339 added, lines moved, exit 1
//   tsc-syntax-hides.txt               TypeScript 7.0.2, a syntax error added: only TS1109 is reported (3 → 1), exit 1
//   tsc-chain.txt / -pretty.txt        TypeScript 7.0.2, 5 errors, one with a 3-line elaboration chain, exit 1
//   vitest-names.txt                   vitest 4.1.12 (node 20), `vitest run`, nested describes, 3 failed 5 passed, exit 1
//   vitest-swap.txt                    vitest 4.1.12, same: `handles NaN` fixed, `sum > one` broken (3 failed again), exit 1
//   vitest-swap-verbose.txt            vitest 4.1.12, same with `--reporter=verbose`, exit 1
//   vitest-broken.txt                  vitest 4.1.12, + a file with a syntax error, a throwing beforeAll, an
//                                      unhandled error: 3 failed + 2 failed suites + 1 error, exit 1
//   pytest-names-q.txt                 pytest 9.2.0 (Python 3.11.7), `python -m pytest -q`, class + parametrised
//                                      ids (one holding ` - `) + a fixture error: 4 failed 3 passed 1 error, exit 1
//   pytest-swap-q.txt                  pytest 9.2.0, same: test_sub fixed, test_add broken, exit 1
//   pytest-collect-q.txt               pytest 9.2.0, `-q`, + a module raising at import (collection stops), exit 2
//   pytest-collect-continue-q.txt      pytest 9.2.0, same with `--continue-on-collection-errors`, exit 1
//   mypy-ids.txt / -pretty.txt         mypy 2.4.1, `mypy pkg` (/ `--pretty`, wrapped messages), 4 errors + 1 note, exit 1
//   mypy-swap.txt                      mypy 2.4.1, same: [arg-type] fixed, [operator] added, lines moved, exit 1
//   mypy-found-twice.txt               mypy 2.4.1, no __init__.py: an error without a line number, exit 2
//   cargo-ids.txt                      cargo 1.95.0, `cargo check`, E0425 + E0308 + 1 warning, exit 101
//   cargo-swap.txt                     cargo 1.95.0, same crate: E0425 fixed, a second E0308 added, exit 101
//   cargo-clippy-ids.txt               clippy 0.1.95, `cargo clippy -- -D warnings`, 2 errors without a code, exit 101
//   cargo-test-names.txt               cargo 1.95.0, `cargo test --no-fail-fast`, lib + tests/api.rs + doctests,
//                                      4 failed 3 passed, exit 101 (RUST_BACKTRACE unset)
//   cargo-test-swap.txt                cargo 1.95.0, same: `parse_handles_nan` fixed, `tests::adds` broken, exit 101

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../../tests/fixtures/checks/", $name, ".txt"))
    };
}

fn run(kind: ParserKind, output: &str, exit: Option<i32>) -> Result<Parsed, String> {
    parse(kind, &RegexRules::default(), output, exit)
}

fn errs(kind: ParserKind, output: &str, exit: i32) -> u64 {
    let p = run(kind, output, Some(exit)).unwrap();
    assert_eq!((p.failures, p.passed), (None, None));
    p.errors.unwrap()
}

fn tests(kind: ParserKind, output: &str, exit: i32) -> (u64, u64) {
    let p = run(kind, output, Some(exit)).unwrap();
    assert_eq!(p.errors, None);
    (p.failures.unwrap(), p.passed.unwrap())
}

fn err(kind: ParserKind, output: &str, exit: Option<i32>) -> String {
    run(kind, output, exit).unwrap_err()
}

/// A test runner's counts and failing names, checked complete (one name per failure).
fn named(kind: ParserKind, output: &str, exit: i32) -> (u64, u64, Vec<String>) {
    let p = run(kind, output, Some(exit)).unwrap();
    assert_eq!((p.errors, &p.error_ids), (None, &None));
    assert!(
        p.complete(),
        "{kind:?}: names do not account for the count: {p:?}"
    );
    (p.failures.unwrap(), p.passed.unwrap(), p.failing.unwrap())
}

/// A type checker's error count and identities, checked complete (one identity per error).
fn ids(kind: ParserKind, output: &str, exit: i32) -> (u64, Vec<String>) {
    let p = run(kind, output, Some(exit)).unwrap();
    assert_eq!((p.failures, p.passed, &p.failing), (None, None, &None));
    assert!(
        p.complete(),
        "{kind:?}: names do not account for the count: {p:?}"
    );
    (p.errors.unwrap(), p.error_ids.unwrap())
}

/// Names as the tests spell them.
fn v(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

use ParserKind::{Cargo, CargoTest, ExitCode, Jest, Mypy, Pytest, Tsc, Vitest};
const ALL: [ParserKind; 9] = ParserKind::ALL;

mod cargo;
mod js;
mod names;
mod python;
mod tsc;

#[test]
fn kinds() {
    let names: Vec<_> = ParserKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(
        names,
        [
            "tsc",
            "vitest",
            "jest",
            "cargo",
            "cargo-test",
            "pytest",
            "mypy",
            "regex",
            "exit-code"
        ]
    );
    let errors: Vec<_> = ALL.iter().filter(|k| k.reports_errors()).collect();
    assert_eq!(errors, [&Tsc, &Cargo, &Mypy, &ParserKind::Regex, &ExitCode]);
    let tests: Vec<_> = ALL.iter().filter(|k| k.reports_tests()).collect();
    assert_eq!(
        tests,
        [
            &Vitest,
            &Jest,
            &CargoTest,
            &Pytest,
            &ParserKind::Regex,
            &ExitCode
        ]
    );
    // name() must agree with the serde (kebab-case) spelling of the Debug name.
    for k in ALL {
        let mut kebab = String::new();
        for (i, c) in format!("{k:?}").chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                kebab.push('-');
            }
            kebab.push(c.to_ascii_lowercase());
        }
        assert_eq!(k.name(), kebab);
    }
}

#[test]
fn regex_rules() {
    let rules = RegexRules {
        errors: Some(Regex::new(r"^ERR ").unwrap()),
        failures: None,
        passed: Some(Regex::new(r"\bok$").unwrap()),
    };
    let out = "ERR a\n\x1b[31mERR b\x1b[0m\nx ok\ny ok\r\nERR\n";
    let p = parse(ParserKind::Regex, &rules, out, Some(1)).unwrap();
    assert_eq!(
        p,
        Parsed {
            errors: Some(2),
            failures: None,
            passed: Some(2),
            ..Parsed::default()
        }
    );
    let p = parse(ParserKind::Regex, &RegexRules::default(), out, None).unwrap();
    assert_eq!(p, Parsed::default());
}

#[test]
fn exit_code() {
    let ok = Parsed {
        errors: Some(0),
        failures: Some(0),
        passed: None,
        ..Parsed::default()
    };
    let bad = Parsed {
        errors: Some(1),
        failures: Some(1),
        passed: None,
        ..Parsed::default()
    };
    assert_eq!(run(ExitCode, "whatever", Some(0)), Ok(ok.clone()));
    assert_eq!(run(ExitCode, "", Some(3)), Ok(bad.clone()));
    assert_eq!(run(ExitCode, "", None), Ok(bad));
}

#[test]
fn killed_by_signal_is_err() {
    for kind in [Tsc, Vitest, Jest, Cargo, CargoTest, Pytest, Mypy] {
        let out = fixture!("cargo-test-clean");
        let e = err(kind, out, None);
        assert!(e.contains("killed by a signal"), "{kind:?}: {e}");
    }
}

#[test]
fn ansi_and_carriage_returns() {
    assert_eq!(
        strip_ansi("\x1b[1;31mred\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07 \x1b(Bz"),
        "red link z"
    );
    let out = "progress 1/3\rprogress 3/3\r\n== 3 passed in 0.1s ==\r\n";
    assert_eq!(tests(Pytest, out, 0), (0, 3));
}

#[test]
fn huge_numbers() {
    let big = "99999999999999999999999"; // > u64::MAX
    let max = u64::MAX.to_string();
    let cases: Vec<(ParserKind, String)> = vec![
        (Vitest, format!("Tests  {big} failed (1)")),
        (Jest, format!("Tests:       {big} passed, 1 total")),
        (
            Cargo,
            format!("error: could not compile `x` (lib) due to {big} previous errors"),
        ),
        (
            CargoTest,
            format!("test result: ok. {big} passed; 0 failed;"),
        ),
        (CargoTest, format!("running {big} tests")),
        (Pytest, format!("{big} passed in 0.1s")),
        (Mypy, format!("Found {big} errors in 1 file")),
        // Each fits in u64 but the sum does not.
        (
            CargoTest,
            format!(
                "test result: ok. {max} passed; 0 failed;\ntest result: ok. 1 passed; 0 failed;"
            ),
        ),
        (
            Cargo,
            format!(
                "error: could not compile `a` due to {max} previous errors\nerror: could not compile `b` due to 1 previous error"
            ),
        ),
        (Pytest, format!("{max} passed, 1 passed in 0.1s")),
    ];
    for (kind, out) in cases {
        assert!(run(kind, &out, Some(1)).is_err(), "{kind:?}: {out}");
    }
    assert_eq!(
        errs(Mypy, &format!("Found {max} errors in 1 file"), 1),
        u64::MAX
    );
}

#[test]
fn never_panics_on_garbage() {
    let mut long = String::new();
    for i in 0..5_000 {
        long.push_str(&format!(
            "line {i} \x1b[ \x1b] \r\r error TS: Tests: test result: ====\n"
        ));
    }
    let inputs = [
        "",
        "\n\n\n",
        "\x1b",
        "\x1b[",
        "\r",
        "é\u{0}\u{1b}ß☃\r\n",
        "Tests  | (",
        "Tests:  total",
        "running  tests",
        "test result: ok.",
        "=== in s ===",
        "Found errors in file",
        "error: could not compile `",
        long.as_str(),
    ];
    let rules = RegexRules {
        errors: Some(Regex::new("error").unwrap()),
        failures: Some(Regex::new("").unwrap()),
        passed: Some(Regex::new("x").unwrap()),
    };
    for kind in ALL {
        for out in inputs {
            for exit in [Some(0), Some(1), Some(-1), Some(i32::MAX), None] {
                let _ = parse(kind, &rules, out, exit);
            }
        }
    }
    // Long first lines are shortened in messages without splitting a character.
    let e = err(Mypy, &"☃".repeat(500), Some(2));
    assert!(e.ends_with("…`)"), "{e}");
}
