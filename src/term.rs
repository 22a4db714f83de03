//! Printing to a terminal that may be gone. A worker's pane can be closed (or its tmux server
//! killed) at any instant; `println!` then panics on EIO, and a panic in the worker left it hanging
//! with its lock held. These write what they can and ignore a dead terminal (the pane log and the
//! experiment log are where things are recorded).

use std::io::Write;

/// Write one line to stdout; a failed write is ignored.
pub fn out(args: std::fmt::Arguments) {
    let mut s = std::io::stdout().lock();
    let _ = s.write_fmt(args);
    let _ = s.write_all(b"\n");
    let _ = s.flush();
}

/// Write one line to stderr; a failed write is ignored.
pub fn err(args: std::fmt::Arguments) {
    let mut s = std::io::stderr().lock();
    let _ = s.write_fmt(args);
    let _ = s.write_all(b"\n");
}

/// `println!` that never panics.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => { $crate::term::out(format_args!($($t)*)) };
}

/// `eprintln!` that never panics.
#[macro_export]
macro_rules! say_err {
    ($($t:tt)*) => { $crate::term::err(format_args!($($t)*)) };
}

/// One line of text from a file or an agent, safe to print: every control character — line
/// breaks and tabs included — and every Unicode direction override is shown escaped (`\e`, `\n`,
/// `\t`, `\x07`, `\u{202e}`), so it cannot repaint the terminal, fake a line or hide text.
pub fn safe_line(s: &str) -> std::borrow::Cow<'_, str> {
    escape(s, false)
}

/// [`safe_line`] for multi-line text: `\n` and `\t` are kept, everything else escaped.
pub fn safe_text(s: &str) -> std::borrow::Cow<'_, str> {
    escape(s, true)
}

fn needs_escape(c: char, keep_breaks: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_breaks,
        c if c.is_control() => true,
        '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

fn escape(s: &str, keep_breaks: bool) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| needs_escape(c, keep_breaks)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c, keep_breaks) {
            out.push(c);
            continue;
        }
        match c {
            '\x1b' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// An agent's output, safe to print: colour (SGR, `ESC[…m`) is kept; every other escape sequence
/// — cursor movement, screen clearing, OSC titles and hyperlinks, DCS/APC/PM/SOS strings — is
/// removed; other control characters are shown escaped (`\x07`), a lone `\r` becomes a line break
/// (it cannot overwrite a line), `\n` and `\t` are kept.
pub fn safe_output(s: &str) -> String {
    let mut f = OutputFilter::default();
    let mut out = f.push(s.as_bytes());
    out.extend(f.finish());
    String::from_utf8_lossy(&out).into_owned()
}

/// [`safe_output`] for a stream that arrives in chunks: an escape sequence split between two
/// chunks is held until it is complete.
#[derive(Default)]
pub struct OutputFilter {
    pending: Vec<u8>,
}

impl OutputFilter {
    /// Filter one chunk; what may be the start of a sequence is kept for the next chunk.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        while i < buf.len() {
            match step(&buf[i..]) {
                Step::Emit(bytes, n) => {
                    out.extend_from_slice(&bytes);
                    i += n;
                }
                Step::Incomplete => {
                    self.pending = buf[i..].to_vec();
                    break;
                }
            }
        }
        out
    }

    /// The end of the stream: an unfinished sequence is dropped (a lone `\r` is a line break).
    pub fn finish(&mut self) -> Vec<u8> {
        let rest = std::mem::take(&mut self.pending);
        if rest == b"\r" {
            return b"\n".to_vec();
        }
        Vec::new()
    }
}

enum Step {
    /// Bytes to print, and how many input bytes were used.
    Emit(Vec<u8>, usize),
    Incomplete,
}

/// Longest escape sequence held across chunks; past it, the sequence is dropped.
const MAX_SEQUENCE: usize = 4096;

fn step(b: &[u8]) -> Step {
    match b[0] {
        0x1b => escape_sequence(b),
        b'\n' | b'\t' => Step::Emit(vec![b[0]], 1),
        b'\r' => match b.get(1) {
            Some(b'\n') => Step::Emit(b"\r\n".to_vec(), 2),
            Some(_) => Step::Emit(b"\n".to_vec(), 1),
            None => Step::Incomplete,
        },
        c if c < 0x20 || c == 0x7f => Step::Emit(format!("\\x{c:02x}").into_bytes(), 1),
        // C1 controls in UTF-8 (U+0080–U+009F, e.g. the 8-bit CSI U+009B)
        0xc2 => match b.get(1) {
            Some(&c @ 0x80..=0x9f) => Step::Emit(format!("\\u{{{c:x}}}").into_bytes(), 2),
            Some(_) => Step::Emit(vec![0xc2], 1),
            None => Step::Incomplete,
        },
        c => Step::Emit(vec![c], 1),
    }
}

