use super::*;

fn m(errors: u64, failures: u64, passed: u64) -> Measure {
    Measure {
        counts: Counts {
            errors: Some(errors),
            failures: Some(failures),
            passed: Some(passed),
        },
        typecheck: CheckState::Ran,
        test: CheckState::Ran,
        names: Names::default(),
    }
}

fn run(
    agent: AgentExit,
    changed: bool,
    before: &Measure,
    after: Option<&Measure>,
) -> (Outcome, String) {
    evaluate(&Facts {
        agent,
        changed,
        before,
        after,
        timeout_secs: 30,
        flaky: &[],
    })
}

#[test]
fn a_limit_without_a_change_is_rate_limited_whatever_the_exit() {
    let b = m(1, 1, 1);
    for agent in [AgentExit::Exited(0), AgentExit::Exited(1)] {
        let (o, r) = evaluate_run(
            &Facts {
                agent,
                changed: false,
                before: &b,
                after: None,
                timeout_secs: 30,
                flaky: &[],
            },
            &Signals {
                limit: Some("usage limit, resumes at 23:03".into()),
                denied: None,
            },
        );
        assert_eq!(o, Outcome::RateLimited);
        assert!(r.contains("usage limit, resumes at 23:03"), "{r}");
    }
    // Work done before the limit is judged by the normal rules.
    let (o, _) = evaluate_run(
        &Facts {
            agent: AgentExit::Exited(1),
            changed: true,
            before: &b,
            after: Some(&m(0, 1, 1)),
            timeout_secs: 30,
            flaky: &[],
        },
        &Signals {
            limit: Some("rate limit".into()),
            denied: None,
        },
    );
    assert_eq!(o, Outcome::Kept);
    // A stop by the operator still wins.
    let (o, _) = evaluate_run(
        &Facts {
            agent: AgentExit::Interrupted,
            changed: false,
            before: &b,
            after: None,
            timeout_secs: 30,
            flaky: &[],
        },
        &Signals {
            limit: Some("rate limit".into()),
            denied: None,
        },
    );
    assert_eq!(o, Outcome::Interrupted);
}

#[test]
fn denied_and_unchanged_names_the_denied_tools() {
    let b = m(1, 1, 1);
    let denied = "Edit ×3, Bash(git commit) ×1 denied — the agent command lacks a permission mode";
    let (o, r) = evaluate_run(
        &Facts {
            agent: AgentExit::Exited(0),
            changed: false,
            before: &b,
            after: None,
            timeout_secs: 30,
            flaky: &[],
        },
        &Signals {
            limit: None,
            denied: Some(denied.into()),
        },
    );
    assert_eq!(o, Outcome::NoChange);
    assert_eq!(r, format!("the agent changed nothing: {denied}"));
    let (o, r) = evaluate_run(
        &Facts {
            agent: AgentExit::Exited(2),
            changed: false,
            before: &b,
            after: None,
            timeout_secs: 30,
            flaky: &[],
        },
        &Signals {
            limit: None,
            denied: Some(denied.into()),
        },
    );
    assert_eq!(o, Outcome::AgentFailed);
    assert!(r.contains("Edit ×3"), "{r}");
    // Denied but it changed something anyway: judged by the checks.
    let (o, _) = evaluate_run(
        &Facts {
            agent: AgentExit::Exited(0),
            changed: true,
            before: &b,
            after: Some(&b),
            timeout_secs: 30,
            flaky: &[],
        },
        &Signals {
            limit: None,
            denied: Some(denied.into()),
        },
    );
    assert_eq!(o, Outcome::Kept);
}

#[test]
fn fewer_errors_is_kept() {
    let (o, r) = run(
        AgentExit::Exited(0),
        true,
        &m(12, 2, 10),
        Some(&m(11, 2, 10)),
    );
    assert_eq!((o, r.as_str()), (Outcome::Kept, "errors 12 → 11"));
}

#[test]
fn equal_counts_are_kept() {
    let (o, r) = run(AgentExit::Exited(0), true, &m(1, 1, 1), Some(&m(1, 1, 1)));
    assert_eq!((o, r.as_str()), (Outcome::Kept, "no check got worse"));
}

