//! Opening and closing readers, what the keys act on, and taking in freshly loaded data.

use super::app::{App, Reader, ReaderKind, View};
use super::msg::{Effect, Part};

pub(super) fn close_reader(app: &mut App) -> Vec<Effect> {
    match app.reader.take() {
        Some(Reader {
            kind: ReaderKind::Output { .. },
            ..
        }) => {
            app.next_request += 1;
            vec![Effect::WatchOutput {
                request: app.next_request,
                session: None,
            }]
        }
        _ => vec![],
    }
}

pub(super) fn open(app: &mut App) -> Vec<Effect> {
    if app.reader.is_some() {
        return vec![];
    }
    app.next_request += 1;
    let request = app.next_request;
    let (kind, effect) = match app.view {
        View::Sessions => {
            let Some(session) = selected_session(app) else {
                return vec![];
            };
            (
                ReaderKind::Output {
                    session: session.clone(),
                },
                Effect::WatchOutput {
                    request,
                    session: Some(session),
                },
            )
        }
        View::Review => {
            let Some(branch) = review_target(app) else {
                return vec![];
            };
            (
                ReaderKind::Diff {
                    branch: branch.clone(),
                },
                Effect::LoadDiff { request, branch },
            )
        }
        View::Meetings => {
            let Some(m) = app
                .data
                .meetings
                .as_ref()
                .ok()
                .and_then(|m| m.get(app.meeting_sel))
            else {
                return vec![];
            };
            let path = m.path.clone();
            (
                ReaderKind::Transcript { path: path.clone() },
                Effect::LoadTranscript { request, path },
            )
        }
        View::Log | View::Tasks => return vec![],
    };
    let follow = matches!(kind, ReaderKind::Output { .. });
    app.reader = Some(Reader {
        kind,
        request,
        doc: None,
        lines: vec![],
        scroll: 0,
        follow,
        search: None,
        file: 0,
    });
    vec![effect]
}

pub(super) fn selected_session(app: &App) -> Option<String> {
    if let Some(Reader {
        kind: ReaderKind::Output { session },
        ..
    }) = &app.reader
    {
        return Some(session.clone());
    }
    app.data
        .sessions
        .get(app.session_sel)
        .map(|s| s.name.clone())
}

/// The branch the review keys act on: the open diff's, else the selected row's.
pub(super) fn review_target(app: &App) -> Option<String> {
    match &app.reader {
        Some(Reader {
            kind: ReaderKind::Diff { branch },
            ..
        }) => Some(branch.clone()),
        Some(_) => None,
        None if app.view == View::Review => app
            .listed_reviews()
            .get(app.review_sel)
            .map(|r| r.entry.branch.clone()),
        None => None,
    }
}

/// The session the Sessions view previews now: the selected one, while the view shows (no
/// reader over it). The runtime asks the loader to follow exactly this one.
pub(super) fn previewed_session(app: &App) -> Option<String> {
    if app.view != super::app::View::Sessions || app.reader.is_some() {
        return None;
    }
    app.data
        .sessions
        .get(app.session_sel)
        .map(|s| s.name.clone())
}

pub(super) fn apply_part(app: &mut App, p: Part) {
    let d = &mut app.data;
    match p {
        Part::Sessions(s) => d.sessions = s,
        Part::Queue(q) => {
            d.queue = q;
            // A marked branch decided meanwhile (by the CLI, the review job) is no longer marked.
            if let Ok(rows) = &d.queue {
                app.review.marked.retain(|b| {
                    rows.iter()
                        .any(|r| r.entry.branch == *b && r.entry.status.is_open())
                });
            }
        }
        Part::Tasks(t) => d.tasks = t,
        Part::Meetings(m) => d.meetings = m,
        Part::Log {
            entries,
            malformed,
            notices,
        } => {
            for e in entries {
                if d.log.entries.len() == super::data::LOG_CAPACITY {
                    app.log_first_seq += 1;
                }
                d.log.push(e);
            }
            d.log.malformed += malformed;
            d.log.notices.extend(notices);
            let keep = d.log.notices.len().saturating_sub(3);
            d.log.notices.drain(..keep);
        }
        Part::Room(r) => {
            d.room = r;
            // The loader reads the sessions first and the room after: both are in now.
            d.loading = false;
        }
        Part::Why(w) => d.why = w,
        Part::Flaky(f) => d.flaky = f,
        Part::Preview(p) => d.preview = p,
        Part::Memory(m) => d.memory = m,
        Part::Hosts(h) => d.hosts = h,
        Part::Typecheck(used, max) => d.typecheck = (used, max),
        Part::Today(t) => d.today = t,
        Part::Fleet(f) => d.fleet_paused = f,
        Part::Jobs(j) => {
            d.jobs = j;
            // The job's result is in the header now: the "started" message has said its part.
            let ended = |m: &super::app::Message| {
                app.data.jobs.iter().any(|j| {
                    j.progress.done.is_some()
                        && m.text
                            .starts_with(&format!("{} started (pid", j.progress.job))
                })
            };
            if app.message.as_ref().is_some_and(ended) {
                app.message = None;
            }
        }
    }
    // Keep selections on the lists as they are now.
    app.session_sel = app
        .session_sel
        .min(app.data.sessions.len().saturating_sub(1));
    app.review_sel = app
        .review_sel
        .min(app.listed_reviews().len().saturating_sub(1));
    app.task_sel = app.task_sel.min(app.listed_tasks().len().saturating_sub(1));
    let meetings = app.data.meetings.as_ref().map(Vec::len).unwrap_or(0);
    app.meeting_sel = app.meeting_sel.min(meetings.saturating_sub(1));
}
