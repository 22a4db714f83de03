//! The Sessions view's live preview: the end of the selected session's pane log with its colours.
//! [`read`] runs on the loader thread: it keeps SGR sequences (colours, bold…) and neutralises
//! every other control sequence (cursor moves, title sets, clears, OSC, DCS, bare C0 bytes) so
//! an agent's output can never drive the operator's terminal. [`spans`] turns a kept line into
//! styled spans on the draw path (pure).

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

use crate::home::Home;

use super::data::Preview;

/// How much of the pane log's end is read for the preview.
pub const TAIL_BYTES: u64 = 16 * 1024;
/// The most lines kept (more than any screen shows below the table).
const MAX_LINES: usize = 120;

/// The end of `session`'s pane log, SGR kept, other control sequences removed.
pub fn read(home: &Home, session: &str) -> Preview {
    let path = home.session_logs_dir(session).join("pane.log");
    let text = match tail(&path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "(no output yet: {} does not exist)",
            path.display()
        )),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    };
    shown(session, text)
}

/// The preview of `session` from the end of its pane log, or from why there is none.
pub fn shown(session: &str, text: Result<String, String>) -> Preview {
    let (lines, note) = match text {
        Ok(text) => {
            let mut lines: Vec<String> = keep_sgr(&text).lines().map(str::to_string).collect();
            while lines.last().is_some_and(|l| visible_is_blank(l)) {
                lines.pop();
            }
            let first = lines.len().saturating_sub(MAX_LINES);
            let lines = lines.split_off(first);
            let note = lines.is_empty().then(|| "(no output yet)".to_string());
            (lines, note)
        }
        Err(note) => (vec![], Some(note)),
    };
    Preview {
        session: session.to_string(),
        lines,
        note,
    }
}

/// The last [`TAIL_BYTES`] of `path`, from a line start when cut.
fn tail(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    f.take(TAIL_BYTES).read_to_end(&mut buf)?;
    Ok(from_tail(&buf, start > 0))
}

/// The end of a log as text; `cut`: it starts mid-file, so its first (partial) line goes.
pub fn from_tail(bytes: &[u8], cut: bool) -> String {
    let text = String::from_utf8_lossy(bytes).into_owned();
    match (cut, text.find('\n')) {
        (true, Some(p)) => text[p + 1..].to_string(),
        _ => text,
    }
}

fn visible_is_blank(line: &str) -> bool {
    spans(line, Style::default())
        .iter()
        .all(|s| s.content.trim().is_empty())
}

/// `text` with only its SGR sequences (`ESC [ … m`) kept: other CSI sequences, OSC/DCS/APC
/// strings, two-byte escapes and C0 controls other than newline are dropped; a carriage return
/// keeps what was written after it on that line; tabs become spaces.
pub fn keep_sgr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut line = String::new();
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\n' => {
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
            '\r' => {
                // "\r\n" ends the line; a lone "\r" rewrites it from the start.
                if it.peek() != Some(&'\n') {
                    line.clear();
                }
            }
            '\t' => line.push_str("    "),
            '\u{1b}' => match it.next() {
                Some('[') => {
                    let mut seq = String::new();
                    let mut fin = None;
                    for c in it.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            fin = Some(c);
                            break;
                        }
                        seq.push(c);
                    }
                    let plain = seq.chars().all(|c| c.is_ascii_digit() || c == ';');
                    if fin == Some('m') && plain {
                        line.push_str("\u{1b}[");
                        line.push_str(&seq);
                        line.push('m');
                    }
                }
                // OSC, DCS, SOS, PM, APC: a string up to BEL or ESC \.
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(c) = it.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' {
                            it.next();
                            break;
                        }
                    }
                }
                // Charset selection and the like take one more byte.
                Some('(' | ')' | '*' | '+' | '#' | '%') => {
                    it.next();
                }
                _ => {}
            },
            c if c.is_control() => {}
            c => line.push(c),
        }
    }
    out.push_str(&line);
    out
}

/// A line holding SGR sequences as styled spans over `base`.
pub fn spans(line: &str, base: Style) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let mut style = base;
    let mut text = String::new();
    let mut rest = line;
    while let Some(p) = rest.find("\u{1b}[") {
        text.push_str(&rest[..p]);
        let after = &rest[p + 2..];
        let Some(end) = after.find('m') else {
            rest = "";
            break;
        };
        if !text.is_empty() {
            out.push(Span::styled(std::mem::take(&mut text), style));
        }
        style = apply(style, base, &after[..end]);
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Span::styled(text, style));
    }
    out
}

