//! Below the Sessions table: the selected session's current cycle (phase, branch, task,
//! elapsed), why it or the fleet does nothing (in full, wrapped), the known flaky tests, and its
//! live output — the end of its pane log, colours kept — filling the rest. `enter` opens the
//! whole output in the reader.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::tui::app::App;
use crate::tui::data::{SessionRow, SessionState};
use crate::tui::reader::wrap;

use super::age_at;
use super::table::{fit_spans, put, row};
use super::theme::Theme;

/// At most this many rows for the last reason, the fleet's reasons, the flaky list each, so the
/// output keeps most of the area.
const MAX_REASON_ROWS: usize = 3;

pub fn draw(app: &App, s: &SessionRow, buf: &mut Buffer, area: Rect, t: Theme) {
    let w = usize::from(area.width);
    let mut lines: Vec<Line<'static>> = vec![heading(app, s, w, t)];
    let wrapped = |label: &str, text: &str, style: Style, lines: &mut Vec<Line<'static>>| {
        let text = format!("{label}{text}");
        for (i, l) in wrap(&text, w.max(10)).into_iter().enumerate() {
            if i == MAX_REASON_ROWS {
                break;
            }
            lines.push(Line::styled(l, style));
        }
    };
    if let SessionState::Blocked(why) | SessionState::Error(why) | SessionState::Unreachable(why) =
        &s.state
    {
        wrapped(
            &format!("{}: ", s.state.label()),
            why,
            t.alarm(),
            &mut lines,
        );
    }
    if let Some(l) = &s.last {
        let label = format!("last: {} {} ago — ", l.outcome, age_at(app, l.at));
        let reason = if l.reason.is_empty() {
            "(no reason given)"
        } else {
            l.reason.as_str()
        };
        wrapped(&label, reason, t.outcome(&l.outcome), &mut lines);
    }
    // The fleet's reasons past the first (the header shows the first).
    for why in app.data.why.iter().skip(1).take(MAX_REASON_ROWS) {
        wrapped("also: ", &why.text, t.warn(), &mut lines);
    }
    if !app.data.flaky.is_empty() {
        let names = app.data.flaky.join(", ");
        wrapped(
            &format!("flaky tests ({}): ", app.data.flaky.len()),
            &names,
            t.warn(),
            &mut lines,
        );
    }
    let rows = usize::from(area.height);
    let left = rows.saturating_sub(lines.len() + 1);
    if left > 0 {
        lines.push(Line::styled(
            format!("── output of {} (enter: all of it) ", s.name),
            t.dim(),
        ));
        lines.extend(output(app, s, left, w, t));
    }
    for (i, l) in lines.into_iter().take(rows).enumerate() {
        let Ok(y) = u16::try_from(i) else { break };
        put(buf, row(area, y), &l);
    }
}

/// "── s3 · hack 12m · brl/s3/20261121-1150 · task #13 make checkout faster".
fn heading(app: &App, s: &SessionRow, w: usize, t: Theme) -> Line<'static> {
    let mut spans = vec![
        Span::styled("── ", t.dim()),
        Span::styled(s.name.clone(), t.bold()),
        Span::styled(" · ", t.dim()),
        Span::styled(s.state.label(), t.session_state(&s.state)),
    ];
    if let Some(p) = &s.phase {
        let since = s.since.map(|at| age_at(app, at)).unwrap_or_default();
        spans.push(Span::raw(format!(" {p} {since}")));
    }
    if let Some(b) = &s.branch {
        spans.push(Span::styled(" · ", t.dim()));
        spans.push(Span::raw(b.clone()));
    }
    if let Some(task) = &s.task {
        spans.push(Span::styled(" · task ", t.dim()));
        spans.push(Span::raw(task.clone()));
    }
    Line::from(fit_spans(spans, w, false))
}

/// The last `rows` lines of the session's output, in its colours, cut to the width.
fn output(app: &App, s: &SessionRow, rows: usize, w: usize, t: Theme) -> Vec<Line<'static>> {
    let Some(p) = app.data.preview.as_ref().filter(|p| p.session == s.name) else {
        return vec![Line::styled("(loading…)", t.dim())];
    };
    if let Some(note) = &p.note {
        return vec![Line::styled(note.clone(), t.dim())];
    }
    let first = p.lines.len().saturating_sub(rows);
    let base = if app.no_color {
        Style::default()
    } else {
        t.plain()
    };
    p.lines[first..]
        .iter()
        .map(|l| {
            let mut spans = crate::tui::preview::spans(l, base);
            if app.no_color {
                for sp in &mut spans {
                    sp.style = Style::default();
                }
            }
            Line::from(fit_spans(spans, w, false))
        })
        .collect()
}
