use chrono::Duration;

use super::*;
use crate::store::control::{Grant, GrantTask};

fn now() -> DateTime<Utc> {
    "2026-11-21T12:00:00Z".parse().expect("ts")
}

fn rules() -> DoctorConfig {
    DoctorConfig {
        loop_cycles: 3,
        stuck_secs: 3600,
        window_cycles: 10,
        ..DoctorConfig::default()
    }
}

/// A cycle that finished `mins` minutes before [`now`].
fn cycle(mins: i64, outcome: &str, reason: &str) -> CycleFact {
    let ts = now() - Duration::minutes(mins);
    CycleFact {
        ts,
        outcome: outcome.into(),
        branch: format!("brl/s1/{}", ts.format("%H%M")),
        reason: reason.into(),
        denied: false,
    }
}

fn facts<'a>(cycles: &'a [CycleFact], control: Option<&'a Control>) -> Facts<'a> {
    Facts {
        cycles,
        control,
        worker_alive: Some(true),
        pane_tail: "",
        now: now(),
    }
}

fn class(cycles: &[CycleFact], control: Option<&Control>) -> Diagnosis {
    classify(&facts(cycles, control), &rules())
}

/// A control file granted `secs` seconds before [`now`].
fn granted(secs: i64, state: WorkerState) -> Control {
    let at = now() - Duration::seconds(secs);
    Control {
        grant: Some(Grant {
            id: 7,
            at,
            task: Some(GrantTask {
                id: 3,
                title: "Fix the parser".into(),
                body: None,
            }),
            fix: None,
            taken_by: Some(42),
            taken_at: Some(at),
        }),
        state,
        since: Some(at),
        phase: (state == WorkerState::Cycle).then(|| "hack".into()),
        phase_since: Some(at + Duration::seconds(30)),
        branch: Some("brl/s1/20261121-100000".into()),
        ..Control::default()
    }
}

#[test]
fn the_same_error_k_times_is_error_looping() {
    let cycles = [
        cycle(50, "kept", "errors 3 → 2"),
        cycle(
            40,
            "agent_failed",
            "the agent exited with code 1 and changed nothing",
        ),
        cycle(30, "timeout", "the agent ran out of its 300 s"),
        cycle(20, "timeout", "the agent ran  out of its 1200 s"),
        cycle(10, "timeout", "The agent ran out of its 45 s"),
    ];
    let d = class(&cycles, None);
    assert_eq!(d.class, Class::ErrorLooping, "{d:?}");
    assert_eq!(
        d.evidence[0],
        "same error in the last 3 cycles: The agent ran out of its 45 s"
    );
    let branches: Vec<&str> = cycles[2..].iter().map(|c| c.branch.as_str()).collect();
    assert_eq!(
        d.evidence[1],
        format!("cycles (all timeout): {}", branches.join(", "))
    );
}

#[test]
fn k_minus_one_same_errors_are_not_a_loop() {
    let cycles = [
        cycle(30, "kept", "errors 3 → 2"),
        cycle(20, "timeout", "the agent ran out of its 300 s"),
        cycle(10, "timeout", "the agent ran out of its 300 s"),
    ];
    let d = class(&cycles, None);
    assert_eq!(d.class, Class::Productive, "{d:?}");
    // Only two cycles at all: too early for anything.
    let d = class(&cycles[1..], None);
    assert_eq!(d.class, Class::Productive, "{d:?}");
    assert!(
        d.evidence[0].starts_with("too early to judge: 2 cycles"),
        "{d:?}"
    );
}

#[test]
fn the_same_text_with_another_outcome_or_a_kept_cycle_breaks_the_loop() {
    let other_outcome = [
        cycle(30, "discarded", "errors 2 → 3"),
        cycle(20, "discarded", "errors 2 → 3"),
        cycle(10, "error", "errors 2 → 3"),
    ];
    assert_eq!(class(&other_outcome, None).class, Class::Stuck);
    let one_kept = [
        cycle(30, "discarded", "errors 2 → 3"),
        cycle(20, "kept", "errors 2 → 3"),
        cycle(10, "discarded", "errors 2 → 3"),
    ];
    assert_eq!(class(&one_kept, None).class, Class::Productive);
}

#[test]
fn k_cycles_none_kept_is_stuck_and_k_minus_one_is_not() {
    let cycles = [
        cycle(30, "discarded", "errors 2 → 3"),
        cycle(20, "no_change", "the agent changed nothing"),
        cycle(10, "discarded", "failures 1 → 2"),
    ];
    let d = class(&cycles, None);
    assert_eq!(d.class, Class::Stuck, "{d:?}");
    assert_eq!(
        d.evidence[0],
        "3 cycles, none kept (2 discarded, 1 no_change)"
    );
    assert!(d.evidence[1].ends_with("failures 1 → 2"), "{d:?}");
    assert_eq!(class(&cycles[1..], None).class, Class::Productive);
}

#[test]
fn only_the_window_counts() {
    // A kept cycle just outside the last 10 does not make the session productive.
    let mut cycles = vec![cycle(200, "kept", "errors 3 → 2")];
    cycles.extend((0..10).map(|i| {
        cycle(
            100 - i,
            "discarded",
            &format!("{} broke", "x".repeat(i as usize + 1)),
        )
    }));
    let d = class(&cycles, None);
    assert_eq!(d.class, Class::Stuck, "{d:?}");
    assert!(d.evidence[0].starts_with("10 cycles, none kept"), "{d:?}");
    let d = class(&cycles[1..], None);
    assert_eq!(d.class, Class::Stuck);
    let mut with_kept = cycles.clone();
    with_kept.push(cycle(5, "kept", "errors 2 → 1"));
    let d = class(&with_kept, None);
    assert_eq!(d.class, Class::Productive);
    assert_eq!(d.evidence[0], "1 of the last 10 cycles kept");
}

