//! Re-running the test check on the same commit before its result decides anything: a failure
//! that does not reproduce is not a regression, and a test whose result differs between runs is
//! recorded as flaky ([`super::flaky`]).
//!
//! Runs are merged into one measure: a test counts as failing only if it failed in every run
//! (where the runner names tests), the failure count is the lowest seen and the passed count the
//! highest — so one unlucky run can neither discard good work nor hide a real regression.

use std::collections::BTreeSet;

use super::{CheckError, MeasureCtx, flaky, measure_tests};
use crate::outcome::{CheckState, Measure};

/// Re-run the test check up to `[checks] confirm_runs` times on the worktree as it is (at
/// `commit`), merging each run into `first`; stops early once `still_worse` says the merged
/// measure no longer shows the regression. Tests found flaky are recorded.
pub fn rerun(
    ctx: &MeasureCtx,
    label: &str,
    first: Measure,
    commit: &str,
    still_worse: impl Fn(&Measure) -> bool,
) -> Result<Measure, CheckError> {
    let n = ctx.config.checks.confirm_runs;
    if n == 0 || ctx.config.checks.test.is_none() || first.test != CheckState::Ran {
        return Ok(first);
    }
    let mut merged = first;
    for i in 1..=n {
        let mut again = merged.clone();
        measure_tests(ctx, &format!("{label}-test-rerun{i}"), &mut again)?;
        merged = merge(&merged, &again);
        if !still_worse(&merged) {
            break;
        }
    }
    if !merged.names.flaky.is_empty() {
        flaky::record(ctx.home, &merged.names.flaky, commit, label);
    }
    Ok(merged)
}

/// One measure from two runs of the test check on the same commit (the type check is taken
/// from `a`). A run whose test check did not run adds nothing.
pub fn merge(a: &Measure, b: &Measure) -> Measure {
    let mut m = a.clone();
    if b.test != CheckState::Ran {
        return m;
    }
    if a.test != CheckState::Ran {
        m.test = b.test.clone();
        m.counts.failures = b.counts.failures;
        m.counts.passed = b.counts.passed;
        m.names.failing = b.names.failing.clone();
        return m;
    }
    m.counts.failures = min_some(a.counts.failures, b.counts.failures);
    m.counts.passed = max_some(a.counts.passed, b.counts.passed);
    if let (Some(fa), Some(fb)) = (&a.names.failing, &b.names.failing) {
        let sa: BTreeSet<&String> = fa.iter().collect();
        let sb: BTreeSet<&String> = fb.iter().collect();
        let mut flaky: BTreeSet<String> = a.names.flaky.iter().cloned().collect();
        flaky.extend(sa.symmetric_difference(&sb).map(|s| (*s).clone()));
        m.names.failing = Some(sa.intersection(&sb).map(|s| (*s).clone()).collect());
        m.names.flaky = flaky.into_iter().collect();
    } else {
        m.names.failing = None;
    }
    m
}

fn min_some(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_some(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Counts, Names};

    fn run(failing: &[&str], passed: u64) -> Measure {
        Measure {
            counts: Counts {
                errors: None,
                failures: Some(failing.len() as u64),
                passed: Some(passed),
            },
            typecheck: CheckState::NotConfigured,
            test: CheckState::Ran,
            names: Names {
                failing: Some(failing.iter().map(|s| s.to_string()).collect()),
                ..Names::default()
            },
        }
    }

    #[test]
    fn a_test_failing_in_one_run_only_is_flaky_not_failing() {
        let m = merge(&run(&["a", "flip"], 3), &run(&["a"], 4));
        assert_eq!(m.names.failing, Some(vec!["a".to_string()]));
        assert_eq!(m.names.flaky, vec!["flip".to_string()]);
        assert_eq!((m.counts.failures, m.counts.passed), (Some(1), Some(4)));
    }

    #[test]
    fn counts_only_runs_take_the_best_of_each() {
        let mut a = run(&[], 3);
        let mut b = run(&[], 4);
        a.names.failing = None;
        b.names.failing = None;
        a.counts.failures = Some(2);
        b.counts.failures = Some(1);
        let m = merge(&a, &b);
        assert_eq!((m.counts.failures, m.counts.passed), (Some(1), Some(4)));
        assert_eq!(m.names.failing, None);
    }

    #[test]
    fn a_run_that_did_not_run_adds_nothing() {
        let a = run(&["x"], 2);
        let mut b = run(&[], 3);
        b.test = CheckState::Failed("crashed".into());
        assert_eq!(merge(&a, &b), a);
    }
}
