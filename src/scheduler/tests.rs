use super::*;

fn s(name: &str, alive: bool, idle: bool, granted: bool, waiting: i64) -> SessionView {
    SessionView {
        name: name.into(),
        alive,
        idle,
        granted,
        waiting_secs: waiting,
        paused: false,
        reserved_task: false,
    }
}

static NO_USAGE: std::sync::LazyLock<Usage> = std::sync::LazyLock::new(Usage::default);

fn inputs(sessions: &[SessionView]) -> Inputs<'_> {
    Inputs {
        today: &NO_USAGE,
        daily_usd: None,
        max_cycles_per_day: None,
        sessions,
        memory: Some(Memory {
            used: 40,
            total: 100,
            source: "host",
        }),
        max_ram_percent: 85,
        max_running: 0,
        ready_tasks: 0,
        fleet_paused: false,
        self_plan: true,
        agent_limit: None,
        open_reviews: 0,
        max_pending: 20,
        backlog_blocks_tasks: false,
        fixes: &[],
    }
}

#[test]
fn an_agent_limit_grants_nothing_until_it_resets() {
    let ss = [s("s1", true, true, false, 3), s("s2", true, true, false, 2)];
    let now: chrono::DateTime<chrono::Utc> = "2026-12-04T20:00:00Z".parse().expect("ts");
    let limit = crate::agents::Limit {
        kind: crate::agents::LimitKind::UsageLimit,
        resets_at: Some("2026-12-04T23:03:00Z".parse().expect("ts")),
        retry_after_secs: None,
        message: "usage limit reached".into(),
    };
    let (kept, _) = limits::next(None, "claude", &limit, Some("s1"), now);
    let all = vec![kept];
    let mut i = inputs(&ss);
    i.ready_tasks = 2;
    i.agent_limit = limits::active_in(&all, "claude", now);
    let p = decide(&i);
    assert!(p.grants.is_empty());
    let (skip, who) = p.skipped.expect("skipped");
    assert_eq!(who, vec!["s1".to_string(), "s2".to_string()]);
    assert_eq!(
        skip,
        Skip::AgentLimited {
            preset: "claude".into(),
            kind: "usage_limit".into(),
            resume_at: "2026-12-04T23:03:00Z".parse().expect("ts"),
        }
    );
    // At the reset time the limit is no longer active: both sessions get a cycle again.
    let reset: chrono::DateTime<chrono::Utc> = "2026-12-04T23:03:00Z".parse().expect("ts");
    i.agent_limit = limits::active_in(&all, "claude", reset);
    assert_eq!(granted(&decide(&i)), vec![("s1", true), ("s2", true)]);
}

fn granted(p: &Plan) -> Vec<(&str, bool)> {
    p.grants
        .iter()
        .map(|g| (g.session.as_str(), g.with_task))
        .collect()
}

#[test]
fn idle_live_sessions_get_a_cycle_longest_waiting_first() {
    let ss = [
        s("s1", true, true, false, 5),
        s("s2", true, false, true, 0),
        s("s3", false, true, false, 50),
        s("s4", true, true, false, 60),
    ];
    let p = decide(&inputs(&ss));
    assert_eq!(granted(&p), vec![("s4", false), ("s1", false)]);
    assert_eq!(p.skipped, None);
}

#[test]
fn tasks_go_first_then_self_planning() {
    let ss = [s("s1", true, true, false, 3), s("s2", true, true, false, 2)];
    let mut i = inputs(&ss);
    i.ready_tasks = 1;
    assert_eq!(granted(&decide(&i)), vec![("s1", true), ("s2", false)]);
    i.self_plan = false;
    let p = decide(&i);
    assert_eq!(granted(&p), vec![("s1", true)]);
    assert_eq!(p.skipped, Some((Skip::NoTask, vec!["s2".into()])));
}

