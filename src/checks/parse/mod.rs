//! Parsers that turn the merged stdout+stderr of a check tool (type checker or test runner)
//! into counts, and where the tool names them, into the names of the failing tests and the
//! identities of the errors. Self-contained: depends only on `regex` and `serde`.
//!
//! One file per tool family: [`tsc`], [`cargo`] (check/clippy and test), [`js`] (vitest, jest),
//! [`python`] (pytest, mypy), [`rules`] (regex rules and exit codes: counts only).

mod cargo;
mod js;
mod python;
mod rules;
mod tsc;

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

pub use rules::RegexRules;

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

/// At most this many names are kept per list (the counts stay exact).
pub const MAX_NAMES: usize = 1_000;
/// Each name is cut to this many characters.
pub const MAX_NAME_CHARS: usize = 300;

/// What one run of a check found.
///
/// The counts are always exact. The names are what the tool printed, normalised (ANSI codes
/// stripped, whitespace collapsed, each cut to [`MAX_NAME_CHARS`], at most [`MAX_NAMES`] kept).
/// What a runner counts without naming gets a generic name, once per count (`(unhandled error)`,
/// `alpha (test binary crashed)`). The names may still fall short of the counts: a list cut at
/// [`MAX_NAMES`], `cargo check --all-targets` (one diagnostic printed, counted for two targets),
/// a reporter or flag that prints no names (pytest `-rN`, a custom vitest reporter). Compare two
/// runs by identity only when [`Parsed::complete`] holds for both, as multisets (two equal names
/// are two errors); otherwise compare their counts.
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

impl Parsed {
    /// The names account for everything counted: some list is there, and each count that is
    /// there has its list with exactly that many entries (so none was cut at [`MAX_NAMES`]).
    /// Only then may two runs be compared by identity.
    pub fn complete(&self) -> bool {
        fn full(count: Option<u64>, names: &Option<Vec<String>>) -> bool {
            match (count, names) {
                (None, None) => true,
                (Some(n), Some(v)) => v.len() as u64 == n,
                _ => false,
            }
        }
        (self.failing.is_some() || self.error_ids.is_some())
            && full(self.errors, &self.error_ids)
            && full(self.failures, &self.failing)
    }
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
        K::Regex => Ok(rules::parse_regex(rules, &lines)),
        K::ExitCode => Ok(rules::parse_exit_code(exit_code)),
        K::Tsc => tsc::parse_tsc(&o).map(errors),
        K::Cargo => cargo::parse_cargo(&o).map(errors),
        K::Mypy => python::parse_mypy(&o).map(errors),
        K::Vitest => js::parse_vitest(&o).map(tests),
        K::Jest => js::parse_jest(&o).map(tests),
        K::CargoTest => cargo::parse_cargo_test(&o).map(tests),
        K::Pytest => python::parse_pytest(&o).map(tests),
    }
}

/// What an error parser found: the exact count and the identities.
struct Errors {
    count: u64,
    ids: Names,
}

/// What a test parser found: exact counts and the failing tests' names.
struct Tests {
    failures: u64,
    passed: u64,
    failing: Names,
}

fn errors(e: Errors) -> Parsed {
    Parsed {
        errors: Some(e.count),
        error_ids: Some(e.ids.0),
        ..Parsed::default()
    }
}

fn tests(t: Tests) -> Parsed {
    Parsed {
        failures: Some(t.failures),
        passed: Some(t.passed),
        failing: Some(t.failing.0),
        ..Parsed::default()
    }
}

/// A list of names, normalised and capped as [`Parsed`] documents.
#[derive(Default)]
struct Names(Vec<String>);

impl Names {
    fn push(&mut self, name: &str) {
        if self.0.len() < MAX_NAMES {
            self.0.push(normalise(name));
        }
    }

    /// `n` copies of a generic name (a failure the tool counts but does not name).
    fn push_n(&mut self, name: &str, n: u64) {
        for _ in 0..n {
            if self.0.len() >= MAX_NAMES {
                break;
            }
            self.push(name);
        }
    }
}

/// Whitespace runs collapsed to one space, trimmed, cut to [`MAX_NAME_CHARS`] characters.
/// (ANSI codes are already gone: the parsers read stripped lines.)
fn normalise(name: &str) -> String {
    let out = collapse_whitespace(name);
    match out.char_indices().nth(MAX_NAME_CHARS) {
        Some((cut, _)) => out[..cut].trim_end().to_string(),
        None => out,
    }
}

/// Whitespace runs collapsed to one space, trimmed.
fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new($pat).expect("built-in pattern is valid")
        });
    };
}
pub(crate) use re;

// CSI sequences (colours, cursor moves), OSC sequences (hyperlinks, titles), charset selection
// and other two-byte escapes.
static ANSI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[()][0-9A-Za-z]|[@-_])")
        .expect("built-in pattern is valid")
});

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

#[cfg(test)]
mod tests;
