use super::*;

fn entry(kind: &str, session: Option<&str>, data: Value) -> Entry {
    Entry {
        ts: "2026-11-21T01:02:03.456Z".parse().expect("ts"),
        kind: kind.into(),
        session: session.map(String::from),
        data,
    }
}

fn at(ts: &str, kind: &str) -> Entry {
    Entry {
        ts: ts.parse().expect("ts"),
        kind: kind.into(),
        session: None,
        data: json!({"pid": 42}),
    }
}

fn text(kind: &str, session: Option<&str>, data: Value) -> String {
    from_entry(&entry(kind, session, data), "/h")
        .expect("an event")
        .text
}

#[test]
fn a_kept_cycle_says_branch_counts_and_subject() {
    let e = entry(
        "ralph_cycle",
        Some("s1"),
        json!({"outcome": "kept", "branch": "brl/s1/20261121-010203", "subject": "Fix the date parser",
               "before": {"errors": 12, "failures": 2, "passed": 40},
               "after": {"errors": 11, "failures": 2, "passed": null},
               "cost_usd": 0.0412, "task": "Add tests", "agent": {"huge": "stuff"}}),
    );
    let ev = from_entry(&e, "/h").expect("kept is notified");
    assert_eq!(ev.event, "kept");
    assert_eq!(ev.session.as_deref(), Some("s1"));
    assert_eq!(ev.ts, e.ts);
    assert_eq!(
        ev.text,
        "s1 kept brl/s1/20261121-010203, waiting for review: \"Fix the date parser\"\n\
         errors 12 → 11 · failures 2 → 2 · passed 40 → ? · $0.04 · task \"Add tests\""
    );
    assert_eq!(ev.data["branch"], "brl/s1/20261121-010203");
    assert!(
        ev.data.get("agent").is_none(),
        "the agent's details stay in the log"
    );
    let json = serde_json::to_value(&ev).expect("json");
    assert_eq!(json["event"], "kept");
    assert_eq!(json["ts"], "2026-11-21T01:02:03.456Z");
    assert_eq!(json["home"], "/h");
}

#[test]
fn other_outcomes_and_own_entries_are_not_notified() {
    for outcome in ["discarded", "no_change", "timeout", "error"] {
        let e = entry("ralph_cycle", Some("s1"), json!({ "outcome": outcome }));
        assert_eq!(from_entry(&e, "/h"), None, "{outcome}");
    }
    for kind in [
        "notify_failed",
        "control_started",
        "control_stopped",
        "gate_block",
        "x",
    ] {
        assert_eq!(
            from_entry(&entry(kind, None, json!({})), "/h"),
            None,
            "{kind}"
        );
    }
}

#[test]
fn review_decisions_say_what_happened() {
    let d = |v: Value| text("review_decision", Some("s1"), v);
    assert_eq!(
        d(
            json!({"decision": "approve", "result": "fast_forward", "by": "cli", "branch": "brl/s1/a"})
        ),
        "brl/s1/a approved by cli: merged (fast-forward)"
    );
    assert_eq!(
        d(
            json!({"decision": "approve", "result": "merge_commit", "merged_as": "0123456789ab", "by": "http", "branch": "b"})
        ),
        "b approved by http: merged (merge commit 0123456)"
    );
    assert!(
        d(json!({"decision": "approve", "result": "conflict", "conflict_files": ["a.rs", "b.rs"], "by": "cli", "branch": "b"}))
            .contains("conflict in a.rs, b.rs: nothing merged")
    );
    assert_eq!(
        d(
            json!({"decision": "approve", "result": "refused", "reason": "dirty tree", "by": "cli", "branch": "b"})
        ),
        "approving b (cli) was refused: dirty tree"
    );
    assert_eq!(
        d(
            json!({"decision": "reject", "result": "deleted", "reason": "too broad", "by": "cli", "branch": "b"})
        ),
        "b rejected by cli: too broad"
    );
}