/// `b` starts with ESC: keep an SGR colour sequence, drop anything else whole.
fn escape_sequence(b: &[u8]) -> Step {
    let Some(&kind) = b.get(1) else {
        return Step::Incomplete;
    };
    match kind {
        b'[' => {
            // CSI: parameters 0x30–0x3F, intermediates 0x20–0x2F, one final byte 0x40–0x7E.
            let mut i = 2;
            while let Some(&c) = b.get(i) {
                match c {
                    0x20..=0x3f => i += 1,
                    0x40..=0x7e => {
                        let params = &b[2..i];
                        let sgr = c == b'm'
                            && params
                                .iter()
                                .all(|p| p.is_ascii_digit() || *p == b';' || *p == b':');
                        let keep = if sgr { b[..=i].to_vec() } else { Vec::new() };
                        return Step::Emit(keep, i + 1);
                    }
                    // not a valid CSI: drop the introducer, show the rest as text
                    _ => return Step::Emit(Vec::new(), 2),
                }
            }
            too_long_or_incomplete(b)
        }
        // OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \).
        b']' | b'P' | b'X' | b'^' | b'_' => {
            let mut i = 2;
            while i < b.len() {
                if b[i] == 0x07 && kind == b']' {
                    return Step::Emit(Vec::new(), i + 1);
                }
                if b[i] == 0x1b {
                    return match b.get(i + 1) {
                        Some(b'\\') => Step::Emit(Vec::new(), i + 2),
                        Some(_) => Step::Emit(Vec::new(), i),
                        None => Step::Incomplete,
                    };
                }
                i += 1;
            }
            too_long_or_incomplete(b)
        }
        // ESC + intermediates + final (charset selection `ESC ( B`, `ESC #8`, …)
        0x20..=0x2f => {
            let mut i = 2;
            while let Some(&c) = b.get(i) {
                if (0x30..=0x7e).contains(&c) {
                    return Step::Emit(Vec::new(), i + 1);
                }
                if !(0x20..=0x2f).contains(&c) {
                    return Step::Emit(Vec::new(), i);
                }
                i += 1;
            }
            too_long_or_incomplete(b)
        }
        // any other two-byte sequence (ESC c resets the terminal, ESC 7/8 save/restore cursor, …)
        _ => Step::Emit(Vec::new(), 2),
    }
}

fn too_long_or_incomplete(b: &[u8]) -> Step {
    if b.len() > MAX_SEQUENCE {
        Step::Emit(Vec::new(), b.len())
    } else {
        Step::Incomplete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_escapes_every_control_character() {
        assert!(matches!(
            safe_line("plain ünïcode"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            safe_line("a\x1b[2Jb\nc\td\x07\r"),
            "a\\e[2Jb\\nc\\td\\x07\\r"
        );
        assert_eq!(safe_line("x\u{9b}31m\u{202e}y"), "x\\x9b31m\\u{202e}y");
        assert_eq!(safe_line("\x1b]0;owned\x07"), "\\e]0;owned\\x07");
        assert_eq!(safe_line("\0\x7f"), "\\x00\\x7f");
    }

    #[test]
    fn text_keeps_line_breaks_and_tabs_only() {
        assert_eq!(safe_text("a\n\tb"), "a\n\tb");
        assert_eq!(safe_text("a\n\x1b[1Ab\r"), "a\n\\e[1Ab\\r");
    }

    #[test]
    fn output_keeps_colours_and_drops_everything_else() {
        let red = "\x1b[31mred\x1b[0m \x1b[1;38;5;208mbold\x1b[m";
        assert_eq!(safe_output(red), red);
        // cursor movement, clear screen, erase line, hide cursor, private modes
        assert_eq!(
            safe_output("a\x1b[2J\x1b[H\x1b[10;5Hb\x1b[Kc\x1b[?25l\x1b[?1049h"),
            "abc"
        );
        // OSC title (BEL and ST ends), OSC 8 hyperlink, DCS, APC
        assert_eq!(safe_output("\x1b]0;pwned\x07t\x1b]2;x\x1b\\i"), "ti");
        assert_eq!(
            safe_output("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"),
            "link"
        );
        assert_eq!(safe_output("\x1bP+q544e\x1b\\d\x1b_apc\x1b\\e"), "de");
        // reset, save cursor, charset
        assert_eq!(safe_output("\x1bcR\x1b7S\x1b(BT"), "RST");
        // other controls escaped; a lone CR is a line break; CRLF kept
        assert_eq!(safe_output("a\x07b\x08c\rd\r\ne"), "a\\x07b\\x08c\nd\r\ne");
        assert_eq!(safe_output("x\u{9b}2Jy"), "x\\u{9b}2Jy");
        // a colour with non-numeric parameters is not SGR
        assert_eq!(safe_output("\x1b[>4;2m!"), "!");
        // an unterminated sequence is dropped
        assert_eq!(safe_output("ok\x1b]0;never ends"), "ok");
        let out = safe_output("\x1b[31mA\x1b[2J\x1b]0;t\x07");
        assert!(
            !out.contains("\x1b[2J") && !out.contains("\x1b]"),
            "{out:?}"
        );
    }

    #[test]
    fn a_sequence_split_between_chunks_is_still_caught() {
        let mut f = OutputFilter::default();
        let mut out = f.push(b"a\x1b[");
        out.extend(f.push(b"2"));
        out.extend(f.push(b"Jb\x1b]0;ti"));
        out.extend(f.push(b"tle\x07c\x1b[3"));
        out.extend(f.push(b"2md\r"));
        out.extend(f.push(b"\ne\r"));
        out.extend(f.finish());
        assert_eq!(String::from_utf8_lossy(&out), "abc\x1b[32md\r\ne\n");
    }
}