#[test]
fn a_grant_older_than_stuck_secs_without_a_finished_cycle_is_stuck() {
    let kept = [cycle(120, "kept", "errors 3 → 2")];
    let control = granted(3601, WorkerState::Cycle);
    let mut f = facts(&kept, Some(&control));
    f.pane_tail = "running tests\n  waiting for lock  \n\n";
    f.worker_alive = Some(false);
    let d = classify(&f, &rules());
    assert_eq!(d.class, Class::Stuck, "{d:?}");
    assert_eq!(
        d.evidence,
        [
            "granted 1 h 00 min ago (grant #7, task #3 \"Fix the parser\"), no cycle finished since",
            "in phase hack for 59 min on brl/s1/20261121-100000",
            "no worker process is running for it",
            "pane's last line: waiting for lock",
        ]
    );
    // At exactly stuck_secs it is not stuck yet.
    let control = granted(3600, WorkerState::Cycle);
    assert_eq!(class(&kept, Some(&control)).class, Class::Productive);
    // A cycle that finished after the grant: not stuck.
    let control = granted(7200, WorkerState::Cycle);
    let after = [cycle(60, "discarded", "errors 2 → 3")];
    assert_ne!(class(&after, Some(&control)).class, Class::Stuck);
}

#[test]
fn an_untaken_grant_and_a_cycle_without_a_grant_are_stuck_too() {
    let control = granted(5000, WorkerState::Waiting);
    let d = class(&[], Some(&control));
    assert_eq!(d.class, Class::Stuck, "{d:?}");
    assert_eq!(d.evidence[1], "worker waiting (grant not taken)");
    let mut control = granted(4000, WorkerState::Cycle);
    control.grant = None;
    let d = class(&[], Some(&control));
    assert_eq!(d.class, Class::Stuck, "{d:?}");
    assert!(
        d.evidence[0].starts_with("in a cycle for 1 h 06 min without a grant"),
        "{d:?}"
    );
    // A young grant with no cycles yet is working, not idle.
    let control = granted(600, WorkerState::Cycle);
    let d = class(&[], Some(&control));
    assert_eq!(d.class, Class::Productive, "{d:?}");
    assert_eq!(d.evidence[1], "working for 10 min");
}

#[test]
fn error_looping_comes_before_stuck() {
    let cycles = [
        cycle(300, "error", "git: lock file exists"),
        cycle(290, "error", "git: lock file exists"),
        cycle(280, "error", "git: lock file exists"),
    ];
    let control = granted(4 * 3600, WorkerState::Cycle);
    assert_eq!(class(&cycles, Some(&control)).class, Class::ErrorLooping);
}

#[test]
fn nothing_at_all_is_idle() {
    let d = class(&[], None);
    assert_eq!(d.class, Class::Idle);
    assert_eq!(
        d.evidence,
        ["no cycles in the window and no grant (no control file)"]
    );
    let waiting = Control {
        state: WorkerState::Waiting,
        ..Control::default()
    };
    let d = class(&[], Some(&waiting));
    assert_eq!(d.class, Class::Idle);
    assert!(d.evidence[0].ends_with("(worker waiting)"), "{d:?}");
}

#[test]
fn normalise_and_age() {
    assert_eq!(
        normalise("  Timed OUT after 300s\n\tat  line 12:4 "),
        "timed out after #s at line #:#"
    );
    assert_eq!(normalise("a1 2b"), "a# #b");
    assert_eq!(age(now(), now() - Duration::seconds(7500)), "2 h 05 min");
    assert_eq!(age(now(), now() - Duration::seconds(59)), "59 s");
    assert_eq!(age(now(), now() + Duration::seconds(5)), "0 s");
}

#[test]
fn denied_cycles_are_misconfigured_with_the_denied_tools_as_evidence() {
    let why = "the agent changed nothing: Edit ×3, Bash(git commit) ×1 denied — the agent command lacks a permission mode";
    let denied = |mins| CycleFact {
        denied: true,
        ..cycle(mins, "no_change", why)
    };
    // Even one cycle: a denial is the config's doing, not too early to tell.
    let d = class(&[denied(5)], None);
    assert_eq!(d.class, Class::Misconfigured);
    assert!(d.evidence[0].contains("Edit ×3"), "{:?}", d.evidence);
    assert!(d.evidence[1].starts_with("fix:"), "{:?}", d.evidence);
    // Three denied in a row beat error_looping (same reason three times).
    let d = class(&[denied(30), denied(20), denied(10)], None);
    assert_eq!(d.class, Class::Misconfigured);
    assert_eq!(d.class.as_str(), "misconfigured");
    // A kept cycle among the last K: not misconfigured.
    let d = class(
        &[denied(30), cycle(20, "kept", "errors 3 → 2"), denied(10)],
        None,
    );
    assert_eq!(d.class, Class::Productive);
}

#[test]
fn denials_are_read_from_the_entry_only_without_a_change() {
    let entry = |outcome: &str| Entry {
        ts: now(),
        kind: "ralph_cycle".into(),
        session: Some("s1".into()),
        data: serde_json::json!({"outcome": outcome, "branch": "b", "reason": "r",
                                 "denials": [{"tool": "Edit", "count": 2}]}),
    };
    assert!(CycleFact::from_entry(&entry("no_change")).denied);
    assert!(!CycleFact::from_entry(&entry("kept")).denied);
    let plain = Entry {
        data: serde_json::json!({"outcome": "no_change", "reason": "r"}),
        ..entry("no_change")
    };
    assert!(!CycleFact::from_entry(&plain).denied);
}
