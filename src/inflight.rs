//! The marker of a cycle in flight, `logs/sessions/<s>/inflight.json`: written before a cycle
//! creates its branch, removed once its log entry is written. A marker found by the session's next
//! cycle means the process running it died (killed, machine rebooted): that cycle is recorded once,
//! keyed by its id, as `error`, and its branch settled (see `cycle::recover`).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::home::Home;
use crate::store::atomic::write_atomic;

const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inflight {
    pub version: u32,
    /// The cycle's id, never reused (absent in markers written before ids).
    #[serde(default)]
    pub cycle_id: Option<String>,
    pub branch: String,
    pub base: String,
    pub started: DateTime<Utc>,
    pub pid: u32,
    /// The task from the task queue the cycle was running, if any.
    #[serde(default)]
    pub task_id: Option<u64>,
}

impl Inflight {
    pub fn new(
        cycle_id: &str,
        branch: &str,
        base: &str,
        started: DateTime<Utc>,
        task_id: Option<u64>,
    ) -> Inflight {
        Inflight {
            version: VERSION,
            cycle_id: Some(cycle_id.into()),
            branch: branch.into(),
            base: base.into(),
            started,
            pid: std::process::id(),
            task_id,
        }
    }
}

pub fn path(home: &Home, session: &str) -> PathBuf {
    home.session_logs_dir(session).join("inflight.json")
}

pub fn mark(home: &Home, session: &str, m: &Inflight) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(m).map_err(std::io::Error::other)?;
    write_atomic(&path(home, session), &json)
}

pub fn clear(home: &Home, session: &str) -> std::io::Result<()> {
    match std::fs::remove_file(path(home, session)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