/// `style` after the SGR parameters `params` ("1;31", "38;5;208", "" = reset).
fn apply(mut style: Style, base: Style, params: &str) -> Style {
    let nums: Vec<u16> = params.split(';').map(|p| p.parse().unwrap_or(0)).collect();
    let mut i = 0;
    while i < nums.len() {
        let n = nums[i];
        match n {
            0 => style = base,
            1 => style = style.add_modifier(Modifier::BOLD),
            2 => style = style.add_modifier(Modifier::DIM),
            3 => style = style.add_modifier(Modifier::ITALIC),
            4 => style = style.add_modifier(Modifier::UNDERLINED),
            7 => style = style.add_modifier(Modifier::REVERSED),
            22 => style = style.remove_modifier(Modifier::BOLD | Modifier::DIM),
            23 => style = style.remove_modifier(Modifier::ITALIC),
            24 => style = style.remove_modifier(Modifier::UNDERLINED),
            27 => style = style.remove_modifier(Modifier::REVERSED),
            30..=37 => style = style.fg(Color::Indexed((n - 30) as u8)),
            39 => style.fg = base.fg,
            40..=47 => style = style.bg(Color::Indexed((n - 40) as u8)),
            49 => style.bg = base.bg,
            90..=97 => style = style.fg(Color::Indexed((n - 90 + 8) as u8)),
            100..=107 => style = style.bg(Color::Indexed((n - 100 + 8) as u8)),
            38 | 48 => {
                let color = match nums.get(i + 1) {
                    Some(5) => {
                        let c = nums.get(i + 2).map(|c| Color::Indexed(*c as u8));
                        i += 2;
                        c
                    }
                    Some(2) => {
                        let c = match (nums.get(i + 2), nums.get(i + 3), nums.get(i + 4)) {
                            (Some(r), Some(g), Some(b)) => {
                                Some(Color::Rgb(*r as u8, *g as u8, *b as u8))
                            }
                            _ => None,
                        };
                        i += 4;
                        c
                    }
                    _ => None,
                };
                if let Some(c) = color {
                    style = if n == 38 { style.fg(c) } else { style.bg(c) };
                }
            }
            _ => {}
        }
        i += 1;
    }
    style
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_stay_and_every_other_control_sequence_goes() {
        let raw = "\u{1b}]0;evil title\u{7}\u{1b}[2J\u{1b}[H\u{1b}[1;31merror\u{1b}[0m: x\u{1b}[5A\u{7}\r\nok\tdone\nspin 1\rspin 2\n";
        let kept = keep_sgr(raw);
        assert_eq!(kept, "\u{1b}[1;31merror\u{1b}[0m: x\nok    done\nspin 2\n");
        // An SGR with odd bytes inside is not passed on.
        assert_eq!(keep_sgr("a\u{1b}[?25lb\u{1b}[>4;1mc"), "abc");
    }

    #[test]
    fn sgr_becomes_styles() {
        let s = spans(
            "\u{1b}[1;31merror\u{1b}[0m: \u{1b}[38;5;208mx\u{1b}[39my",
            Style::default(),
        );
        let texts: Vec<&str> = s.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(texts, ["error", ": ", "x", "y"]);
        assert_eq!(s[0].style.fg, Some(Color::Indexed(1)));
        assert!(s[0].style.add_modifier.contains(Modifier::BOLD));
        assert_eq!(s[1].style, Style::default());
        assert_eq!(s[2].style.fg, Some(Color::Indexed(208)));
        assert_eq!(s[3].style.fg, None);
    }

    #[test]
    fn read_gives_the_end_of_the_pane_log() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        let p = read(&home, "s1");
        assert!(p.lines.is_empty());
        assert!(
            p.note
                .as_deref()
                .is_some_and(|n| n.contains("no output yet")),
            "{p:?}"
        );
        let dir = home.session_logs_dir("s1");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut text = String::new();
        for i in 0..5000 {
            text.push_str(&format!("line {i}\n"));
        }
        text.push_str("\u{1b}[32mlast\u{1b}[0m\n\n");
        std::fs::write(dir.join("pane.log"), text).expect("write");
        let p = read(&home, "s1");
        assert_eq!(p.lines.len(), MAX_LINES);
        assert_eq!(
            p.lines.last().map(String::as_str),
            Some("\u{1b}[32mlast\u{1b}[0m")
        );
        assert_eq!(p.lines[MAX_LINES - 2], "line 4999");
        assert_eq!(p.note, None);
    }
}
