//! `logs/hosts/<name>.json`: what the control room last knew of a host — reachable or since when
//! not, its memory and its sessions (the last snapshot) — for `brl status` and the dashboard,
//! which read it instead of asking the host themselves. Owned by the control room; replaced
//! atomically after each scheduling pass that talked to the host.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::remote_ops::Snapshot;
use crate::home::Home;
use crate::store::atomic::write_atomic;

const VERSION: u32 = 1;

/// One host as the control room last saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostStatus {
    pub version: u32,
    pub host: String,
    pub reachable: bool,
    /// Since when `reachable` holds (as seen by this control room, kept across its restarts).
    pub since: DateTime<Utc>,
    /// When the control room last tried the host.
    pub checked_at: DateTime<Utc>,
    /// Why it is unreachable, in ssh's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub max_ram_percent: u8,
    /// The last snapshot the host answered (older than `checked_at` while unreachable).
    pub snapshot: Option<Snapshot>,
}

pub fn path(home: &Home, host: &str) -> PathBuf {
    home.logs_dir().join("hosts").join(format!("{host}.json"))
}

/// The host's status file; `Ok(None)` when there is none yet.
pub fn load(home: &Home, host: &str) -> anyhow::Result<Option<HostStatus>> {
    let p = path(home, host);
    let text = match std::fs::read(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("cannot read {}: {e}", p.display()),
    };
    let s: HostStatus = serde_json::from_slice(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a host status file this brl can read: {e}\n  fix: delete it; the control room writes it again at its next pass",
            p.display()
        )
    })?;
    if s.version != VERSION {
        anyhow::bail!(
            "{} has version {}, this brl reads {VERSION}\n  fix: delete it; the control room writes it again at its next pass",
            p.display(),
            s.version
        );
    }
    Ok(Some(s))
}

pub fn save(home: &Home, s: &HostStatus) -> std::io::Result<()> {
    let p = path(home, &s.host);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut bytes = serde_json::to_vec_pretty(s).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write_atomic(&p, &bytes)
}

pub fn new(host: &str, max_ram_percent: u8) -> HostStatus {
    let now = Utc::now();
    HostStatus {
        version: VERSION,
        host: host.to_string(),
        reachable: true,
        since: now,
        checked_at: now,
        error: None,
        max_ram_percent,
        snapshot: None,
    }
}

/// `logs/hosts/<name>.stopped`: `brl down --host NAME` stopped the host's workers; the control
/// room leaves the host alone (no panes made, no grants) until the next `brl up`.
pub fn stopped_path(home: &Home, host: &str) -> PathBuf {
    home.logs_dir()
        .join("hosts")
        .join(format!("{host}.stopped"))
}

pub fn is_stopped(home: &Home, host: &str) -> bool {
    stopped_path(home, host).exists()
}

/// Mark the host stopped (an empty file, written atomically).
pub fn mark_stopped(home: &Home, host: &str) -> std::io::Result<()> {
    let p = stopped_path(home, host);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_atomic(
        &p,
        b"stopped by `brl down --host`; `brl up` starts its workers again\n",
    )
}

/// `brl up`: every host runs again.
pub fn clear_stopped(home: &Home, host: &str) -> std::io::Result<()> {
    match std::fs::remove_file(stopped_path(home, host)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
