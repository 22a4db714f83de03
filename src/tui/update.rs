//! The dashboard's one transition: `update(state, message) → effects`. Pure: no files, git, tmux or
//! clock; the runtime (`mod.rs`) performs the effects and feeds their results back as messages.

use crate::config::keys::{Action, Key, KeyCode};
use crate::store::tasks::Tier;

use super::app::{self, App, Form, FormKind, Level, Message, Overlay, View};
pub use super::msg::{Effect, Msg, Part};
use super::open::apply_part;
use super::open::{close_reader, open, review_target, selected_session};
use super::reader;

/// Apply `msg`; returns the effects for the runtime to perform.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => key_pressed(app, key),
        Msg::Action(a) => act(app, a),
        Msg::Part(p) => {
            apply_part(app, p);
            vec![]
        }
        Msg::Doc(request, doc) => {
            let width = app.width;
            if let Some(r) = app.reader.as_mut().filter(|r| r.request == request) {
                reader::loaded(r, doc, width);
            }
            vec![]
        }
        Msg::Done { what, level, text } => {
            app.busy.retain(|b| b != &what);
            app.message = Some(Message { level, text });
            vec![]
        }
        Msg::Tick(now) => {
            app.now = now;
            vec![]
        }
        Msg::Click(x, y) => super::mouse::click(app, x, y),
        Msg::Resize(w, h) => {
            app.width = w;
            app.height = h;
            if let Some(r) = app.reader.as_mut() {
                // Keep the place: the same share of the text stays at the top.
                let (old, top) = (r.lines.len().max(1), r.scroll);
                reader::rewrap(r, w);
                r.scroll = top * r.lines.len() / old;
            }
            vec![]
        }
    }
}

fn key_pressed(app: &mut App, key: Key) -> Vec<Effect> {
    if let Some(Overlay::Form(form)) = &mut app.overlay {
        return match super::form::edit(form, key) {
            super::form::Outcome::Editing => vec![],
            super::form::Outcome::Cancel => {
                app.overlay = None;
                vec![]
            }
            super::form::Outcome::Submit => {
                let form = form.clone();
                submit(app, form)
            }
        };
    }
    match app.keymap.lookup(&app.contexts(), key) {
        Some(a) => act(app, a),
        // Esc quickly followed by a key arrives as alt-<key> (the terminal cannot tell them
        // apart): when alt-<key> means nothing, it is read as the two keys.
        None if key.alt
            && app
                .keymap
                .lookup(&app.contexts(), Key { alt: false, ..key })
                .is_some() =>
        {
            let mut fx = key_pressed(app, Key::plain(KeyCode::Esc));
            fx.extend(key_pressed(app, Key { alt: false, ..key }));
            fx
        }
        None => {
            if matches!(app.overlay, Some(Overlay::Help)) {
                app.overlay = None; // any other key closes the help
            } else if key.code != KeyCode::Char(' ') {
                let hint = app.keymap.label(Action::Help);
                app.message = Some(Message {
                    level: Level::Info,
                    text: format!("`{key}` does nothing here; `{hint}` lists the keys"),
                });
            }
            vec![]
        }
    }
}

