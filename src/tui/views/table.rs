//! Text helpers the views share: widths, cutting to a width with "…", columns that give way on
//! narrow terminals, drawing a list's rows, and search highlighting.

use std::cmp::Reverse;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;

/// Columns the text of `s` takes on a terminal.
pub fn text_width(s: &str) -> usize {
    Span::raw(s).width()
}

fn char_width(c: char) -> usize {
    let mut b = [0u8; 4];
    if c.is_ascii() {
        return usize::from(!c.is_ascii_control());
    }
    text_width(c.encode_utf8(&mut b))
}

/// `s` cut to `w` columns, its last visible character replaced by "…" when cut.
pub fn fit(s: &str, w: usize) -> String {
    if text_width(s) <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    if w > 0 {
        out.push('…');
    }
    out
}

/// Spans cut to `w` columns (with "…" when cut), padded with spaces to exactly `w` if `pad`.
pub fn fit_spans<'a>(spans: Vec<Span<'a>>, w: usize, pad: bool) -> Vec<Span<'a>> {
    let total: usize = spans.iter().map(Span::width).sum();
    let mut out = Vec::with_capacity(spans.len() + 1);
    if total <= w {
        out.extend(spans);
        if pad && total < w {
            out.push(Span::raw(" ".repeat(w - total)));
        }
        return out;
    }
    let mut left = w;
    for s in spans {
        let sw = s.width();
        if sw < left {
            left -= sw;
            out.push(s);
            continue;
        }
        // This span is cut: it takes what is left, its last column an ellipsis.
        out.push(Span::styled(fit(&s.content, left.min(sw)), s.style));
        left = 0;
        break;
    }
    if pad && left > 0 {
        out.push(Span::raw(" ".repeat(left)));
    }
    out
}

/// Draw `line` on the first row of `area`, cut to its width (never outside the buffer).
pub fn put(buf: &mut Buffer, area: Rect, line: &Line<'_>) {
    let area = area.intersection(buf.area);
    if area.width == 0 || area.height == 0 {
        return;
    }
    buf.set_line(area.x, area.y, line, area.width);
}

/// The `i`-th row of `area` (empty when outside it).
pub fn row(area: Rect, i: u16) -> Rect {
    if i >= area.height {
        return Rect::new(area.x, area.y, 0, 0);
    }
    Rect::new(area.x, area.y + i, area.width, 1)
}

/// A view's body: its title line and the rows below.
#[derive(Clone, Copy, Debug)]
pub struct Body {
    pub title: Rect,
    pub list: Rect,
}

/// The items shown of a list of `len` with `sel` selected and `rows` rows: whole pages, so
/// moving within a page moves only the highlight.
pub fn window(sel: usize, len: usize, rows: usize) -> std::ops::Range<usize> {
    if rows == 0 || len == 0 {
        return 0..0;
    }
    let start = (sel.min(len - 1) / rows) * rows;
    start..(start + rows).min(len)
}

/// A column: its heading, the widths it takes (`min` when squeezed, at most `max`), how long
/// it is kept as the terminal narrows (higher stays longer), whether it takes the spare width,
/// and the width of list from which it is shown at all.
#[derive(Clone, Copy, Debug)]
pub struct Col {
    pub title: &'static str,
    pub min: usize,
    pub max: usize,
    pub keep: u8,
    pub fill: bool,
    pub from: usize,
}

impl Col {
    pub const fn new(title: &'static str, min: usize, max: usize, keep: u8) -> Col {
        Col {
            title,
            min,
            max,
            keep,
            fill: false,
            from: 0,
        }
    }

    /// Takes the width the others leave.
    pub const fn fill(self) -> Col {
        Col { fill: true, ..self }
    }

    /// Shown only on lists at least `width` wide.
    pub const fn from(self, width: usize) -> Col {
        Col {
            from: width,
            ..self
        }
    }
}

pub type Cell<'a> = Vec<Span<'a>>;

