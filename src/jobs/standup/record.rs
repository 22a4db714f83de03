//! A session's real record since the last meeting, for its round-1 prompt: its cycles from the
//! experiment log, its branches from the review queue with their commits from git, and the end of
//! its pane output. Reading is at the edge ([`gather`], [`cycles_since`], [`pane_tail`]); the text
//! is built by pure functions ([`record_text`]; pane output cleaned by
//! [`pane_log::clean_terminal`]).

use std::io;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::transcript::when;
use crate::git::Target;
use crate::home::Home;
use crate::store::log::Entry;
use crate::store::queue::QueueEntry;
use crate::tmux::pane_log;

/// At most this many cycles per session are listed (the newest); the rest are counted.
const MAX_CYCLES_SHOWN: usize = 30;
/// At most this many commit subjects per branch.
const MAX_COMMITS_SHOWN: usize = 20;
/// Reading the log backwards stops after this many cycles, however old the last meeting is.
const MAX_CYCLES_READ: usize = 20_000;
/// A cycle's reason is cut to this many characters.
const MAX_REASON_CHARS: usize = 300;

/// A branch the session put in the review queue.
#[derive(Debug, Clone)]
pub struct BranchInfo {
    pub branch: String,
    pub status: String,
    pub subject: String,
    /// Its commits' subjects, newest first; or why they cannot be shown.
    pub commits: Result<Vec<String>, String>,
}

/// What round 1 shows a session about itself.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Its `ralph_cycle` entries since the meeting's start of period, oldest first.
    pub cycles: Vec<Entry>,
    pub branches: Vec<BranchInfo>,
    /// The end of its pane output, cleaned (or a note saying why there is none).
    pub pane: String,
}

/// Every `ralph_cycle` entry at or after `since`, oldest first, read backwards from the end of the
/// log until an older one (bounded by [`MAX_CYCLES_READ`]).
pub fn cycles_since(log_path: &Path, since: DateTime<Utc>) -> io::Result<Vec<Entry>> {
    crate::scheduler::budget::cycles_since(log_path, since, MAX_CYCLES_READ)
}

/// `session`'s record: its cycles out of `cycles`, its queue entries created since `since` (with
/// their commits when the branch still exists), and the last `pane_bytes` of its pane log.
pub fn gather(
    home: &Home,
    session: &str,
    since: DateTime<Utc>,
    cycles: &[Entry],
    queue: &Result<Vec<QueueEntry>, String>,
    target: &Result<Target, String>,
    pane_bytes: usize,
) -> Record {
    let cycles = cycles
        .iter()
        .filter(|e| e.session.as_deref() == Some(session))
        .cloned()
        .collect();
    let branches = match queue {
        Ok(entries) => entries
            .iter()
            .filter(|q| q.session == session && q.created >= since)
            .map(|q| BranchInfo {
                branch: q.branch.clone(),
                status: q.status.as_str().to_string(),
                subject: q.subject.clone(),
                commits: commits(target, q),
            })
            .collect(),
        Err(e) => vec![BranchInfo {
            branch: "(the review queue could not be read)".into(),
            status: "unknown".into(),
            subject: String::new(),
            commits: Err(e.clone()),
        }],
    };
    Record {
        cycles,
        branches,
        pane: pane_tail(home, session, pane_bytes),
    }
}

/// The subjects of the branch's commits on top of its base, when the branch still exists.
fn commits(target: &Result<Target, String>, q: &QueueEntry) -> Result<Vec<String>, String> {
    let t = target
        .as_ref()
        .map_err(|e| format!("the repository: {e}"))?;
    if !t.branch_exists(&q.branch) {
        return Err("the branch no longer exists (merged or deleted)".into());
    }
    let base = git2::Oid::from_str(&q.base)
        .map_err(|_| format!("its base `{}` is not a commit id", q.base))?;
    let head = t.branch_tip(&q.branch).map_err(|e| e.to_string())?;
    let list = t.commits_between(base, head).map_err(|e| e.to_string())?;
    Ok(list.into_iter().map(|(_, subject)| subject).collect())
}