fn act(app: &mut App, a: Action) -> Vec<Effect> {
    use Action::*;
    if let Some(Overlay::Confirm(c)) = &app.overlay {
        let c = c.clone();
        return match a {
            Confirm => {
                app.overlay = None;
                confirmed(app, c)
            }
            Cancel | Back => {
                app.overlay = None;
                app.message = Some(info("left as it was"));
                vec![]
            }
            _ => vec![],
        };
    }
    if matches!(app.overlay, Some(Overlay::Detail(_))) {
        return match super::detail::key(app, a) {
            Some(a) => act(app, a),
            None => vec![],
        };
    }
    match a {
        Quit => {
            app.quit = true;
            vec![Effect::Quit]
        }
        Help => {
            app.overlay = match app.overlay {
                Some(Overlay::Help) => None,
                _ => Some(Overlay::Help),
            };
            vec![]
        }
        Back => back(app),
        NextView | PrevView | ViewSessions | ViewLog | ViewReview | ViewTasks | ViewMeetings => {
            let i = View::ALL.iter().position(|v| *v == app.view).unwrap_or(0);
            let n = View::ALL.len();
            let view = match a {
                NextView => View::ALL[(i + 1) % n],
                PrevView => View::ALL[(i + n - 1) % n],
                ViewSessions => View::Sessions,
                ViewLog => View::Log,
                ViewReview => View::Review,
                ViewTasks => View::Tasks,
                _ => View::Meetings,
            };
            let fx = close_reader(app);
            app.overlay = None;
            app.view = view;
            fx
        }
        Up | Down | PageUp | PageDown | Top | Bottom => {
            super::motion::apply(app, a);
            vec![]
        }
        PageDownSpace => {
            super::motion::apply(app, PageDown);
            vec![]
        }
        Open if app.reader.is_none()
            && (matches!(app.view, View::Log | View::Tasks)
                || (app.view == View::Review && super::detail::decided_entry(app).is_some())) =>
        {
            super::detail::open(app);
            vec![]
        }
        Open => open(app),
        TriggerReview | TriggerStandup | TriggerDoctor => {
            let job = match a {
                TriggerReview => crate::jobs::Job::Review,
                TriggerStandup => crate::jobs::Job::Standup,
                _ => crate::jobs::Job::Doctor,
            };
            vec![Effect::Trigger(job)]
        }
        TriggerFix => vec![Effect::TriggerFix],
        PauseSession | PauseFleet | RestartSession | StopCycle => super::session_keys::act(app, a),
        ToggleMouse => {
            app.mouse = !app.mouse;
            let key = app.keymap.label(ToggleMouse);
            app.message = Some(info(&if app.mouse {
                format!("mouse on: click a tab or a row, the wheel scrolls (`{key}` releases it)")
            } else {
                format!("mouse released: the terminal selects text (`{key}` takes it back)")
            }));
            vec![Effect::Mouse(app.mouse)]
        }
        Attach => match selected_session(app) {
            Some(session) => vec![Effect::Attach { session }],
            None => vec![],
        },
        Search => {
            app.overlay = Some(Overlay::Form(Form {
                kind: FormKind::Search,
                fields: vec![("search", String::new())],
                focus: 0,
                tier: None,
                error: None,
            }));
            vec![]
        }
        SearchNext | SearchPrev => {
            super::motion::search_step(app, a == SearchNext);
            vec![]
        }
        FilterType | FilterSession | ClearFilter | SortReview if app.view == View::Review => {
            super::review_keys::filter(app, a);
            vec![]
        }
        ToggleMark => {
            super::review_keys::toggle_mark(app);
            vec![]
        }
        Approve | Reject if app.reader.is_none() && !app.review.marked.is_empty() => {
            super::review_keys::bulk(app, a == Approve)
        }
        SortReview => vec![],
        RetryTask => super::detail::retry_task(app),
        FilterType => {
            let kinds = app.data.log.kinds.clone();
            app.log.kind = cycle(&kinds, app.log.kind.take());
            app.log.paused_at = None;
            vec![]
        }
        FilterSession => {
            let names: Vec<String> = app.data.sessions.iter().map(|s| s.name.clone()).collect();
            app.log.session = cycle(&names, app.log.session.take());
            app.log.paused_at = None;
            vec![]
        }
        ClearFilter => {
            app.log.kind = None;
            app.log.session = None;
            app.log.search = None;
            vec![]
        }
        Approve | Reject => match review_target(app) {
            Some(branch) if a == Approve => {
                app.overlay = Some(Overlay::Confirm(app::Confirm::Approve { branch }));
                vec![]
            }
            Some(branch) => {
                app.overlay = Some(Overlay::Form(Form {
                    kind: FormKind::RejectReason { branch },
                    fields: vec![("reason (optional)", String::new())],
                    focus: 0,
                    tier: None,
                    error: None,
                }));
                vec![]
            }
            None => {
                app.message = Some(info("no branch selected: the review queue is empty"));
                vec![]
            }
        },
        NextFile | PrevFile => {
            if let Some(r) = app.reader.as_mut() {
                reader::step_file(r, a == NextFile);
            }
            vec![]
        }
        NewTask => {
            app.overlay = Some(Overlay::Form(Form {
                kind: FormKind::NewTask,
                fields: vec![("title", String::new()), ("body (optional)", String::new())],
                focus: 0,
                tier: Some(Tier::AutoSafe), // the CLI's default too
                error: None,
            }));
            vec![]
        }
        ApproveTask | DropTask => {
            let Some(t) = app.listed_tasks().get(app.task_sel).map(|t| (*t).clone()) else {
                app.message = Some(info("no task selected: the task queue is empty"));
                return vec![];
            };
            if a == ApproveTask {
                app.busy.push(format!("approving task {}", t.id));
                vec![Effect::ApproveTask(t.id)]
            } else {
                app.overlay = Some(Overlay::Confirm(app::Confirm::DropTask {
                    id: t.id,
                    title: t.title,
                }));
                vec![]
            }
        }
        Confirm | Cancel => vec![],
    }
}

