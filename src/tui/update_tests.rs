//! `update` for every action: state × message → state + effects, no IO.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

use crate::config::keys::{Action, Key, KeyCode, Keymap};
use crate::outcome::Counts;
use crate::store::log::Entry;
use crate::store::queue::{QueueEntry, Status};
use crate::store::tasks::{Task, TaskState, Tier};

use super::app::{App, Confirm, FormKind, Level, Overlay, ReaderKind, View};
use super::data::{Data, Document, Meeting, ReviewRow, SessionRow, SessionState};
use super::update::{Effect, Msg, Part, update};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

fn review(branch: &str, status: Status) -> ReviewRow {
    ReviewRow {
        entry: QueueEntry {
            branch: branch.into(),
            session: "s1".into(),
            status,
            created: now(),
            before: Counts::default(),
            after: Counts::default(),
            reason: "errors 2 → 1".into(),
            base: "a".into(),
            head: "b".into(),
            commits: 1,
            subject: "fix".into(),
            decided: None,
            decision_reason: None,
            merged_as: None,
            conflict_files: vec![],
            review: None,
            cycle_id: None,
            group: None,
            twin_of: None,
            superseded_by: None,
            fix: None,
        },
        diff: Ok((1, 2, 3)),
        verdict: None,
    }
}

fn task(id: u64, tier: Tier, state: TaskState) -> Task {
    Task {
        id,
        title: format!("task {id}"),
        body: None,
        tier,
        approved: false,
        state,
        source: "cli".into(),
        created: now(),
        updated: now(),
        attempts: 0,
        session: None,
        branch: None,
        for_session: None,
        last_reason: None,
    }
}

fn session(name: &str) -> SessionRow {
    SessionRow {
        name: name.into(),
        host: None,
        state: SessionState::Waiting,
        phase: None,
        since: None,
        branch: None,
        task: None,
        last: None,
        last_figures: None,
        kept_today: 0,
        discarded_today: 0,
        no_change_today: 0,
        health: None,
    }
}

fn app() -> App {
    let data = Data {
        sessions: vec![session("s1"), session("s2")],
        queue: Ok(vec![
            review("brl/s1/1", Status::Pending),
            review("brl/s1/0", Status::Approved),
            review("brl/s2/2", Status::Conflict),
        ]),
        tasks: Ok(vec![
            task(1, Tier::Proposed, TaskState::Pending),
            task(2, Tier::AutoSafe, TaskState::Done),
        ]),
        meetings: Ok(vec![Meeting {
            name: "20261121-090000-standup.md".into(),
            path: "/h/logs/meetings/20261121-090000-standup.md".into(),
            at: None,
            bytes: 10,
        }]),
        ..Data::default()
    };
    let mut a = App::new(Keymap::default(), data, now());
    for i in 0..100 {
        let kind = if i % 2 == 0 {
            "ralph_cycle"
        } else {
            "assignment_skipped"
        };
        let s = if i % 3 == 0 { "s1" } else { "s2" };
        let mut e = Entry::new(kind, Some(s), json!({"n": i}));
        e.ts = now();
        a.data.log.push(e);
    }
    a
}

fn key(c: char) -> Msg {
    Msg::Key(Key::plain(KeyCode::Char(c)))
}

fn act(a: &mut App, action: Action) -> Vec<Effect> {
    update(a, Msg::Action(action))
}

#[test]
fn views_switch_by_number_tab_and_back_tab() {
    let mut a = app();
    for (action, view) in [
        (Action::ViewLog, View::Log),
        (Action::ViewReview, View::Review),
        (Action::ViewTasks, View::Tasks),
        (Action::ViewMeetings, View::Meetings),
        (Action::ViewSessions, View::Sessions),
    ] {
        assert!(act(&mut a, action).is_empty());
        assert_eq!(a.view, view);
    }
    act(&mut a, Action::NextView);
    assert_eq!(a.view, View::Log);
    act(&mut a, Action::PrevView);
    act(&mut a, Action::PrevView);
    assert_eq!(a.view, View::Meetings);
    // Keys go through the keymap.
    update(&mut a, key('3'));
    assert_eq!(a.view, View::Review);
}

#[test]
fn quit_and_help() {
    let mut a = app();
    assert_eq!(act(&mut a, Action::Help), vec![]);
    assert_eq!(a.overlay, Some(Overlay::Help));
    act(&mut a, Action::Help);
    assert_eq!(a.overlay, None);
    assert_eq!(act(&mut a, Action::Quit), vec![Effect::Quit]);
    assert!(a.quit);
}

