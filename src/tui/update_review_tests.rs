//! `update` for the review, log and task keys a person works with: keys pressed as keys
//! (space, a, r, y, f, s, o, c, R, enter), state × message → state + effects, no IO.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

use crate::config::keys::{Key, KeyCode, Keymap};
use crate::outcome::Counts;
use crate::store::log::Entry;
use crate::store::queue::{QueueEntry, Status};
use crate::store::tasks::{Task, TaskState, Tier};

use super::app::{App, Confirm, FormKind, Overlay, View};
use super::data::{Data, ReviewRow};
use super::review_list::{ReviewFilter, ReviewSort};
use super::update::{Effect, Msg, update};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("a valid time")
}

fn review(
    branch: &str,
    session: &str,
    status: Status,
    minutes: i64,
    verdict: Option<&str>,
) -> ReviewRow {
    ReviewRow {
        entry: QueueEntry {
            branch: branch.into(),
            session: session.into(),
            status,
            created: now() - chrono::Duration::minutes(minutes),
            before: Counts::default(),
            after: Counts::default(),
            reason: "errors 2 → 1".into(),
            base: "a".into(),
            head: "b".into(),
            commits: 1,
            subject: "fix".into(),
            decided: (!status.is_open()).then(now),
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
        verdict: verdict.map(str::to_string),
    }
}

fn task(id: u64, state: TaskState) -> Task {
    Task {
        id,
        title: format!("task {id}"),
        body: Some("the body\nsecond line".into()),
        tier: Tier::AutoSafe,
        approved: false,
        state,
        source: "cli".into(),
        created: now(),
        updated: now(),
        attempts: 3,
        session: None,
        for_session: None,
        branch: None,
        last_reason: Some("no gain".into()),
    }
}

fn app() -> App {
    let data = Data {
        queue: Ok(vec![
            review("brl/s1/a", "s1", Status::Pending, 50, Some("approve")),
            review("brl/s2/b", "s2", Status::Pending, 40, Some("reject")),
            review("brl/s1/c", "s1", Status::Conflict, 30, None),
            review("brl/s2/d", "s2", Status::Pending, 20, Some("approve")),
            review("brl/s1/old", "s1", Status::Rejected, 90, None),
        ]),
        tasks: Ok(vec![
            task(1, TaskState::Failed),
            task(2, TaskState::Pending),
        ]),
        ..Data::default()
    };
    let mut a = App::new(Keymap::default(), data, now());
    a.view = View::Review;
    a
}

fn press(a: &mut App, c: char) -> Vec<Effect> {
    update(a, Msg::Key(Key::plain(KeyCode::Char(c))))
}

fn enter(a: &mut App) -> Vec<Effect> {
    update(a, Msg::Key(Key::plain(KeyCode::Enter)))
}

fn listed(a: &App) -> Vec<String> {
    a.listed_reviews()
        .iter()
        .map(|r| r.entry.branch.clone())
        .collect()
}

#[test]
fn space_marks_and_moves_then_a_approves_the_marked_through_the_train() {
    let mut a = app();
    press(&mut a, ' ');
    press(&mut a, ' ');
    assert_eq!(a.review_sel, 2, "space moves to the next row");
    a.review_sel = 3;
    press(&mut a, ' ');
    assert_eq!(a.review.marked.len(), 3);
    // Unmark the second again.
    a.review_sel = 1;
    press(&mut a, ' ');
    assert_eq!(a.review.marked.len(), 2);
    assert!(press(&mut a, 'a').is_empty(), "asks first");
    let Some(Overlay::Confirm(Confirm::ApproveMany {
        branches,
        force_why,
    })) = &a.overlay
    else {
        panic!("a bulk confirmation, got {:?}", a.overlay)
    };
    assert_eq!(branches, &["brl/s1/a".to_string(), "brl/s2/d".to_string()]);
    assert!(force_why.is_none());
    let fx = press(&mut a, 'y');
    assert_eq!(
        fx,
        vec![Effect::ApproveMany {
            branches: vec!["brl/s1/a".into(), "brl/s2/d".into()],
            force: false
        }]
    );
    assert!(a.review.marked.is_empty(), "marks go once acted on");
    assert!(a.busy.iter().any(|b| b == "approving 2 branches"));
}

#[test]
fn a_marked_conflict_needs_the_forcing_confirmation() {
    let mut a = app();
    a.review_sel = 2; // brl/s1/c, conflict
    press(&mut a, ' ');
    a.review_sel = 0;
    press(&mut a, ' ');
    press(&mut a, 'a');
    assert!(press(&mut a, 'y').is_empty(), "a second confirmation first");
    let Some(Overlay::Confirm(Confirm::ApproveMany {
        force_why: Some(why),
        ..
    })) = &a.overlay
    else {
        panic!("the forcing confirmation, got {:?}", a.overlay)
    };
    assert!(why.contains("brl/s1/c: CONFLICT"), "{why}");
    let fx = press(&mut a, 'y');
    assert_eq!(
        fx,
        vec![Effect::ApproveMany {
            branches: vec!["brl/s1/a".into(), "brl/s1/c".into()],
            force: true
        }]
    );
}

#[test]
fn r_with_marks_rejects_them_all_with_one_reason() {
    let mut a = app();
    press(&mut a, ' ');
    press(&mut a, ' ');
    press(&mut a, 'r');
    let Some(Overlay::Form(f)) = &a.overlay else {
        panic!("a reason form")
    };
    assert!(matches!(&f.kind, FormKind::RejectManyReason { branches } if branches.len() == 2));
    for c in "dup".chars() {
        press(&mut a, c);
    }
    enter(&mut a);
    let fx = press(&mut a, 'y');
    assert_eq!(
        fx,
        vec![Effect::RejectMany {
            branches: vec!["brl/s1/a".into(), "brl/s2/b".into()],
            reason: Some("dup".into())
        }]
    );
}

#[test]
fn decided_entries_cannot_be_marked_and_filters_sort_and_clear() {
    let mut a = app();
    assert_eq!(listed(&a), ["brl/s1/a", "brl/s2/b", "brl/s1/c", "brl/s2/d"]);
    // f: open → verdict approve.
    press(&mut a, 'f');
    assert_eq!(a.review.filter, ReviewFilter::VerdictApprove);
    assert_eq!(listed(&a), ["brl/s1/a", "brl/s2/d"]);
    while a.review.filter != ReviewFilter::Decided {
        press(&mut a, 'f');
    }
    assert_eq!(listed(&a), ["brl/s1/old"]);
    press(&mut a, ' ');
    assert!(a.review.marked.is_empty(), "a decided entry is not marked");
    assert!(
        a.message
            .as_ref()
            .is_some_and(|m| m.text.contains("only open"))
    );
    press(&mut a, 'c');
    assert_eq!(a.review.filter, ReviewFilter::Open);
    // s: session filter; o: sort.
    press(&mut a, 's');
    assert_eq!(a.review.session.as_deref(), Some("s1"));
    assert_eq!(listed(&a), ["brl/s1/a", "brl/s1/c"]);
    press(&mut a, 's');
    assert_eq!(listed(&a), ["brl/s2/b", "brl/s2/d"]);
    press(&mut a, 'c');
    press(&mut a, 'o');
    assert_eq!(a.review.sort, ReviewSort::Newest);
    assert_eq!(listed(&a), ["brl/s2/d", "brl/s1/c", "brl/s2/b", "brl/s1/a"]);
    press(&mut a, 'o');
    press(&mut a, 'o');
    assert_eq!(a.review.sort, ReviewSort::Verdict);
    assert_eq!(listed(&a)[..2], ["brl/s1/a", "brl/s2/d"]);
    // What a/enter act on is the row as listed.
    a.review_sel = 0;
    assert!(matches!(
        enter(&mut a).as_slice(),
        [Effect::LoadDiff { branch, .. }] if branch == "brl/s1/a"
    ));
}

#[test]
fn twins_are_listed_together() {
    let mut a = app();
    if let Ok(q) = &mut a.data.queue {
        q[0].entry.group = Some("g1".into());
        q[3].entry.group = Some("g1".into());
    }
    assert_eq!(listed(&a), ["brl/s1/a", "brl/s2/d", "brl/s2/b", "brl/s1/c"]);
}

#[test]
fn tasks_enter_shows_the_task_and_r_retries_only_a_failed_one() {
    let mut a = app();
    a.view = View::Tasks;
    // Listed: pending #2 first, then failed #1.
    let mut e = Entry::new(
        "ralph_cycle",
        Some("s1"),
        json!({"task_id": 1, "reason": "no gain"}),
    );
    e.ts = now();
    a.data.log.push(e);
    assert_eq!(press(&mut a, 'R'), vec![], "#2 is pending");
    assert!(
        a.message
            .as_ref()
            .is_some_and(|m| m.text.contains("only a failed task"))
    );
    a.task_sel = 1;
    assert_eq!(press(&mut a, 'R'), vec![Effect::RetryTask(1)]);
    enter(&mut a);
    let Some(Overlay::Detail(d)) = &a.overlay else {
        panic!("enter opens the task")
    };
    assert!(
        d.text.contains("second line") && d.text.contains("no gain"),
        "{}",
        d.text
    );
    update(&mut a, Msg::Key(Key::plain(KeyCode::Esc)));
    assert!(a.overlay.is_none());
}

#[test]
fn log_enter_opens_the_entry_and_the_keys_scroll_it() {
    let mut a = app();
    a.view = View::Log;
    update(&mut a, Msg::Resize(40, 10));
    let long = "word ".repeat(200);
    let mut e = Entry::new("ralph_cycle", Some("s1"), json!({"reason": long}));
    e.ts = now();
    a.data.log.push(e);
    enter(&mut a);
    let Some(Overlay::Detail(d)) = &a.overlay else {
        panic!("enter opens the entry")
    };
    assert!(d.text.contains(long.trim_end()));
    press(&mut a, 'j');
    press(&mut a, 'G');
    let Some(Overlay::Detail(d)) = &a.overlay else {
        panic!("still open")
    };
    let total = super::detail::lines(&d.text, 40).len();
    assert_eq!(
        d.scroll,
        total - super::detail::rows(10),
        "G goes to the end"
    );
    press(&mut a, 'g');
    let Some(Overlay::Detail(d)) = &a.overlay else {
        panic!("still open")
    };
    assert_eq!(d.scroll, 0);
    // A view key closes it and switches.
    press(&mut a, '3');
    assert!(a.overlay.is_none());
    assert_eq!(a.view, View::Review);
}

#[test]
fn the_age_filter_lists_what_waits_over_a_day() {
    let mut a = app();
    if let Ok(q) = &mut a.data.queue {
        q.push(review("brl/s2/aged", "s2", Status::Pending, 26 * 60, None));
    }
    while a.review.filter != ReviewFilter::OlderThanADay {
        press(&mut a, 'f');
    }
    assert_eq!(listed(&a), ["brl/s2/aged"]);
}

#[test]
fn a_mark_on_a_branch_decided_elsewhere_goes_with_the_next_queue_read() {
    let mut a = app();
    press(&mut a, ' ');
    press(&mut a, ' ');
    assert_eq!(a.review.marked.len(), 2);
    let mut rows = a.data.queue.clone().expect("rows");
    rows[0].entry.status = Status::Approved;
    update(&mut a, Msg::Part(super::update::Part::Queue(Ok(rows))));
    assert_eq!(
        a.review.marked.iter().cloned().collect::<Vec<_>>(),
        ["brl/s2/b".to_string()]
    );
}

#[test]
fn enter_on_a_decided_entry_shows_the_decision_not_a_missing_branch() {
    let mut a = app();
    let mut e = Entry::new(
        "review_decision",
        Some("s1"),
        json!({"decision": "reject", "branch": "brl/s1/old", "by": "alice", "reason": "too risky"}),
    );
    e.ts = now();
    a.data.log.push(e);
    while a.review.filter != ReviewFilter::Decided {
        press(&mut a, 'f');
    }
    assert!(
        enter(&mut a).is_empty(),
        "no diff is loaded for a deleted branch"
    );
    let Some(Overlay::Detail(d)) = &a.overlay else {
        panic!("the decision opens, got {:?}", a.overlay)
    };
    assert!(d.text.contains("brl/s1/old is rejected"), "{}", d.text);
    assert!(
        d.text.contains("by: alice") && d.text.contains("too risky"),
        "{}",
        d.text
    );
}

#[test]
fn space_still_pages_down_outside_the_review_queue() {
    let mut a = app();
    a.view = View::Tasks;
    let tasks: Vec<Task> = (1..=60).map(|i| task(i, TaskState::Pending)).collect();
    a.data.tasks = Ok(tasks);
    press(&mut a, ' ');
    assert!(a.task_sel > 0, "space paged down in the task list");
    assert!(a.review.marked.is_empty());
}
