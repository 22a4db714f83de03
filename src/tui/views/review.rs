//! The review queue: the branches waiting for a decision (or, filtered, the decided ones with
//! who/when/why), with what they did to the checks, the size of their diff, conflicts, twins
//! (`N twins`: N open entries make the same change) and the automated review's verdict. Marked
//! branches (for a bulk approve/reject) carry a `✓`; a line at the bottom says the filter, sort
//! and marks when they are not the defaults.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::config::keys::Action;
use crate::tui::review_list::{ReviewFilter, ReviewSort};

use crate::outcome::Counts;
use crate::store::queue::Status;
use crate::tui::app::App;
use crate::tui::data::ReviewRow;

use super::age_at;
use super::table::{Body, Cell, Col, cell, draw_table, draw_text, fit_spans, put, title, window};
use super::theme::Theme;

const COLS: [Col; 8] = [
    Col::new("branch", 12, 40, 10),
    // The branch names the session: its own column only when wide.
    Col::new("session", 3, 12, 2).from(180),
    Col::new("age", 3, 6, 8),
    Col::new("checks", 8, 34, 7),
    Col::new("diff", 8, 20, 6),
    Col::new("status", 7, 32, 9),
    // The verdict stays at 80 columns: it is what a person decides by.
    Col::new("verdict", 4, 8, 9),
    // At least 16: with the words every subject shares cut, what tells them apart shows.
    Col::new("subject", 16, 100, 5).fill(),
];

pub fn draw(app: &App, buf: &mut Buffer, body: Body, t: Theme) {
    if let Err(msg) = &app.data.queue {
        title(buf, body, "review queue", t);
        draw_text(buf, body.list, msg, t.error());
        return;
    }
    let v = &app.review;
    let status_line = v.filter != ReviewFilter::Open
        || v.session.is_some()
        || v.sort != ReviewSort::Oldest
        || !v.marked.is_empty();
    let mut body = body;
    if status_line && body.list.height > 1 {
        body.list.height -= 1;
        let at = Rect {
            y: body.list.y + body.list.height,
            height: 1,
            ..body.list
        };
        put(buf, at, &state_line(app, usize::from(at.width), t));
    }
    let rows = usize::from(body.list.height);
    let listed = app.listed_reviews();
    if listed.is_empty() {
        title(buf, body, "review queue", t);
        let text = if v.filter == ReviewFilter::Open && v.session.is_none() {
            "No branches waiting for review.".to_string()
        } else {
            format!(
                "No branch matches the filter; `{}` clears it.",
                super::keys(app, Action::ClearFilter)
            )
        };
        draw_text(buf, body.list, &text, t.dim());
        return;
    }
    let sel = app.review_sel.min(listed.len() - 1);
    let shown = window(sel, listed.len(), rows);
    let width = body.list.width;
    let start = shown.start;
    let common = common_prefix(
        listed[shown.clone()]
            .iter()
            .map(|r| r.entry.subject.as_str()),
    );
    let cells = listed[shown]
        .iter()
        .map(|r| cells(app, r, width, common, t))
        .collect();
    draw_table(buf, body, t, &COLS, cells, Some(sel - start));
}

/// "filter: decided · session: s2 · sort: newest first · 3 marked (a approves them all)".
fn state_line<'a>(app: &App, width: usize, t: Theme) -> Line<'a> {
    let v = &app.review;
    let mut spans = vec![
        Span::styled("filter: ", t.dim()),
        Span::styled(v.filter.label(), t.info()),
    ];
    if let Some(s) = &v.session {
        spans.push(Span::styled(" · session: ", t.dim()));
        spans.push(Span::styled(s.clone(), t.info()));
    }
    spans.push(Span::styled(" · sort: ", t.dim()));
    spans.push(Span::styled(v.sort.label(), t.info()));
    if !v.marked.is_empty() {
        spans.push(Span::styled(" · ", t.dim()));
        spans.push(Span::styled(
            format!("{} marked", v.marked.len()),
            t.warn().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(
            format!(
                " ({} approves, {} rejects them all)",
                super::keys(app, Action::Approve),
                super::keys(app, Action::Reject)
            ),
            t.dim(),
        ));
    }
    Line::from(fit_spans(spans, width, false))
}

/// The words every subject shown starts with ("demo-agent: fix "): narrow, they go, so the
/// subject's distinctive part is what shows. Only when more than one subject is shown.
fn common_prefix<'s>(subjects: impl Iterator<Item = &'s str>) -> usize {
    let all: Vec<&str> = subjects.collect();
    let [first, rest @ ..] = all.as_slice() else {
        return 0;
    };
    if rest.is_empty() {
        return 0;
    }
    let mut n = first.len();
    for s in rest {
        n = n.min(
            first
                .bytes()
                .zip(s.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    // Back to a word's start, never the whole of a subject.
    let cut = first[..n].rfind(' ').map_or(0, |i| i + 1);
    if all.iter().any(|s| s.len() <= cut) {
        0
    } else {
        cut
    }
}

/// Who decided `branch`, from its newest `review_decision` entry the dashboard holds.
fn decided_by(app: &App, branch: &str) -> Option<String> {
    app.data
        .log
        .entries
        .iter()
        .rev()
        .filter(|e| e.kind == "review_decision")
        .find(|e| e.data.get("branch").and_then(|b| b.as_str()) == Some(branch))
        .and_then(|e| {
            e.data
                .get("by")
                .and_then(|b| b.as_str())
                .map(str::to_string)
        })
}

fn cells<'a>(app: &App, r: &'a ReviewRow, width: u16, common: usize, t: Theme) -> Vec<Cell<'a>> {
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
    let mut branch = Vec::new();
    if !app.review.marked.is_empty() {
        branch.push(if app.review.marked.contains(&e.branch) {
            Span::styled("✓ ", t.warn().add_modifier(Modifier::BOLD))
        } else {
            Span::raw("  ")
        });
    }
    // Narrow, "brl/" goes: every branch here starts with it.
    branch.push(Span::styled(
        if wide {
            e.branch.as_str()
        } else {
            e.branch.strip_prefix("brl/").unwrap_or(&e.branch)
        },
        t.bold(),
    ));
    let subject = if !e.status.is_open() {
        // Decided: who, when, why.
        let who = decided_by(app, &e.branch).unwrap_or_else(|| "-".into());
        let when = e
            .decided
            .map_or_else(|| "-".into(), |d| d.format("%m-%d %H:%M").to_string());
        let why = e.decision_reason.as_deref().unwrap_or(e.subject.as_str());
        cell(format!("{who} · {when} · {why}"), t.plain())
    } else if !wide && common > 0 {
        cell(format!("…{}", &e.subject[common..]), t.plain())
    } else {
        cell(e.subject.as_str(), t.plain())
    };
    vec![
        branch,
        cell(e.session.as_str(), t.plain()),
        cell(age_at(app, e.created), t.plain()),
        if wide {
            figures(&e.before, &e.after, width >= 180, t)
        } else {
            compact_figures(&e.before, &e.after, t)
        },
        diff,
        status,
        verdict,
        subject,
    ]
}

/// Narrow: "e3→1 f2→0", coloured as [`figures`].
fn compact_figures<'a>(before: &Counts, after: &Counts, t: Theme) -> Cell<'a> {
    figures(before, after, false, t)
        .into_iter()
        .map(|s| {
            let text = s.content.replacen("err ", "e", 1).replacen("fail ", "f", 1);
            Span::styled(text, s.style)
        })
        .collect()
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
