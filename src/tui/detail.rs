//! The whole of one thing as text: a log entry (every field, long texts kept whole) and a task
//! (its body, its state and the log entries that name it). Opened with `enter` in the log and
//! task views; shown by `views::overlay` wrapped to the width.

use serde_json::Value;

use crate::store::log::Entry;
use crate::store::tasks::Task;

use crate::config::keys::Action;

use super::app::{App, Detail, Overlay, View};
use super::motion::log_bottom;
use super::msg::Effect;
use super::update::info;

/// `enter` in the log or task view (or on a decided review entry, whose branch is gone): the
/// entry or task, whole, over the view.
pub(super) fn open(app: &mut App) {
    let d = match app.view {
        View::Log => log_entry(app),
        View::Review => decided_entry(app),
        _ => task(app),
    };
    match d {
        Some(d) => app.overlay = Some(Overlay::Detail(d)),
        None => app.message = Some(info("nothing selected to open")),
    }
}

/// A key while a detail is open: the motion keys scroll it, `esc`/`enter` close it, a view
/// key or quit/help closes it and is then done (returned for the caller to act on).
pub(super) fn key(app: &mut App, a: Action) -> Option<Action> {
    use Action::*;
    let rows = rows(app.height);
    let width = app.width;
    let Some(Overlay::Detail(d)) = &mut app.overlay else {
        return None;
    };
    let max = lines(&d.text, width).len().saturating_sub(rows);
    match a {
        Up => d.scroll = d.scroll.saturating_sub(1),
        Down => d.scroll = (d.scroll + 1).min(max),
        PageUp => d.scroll = d.scroll.saturating_sub(rows),
        PageDown => d.scroll = (d.scroll + rows).min(max),
        Top => d.scroll = 0,
        Bottom => d.scroll = max,
        Open | Back => app.overlay = None,
        Quit | Help | NextView | PrevView | ViewSessions | ViewLog | ViewReview | ViewTasks
        | ViewMeetings => {
            app.overlay = None;
            return Some(a);
        }
        _ => {}
    }
    None
}

/// `R` in the task view: the selected task, if it failed, back to pending.
pub(super) fn retry_task(app: &mut App) -> Vec<Effect> {
    let Some(t) = app.listed_tasks().get(app.task_sel).map(|t| (*t).clone()) else {
        app.message = Some(info("no task selected: the task queue is empty"));
        return vec![];
    };
    if t.state != crate::store::tasks::TaskState::Failed {
        app.message = Some(info(&format!(
            "task #{} is {}; only a failed task can be retried",
            t.id,
            t.state.as_str()
        )));
        return vec![];
    }
    app.busy.push(format!("retrying task {}", t.id));
    vec![Effect::RetryTask(t.id)]
}

/// The log entry at the bottom of the log view (the newest while following, the paused one).
pub fn log_entry(app: &App) -> Option<Detail> {
    let filtered = app.filtered_log();
    if filtered.is_empty() {
        return None;
    }
    let i = *filtered.get(log_bottom(app, &filtered))?;
    let e = app.data.log.entries.get(i)?;
    Some(Detail {
        title: format!("{} {}", e.kind, e.ts.format("%Y-%m-%d %H:%M:%S")),
        text: entry_text(e),
        scroll: 0,
    })
}

/// The selected review entry when it is decided: who decided it, when and why (from its newest
/// `review_decision` entry the dashboard holds), then every field of the queue entry.
pub fn decided_entry(app: &App) -> Option<Detail> {
    let r = *app.listed_reviews().get(app.review_sel)?;
    let e = &r.entry;
    if e.status.is_open() {
        return None;
    }
    let decision = app
        .data
        .log
        .entries
        .iter()
        .rev()
        .filter(|l| l.kind == "review_decision")
        .find(|l| l.data.get("branch").and_then(Value::as_str) == Some(e.branch.as_str()));
    let mut out = vec![
        format!("{} is {}", e.branch, e.status.as_str()),
        String::new(),
    ];
    match decision {
        Some(d) => {
            out.push("decision:".into());
            out.push(indent(&entry_text(d)));
        }
        None => out.push("decision: (its log entry is older than what the dashboard holds)".into()),
    }
    out.push(String::new());
    out.push("queue entry:".into());
    if let Ok(Value::Object(map)) = serde_json::to_value(e) {
        for (k, v) in &map {
            out.push(indent(&field(k, v)));
        }
    }
    Some(Detail {
        title: e.branch.clone(),
        text: out.join("\n"),
        scroll: 0,
    })
}

