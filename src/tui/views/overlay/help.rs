//! The help: every action of the key table with its keys (as configured) and its help, grouped
//! by where it applies. One action per line, in columns when the terminal is wide; on a small
//! terminal the actions flow along the lines, then lose their parenthetical remarks.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::config::keys::{ACTIONS, Context};
use crate::tui::app::App;

use super::super::table::{fit, fit_spans, text_width};
use super::super::theme::Theme;
use super::{boxed, centered};

const GROUPS: [Context; 8] = [
    Context::Global,
    Context::Sessions,
    Context::Log,
    Context::Review,
    Context::Tasks,
    Context::Meetings,
    Context::Reader,
    Context::Dialog,
];

const TEXT_FIELDS: &str = "in text fields: Enter submit, Esc cancel, Tab next field";

/// The narrowest column of the one-action-per-line layout.
const MIN_COLUMN: usize = 44;

struct Group {
    name: &'static str,
    entries: Vec<(String, &'static str)>,
}

fn groups(app: &App) -> Vec<Group> {
    GROUPS
        .iter()
        .map(|&c| Group {
            name: c.as_str(),
            entries: ACTIONS
                .iter()
                .filter(|d| d.contexts.contains(&c))
                .map(|d| (super::super::keys(app, d.action), d.help))
                .collect(),
        })
        .filter(|g| !g.entries.is_empty())
        .collect()
}

pub fn draw(app: &App, buf: &mut Buffer, area: Rect, t: Theme) {
    let groups = groups(app);
    let box_w = area.width.saturating_sub(4).clamp(area.width.min(20), 160);
    let inner_w = usize::from(box_w.saturating_sub(4));
    let max_h = usize::from(area.height.saturating_sub(4)).max(1);
    let (lines, used_w) = match columns(&groups, inner_w, max_h, t) {
        Some(fitted) => fitted,
        None => {
            let mut lines = flow(&groups, inner_w, false, t);
            if lines.len() > max_h {
                lines = flow(&groups, inner_w, true, t);
            }
            if lines.len() > max_h {
                lines.truncate(max_h.saturating_sub(1));
                let more = fit("… (a taller terminal shows the rest)", inner_w);
                lines.push(Line::styled(more, t.dim()));
            }
            (lines, inner_w)
        }
    };
    let w = u16::try_from(used_w + 4).unwrap_or(box_w).min(box_w);
    let h = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let title = format!(
        "keys — {} or any other key closes",
        super::super::keys(app, crate::config::keys::Action::Help)
    );
    boxed(buf, centered(area, w, h), &title, t.info(), lines);
}

/// A help without its parenthetical remark: "quit the dashboard".
fn short(help: &str) -> &str {
    help.split(" (").next().unwrap_or(help)
}

enum Item<'g> {
    Heading(&'static str),
    Entry(&'g str, &'static str),
    Note,
}

/// One action per line in up to three columns of at least [`MIN_COLUMN`], if that fits `max_h`
/// lines; also returns the width used.
fn columns(
    groups: &[Group],
    w: usize,
    max_h: usize,
    t: Theme,
) -> Option<(Vec<Line<'static>>, usize)> {
    let mut items = Vec::new();
    for g in groups {
        items.push(Item::Heading(g.name));
        items.extend(g.entries.iter().map(|(k, h)| Item::Entry(k.as_str(), h)));
    }
    items.push(Item::Note);
    let kw = groups
        .iter()
        .flat_map(|g| g.entries.iter().map(|(k, _)| text_width(k)))
        .max()
        .unwrap_or(1)
        .min(22);
    let widest = groups
        .iter()
        .flat_map(|g| g.entries.iter().map(|(_, h)| kw + 4 + text_width(h)))
        .chain([text_width(TEXT_FIELDS)])
        .max()
        .unwrap_or(MIN_COLUMN);
    for n in 1..=3usize {
        let col_w = (w.saturating_sub(3 * (n - 1))) / n;
        if col_w < MIN_COLUMN {
            return None;
        }
        let col_w = col_w.min(widest);
        for h in items.len().div_ceil(n)..=max_h {
            let Some(cols) = pack(&items, h, n) else {
                continue;
            };
            let mut lines = Vec::with_capacity(h);
            for r in 0..h {
                let mut spans = Vec::new();
                for (c, col) in cols.iter().enumerate() {
                    let cell = col.get(r).map_or_else(Vec::new, |i| item(i, kw, col_w, t));
                    let last = c + 1 == cols.len();
                    spans.extend(fit_spans(cell, col_w, !last));
                    if !last {
                        spans.push(Span::raw("   "));
                    }
                }
                lines.push(Line::from(spans));
            }
            return Some((lines, col_w * cols.len() + 3 * (cols.len() - 1)));
        }
    }
    None
}

/// The items in at most `n` columns of `h` lines, a heading never last in a column.
fn pack<'a, 'g>(items: &'a [Item<'g>], h: usize, n: usize) -> Option<Vec<Vec<&'a Item<'g>>>> {
    let mut cols: Vec<Vec<&Item>> = vec![vec![]];
    for it in items {
        let cur = cols.last().map_or(0, Vec::len);
        let heading_at_bottom = matches!(it, Item::Heading(_)) && cur + 1 == h;
        if cur == h || (heading_at_bottom && cur > 0) {
            cols.push(vec![]);
        }
        cols.last_mut()?.push(it);
    }
    (cols.len() <= n).then_some(cols)
}

