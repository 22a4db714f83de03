//! Skill files, `<home>/skills/<slug>.md`:
//!
//! ```text
//! ---
//! title: Read the failing output before editing
//! when: fixing a type error or a failing test
//! cycles: [brl/s1/20261121-010203, brl/s2/20261121-020304]
//! updated: 2026-11-21T03:04:05Z
//! ---
//! <the technique>
//! ```
//!
//! A new note whose title has the slug of an existing file, or nearly the same words
//! ([`SAME_TITLE`]), updates that file — the cycles merged, the new `when` and technique, the
//! same title and file name — instead of adding another. Files are replaced atomically.

use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

use super::note::{self, Note};
use crate::prompt;
use crate::store::atomic::write_atomic;

/// Titles whose word sets overlap this much (Jaccard) are the same skill.
pub const SAME_TITLE: f64 = 0.8;
/// How many cycles a skill file lists at most (the most recent).
pub const MAX_CYCLES: usize = 20;

/// A skill file as read from disk.
#[derive(Clone, Debug, PartialEq)]
pub struct SkillFile {
    pub path: PathBuf,
    /// Empty when the file has no front matter.
    pub title: String,
    pub cycles: Vec<String>,
}

impl SkillFile {
    fn stem(&self) -> &str {
        self.path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
    }
}

/// What [`save`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Saved {
    Written(PathBuf),
    Updated(PathBuf),
}

/// The `*.md` files of `dir`, by name; unreadable ones are left out.
pub fn load_all(dir: &Path) -> Vec<SkillFile> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut paths: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let (title, cycles) = match prompt::front_matter(&text) {
                Some((fields, _)) => {
                    let field = |k: &str| {
                        fields
                            .iter()
                            .find(|(key, _)| key == k)
                            .map_or("", |(_, v)| v.as_str())
                    };
                    (field("title").to_string(), parse_list(field("cycles")))
                }
                None => (String::new(), vec![]),
            };
            Some(SkillFile {
                path,
                title,
                cycles,
            })
        })
        .collect()
}

/// `[a, b]` (or `a, b`) as a list.
fn parse_list(value: &str) -> Vec<String> {
    let inner = value.trim();
    let inner = inner
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(inner);
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The file's text.
pub fn render(
    title: &str,
    when: &str,
    cycles: &[String],
    updated: DateTime<Utc>,
    body: &str,
) -> String {
    format!(
        "---\ntitle: {title}\nwhen: {when}\ncycles: [{}]\nupdated: {}\n---\n{}\n",
        cycles.join(", "),
        updated.to_rfc3339_opts(SecondsFormat::Secs, true),
        body.trim()
    )
}

/// The existing file `note` duplicates: the one named by its slug, else the one whose title is
/// most alike, if at least [`SAME_TITLE`].
pub fn find_same<'a>(existing: &'a [SkillFile], title: &str) -> Option<&'a SkillFile> {
    let slug = note::slug(title)?;
    if let Some(f) = existing.iter().find(|f| f.stem() == slug) {
        return Some(f);
    }
    let words = note::title_words(title);
    existing
        .iter()
        .map(|f| (note::jaccard(&words, &note::title_words(&f.title)), f))
        .filter(|(score, _)| *score >= SAME_TITLE)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, f)| f)
}

/// Write `note` (learnt from `cycles`) into `dir`: a new `<slug>.md`, or an update of the file
/// it duplicates.
pub fn save(dir: &Path, note: &Note, cycles: &[String], now: DateTime<Utc>) -> io::Result<Saved> {
    let slug = note::slug(&note.title).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the title \"{}\" has no letters or digits", note.title),
        )
    })?;
    let existing = load_all(dir);
    match find_same(&existing, &note.title) {
        Some(same) => {
            let mut merged = same.cycles.clone();
            for c in cycles {
                if !merged.contains(c) {
                    merged.push(c.clone());
                }
            }
            let merged = &merged[merged.len().saturating_sub(MAX_CYCLES)..];
            let title = if same.title.is_empty() {
                &note.title
            } else {
                &same.title
            };
            let text = render(title, &note.when, merged, now, &note.technique);
            write_atomic(&same.path, text.as_bytes())?;
            Ok(Saved::Updated(same.path.clone()))
        }
        None => {
            let path = dir.join(format!("{slug}.md"));
            let last = &cycles[cycles.len().saturating_sub(MAX_CYCLES)..];
            let text = render(&note.title, &note.when, last, now, &note.technique);
            write_atomic(&path, text.as_bytes())?;
            Ok(Saved::Written(path))
        }
    }
}
