//! Drawing the dashboard from [`App`]: reads prepared state only (no file, git or tmux IO).
//!
//! The screen, top to bottom: the header (2 rows), the tab bar, the view's title line, its rows
//! (`height - CHROME_ROWS` of them: the log and the readers page by that), and the status line
//! (the last result, else what is running, else the keys of the view). A dialog is drawn last,
//! over everything.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::config::keys::Action;
use crate::store::tasks::TaskState;

use super::app::{App, Overlay, ReaderKind, View};
use table::{Body, fit, fit_spans, put, row, text_width};
use theme::Theme;

mod header;
mod header_hosts;
mod header_jobs;
mod log;
mod meetings;
mod overlay;
mod reader;
mod review;
mod session_detail;
mod sessions;
mod table;
mod tasks;
pub mod theme;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hosts;
#[cfg(test)]
mod tests_review;

/// Rows taken by the header (2), the tab bar (1), the view's title (1) and the status line (1).
pub const CHROME_ROWS: u16 = 5;
/// Rows a reader takes besides its text: the same chrome.
pub const READER_CHROME_ROWS: u16 = 5;

pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    draw(app, frame.buffer_mut(), area);
}

/// Draw the whole screen into `buf` over `area`.
pub fn draw(app: &App, buf: &mut Buffer, area: Rect) {
    let t = Theme::new(app);
    if area.height < CHROME_ROWS || area.width < 16 {
        let text = format!("brl: terminal too small ({}×{})", area.width, area.height);
        put(
            buf,
            row(area, 0),
            &Line::styled(fit(&text, usize::from(area.width)), t.error()),
        );
        return;
    }
    header::draw(app, buf, Rect { height: 2, ..area }, t);
    tabs(app, buf, row(area, 2), t);
    let body = Body {
        title: row(area, 3),
        list: Rect {
            y: area.y + 4,
            height: area.height - CHROME_ROWS,
            ..area
        },
    };
    match &app.reader {
        Some(r) => reader::draw(r, buf, body, t),
        None => match app.view {
            View::Sessions => sessions::draw(app, buf, body, t),
            View::Log => log::draw(app, buf, body, t),
            View::Review => review::draw(app, buf, body, t),
            View::Tasks => tasks::draw(app, buf, body, t),
            View::Meetings => meetings::draw(app, buf, body, t),
        },
    }
    status(app, buf, body.list, row(area, area.height - 1), t);
    if let Some(o) = &app.overlay {
        overlay::draw(app, o, buf, area, t);
    }
}

