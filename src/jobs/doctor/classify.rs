//! The doctor's diagnosis of one session: a pure function from its recent cycles, its control
//! file and its pane output to a [`Class`] with evidence lines — no files, no clock.
//!
//! The rules, tried in this order (K = `[doctor] loop_cycles`, the window = the session's last
//! `[doctor] window_cycles` `ralph_cycle` entries):
//!
//! 0. **`misconfigured`** — the last K cycles (all of them, when fewer) changed nothing because
//!    the agent was denied tools (their entries carry `denials`): brl's config, not the agent,
//!    keeps the session from working. Evidence: the denied tools as the newest cycle's reason
//!    names them, and the fix.
//! 1. **`error_looping`** — the last K cycles were all not kept and all ended with the same
//!    outcome and the same reason once normalised ([`normalise`]: lowercase, every run of digits
//!    `#`, runs of white space one space). Evidence: the repeated text, the outcome and the
//!    cycles' branches.
//! 2. **`stuck`** — granted, or in a cycle, for longer than `[doctor] stuck_secs` (from the
//!    earlier of the grant's time and the start of the cycle state) with no cycle finishing
//!    since. Evidence: the age of the grant, the phase, whether a worker runs, the pane's last
//!    line.
//! 3. **`stuck`** — K or more cycles in the window and none kept. Evidence: "N cycles, none
//!    kept", the outcomes counted, the last reason.
//! 4. **`productive`** — any kept cycle in the window. Evidence: how many were kept, the last
//!    kept branch.
//! 5. **`idle`** — no grant, not in a cycle, and no cycles in the window.
//! 6. Anything else is too early to judge — fewer than K cycles and none kept, or a grant
//!    younger than `stuck_secs` — and counts as **`productive`** (no sign of trouble), with
//!    evidence saying exactly that.

use chrono::{DateTime, Utc};

use crate::config::DoctorConfig;
use crate::store::control::{Control, WorkerState};
use crate::store::log::Entry;

/// Longest piece of an agent's or a pane's text an evidence line quotes.
const QUOTE_CHARS: usize = 200;

/// What the doctor says a session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Productive,
    Stuck,
    Idle,
    ErrorLooping,
    Misconfigured,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Productive => "productive",
            Class::Stuck => "stuck",
            Class::Idle => "idle",
            Class::ErrorLooping => "error_looping",
            Class::Misconfigured => "misconfigured",
        }
    }
}

/// One finished cycle, as its `ralph_cycle` entry tells it.
#[derive(Clone, Debug, PartialEq)]
pub struct CycleFact {
    pub ts: DateTime<Utc>,
    pub outcome: String,
    pub branch: String,
    pub reason: String,
    /// The agent was denied tools and the cycle changed nothing.
    pub denied: bool,
}

impl CycleFact {
    pub fn from_entry(e: &Entry) -> CycleFact {
        let s = |k: &str| e.data.get(k).and_then(|v| v.as_str()).unwrap_or("");
        CycleFact {
            ts: e.ts,
            outcome: s("outcome").to_string(),
            branch: s("branch").to_string(),
            reason: s("reason").to_string(),
            denied: e
                .data
                .get("denials")
                .and_then(|d| d.as_array())
                .is_some_and(|d| !d.is_empty())
                && matches!(s("outcome"), "no_change" | "agent_failed"),
        }
    }

    fn kept(&self) -> bool {
        self.outcome == "kept"
    }
}

/// Everything the diagnosis of one session is made from.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    /// The session's recent cycles, oldest first (only the last `window_cycles` count).
    pub cycles: &'a [CycleFact],
    /// Its control file; `None` when it has none (never granted).
    pub control: Option<&'a Control>,
    /// Whether a worker process holds the session's life lock, when known.
    pub worker_alive: Option<bool>,
    /// The end of its pane output, cleaned of escape sequences.
    pub pane_tail: &'a str,
    pub now: DateTime<Utc>,
}

/// The class and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnosis {
    pub class: Class,
    pub evidence: Vec<String>,
}

impl Diagnosis {
    fn new(class: Class, evidence: Vec<String>) -> Diagnosis {
        Diagnosis { class, evidence }
    }
}

