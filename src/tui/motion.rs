//! Moving around: selections in the lists, the log's scroll position (which pauses following),
//! a reader's scroll position, and searching.

use crate::config::keys::Action;
use crate::store::log::format_human;

use super::app::{App, Level, Message, View};
use super::reader;

/// Apply a movement action (up, down, page up/down, top, bottom).
pub fn apply(app: &mut App, a: Action) {
    let rows = app.reader_rows();
    if let Some(r) = app.reader.as_mut() {
        let max = r.lines.len().saturating_sub(rows);
        let cur = reader::top(r, rows);
        let (pos, follow) = match a {
            Action::Up => (cur.saturating_sub(1), false),
            Action::Down => (cur + 1, false),
            Action::PageUp => (cur.saturating_sub(rows), false),
            Action::PageDown => (cur + rows, false),
            Action::Top => (0, false),
            _ => (max, matches!(r.kind, super::app::ReaderKind::Output { .. })),
        };
        r.scroll = pos.min(max);
        r.follow = follow;
        if let Some(Ok(doc)) = &r.doc {
            r.file = reader::file_at(doc, r.scroll);
        }
        return;
    }
    if app.view == View::Log {
        log_motion(app, a);
        return;
    }
    let rows = app.log_rows();
    let (sel, len) = match app.view {
        View::Sessions => (&mut app.session_sel, app.data.sessions.len()),
        View::Review => {
            let n = app.listed_reviews().len();
            (&mut app.review_sel, n)
        }
        View::Tasks => {
            let n = app.listed_tasks().len();
            (&mut app.task_sel, n)
        }
        View::Meetings => {
            let n = app.data.meetings.as_ref().map(Vec::len).unwrap_or(0);
            (&mut app.meeting_sel, n)
        }
        View::Log => unreachable!("handled above"),
    };
    let last = len.saturating_sub(1);
    *sel = match a {
        Action::Up => sel.saturating_sub(1),
        Action::Down => (*sel + 1).min(last),
        Action::PageUp => sel.saturating_sub(rows),
        Action::PageDown => (*sel + rows).min(last),
        Action::Top => 0,
        _ => last,
    };
}

/// The position (in the filtered list) of the bottom entry shown.
pub fn log_bottom(app: &App, filtered: &[usize]) -> usize {
    let last = filtered.len().saturating_sub(1);
    match app.log.paused_at {
        None => last,
        Some(seq) => {
            let idx = seq.saturating_sub(app.log_first_seq) as usize;
            // The last filtered entry at or before the paused one.
            filtered.partition_point(|i| *i <= idx).saturating_sub(1)
        }
    }
}

fn log_motion(app: &mut App, a: Action) {
    let filtered = app.filtered_log();
    if filtered.is_empty() {
        return;
    }
    let rows = app.log_rows();
    let last = filtered.len() - 1;
    let lowest = (rows - 1).min(last);
    let pos = log_bottom(app, &filtered);
    let pos = match a {
        Action::Up => pos.saturating_sub(1),
        Action::Down => pos + 1,
        Action::PageUp => pos.saturating_sub(rows),
        Action::PageDown => pos + rows,
        Action::Top => 0,
        _ => {
            app.log.paused_at = None;
            return;
        }
    };
    let pos = pos.clamp(lowest, last);
    app.log.paused_at = Some(app.log_first_seq + filtered[pos] as u64);
}

/// Set (or clear) the search of the open reader, else of the log, and jump to the first match.
pub fn set_search(app: &mut App, s: Option<String>) {
    if let Some(r) = app.reader.as_mut() {
        r.search = s;
    } else {
        app.log.search = s;
    }
    if app.reader.is_some() || app.view == View::Log {
        search_from(app, true, true);
    }
}

/// Jump to the next match (`forward`: down in a reader, older in the log).
pub fn search_step(app: &mut App, forward: bool) {
    search_from(app, forward, false);
}

fn search_from(app: &mut App, forward: bool, include_current: bool) {
    let rows = app.reader_rows();
    let log_rows = app.log_rows();
    let needle;
    let found = if let Some(r) = app.reader.as_mut() {
        let Some(s) = r.search.clone() else { return };
        needle = s.to_lowercase();
        let cur = reader::top(r, rows);
        let hit = |l: &String| l.to_lowercase().contains(&needle);
        let at = if forward {
            let from = if include_current { cur } else { cur + 1 };
            r.lines.iter().skip(from).position(hit).map(|p| p + from)
        } else {
            r.lines[..cur.min(r.lines.len())].iter().rposition(hit)
        };
        if let Some(at) = at {
            r.scroll = at;
            r.follow = false;
            if let Some(Ok(doc)) = &r.doc {
                r.file = reader::file_at(doc, at);
            }
        }
        at.is_some()
    } else if app.view == View::Log {
        let Some(s) = app.log.search.clone() else {
            return;
        };
        needle = s.to_lowercase();
        let filtered = app.filtered_log();
        let pos = log_bottom(app, &filtered);
        let hit = |i: &usize| {
            format_human(&app.data.log.entries[*i])
                .to_lowercase()
                .contains(&needle)
        };
        // The log reads upwards: "forward" is towards older entries.
        let at = if include_current {
            filtered[..filtered.len()].iter().rposition(hit)
        } else if forward {
            filtered[..pos].iter().rposition(hit)
        } else {
            filtered
                .iter()
                .skip(pos + 1)
                .position(hit)
                .map(|p| p + pos + 1)
        };
        if let Some(at) = at {
            let at = at.max((log_rows - 1).min(filtered.len() - 1));
            app.log.paused_at = Some(app.log_first_seq + filtered[at] as u64);
        }
        at.is_some()
    } else {
        return;
    };
    if !found {
        app.message = Some(Message {
            level: Level::Info,
            text: format!(
                "no {}match for `{needle}`",
                if include_current { "" } else { "further " }
            ),
        });
    }
}
