//! Snapshots at 80×24 and 200×60 of the review view a person works in (multi-select, the bulk
//! confirmation, the decided filter, the diff header) and of the log entry and task details.

use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

use crate::config::keys::Action;
use crate::store::log::Entry;
use crate::store::queue::Review;
use crate::tui::app::{App, Overlay, View};
use crate::tui::data::Document;
use crate::tui::fixtures::{busy_home, diff_reader};
use crate::tui::update::{Msg, update};

use super::render;

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 60)];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("a valid time")
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    update(app, Msg::Resize(w, h));
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
    term.draw(|f| render(app, f)).expect("drawn");
    term.backend().to_string()
}

fn snap(name: &str, app: &App) -> Vec<String> {
    SIZES
        .iter()
        .map(|&(w, h)| {
            let mut app = app.clone();
            let s = screen(&mut app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), s);
            s
        })
        .collect()
}

fn act(app: &mut App, a: Action) {
    update(app, Msg::Action(a));
}

fn review_app() -> App {
    let mut app = busy_home(now(), 4, 12, 40);
    app.view = View::Review;
    app
}

#[test]
fn multi_select_marks_rows_and_keeps_verdict_and_subject_visible() {
    let mut app = review_app();
    if let Ok(rows) = &mut app.data.queue {
        for (i, r) in rows.iter_mut().enumerate() {
            r.verdict = Some(["approve", "reject", "unclear"][i % 3].into());
        }
    }
    act(&mut app, Action::ToggleMark);
    act(&mut app, Action::Down);
    act(&mut app, Action::ToggleMark);
    assert_eq!(app.review.marked.len(), 2);
    let screens = snap("review_multi_select", &app);
    for s in &screens {
        assert!(s.contains("verdict"), "the verdict column stays:\n{s}");
        assert!(s.contains("2 marked"), "the marks are counted:\n{s}");
        assert!(s.contains('✓'), "marked rows carry ✓:\n{s}");
    }
    act(&mut app, Action::Approve);
    assert!(matches!(
        app.overlay,
        Some(Overlay::Confirm(
            crate::tui::app::Confirm::ApproveMany { .. }
        ))
    ));
    let screens = snap("review_bulk_confirm", &app);
    assert!(screens[1].contains("Approve 2 branches?"));
}

#[test]
fn decided_filter_shows_who_when_why() {
    let mut app = review_app();
    if let Ok(rows) = &mut app.data.queue {
        for r in rows.iter_mut().filter(|r| !r.entry.status.is_open()) {
            r.entry.decision_reason = Some("it only renames a variable".into());
        }
    }
    let branch = app
        .data
        .queue
        .as_ref()
        .ok()
        .and_then(|q| q.iter().find(|r| !r.entry.status.is_open()))
        .map(|r| r.entry.branch.clone())
        .expect("the fixture has decided entries");
    app.data.log.push(Entry {
        ts: now(),
        kind: "review_decision".into(),
        session: None,
        data: json!({"decision": "reject", "branch": branch, "by": "alice"}),
    });
    while app.review.filter != crate::tui::review_list::ReviewFilter::Decided {
        act(&mut app, Action::FilterType);
    }
    let screens = snap("review_decided", &app);
    assert!(screens[1].contains("alice ·"), "{}", screens[1]);
    assert!(screens[1].contains("it only renames a variable"));
}

#[test]
fn diff_header_shows_commits_reason_figures_and_reasons() {
    let mut app = diff_reader(now());
    let mut entry = app
        .listed_reviews()
        .first()
        .map(|r| r.entry.clone())
        .expect("an open entry");
    entry.review = Some(Review {
        verdict: "approve".into(),
        reasons: "The change is small and the new test covers the discount case.".into(),
        texts: vec![],
        at: now(),
        main: "3f2a1c9".into(),
        truncated: false,
        figures: Some("errors 14 → 9".into()),
    });
    let header = crate::tui::diff_header::lines(
        &entry,
        &[
            "cart: multiply by quantity in total()".into(),
            "tests: cover the quantity".into(),
        ],
        None,
    );
    let Some(r) = app.reader.as_mut() else {
        panic!("the fixture opens a diff")
    };
    let Some(Ok(doc)) = r.doc.take() else {
        panic!("the fixture's diff is loaded")
    };
    let shift = header.len();
    let mut lines = header;
    lines.extend(doc.lines);
    let doc = Document {
        lines,
        files: doc.files.into_iter().map(|(f, i)| (f, i + shift)).collect(),
        ..doc
    };
    let request = r.request;
    update(&mut app, Msg::Doc(request, Ok(doc)));
    if let Some(r) = app.reader.as_mut() {
        r.scroll = 0;
        r.file = 0;
    }
    let screens = snap("review_diff_header", &app);
    for s in &screens {
        assert!(s.contains("cart: multiply by quantity"), "{s}");
        assert!(s.contains("kept because"), "{s}");
        assert!(s.contains("APPROVE"), "{s}");
    }
}