fn confirmed(app: &mut App, c: app::Confirm) -> Vec<Effect> {
    // The branch is about to be merged or deleted: its diff is closed.
    if let app::Confirm::Approve { branch } = &c
        && let Some(why) = blind_reason(app, branch)
    {
        // Stale or conflict: a second confirmation (the Confirm key again) forces it.
        app.overlay = Some(Overlay::Confirm(app::Confirm::ForceApprove {
            branch: branch.clone(),
            why,
        }));
        return vec![];
    }
    if matches!(
        c,
        app::Confirm::ApproveMany { .. } | app::Confirm::RejectMany { .. }
    ) {
        return super::review_keys::confirmed_many(app, c);
    }
    if matches!(
        c,
        app::Confirm::Approve { .. }
            | app::Confirm::ForceApprove { .. }
            | app::Confirm::Reject { .. }
    ) {
        app.reader = None;
    }
    match c {
        app::Confirm::ForceApprove { branch, .. } => {
            app.busy.push(format!("approving {branch} (forced)"));
            app.message = Some(info(&format!("approving {branch} (forced)…")));
            vec![Effect::ApproveForced { branch }]
        }
        app::Confirm::Approve { branch } => {
            app.busy.push(format!("approving {branch}"));
            app.message = Some(info(&format!("approving {branch}…")));
            vec![Effect::Approve { branch }]
        }
        app::Confirm::Reject { branch, reason } => {
            app.busy.push(format!("rejecting {branch}"));
            app.message = Some(info(&format!("rejecting {branch}…")));
            vec![Effect::Reject { branch, reason }]
        }
        app::Confirm::ApproveMany { .. } | app::Confirm::RejectMany { .. } => vec![],
        app::Confirm::DropTask { id, .. } => {
            app.busy.push(format!("dropping task {id}"));
            vec![Effect::DropTask(id)]
        }
        app::Confirm::Session { op, session } => {
            app.message = Some(info(&format!("{} {session}…", op.as_str())));
            vec![Effect::Session {
                op,
                session: Some(session),
            }]
        }
    }
}

fn submit(app: &mut App, form: Form) -> Vec<Effect> {
    let text = |i: usize| form.fields.get(i).map(|f| f.1.trim().to_string());
    match form.kind {
        FormKind::Search => {
            app.overlay = None;
            let s = text(0).filter(|s| !s.is_empty());
            super::motion::set_search(app, s);
            vec![]
        }
        FormKind::RejectReason { branch } => {
            app.overlay = Some(Overlay::Confirm(app::Confirm::Reject {
                branch,
                reason: text(0).filter(|s| !s.is_empty()),
            }));
            vec![]
        }
        FormKind::RejectManyReason { branches } => {
            app.overlay = Some(Overlay::Confirm(app::Confirm::RejectMany {
                branches,
                reason: text(0).filter(|s| !s.is_empty()),
            }));
            vec![]
        }
        FormKind::NewTask => {
            let title = text(0).unwrap_or_default();
            let body = text(1).filter(|s| !s.is_empty());
            if let Err(e) = crate::store::tasks::check_text(&title, body.as_deref()) {
                if let Some(Overlay::Form(f)) = &mut app.overlay {
                    f.error = Some(e);
                }
                return vec![];
            }
            app.overlay = None;
            app.busy.push("adding a task".into());
            vec![Effect::AddTask {
                title,
                body,
                tier: form.tier.unwrap_or(Tier::Proposed),
            }]
        }
    }
}

fn back(app: &mut App) -> Vec<Effect> {
    if app.overlay.take().is_some() {
        return vec![];
    }
    if app.reader.is_some() {
        return close_reader(app);
    }
    app.message = None;
    vec![]
}

/// None → first → … → last → None.
fn cycle(items: &[String], current: Option<String>) -> Option<String> {
    match current {
        None => items.first().cloned(),
        Some(c) => items
            .iter()
            .position(|i| *i == c)
            .and_then(|p| items.get(p + 1).cloned()),
    }
}

pub(super) fn info(text: &str) -> Message {
    Message {
        level: Level::Info,
        text: text.to_string(),
    }
}

/// Why approving `branch` needs force: the latest re-check marked it `stale` or `conflict`.
pub(super) fn blind_reason(app: &App, branch: &str) -> Option<String> {
    let rows = app.data.queue.as_ref().ok()?;
    let e = &rows.iter().find(|r| r.entry.branch == branch)?.entry;
    use crate::store::queue::Status;
    matches!(e.status, Status::Stale | Status::Conflict).then(|| {
        format!(
            "{}: {}",
            e.status.as_str().to_uppercase(),
            e.decision_reason
                .as_deref()
                .unwrap_or("the latest re-check marked it so")
        )
    })
}
