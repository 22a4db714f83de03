//! Parsers that turn the merged stdout+stderr of a check tool (type checker or test runner)
//! into counts. Self-contained: depends only on `regex` and `serde`.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Which tool's output a check produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParserKind {
    Tsc,
    Vitest,
    Jest,
    Cargo,
    CargoTest,
    Pytest,
    Mypy,
    Regex,
    ExitCode,
}

impl ParserKind {
    pub const ALL: [ParserKind; 9] = {
        use ParserKind::*;
        [
            Tsc, Vitest, Jest, Cargo, CargoTest, Pytest, Mypy, Regex, ExitCode,
        ]
    };

    /// The name used in configuration files (same as the serde spelling).
    pub fn name(self) -> &'static str {
        match self {
            Self::Tsc => "tsc",
            Self::Vitest => "vitest",
            Self::Jest => "jest",
            Self::Cargo => "cargo",
            Self::CargoTest => "cargo-test",
            Self::Pytest => "pytest",
            Self::Mypy => "mypy",
            Self::Regex => "regex",
            Self::ExitCode => "exit-code",
        }
    }

    /// Usable for a type check (produces `errors`).
    pub fn reports_errors(self) -> bool {
        use ParserKind::*;
        matches!(self, Tsc | Cargo | Mypy | Regex | ExitCode)
    }

    /// Usable for a test check (produces `failures` / `passed`).
    pub fn reports_tests(self) -> bool {
        use ParserKind::*;
        matches!(self, Vitest | Jest | CargoTest | Pytest | Regex | ExitCode)
    }
}

/// Patterns for parser = "regex": each output line that matches counts once.
#[derive(Clone, Debug, Default)]
pub struct RegexRules {
    pub errors: Option<Regex>,
    pub failures: Option<Regex>,
    pub passed: Option<Regex>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parsed {
    pub errors: Option<u64>,
    pub failures: Option<u64>,
    pub passed: Option<u64>,
}

/// `output` is stdout and stderr merged; `exit_code` is None when killed by a signal.
/// Err(reason) means the check did not really run (the tool crashed, was not found, printed no
/// summary it always prints, ...): the reason is one short sentence a user can act on.
pub fn parse(
    kind: ParserKind,
    rules: &RegexRules,
    output: &str,
    exit_code: Option<i32>,
) -> Result<Parsed, String> {
    use ParserKind as K;
    let text = strip_ansi(output);
    let lines: Vec<&str> = screen_lines(&text).collect();
    let o = Out {
        lines: &lines,
        exit_code,
    };
    if exit_code.is_none() && !matches!(kind, K::Regex | K::ExitCode) {
        return Err(format!(
            "{} was killed by a signal before it finished (timeout?), so its output is incomplete",
            kind.name()
        ));
    }
    match kind {
        K::Regex => Ok(parse_regex(rules, &lines)),
        K::ExitCode => {
            let bad = Some(u64::from(exit_code != Some(0)));
            Ok(Parsed {
                errors: bad,
                failures: bad,
                passed: None,
            })
        }
        K::Tsc => parse_tsc(&o).map(errors),
        K::Cargo => parse_cargo(&o).map(errors),
        K::Mypy => parse_mypy(&o).map(errors),
        K::Vitest => parse_vitest(&o).map(tests),
        K::Jest => parse_jest(&o).map(tests),
        K::CargoTest => parse_cargo_test(&o).map(tests),
        K::Pytest => parse_pytest(&o).map(tests),
    }
}

fn errors(n: u64) -> Parsed {
    Parsed {
        errors: Some(n),
        ..Parsed::default()
    }
}

fn tests((failures, passed): (u64, u64)) -> Parsed {
    Parsed {
        errors: None,
        failures: Some(failures),
        passed: Some(passed),
    }
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> =
            LazyLock::new(|| Regex::new($pat).expect("built-in pattern is valid"));
    };
}

// CSI sequences (colours, cursor moves), OSC sequences (hyperlinks, titles), charset selection
// and other two-byte escapes.
re!(
    ANSI,
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[()][0-9A-Za-z]|[@-_])"
);

fn strip_ansi(s: &str) -> std::borrow::Cow<'_, str> {
    ANSI.replace_all(s, "")
}

/// Lines as a terminal would show them: CRLF endings trimmed and, for progress lines redrawn
/// with a bare `\r`, only the last redraw kept.
fn screen_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').map(|l| {
        let l = l.trim_end_matches('\r');
        l.rfind('\r').map_or(l, |i| &l[i + 1..])
    })
}

