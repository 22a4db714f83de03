//! What the dashboard shows, prepared off the draw path by the loader (`load.rs`): plain data,
//! no handles, so rendering never does IO and tests build it by hand.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::store::control::LastCycle;
use crate::store::log::Entry;
use crate::store::queue::QueueEntry;
use crate::store::tasks::Task;

/// How many log entries the dashboard keeps (a ring: the oldest go first).
pub const LOG_CAPACITY: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Data {
    /// The home's path, as shown.
    pub home: String,
    /// The branch approvals merge into.
    pub main: String,
    pub sessions: Vec<SessionRow>,
    /// The review queue, all entries (the view shows pending and conflict ones); or why it
    /// cannot be read.
    pub queue: Result<Vec<ReviewRow>, String>,
    pub tasks: Result<Vec<Task>, String>,
    pub meetings: Result<Vec<Meeting>, String>,
    pub log: LogRing,
    pub room: Room,
    pub memory: Option<Memory>,
    /// Each `[[hosts]]` host's memory, or why it has none, from `logs/hosts/<name>.json`.
    pub hosts: Vec<HostMemory>,
    /// Type-check slots held now, of the configured maximum.
    pub typecheck: (usize, usize),
    pub today: Today,
    /// The jobs' progress files (`logs/jobs/*.progress.json`): running, or how they ended.
    pub jobs: Vec<JobRow>,
    /// The whole fleet is paused (`P`, `brl pause`): who paused it (cli, http, dashboard). The
    /// header says "fleet PAUSED (by <who>) — P resumes".
    pub fleet_paused: Option<String>,
    /// Why the fleet or a session does not work now ([`crate::why::explain`]), most important
    /// first; empty: nothing holds work back.
    pub why: Vec<crate::why::Why>,
    /// Tests known to be flaky (`logs/flaky-tests.json`), by name.
    pub flaky: Vec<String>,
    /// The selected session's live output, for the Sessions view's lower area.
    pub preview: Option<Preview>,
    /// True until the first read of the home completed: the screen says "loading" rather than
    /// what an empty `Data` would claim (no control room, no sessions).
    pub loading: bool,
}

/// The end of one session's pane log, its colours kept (SGR sequences only; every other control
/// sequence removed on the loader thread).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub session: String,
    /// The last lines, each still holding its SGR sequences.
    pub lines: Vec<String>,
    /// Why there is nothing to show (no pane log yet, unreadable).
    pub note: Option<String>,
}

impl Default for Data {
    fn default() -> Self {
        Data {
            home: String::new(),
            main: "main".into(),
            sessions: vec![],
            queue: Ok(vec![]),
            tasks: Ok(vec![]),
            meetings: Ok(vec![]),
            log: LogRing::default(),
            room: Room::default(),
            memory: None,
            hosts: vec![],
            typecheck: (0, 0),
            today: Today::default(),
            fleet_paused: None,
            why: vec![],
            flaky: vec![],
            preview: None,
            loading: false,
            jobs: vec![],
        }
    }
}

/// A job's progress file, and whether the process it names still runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub progress: crate::jobs::progress::Progress,
    /// A run without a result whose process is gone died (killed, crashed).
    pub alive: bool,
}

/// What a session is doing, as its control file and life lock say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// In a cycle.
    Cycle,
    /// Granted, the worker has not started yet.
    Granted,
    /// Ready for a grant.
    Waiting,
    /// Pausing between cycles.
    Pausing,
    /// The worker lives but is stopped (SIGSTOP, Ctrl-Z): frozen.
    Stale,
    /// The worker died unexpectedly (it was waiting, pausing or in a cycle).
    Dead,
    /// No worker: stopped on purpose (`brl down`, a signal) or never started.
    Stopped,
    /// The control file cannot be read: the message names it and the fix.
    Error(String),
    /// The worker lives but the session cannot be repaired: the reason.
    Blocked(String),
    /// Paused by the operator (`p`, `brl pause <session>`): who paused it (cli, http, dashboard).
    Paused(String),
    /// Its `[[hosts]]` host does not answer: since when, and why (its worker may still run there).
    Unreachable(String),
}

