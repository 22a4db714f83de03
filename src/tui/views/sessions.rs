//! The sessions: state, phase and for how long, branch, the last cycle, today's figures, health;
//! below the table, the selected session's details and live output (`session_detail.rs`).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::tui::app::App;
use crate::tui::data::{SessionRow, SessionState};

use super::age_at;
use super::table::{Body, Cell, Col, cell, draw_table, put, row, title, window};
use super::theme::Theme;

const COLS: [Col; 7] = [
    Col::new("session", 4, 16, 10),
    Col::new("state", 5, 8, 9),
    Col::new("phase", 8, 18, 8),
    // Narrow, the branch goes: its time is the phase's, and the diff reader names it.
    Col::new("branch", 15, 40, 3).from(110),
    Col::new("last cycle", 10, 60, 6).fill(),
    Col::new("today", 5, 24, 5),
    Col::new("health", 6, 12, 4),
];

/// With `[[hosts]]`: the same columns and, after the session, the host it runs on.
const COLS_HOSTS: [Col; 8] = [
    COLS[0],
    Col::new("host", 4, 12, 7),
    COLS[1],
    COLS[2],
    COLS[3],
    COLS[4],
    COLS[5],
    COLS[6],
];

pub fn draw(app: &App, buf: &mut Buffer, body: Body, t: Theme) {
    let sessions = &app.data.sessions;
    let rows = usize::from(body.list.height);
    if sessions.is_empty() {
        title(buf, body, "sessions", t);
        let text = "No sessions configured (`sessions = N` in brl.toml names them s1..sN).";
        put(buf, row(body.list, 0), &Line::styled(text, t.dim()));
        return;
    }
    let sel = app.session_sel.min(sessions.len() - 1);
    // The table takes what it needs, up to half the rows; the rest shows the selected
    // session's reasons and live output.
    let table_rows = table_rows(sessions.len(), rows);
    let shown = window(sel, sessions.len(), table_rows);
    let wide = body.list.width >= 120;
    let start = shown.start;
    // A host column as soon as one session runs on a `[[hosts]]` host ("local" for this
    // machine's): the table says where each worker lives.
    let hosts = sessions.iter().any(|s| s.host.is_some());
    let cells = sessions[shown]
        .iter()
        .map(|s| {
            let mut c = cells(app, s, wide, t);
            if hosts {
                let host = match &s.host {
                    Some(h) => cell(h.as_str(), t.plain()),
                    None => cell("local", t.dim()),
                };
                c.insert(1, host);
            }
            c
        })
        .collect();
    let cols: &[Col] = if hosts { &COLS_HOSTS } else { &COLS };
    draw_table(buf, body, t, cols, cells, Some(sel - start));
    let used = u16::try_from(table_rows).unwrap_or(u16::MAX);
    if body.list.height > used + 1 {
        let lower = Rect {
            y: body.list.y + used,
            height: body.list.height - used,
            ..body.list
        };
        super::session_detail::draw(app, &sessions[sel], buf, lower, t);
    }
}

/// The table's rows for `n` sessions in `rows` rows (the same split as [`draw`]), for the mouse.
pub fn table_rows(n: usize, rows: usize) -> usize {
    n.min((rows / 2).max(3)).min(rows)
}

fn cells<'a>(app: &App, s: &'a SessionRow, wide: bool, t: Theme) -> Vec<Cell<'a>> {
    let name = cell(s.name.as_str(), t.bold());
    let state = cell(s.state.label(), t.session_state(&s.state));
    if let SessionState::Error(msg) | SessionState::Blocked(msg) | SessionState::Unreachable(msg) =
        &s.state
    {
        return vec![name, state, cell(msg.as_str(), t.error())];
    }
    let what = match (&s.phase, &s.state) {
        (Some(p), _) => p.as_str(),
        (None, SessionState::Dead | SessionState::Stale | SessionState::Stopped) => "",
        (None, SessionState::Paused(_)) => "no new cycle until resumed",
        (None, _) => "idle",
    };
    let phase = match s.since {
        Some(since) if what.is_empty() => format!("for {}", age_at(app, since)),
        Some(since) => format!("{what} {}", age_at(app, since)),
        None => what.to_string(),
    };
    let branch = match &s.branch {
        Some(b) => cell(b.as_str(), t.plain()),
        None => cell("-", t.dim()),
    };
    let last = match &s.last {
        Some(l) => {
            let mut spans = vec![Span::styled(l.outcome.clone(), t.outcome(&l.outcome))];
            if let Some(f) = &s.last_figures {
                spans.push(Span::raw(format!(" {f}")));
            }
            if wide {
                spans.push(Span::styled(format!(" {} ago", age_at(app, l.at)), t.dim()));
                // The reason as far as the column allows; the area below has it in full.
                if !l.reason.is_empty() {
                    spans.push(Span::styled(format!(" — {}", l.reason), t.dim()));
                }
            }
            spans
        }
        None => cell("-", t.dim()),
    };
    // Kept/discarded/no change, in the header's order ("today: kept 3 · discarded 5 · no
    // change 4"): a cycle that changed nothing is not a discard.
    let (kept, disc, same) = (s.kept_today, s.discarded_today, s.no_change_today);
    let today = if wide {
        vec![
            Span::styled(format!("kept {kept}"), t.ok()),
            Span::styled(" · ", t.dim()),
            Span::styled(format!("disc {disc}"), t.warn()),
            Span::styled(" · ", t.dim()),
            Span::styled(format!("same {same}"), t.dim()),
        ]
    } else {
        vec![
            Span::styled(kept.to_string(), t.ok()),
            Span::styled("/", t.dim()),
            Span::styled(disc.to_string(), t.warn()),
            Span::styled("/", t.dim()),
            Span::styled(same.to_string(), t.dim()),
        ]
    };
    let health = match &s.health {
        Some(h) => cell(h.as_str(), health_style(h, t)),
        None => cell("-", t.dim()),
    };
    vec![
        name,
        state,
        cell(phase, t.plain()),
        branch,
        last,
        today,
        health,
    ]
}

fn health_style(h: &str, t: Theme) -> ratatui::style::Style {
    match h {
        "productive" | "healthy" => t.ok(),
        "stuck" | "failing" | "broken" => t.error(),
        _ => t.warn(),
    }
}