/// The output of one run, with helpers shared by the parsers.
struct Out<'a> {
    lines: &'a [&'a str],
    exit_code: Option<i32>,
}

impl Out<'_> {
    /// `(exit code 1; output starts `…`)`: context for error messages.
    fn ctx(&self) -> String {
        let exit = self
            .exit_code
            .map_or("killed by a signal".into(), |c| format!("exit code {c}"));
        match self.lines.iter().map(|l| l.trim()).find(|l| !l.is_empty()) {
            None => format!("({exit}; no output)"),
            Some(l) if l.chars().count() > 100 => {
                format!(
                    "({exit}; output starts `{}…`)",
                    l.chars().take(100).collect::<String>()
                )
            }
            Some(l) => format!("({exit}; output starts `{l}`)"),
        }
    }

    fn count(&self, re: &Regex) -> u64 {
        self.lines.iter().filter(|l| re.is_match(l)).count() as u64
    }

    fn any(&self, re: &Regex) -> bool {
        self.lines.iter().any(|l| re.is_match(l))
    }

    /// Captures of the last matching line (summaries come last; there may be several).
    fn last(&self, re: &Regex) -> Option<regex::Captures<'_>> {
        self.lines.iter().rev().find_map(|l| re.captures(l))
    }

    /// The number in capture group 1 of the last matching line, 0 if none.
    fn last_num(&self, tool: &str, re: &Regex) -> Result<u64, String> {
        self.last(re).map_or(Ok(0), |c| num(tool, &c[1]))
    }
}

fn num(tool: &str, digits: &str) -> Result<u64, String> {
    digits
        .parse::<u64>()
        .map_err(|_| format!("{tool} printed a count too large to use: `{digits}`"))
}

fn add(tool: &str, a: u64, b: u64) -> Result<u64, String> {
    a.checked_add(b)
        .ok_or_else(|| format!("{tool} printed counts too large to add up"))
}

re!(COUNT_WORD, r"(\d+) ([A-Za-z]+)");

/// Tallies the `N word` pairs of a summary list into (failures, passed).
fn tally(tool: &str, list: &str, fail_words: &[&str]) -> Result<(u64, u64), String> {
    let (mut failures, mut passed) = (0u64, 0u64);
    for caps in COUNT_WORD.captures_iter(list) {
        let n = num(tool, &caps[1])?;
        if fail_words.contains(&&caps[2]) {
            failures = add(tool, failures, n)?;
        } else if &caps[2] == "passed" {
            passed = add(tool, passed, n)?;
        }
    }
    Ok((failures, passed))
}

fn parse_regex(rules: &RegexRules, lines: &[&str]) -> Parsed {
    let count = |re: &Option<Regex>| {
        re.as_ref()
            .map(|re| lines.iter().filter(|l| re.is_match(l)).count() as u64)
    };
    Parsed {
        errors: count(&rules.errors),
        failures: count(&rules.failures),
        passed: count(&rules.passed),
    }
}

// ---------------------------------------------------------------- tsc

// `file(l,c): error TSn:` (plain), `file:l:c - error TSn:` (--pretty), `error TSn:` (global).
re!(
    TSC_DIAG,
    r"^(?:.*?(?:\(\d+,\d+\):|:\d+:\d+ -) )?error TS\d+:"
);

fn parse_tsc(o: &Out) -> Result<u64, String> {
    let n = o.count(&TSC_DIAG);
    if n == 0 && o.exit_code != Some(0) {
        return Err(format!(
            "tsc failed without any `error TS…` diagnostic {}",
            o.ctx()
        ));
    }
    Ok(n)
}

// ---------------------------------------------------------------- cargo check / build / clippy

re!(
    CARGO_COULD_NOT,
    r"^error: could not compile (`[^`]*`.*?)(?: due to (\d+) previous errors?)?(?:;.*)?$"
);
re!(
    CARGO_BUILD_SCRIPT,
    r"^error: failed to run custom build command for `"
);
re!(CARGO_DIAG, r"^error(?:\[E\d+\])?: ");
re!(
    CARGO_NOT_DIAG,
    r"^error: (?:could not compile|aborting due to|build failed|test failed|\d+ targets? failed|failed to run custom build command)"
);
re!(
    CARGO_COMPILED,
    r"^\s*(?:Compiling|Checking|Documenting) |^error\[E\d+\]: |^error: aborting due to"
);

