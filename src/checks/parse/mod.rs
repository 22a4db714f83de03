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

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parsed {
    pub errors: Option<u64>,
    pub failures: Option<u64>,
    pub passed: Option<u64>,
    /// Names of the failing tests, where the parser can name them (None: it cannot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<Vec<String>>,
    /// Identities of the errors (file + code + message, no line/column numbers), one per
    /// diagnostic, duplicates kept (a multiset), where the parser can name them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_ids: Option<Vec<String>>,
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
                ..Parsed::default()
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
        failures: Some(failures),
        passed: Some(passed),
        ..Parsed::default()
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
        ..Parsed::default()
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
mod tests;
