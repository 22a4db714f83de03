//! The control files: how the control room and the workers talk. One file per session,
//! `logs/control/<session>.json`, read-modify-written under its lock by both sides:
//!
//! - the scheduler writes a **grant** (one cycle, maybe with a task) into an idle session's file;
//! - the worker **takes** it, reports its **phase**, and clears the grant when
//!   the cycle is recorded, leaving the **last** outcome;
//! - a grant whose worker died is **taken back** by the scheduler (its task returns to the queue).
//!
//! Whether a worker is alive is not read from the file (a dead process cannot say it died): each
//! worker holds `logs/locks/worker-<session>.lock` for its whole life, and the kernel releases it
//! when the process dies, whatever the cause.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::home::Home;
use crate::store::atomic::LockGuard;
use crate::store::state::{StateError, StateFile};

pub use super::control_pause::{Fleet, FleetControl, PauseDone, Paused};
pub use super::control_types::{Blocked, Grant, GrantTask, LastCycle};
pub use super::control_watch::{ControlWatch, OwnWatch};

const VERSION: u32 = 1;

/// What the worker is doing, as it last said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    /// Never reported (or the file is new).
    #[default]
    Unknown,
    /// Ready for a grant.
    Waiting,
    /// Running the granted cycle.
    Cycle,
    /// Pausing between cycles (`[worker] pause_secs`, longer after failures).
    Pausing,
    /// Stopped on a signal.
    Stopped,
}

impl WorkerState {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerState::Unknown => "unknown",
            WorkerState::Waiting => "waiting",
            WorkerState::Cycle => "cycle",
            WorkerState::Pausing => "pausing",
            WorkerState::Stopped => "stopped",
        }
    }
}

/// A session's control file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Control {
    #[serde(default)]
    pub grant: Option<Grant>,
    /// How many grants this session has had (the next grant's id is this + 1).
    #[serde(default)]
    pub grants: u64,
    #[serde(default)]
    pub state: WorkerState,
    /// The worker's pid, as it last said.
    #[serde(default)]
    pub pid: Option<u32>,
    /// Since when `state` holds.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// During a cycle: read / analyze / hack / evaluate.
    #[serde(default)]
    pub phase: Option<String>,
    #[serde(default)]
    pub phase_since: Option<DateTime<Utc>>,
    /// During a cycle: its branch.
    #[serde(default)]
    pub branch: Option<String>,
    /// Pausing: when the worker will be ready again.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// When the worker last wrote this file (its state or phase changed). Not periodic: a
    /// waiting worker writes nothing; the life lock tells whether it lives.
    #[serde(default)]
    pub heartbeat: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last: Option<LastCycle>,
    /// Set when a cycle could not repair the session; cleared by the next one that could.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Blocked>,
    /// Paused by the operator (`brl pause <session>`): the scheduler grants it nothing until
    /// `brl resume`; a cycle in flight finishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Paused>,
}

/// A control file's inode, size and modification time: changes whenever the file is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(u64, u64, i64, i64);

impl Control {
    /// Ready for a grant: waiting, and not holding one.
    pub fn idle(&self) -> bool {
        self.state == WorkerState::Waiting && self.grant.is_none()
    }

    /// What the session is doing, as `brl status` and the dashboard show it: `dead` (no worker
    /// holds its life lock: `alive` false), `stale` (see [`Self::frozen`]), `blocked` (see
    /// [`Control::blocked`]), `cycle` (also while paused: the cycle in flight finishes),
    /// `paused` (see [`Control::paused`]), `granted` (waiting, holding a grant), else the worker's
    /// state (`waiting`, `pausing`, …). `_now` is no longer needed (liveness does not depend on
    /// the clock since workers stopped writing periodic heartbeats); kept for the callers.
    pub fn shown_state(&self, alive: bool, _now: DateTime<Utc>) -> &'static str {
        if !alive {
            "dead"
        } else if self.frozen() {
            "stale"
        } else if self.blocked.is_some() {
            "blocked"
        } else if self.paused.is_some() && self.state != WorkerState::Cycle {
            "paused"
        } else {
            match self.state {
                WorkerState::Waiting if self.grant.is_some() => "granted",
                other => other.as_str(),
            }
        }
    }

    /// The worker lives (holds its lock) but does not run: its process is stopped (SIGSTOP,
    /// Ctrl-Z; state `T` or `t` in `/proc/<pid>/stat`) — shown as `stale`. Read from `/proc` at
    /// once rather than from an aging heartbeat, so no worker has to write one periodically.
    pub fn frozen(&self) -> bool {
        let Some(pid) = self.pid else {
            return false;
        };
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // The state is the first field after the command's closing parenthesis.
        text.rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|state| state == "T" || state == "t")
    }
}