#[test]
fn ram_gate_grants_nothing_and_says_why() {
    let ss = [s("s1", true, true, false, 1)];
    let mut i = inputs(&ss);
    i.memory = Some(Memory {
        used: 90,
        total: 100,
        source: "cgroup",
    });
    let p = decide(&i);
    assert!(p.grants.is_empty());
    let (skip, who) = p.skipped.expect("skipped");
    assert_eq!(who, vec!["s1".to_string()]);
    assert!(matches!(
        skip,
        Skip::Ram {
            max_ram_percent: 85,
            source: "cgroup",
            ..
        }
    ));
    // At the limit is still allowed; unknown memory is not gated.
    i.memory = Some(Memory {
        used: 85,
        total: 100,
        source: "host",
    });
    assert_eq!(decide(&i).grants.len(), 1);
    i.memory = None;
    assert_eq!(decide(&i).grants.len(), 1);
}

#[test]
fn the_days_limits_stop_grants_until_the_next_day() {
    let ss = [s("s1", true, true, false, 1)];
    let spent = Usage {
        cost_usd: 5.0,
        cycles: 40,
        ..Usage::default()
    };
    let mut i = inputs(&ss);
    i.today = &spent;
    i.daily_usd = Some(5.0);
    let p = decide(&i);
    assert!(p.grants.is_empty());
    assert!(matches!(
        p.skipped,
        Some((
            Skip::Budget {
                limit: "daily_usd",
                ..
            },
            _
        ))
    ));
    i.daily_usd = Some(10.0);
    i.max_cycles_per_day = Some(40);
    assert!(matches!(
        decide(&i).skipped,
        Some((
            Skip::Budget {
                limit: "max_cycles_per_day",
                ..
            },
            _
        ))
    ));
    // A new day: the usage read from the log starts at zero again.
    let fresh = Usage::default();
    i.today = &fresh;
    assert_eq!(decide(&i).grants.len(), 1);
}

#[test]
fn max_running_caps_grants() {
    let ss = [
        s("s1", true, false, true, 0),
        s("s2", true, true, false, 9),
        s("s3", true, true, false, 1),
    ];
    let mut i = inputs(&ss);
    i.max_running = 2;
    let p = decide(&i);
    assert_eq!(granted(&p), vec![("s2", false)]);
    assert_eq!(
        p.skipped,
        Some((
            Skip::MaxRunning {
                running: 1,
                max_running: 2
            },
            vec!["s3".into()]
        ))
    );
}

#[test]
fn nobody_idle_nothing_to_do() {
    let ss = [s("s1", true, false, true, 0)];
    assert_eq!(decide(&inputs(&ss)), Plan::default());
}

#[test]
fn skip_log_is_rate_limited() {
    let mut l = SkipLog::default();
    assert_eq!(l.should_log("ram", 0, 1800), Some(0));
    assert_eq!(l.should_log("ram", 10, 1800), None);
    assert_eq!(l.should_log("ram", 20, 1800), None);
    assert_eq!(l.should_log("ram", 1800, 1800), Some(2));
    assert_eq!(l.should_log("max_running", 1801, 1800), Some(0));
    l.clear();
    assert_eq!(l.should_log("max_running", 1802, 1800), Some(0));
}

#[test]
fn a_full_review_backlog_stops_self_planned_cycles_not_tasks() {
    let ss = [
        s("s1", true, true, false, 3),
        s("s2", true, true, false, 2),
        s("s3", true, true, false, 1),
    ];
    let mut i = inputs(&ss);
    i.open_reviews = 3;
    i.max_pending = 3;
    i.ready_tasks = 1;
    let p = decide(&i);
    assert_eq!(granted(&p), vec![("s1", true)]);
    let (skip, who) = p.skipped.expect("skipped");
    assert_eq!(
        skip,
        Skip::ReviewBacklog {
            open: 3,
            max_pending: 3
        }
    );
    assert_eq!(skip.reason(), "review_backlog");
    assert_eq!(who, vec!["s2".to_string(), "s3".to_string()]);
    // Configured so: the tasks wait as well.
    i.backlog_blocks_tasks = true;
    let p = decide(&i);
    assert!(p.grants.is_empty());
    assert_eq!(p.skipped.expect("skipped").1.len(), 3);
    // One under the cap: one more cycle (the task, counted since tasks wait too); no cap:
    // everyone works.
    i.open_reviews = 2;
    assert_eq!(granted(&decide(&i)), vec![("s1", true)]);
    i.open_reviews = 50;
    i.max_pending = 0;
    assert_eq!(decide(&i).grants.len(), 3);
}

