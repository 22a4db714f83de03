//! The skill notes in an agent's answer, in the format `prompts/skill.md` asks for:
//!
//! ```text
//! SKILL: <title, one line>
//! WHEN: <when to apply it, one line>
//! TECHNIQUE:
//! <text, up to the next SKILL: line or the end>
//! ```
//!
//! An answer of just `NONE` has no notes. Nothing is guessed: a block missing a part, with a line
//! that is none of these, or too long is left out and said so, as is text before the first
//! `SKILL:`.

use std::collections::BTreeSet;

/// Longest title accepted, in characters.
pub const MAX_TITLE: usize = 100;
/// Longest technique accepted, in characters: skill notes are short.
pub const MAX_TECHNIQUE: usize = 2000;
/// Longest file name stem made from a title.
const MAX_SLUG: usize = 60;
/// How much of a piece of text a problem quotes.
const QUOTE: usize = 120;

/// One skill note.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    pub title: String,
    pub when: String,
    pub technique: String,
}

/// The notes found, and what could not be read.
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    pub notes: Vec<Note>,
    pub problems: Vec<String>,
}

/// `line` without its `KEYWORD:` prefix (any case), when it has it.
fn keyword<'a>(line: &'a str, word: &str) -> Option<&'a str> {
    let line = line.trim();
    let head = line.get(..word.len() + 1)?;
    (head.eq_ignore_ascii_case(&format!("{word}:"))).then(|| line[word.len() + 1..].trim())
}

/// Read the notes of an agent's answer.
pub fn parse(answer: &str) -> Parsed {
    let mut out = Parsed::default();
    let text = answer.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("none") {
        return out;
    }
    let lines: Vec<&str> = text.lines().collect();
    let starts: Vec<usize> = (0..lines.len())
        .filter(|&i| keyword(lines[i], "SKILL").is_some())
        .collect();
    let Some(&first) = starts.first() else {
        out.problems
            .push(format!("no `SKILL:` block in the answer: {}", quote(text)));
        return out;
    };
    let before = lines[..first].join("\n");
    if !before.trim().is_empty() {
        out.problems.push(format!(
            "text before the first `SKILL:` was ignored: {}",
            quote(&before)
        ));
    }
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(lines.len());
        match block(&lines[start..end]) {
            Ok(note) => out.notes.push(note),
            Err(why) => {
                let title = keyword(lines[start], "SKILL").unwrap_or("");
                out.problems.push(format!(
                    "skill note {} (\"{}\"): {why}",
                    n + 1,
                    quote(title)
                ));
            }
        }
    }
    out
}

/// One block, its `SKILL:` line first.
fn block(lines: &[&str]) -> Result<Note, String> {
    let title = keyword(lines[0], "SKILL").unwrap_or("").to_string();
    let mut when: Option<String> = None;
    let mut technique: Option<Vec<&str>> = None;
    for line in &lines[1..] {
        if let Some(t) = technique.as_mut() {
            t.push(line);
        } else if let Some(w) = keyword(line, "WHEN") {
            if when.is_some() {
                return Err("two `WHEN:` lines".into());
            }
            when = Some(w.to_string());
        } else if let Some(first) = keyword(line, "TECHNIQUE") {
            technique = Some(vec![first]);
        } else if !line.trim().is_empty() {
            return Err(format!(
                "a line that is not `WHEN:` or `TECHNIQUE:` before the technique: {}",
                quote(line)
            ));
        }
    }
    let when = when.unwrap_or_default();
    let technique = technique
        .map(|t| t.join("\n").trim().to_string())
        .unwrap_or_default();
    if title.is_empty() {
        return Err("the title after `SKILL:` is empty".into());
    }
    if title.chars().count() > MAX_TITLE {
        return Err(format!("the title is longer than {MAX_TITLE} characters"));
    }
    if slug(&title).is_none() {
        return Err("the title has no letters or digits to name a file after".into());
    }
    if when.is_empty() {
        return Err("no `WHEN:` line (or it is empty)".into());
    }
    if technique.is_empty() {
        return Err("no `TECHNIQUE:` text".into());
    }
    if technique.chars().count() > MAX_TECHNIQUE {
        return Err(format!(
            "the technique is longer than {MAX_TECHNIQUE} characters (skill notes are short)"
        ));
    }
    Ok(Note {
        title,
        when,
        technique,
    })
}

/// The file name stem for a title: lowercase ASCII letters and digits, other runs `-`, at most
/// 60 characters (cut at a `-` when there is one); `None` when nothing is left.
pub fn slug(title: &str) -> Option<String> {
    let mut s = String::new();
    for ch in title.chars() {
        if ch.is_ascii_alphanumeric() {
            s.push(ch.to_ascii_lowercase());
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    if s.len() > MAX_SLUG {
        let cut = s[..MAX_SLUG]
            .rfind('-')
            .filter(|&i| i > 0)
            .unwrap_or(MAX_SLUG);
        s.truncate(cut);
    }
    let s = s.trim_end_matches('-').to_string();
    (!s.is_empty()).then_some(s)
}

/// A title's words, lowercased: what near-identical titles are compared by.
pub fn title_words(title: &str) -> BTreeSet<String> {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// |a ∩ b| / |a ∪ b|; 0 when both are empty.
pub fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

/// One line of at most [`QUOTE`] characters.
fn quote(text: &str) -> String {
    let one = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(QUOTE) {
        None => one,
        Some((i, _)) => format!("{}…", &one[..i]),
    }
}
