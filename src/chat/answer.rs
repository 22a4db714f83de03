//! The reply to a command, face-independent: a few blocks that become plain text (HTTP) or
//! Telegram pages — HTML-escaped (Telegram's `parse_mode = HTML` then interprets only the tags
//! brl adds), each page under Telegram's limit, a long answer cut into a few pages.

use crate::term::safe_line;

/// Telegram refuses messages past 4096 characters; pages stay well under it.
pub const PAGE_CHARS: usize = 3500;
/// Pages sent at most for one answer; the rest is cut with a note.
pub const MAX_PAGES: usize = 4;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// A heading line (bold on Telegram).
    Title(String),
    /// A line of text.
    Line(String),
    /// A line of code, a branch name or a path (monospace on Telegram).
    Code(String),
}

/// A reply and what the command came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// `ok`, `asked` (waits for a yes), `refused`, `error` or `ignored`: the `result` of the
    /// command's log entry.
    pub result: &'static str,
    pub blocks: Vec<Block>,
}

impl Answer {
    pub fn new(result: &'static str) -> Answer {
        Answer {
            result,
            blocks: Vec::new(),
        }
    }

    /// An answer of one line.
    pub fn line(result: &'static str, text: impl Into<String>) -> Answer {
        Answer::new(result).with(Block::Line(text.into()))
    }

    pub fn with(mut self, b: Block) -> Answer {
        self.blocks.push(b);
        self
    }

    pub fn push(&mut self, b: Block) {
        self.blocks.push(b);
    }

    /// Each block's lines, control characters shown escaped.
    fn lines(&self) -> Vec<(u8, String)> {
        let mut out = Vec::new();
        for b in &self.blocks {
            let (kind, text) = match b {
                Block::Title(t) => (0, t),
                Block::Line(t) => (1, t),
                Block::Code(t) => (2, t),
            };
            for l in text.lines() {
                out.push((kind, safe_line(l).into_owned()));
            }
        }
        out
    }

    /// Plain text, one line per line (for HTTP and the log).
    pub fn plain(&self) -> String {
        let lines: Vec<String> = self.lines().into_iter().map(|(_, l)| l).collect();
        lines.join("\n")
    }

    /// Telegram messages (`parse_mode = HTML`): escaped, paged at line boundaries, at most
    /// [`MAX_PAGES`]; several pages are marked `(1/3)`.
    pub fn telegram_pages(&self) -> Vec<String> {
        let mut pages: Vec<String> = Vec::new();
        let mut page = String::new();
        for (kind, line) in self.lines() {
            let line: String = line.chars().take(PAGE_CHARS - 100).collect();
            let e = escape(&line);
            let html = match kind {
                0 => format!("<b>{e}</b>"),
                2 => format!("<code>{e}</code>"),
                _ => e,
            };
            if !page.is_empty() && page.len() + html.len() + 1 > PAGE_CHARS {
                pages.push(std::mem::take(&mut page));
            }
            if !page.is_empty() {
                page.push('\n');
            }
            page.push_str(&html);
        }
        if !page.is_empty() || pages.is_empty() {
            pages.push(page);
        }
        let total = pages.len();
        if total > MAX_PAGES {
            pages.truncate(MAX_PAGES);
            if let Some(last) = pages.last_mut() {
                last.push_str(&format!(
                    "\n… {} more page(s) cut; ask for less (e.g. /queue 2) or look on the machine",
                    total - MAX_PAGES
                ));
            }
        }
        let n = pages.len();
        if n > 1 {
            for (i, p) in pages.iter_mut().enumerate() {
                *p = format!("({}/{n})\n{p}", i + 1);
            }
        }
        pages
    }
}

/// Telegram's HTML: only `&`, `<` and `>` need escaping.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_and_paged() {
        let a = Answer::new("ok")
            .with(Block::Title("queue <2>".into()))
            .with(Block::Code("brl/s1/a&b".into()))
            .with(Block::Line("x\u{1b}[31m".into()));
        assert_eq!(
            a.telegram_pages(),
            vec!["<b>queue &lt;2&gt;</b>\n<code>brl/s1/a&amp;b</code>\nx\\e[31m".to_string()]
        );
        assert_eq!(a.plain(), "queue <2>\nbrl/s1/a&b\nx\\e[31m");
        let long = Answer::new("ok").with(Block::Line("word ".repeat(400).repeat(2)));
        assert_eq!(
            long.telegram_pages().len(),
            1,
            "one long line is cut, not split"
        );
        let mut many = Answer::new("ok");
        for i in 0..2000 {
            many.push(Block::Line(format!("line {i} of a long answer")));
        }
        let pages = many.telegram_pages();
        assert_eq!(pages.len(), MAX_PAGES);
        assert!(pages[0].starts_with("(1/4)\n"), "{}", &pages[0][..20]);
        assert!(pages.iter().all(|p| p.chars().count() <= 4096));
        assert!(pages[3].contains("more page(s) cut"));
    }
}