impl SessionState {
    pub fn label(&self) -> &'static str {
        match self {
            SessionState::Cycle => "cycle",
            SessionState::Granted => "granted",
            SessionState::Waiting => "waiting",
            SessionState::Pausing => "pausing",
            SessionState::Stale => "stale",
            SessionState::Dead => "dead",
            SessionState::Stopped => "stopped",
            SessionState::Error(_) => "error",
            SessionState::Blocked(_) => "blocked",
            SessionState::Paused(_) => "paused",
            SessionState::Unreachable(_) => "unreach",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub name: String,
    /// The `[[hosts]]` host it runs on; `None` for this machine.
    pub host: Option<String>,
    pub state: SessionState,
    /// read / analyze / hack / evaluate during a cycle; `None` is idle.
    pub phase: Option<String>,
    /// Since when the phase (or, idle, the state) holds.
    pub since: Option<DateTime<Utc>>,
    pub branch: Option<String>,
    /// The task of the grant held (granted or in a cycle), by title.
    pub task: Option<String>,
    pub last: Option<LastCycle>,
    /// Before→after figures of the last cycle ("errors 3→1"), from the log.
    pub last_figures: Option<String>,
    pub kept_today: u32,
    pub discarded_today: u32,
    /// Cycles that changed nothing (not discards: nothing was thrown away).
    pub no_change_today: u32,
    /// The doctor's class ("productive", "stuck"…) once the doctor has run.
    pub health: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub entry: QueueEntry,
    /// (files, lines added, lines removed), or why it could not be counted.
    pub diff: Result<(usize, usize, usize), String>,
    /// The automated review's verdict ("approve", "reject", "unclear"), when there is one.
    pub verdict: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    /// The file name, e.g. `20261121-093000-standup.md`.
    pub name: String,
    pub path: PathBuf,
    pub at: Option<DateTime<Utc>>,
    pub bytes: u64,
}

/// The last [`LOG_CAPACITY`] entries, oldest first.
#[derive(Debug, Clone, Default)]
pub struct LogRing {
    pub entries: VecDeque<Entry>,
    /// Lines that were not entries (torn or corrupt), counted since the dashboard opened.
    pub malformed: usize,
    /// Things to know about the file ("truncated; following from its start").
    pub notices: Vec<String>,
    /// Entry types seen (for the type filter), sorted.
    pub kinds: Vec<String>,
}

impl LogRing {
    pub fn push(&mut self, e: Entry) {
        if !self.kinds.contains(&e.kind) {
            let at = self.kinds.partition_point(|k| k < &e.kind);
            self.kinds.insert(at, e.kind.clone());
        }
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(e);
    }
}

/// Who schedules this home.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Room {
    /// The pid holding the home's control lock; `None`: nobody schedules.
    pub pid: Option<u32>,
    /// "pm2", "tmux", "terminal" — as the control room recorded it.
    pub supervisor: Option<String>,
    /// Agents limited now, in words: "agent claude limited (usage limit) until 23:03".
    pub agent_limits: Vec<String>,
    /// The configured agent's preset when brl's gate cannot run inside it (opencode, aider,
    /// custom): the header says so plainly.
    pub ungated_agent: Option<String>,
    /// `[review] max_pending` (0 = no cap): the header says when the backlog pauses cycles.
    pub max_pending: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    pub used_percent: f64,
    pub gate_percent: u8,
}

impl Memory {
    pub fn gated(&self) -> bool {
        self.used_percent > f64::from(self.gate_percent)
    }
}

/// One `[[hosts]]` host in the header, as the control room last knew it.
#[derive(Debug, Clone, PartialEq)]
pub struct HostMemory {
    pub name: String,
    /// Its memory (`None`: not known yet, or unreachable).
    pub memory: Option<Memory>,
    /// Unreachable for this long (`3m`, formatted by the loader so the text changes rarely).
    pub unreachable_for: Option<String>,
    /// Stopped by `brl down --host`.
    pub stopped: bool,
}

/// Today's figures (UTC day), from the log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Today {
    pub kept: u32,
    pub discarded: u32,
    /// Cycles that ended without a change (`no_change`): counted apart from discards.
    pub no_change: u32,
    pub cost_usd: f64,
    /// Per session: (kept, discarded, no change).
    pub by_session: BTreeMap<String, (u32, u32, u32)>,
}

/// Text loaded in the background for a reader: a diff, a transcript, a session's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    pub lines: Vec<String>,
    /// Diffs: (file path, first line index) per file, in order.
    pub files: Vec<(String, usize)>,
    /// Set when the text was cut short (e.g. "diff truncated at 20000 lines").
    pub note: Option<String>,
}