#[test]
fn approve_asks_then_merges_the_selected_branch() {
    let mut a = app();
    act(&mut a, Action::ViewReview);
    // Only pending and conflict entries are listed.
    assert_eq!(a.open_reviews().len(), 2);
    assert!(act(&mut a, Action::Approve).is_empty());
    assert_eq!(
        a.overlay,
        Some(Overlay::Confirm(Confirm::Approve {
            branch: "brl/s1/1".into()
        }))
    );
    // In a dialog only y/n/esc mean something: `q` does not quit.
    assert!(update(&mut a, key('q')).is_empty());
    assert!(!a.quit);
    let fx = update(&mut a, key('y'));
    assert_eq!(
        fx,
        vec![Effect::Approve {
            branch: "brl/s1/1".into()
        }]
    );
    assert_eq!(a.overlay, None);
    assert_eq!(a.busy, vec!["approving brl/s1/1".to_string()]);
    // The result is shown, never swallowed.
    update(
        &mut a,
        Msg::Done {
            what: "approving brl/s1/1".into(),
            level: Level::Error,
            text: "not merged: brl/s1/1 conflicts with main in a.rs".into(),
        },
    );
    assert!(a.busy.is_empty());
    let m = a.message.clone().expect("message");
    assert_eq!(m.level, Level::Error);
    assert!(m.text.contains("a.rs"));
}

#[test]
fn a_conflict_entry_needs_a_second_confirmation_to_force() {
    let mut a = app();
    act(&mut a, Action::ViewReview);
    act(&mut a, Action::Down);
    act(&mut a, Action::Approve);
    assert_eq!(
        a.overlay,
        Some(Overlay::Confirm(Confirm::Approve {
            branch: "brl/s2/2".into()
        }))
    );
    // The first `y` does not approve: the re-check said conflict, so it asks again, saying why.
    assert!(update(&mut a, key('y')).is_empty());
    match &a.overlay {
        Some(Overlay::Confirm(Confirm::ForceApprove { branch, why })) => {
            assert_eq!(branch, "brl/s2/2");
            assert!(why.starts_with("CONFLICT"), "{why}");
        }
        other => panic!("expected the force dialog, got {other:?}"),
    }
    // `n` leaves it; `a`, `y`, `y` forces it.
    assert!(update(&mut a, key('n')).is_empty());
    assert_eq!(a.overlay, None);
    act(&mut a, Action::Approve);
    update(&mut a, key('y'));
    assert_eq!(
        update(&mut a, key('y')),
        vec![Effect::ApproveForced {
            branch: "brl/s2/2".into()
        }]
    );
}

#[test]
fn cancel_leaves_everything_as_it_was() {
    let mut a = app();
    act(&mut a, Action::ViewReview);
    act(&mut a, Action::Approve);
    assert!(act(&mut a, Action::Cancel).is_empty());
    assert_eq!(a.overlay, None);
    act(&mut a, Action::Approve);
    assert!(update(&mut a, key('n')).is_empty());
    assert_eq!(a.overlay, None);
    assert!(a.busy.is_empty());
}

#[test]
fn reject_takes_an_optional_reason_then_asks() {
    let mut a = app();
    act(&mut a, Action::ViewReview);
    act(&mut a, Action::Down);
    assert_eq!(a.review_sel, 1);
    act(&mut a, Action::Reject);
    assert!(matches!(
        &a.overlay,
        Some(Overlay::Form(f)) if f.kind == FormKind::RejectReason { branch: "brl/s2/2".into() }
    ));
    // Typed letters go into the field, even those bound to actions.
    for c in "too big q".chars() {
        update(&mut a, key(c));
    }
    assert!(!a.quit);
    update(&mut a, Msg::Key(Key::plain(KeyCode::Enter)));
    assert_eq!(
        a.overlay,
        Some(Overlay::Confirm(Confirm::Reject {
            branch: "brl/s2/2".into(),
            reason: Some("too big q".into())
        }))
    );
    assert_eq!(
        act(&mut a, Action::Confirm),
        vec![Effect::Reject {
            branch: "brl/s2/2".into(),
            reason: Some("too big q".into())
        }]
    );
    // An empty reason is no reason.
    act(&mut a, Action::Reject);
    update(&mut a, Msg::Key(Key::plain(KeyCode::Enter)));
    assert!(matches!(
        &a.overlay,
        Some(Overlay::Confirm(Confirm::Reject { reason: None, .. }))
    ));
}