#[test]
fn each_regression_discards() {
    let b = m(12, 2, 10);
    assert_eq!(
        run(AgentExit::Exited(0), true, &b, Some(&m(14, 2, 10))),
        (Outcome::Discarded, "errors 12 → 14".into())
    );
    assert_eq!(
        run(AgentExit::Exited(0), true, &b, Some(&m(12, 3, 10))),
        (Outcome::Discarded, "failures 2 → 3".into())
    );
    assert_eq!(
        run(AgentExit::Exited(0), true, &b, Some(&m(12, 2, 9))),
        (Outcome::Discarded, "passed 10 → 9".into())
    );
    // Fixing errors does not excuse breaking a test.
    let (o, r) = run(AgentExit::Exited(0), true, &b, Some(&m(5, 3, 10)));
    assert_eq!((o, r.as_str()), (Outcome::Discarded, "failures 2 → 3"));
}

#[test]
fn a_check_that_stops_running_discards() {
    let b = m(1, 0, 5);
    let mut a = m(0, 0, 0);
    a.counts.failures = None;
    a.counts.passed = None;
    a.test = CheckState::Failed("no summary".into());
    let (o, r) = run(AgentExit::Exited(0), true, &b, Some(&a));
    assert_eq!(o, Outcome::Discarded);
    assert!(
        r.contains("test ran at baseline but failed to run after: no summary"),
        "{r}"
    );
}

#[test]
fn a_check_broken_at_baseline_keeps_nothing() {
    let mut b = m(3, 0, 0);
    b.test = CheckState::Failed("`pytest: not found`".into());
    b.counts.failures = None;
    b.counts.passed = None;
    let mut a = m(2, 0, 0);
    a.test = CheckState::Failed("`pytest: not found`".into());
    let (o, r) = run(AgentExit::Exited(0), true, &b, Some(&a));
    assert_eq!(o, Outcome::Error);
    assert_eq!(
        r,
        "test cannot run at baseline, so nothing can be judged: `pytest: not found`"
    );
}

#[test]
fn unconfigured_checks_compare_nothing() {
    let none = Measure::none();
    assert_eq!(
        run(AgentExit::Exited(0), true, &none, Some(&none)).0,
        Outcome::Kept
    );
}

#[test]
fn agent_endings() {
    let b = m(1, 1, 1);
    assert_eq!(
        run(AgentExit::Exited(0), false, &b, None).0,
        Outcome::NoChange
    );
    assert_eq!(
        run(AgentExit::Exited(3), false, &b, None),
        (
            Outcome::AgentFailed,
            "the agent exited with code 3 and changed nothing".into()
        )
    );
    assert_eq!(
        run(AgentExit::Signaled(9), false, &b, None).0,
        Outcome::AgentFailed
    );
    assert_eq!(
        run(AgentExit::TimedOut, true, &b, Some(&b)).0,
        Outcome::Timeout
    );
    assert_eq!(
        run(AgentExit::Interrupted, true, &b, None).0,
        Outcome::Interrupted
    );
    // A non-zero exit with a good change is still judged by the checks.
    let (o, r) = run(AgentExit::Exited(1), true, &b, Some(&m(0, 1, 1)));
    assert_eq!(o, Outcome::Kept);
    assert!(r.ends_with("(the agent exited with code 1)"), "{r}");
    assert_eq!(run(AgentExit::Exited(0), true, &b, None).0, Outcome::Error);
}

fn named(errors: &[&str], failing: &[&str], passed: u64) -> Measure {
    let mut x = m(errors.len() as u64, failing.len() as u64, passed);
    x.names.errors = Some(errors.iter().map(|s| s.to_string()).collect());
    x.names.failing = Some(failing.iter().map(|s| s.to_string()).collect());
    x
}

#[test]
fn a_swapped_failing_test_is_discarded_though_counts_are_equal() {
    let b = named(&[], &["parse > handles NaN"], 4);
    let a = named(&[], &["sum > empty"], 4);
    let (o, r) = run(AgentExit::Exited(0), true, &b, Some(&a));
    assert_eq!(
        (o, r.as_str()),
        (Outcome::Discarded, "`sum > empty` now fails")
    );
    // The other way round the same change is an improvement, named.
    let fixed = named(&[], &[], 5);
    let (o, r) = run(AgentExit::Exited(0), true, &b, Some(&fixed));
    assert_eq!(
        (o, r.as_str()),
        (Outcome::Kept, "`parse > handles NaN` now passes")
    );
}