/// The control file of one session.
pub struct SessionControl {
    file: StateFile,
    worker_lock: PathBuf,
}

impl SessionControl {
    pub fn new(home: &Home, session: &str) -> SessionControl {
        SessionControl {
            file: StateFile {
                path: home.control_dir().join(format!("{session}.json")),
                what: "session control file",
                version: VERSION,
                hint: "; the worker and the control room rebuild it (a granted task may need `brl task list` to check it is not left running)",
            },
            worker_lock: worker_lock_path(home, session),
        }
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The file's contents (an absent file is an empty control).
    pub fn load(&self) -> Result<Control, StateError> {
        Ok(self.file.read()?.unwrap_or_default())
    }

    /// Read-modify-write under the file's lock.
    pub fn update<T>(&self, f: impl FnOnce(&mut Control) -> T) -> Result<T, StateError> {
        self.file.update(Control::default, |c| Ok(f(c)))
    }

    /// The file's identity and modification stamp; reading it with `stat` wakes no watcher,
    /// unlike opening the file. `None` when it does not exist.
    pub fn stamp(&self) -> Option<Stamp> {
        stamp_of(self.path())
    }

    /// Is a worker of this session alive (holding its lock)?
    pub fn worker_alive(&self) -> std::io::Result<bool> {
        LockGuard::is_held(&self.worker_lock)
    }

    /// Scheduler: give the session one cycle, unless it already holds a grant or is paused.
    /// Returns the grant.
    pub fn grant(&self, task: Option<GrantTask>) -> Result<Option<Grant>, StateError> {
        self.grant_with(task, None)
    }

    /// Scheduler, `brl fix`: give the session one repair cycle of review-queue branch `branch`,
    /// unless it already holds a grant.
    pub fn grant_fix(&self, branch: &str) -> Result<Option<Grant>, StateError> {
        self.grant_with(None, Some(branch.to_string()))
    }

    fn grant_with(
        &self,
        task: Option<GrantTask>,
        fix: Option<String>,
    ) -> Result<Option<Grant>, StateError> {
        self.update(|c| {
            // Checked under the lock: a pause that landed after the scheduler decided wins.
            if c.grant.is_some() || c.paused.is_some() {
                return None;
            }
            c.grants += 1;
            let g = Grant {
                id: c.grants,
                at: Utc::now(),
                task,
                fix,
                taken_by: None,
                taken_at: None,
            };
            c.grant = Some(g.clone());
            Some(g)
        })
    }

    /// Scheduler: remove the grant of a session whose worker is dead; returns it (its task, if
    /// any, goes back to the queue). Nothing happens when the worker lives.
    pub fn take_back(&self) -> Result<Option<Grant>, StateError> {
        // The common case — no grant, or a live worker — costs a read, never a write.
        if self.load()?.grant.is_none() || !matches!(self.worker_alive(), Ok(false)) {
            return Ok(None);
        }
        self.update(|c| {
            // Checked under the file's lock: a worker takes its life lock before it takes a grant
            // (also under this lock), so it gets the grant before we decide, or finds none after.
            if c.grant.is_none() || !matches!(self.worker_alive(), Ok(false)) {
                return None;
            }
            c.state = WorkerState::Unknown;
            c.phase = None;
            c.branch = None;
            c.grant.take()
        })
    }

    /// Worker: take the waiting grant (also one taken by a previous, dead worker of this session).
    pub fn take(&self, pid: u32) -> Result<Option<Grant>, StateError> {
        // Called on every change in the control directory: without a grant it only reads, so
        // waiting workers never write (each write would wake all the others).
        if self.load()?.grant.is_none() {
            return Ok(None);
        }
        self.update(|c| {
            let g = c.grant.as_mut()?;
            g.taken_by = Some(pid);
            g.taken_at = Some(Utc::now());
            let g = g.clone();
            c.state = WorkerState::Cycle;
            c.since = Some(Utc::now());
            c.phase = None;
            c.branch = None;
            Some(g)
        })
    }

    /// Worker: say what it is doing now.
    pub fn set_state(
        &self,
        pid: u32,
        state: WorkerState,
        until: Option<DateTime<Utc>>,
    ) -> Result<(), StateError> {
        self.update(|c| {
            let now = Utc::now();
            c.pid = Some(pid);
            if c.state != state {
                c.since = Some(now);
            }
            c.state = state;
            c.until = until;
            c.heartbeat = Some(now);
            if state != WorkerState::Cycle {
                c.phase = None;
                c.phase_since = None;
                c.branch = None;
            }
        })
    }

    /// Worker: the cycle's phase started.
    pub fn set_phase(&self, phase: &str, branch: Option<&str>) -> Result<(), StateError> {
        self.update(|c| {
            let now = Utc::now();
            c.phase = Some(phase.to_string());
            c.phase_since = Some(now);
            if let Some(b) = branch {
                c.branch = Some(b.to_string());
            }
            c.heartbeat = Some(now);
        })
    }

    /// Cycle: the session cannot be repaired, for `reason`. True when this is news (it was not
    /// blocked); an existing block keeps its `since` and takes the latest reason (which names
    /// each attempt's branch).
    pub fn set_blocked(&self, reason: &str) -> Result<bool, StateError> {
        self.update(|c| match &mut c.blocked {
            Some(b) => {
                b.reason = reason.to_string();
                false
            }
            None => {
                c.blocked = Some(Blocked {
                    reason: reason.to_string(),
                    since: Utc::now(),
                });
                true
            }
        })
    }

    /// Cycle: the session runs again. Returns the block it lifted, if any.
    pub fn clear_blocked(&self) -> Result<Option<Blocked>, StateError> {
        // The common case (not blocked) only reads.
        if self.load()?.blocked.is_none() {
            return Ok(None);
        }
        self.update(|c| c.blocked.take())
    }

    /// Worker: the granted cycle is recorded; clear grant `id` and keep its outcome.
    pub fn finish(&self, id: u64, last: Option<LastCycle>) -> Result<(), StateError> {
        self.update(|c| {
            if c.grant.as_ref().is_some_and(|g| g.id == id) {
                c.grant = None;
            }
            if last.is_some() {
                c.last = last;
            }
            c.phase = None;
            c.phase_since = None;
            c.branch = None;
        })
    }
}

/// A file's identity and modification stamp (`stat` only: wakes no watcher).
pub(super) fn stamp_of(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp(m.ino(), m.len(), m.mtime(), m.mtime_nsec()))
}

/// The lock a worker holds for its whole life.
pub fn worker_lock_path(home: &Home, session: &str) -> PathBuf {
    home.locks_dir().join(format!("worker-{session}.lock"))
}

/// Every session's control file, by session name (sessions with no file are left out).
pub fn load_all(home: &Home, sessions: &[String]) -> Vec<(String, Result<Control, StateError>)> {
    sessions
        .iter()
        .filter_map(|s| {
            let sc = SessionControl::new(home, s);
            sc.path().exists().then(|| (s.clone(), sc.load()))
        })
        .collect()
}

#[cfg(test)]
#[path = "control_tests.rs"]
mod tests;
