//! The meetings (standups and other transcripts in `logs/meetings/`), newest first.

use ratatui::buffer::Buffer;

use crate::tui::app::App;
use crate::tui::data::Meeting;

use super::age_at;
use super::table::{Body, Cell, Col, cell, draw_table, draw_text, title, window};
use super::theme::Theme;

const COLS: [Col; 3] = [
    Col::new("meeting", 12, 60, 10).fill(),
    Col::new("when", 10, 30, 8),
    Col::new("size", 5, 9, 7),
];

pub fn draw(app: &App, buf: &mut Buffer, body: Body, t: Theme) {
    let rows = usize::from(body.list.height);
    let meetings = match &app.data.meetings {
        Err(msg) => {
            title(buf, body, "meetings (logs/meetings/)", t);
            draw_text(buf, body.list, msg, t.error());
            return;
        }
        Ok(m) if m.is_empty() => {
            title(buf, body, "meetings (logs/meetings/)", t);
            let text = "No meetings yet (standups are saved in logs/meetings/).";
            draw_text(buf, body.list, text, t.dim());
            return;
        }
        Ok(m) => m,
    };
    let sel = app.meeting_sel.min(meetings.len() - 1);
    let shown = window(sel, meetings.len(), rows);
    let wide = body.list.width >= 120;
    let start = shown.start;
    let cells = meetings[shown]
        .iter()
        .map(|m| cells(app, m, wide, t))
        .collect();
    draw_table(buf, body, t, &COLS, cells, Some(sel - start));
}

fn cells<'a>(app: &App, m: &'a Meeting, wide: bool, t: Theme) -> Vec<Cell<'a>> {
    let when = match m.at {
        Some(at) if wide => format!("{} ({} ago)", at.format("%Y-%m-%d %H:%M"), age_at(app, at)),
        Some(at) => at.format("%Y-%m-%d %H:%M").to_string(),
        None => "-".into(),
    };
    vec![
        cell(m.name.as_str(), t.plain()),
        cell(when, t.plain()),
        cell(size(m.bytes), t.dim()),
    ]
}

/// "512 B", "4.2 KB", "1.3 MB".
fn size(bytes: u64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if b < K {
        format!("{bytes} B")
    } else if b < K * K {
        format!("{:.1} KB", b / K)
    } else {
        format!("{:.1} MB", b / (K * K))
    }
}
