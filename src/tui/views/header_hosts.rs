//! The header's hosts part: each `[[hosts]]` host's memory next to the local figure, or that
//! it is unreachable (for how long) or stopped — from what the control room last wrote in
//! `logs/hosts/<name>.json` (the loader reads it; the dashboard never asks a host).

use ratatui::style::Modifier;
use ratatui::text::Span;

use crate::tui::data::Data;

use super::theme::Theme;

/// Each `[[hosts]]` host's memory next to the local figure: `a 41% · b unreachable 3m`
/// (short: `a 41% b down 3m`).
pub fn spans(d: &Data, t: Theme, short: bool) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for h in &d.hosts {
        if !spans.is_empty() {
            spans.push(Span::styled(if short { " " } else { " · " }, t.dim()));
        }
        let (text, style) = match (&h.unreachable_for, h.stopped, h.memory) {
            (_, true, _) => (format!("{} stopped", h.name), t.dim()),
            (Some(age), _, _) => (
                format!(
                    "{} {} {age}",
                    h.name,
                    if short { "down" } else { "unreachable" }
                ),
                t.error(),
            ),
            (None, _, Some(m)) if m.gated() => (
                format!("{} {:.0}% GATED", h.name, m.used_percent),
                t.warn().add_modifier(Modifier::BOLD),
            ),
            (None, _, Some(m)) => (format!("{} {:.0}%", h.name, m.used_percent), t.plain()),
            (None, _, None) => (format!("{} ?", h.name), t.dim()),
        };
        spans.push(Span::styled(text, style));
    }
    spans
}