/// "type / time / session" then every data field: strings as they are (their line breaks kept),
/// everything else as indented JSON.
pub fn entry_text(e: &Entry) -> String {
    let mut out = vec![
        format!("type:    {}", e.kind),
        format!("time:    {}", e.ts.format("%Y-%m-%d %H:%M:%S%.3f UTC")),
        format!("session: {}", e.session.as_deref().unwrap_or("-")),
        String::new(),
    ];
    match &e.data {
        Value::Object(map) => {
            for (k, v) in map {
                out.push(field(k, v));
            }
        }
        Value::Null => {}
        other => out.push(field("data", other)),
    }
    out.join("\n")
}

fn field(key: &str, v: &Value) -> String {
    match v {
        Value::String(s) if s.contains('\n') => format!("{key}:\n{}", indent(s)),
        Value::String(s) => format!("{key}: {s}"),
        Value::Object(_) | Value::Array(_) => {
            let pretty = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
            format!("{key}:\n{}", indent(&pretty))
        }
        other => format!("{key}: {other}"),
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The selected task: its fields, its body, and the log entries that name it (its history).
pub fn task(app: &App) -> Option<Detail> {
    let t = *app.listed_tasks().get(app.task_sel)?;
    Some(Detail {
        title: format!("task #{}", t.id),
        text: task_text(t, app.data.log.entries.iter()),
        scroll: 0,
    })
}

pub fn task_text<'a>(t: &Task, log: impl Iterator<Item = &'a Entry>) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let mut out = vec![
        format!("#{} {}", t.id, t.title),
        String::new(),
        format!(
            "state:    {}{}",
            t.state.as_str(),
            if t.approved { " (approved)" } else { "" }
        ),
        format!("tier:     {}", t.tier.as_str()),
        format!("attempts: {}", t.attempts),
        format!("source:   {}", t.source),
        format!("created:  {}", t.created.format("%Y-%m-%d %H:%M:%S UTC")),
        format!("updated:  {}", t.updated.format("%Y-%m-%d %H:%M:%S UTC")),
        format!("session:  {}", opt(&t.session)),
        format!("branch:   {}", opt(&t.branch)),
        format!("last reason: {}", opt(&t.last_reason)),
        String::new(),
        "body:".into(),
        t.body
            .as_deref()
            .map_or_else(|| "  (none)".to_string(), indent),
        String::new(),
        "history (log entries naming this task):".into(),
    ];
    let names = |e: &Entry| {
        ["task_id", "task"]
            .iter()
            .any(|k| e.data.get(k).and_then(Value::as_u64) == Some(t.id))
    };
    let mut n = 0;
    for e in log.filter(|e| names(e)) {
        n += 1;
        let line = crate::store::log::format_human(e);
        out.push(format!("  {line}"));
    }
    if n == 0 {
        out.push("  (none in the entries the dashboard holds)".into());
    }
    out.join("\n")
}

/// Rows of text a detail box shows on a screen `height` high (border and key line off).
pub fn rows(height: u16) -> usize {
    usize::from(height.saturating_sub(3)).max(1)
}

/// The text as shown in a detail box on a screen `width` wide: each line wrapped, blank lines
/// kept.
pub fn lines(text: &str, width: u16) -> Vec<String> {
    let w = usize::from(width.saturating_sub(4)).max(10);
    text.lines()
        .flat_map(|l| {
            if l.is_empty() {
                vec![String::new()]
            } else {
                super::reader::wrap(l, w)
            }
        })
        .collect()
}
