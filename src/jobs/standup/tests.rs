use chrono::TimeZone;
use serde_json::json;

use super::record::{BranchInfo, Record, cycle_line, figures, record_text};
use super::transcript::{Commitment, Meeting, bounded, parse_commitment, render, round_text};
use super::*;
use crate::store::log::Entry;
use crate::tmux::pane_log::clean_terminal;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, h, m, 0)
        .single()
        .expect("a valid time")
}

fn cycle(ts: DateTime<Utc>, data: Value) -> Entry {
    let mut e = Entry::new("ralph_cycle", Some("s1"), data);
    e.ts = ts;
    e
}

#[test]
fn commitments_are_parsed_case_insensitively_first_of_each() {
    let c = parse_commitment(
        "Some words.\ntask: Add tests for the parser\nPROPOSAL: run the linter\nTASK: a second one\n",
    );
    assert_eq!(
        c,
        Commitment {
            task: Some("Add tests for the parser".into()),
            proposal: Some("run the linter".into()),
        }
    );
    let c = parse_commitment("- **Task:** Fix the date bug **\n> **Proposal**: smaller commits");
    assert_eq!(c.task.as_deref(), Some("Fix the date bug"));
    assert_eq!(c.proposal.as_deref(), Some("smaller commits"));
    // Empty values, other words that start alike and missing lines are not guessed.
    let c = parse_commitment("TASK:   \nTasks: many\nMy task: x\nPROPOSALS: y");
    assert_eq!(c, Commitment::default());
    let c = parse_commitment("TASK: keep `__init__` intact");
    assert_eq!(c.task.as_deref(), Some("keep `__init__` intact"));
}

#[test]
fn figures_show_before_and_after() {
    let before = json!({"errors": 2, "failures": 1, "passed": null});
    let after = json!({"errors": 1, "failures": 1, "passed": null});
    assert_eq!(
        figures(&before, &after).as_deref(),
        Some("type errors 2→1, failing tests 1→1")
    );
    assert_eq!(
        figures(&json!({"errors": 3}), &Value::Null).as_deref(),
        Some("type errors 3→?")
    );
    assert_eq!(figures(&Value::Null, &Value::Null), None);
}

#[test]
fn a_cycle_line_holds_time_outcome_branch_reason_figures_and_task() {
    let e = cycle(
        at(8, 1),
        json!({"outcome": "kept", "branch": "brl/s1/20261121-080100", "reason": "errors went\ndown",
               "before": {"errors": 2}, "after": {"errors": 1},
               "subject": "fix one error", "task": "Fix f1"}),
    );
    assert_eq!(
        cycle_line(&e),
        "- 2026-11-21 08:01:00 UTC kept brl/s1/20261121-080100: errors went down; \
         type errors 2→1; commit \"fix one error\"; task \"Fix f1\""
    );
    let bare = cycle(at(8, 2), json!({}));
    assert_eq!(cycle_line(&bare), "- 2026-11-21 08:02:00 UTC (no outcome)");
}

#[test]
fn the_record_says_plainly_when_there_is_nothing() {
    let r = Record {
        pane: "(no pane output: x does not exist)".into(),
        ..Record::default()
    };
    let text = record_text(at(7, 0), &r);
    assert!(
        text.contains("No cycles since 2026-11-21 07:00:00 UTC."),
        "{text}"
    );
    assert!(
        text.contains("No branches in the review queue since"),
        "{text}"
    );
    assert!(
        text.contains("(no pane output: x does not exist)"),
        "{text}"
    );
}

#[test]
fn the_record_lists_cycles_branches_commits_and_pane() {
    let r = Record {
        cycles: vec![
            cycle(
                at(8, 0),
                json!({"outcome": "kept", "branch": "brl/s1/a", "reason": "better"}),
            ),
            cycle(
                at(8, 30),
                json!({"outcome": "discarded", "branch": "brl/s1/b", "reason": "worse"}),
            ),
            cycle(
                at(9, 0),
                json!({"outcome": "kept", "branch": "brl/s1/c", "reason": "better"}),
            ),
        ],
        branches: vec![
            BranchInfo {
                branch: "brl/s1/a".into(),
                status: "pending".into(),
                subject: "fix a".into(),
                commits: Ok(vec!["fix a".into(), "prepare a".into()]),
            },
            BranchInfo {
                branch: "brl/s1/c".into(),
                status: "approved".into(),
                subject: "fix c".into(),
                commits: Err("the branch no longer exists (merged or deleted)".into()),
            },
        ],
        pane: "last words\n".into(),
    };
    let text = record_text(at(7, 0), &r);
    assert!(text.contains("3 cycles (2 kept, 1 discarded)"), "{text}");
    assert!(text.contains("discarded brl/s1/b: worse"), "{text}");
    assert!(
        text.contains("- brl/s1/a (pending): \"fix a\"\n  - commit: fix a\n  - commit: prepare a"),
        "{text}"
    );
    assert!(
        text.contains("brl/s1/c (approved)") && text.contains("no longer exists"),
        "{text}"
    );
    assert!(
        text.ends_with("### The end of your pane output\nlast words\n"),
        "{text}"
    );
}

