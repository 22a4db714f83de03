use chrono::{TimeZone, Utc};

use super::*;
use crate::scheduler::limits::ResumeSource;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("a valid time")
}

fn idle(name: &str) -> SessionFact {
    SessionFact {
        name: name.into(),
        alive: true,
        idle: true,
        granted: false,
        blocked: None,
        last: None,
    }
}

fn facts(sessions: Vec<SessionFact>) -> Facts {
    Facts {
        room: Some(42),
        sessions,
        max_ram_percent: 85,
        self_plan: true,
        ..Facts::default()
    }
}

fn keys(f: &Facts) -> Vec<&'static str> {
    explain(f, now()).into_iter().map(|w| w.key).collect()
}

#[test]
fn nothing_holds_work_back_says_nothing() {
    assert!(explain(&facts(vec![idle("s1"), idle("s2")]), now()).is_empty());
}

#[test]
fn no_control_room_comes_first() {
    let mut f = facts(vec![idle("s1")]);
    f.room = None;
    let w = explain(&f, now());
    assert_eq!(w[0].key, "no_control_room");
    assert!(w[0].text.contains("brl up"), "{}", w[0].text);
}

#[test]
fn a_reached_budget_names_the_limit_and_the_figures() {
    let mut f = facts(vec![idle("s1")]);
    f.daily_usd = Some(5.0);
    f.today.cost_usd = 5.2;
    let w = explain(&f, now());
    assert_eq!(keys(&f), ["budget"]);
    assert!(
        w[0].text.contains("daily_usd: $5.20 of $5.00 today"),
        "{}",
        w[0].text
    );
    assert!(w[0].text.contains("until midnight UTC"), "{}", w[0].text);
    f.daily_usd = None;
    f.max_cycles_per_day = Some(3);
    f.today.cycles = 3;
    let w = explain(&f, now());
    assert!(w[0].text.contains("3 of 3 cycles today"), "{}", w[0].text);
}

#[test]
fn the_ram_gate_gives_its_figures() {
    let mut f = facts(vec![idle("s1")]);
    f.memory = Some(Memory {
        used: 15 << 30,
        total: 16 << 30,
        source: "host",
    });
    let w = explain(&f, now());
    assert_eq!(w[0].key, "ram");
    assert!(
        w[0].text.contains("93.8% used (15.0 of 16.0 GiB, host)"),
        "{}",
        w[0].text
    );
    assert!(w[0].text.contains("gate 85%"), "{}", w[0].text);
}

#[test]
fn a_full_review_backlog_pauses_with_the_count() {
    let mut f = facts(vec![idle("s1")]);
    f.open_reviews = 6;
    f.max_pending = 6;
    let w = explain(&f, now());
    assert_eq!(w[0].text, "paused: 6 branches wait for review");
}

#[test]
fn an_agent_limit_says_until_when() {
    let mut f = facts(vec![idle("s1")]);
    let resume = now() + chrono::Duration::minutes(30);
    f.agent_limit = Some(AgentLimit {
        preset: "claude".into(),
        kind: "usage_limit".into(),
        resume_at: resume,
        resume_source: ResumeSource::Agent,
        message: "limit".into(),
        since: now(),
        strikes: 1,
        session: None,
    });
    let w = explain(&f, now());
    assert_eq!(w[0].key, "agent_limited");
    assert!(w[0].text.contains("until 12:30 UTC"), "{}", w[0].text);
    // An expired limit stops nothing.
    assert!(explain(&f, resume + chrono::Duration::seconds(1)).is_empty());
}

#[test]
fn a_blocked_session_is_named_in_its_own_words_and_gets_no_grant() {
    let mut s2 = idle("s2");
    s2.blocked = Some("cargo check fails on main: error[E0425]".into());
    let f = facts(vec![idle("s1"), s2]);
    let w = explain(&f, now());
    assert_eq!(keys(&f), ["blocked"]);
    assert_eq!(
        w[0].text,
        "s2 blocked: cargo check fails on main: error[E0425]"
    );
}

#[test]
fn all_sessions_failing_the_same_way_is_one_line() {
    let mut a = idle("s1");
    let mut b = idle("s2");
    let why = "the shell did not find the command; check [agent] command";
    a.last = Some(("agent_failed".into(), why.into()));
    b.last = Some(("agent_failed".into(), why.into()));
    let f = facts(vec![a.clone(), b.clone()]);
    let w = explain(&f, now());
    assert_eq!(w[0].text, format!("all 2 sessions fail: {why}"));
    // One that worked: no such line.
    b.last = Some(("kept".into(), "fixed".into()));
    assert!(explain(&facts(vec![a, b]), now()).is_empty());
}

#[test]
fn no_task_without_self_plan() {
    let mut f = facts(vec![idle("s1")]);
    f.self_plan = false;
    assert_eq!(keys(&f), ["no_task"]);
    f.ready_tasks = 1;
    assert!(keys(&f).is_empty());
}

#[test]
fn stopped_is_not_dead() {
    let mut c = Control::default();
    assert_eq!(shown_state(&c, false, now()), "stopped", "never started");
    c.state = WorkerState::Stopped;
    assert_eq!(shown_state(&c, false, now()), "stopped", "brl down");
    c.state = WorkerState::Cycle;
    assert_eq!(shown_state(&c, false, now()), "dead", "died in a cycle");
    c.state = WorkerState::Waiting;
    assert_eq!(shown_state(&c, false, now()), "dead");
}

#[test]
fn no_change_is_counted_apart_from_discards() {
    use crate::store::log::Entry;
    let e = |o: &str| Entry::new("ralph_cycle", Some("s1"), serde_json::json!({"outcome": o}));
    let c = outcome_counts(&[
        e("kept"),
        e("no_change"),
        e("no_change"),
        e("discarded"),
        e("agent_failed"),
    ]);
    assert_eq!(
        c,
        OutcomeCounts {
            kept: 1,
            discarded: 1,
            no_change: 2,
            other: 1
        }
    );
}
