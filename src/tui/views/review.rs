//! The review queue: the branches waiting for a decision, oldest first, with what they did to the
//! checks, the size of their diff, conflicts, twins (`N twins`: N open entries make the same
//! change) and the automated review's verdict.

use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use ratatui::text::Span;

use crate::outcome::Counts;
use crate::store::queue::Status;
use crate::tui::app::App;
use crate::tui::data::ReviewRow;

use super::age_at;
use super::table::{Body, Cell, Col, cell, draw_table, draw_text, title, window};
use super::theme::Theme;

const COLS: [Col; 8] = [
    Col::new("branch", 12, 40, 10),
    // The branch names the session: its own column only when wide.
    Col::new("session", 3, 12, 2).from(180),
    Col::new("age", 3, 6, 8),
    Col::new("checks", 8, 34, 7),
    Col::new("diff", 8, 20, 6),
    Col::new("status", 7, 32, 9),
    Col::new("verdict", 4, 8, 3).from(100),
    Col::new("subject", 10, 100, 5).fill(),
];

pub fn draw(app: &App, buf: &mut Buffer, body: Body, t: Theme) {
    let rows = usize::from(body.list.height);
    if let Err(msg) = &app.data.queue {
        title(buf, body, "review queue", t);
        draw_text(buf, body.list, msg, t.error());
        return;
    }
    let open = app.open_reviews();
    if open.is_empty() {
        title(buf, body, "review queue", t);
        draw_text(buf, body.list, "No branches waiting for review.", t.dim());
        return;
    }
    let sel = app.review_sel.min(open.len() - 1);
    let shown = window(sel, open.len(), rows);
    let width = body.list.width;
    let start = shown.start;
    let cells = open[shown]
        .iter()
        .map(|r| cells(app, r, width, t))
        .collect();
    draw_table(buf, body, t, &COLS, cells, Some(sel - start));
}

fn cells<'a>(app: &App, r: &'a ReviewRow, width: u16, t: Theme) -> Vec<Cell<'a>> {
    let e = &r.entry;
    let wide = width >= 120;
    let diff = match r.diff {
        Ok((files, added, removed)) => vec![
            Span::raw(if wide {
                format!("{files} file{} ", if files == 1 { "" } else { "s" })
            } else {
                format!("{files}f ")
            }),
            Span::styled(format!("+{added}"), t.ok()),
            Span::raw(" "),
            Span::styled(format!("−{removed}"), t.error()),
        ],
        Err(_) => cell("diff ?", t.warn()),
    };
    let status = match e.status {
        // The files' names (their paths are in the message of the failed approval).
        Status::Conflict if wide && !e.conflict_files.is_empty() => cell(
            format!(
                "CONFLICT {}",
                e.conflict_files
                    .iter()
                    .map(|f| f.rsplit('/').next().unwrap_or(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            t.error().add_modifier(Modifier::BOLD),
        ),
        Status::Conflict => cell("CONFLICT", t.error().add_modifier(Modifier::BOLD)),
        Status::Stale => cell("STALE", t.warn().add_modifier(Modifier::BOLD)),
        // Twins: the same change waits more than once; approving one supersedes the others.
        other if e.group.is_some() => {
            let n = app
                .open_reviews()
                .iter()
                .filter(|o| o.entry.group == e.group)
                .count();
            cell(format!("{} · {n} twins", other.as_str()), t.warn())
        }
        other => cell(other.as_str(), t.plain()),
    };
    let verdict = match r.verdict.as_deref() {
        Some(v) => cell(
            v,
            match v {
                "approve" => t.ok(),
                "reject" => t.error(),
                _ => t.warn(),
            },
        ),
        None => cell("-", t.dim()),
    };
    vec![
        // Narrow, "brl/" goes: every branch here starts with it.
        cell(
            if wide {
                e.branch.as_str()
            } else {
                e.branch.strip_prefix("brl/").unwrap_or(&e.branch)
            },
            t.bold(),
        ),
        cell(e.session.as_str(), t.plain()),
        cell(age_at(app, e.created), t.plain()),
        figures(&e.before, &e.after, width >= 180, t),
        diff,
        status,
        verdict,
        cell(e.subject.as_str(), t.plain()),
    ]
}

/// "err 3→1 fail 2→0" (and the passed tests with `passed`): better green, worse red.
pub fn figures<'a>(before: &Counts, after: &Counts, passed: bool, t: Theme) -> Cell<'a> {
    let mut spans = Vec::new();
    let all = [
        ("err", before.errors, after.errors, false),
        ("fail", before.failures, after.failures, false),
        ("pass", before.passed, after.passed, true),
    ];
    for (name, b, a, more_is_better) in all {
        if (b.is_none() && a.is_none()) || (more_is_better && !passed) {
            continue;
        }
        let n = |x: Option<u64>| x.map_or("?".to_string(), |x| x.to_string());
        let style = match (b, a) {
            (Some(b), Some(a)) if a == b => t.plain(),
            (Some(b), Some(a)) if (a < b) != more_is_better => t.ok(),
            (Some(_), Some(_)) => t.error(),
            _ => t.warn(),
        };
        if !spans.is_empty() {
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(format!("{name} {}→{}", n(b), n(a)), style));
    }
    if spans.is_empty() {
        spans.push(Span::styled("-", t.dim()));
    }
    spans
}
