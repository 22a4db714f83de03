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
fn a_check_broken_at_baseline_does_not_block() {
    let mut b = m(3, 0, 0);
    b.test = CheckState::Failed("crash".into());
    b.counts.failures = None;
    b.counts.passed = None;
    let mut a = m(2, 0, 0);
    a.test = CheckState::Failed("crash".into());
    assert_eq!(
        run(AgentExit::Exited(0), true, &b, Some(&a)).0,
        Outcome::Kept
    );
}

#[test]
fn unconfigured_checks_compare_nothing() {
    let none = Measure {
        counts: Counts::default(),
        typecheck: CheckState::NotConfigured,
        test: CheckState::NotConfigured,
    };
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
