//! A reader over the view: a branch's diff (with its files listed on the left when the terminal
//! is wide), a meeting's transcript (wrapped), or a session's output (following its end).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::tui::app::{Reader, ReaderKind};
use crate::tui::data::Document;
use crate::tui::reader::top;

use super::table::{Body, draw_text, fit, fit_spans, highlight, put, row, text_width, window};
use super::theme::Theme;

/// Width of a diff's file list, when shown.
const FILES_WIDTH: u16 = 30;
/// The terminal width from which a diff shows its file list.
const FILES_FROM: u16 = 120;

pub fn draw(r: &Reader, buf: &mut Buffer, body: Body, t: Theme) {
    let rows = usize::from(body.list.height);
    title(r, buf, body.title, rows, t);
    let doc = match &r.doc {
        None => {
            put(buf, row(body.list, 0), &Line::styled("loading…", t.dim()));
            return;
        }
        Some(Err(e)) => {
            draw_text(buf, body.list, e, t.error());
            return;
        }
        Some(Ok(doc)) => doc,
    };
    let mut text = body.list;
    let diff = matches!(r.kind, ReaderKind::Diff { .. });
    if diff && body.list.width >= FILES_FROM && !doc.files.is_empty() {
        let panel = Rect {
            width: FILES_WIDTH,
            ..body.list
        };
        files(r, doc, buf, panel, t);
        text = Rect {
            x: body.list.x + FILES_WIDTH + 1,
            width: body.list.width - FILES_WIDTH - 1,
            ..body.list
        };
        for y in 0..body.list.height {
            let sep = Rect {
                x: body.list.x + FILES_WIDTH,
                width: 1,
                ..row(body.list, y)
            };
            put(buf, sep, &Line::styled("│", t.dim()));
        }
    }
    if r.lines.is_empty() {
        put(buf, row(text, 0), &Line::styled("(empty)", t.dim()));
        return;
    }
    let margin = u16::from(matches!(r.kind, ReaderKind::Transcript { .. }));
    let needle = r.search.as_deref().unwrap_or("");
    let first = top(r, rows);
    for (i, l) in r.lines.iter().skip(first).take(rows).enumerate() {
        let Ok(y) = u16::try_from(i) else { break };
        let style = match r.kind {
            ReaderKind::Diff { .. } => t.diff_line(l),
            ReaderKind::Transcript { .. } if l.starts_with('#') => t.bold(),
            _ => t.plain(),
        };
        let shown = if l.contains('\t') {
            l.replace('\t', "    ")
        } else {
            l.clone()
        };
        let (spans, _) = highlight(shown, style, needle, t.hit());
        let area = row(text, y);
        let area = Rect {
            x: area.x + margin.min(area.width),
            width: area.width.saturating_sub(margin),
            ..area
        };
        put(buf, area, &Line::from(spans));
    }
}

/// What is open, where in it, and the search.
fn title(r: &Reader, buf: &mut Buffer, area: Rect, rows: usize, t: Theme) {
    let doc = match &r.doc {
        Some(Ok(d)) => Some(d),
        _ => None,
    };
    let mut spans = match &r.kind {
        ReaderKind::Diff { branch } => {
            let mut s = vec![Span::styled(format!("diff {branch}"), t.title())];
            if let Some(d) = doc
                && let Some((path, _)) = d.files.get(r.file)
            {
                s.push(Span::styled(
                    format!(" — file {}/{} ", r.file + 1, d.files.len()),
                    t.dim(),
                ));
                s.push(Span::styled(path.clone(), t.bold()));
            }
            s
        }
        ReaderKind::Transcript { path } => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            vec![Span::styled(name, t.title())]
        }
        ReaderKind::Output { session } => vec![
            Span::styled(format!("output of {session} "), t.title()),
            if r.follow {
                Span::styled("(live)", t.ok())
            } else {
                Span::styled("(paused)", t.warn().add_modifier(Modifier::BOLD))
            },
        ],
    };
    if let Some(note) = doc.and_then(|d| d.note.as_ref()) {
        spans.push(Span::styled(format!(" · {note}"), t.warn()));
    }
    if let Some(s) = &r.search {
        spans.push(Span::styled(format!(" · search: {s}"), t.info()));
    }
    let w = usize::from(area.width);
    let len = r.lines.len();
    let place = if len > rows {
        let first = top(r, rows);
        format!("lines {}–{} of {len}", first + 1, (first + rows).min(len))
    } else {
        String::new()
    };
    let pw = text_width(&place);
    let spans = if !place.is_empty() && pw + 12 < w {
        let mut s = fit_spans(spans, w - pw - 1, true);
        s.push(Span::raw(" "));
        s.push(Span::styled(place, t.dim()));
        s
    } else {
        fit_spans(spans, w, false)
    };
    put(buf, area, &Line::from(spans));
}

/// A diff's files, the current one highlighted.
fn files(r: &Reader, doc: &Document, buf: &mut Buffer, area: Rect, t: Theme) {
    let n = doc.files.len();
    let cur = r.file.min(n.saturating_sub(1));
    let shown = window(cur, n, usize::from(area.height));
    let w = usize::from(area.width);
    let start = shown.start;
    for (i, (path, _)) in doc.files[shown].iter().enumerate() {
        let Ok(y) = u16::try_from(i) else { break };
        let inner = w.saturating_sub(1);
        let text = format!(" {:<inner$}", fit_left(path, inner));
        let style = if start + i == cur {
            t.selected()
        } else {
            t.plain()
        };
        put(buf, row(area, y), &Line::styled(fit(&text, w), style));
    }
}

/// `s` in `w` columns keeping its end ("…c/x.rs"): a path's file name matters most.
fn fit_left(s: &str, w: usize) -> String {
    if text_width(s) <= w || w == 0 {
        return fit(s, w);
    }
    let rev: String = s.chars().rev().collect();
    let cut: String = fit(&rev, w).chars().rev().collect();
    cut
}