#[test]
fn budget_worker_and_meeting() {
    let t = text(
        "budget_reached",
        None,
        json!({"reason": "budget", "limit": "daily_usd", "cost_usd": 5.0213, "cycles": 40, "daily_usd": 5.0, "max_cycles_per_day": null}),
    );
    assert!(
        t.starts_with(
            "budget reached: today's agent cost $5.02 reached [budget] daily_usd = $5.00;"
        ),
        "{t}"
    );
    let t = text(
        "budget_reached",
        None,
        json!({"reason": "max_cycles_per_day", "cycles": 40, "max_cycles_per_day": 40}),
    );
    assert!(
        t.contains("40 cycles today reached [budget] max_cycles_per_day = 40"),
        "{t}"
    );

    let e = from_entry(
        &entry(
            "worker_respawned",
            Some("s2"),
            json!({"pane": "%3", "exit_status": 137, "respawns_in_a_row": 3}),
        ),
        "/h",
    )
    .expect("event");
    assert_eq!(e.event, "worker_died");
    assert_eq!(
        e.text,
        "worker of s2 died (exit status 137), respawned (3 times in a row)"
    );
    assert_eq!(
        text(
            "worker_respawned",
            Some("s1"),
            json!({"exit_status": null, "respawns_in_a_row": 1})
        ),
        "worker of s1 died (exit status unknown), respawned"
    );

    let summary = "Sessions fixed 3 bugs.\n\n s2 is stuck on the parser.\nNext: tests.\nMore.";
    let e = from_entry(
        &entry(
            "team_standup",
            None,
            json!({"file": "logs/meetings/x.md", "summary": summary}),
        ),
        "/h",
    )
    .expect("event");
    assert_eq!(e.event, "meeting");
    assert_eq!(
        e.text,
        "standup summary:\nSessions fixed 3 bugs.\ns2 is stuck on the parser.\nNext: tests.\n…\n(full text: logs/meetings/x.md)"
    );
}