/// One line of the columns; a help too long for the column loses its parenthetical remark.
fn item(i: &Item<'_>, kw: usize, w: usize, t: Theme) -> Vec<Span<'static>> {
    match i {
        Item::Heading(name) => vec![Span::styled(name.to_string(), t.title())],
        Item::Entry(k, help) => vec![
            Span::raw("  "),
            Span::styled(format!("{:<kw$}", fit(k, kw)), t.key()),
            Span::raw(if kw + 4 + text_width(help) > w {
                format!("  {}", short(help))
            } else {
                format!("  {help}")
            }),
        ],
        Item::Note => vec![Span::styled(TEXT_FIELDS, t.dim())],
    }
}

/// The actions of each group along lines of `w`: "heading: key help · key help …". Compact:
/// without parenthetical remarks, and what an earlier group has already shown as "as above:
/// keys".
fn flow(groups: &[Group], w: usize, compact: bool, t: Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for g in groups {
        let mut tokens: Vec<Vec<Span<'static>>> = Vec::new();
        let mut again: Vec<&str> = Vec::new();
        for (k, help) in &g.entries {
            if compact && seen.contains(&(k.as_str(), *help)) {
                again.push(k);
                continue;
            }
            seen.push((k, help));
            let help = if compact { short(help) } else { help };
            tokens.push(vec![
                Span::styled(k.clone(), t.key()),
                Span::raw(format!(" {help}")),
            ]);
        }
        if !again.is_empty() {
            let mut token = vec![Span::raw("as above: ")];
            for (i, k) in again.into_iter().enumerate() {
                if i > 0 {
                    token.push(Span::raw(", "));
                }
                token.push(Span::styled(k.to_string(), t.key()));
            }
            tokens.push(token);
        }
        let mut cur: Vec<Span<'static>> = vec![Span::styled(format!("{}: ", g.name), t.title())];
        let mut used = text_width(g.name) + 2;
        let mut first = true;
        for token in tokens {
            let tw: usize = token.iter().map(Span::width).sum();
            if !first && used + 3 + tw > w {
                lines.push(Line::from(std::mem::take(&mut cur)));
                cur.push(Span::raw("  "));
                used = 2;
            } else if !first {
                cur.push(Span::styled(" · ", t.dim()));
                used += 3;
            }
            first = false;
            let room = w.saturating_sub(used);
            used += tw.min(room);
            cur.extend(fit_spans(token, room, false));
        }
        lines.push(Line::from(cur));
    }
    lines.push(Line::styled(fit(TEXT_FIELDS, w), t.dim()));
    lines
}