#[test]
fn log_entry_detail_is_whole_and_wrapped() {
    let mut app = busy_home(now(), 3, 2, 20);
    app.view = View::Log;
    let long = "the agent fixed the rounding in the cart's total and then ".repeat(6);
    app.data.log.push(Entry {
        ts: now(),
        kind: "ralph_cycle".into(),
        session: Some("s2".into()),
        data: json!({
            "outcome": "kept", "reason": long, "branch": "brl/s2/20261121-115900",
            "before": {"errors": 14, "failures": 2}, "after": {"errors": 9, "failures": 2},
            "notes": "line one\nline two",
        }),
    });
    act(&mut app, Action::Open);
    let Some(Overlay::Detail(d)) = &app.overlay else {
        panic!("enter opens the entry")
    };
    assert!(d.text.contains(long.trim_end()), "the reason is whole");
    let screens = snap("log_entry_detail", &app);
    assert!(screens[1].contains("line two"));
    assert!(screens[0].contains("lines 1–"), "80×24 shows where it is");
    act(&mut app, Action::Back);
    assert!(app.overlay.is_none());
}

#[test]
fn task_detail_shows_body_and_history() {
    let mut app = busy_home(now(), 3, 2, 20);
    app.view = View::Tasks;
    let id = app.listed_tasks().first().map(|t| t.id).expect("a task");
    app.data.log.push(Entry {
        ts: now(),
        kind: "ralph_cycle".into(),
        session: Some("s1".into()),
        data: json!({"outcome": "discarded", "reason": "failures 2 → 3", "task_id": id}),
    });
    act(&mut app, Action::Open);
    let Some(Overlay::Detail(d)) = &app.overlay else {
        panic!("enter opens the task")
    };
    assert!(d.text.contains("history"));
    assert!(d.text.contains("failures 2 → 3"), "{}", d.text);
    snap("task_detail", &app);
}

fn job(name: &str, step: &str, minutes_ago: i64) -> crate::jobs::progress::Progress {
    crate::jobs::progress::Progress {
        job: name.into(),
        pid: 4343,
        started: now() - chrono::Duration::minutes(minutes_ago),
        updated: now(),
        step: step.into(),
        done: None,
    }
}

#[test]
fn a_running_standup_shows_its_progress_then_its_result_then_nothing() {
    use crate::tui::data::JobRow;
    use crate::tui::update::Part;
    let mut app = busy_home(now(), 4, 6, 20);
    app.message = Some(crate::tui::app::Message {
        level: crate::tui::app::Level::Ok,
        text: "standup started (pid 4343); the header shows its progress".into(),
    });
    update(
        &mut app,
        Msg::Part(Part::Jobs(vec![JobRow {
            progress: job(
                "standup",
                "round 2 of 3 · s2 speaks · 20261121-115000-standup.md",
                3,
            ),
            alive: true,
        }])),
    );
    let screens = snap("standup_running", &app);
    assert!(
        screens[0].contains("standup: round 2 of 3"),
        "{}",
        screens[0]
    );
    assert!(
        screens[1].contains("standup running 3m: round 2 of 3 · s2 speaks"),
        "{}",
        screens[1]
    );
    assert!(
        app.message.is_some(),
        "still running: the started message stays"
    );

    let mut done = job("standup", "round 3 of 3 · s4 speaks", 6);
    done.done = Some(crate::jobs::progress::Done {
        at: now(),
        ok: true,
        summary: "4 spoke · 2 tasks added".into(),
        transcript: Some("/h/logs/meetings/20261121-115000-standup.md".into()),
    });
    update(
        &mut app,
        Msg::Part(Part::Jobs(vec![JobRow {
            progress: done,
            alive: false,
        }])),
    );
    assert!(app.message.is_none(), "the started message clears itself");
    let s = screen(&mut app.clone(), 200, 60);
    assert!(
        s.contains("standup done: 4 spoke · 2 tasks added · transcript in Meetings"),
        "{s}"
    );
    // The result wakes the loop when it expires, and is gone after.
    app.next_age_change.set(None);
    screen(&mut app, 200, 60);
    let expiry = now() + chrono::Duration::minutes(super::header_jobs::RESULT_SHOWN_MINUTES);
    assert!(app.next_age_change.get().is_some_and(|t| t <= expiry));
    update(&mut app, Msg::Tick(expiry));
    let s = screen(&mut app, 200, 60);
    assert!(!s.contains("standup done"), "{s}");
}

#[test]
fn a_job_whose_process_died_says_so() {
    use crate::tui::data::JobRow;
    use crate::tui::update::Part;
    let mut app = busy_home(now(), 2, 2, 5);
    update(
        &mut app,
        Msg::Part(Part::Jobs(vec![JobRow {
            progress: job("review", "branch 2 of 5: brl/s1/a", 2),
            alive: false,
        }])),
    );
    let s = screen(&mut app, 200, 60);
    assert!(
        s.contains("review ended without a result (pid 4343 gone, at branch 2 of 5"),
        "{s}"
    );
}
