//! The experiment log: the entries the filters let through, ending at the bottom line (the newest
//! while following), "HH:MM:SS type session fields", coloured by type; search matches marked.
//! Only the visible entries are formatted.

use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::config::keys::Action;
use crate::store::log::{Entry, format_human};
use crate::tui::app::App;
use crate::tui::motion::log_bottom;

use super::table::{Body, fit_spans, highlight, put, row, text_width};
use super::theme::Theme;

/// Width of the type column at least (as `brl log` pads it).
const KIND_WIDTH: usize = 15;

pub fn draw(app: &App, buf: &mut Buffer, body: Body, t: Theme) {
    let filtered = app.filtered_log();
    let rows = usize::from(body.list.height);
    title(app, buf, body, filtered.len(), t);
    if filtered.is_empty() {
        let text = if app.data.log.entries.is_empty() {
            "The experiment log is empty: every cycle, decision and skip is written to it.".into()
        } else {
            format!(
                "No entry matches the filters; `{}` clears them.",
                super::keys(app, Action::ClearFilter)
            )
        };
        put(buf, row(body.list, 0), &Line::styled(text, t.dim()));
        return;
    }
    let bottom = log_bottom(app, &filtered).min(filtered.len() - 1);
    let start = (bottom + 1).saturating_sub(rows);
    let shown: Vec<&Entry> = filtered[start..=bottom]
        .iter()
        .filter_map(|&i| app.data.log.entries.get(i))
        .collect();
    let session_w = shown
        .iter()
        .map(|e| e.session.as_deref().map_or(1, text_width))
        .max()
        .unwrap_or(1)
        .clamp(2, 12);
    let kind_w = shown
        .iter()
        .map(|e| text_width(&e.kind))
        .max()
        .unwrap_or(KIND_WIDTH)
        .clamp(KIND_WIDTH, 20);
    let needle = app.log.search.as_deref().unwrap_or("");
    let last = shown.len().saturating_sub(1);
    for (i, e) in shown.into_iter().enumerate() {
        let Ok(y) = u16::try_from(i) else { break };
        let line = entry_line(e, (kind_w, session_w), needle, t);
        put(buf, row(body.list, y), &line);
        // The bottom entry is the one `enter` opens whole.
        if i == last && app.log.paused_at.is_some() {
            let area = row(body.list, y);
            buf.set_style(area.intersection(buf.area), t.selected());
        }
    }
}

/// "following" or "PAUSED — end/G to follow", the filters, and what to know about the file.
fn title(app: &App, buf: &mut Buffer, body: Body, shown: usize, t: Theme) {
    let l = &app.log;
    let mut parts: Vec<Span> = vec![match l.paused_at {
        None => Span::styled("following", t.ok()),
        Some(_) => Span::styled(
            format!("PAUSED — {} to follow", super::keys(app, Action::Bottom)),
            t.warn().add_modifier(Modifier::BOLD),
        ),
    }];
    let filters = [
        ("type", &l.kind),
        ("session", &l.session),
        ("search", &l.search),
    ];
    for (name, value) in filters {
        if let Some(v) = value {
            parts.push(Span::styled(format!("{name}: {v}"), t.info()));
        }
    }
    let total = app.data.log.entries.len();
    parts.push(Span::styled(
        if shown == total {
            format!("{total} entries")
        } else {
            format!("{shown} of {total} entries")
        },
        t.dim(),
    ));
    let log = &app.data.log;
    if log.malformed > 0 {
        parts.push(Span::styled(
            format!(
                "{} unreadable line{} skipped",
                log.malformed,
                if log.malformed == 1 { "" } else { "s" }
            ),
            t.warn(),
        ));
    }
    for n in &log.notices {
        parts.push(Span::styled(n.clone(), t.warn()));
    }
    let mut spans = vec![Span::styled("experiment log: ", t.title())];
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", t.dim()));
        }
        spans.push(p);
    }
    let line = Line::from(fit_spans(spans, usize::from(body.title.width), false));
    put(buf, body.title, &line);
}

/// One entry: time, type, session and the data as `brl log` shows it.
fn entry_line<'a>(e: &Entry, widths: (usize, usize), needle: &str, t: Theme) -> Line<'a> {
    let (kind_w, session_w) = widths;
    let full = format_human(e);
    let session = e.session.as_deref().unwrap_or("-");
    let prefix = format!(
        "{}  {:<KIND_WIDTH$} {}",
        e.ts.format("%Y-%m-%d %H:%M:%S"),
        e.kind,
        session
    );
    let fields = full
        .strip_prefix(&prefix)
        .map(|rest| rest.trim_start().to_string())
        .unwrap_or_else(|| full.get(20..).unwrap_or("").to_string());
    let style = t.log_entry(e);
    let pieces = [
        (e.ts.format("%H:%M:%S").to_string(), t.dim()),
        (format!("{:<kind_w$}", e.kind), style),
        (format!("{session:<session_w$}"), t.plain()),
        (fields, style),
    ];
    let mut spans = Vec::new();
    let mut matched = false;
    for (i, (text, style)) in pieces.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" "));
        }
        let (s, hit) = highlight(text, style, needle, t.hit());
        matched |= hit;
        spans.extend(s);
    }
    let mut line = Line::from(spans);
    if !matched && !needle.is_empty() && full.to_lowercase().contains(&needle.to_lowercase()) {
        // The match is in what is not shown (the date) or across columns: mark the line.
        line = line.patch_style(t.hit());
    }
    line
}
