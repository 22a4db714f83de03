//! A reader's text: loading an answer, wrapping to the terminal's width, jumping between a
//! diff's files, and the scroll position clamped to what there is.

use crate::tui::data::Document;

use super::app::{Reader, ReaderKind};

/// A loaded document (or its error) arrived for `r`.
pub fn loaded(r: &mut Reader, doc: Result<Document, String>, width: u16) {
    r.doc = Some(doc);
    rewrap(r, width);
}

/// Recompute the shown lines for `width` (transcripts wrap; diffs and output are cut).
pub fn rewrap(r: &mut Reader, width: u16) {
    r.lines = match &r.doc {
        Some(Ok(doc)) if matches!(r.kind, ReaderKind::Transcript { .. }) => doc
            .lines
            .iter()
            .flat_map(|l| wrap(l, usize::from(width.saturating_sub(2)).max(10)))
            .collect(),
        Some(Ok(doc)) => doc.lines.clone(),
        _ => vec![],
    };
}

/// The first line shown with `rows` lines on screen: following shows the end.
pub fn top(r: &Reader, rows: usize) -> usize {
    let max = r.lines.len().saturating_sub(rows);
    if r.follow { max } else { r.scroll.min(max) }
}

/// Move to the next (or previous) file of a diff.
pub fn step_file(r: &mut Reader, next: bool) {
    let Some(Ok(doc)) = &r.doc else { return };
    if doc.files.is_empty() {
        return;
    }
    let current = doc
        .files
        .iter()
        .rposition(|(_, start)| *start <= r.scroll)
        .unwrap_or(0);
    let target = if next {
        (current + 1).min(doc.files.len() - 1)
    } else if r.scroll > doc.files[current].1 {
        current
    } else {
        current.saturating_sub(1)
    };
    r.file = target;
    r.scroll = doc.files[target].1;
    r.follow = false;
}

/// The file the line `at` belongs to.
pub fn file_at(doc: &Document, at: usize) -> usize {
    doc.files
        .iter()
        .rposition(|(_, start)| *start <= at)
        .unwrap_or(0)
}

/// Word-wrap `line` to `width` characters; a word longer than the width is cut.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0;
    for word in line.split_inclusive(' ') {
        let len = word.chars().count();
        if cur_len + len.min(width) > width && cur_len > 0 {
            out.push(cur.trim_end().to_string());
            cur.clear();
            cur_len = 0;
        }
        if len > width {
            let chars: Vec<char> = word.chars().collect();
            for chunk in chars.chunks(width) {
                if cur_len > 0 {
                    out.push(std::mem::take(&mut cur));
                }
                cur = chunk.iter().collect();
                cur_len = chunk.len();
            }
            continue;
        }
        cur.push_str(word);
        cur_len += len;
    }
    if cur_len > 0 || out.is_empty() {
        out.push(cur.trim_end().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_and_cuts_long_ones() {
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("a bb ccc dddd", 6), vec!["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("short", 80), vec!["short"]);
    }
}
