//! One word of a parsed command, quotes removed, with its command substitutions collected; and
//! redirections.

use brush_parser::ParserOptions;
use brush_parser::ast::{IoFileRedirectKind as K, IoFileRedirectTarget as T, IoRedirect};
use brush_parser::word::{self, WordPiece, WordPieceWithSource};

use super::{Redirect, Simple};

/// bash, not POSIX sh: agents write bash (`[[ ]]`, `<( )`, `&>`, `$'…'`).
pub(super) fn options() -> ParserOptions {
    ParserOptions::default()
}

/// The word `raw` as the command receives it, except that expansions (`$HOME`, `${X:-y}`,
/// `$(pwd)`, `~`, globs) are kept as written; the sources of its command substitutions are
/// added to `s.subs`.
pub(super) fn word(raw: &str, s: &mut Simple) -> Result<String, String> {
    let pieces =
        word::parse(raw, &options()).map_err(|e| format!("cannot read the word `{raw}`: {e}"))?;
    let mut out = String::new();
    pieces_into(&pieces, raw, &mut out, s)?;
    Ok(out)
}

fn pieces_into(
    pieces: &[WordPieceWithSource],
    raw: &str,
    out: &mut String,
    s: &mut Simple,
) -> Result<(), String> {
    for p in pieces {
        let text = raw.get(p.start_index..p.end_index).unwrap_or("");
        match &p.piece {
            WordPiece::Text(t) | WordPiece::SingleQuotedText(t) => out.push_str(t),
            // `$'\x72\x6d'` is `rm`: judged as bash will run it.
            WordPiece::AnsiCQuotedText(t) => out.push_str(&ansi_c(t)),
            WordPiece::DoubleQuotedSequence(inner)
            | WordPiece::GettextDoubleQuotedSequence(inner) => {
                pieces_into(inner, raw, out, s)?;
            }
            WordPiece::EscapeSequence(e) => out.push_str(e.strip_prefix('\\').unwrap_or(e)),
            WordPiece::CommandSubstitution(src) => {
                out.push_str(&format!("$({src})"));
                s.subs.push(src.clone());
            }
            WordPiece::BackquotedCommandSubstitution(src) => {
                out.push_str(&format!("`{src}`"));
                s.subs.push(src.clone());
            }
            WordPiece::TildeExpansion(_) => out.push_str(text),
            WordPiece::ParameterExpansion(_) | WordPiece::ArithmeticExpression(_) => {
                // `${X:-$(whoami)}`, `$(( $(wc -l < f) + 1 ))`: what runs inside is judged.
                if text.contains("$(") || text.contains('`') {
                    let inner = text
                        .strip_prefix("$((")
                        .and_then(|t| t.strip_suffix("))"))
                        .or_else(|| text.strip_prefix("${").and_then(|t| t.strip_suffix('}')))
                        .unwrap_or(text);
                    s.subs.push(inner.to_string());
                }
                out.push_str(text);
            }
        }
    }
    Ok(())
}

/// A heredoc body: its text, and (when it expands) its substitutions.
fn heredoc(body: &str, expands: bool, s: &mut Simple) -> Result<(), String> {
    if expands {
        let pieces = word::parse_heredoc(body, &options())
            .map_err(|e| format!("cannot read the heredoc: {e}"))?;
        let mut ignored = String::new();
        pieces_into(&pieces, body, &mut ignored, s)?;
    }
    append_stdin(s, body);
    s.stdin_expands |= expands;
    Ok(())
}

fn append_stdin(s: &mut Simple, text: &str) {
    match &mut s.stdin_text {
        Some(t) => {
            t.push('\n');
            t.push_str(text);
        }
        None => s.stdin_text = Some(text.to_string()),
    }
}

/// Add the redirection `io` to `s`.
pub(super) fn redirect(io: &IoRedirect, s: &mut Simple) -> Result<(), String> {
    let fd = |f: &Option<i32>| f.map(|n| n.to_string()).unwrap_or_default();
    let (op, target) = match io {
        IoRedirect::File(n, kind, target) => {
            let op = match kind {
                K::Read => "<",
                K::Write => ">",
                K::Append => ">>",
                K::ReadAndWrite => "<>",
                K::Clobber => ">|",
                K::DuplicateInput => "<&",
                K::DuplicateOutput => ">&",
            };
            let target = match target {
                T::Filename(w) | T::Duplicate(w) => word(&w.value, s)?,
                T::Fd(n) => n.to_string(),
                T::ProcessSubstitution(_, sub) => {
                    let src = sub.list.to_string();
                    s.proc_subs.push(src.clone());
                    s.subs.push(src.clone());
                    format!("({src})")
                }
            };
            (format!("{}{op}", fd(n)), target)
        }
        IoRedirect::HereDocument(n, doc) => {
            heredoc(&doc.doc.value, doc.requires_expansion, s)?;
            let op = if doc.remove_tabs { "<<-" } else { "<<" };
            (format!("{}{op}", fd(n)), doc.here_end.value.clone())
        }
        IoRedirect::HereString(n, w) => {
            let text = word(&w.value, s)?;
            append_stdin(s, &text);
            s.stdin_expands = true;
            (format!("{}<<<", fd(n)), text)
        }
        IoRedirect::OutputAndError(w, append) => {
            let op = if *append { "&>>" } else { "&>" };
            (op.to_string(), word(&w.value, s)?)
        }
    };
    s.redirects.push(Redirect { op, target });
    Ok(())
}