/// One text cell in one style.
pub fn cell<'a>(text: impl Into<String>, style: Style) -> Cell<'a> {
    vec![Span::styled(text.into(), style)]
}

/// Widths of the columns in `avail` columns (0: the column is left out): every kept column
/// gets its minimum, then the most important grow to what their content wants, the fill column
/// last, which then takes the rest. Columns are left out, least important first, until the
/// minimums fit.
pub fn widths(cols: &[Col], want: &[usize], avail: usize, gap: usize) -> Vec<usize> {
    let mut on: Vec<bool> = cols.iter().map(|c| avail >= c.from).collect();
    loop {
        let active: Vec<usize> = (0..cols.len()).filter(|i| on[*i]).collect();
        let gaps = gap * active.len().saturating_sub(1);
        let lo = |i: usize| cols[i].min.min(want[i]);
        let need: usize = active.iter().map(|&i| lo(i)).sum::<usize>() + gaps;
        if need <= avail || active.len() <= 1 {
            let mut w = vec![0; cols.len()];
            for &i in &active {
                w[i] = lo(i);
            }
            let mut spare = avail.saturating_sub(need);
            let mut order = active.clone();
            order.sort_by_key(|&i| (cols[i].fill, Reverse(cols[i].keep)));
            for &i in &order {
                let add = want[i].saturating_sub(w[i]).min(spare);
                w[i] += add;
                spare -= add;
            }
            if let Some(&i) = active.iter().find(|&&i| cols[i].fill) {
                w[i] += spare;
            }
            return w;
        }
        let Some(&drop) = active.iter().rev().min_by_key(|&&i| cols[i].keep) else {
            return vec![0; cols.len()];
        };
        on[drop] = false;
    }
}

/// One row of cells in the columns' widths. A row with fewer cells than columns has its last
/// cell span the rest of the line (e.g. a session's error message).
pub fn row_line<'a>(cells: Vec<Cell<'a>>, widths: &[usize], gap: usize, total: usize) -> Line<'a> {
    let given = cells.len();
    let spanning = given < widths.len();
    let mut out = Vec::new();
    let mut used = 0;
    for (i, cell) in cells.into_iter().enumerate() {
        let last = spanning && i + 1 == given;
        let w = widths.get(i).copied().unwrap_or(0);
        if w == 0 && !last {
            continue;
        }
        if used > 0 {
            out.push(Span::raw(" ".repeat(gap)));
            used += gap;
        }
        let w = if last { total.saturating_sub(used) } else { w };
        out.extend(fit_spans(cell, w, !last));
        used += w;
        if last {
            break;
        }
    }
    Line::from(out)
}

/// The title line of an empty (or unreadable) list: what the view is.
pub fn title(buf: &mut Buffer, body: Body, text: &str, t: Theme) {
    put(
        buf,
        body.title,
        &Line::styled(fit(text, usize::from(body.title.width)), t.title()),
    );
}

/// A list as a table: the headings on the title line, `rows` (the visible ones) below,
/// `selected` (an index into `rows`) highlighted.
pub fn draw_table(
    buf: &mut Buffer,
    body: Body,
    t: Theme,
    cols: &[Col],
    rows: Vec<Vec<Cell<'_>>>,
    selected: Option<usize>,
) {
    let avail = usize::from(body.list.width);
    let gap = if avail >= 120 { 2 } else { 1 };
    let mut want: Vec<usize> = cols.iter().map(|c| text_width(c.title)).collect();
    for r in rows.iter().filter(|r| r.len() == cols.len()) {
        for (i, c) in r.iter().enumerate() {
            want[i] = want[i].max(c.iter().map(Span::width).sum());
        }
    }
    for (w, c) in want.iter_mut().zip(cols) {
        *w = (*w).min(c.max);
    }
    let w = widths(cols, &want, avail, gap);
    let heads = cols
        .iter()
        .map(|c| cell(c.title, t.heading()))
        .collect::<Vec<_>>();
    put(buf, body.title, &row_line(heads, &w, gap, avail));
    for (i, r) in rows.into_iter().enumerate() {
        let Ok(y) = u16::try_from(i) else { break };
        let area = row(body.list, y);
        put(buf, area, &row_line(r, &w, gap, avail));
        if selected == Some(i) {
            buf.set_style(area.intersection(buf.area), t.selected());
        }
    }
}

