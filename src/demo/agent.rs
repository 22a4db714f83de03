//! The demo agent: a real, deterministic agent that works on the calc demo repository
//! (see [`super::repo`]) without any API key.
//!
//! It reads `src/*.calc` in the worktree and understands the language itself (the same
//! rules `calc.awk` applies; it never runs the checks). From a hash of the seed (brl passes
//! the branch name) it fixes one problem (~70%), breaks one correct equation (~20%), or
//! does nothing (~10%), and commits its edit on the current HEAD.
//!
//! The language itself is in `calc.rs`, mending a broken line in `repair.rs`; this module
//! finds the problems, decides what to do and commits it.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::calc::{Status, classify, operand, tokens};
use super::repair::{number_word, repair};

/// What one run of the demo agent did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fixed one problem, e.g. "fixed src/arith.calc:3 (unknown op `ad`): now `add 4 4 = 8`".
    Fixed(String),
    /// Broke one correct equation, e.g. "broke src/grid.calc:2 (result `2` -> `5`)".
    Broke(String),
    /// Changed nothing, and made no commit.
    Nothing,
}

impl Action {
    /// A short human line saying what the agent did.
    pub fn describe(&self) -> String {
        match self {
            Action::Fixed(what) | Action::Broke(what) => what.clone(),
            Action::Nothing => "changed nothing".to_string(),
        }
    }
}

const AUTHOR_NAME: &str = "brl demo-agent";
const AUTHOR_EMAIL: &str = "demo-agent@brl.invalid";

/// Run in the worktree of a cycle. `prompt` is the prompt brl gave (already read from
/// stdin); `seed` (brl passes the branch name, env `BRL_BRANCH`) decides deterministically:
/// ~70% fix one problem (a malformed line or a wrong equation), ~20% break one correct
/// equation, ~10% change nothing. When nothing is left to fix it changes nothing.
///
/// Problems whose file (`src/x.calc` or `x.calc`) is named on a `TASK:` or `HINT:` line of
/// the prompt are fixed first; such a line saying "type"/"check" or "test" prefers
/// malformed lines or wrong equations. A `TASK:` line is quoted in the commit message. A fix
/// that already waits for review (its `fix <file>:<line> ` subject is listed under the prompt's
/// "Changes already waiting for review") is not made again: another problem is picked, or none.
/// The edit is committed on the current HEAD as "brl demo-agent <demo-agent@brl.invalid>".
pub fn run(worktree: &Path, prompt: &str, seed: &str) -> Result<Action> {
    let files = load(worktree)?;
    let problems = problems(&files);
    if problems.is_empty() {
        return Ok(Action::Nothing);
    }
    let mut rng = Rng::new(seed);
    let roll = rng.below(100);
    let change = if roll < 70 {
        fix(&files, &problems, prompt, &mut rng)
    } else if roll < 90 {
        break_one(&files, &mut rng)
    } else {
        None
    };
    let Some(change) = change else {
        return Ok(Action::Nothing);
    };

    let file = &files[change.file];
    let mut lines = file.lines.clone();
    lines[change.line] = change.new_text.clone();
    let mut text = lines.join("\n");
    if file.trailing_newline {
        text.push('\n');
    }
    let path = worktree.join(&file.rel);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;

    let mut message = format!("demo-agent: {}\n\n{}\n", change.subject, change.body);
    if let Some(task) = task(prompt) {
        message.push_str(&format!("\nTask: {task}\n"));
    }
    commit(worktree, &file.rel, &message)?;
    Ok(change.action)
}

// ---------------------------------------------------------------------------------------
// The worktree.

struct CalcFile {
    /// Relative to the worktree, with `/`: "src/x.calc".
    rel: String,
    /// The file split at `\n` (a final newline does not start another line).
    lines: Vec<String>,
    trailing_newline: bool,
}

