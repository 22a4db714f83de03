//! The session doctor, `doctor_analysis`. For every configured session it reads the last
//! `[doctor] window_cycles` cycles from the log, the control file and the end of the pane
//! output, and classifies the session — `productive`, `stuck`, `idle` or `error_looping` — with
//! evidence ([`classify`], a pure function; the rules are in its documentation). With
//! `[doctor] advise = true` the agent (role `doctor`, `BRL_SESSION=<s>`) is asked, per session
//! with cycles to learn from, how its prompt could be improved. Then the skill step
//! ([`super::skills`]) turns the cycles kept since the last run into skill files.
//!
//! The entry's data: `sessions` (per session `class`, `evidence`, and `advice` (plus
//! `advice_output` when cut), `advice_error` or `advice_skipped`), `summary` (one line per
//! session that is not `productive`; empty when all are), the skill step's fields, and
//! `stopped` when the job's time ran out or it was interrupted (the calls left were skipped).
//! An agent call that fails is recorded where its answer would be; the classification is always
//! there.

pub mod classify;

use std::path::Path;
use std::sync::atomic::Ordering;

use serde_json::{Map, Value, json};

use super::{Ctx, JobError, skills};
use crate::home::Home;
use crate::prompt;
use crate::store::control::{Control, SessionControl};
use crate::store::log::{self, Entry, Filter};
pub use classify::{Class, CycleFact, Diagnosis, Facts, classify};

/// How much of the end of a session's pane output is read.
const PANE_TAIL_BYTES: u64 = 2000;
/// How many of its last lines are kept.
const PANE_TAIL_LINES: usize = 20;
/// The longest advice the entry keeps (the whole answer stays in its output file).
const MAX_ADVICE_CHARS: usize = 4000;

pub fn run(ctx: &mut Ctx) -> Result<Value, JobError> {
    let rules = ctx.config.doctor.clone();
    let mut sessions = Map::new();
    let mut summary = Vec::new();
    let mut stopped: Option<String> = None;
    let names = ctx.config.session_names();
    let n = names.len();
    for (i, s) in names.into_iter().enumerate() {
        ctx.progress(format!("session {} of {n}: {s}", i + 1));
        let seen = Seen::gather(ctx.home, &s, rules.window_cycles);
        let facts = Facts {
            cycles: &seen.cycles,
            control: seen.control.as_ref(),
            worker_alive: seen.alive,
            pane_tail: &seen.pane,
            now: ctx.started,
        };
        let mut d = classify(&facts, &rules);
        d.evidence.extend(seen.problems.iter().cloned());
        if d.class != Class::Productive {
            let first = d.evidence.first().map(String::as_str).unwrap_or("");
            summary.push(format!("{s} {}: {first}", d.class.as_str()));
        }
        let mut v = json!({"class": d.class.as_str(), "evidence": d.evidence});
        if rules.advise {
            advise(ctx, &s, &seen, &d, &mut v, &mut stopped);
        }
        sessions.insert(s, v);
    }
    let mut data = json!({"sessions": sessions, "summary": summary.join("\n")});
    check_cancel(ctx, &mut stopped);
    for (k, v) in skills::run(ctx, &mut stopped) {
        data[k] = v;
    }
    if let Some(why) = stopped {
        data["stopped"] = json!(why);
    }
    Ok(data)
}

/// What the doctor read about one session.
struct Seen {
    entries: Vec<Entry>,
    cycles: Vec<CycleFact>,
    control: Option<Control>,
    alive: Option<bool>,
    pane: String,
    /// Files that could not be read, as evidence lines.
    problems: Vec<String>,
}

impl Seen {
    fn gather(home: &Home, session: &str, window: usize) -> Seen {
        let mut problems = vec![];
        let filter = Filter {
            kind: Some("ralph_cycle".into()),
            session: Some(session.into()),
        };
        let entries = match log::tail(&home.log_path(), window, &filter) {
            Ok(t) => t.entries,
            Err(e) => {
                problems.push(format!(
                    "cannot read the log {}: {e}",
                    home.log_path().display()
                ));
                vec![]
            }
        };
        let sc = SessionControl::new(home, session);
        let control = match sc.path().exists().then(|| sc.load()) {
            None => None,
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                problems.push(format!("control file unreadable: {e}"));
                None
            }
        };
        Seen {
            cycles: entries.iter().map(CycleFact::from_entry).collect(),
            entries,
            control,
            alive: sc.worker_alive().ok(),
            pane: pane_tail(&home.session_logs_dir(session).join("pane.log")),
            problems,
        }
    }
}

