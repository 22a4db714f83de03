//! Parsers that only count: `regex` (the user's patterns) and `exit-code`. They name nothing.

use regex::Regex;

use super::Parsed;

/// Patterns for parser = "regex": each output line that matches counts once.
#[derive(Clone, Debug, Default)]
pub struct RegexRules {
    pub errors: Option<Regex>,
    pub failures: Option<Regex>,
    pub passed: Option<Regex>,
}

pub(super) fn parse_regex(rules: &RegexRules, lines: &[&str]) -> Parsed {
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

pub(super) fn parse_exit_code(exit_code: Option<i32>) -> Parsed {
    let bad = Some(u64::from(exit_code != Some(0)));
    Parsed {
        errors: bad,
        failures: bad,
        ..Parsed::default()
    }
}