/// `src/*.calc`, in the order of the shell glob with LC_ALL=C. Files that are not UTF-8
/// are left out (the agent won't edit them).
fn load(worktree: &Path) -> Result<Vec<CalcFile>> {
    let src = worktree.join("src");
    let mut names = Vec::new();
    match std::fs::read_dir(&src) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                if name.ends_with(".calc") && !name.starts_with('.') && entry.path().is_file() {
                    names.push(name);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", src.display())),
    }
    names.sort();
    let mut files = Vec::new();
    for name in names {
        let path = src.join(&name);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let trailing_newline = text.ends_with('\n');
        let body = text.strip_suffix('\n').unwrap_or(&text);
        let lines = if text.is_empty() {
            Vec::new()
        } else {
            body.split('\n').map(str::to_string).collect()
        };
        files.push(CalcFile {
            rel: format!("src/{name}"),
            lines,
            trailing_newline,
        });
    }
    Ok(files)
}

/// A type error or failing test: `(file index, line index, status)`.
type Problem = (usize, usize, Status);

fn problems(files: &[CalcFile]) -> Vec<Problem> {
    let mut out = Vec::new();
    for (f, file) in files.iter().enumerate() {
        for (l, line) in file.lines.iter().enumerate() {
            match classify(line) {
                Status::Ignored | Status::Pass => {}
                status => out.push((f, l, status)),
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Deciding.

/// FNV-1a of the seed, then splitmix64 steps: the same seed always gives the same choices.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One edited line, and how to talk about it.
struct Change {
    file: usize,
    line: usize,
    new_text: String,
    action: Action,
    subject: String,
    body: String,
}

/// The prompt's list of the changes already waiting for review (empty when it has none).
fn pending_section(prompt: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in prompt.lines() {
        if line.starts_with("## ") {
            inside = line.starts_with("## Changes already waiting for review");
            continue;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The text of the first `TASK:` line of the prompt.
fn task(prompt: &str) -> Option<&str> {
    prompt
        .lines()
        .find_map(|l| l.trim().strip_prefix("TASK:"))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The `TASK:` and `HINT:` lines of the prompt, lowercased.
fn hint(prompt: &str) -> String {
    let mut out = String::new();
    for line in prompt.lines() {
        let line = line.trim();
        if let Some(rest) = line
            .strip_prefix("TASK:")
            .or_else(|| line.strip_prefix("HINT:"))
        {
            out.push_str(&rest.to_lowercase());
            out.push('\n');
        }
    }
    out
}

fn fix(files: &[CalcFile], problems: &[Problem], prompt: &str, rng: &mut Rng) -> Option<Change> {
    let hint = hint(prompt);
    let names_file = |f: usize| {
        let rel = files[f].rel.to_lowercase();
        let name = rel.trim_start_matches("src/").to_string();
        hint.contains(&rel) || hint.contains(&name)
    };
    let wants_types = hint.contains("type") || hint.contains("check");
    let wants_tests = hint.contains("test");
    let kind_score = |s: &Status| match s {
        Status::Malformed(_) if wants_types && !wants_tests => 1,
        Status::Fail { .. } if wants_tests && !wants_types => 1,
        _ => 0,
    };
    let score = |p: &Problem| 2 * usize::from(names_file(p.0)) + kind_score(&p.2);
    let waiting = pending_section(prompt);
    let problems: Vec<&Problem> = problems
        .iter()
        .filter(|p| !waiting.contains(&format!("fix {}:{} ", files[p.0].rel, p.1 + 1)))
        .collect();
    let best = problems.iter().map(|p| score(p)).max().unwrap_or(0);
    let preferred: Vec<&Problem> = problems
        .iter()
        .copied()
        .filter(|p| score(p) == best)
        .collect();
    let others: Vec<&Problem> = problems
        .iter()
        .copied()
        .filter(|p| score(p) != best)
        .collect();
    if preferred.is_empty() {
        return None;
    }

    // Start at a seeded position among the preferred problems, and move on past any the
    // agent cannot repair.
    let start = rng.below(preferred.len());
    let order = preferred[start..]
        .iter()
        .chain(&preferred[..start])
        .chain(&others);
    for &&(f, l, ref status) in order {
        let old = &files[f].lines[l];
        let Some(new_text) = repair(old) else {
            continue;
        };
        let what = match status {
            Status::Malformed(why) => why.clone(),
            Status::Fail { expected } => {
                let got = tokens(old).get(4).copied().unwrap_or_default();
                format!("wrong result `{got}`, expected {expected}")
            }
            Status::Ignored | Status::Pass => unreachable!(),
        };
        let place = format!("{}:{}", files[f].rel, l + 1);
        return Some(Change {
            file: f,
            line: l,
            action: Action::Fixed(format!("fixed {place} ({what}): now `{new_text}`")),
            subject: format!("fix {place} ({what})"),
            body: format!("`{}` is now `{new_text}`.", old.trim()),
            new_text,
        });
    }
    None
}

fn break_one(files: &[CalcFile], rng: &mut Rng) -> Option<Change> {
    let correct: Vec<(usize, usize)> = files
        .iter()
        .enumerate()
        .flat_map(|(f, file)| {
            (0..file.lines.len())
                .filter(move |&l| classify(&file.lines[l]) == Status::Pass)
                .map(move |l| (f, l))
        })
        .collect();
    if correct.is_empty() {
        return None;
    }
    let (f, l) = correct[rng.below(correct.len())];
    let old = &files[f].lines[l];
    let t: Vec<String> = tokens(old).into_iter().map(str::to_string).collect();
    let kind = rng.below(3);
    let word = (1..3).find_map(|i| Some((i, number_word(operand(&t[i])?)?)));
    let (new, what) = match (kind, word) {
        (0, _) => {
            // Misspell the op by dropping one letter: no op is a two-letter word.
            let i = rng.below(t[0].len());
            let mut op = t[0].clone();
            op.remove(i);
            let what = format!("misspelled op `{}` as `{op}`", t[0]);
            (
                [op, t[1].clone(), t[2].clone(), t[3].clone(), t[4].clone()],
                what,
            )
        }
        (1, Some((i, word))) => {
            let mut new = [
                t[0].clone(),
                t[1].clone(),
                t[2].clone(),
                t[3].clone(),
                t[4].clone(),
            ];
            let what = format!("wrote operand `{}` as `{word}`", t[i]);
            new[i] = word.to_string();
            (new, what)
        }
        _ => {
            let delta = rng.below(9) as i64 + 1;
            let delta = if rng.below(2) == 0 { delta } else { -delta };
            let value = t[4].parse::<i64>().ok()? + delta;
            let what = format!("changed result `{}` to `{value}`", t[4]);
            (
                [
                    t[0].clone(),
                    t[1].clone(),
                    t[2].clone(),
                    t[3].clone(),
                    value.to_string(),
                ],
                what,
            )
        }
    };
    let new_text = new.join(" ");
    debug_assert!(!matches!(
        classify(&new_text),
        Status::Pass | Status::Ignored
    ));
    let place = format!("{}:{}", files[f].rel, l + 1);
    Some(Change {
        file: f,
        line: l,
        action: Action::Broke(format!("broke {place} ({what}): now `{new_text}`")),
        subject: format!("break {place} ({what})"),
        body: format!(
            "`{}` is now `{new_text}`. (The demo agent sometimes breaks things on purpose, \
             so that brl has something to discard.)",
            old.trim()
        ),
        new_text,
    })
}

// ---------------------------------------------------------------------------------------
// Committing.

fn commit(worktree: &Path, rel: &str, message: &str) -> Result<()> {
    let repo = git2::Repository::open(worktree)
        .with_context(|| format!("{} is not a git worktree", worktree.display()))?;
    let Some(workdir) = repo.workdir() else {
        bail!("{} is a bare repository", worktree.display());
    };
    if workdir.canonicalize()? != worktree.canonicalize()? {
        bail!("{} is not the top of its worktree", worktree.display());
    }
    let mut index = repo.index()?;
    index.add_path(Path::new(rel))?;
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let parent = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .context("the worktree has no HEAD commit")?;
    let sig = git2::Signature::now(AUTHOR_NAME, AUTHOR_EMAIL)?;
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &[&parent])?;
    Ok(())
}

#[cfg(test)]
#[path = "agent_tests.rs"]
mod tests;