/// `$name` or `${name}` in `w`, not followed by more of a name.
fn find_var(w: &str, name: &str) -> Option<(usize, usize)> {
    let braced = format!("${{{name}}}");
    if let Some(at) = w.find(&braced) {
        return Some((at, braced.len()));
    }
    let plain = format!("${name}");
    let mut from = 0;
    while let Some(rel) = w[from..].find(&plain) {
        let at = from + rel;
        let end = at + plain.len();
        let more = w[end..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if !more {
            return Some((at, plain.len()));
        }
        from = end;
    }
    None
}

pub(super) fn uses(c: &Simple, name: &str) -> bool {
    c.words
        .iter()
        .chain(c.redirects.iter().map(|r| &r.target))
        .any(|w| find_var(w, name).is_some())
}

fn replace_var(w: &str, name: &str, value: &str) -> String {
    let mut out = w.to_string();
    // Bounded: each pass removes one occurrence.
    for _ in 0..w.len() {
        match find_var(&out, name) {
            Some((at, len)) => out.replace_range(at..at + len, value),
            None => break,
        }
    }
    out
}

pub(super) fn substitute(c: &Simple, name: &str, value: &str) -> Simple {
    let mut c = c.clone();
    for w in &mut c.words {
        *w = replace_var(w, name, value);
    }
    for r in &mut c.redirects {
        r.target = replace_var(&r.target, name, value);
    }
    c
}

/// `NAME=value` as a shell assignment: the name and the value.
fn assignment(w: &str) -> Option<(&str, &str)> {
    let (name, value) = w.split_once('=')?;
    let name = name.strip_suffix('+').unwrap_or(name);
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some((name, value))
}

/// The variables `c` may change in the current shell: a bare assignment (`A=1 B=2`), `export`,
/// `declare`, `local`, `readonly`, `read`, `mapfile`, `printf -v`, `unset`.
pub(super) fn assigned(c: &Simple) -> Vec<String> {
    let first = c.words.first().map(String::as_str).unwrap_or("");
    let setter = matches!(
        first,
        "export"
            | "declare"
            | "typeset"
            | "local"
            | "readonly"
            | "read"
            | "mapfile"
            | "readarray"
            | "printf"
            | "unset"
            | "getopts"
    );
    if !setter && assignment(first).is_none() {
        return Vec::new();
    }
    c.words
        .iter()
        .filter(|w| !w.starts_with('-'))
        .map(|w| {
            assignment(w)
                .map(|(n, _)| n)
                .unwrap_or(w.as_str())
                .to_string()
        })
        .collect()
}

/// The assignments of a command made only of assignments, whose values can be told: literal
/// text, or `$(mktemp …)` (a new path in /tmp).
pub(super) fn known_assignments(c: &Simple) -> Vec<(String, String)> {
    let all: Option<Vec<(&str, &str)>> = c.words.iter().map(|w| assignment(w)).collect();
    let Some(all) = all.filter(|a| !a.is_empty() && c.redirects.is_empty()) else {
        return Vec::new();
    };
    all.into_iter()
        .filter(|(n, _)| !c.words.iter().any(|w| w.starts_with(&format!("{n}+="))))
        .filter_map(|(name, value)| {
            let told = if let Some(args) = value
                .strip_prefix("$(mktemp")
                .and_then(|v| v.strip_suffix(')'))
            {
                // Only the default place (not `-p dir`, `--tmpdir=dir`, `dir/x.XXXX`).
                let default =
                    !args.contains('/') && !args.contains("-p") && !args.contains("--tmpdir");
                default.then(|| "/tmp/tmp.mktemp".to_string())
            } else {
                (!value.contains(['$', '`'])).then(|| value.to_string())
            };
            told.map(|v| (name.to_string(), v))
        })
        .collect()
}

/// Up to `max` digits of `radix` from `it`, as a number; `None` when there is none.
fn digits(
    it: &mut std::iter::Peekable<std::str::Chars>,
    radix: u32,
    max: usize,
    start: u32,
) -> (u32, usize) {
    let (mut v, mut n) = (start, 0);
    while n < max {
        match it.peek().and_then(|c| c.to_digit(radix)) {
            Some(d) => {
                v = v.saturating_mul(radix).saturating_add(d);
                it.next();
                n += 1;
            }
            None => break,
        }
    }
    (v, n)
}

/// The text of a `$'…'` string with its escapes decoded as bash does.
fn ansi_c(raw: &str) -> String {
    let mut out = String::new();
    let mut it = raw.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = it.next() else {
            out.push('\\');
            break;
        };
        let hex = |it: &mut std::iter::Peekable<std::str::Chars>, max| match digits(it, 16, max, 0)
        {
            (_, 0) => None,
            (v, _) => char::from_u32(v),
        };
        let decoded = match e {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'e' | 'E' => Some('\u{1b}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' | '\'' | '"' | '?' => Some(e),
            // One to three octal digits, `e` the first.
            '0'..='7' => char::from_u32(digits(&mut it, 8, 2, e.to_digit(8).unwrap_or(0)).0 & 0xff),
            'x' => hex(&mut it, 2),
            'u' => hex(&mut it, 4),
            'U' => hex(&mut it, 8),
            'c' => it
                .next()
                .map(|x| char::from_u32((x as u32) & 0x1f).unwrap_or(x)),
            other => {
                out.push('\\');
                Some(other)
            }
        };
        if let Some(d) = decoded {
            out.push(d);
        }
    }
    out
}

/// Every word of a `[[ … ]]` test.
pub(super) fn test_words(
    e: &brush_parser::ast::ExtendedTestExpr,
    f: &mut impl FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    use brush_parser::ast::ExtendedTestExpr as E;
    match e {
        E::And(a, b) | E::Or(a, b) => {
            test_words(a, f)?;
            test_words(b, f)
        }
        E::Not(a) | E::Parenthesized(a) => test_words(a, f),
        E::UnaryTest(_, w) => f(&w.value),
        E::BinaryTest(_, a, b) => {
            f(&a.value)?;
            f(&b.value)
        }
    }
}
