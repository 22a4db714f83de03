//! Helpers shared by the demo's tests: run the checks like brl would and count their
//! output with the [`CHECKS`] regexes.

use std::path::Path;
use std::process::Command;

use super::CHECKS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub type_errors: usize,
    pub test_failures: usize,
    pub tests_passed: usize,
}

impl Counts {
    pub(crate) fn problems(&self) -> usize {
        self.type_errors + self.test_failures
    }
}

/// Output and success of `sh -c cmd` run in `dir`.
pub(crate) fn sh(dir: &Path, cmd: &str) -> (String, bool) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .output()
        .expect("cannot run sh");
    assert!(
        out.stderr.is_empty(),
        "{cmd} wrote to stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8(out.stdout).unwrap(), out.status.success())
}

/// How many lines `regex` matches. The regexes in [`CHECKS`] are `(?m)^` followed by a
/// literal; this asserts that, so counting line prefixes gives what brl's regex
/// parser would count (without a regex dependency here).
pub(crate) fn count(regex: &str, output: &str) -> usize {
    let literal = regex
        .strip_prefix("(?m)^")
        .expect("regex starts with (?m)^");
    assert!(
        !literal.contains(|c: char| r"\.+*?()|[]{}^$".contains(c)),
        "regex {regex} is not a plain prefix"
    );
    output
        .lines()
        .filter(|line| line.starts_with(literal))
        .count()
}

/// Runs both checks in `dir`, checks their exit status agrees with their counts.
pub(crate) fn run_checks(dir: &Path) -> Counts {
    let (check_out, check_ok) = sh(dir, CHECKS.typecheck_cmd);
    let (test_out, test_ok) = sh(dir, CHECKS.test_cmd);
    let counts = Counts {
        type_errors: count(CHECKS.typecheck_errors_regex, &check_out),
        test_failures: count(CHECKS.test_failures_regex, &test_out),
        tests_passed: count(CHECKS.test_passed_regex, &test_out),
    };
    assert_eq!(check_ok, counts.type_errors == 0, "{check_out}");
    assert_eq!(test_ok, counts.test_failures == 0, "{test_out}");
    counts
}