/// Classify one session by the rules in this module's documentation.
pub fn classify(f: &Facts, rules: &DoctorConfig) -> Diagnosis {
    let window = &f.cycles[f.cycles.len().saturating_sub(rules.window_cycles)..];
    let k = rules.loop_cycles.max(1);
    let kept = window.iter().filter(|c| c.kept()).count();

    // 0. Denied, every recent cycle: the agent command lacks a permission.
    if !window.is_empty() {
        let last = &window[window.len().saturating_sub(k)..];
        if last.iter().all(|c| c.denied) {
            let newest = &last[last.len() - 1];
            return Diagnosis::new(
                Class::Misconfigured,
                vec![
                    format!(
                        "the agent was denied tools and changed nothing in the last {} cycle(s): {}",
                        last.len(),
                        quote(&newest.reason)
                    ),
                    "fix: give [agent] command the permissions the agent needs (`brl init --agent <name>` shows each preset's command)".into(),
                ],
            );
        }
    }

    // 1. The same error K times in a row.
    if window.len() >= k {
        let last = &window[window.len() - k..];
        let key = |c: &CycleFact| (c.outcome.clone(), normalise(&c.reason));
        if last.iter().all(|c| !c.kept()) && last.iter().all(|c| key(c) == key(&last[0])) {
            let newest = &last[k - 1];
            let branches: Vec<&str> = last.iter().map(|c| c.branch.as_str()).collect();
            return Diagnosis::new(
                Class::ErrorLooping,
                vec![
                    format!(
                        "same error in the last {k} cycles: {}",
                        quote(&newest.reason)
                    ),
                    format!("cycles (all {}): {}", newest.outcome, branches.join(", ")),
                ],
            );
        }
    }

    // 2. Granted or in a cycle for too long.
    if let Some(evidence) = stuck_in_grant(f, window, rules.stuck_secs) {
        return Diagnosis::new(Class::Stuck, evidence);
    }

    // 3. Cycles enough to judge, none kept.
    if window.len() >= k && kept == 0 {
        let mut evidence = vec![format!(
            "{} cycles, none kept ({})",
            window.len(),
            outcome_counts(window)
        )];
        if let Some(c) = window.last() {
            evidence.push(format!(
                "last: {} {}: {}",
                c.outcome,
                c.branch,
                quote(&c.reason)
            ));
        }
        return Diagnosis::new(Class::Stuck, evidence);
    }

    // 4. Something kept.
    if let Some(c) = window.iter().rev().find(|c| c.kept()) {
        return Diagnosis::new(
            Class::Productive,
            vec![
                format!("{kept} of the last {} cycles kept", window.len()),
                format!("last kept: {} ({})", c.branch, quote(&c.reason)),
            ],
        );
    }

    // 5. Nothing at all.
    let busy = busy_since(f.control);
    if window.is_empty() && busy.is_none() {
        let state = f.control.map_or("no control file".to_string(), |c| {
            format!("worker {}", c.state.as_str())
        });
        return Diagnosis::new(
            Class::Idle,
            vec![format!("no cycles in the window and no grant ({state})")],
        );
    }

    // 6. Too early to judge.
    let mut evidence = vec![format!(
        "too early to judge: {} cycles, none kept yet (stuck at {k} without a kept one)",
        window.len()
    )];
    if let Some(since) = busy {
        evidence.push(format!("working for {}", age(f.now, since)));
    }
    Diagnosis::new(Class::Productive, evidence)
}

/// When the session got its grant or entered its cycle, whichever was first.
fn busy_since(control: Option<&Control>) -> Option<DateTime<Utc>> {
    let c = control?;
    let granted = c.grant.as_ref().map(|g| g.at);
    let cycling = (c.state == WorkerState::Cycle).then_some(c.since).flatten();
    granted.into_iter().chain(cycling).min()
}

fn stuck_in_grant(f: &Facts, window: &[CycleFact], stuck_secs: u64) -> Option<Vec<String>> {
    let c = f.control?;
    let since = busy_since(Some(c))?;
    let secs = (f.now - since).num_seconds();
    if secs <= stuck_secs as i64 || window.iter().any(|cycle| cycle.ts >= since) {
        return None;
    }
    let mut evidence = vec![];
    match &c.grant {
        Some(g) => {
            let task = g
                .task
                .as_ref()
                .map(|t| format!(", task #{} \"{}\"", t.id, quote(&t.title)))
                .unwrap_or_default();
            evidence.push(format!(
                "granted {} ago (grant #{}{task}), no cycle finished since",
                age(f.now, g.at),
                g.id
            ));
        }
        None => evidence.push(format!(
            "in a cycle for {} without a grant, no cycle finished since",
            age(f.now, since)
        )),
    }
    if c.state == WorkerState::Cycle {
        let phase = c.phase.as_deref().unwrap_or("unknown phase");
        let phase_age = c
            .phase_since
            .map(|t| format!(" for {}", age(f.now, t)))
            .unwrap_or_default();
        let branch = c
            .branch
            .as_deref()
            .map(|b| format!(" on {b}"))
            .unwrap_or_default();
        evidence.push(format!("in phase {phase}{phase_age}{branch}"));
    } else {
        evidence.push(format!("worker {} (grant not taken)", c.state.as_str()));
    }
    if f.worker_alive == Some(false) {
        evidence.push("no worker process is running for it".into());
    }
    if let Some(line) = f
        .pane_tail
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
    {
        evidence.push(format!("pane's last line: {}", quote(line)));
    }
    Some(evidence)
}

/// `2 discarded, 1 no_change` — outcomes in order of first appearance.
fn outcome_counts(window: &[CycleFact]) -> String {
    let mut counts: Vec<(&str, usize)> = vec![];
    for c in window {
        match counts.iter_mut().find(|(o, _)| *o == c.outcome) {
            Some((_, n)) => *n += 1,
            None => counts.push((&c.outcome, 1)),
        }
    }
    counts
        .iter()
        .map(|(o, n)| format!("{n} {o}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An error text made comparable: lowercase, every run of digits `#`, white space collapsed.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev = ' ';
    for ch in text.trim().chars().flat_map(char::to_lowercase) {
        let ch = if ch.is_ascii_digit() {
            '#'
        } else if ch.is_whitespace() {
            ' '
        } else {
            ch
        };
        if (ch == '#' || ch == ' ') && ch == prev {
            continue;
        }
        out.push(ch);
        prev = ch;
    }
    out
}

/// `2 h 05 min`, `12 min`, `40 s`: how long ago `t` was.
pub fn age(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds().max(0);
    match secs {
        s if s >= 3600 => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// One line of at most [`QUOTE_CHARS`] characters.
fn quote(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(QUOTE_CHARS) {
        None => one,
        Some((i, _)) => format!("{}…", &one[..i]),
    }
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