#[test]
fn review_keys_with_an_empty_queue_say_so() {
    let mut a = app();
    a.data.queue = Ok(vec![]);
    act(&mut a, Action::ViewReview);
    assert!(act(&mut a, Action::Approve).is_empty());
    assert_eq!(a.overlay, None);
    assert!(a.message.expect("message").text.contains("empty"));
}

#[test]
fn open_loads_a_diff_and_latest_request_wins() {
    let mut a = app();
    act(&mut a, Action::ViewReview);
    let fx = act(&mut a, Action::Open);
    let Effect::LoadDiff { request, branch } = &fx[0] else {
        panic!("{fx:?}")
    };
    assert_eq!(branch, "brl/s1/1");
    let request = *request;
    // An answer to an older request is ignored.
    update(&mut a, Msg::Doc(request - 1, Err("old".into())));
    assert_eq!(a.reader.as_ref().expect("reader").doc, None);
    let doc = Document {
        title: "brl/s1/1".into(),
        lines: (0..100).map(|i| format!("line {i}")).collect(),
        files: vec![("a.rs".into(), 0), ("b.rs".into(), 50)],
        note: None,
    };
    update(&mut a, Msg::Doc(request, Ok(doc)));
    let r = a.reader.as_ref().expect("reader");
    assert_eq!(r.lines.len(), 100);
    // Files: next and previous.
    act(&mut a, Action::NextFile);
    assert_eq!(a.reader.as_ref().map(|r| (r.file, r.scroll)), Some((1, 50)));
    act(&mut a, Action::PrevFile);
    assert_eq!(a.reader.as_ref().map(|r| (r.file, r.scroll)), Some((0, 0)));
    // Approve from the diff acts on the diffed branch.
    act(&mut a, Action::Approve);
    assert_eq!(
        a.overlay,
        Some(Overlay::Confirm(Confirm::Approve {
            branch: "brl/s1/1".into()
        }))
    );
    act(&mut a, Action::Cancel);
    // Scrolling: down, page, bottom, top.
    act(&mut a, Action::Down);
    act(&mut a, Action::PageDown);
    let rows = a.reader_rows();
    assert_eq!(a.reader.as_ref().map(|r| r.scroll), Some(1 + rows));
    act(&mut a, Action::Bottom);
    assert_eq!(a.reader.as_ref().map(|r| r.scroll), Some(100 - rows));
    act(&mut a, Action::PageUp);
    act(&mut a, Action::Up);
    assert_eq!(
        a.reader.as_ref().map(|r| r.scroll),
        Some(100 - 2 * rows - 1)
    );
    act(&mut a, Action::Top);
    assert_eq!(a.reader.as_ref().map(|r| r.scroll), Some(0));
    // Search in the reader.
    act(&mut a, Action::Search);
    for c in "line 7".chars() {
        update(&mut a, key(c));
    }
    update(&mut a, Msg::Key(Key::plain(KeyCode::Enter)));
    assert_eq!(a.reader.as_ref().map(|r| r.scroll), Some(7));
    act(&mut a, Action::SearchNext);
    assert_eq!(a.reader.as_ref().map(|r| r.scroll), Some(70));
    act(&mut a, Action::SearchPrev);
    assert_eq!(a.reader.as_ref().map(|r| r.scroll), Some(7));
    // Back closes the reader.
    act(&mut a, Action::Back);
    assert!(a.reader.is_none());
}

#[test]
fn session_output_is_watched_and_unwatched_and_attach_names_the_session() {
    let mut a = app();
    act(&mut a, Action::Down);
    let fx = act(&mut a, Action::Open);
    assert!(matches!(&fx[..], [Effect::WatchOutput { session: Some(s), .. }] if s == "s2"));
    assert!(matches!(
        a.reader.as_ref().map(|r| &r.kind),
        Some(ReaderKind::Output { .. })
    ));
    assert_eq!(
        act(&mut a, Action::Attach),
        vec![Effect::Attach {
            session: "s2".into()
        }]
    );
    let fx = act(&mut a, Action::Back);
    assert!(matches!(
        &fx[..],
        [Effect::WatchOutput { session: None, .. }]
    ));
    assert_eq!(
        act(&mut a, Action::Attach),
        vec![Effect::Attach {
            session: "s2".into()
        }]
    );
}