/// Ask the agent how `session`'s prompt could be better; the answer (or why there is none) goes
/// into `v`.
fn advise(
    ctx: &mut Ctx,
    session: &str,
    seen: &Seen,
    d: &Diagnosis,
    v: &mut Value,
    stopped: &mut Option<String>,
) {
    check_cancel(ctx, stopped);
    if let Some(why) = stopped.as_ref() {
        v["advice_skipped"] = json!(why);
        return;
    }
    if seen.cycles.is_empty() {
        v["advice_skipped"] = json!("no cycles in the window to learn from");
        return;
    }
    let ralph = prompt::template(ctx.home, "ralph")
        .map(|(text, _)| text)
        .unwrap_or_else(|e| format!("(cannot be read: {e:#})"));
    let vars = [
        ("session", session.to_string()),
        ("class", d.class.as_str().to_string()),
        ("evidence", bullets(&d.evidence)),
        ("history", history(&seen.entries)),
        (
            "pane",
            if seen.pane.is_empty() {
                "(no pane output)".into()
            } else {
                seen.pane.clone()
            },
        ),
        ("ralph_prompt", ralph),
    ];
    match ctx.ask("doctor", Some(session), &vars, None) {
        Ok(a) => {
            let text = a.text.trim();
            if text.is_empty() {
                v["advice_error"] = json!(format!(
                    "the agent's answer was empty; its output is in {}",
                    a.output.display()
                ));
                return;
            }
            match text.char_indices().nth(MAX_ADVICE_CHARS) {
                None => v["advice"] = json!(text),
                Some((i, _)) => {
                    v["advice"] = json!(format!("{}…", &text[..i]));
                    v["advice_output"] = json!(a.output.display().to_string());
                }
            }
        }
        Err(e) => {
            if matches!(e, JobError::TimedOut { .. }) {
                *stopped = Some(e.to_string());
            }
            v["advice_error"] = json!(e.to_string());
        }
    }
}

/// An interrupted job (SIGINT/SIGTERM) makes no more agent calls.
fn check_cancel(ctx: &Ctx, stopped: &mut Option<String>) {
    if stopped.is_none() && ctx.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        *stopped = Some("interrupted: the agent calls left were skipped".into());
    }
}

fn bullets(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("- {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The session's cycles, oldest first, one line each.
fn history(entries: &[Entry]) -> String {
    let lines: Vec<String> = entries
        .iter()
        .map(|e| crate::prompt::cycle_line(e, &e.ts.format("%Y-%m-%d %H:%M:%S").to_string()))
        .collect();
    if lines.is_empty() {
        "(no cycles)".into()
    } else {
        lines.join("\n")
    }
}

/// The last lines of a pane's output as plain text ([`pane_log::read_tail`]). Empty when there is
/// none.
fn pane_tail(path: &Path) -> String {
    let Ok((text, _)) = crate::tmux::pane_log::read_tail(path, PANE_TAIL_BYTES as usize) else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    lines[lines.len().saturating_sub(PANE_TAIL_LINES)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pane_tail_cleans_and_bounds() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("pane.log");
        assert_eq!(pane_tail(&p), "", "no file, no text");
        let mut text = "x".repeat(3000);
        text.push_str("\nfirst\n\x1b[31mred\x1b[0m line\nprogress 10%\rprogress 100%\n\n");
        std::fs::write(&p, text).expect("write");
        assert_eq!(pane_tail(&p), "first\nred line\nprogress 100%");
        let many: String = (0..50).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&p, many).expect("write");
        let tail = pane_tail(&p);
        assert_eq!(tail.lines().count(), PANE_TAIL_LINES);
        assert!(tail.ends_with("line 49"), "{tail}");
    }

    #[test]
    fn history_lines() {
        let e = Entry::new(
            "ralph_cycle",
            Some("s1"),
            json!({"outcome": "kept", "branch": "brl/s1/x", "reason": "errors 2 → 1",
                   "subject": "fix", "task": "T"}),
        );
        let h = history(std::slice::from_ref(&e));
        assert!(
            h.ends_with("kept brl/s1/x: errors 2 → 1 — \"fix\" (task: T)"),
            "{h}"
        );
        assert_eq!(history(&[]), "(no cycles)");
    }
}