fn parse_cargo(o: &Out) -> Result<u64, String> {
    const T: &str = "cargo";
    if o.exit_code == Some(0) {
        return Ok(0);
    }
    // Preferred: the per-crate summaries `could not compile `x` (lib) due to N previous errors`.
    let (mut summed, mut counted, mut bare) = (0u64, false, 0u64);
    for caps in o.lines.iter().filter_map(|l| CARGO_COULD_NOT.captures(l)) {
        match caps.get(2) {
            Some(n) => (summed, counted) = (add(T, summed, num(T, n.as_str())?)?, true),
            None => bare += 1, // old cargo, or rustc crashed
        }
    }
    let scripts = o.count(&CARGO_BUILD_SCRIPT); // failed build.rs: one error each
    if counted {
        return add(T, summed, bare + scripts);
    }
    // Fallback (older cargo, plain rustc): count the diagnostics themselves.
    let diags = o
        .lines
        .iter()
        .filter(|l| CARGO_DIAG.is_match(l) && !CARGO_NOT_DIAG.is_match(l))
        .count();
    let total = diags as u64 + scripts;
    if total == 0 {
        return Err(format!(
            "cargo failed without printing any compiler error {}",
            o.ctx()
        ));
    }
    if scripts == 0 && !o.any(&CARGO_COMPILED) {
        // e.g. a broken Cargo.toml or an unresolvable dependency: nothing was type-checked.
        let first = o
            .lines
            .iter()
            .find(|l| CARGO_DIAG.is_match(l))
            .map_or("", |l| l.trim());
        return Err(format!("cargo failed before compiling anything: `{first}`"));
    }
    Ok(total)
}

// ---------------------------------------------------------------- cargo test

re!(CT_RUNNING, r"^running (\d+) tests?$");
re!(
    CT_RESULT,
    r"^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed;"
);

fn parse_cargo_test(o: &Out) -> Result<(u64, u64), String> {
    const T: &str = "cargo test";
    let (mut failures, mut passed, mut results) = (0u64, 0u64, 0usize);
    // Tests announced by `running N tests` whose binary never printed `test result:` (it
    // crashed: abort, stack overflow, ...) all count as failed.
    let mut pending = 0u64;
    for l in o.lines {
        if let Some(caps) = CT_RUNNING.captures(l) {
            failures = add(T, failures, pending)?;
            pending = num(T, &caps[1])?;
        } else if let Some(caps) = CT_RESULT.captures(l) {
            results += 1;
            passed = add(T, passed, num(T, &caps[1])?)?;
            failures = add(T, failures, num(T, &caps[2])?)?;
            pending = 0;
        }
    }
    if results == 0 {
        return Err(match o.last(&CARGO_COULD_NOT) {
            Some(c) => format!(
                "cargo test printed no `test result:` line — the tests did not compile (could not compile {})",
                &c[1]
            ),
            None => format!(
                "cargo test printed no `test result:` line — the tests did not compile or run {}",
                o.ctx()
            ),
        });
    }
    Ok((add(T, failures, pending)?, passed))
}

// ---------------------------------------------------------------- vitest / jest

re!(
    VITEST_TESTS,
    r"^\s*Tests\s+(no tests|\d+ [a-z]+(?: \| \d+ [a-z]+)*)(?: \(\d+\))?\s*$"
);
re!(VITEST_FAILED_SUITES, r"^\W*Failed Suites (\d+)\W*$");
re!(VITEST_ERRORS, r"^\s*Errors\s+(\d+) errors?\b");
re!(
    VITEST_NO_FILES,
    r"^No test files found, exiting with code \d+"
);
re!(JEST_TESTS, r"^\s*Tests:\s+((?:\d+ [a-z]+, )*\d+ total)\s*$");
re!(JEST_SUITE_FAILED, r"^\s*● Test suite failed to run\s*$");
re!(JEST_NO_TESTS, r"^No tests found, exiting with code \d+");

/// The summary list of a JS test runner, or `Ok(None)` for a clean run that found no tests
/// (`--passWithNoTests`).
fn js_summary<'o>(
    o: &'o Out,
    tool: &str,
    summary: &Regex,
    what: &str,
    no_tests: &Regex,
) -> Result<Option<regex::Captures<'o>>, String> {
    if let Some(caps) = o.last(summary) {
        return Ok(Some(caps));
    }
    match (o.any(no_tests), o.exit_code) {
        (true, Some(0)) => Ok(None),
        (true, _) => Err(format!(
            "{tool} found no tests {}; fix the command's test paths or pass --passWithNoTests",
            o.ctx()
        )),
        _ => Err(format!(
            "{tool} printed no {what} summary line {}; does the command run {tool}?",
            o.ctx()
        )),
    }
}