#[test]
fn meetings_open_a_transcript() {
    let mut a = app();
    act(&mut a, Action::ViewMeetings);
    let fx = act(&mut a, Action::Open);
    assert!(
        matches!(&fx[..], [Effect::LoadTranscript { path, .. }] if path.ends_with("20261121-090000-standup.md"))
    );
}

#[test]
fn tasks_new_approve_drop() {
    let mut a = app();
    act(&mut a, Action::ViewTasks);
    // A new task: title, body, tier.
    act(&mut a, Action::NewTask);
    update(&mut a, Msg::Key(Key::plain(KeyCode::Enter)));
    let Some(Overlay::Form(f)) = &a.overlay else {
        panic!("form")
    };
    assert!(f.error.is_some(), "an empty title is refused in the form");
    for c in "Fix the flaky test".chars() {
        update(&mut a, key(c));
    }
    update(&mut a, Msg::Key(Key::plain(KeyCode::Tab)));
    for c in "in ci".chars() {
        update(&mut a, key(c));
    }
    update(&mut a, Msg::Key(Key::plain(KeyCode::Tab)));
    // The form starts on auto_safe, like `brl task add`; space switches it.
    update(&mut a, key(' '));
    let fx = update(&mut a, Msg::Key(Key::plain(KeyCode::Enter)));
    assert_eq!(
        fx,
        vec![Effect::AddTask {
            title: "Fix the flaky test".into(),
            body: Some("in ci".into()),
            tier: Tier::Proposed
        }]
    );
    // Approve the selected (first listed: the pending one).
    assert_eq!(
        act(&mut a, Action::ApproveTask),
        vec![Effect::ApproveTask(1)]
    );
    // Drop asks first.
    assert!(act(&mut a, Action::DropTask).is_empty());
    assert!(matches!(
        a.overlay,
        Some(Overlay::Confirm(Confirm::DropTask { id: 1, .. }))
    ));
    assert_eq!(act(&mut a, Action::Confirm), vec![Effect::DropTask(1)]);
    // Esc in a form cancels it.
    act(&mut a, Action::NewTask);
    update(&mut a, Msg::Key(Key::plain(KeyCode::Esc)));
    assert_eq!(a.overlay, None);
}

#[test]
fn log_scrolling_pauses_following_and_bottom_resumes() {
    let mut a = app();
    a.height = 24;
    act(&mut a, Action::ViewLog);
    assert_eq!(a.log.paused_at, None);
    act(&mut a, Action::Up);
    assert_eq!(a.log.paused_at, Some(98));
    // New entries do not move a paused view.
    update(
        &mut a,
        Msg::Part(Part::Log {
            entries: vec![Entry::new("x", None, json!({}))],
            malformed: 1,
            notices: vec![],
        }),
    );
    assert_eq!(a.log.paused_at, Some(98));
    assert_eq!(a.data.log.malformed, 1);
    act(&mut a, Action::PageUp);
    act(&mut a, Action::Top);
    let rows = a.log_rows() as u64;
    assert_eq!(a.log.paused_at, Some(rows - 1));
    act(&mut a, Action::Down);
    act(&mut a, Action::PageDown);
    assert_eq!(a.log.paused_at, Some(2 * rows));
    act(&mut a, Action::Bottom);
    assert_eq!(a.log.paused_at, None);
}

#[test]
fn log_filters_cycle_and_clear() {
    let mut a = app();
    act(&mut a, Action::ViewLog);
    act(&mut a, Action::FilterType);
    assert_eq!(a.log.kind.as_deref(), Some("assignment_skipped"));
    assert_eq!(a.filtered_log().len(), 50);
    act(&mut a, Action::FilterType);
    assert_eq!(a.log.kind.as_deref(), Some("ralph_cycle"));
    act(&mut a, Action::FilterSession);
    assert_eq!(a.log.session.as_deref(), Some("s1"));
    // Even i divisible by 3: 0, 6, …, 96.
    assert_eq!(a.filtered_log().len(), 17);
    act(&mut a, Action::FilterSession);
    act(&mut a, Action::FilterSession);
    assert_eq!(a.log.session, None);
    act(&mut a, Action::ClearFilter);
    assert_eq!((a.log.kind.clone(), a.log.session.clone()), (None, None));
}