#[test]
fn terminal_output_is_cleaned() {
    let raw = "\n\x1b[31mred\x1b[0m text\r\nprogress 10%\rprogress 100%\n\tindented  \n\n";
    assert_eq!(
        clean_terminal(raw),
        "red text\nprogress 100%\n    indented\n"
    );
    assert_eq!(clean_terminal("\x1b[2J\n\r\n"), "");
}

#[test]
fn the_pane_tail_is_bounded_and_starts_at_a_whole_line() {
    let d = tempfile::tempdir().expect("tempdir");
    let home = Home::new(d.path());
    assert!(record::pane_tail(&home, "s1", 100).contains("does not exist"));
    let dir = home.session_logs_dir("s1");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("pane.log.1"), "old line one\nold line two\n").expect("write");
    std::fs::write(dir.join("pane.log"), "\x1b[1mnew\x1b[0m line\n").expect("write");
    // Short current file: the rotated one's end comes first, from a whole line on.
    assert_eq!(record::pane_tail(&home, "s1", 25), "new line\n");
    assert_eq!(
        record::pane_tail(&home, "s1", 30),
        "old line two\nnew line\n"
    );
    assert_eq!(
        record::pane_tail(&home, "s1", 1000),
        "old line one\nold line two\nnew line\n"
    );
}

fn meeting() -> Meeting {
    let mut m = Meeting::new(at(9, 0), at(7, 0), "the last standup");
    m.participants = vec!["s1".into(), "s2".into()];
    m.calls = 3;
    m.cost_usd = 0.012_34;
    m
}

#[test]
fn the_transcript_has_a_header_rounds_and_summary() {
    let mut m = meeting();
    for (i, round) in m.rounds.iter_mut().enumerate() {
        round.push(("s1".into(), format!("s1 in round {}", i + 1)));
        round.push(("s2".into(), format!("s2 in round {}", i + 1)));
    }
    m.tasks.push("s1: proposed task #1 \"x\" added".into());
    m.summary = Some("Priorities: x.".into());
    m.finished = true;
    let t = render(&m);
    assert!(
        t.starts_with("# Standup — 2026-11-21 09:00:00 UTC\n"),
        "{t}"
    );
    assert!(t.contains("- Participants: s1, s2\n"), "{t}");
    assert!(
        t.contains("since 2026-11-21 07:00:00 UTC (the last standup)"),
        "{t}"
    );
    assert!(
        t.contains("- Agent calls: 3; cost so far: $0.0123\n"),
        "{t}"
    );
    assert!(t.contains("- Status: finished\n"), "{t}");
    let r1 = t
        .find("## Round 1 — reports\n\n### s1\n\ns1 in round 1\n\n### s2\n")
        .expect("round 1");
    let r2 = t.find("## Round 2 — responses").expect("round 2");
    let r3 = t.find("## Round 3 — commitments").expect("round 3");
    let tasks = t
        .find("## Tasks from round 3\n\n- s1: proposed task #1")
        .expect("tasks");
    let sum = t.find("## Summary\n\nPriorities: x.\n").expect("summary");
    assert!(r1 < r2 && r2 < r3 && r3 < tasks && tasks < sum, "{t}");
    assert!(!t.contains("## Error"), "{t}");
}

#[test]
fn a_stopped_meeting_keeps_what_was_said_and_the_error() {
    let mut m = meeting();
    m.note = Some("no session's worker was alive".into());
    m.rounds[0].push(("s1".into(), "my report".into()));
    m.rounds[0].push(("s2".into(), "   ".into()));
    m.error = Some("the agent as `standup-respond` for s1 ended with exit code 1".into());
    let t = render(&m);
    assert!(t.contains("- Note: no session's worker was alive\n"), "{t}");
    assert!(
        t.contains("my report") && t.contains("### s2\n\n(said nothing)"),
        "{t}"
    );
    assert!(t.contains("## Round 2 — responses\n\n(not held"), "{t}");
    assert!(t.contains("stopped by an error"), "{t}");
    assert!(
        t.ends_with("## Error\n\nthe agent as `standup-respond` for s1 ended with exit code 1\n"),
        "{t}"
    );
    // In progress: rounds to come are "not yet".
    m.error = None;
    assert!(render(&m).contains("## Summary\n\n(not yet)"));
}

#[test]
fn rounds_in_prompts_are_bounded() {
    let said = vec![
        ("s1".to_string(), "é".repeat(10)),
        ("s2".to_string(), "ok".into()),
    ];
    let text = round_text(&said, 5);
    assert!(text.starts_with("### s1\néé\n(cut at 5 bytes)\n"), "{text}");
    assert!(text.contains("### s2\nok\n"), "{text}");
    assert_eq!(round_text(&[], 5), "(nobody spoke)");
    assert_eq!(bounded("short", 10), "short");
}

#[test]
fn speakers_are_named_with_the_note() {
    let mut m = meeting();
    m.participants.push("s3".into());
    assert_eq!(who_text(&m), "s1, s2 and s3");
    m.participants.truncate(1);
    m.note = Some("why".into());
    assert_eq!(who_text(&m), "s1 (why)");
}

#[test]
fn transcript_names_do_not_overwrite() {
    let d = tempfile::tempdir().expect("tempdir");
    let first = transcript_path(d.path(), at(9, 0));
    assert!(first.ends_with("20261121-090000-standup.md"));
    std::fs::write(&first, "x").expect("write");
    assert!(transcript_path(d.path(), at(9, 0)).ends_with("20261121-090000-standup_2.md"));
}