fn parse_vitest(o: &Out) -> Result<(u64, u64), String> {
    const T: &str = "vitest";
    let Some(caps) = js_summary(o, T, &VITEST_TESTS, "`Tests`", &VITEST_NO_FILES)? else {
        return Ok((0, 0));
    };
    let (failures, passed) = tally(T, &caps[1], &["failed"])?;
    // Files that failed to load or whose hooks threw (`Failed Suites N`) and unhandled errors
    // (`Errors  N errors`) are not in the `Tests` line; they count as failures so that
    // breaking a test file never looks like an improvement.
    let suites = o.last_num(T, &VITEST_FAILED_SUITES)?;
    let unhandled = o.last_num(T, &VITEST_ERRORS)?;
    Ok((add(T, add(T, failures, suites)?, unhandled)?, passed))
}

fn parse_jest(o: &Out) -> Result<(u64, u64), String> {
    const T: &str = "jest";
    let Some(caps) = js_summary(o, T, &JEST_TESTS, "`Tests:`", &JEST_NO_TESTS)? else {
        return Ok((0, 0));
    };
    let (failures, passed) = tally(T, &caps[1], &["failed"])?;
    // A suite that fails to run (syntax error, failing import) has no tests in the summary.
    Ok((add(T, failures, o.count(&JEST_SUITE_FAILED))?, passed))
}

// ---------------------------------------------------------------- pytest

re!(PYTEST_BORDER, r"^=+ (.*?) =+$");
re!(
    PYTEST_SUMMARY,
    r"^(no tests ran|\d+ [a-z]+(?:, \d+ [a-z]+)*) in \d+(?:\.\d+)?(?:s| seconds)(?: \(\d+:\d\d:\d\d\))?$"
);

fn parse_pytest(o: &Out) -> Result<(u64, u64), String> {
    let summary = o.lines.iter().rev().find_map(|l| {
        let l = l.trim();
        let inner = PYTEST_BORDER
            .captures(l)
            .and_then(|c| c.get(1))
            .map_or(l, |m| m.as_str());
        PYTEST_SUMMARY.captures(inner).and_then(|c| c.get(1))
    });
    match summary {
        Some(list) => tally("pytest", list.as_str(), &["failed", "error", "errors"]),
        None => Err(format!(
            "pytest printed no final summary line like `2 failed, 10 passed in 0.12s` {}",
            o.ctx()
        )),
    }
}

// ---------------------------------------------------------------- mypy

re!(MYPY_FOUND, r"^Found (\d+) errors? in \d+ files?\b");
re!(MYPY_SUCCESS, r"^Success: no issues found");

fn parse_mypy(o: &Out) -> Result<u64, String> {
    for l in o.lines.iter().rev() {
        if let Some(caps) = MYPY_FOUND.captures(l) {
            return num("mypy", &caps[1]);
        }
        if MYPY_SUCCESS.is_match(l) {
            return Ok(0);
        }
    }
    Err(format!(
        "mypy printed neither `Found N errors` nor `Success: no issues found` {}",
        o.ctx()
    ))
}

#[cfg(test)]
mod tests {
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

    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../tests/fixtures/checks/", $name, ".txt"))
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

    use ParserKind::{Cargo, CargoTest, ExitCode, Jest, Mypy, Pytest, Tsc, Vitest};
    const ALL: [ParserKind; 9] = ParserKind::ALL;

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
    fn tsc_fixtures() {
        assert_eq!(errs(Tsc, fixture!("tsc-clean"), 0), 0);
        assert_eq!(errs(Tsc, fixture!("tsc-errors"), 1), 3);
        assert_eq!(errs(Tsc, fixture!("tsc-errors-pretty"), 1), 3);
        assert_eq!(errs(Tsc, fixture!("tsc-global-errors"), 1), 11);
        assert_eq!(errs(Tsc, fixture!("tsc-v5-errors"), 2), 3);
        assert_eq!(errs(Tsc, fixture!("tsc-v5-errors-pretty"), 2), 3);
        assert_eq!(errs(Tsc, fixture!("tsc-v5-global-errors-pretty"), 2), 11);
        let e = err(Tsc, fixture!("tsc-not-found"), Some(127));
        assert!(
            e.contains("exit code 127") && e.contains("npx-missing: not found"),
            "{e}"
        );
        assert_eq!(
            err(Tsc, "", Some(2)),
            "tsc failed without any `error TS…` diagnostic (exit code 2; no output)"
        );
    }

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
                passed: Some(2)
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
        };
        let bad = Parsed {
            errors: Some(1),
            failures: Some(1),
            passed: None,
        };
        assert_eq!(run(ExitCode, "whatever", Some(0)), Ok(ok));
        assert_eq!(run(ExitCode, "", Some(3)), Ok(bad));
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
}