/// The record as the round-1 prompt shows it; says plainly where there is nothing.
pub fn record_text(since: DateTime<Utc>, r: &Record) -> String {
    let since = when(since);
    let mut out = String::new();
    if r.cycles.is_empty() {
        out.push_str(&format!("### Cycles\nNo cycles since {since}.\n"));
    } else {
        out.push_str(&format!("### Cycles since {since}: {}\n", tally(&r.cycles)));
        let skip = r.cycles.len().saturating_sub(MAX_CYCLES_SHOWN);
        if skip > 0 {
            out.push_str(&format!("({skip} older cycles not listed)\n"));
        }
        for e in &r.cycles[skip..] {
            out.push_str(&cycle_line(e));
            out.push('\n');
        }
    }
    if r.branches.is_empty() {
        out.push_str(&format!(
            "\n### Branches\nNo branches in the review queue since {since}.\n"
        ));
    } else {
        out.push_str(&format!(
            "\n### Branches in the review queue since {since}\n"
        ));
        for b in &r.branches {
            out.push_str(&branch_lines(b));
        }
    }
    out.push_str("\n### The end of your pane output\n");
    out.push_str(&r.pane);
    if !r.pane.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// "3 cycles (2 kept, 1 discarded)".
fn tally(cycles: &[Entry]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for e in cycles {
        let o = text(&e.data, "outcome");
        let o = if o.is_empty() { "unknown" } else { o };
        match counts.iter_mut().find(|(k, _)| k == o) {
            Some((_, n)) => *n += 1,
            None => counts.push((o.to_string(), 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let plural = if cycles.len() == 1 { "" } else { "s" };
    format!("{} cycle{plural} ({})", cycles.len(), parts.join(", "))
}

/// `- 2026-11-21 08:01:02 UTC kept brl/s1/…: reason; type errors 2→1, …; commit "…"; task "…"`.
pub fn cycle_line(e: &Entry) -> String {
    let d = &e.data;
    let mut line = format!("- {} {}", when(e.ts), or_unknown(text(d, "outcome")));
    if !text(d, "branch").is_empty() {
        line.push_str(&format!(" {}", text(d, "branch")));
    }
    let reason = one_line(text(d, "reason"), MAX_REASON_CHARS);
    if !reason.is_empty() {
        line.push_str(&format!(": {reason}"));
    }
    if let Some(f) = figures(&d["before"], &d["after"]) {
        line.push_str(&format!("; {f}"));
    }
    if !text(d, "subject").is_empty() {
        line.push_str(&format!(
            "; commit \"{}\"",
            one_line(text(d, "subject"), 200)
        ));
    }
    if !text(d, "task").is_empty() {
        line.push_str(&format!("; task \"{}\"", one_line(text(d, "task"), 200)));
    }
    line
}

/// "type errors 2→1, failing tests 1→1, passing tests 2→2" from the counts before and after;
/// `None` when neither side has any figure.
pub fn figures(before: &Value, after: &Value) -> Option<String> {
    crate::outcome::figures_text(
        before,
        after,
        ["type errors", "failing tests", "passing tests"],
        ", ",
    )
}

fn branch_lines(b: &BranchInfo) -> String {
    let mut out = format!("- {} ({})", b.branch, b.status);
    if !b.subject.is_empty() {
        out.push_str(&format!(": \"{}\"", one_line(&b.subject, 200)));
    }
    out.push('\n');
    match &b.commits {
        Ok(list) if list.is_empty() => out.push_str("  - (no commits on top of its base)\n"),
        Ok(list) => {
            for s in list.iter().take(MAX_COMMITS_SHOWN) {
                out.push_str(&format!("  - commit: {}\n", one_line(s, 200)));
            }
            if list.len() > MAX_COMMITS_SHOWN {
                let more = list.len() - MAX_COMMITS_SHOWN;
                out.push_str(&format!("  - ({more} more commits)\n"));
            }
        }
        Err(why) => out.push_str(&format!("  - commits not shown: {}\n", one_line(why, 300))),
    }
    out
}

fn text<'a>(d: &'a Value, key: &str) -> &'a str {
    d.get(key).and_then(Value::as_str).unwrap_or("")
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "(no outcome)" } else { s }
}

/// `s` on one line, at most `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        None => flat,
        Some((i, _)) => format!("{}…", &flat[..i]),
    }
}

/// The last `max_bytes` of `logs/sessions/<s>/pane.log` (reaching into the rotated `pane.log.1`
/// when the current file is shorter), cleaned; or a note when there is none.
pub fn pane_tail(home: &Home, session: &str, max_bytes: usize) -> String {
    let path = home.session_logs_dir(session).join("pane.log");
    match pane_log::read_tail(&path, max_bytes) {
        Ok((text, _)) if text.trim().is_empty() => "(the pane shows nothing)".into(),
        Ok((text, _)) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            format!("(no pane output: {} does not exist)", path.display())
        }
        Err(e) => format!("(the pane output {} cannot be read: {e})", path.display()),
    }
}