#[test]
fn cycles_in_flight_count_against_the_backlog_cap() {
    // 1 open entry and 1 cycle running under a cap of 3: one more self-planned cycle at most.
    let ss = [
        s("s1", true, false, true, 0),
        s("s2", true, true, false, 3),
        s("s3", true, true, false, 2),
    ];
    let mut i = inputs(&ss);
    i.open_reviews = 1;
    i.max_pending = 3;
    let p = decide(&i);
    assert_eq!(granted(&p), vec![("s2", false)]);
    assert_eq!(p.skipped.expect("skipped").0.reason(), "review_backlog");
}

#[test]
fn without_self_planning_a_full_backlog_with_no_task_says_no_task() {
    let ss = [s("s1", true, true, false, 3)];
    let mut i = inputs(&ss);
    i.self_plan = false;
    i.open_reviews = 5;
    i.max_pending = 3;
    assert_eq!(decide(&i).skipped.expect("skipped").0, Skip::NoTask);
}

#[test]
fn repairs_go_first_and_pass_the_backlog() {
    let ss = [
        s("s1", true, true, false, 3),
        s("s2", true, true, false, 2),
        s("s3", true, true, false, 1),
    ];
    let fixes = ["brl/s9/a".to_string()];
    let mut i = inputs(&ss);
    i.fixes = &fixes;
    i.ready_tasks = 1;
    i.open_reviews = 20;
    let p = decide(&i);
    assert_eq!(p.grants[0].fix.as_deref(), Some("brl/s9/a"));
    assert_eq!(p.grants[0].session, "s1");
    assert_eq!(granted(&p), vec![("s1", false), ("s2", true)]);
    assert_eq!(
        p.skipped.expect("skipped"),
        (
            Skip::ReviewBacklog {
                open: 20,
                max_pending: 20
            },
            vec!["s3".to_string()]
        )
    );
    // The RAM gate holds repairs back like any cycle.
    i.memory = Some(Memory {
        used: 95,
        total: 100,
        source: "host",
    });
    assert!(decide(&i).grants.is_empty());
}

#[test]
fn backlog_words() {
    assert!(!backlog_full(19, 20));
    assert!(backlog_full(20, 20));
    assert!(!backlog_full(1000, 0));
    assert_eq!(backlog_text(20), "paused: 20 branches wait for review");
    assert_eq!(backlog_text(1), "paused: 1 branch waits for review");
}

#[test]
fn a_paused_session_gets_no_grant_while_the_others_do() {
    let mut ss = vec![
        s("s1", true, true, false, 1),
        s("s2", true, true, false, 9),
        s("s3", true, true, false, 2),
    ];
    ss[1].paused = true;
    let mut i = inputs(&ss);
    i.ready_tasks = 3;
    let p = decide(&i);
    let granted: Vec<_> = p.grants.iter().map(|g| g.session.as_str()).collect();
    assert_eq!(granted, vec!["s3", "s1"]);
    // Paused is not "left out for a reason": no skip entry names it.
    assert_eq!(p.skipped, None);
    // Resumed: it is granted again, first (it waited longest).
    ss[1].paused = false;
    let p = decide(&inputs(&ss));
    assert_eq!(p.grants.first().map(|g| g.session.as_str()), Some("s2"));
}