/// The keys of `action` as hints and the help show them: "q/ctrl-c", "pagedown/ctrl-f/space".
pub(crate) fn keys(app: &App, action: Action) -> String {
    let keys = app.keymap.keys(action);
    if keys.is_empty() {
        return "(unbound)".into();
    }
    keys.iter()
        .map(|k| match k.to_string() {
            // The space bar prints as a space: name it.
            s if s.ends_with(' ') => format!("{}space", s.trim_end()),
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A duration for people, in minutes at most, so a clock ticking each second changes the screen
/// at most once a minute: "<1m", "5m", "2h05m", "3d".
pub fn age(secs: i64) -> String {
    let m = secs.max(0) / 60;
    match m {
        0 => "<1m".into(),
        1..60 => format!("{m}m"),
        60..1440 => format!("{}h{:02}m", m / 60, m % 60),
        _ => format!("{}d", m / 1440),
    }
}

/// The age of `at` at `app.now`; tells `app` when this text will change, so the screen is
/// redrawn then — and not before.
fn age_at(app: &App, at: chrono::DateTime<chrono::Utc>) -> String {
    let secs = (app.now - at).num_seconds();
    app.note_age_change(at + chrono::Duration::seconds(next_age_change(secs)));
    age(secs)
}

/// The smallest age in seconds, above `secs`, at which [`age`] shows another text.
pub fn next_age_change(secs: i64) -> i64 {
    let s = secs.max(0);
    if s < 86_400 {
        (s / 60 + 1) * 60
    } else {
        (s / 86_400 + 1) * 86_400
    }
}

/// "1 Sessions (3)  2 Log  3 Review (4) …", the current view highlighted; only the keys of
/// the other views when the names do not fit.
/// Each tab's label as drawn on a bar `width` wide: in full when all fit, else the current one in
/// full and the others by their key.
fn tab_labels(app: &App, bar: u16) -> Vec<(View, String)> {
    let count = |v: View| -> String {
        let n = match v {
            View::Sessions => Ok(app.data.sessions.len()),
            View::Log => Ok(0),
            View::Review => app.data.queue.as_ref().map(|_| app.open_reviews().len()),
            View::Tasks => app.data.tasks.as_ref().map(|ts| {
                ts.iter()
                    .filter(|t| matches!(t.state, TaskState::Pending | TaskState::Running))
                    .count()
            }),
            View::Meetings => app.data.meetings.as_ref().map(Vec::len),
        };
        match n {
            Ok(0) => String::new(),
            Ok(n) => format!(" ({n})"),
            Err(_) => " (!)".into(),
        }
    };
    let key = |v: View| {
        keys(
            app,
            match v {
                View::Sessions => Action::ViewSessions,
                View::Log => Action::ViewLog,
                View::Review => Action::ViewReview,
                View::Tasks => Action::ViewTasks,
                View::Meetings => Action::ViewMeetings,
            },
        )
    };
    let full: Vec<String> = View::ALL
        .iter()
        .map(|&v| format!(" {} {}{} ", key(v), v.title(), count(v)))
        .collect();
    let width: usize = full.iter().map(|s| text_width(s) + 1).sum();
    View::ALL
        .iter()
        .zip(full)
        .map(|(&v, label)| {
            if v == app.view || width <= usize::from(bar) {
                (v, label)
            } else {
                (v, format!(" {} ", key(v)))
            }
        })
        .collect()
}

/// The index (into the current view's list) of the row drawn at screen row `y`, as the view
/// draws it now; `None` off the list (for a mouse click). The log has no selection.
pub fn list_row_at(app: &App, y: u16) -> Option<usize> {
    let rows = usize::from(app.height.saturating_sub(CHROME_ROWS));
    let i = usize::from(y.checked_sub(4)?);
    if i >= rows || app.reader.is_some() {
        return None;
    }
    let (sel, len, shown) = match app.view {
        View::Sessions => {
            let len = app.data.sessions.len();
            (app.session_sel, len, sessions::table_rows(len, rows))
        }
        View::Review => (app.review_sel, app.open_reviews().len(), rows),
        View::Tasks => (app.task_sel, app.listed_tasks().len(), rows),
        View::Meetings => {
            let len = app.data.meetings.as_ref().map(Vec::len).unwrap_or(0);
            (app.meeting_sel, len, rows)
        }
        View::Log => return None,
    };
    if i >= shown {
        return None;
    }
    let at = table::window(sel.min(len.saturating_sub(1)), len, shown).start + i;
    (at < len).then_some(at)
}

/// The view whose tab is at column `x` of the tab bar (for a mouse click).
pub fn tab_at(app: &App, x: u16) -> Option<View> {
    let mut at = 0usize;
    for (v, label) in tab_labels(app, app.width) {
        let w = text_width(&label);
        if usize::from(x) >= at && usize::from(x) < at + w {
            return Some(v);
        }
        at += w + 1;
    }
    None
}

fn tabs(app: &App, buf: &mut Buffer, area: Rect, t: Theme) {
    let place = position(app).map(|(n, len)| format!("{n}/{len}"));
    let mut spans = Vec::new();
    for (v, label) in tab_labels(app, area.width) {
        if v == app.view && app.reader.is_none() {
            spans.push(Span::styled(label, t.tab_active()));
        } else if v == app.view {
            spans.push(Span::styled(label, t.bold()));
        } else {
            spans.push(Span::raw(label));
        }
        spans.push(Span::raw(" "));
    }
    // Where the selection is in the list, at the right end.
    let used: usize = spans.iter().map(Span::width).sum();
    if let Some(p) = place
        && used + text_width(&p) < usize::from(area.width)
    {
        let pad = usize::from(area.width) - used - text_width(&p);
        spans.push(Span::raw(" ".repeat(pad.saturating_sub(1))));
        spans.push(Span::styled(p, t.dim()));
    }
    put(buf, area, &Line::from(spans));
}

/// The selected row's number and the length of the current view's list (not for the log, nor
/// with a reader open: their title lines say where they are).
fn position(app: &App) -> Option<(usize, usize)> {
    if app.reader.is_some() {
        return None;
    }
    let (sel, len) = match app.view {
        View::Sessions => (app.session_sel, app.data.sessions.len()),
        View::Review => (app.review_sel, app.listed_reviews().len()),
        View::Tasks => (app.task_sel, app.listed_tasks().len()),
        View::Meetings => (
            app.meeting_sel,
            app.data.meetings.as_ref().map_or(0, Vec::len),
        ),
        View::Log => return None,
    };
    (len > 0).then(|| (sel.min(len - 1) + 1, len))
}

/// The last row: the message, else what is running, else the keys of what is on screen. A
/// message longer than the row is shown whole in a box above it.
fn status(app: &App, buf: &mut Buffer, list: Rect, area: Rect, t: Theme) {
    let w = usize::from(area.width);
    if let Some(m) = &app.message {
        let style = t.level(m.level);
        if text_width(&m.text) <= w || list.height < 3 {
            put(buf, area, &Line::styled(fit(&m.text, w), style));
            return;
        }
        let lines = crate::tui::reader::wrap(&m.text, w.saturating_sub(2).max(10));
        let height = (lines.len() as u16 + 1).min(list.height.min(8));
        let boxed = Rect {
            y: area.y.saturating_sub(height),
            height,
            ..area
        };
        Clear.render(boxed, buf);
        let text: Vec<Line> = lines
            .into_iter()
            .map(|l| Line::styled(format!(" {l}"), style))
            .collect();
        Paragraph::new(text)
            .block(Block::new().borders(Borders::TOP).border_style(style))
            .render(boxed, buf);
        let hint = vec![(keys(app, Action::Back), "dismisses this message")];
        put(buf, area, &hint_line(hint, w, t));
        return;
    }
    if !app.busy.is_empty() {
        let line = Line::from(vec![
            Span::styled("working: ", t.info()),
            Span::raw(fit(&app.busy.join(" · "), w.saturating_sub(9))),
        ]);
        put(buf, area, &line);
        return;
    }
    put(buf, area, &hint_line(hints(app), w, t));
}

/// The keys worth knowing on the current screen, most useful first.
fn hints(app: &App) -> Vec<(String, &'static str)> {
    use Action::*;
    let k = |a: Action| keys(app, a);
    let mut h: Vec<(String, &'static str)> = match (&app.overlay, &app.reader) {
        (Some(Overlay::Help), _) => return vec![(k(Help), "or any other key closes the help")],
        (Some(Overlay::Confirm(_)), _) => return vec![(k(Confirm), "yes"), (k(Cancel), "no")],
        (Some(Overlay::Detail(_)), _) => {
            return vec![
                (k(Back), "close"),
                (k(Down), "scroll"),
                (k(PageDown), "page"),
            ];
        }
        (Some(Overlay::Form(_)), _) => {
            return vec![
                ("enter".into(), "submit"),
                ("esc".into(), "cancel"),
                ("tab".into(), "next field"),
            ];
        }
        (None, Some(r)) => {
            let mut h = vec![(k(Back), "close")];
            match r.kind {
                ReaderKind::Diff { .. } => h.extend([
                    (k(Approve), "approve"),
                    (k(Reject), "reject"),
                    (k(NextFile), "next file"),
                    (k(PrevFile), "prev file"),
                ]),
                ReaderKind::Output { .. } => {
                    h.extend([(k(Attach), "attach"), (k(Bottom), "follow")]);
                }
                ReaderKind::Transcript { .. } => {}
            }
            h.extend([(k(Search), "search"), (k(SearchNext), "next match")]);
            h
        }
        (None, None) => match app.view {
            View::Sessions => vec![(k(Open), "output"), (k(Attach), "attach")],
            View::Log => vec![
                (k(Open), "entry"),
                (k(Search), "search"),
                (k(FilterType), "type"),
                (k(FilterSession), "session"),
                (k(ClearFilter), "clear"),
                (k(Bottom), "follow"),
            ],
            View::Review => vec![
                (k(Open), "diff"),
                (k(Approve), "approve"),
                (k(Reject), "reject"),
                (k(ToggleMark), "mark"),
                (k(FilterType), "filter"),
                (k(FilterSession), "session"),
                (k(SortReview), "sort"),
            ],
            View::Tasks => vec![
                (k(Open), "details"),
                (k(RetryTask), "retry"),
                (k(NewTask), "new"),
                (k(ApproveTask), "approve"),
                (k(DropTask), "drop"),
            ],
            View::Meetings => vec![(k(Open), "read")],
        },
    };
    h.extend([
        (k(NextView), "next view"),
        (k(Help), "help"),
        (k(Quit), "quit"),
    ]);
    h
}

/// Hints as "key what  key what", dropping the view's own ones from the end (never help and
/// quit, the last two) until they fit.
fn hint_line(mut hints: Vec<(String, &'static str)>, w: usize, t: Theme) -> Line<'static> {
    let len = |h: &[(String, &str)]| -> usize {
        h.iter()
            .map(|(k, what)| text_width(k) + text_width(what) + 3)
            .sum()
    };
    while len(&hints) > w && hints.len() > 2 {
        hints.remove(hints.len() - 3);
    }
    let mut spans = Vec::new();
    for (i, (k, what)) in hints.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(k, t.key()));
        spans.push(Span::styled(format!(" {what}"), t.dim()));
    }
    Line::from(fit_spans(spans, w, false))
}

#[cfg(test)]
mod age_tests {
    use super::age;

    #[test]
    fn the_next_change_is_where_the_text_changes() {
        use super::next_age_change;
        for secs in [
            -5,
            0,
            59,
            60,
            61,
            3599,
            3600,
            86_399,
            86_400,
            3 * 86_400 + 7000,
        ] {
            let next = next_age_change(secs);
            assert!(next > secs.max(0), "{secs}: {next}");
            assert_ne!(age(next), age(secs), "{secs}: the text changes at {next}");
            assert_eq!(age(next - 1), age(secs), "{secs}: and not before {next}");
        }
    }

    #[test]
    fn ages_change_at_most_once_a_minute() {
        assert_eq!(age(-5), "<1m");
        assert_eq!(age(0), "<1m");
        assert_eq!(age(59), "<1m");
        assert_eq!(age(60), "1m");
        assert_eq!(age(3599), "59m");
        assert_eq!(age(3600), "1h00m");
        assert_eq!(age(2 * 3600 + 5 * 60 + 59), "2h05m");
        assert_eq!(age(86_399), "23h59m");
        assert_eq!(age(86_400), "1d");
        assert_eq!(age(3 * 86_400 + 7000), "3d");
    }
}