#[test]
fn the_doctor_notifies_only_sessions_that_are_not_productive() {
    let data = json!({
        "sessions": {
            "s1": {"class": "productive", "evidence": ["2 of the last 3 cycles kept"], "advice": "long"},
            "s10": {"class": "stuck", "evidence": ["4 cycles, none kept (4 discarded)", "last: …"]},
            "s2": {"class": "error_looping", "evidence": ["same error in the last 3 cycles: the agent timed out", "cycles (all timeout): a, b, c"]},
            "s3": {"class": "idle", "evidence": ["no cycles in the window and no grant (worker waiting)"]},
        },
        "summary": "s2 error_looping: same error in the last 3 cycles: the agent timed out",
        "skills_written": [],
    });
    let e = from_entry(&entry("doctor_analysis", None, data), "/h").expect("event");
    assert_eq!(e.event, "doctor");
    assert_eq!(
        e.text,
        "doctor: s2 error_looping (same error in the last 3 cycles: the agent timed out), s3 idle, s10 stuck (4 cycles, none kept (4 discarded))"
    );
    assert_eq!(e.data["sessions"]["s1"]["class"], "productive");
    assert!(
        e.data["sessions"]["s1"].get("advice").is_none(),
        "{}",
        e.data
    );
    assert!(
        e.data["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("s2 error_looping"))
    );

    let healthy =
        json!({"sessions": {"s1": {"class": "productive", "evidence": []}}, "summary": ""});
    assert!(from_entry(&entry("doctor_analysis", None, healthy), "/h").is_none());
    let failed = json!({"error": "the doctor job ran out of its time", "ok": false});
    assert!(from_entry(&entry("doctor_analysis", None, failed), "/h").is_none());
}

#[test]
fn an_unclean_stop_is_a_start_without_a_later_stop() {
    let now: DateTime<Utc> = "2026-11-21T10:00:00Z".parse().expect("ts");
    let starts = [
        at("2026-11-21T01:00:00Z", "control_started"),
        at("2026-11-21T05:00:00Z", "control_started"),
    ];
    let stop_before = at("2026-11-21T04:00:00Z", "control_stopped");
    let stop_after = at("2026-11-21T06:00:00Z", "control_stopped");
    assert_eq!(
        unclean_start(&starts, Some(&stop_before), now),
        Some(&starts[1])
    );
    assert_eq!(unclean_start(&starts, None, now), Some(&starts[1]));
    assert_eq!(unclean_start(&starts, Some(&stop_after), now), None);
    assert_eq!(unclean_start(&[], None, now), None, "the first start ever");
    // This control room's own start (at or after `now`) is not the previous one.
    let ours = [
        at("2026-11-21T05:00:00Z", "control_started"),
        at("2026-11-21T10:00:00Z", "control_started"),
    ];
    assert_eq!(unclean_start(&ours, Some(&stop_after), now), None);
    assert_eq!(unclean_start(&ours[1..], None, now), None);

    let last = "2026-11-21T09:12:05Z".parse().ok();
    let e = crash_event(&starts[1], last, now, "/h");
    assert_eq!(e.event, "control_room_crashed");
    assert!(
        e.text.starts_with("the control room stopped without a clean shutdown (crash, kill -9, reboot) at about 2026-11-21 09:12:05 UTC"),
        "{}",
        e.text
    );
    assert!(
        e.text.contains("restarted 2026-11-21 10:00:00 UTC") && e.text.contains("pid 42"),
        "{}",
        e.text
    );
}

#[test]
fn a_blocked_session_is_notified_with_its_reason() {
    let e = entry(
        "session_blocked",
        Some("s2"),
        json!({"reason": "cannot make the worktree /h/worktrees/s2 ready: permission denied"}),
    );
    let ev = from_entry(&e, "/h").expect("a blocked session is notified");
    assert_eq!(ev.event, "session_blocked");
    assert_eq!(ev.session.as_deref(), Some("s2"));
    assert!(
        ev.text.contains("s2 is BLOCKED") && ev.text.contains("permission denied"),
        "{}",
        ev.text
    );
    assert!(from_entry(&entry("session_unblocked", Some("s2"), json!({})), "/h").is_none());
}

#[test]
fn an_agent_limit_says_which_agent_and_until_when() {
    let t = text(
        "agent_limited",
        Some("s1"),
        json!({"preset": "claude", "kind": "usage_limit", "resume_at": "2026-11-21T23:03:00Z",
               "resume_source": "agent", "message": "Claude AI usage limit reached|1764370980"}),
    );
    assert!(t.starts_with("agent claude hit a usage limit"), "{t}");
    assert!(t.contains("until 2026-11-21T23:03:00Z"), "{t}");
    assert!(t.contains("usage limit reached"), "{t}");
    let t = text(
        "agent_limited",
        None,
        json!({"preset": "codex", "kind": "rate_limit", "resume_at": "2026-11-21T01:03:03Z",
               "resume_source": "backoff", "message": "429"}),
    );
    assert!(t.contains("backs off"), "{t}");
}

#[test]
fn a_host_going_down_and_coming_back_is_said() {
    let t = text(
        "host_unreachable",
        None,
        json!({"host": "box1", "error": "host `box1` is unreachable (me@box1): Connection refused\n  fix: check"}),
    );
    assert!(
        t.starts_with(
            "host box1 is unreachable: host `box1` is unreachable (me@box1): Connection refused —"
        ),
        "{t}"
    );
    assert!(!t.contains("fix:"), "one line of the error: {t}");
    let t = text(
        "host_reachable",
        None,
        json!({"host": "box1", "down_secs": 3600}),
    );
    assert_eq!(
        t,
        "host box1 is reachable again after 60 min; its results are being collected"
    );
}