/// `text` wrapped over the rows of `area` (an error, an empty list's explanation).
pub fn draw_text(buf: &mut Buffer, area: Rect, text: &str, style: Style) {
    let w = usize::from(area.width).max(10);
    for (i, l) in crate::tui::reader::wrap(text, w).into_iter().enumerate() {
        let Ok(y) = u16::try_from(i) else { break };
        if y >= area.height {
            break;
        }
        put(buf, row(area, y), &Line::styled(l, style));
    }
}

/// `text` in `base`, with the (case-insensitive) matches of `needle` in `hit`. Returns whether
/// anything matched; when a match cannot be located exactly, the whole text is highlighted.
pub fn highlight<'a>(text: String, base: Style, needle: &str, hit: Style) -> (Vec<Span<'a>>, bool) {
    if needle.is_empty() {
        return (vec![Span::styled(text, base)], false);
    }
    let lower = text.to_lowercase();
    let needle = needle.to_lowercase();
    if !lower.contains(&needle) {
        return (vec![Span::styled(text, base)], false);
    }
    let exact = lower.len() == text.len();
    let mut spans = Vec::new();
    let mut at = 0;
    for (i, m) in lower.match_indices(&needle) {
        let end = i + m.len();
        if !exact || !text.is_char_boundary(i) || !text.is_char_boundary(end) {
            return (vec![Span::styled(text, base.patch(hit))], true);
        }
        if i > at {
            spans.push(Span::styled(text[at..i].to_string(), base));
        }
        spans.push(Span::styled(text[i..end].to_string(), base.patch(hit)));
        at = end;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), base));
    }
    (spans, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 10), "abcdef");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abcdef", 1), "…");
        assert_eq!(fit("abcdef", 0), "");
    }

    #[test]
    fn columns_give_way_least_important_first() {
        let cols = [
            Col::new("x", 4, 10, 9),
            Col::new("x", 4, 20, 1).fill(),
            Col::new("x", 4, 8, 5),
        ];
        assert_eq!(widths(&cols, &[10, 20, 8], 100, 1), vec![10, 80, 8]);
        // The fill column grows last.
        assert_eq!(widths(&cols, &[10, 20, 8], 24, 1), vec![10, 4, 8]);
        assert_eq!(widths(&cols, &[10, 20, 8], 20, 1), vec![10, 4, 4]);
        assert_eq!(widths(&cols, &[10, 20, 8], 10, 1), vec![5, 0, 4]);
        // A column shown only from a width.
        let cols = [Col::new("x", 4, 10, 9), Col::new("x", 4, 10, 9).from(30)];
        assert_eq!(widths(&cols, &[10, 10], 29, 1), vec![10, 0]);
        assert_eq!(widths(&cols, &[10, 10], 30, 1), vec![10, 10]);
    }

    #[test]
    fn window_shows_whole_pages() {
        assert_eq!(window(0, 50, 10), 0..10);
        assert_eq!(window(12, 50, 10), 10..20);
        assert_eq!(window(49, 45, 10), 40..45);
        assert_eq!(window(3, 0, 10), 0..0);
    }

    #[test]
    fn highlight_marks_every_match() {
        let (s, hit) = highlight("a Foo b foo".into(), Style::new(), "FOO", Style::new());
        assert!(hit);
        let parts: Vec<_> = s.iter().map(|s| s.content.to_string()).collect();
        assert_eq!(parts, vec!["a ", "Foo", " b ", "foo"]);
    }
}