#[test]
fn log_search_jumps_to_matches() {
    let mut a = app();
    a.height = 24;
    act(&mut a, Action::ViewLog);
    act(&mut a, Action::Search);
    for c in "n=5".chars() {
        update(&mut a, key(c));
    }
    update(&mut a, Msg::Key(Key::plain(KeyCode::Enter)));
    // The newest match is 59 (n=59); older ones come with `n`.
    assert_eq!(a.log.search.as_deref(), Some("n=5"));
    let at = a.log.paused_at.expect("paused at a match");
    assert_eq!(at, 59);
    act(&mut a, Action::SearchNext);
    assert_eq!(a.log.paused_at, Some(58));
    act(&mut a, Action::SearchPrev);
    assert_eq!(a.log.paused_at, Some(59));
    // No match says so.
    act(&mut a, Action::Search);
    for c in "zzz".chars() {
        update(&mut a, key(c));
    }
    update(&mut a, Msg::Key(Key::plain(KeyCode::Enter)));
    assert!(
        a.message
            .clone()
            .expect("message")
            .text
            .contains("no match")
    );
}

#[test]
fn movement_in_lists_stays_in_bounds() {
    let mut a = app();
    act(&mut a, Action::Up);
    assert_eq!(a.session_sel, 0);
    act(&mut a, Action::Bottom);
    assert_eq!(a.session_sel, 1);
    act(&mut a, Action::PageDown);
    assert_eq!(a.session_sel, 1);
    act(&mut a, Action::Top);
    assert_eq!(a.session_sel, 0);
    // A list that shrinks keeps the selection on it.
    act(&mut a, Action::Bottom);
    update(&mut a, Msg::Part(Part::Sessions(vec![session("s1")])));
    assert_eq!(a.session_sel, 0);
}

#[test]
fn back_clears_the_message_and_unknown_keys_hint_at_help() {
    let mut a = app();
    update(&mut a, key('Z'));
    assert!(a.message.clone().expect("hint").text.contains('?'));
    act(&mut a, Action::Back);
    assert_eq!(a.message, None);
}

#[test]
fn tick_and_resize_update_the_clock_and_size() {
    let mut a = app();
    let later = now() + chrono::Duration::seconds(5);
    assert!(update(&mut a, Msg::Tick(later)).is_empty());
    assert_eq!(a.now, later);
    update(&mut a, Msg::Resize(160, 48));
    assert_eq!((a.width, a.height), (160, 48));
}

#[test]
fn every_action_is_handled_somewhere() {
    // Each action, in each view, with and without a reader: never a panic.
    for view_action in [
        Action::ViewSessions,
        Action::ViewLog,
        Action::ViewReview,
        Action::ViewTasks,
        Action::ViewMeetings,
    ] {
        for d in crate::config::keys::ACTIONS {
            let mut a = app();
            act(&mut a, view_action);
            let _ = act(&mut a, d.action);
            let mut a = app();
            act(&mut a, view_action);
            act(&mut a, Action::Open);
            let _ = act(&mut a, d.action);
        }
    }
}

#[test]
fn p_pauses_or_resumes_the_selected_session_and_shift_p_the_fleet() {
    use crate::control::ops::Op;
    let mut a = app();
    act(&mut a, Action::Down);
    assert_eq!(
        act(&mut a, Action::PauseSession),
        vec![Effect::Session {
            op: Op::Pause,
            session: Some("s2".into())
        }]
    );
    a.data.sessions[1].state = SessionState::Paused("cli".into());
    assert_eq!(
        act(&mut a, Action::PauseSession),
        vec![Effect::Session {
            op: Op::Resume,
            session: Some("s2".into())
        }]
    );
    assert_eq!(
        act(&mut a, Action::PauseFleet),
        vec![Effect::Session {
            op: Op::Pause,
            session: None
        }]
    );
    update(&mut a, Msg::Part(Part::Fleet(Some("http".into()))));
    assert_eq!(
        act(&mut a, Action::PauseFleet),
        vec![Effect::Session {
            op: Op::Resume,
            session: None
        }]
    );
}

#[test]
fn x_and_shift_x_ask_before_restarting_or_stopping_the_selected_session() {
    use crate::control::ops::Op;
    let mut a = app();
    assert!(act(&mut a, Action::StopCycle).is_empty());
    assert_eq!(
        a.overlay,
        Some(Overlay::Confirm(Confirm::Session {
            op: Op::Stop,
            session: "s1".into()
        }))
    );
    assert_eq!(
        act(&mut a, Action::Confirm),
        vec![Effect::Session {
            op: Op::Stop,
            session: Some("s1".into())
        }]
    );
    assert!(act(&mut a, Action::RestartSession).is_empty());
    assert!(act(&mut a, Action::Cancel).is_empty());
    assert_eq!(a.overlay, None);
}
