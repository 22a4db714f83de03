//! Comparing two measures: what got worse and what got better, by name where the parsers name
//! things (a test that now fails, an error that is new) and by count where they cannot.

use std::collections::{BTreeMap, BTreeSet};

use super::{CheckState, Measure};

/// How many names a reason lists before "and N more".
const SHOWN: usize = 3;

/// What changed between two measures, in words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    pub worse: Vec<String>,
    pub better: Vec<String>,
    /// Part of what got worse comes from the test check (a re-run may not reproduce it).
    pub tests_worse: bool,
    /// Only the test check got worse: a re-run that does not reproduce it changes the verdict.
    pub only_tests_worse: bool,
}

/// Compare `after` with `before`. Tests in `flaky` (known to give different results on one
/// commit) never count either way.
pub fn compare(before: &Measure, after: &Measure, flaky: &[String]) -> Diff {
    let mut d = Diff::default();
    let mut other_worse = false;
    for (name, b, a) in [
        ("typecheck", &before.typecheck, &after.typecheck),
        ("test", &before.test, &after.test),
    ] {
        if let (CheckState::Ran, CheckState::Failed(why)) = (b, a) {
            d.worse.push(format!(
                "{name} ran at baseline but failed to run after: {why}"
            ));
            other_worse = true;
        }
    }
    if errors(before, after, &mut d) {
        other_worse = true;
    }
    d.tests_worse = tests(before, after, flaky, &mut d);
    d.only_tests_worse = d.tests_worse && !other_worse;
    d
}

/// Errors by identity where both sides name them, else by count. True when worse.
fn errors(before: &Measure, after: &Measure, d: &mut Diff) -> bool {
    let (Some(b), Some(a)) = (before.counts.errors, after.counts.errors) else {
        return false;
    };
    let mut worse = false;
    if let (Some(bn), Some(an)) = (&before.names.errors, &after.names.errors) {
        let (added, gone) = multiset_diff(bn, an);
        if !added.is_empty() {
            d.worse.push(listed("new error", "new errors", &added));
            worse = true;
        }
        if a > b {
            d.worse.push(format!("errors {b} → {a}"));
            worse = true;
        } else if a < b {
            // Fewer errors can still hide a new one (a syntax error stops the type checker
            // early): the new one above decides.
            d.better.push(format!("errors {b} → {a}"));
        } else if !gone.is_empty() {
            d.better.push(listed("fixed error", "fixed errors", &gone));
        }
        return worse;
    }
    let text = format!("errors {b} → {a}");
    if a > b {
        d.worse.push(text);
        true
    } else {
        if a < b {
            d.better.push(text);
        }
        false
    }
}

/// Tests by name where both sides name the failing ones (plus: no test may disappear), else by
/// counts. True when worse.
fn tests(before: &Measure, after: &Measure, flaky: &[String], d: &mut Diff) -> bool {
    let (bc, ac) = (&before.counts, &after.counts);
    let flaky: BTreeSet<&str> = flaky
        .iter()
        .chain(&before.names.flaky)
        .chain(&after.names.flaky)
        .map(String::as_str)
        .collect();
    let mut worse = false;
    if let (Some(bn), Some(an), Some(bf), Some(af), Some(bp), Some(ap)) = (
        &before.names.failing,
        &after.names.failing,
        bc.failures,
        ac.failures,
        bc.passed,
        ac.passed,
    ) {
        let bset: BTreeSet<&str> = bn.iter().map(String::as_str).collect();
        let aset: BTreeSet<&str> = an.iter().map(String::as_str).collect();
        let now_fail: Vec<&str> = aset
            .difference(&bset)
            .copied()
            .filter(|n| !flaky.contains(n))
            .collect();
        let now_pass: Vec<&str> = bset
            .difference(&aset)
            .copied()
            .filter(|n| !flaky.contains(n))
            .collect();
        for n in now_fail.iter().take(SHOWN) {
            d.worse.push(format!("`{n}` now fails"));
        }
        if now_fail.len() > SHOWN {
            d.worse
                .push(format!("{} more tests now fail", now_fail.len() - SHOWN));
        }
        worse |= !now_fail.is_empty();
        let (bt, at) = (bf.saturating_add(bp), af.saturating_add(ap));
        if at < bt {
            d.worse.push(format!(
                "tests {bt} → {at}: fewer tests ran (a test was removed, skipped or no longer loads)"
            ));
            worse = true;
        }
        for n in now_pass.iter().take(SHOWN) {
            d.better.push(format!("`{n}` now passes"));
        }
        if now_pass.len() > SHOWN {
            d.better
                .push(format!("{} more tests now pass", now_pass.len() - SHOWN));
        }
        if !worse && ap > bp && now_pass.is_empty() {
            d.better.push(format!("passed {bp} → {ap}"));
        }
        return worse;
    }
    for (name, b, a, up_is_bad) in [
        ("failures", bc.failures, ac.failures, true),
        ("passed", bc.passed, ac.passed, false),
    ] {
        if let (Some(x), Some(y)) = (b, a) {
            let text = format!("{name} {x} → {y}");
            if (up_is_bad && y > x) || (!up_is_bad && y < x) {
                d.worse.push(text);
                worse = true;
            } else if x != y {
                d.better.push(text);
            }
        }
    }
    worse
}

/// What `after` has more of than `before`, and what it has fewer of (each name once, in order).
fn multiset_diff<'a>(before: &'a [String], after: &'a [String]) -> (Vec<&'a str>, Vec<&'a str>) {
    let mut count: BTreeMap<&str, i64> = BTreeMap::new();
    for n in after {
        *count.entry(n).or_default() += 1;
    }
    for n in before {
        *count.entry(n).or_default() -= 1;
    }
    let added = count
        .iter()
        .filter(|(_, c)| **c > 0)
        .map(|(n, _)| *n)
        .collect();
    let gone = count
        .iter()
        .filter(|(_, c)| **c < 0)
        .map(|(n, _)| *n)
        .collect();
    (added, gone)
}

/// `new error `a`; `b`` with at most [`SHOWN`] names.
fn listed(one: &str, many: &str, names: &[&str]) -> String {
    let shown: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
    let more = match names.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let label = if names.len() == 1 { one } else { many };
    format!("{label} {}{more}", shown.join(", "))
}