#[test]
fn a_paused_fleet_grants_nothing_and_says_who_paused_it() {
    let ss = [s("s1", true, true, false, 1), s("s2", true, true, false, 2)];
    let mut i = inputs(&ss);
    i.fleet_paused = true;
    i.ready_tasks = 2;
    let p = decide_by(&i, "cli");
    assert!(p.grants.is_empty());
    let (skip, who) = p.skipped.expect("skipped");
    assert_eq!(skip, Skip::FleetPaused { by: "cli".into() });
    assert_eq!(skip.reason(), "fleet_paused");
    assert_eq!(who, vec!["s2".to_string(), "s1".to_string()]);
}

#[test]
fn a_reserved_task_goes_first_to_its_session_before_repairs_and_the_queue() {
    let mut ss = vec![
        s("s1", true, true, false, 50),
        s("s3", true, true, false, 1),
    ];
    ss[1].reserved_task = true;
    let fixes = vec!["brl/s9/1".to_string()];
    let mut i = inputs(&ss);
    i.max_running = 1;
    i.fixes = &fixes;
    i.ready_tasks = 0;
    let p = decide(&i);
    // One slot: s3's reserved task wins over the longer-waiting s1 and over the repair.
    assert_eq!(
        p.grants,
        vec![GrantTo {
            session: "s3".into(),
            with_task: true,
            fix: None
        }]
    );
    // With room, s1 takes the repair; s3 still its task (not the repair).
    i.max_running = 0;
    let p = decide(&i);
    assert_eq!(p.grants.len(), 2);
    assert!(
        p.grants
            .iter()
            .any(|g| g.session == "s3" && g.with_task && g.fix.is_none())
    );
    assert!(
        p.grants
            .iter()
            .any(|g| g.session == "s1" && g.fix.is_some())
    );
}

#[test]
fn each_host_is_gated_on_its_own_memory_and_repairs_stay_local() {
    let ss = [
        s("s1", true, true, false, 1),
        s("a-s1", true, true, false, 5),
        s("b-s1", true, true, false, 4),
    ];
    let mut i = inputs(&ss);
    let fixes = ["brl/s9/1".to_string()];
    i.fixes = &fixes;
    let gate = |host: &str, used: u64, max: u8| HostGate {
        host: host.into(),
        sessions: vec![format!("{host}-s1")],
        memory: Some(Memory {
            used,
            total: 100,
            source: "host",
        }),
        max_ram_percent: max,
    };
    // Host a is above its own gate (90 > 80), b below its (90 ≤ 95): a waits, b and the local
    // session go; the repair goes to the local session, never to a host's.
    let hosts = [gate("a", 90, 80), gate("b", 90, 95)];
    let p = decide_fleet(&i, &hosts, "x");
    let got: Vec<(&str, Option<&str>)> = p
        .grants
        .iter()
        .map(|g| (g.session.as_str(), g.fix.as_deref()))
        .collect();
    assert_eq!(got, vec![("b-s1", None), ("s1", Some("brl/s9/1"))]);
    let (skip, who) = p.skipped.expect("a is gated");
    assert_eq!(who, vec!["a-s1".to_string()]);
    assert!(
        matches!(&skip, Skip::Ram { host: Some(h), max_ram_percent: 80, .. } if h == "a"),
        "{skip:?}"
    );
    assert_eq!(
        serde_json::to_value(&skip).expect("json")["host"],
        serde_json::json!("a")
    );
    // This machine above its gate does not hold the hosts back.
    i.memory = Some(Memory {
        used: 99,
        total: 100,
        source: "host",
    });
    let hosts = [gate("a", 10, 80), gate("b", 10, 80)];
    let p = decide_fleet(&i, &hosts, "x");
    let got: Vec<&str> = p.grants.iter().map(|g| g.session.as_str()).collect();
    assert_eq!(got, vec!["a-s1", "b-s1"]);
    assert_eq!(p.skipped.map(|s| s.1), Some(vec!["s1".to_string()]));
}