#[test]
fn a_swapped_error_is_discarded_and_a_syntax_error_hiding_others_too() {
    let b = named(&["a.ts: TS2322: x", "b.ts: TS2345: y"], &[], 3);
    let swapped = named(&["a.ts: TS2322: x", "c.ts: TS2551: z"], &[], 3);
    let (o, r) = run(AgentExit::Exited(0), true, &b, Some(&swapped));
    assert_eq!(
        (o, r.as_str()),
        (Outcome::Discarded, "new error `c.ts: TS2551: z`")
    );
    // A syntax error stops tsc early: fewer errors, one of them new.
    let syntax = named(&["a.ts: TS1005: ';' expected."], &[], 3);
    let (o, r) = run(AgentExit::Exited(0), true, &b, Some(&syntax));
    assert_eq!(
        (o, r.as_str()),
        (
            Outcome::Discarded,
            "new error `a.ts: TS1005: ';' expected.`"
        )
    );
    // The same error twice more is new too (a multiset).
    let twice = named(&["a.ts: TS2322: x", "a.ts: TS2322: x"], &[], 3);
    let (o, _) = run(
        AgentExit::Exited(0),
        true,
        &named(&["a.ts: TS2322: x"], &[], 3),
        Some(&twice),
    );
    assert_eq!(o, Outcome::Discarded);
    let fixed = named(&["a.ts: TS2322: x"], &[], 3);
    let (o, r) = run(AgentExit::Exited(0), true, &b, Some(&fixed));
    assert_eq!((o, r.as_str()), (Outcome::Kept, "errors 2 → 1"));
}

#[test]
fn removing_a_failing_test_is_not_a_fix() {
    let b = named(&[], &["flaky > one", "math > add"], 8);
    let a = named(&[], &["flaky > one"], 8);
    let (o, r) = run(AgentExit::Exited(0), true, &b, Some(&a));
    assert_eq!(o, Outcome::Discarded);
    assert!(r.contains("tests 10 → 9: fewer tests ran"), "{r}");
}

#[test]
fn a_known_flaky_test_never_decides() {
    let b = named(&[], &[], 5);
    let a = named(&[], &["net > retries"], 4);
    let flaky = vec!["net > retries".to_string()];
    let (o, r) = evaluate(&Facts {
        agent: AgentExit::Exited(0),
        changed: true,
        before: &b,
        after: Some(&a),
        timeout_secs: 30,
        flaky: &flaky,
    });
    assert_eq!((o, r.as_str()), (Outcome::Kept, "no check got worse"));
    // A flaky test that failed at baseline hides nothing: a real new failure still shows.
    let b = named(&[], &["net > retries"], 4);
    let a = named(&[], &["math > add"], 4);
    let (o, r) = evaluate(&Facts {
        agent: AgentExit::Exited(0),
        changed: true,
        before: &b,
        after: Some(&a),
        timeout_secs: 30,
        flaky: &flaky,
    });
    assert_eq!(
        (o, r.as_str()),
        (Outcome::Discarded, "`math > add` now fails")
    );
}

#[test]
fn the_diff_says_when_only_tests_got_worse() {
    let b = named(&["x: E1: a"], &[], 5);
    let a = named(&["x: E1: a"], &["t"], 4);
    let d = compare(&b, &a, &[]);
    assert!(d.tests_worse && d.only_tests_worse, "{d:?}");
    let a = named(&["x: E1: a", "y: E2: b"], &["t"], 4);
    let d = compare(&b, &a, &[]);
    assert!(d.tests_worse && !d.only_tests_worse, "{d:?}");
}

#[test]
fn exit_127_says_command_not_found() {
    let (o, r) = run(AgentExit::Exited(127), false, &m(0, 0, 1), None);
    assert_eq!(o, Outcome::AgentFailed);
    assert!(r.contains("command not found"), "{r}");
}
