//! The operations the control room asks of a host, run ON the host by `brl remote <op>` in the
//! host's own home, each answering with one JSON document on stdout:
//!
//! - `snapshot`: every session's control file, whether its worker lives, what it shows, and the
//!   host's memory figures — everything one scheduling pass needs, in one ssh command;
//! - `grant <session> [--task JSON] [--fix BRANCH]`: [`SessionControl::grant`] under the file's
//!   lock, as the local scheduler does it; the task was claimed centrally and rides along;
//! - `take-back <session>`: [`SessionControl::take_back`] (only a dead worker's grant).
//!
//! The host's home is a home like any other (`host = "<name>"` in its brl.toml names its
//! sessions `<name>-sN`), so the same store code does the work on both sides.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::home::Home;
use crate::scheduler::{Memory, MemoryReader};
use crate::store::control::{Control, Grant, GrantTask, SessionControl};

/// The version of the documents below; a control room refuses another one (the host runs a
/// different brl: `brl hosts setup` copies the same binary).
pub const VERSION: u32 = 1;

/// A host's memory figures as they cross the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostMemory {
    pub used: u64,
    pub total: u64,
    /// `cgroup` when a cgroup limit is tighter than the host's memory, else `host`.
    pub cgroup: bool,
}

impl HostMemory {
    pub fn from_memory(m: Memory) -> HostMemory {
        HostMemory {
            used: m.used,
            total: m.total,
            cgroup: m.source == "cgroup",
        }
    }

    pub fn memory(&self) -> Memory {
        Memory {
            used: self.used,
            total: self.total,
            source: if self.cgroup { "cgroup" } else { "host" },
        }
    }
}

/// One session as its host sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteSession {
    pub name: String,
    /// Its worker holds its life lock.
    pub alive: bool,
    /// [`Control::shown_state`], computed on the host (a stopped worker is seen from there).
    pub shown: String,
    /// The control file; `None` when it could not be read (`error` says why).
    pub control: Option<Control>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `brl remote snapshot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    /// The host's name from its brl.toml (`host = …`).
    pub host: Option<String>,
    pub at: DateTime<Utc>,
    pub memory: Option<HostMemory>,
    pub sessions: Vec<RemoteSession>,
    /// [`sessions_digest`] of the host's sessions. The control room passes the last one it got
    /// back (`--unless-digest`), so a host whose sessions did not change answers without them:
    /// an idle host's traffic does not grow with its number of sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// `sessions` were left out: they are the ones whose digest the control room sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unchanged: bool,
}

/// FNV-1a (64 bit, hex) of the sessions' JSON: fixed by definition, so a host's brl and the
/// control room's agree on it whatever their builds (a different digest only costs a full
/// answer).
pub fn sessions_digest(sessions: &[RemoteSession]) -> String {
    let bytes = serde_json::to_vec(sessions).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// `brl remote grant` / `take-back`: the grant given or taken back, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantDone {
    pub version: u32,
    pub session: String,
    pub grant: Option<Grant>,
}

/// `brl remote pause|resume|stop|restart <session> --by <who>`: the operator's control of one
/// of this host's sessions, done here by [`crate::control::ops::here`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpDone {
    pub version: u32,
    pub session: String,
    pub op: String,
    /// What to tell the operator.
    pub message: String,
    /// A pause withdrew a grant with this (centrally claimed) task: the control room puts it
    /// back in its queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_returned: Option<u64>,
}

/// A session of another home: an error naming the session, the host and the fix.
fn known(config: &Config, session: &str) -> anyhow::Result<()> {
    if config.session_names().iter().any(|s| s == session) {
        return Ok(());
    }
    anyhow::bail!(
        "session `{session}` is not one of this home's sessions ({})\n  fix: check `sessions` and `host` in this host's brl.toml (`brl hosts setup` writes them) against the control host's [[hosts]]",
        config.session_names().join(", ")
    )
}

/// Every session's state and the host's memory, read in this home; the sessions are left out
/// (`unchanged`) when their digest is `unless`.
pub fn snapshot(
    home: &Home,
    config: &Config,
    memory: &mut MemoryReader,
    unless: Option<&str>,
) -> Snapshot {
    let now = Utc::now();
    let sessions: Vec<RemoteSession> = config
        .session_names()
        .into_iter()
        .map(|name| {
            let sc = SessionControl::new(home, &name);
            let alive = sc.worker_alive().unwrap_or(false);
            match sc.load() {
                Ok(c) => RemoteSession {
                    shown: c.shown_state(alive, now).to_string(),
                    control: Some(c),
                    error: None,
                    name,
                    alive,
                },
                Err(e) => RemoteSession {
                    shown: "error".into(),
                    control: None,
                    error: Some(e.to_string()),
                    name,
                    alive,
                },
            }
        })
        .collect();
    let digest = sessions_digest(&sessions);
    let unchanged = unless == Some(digest.as_str());
    Snapshot {
        version: VERSION,
        host: config.host.clone(),
        at: now,
        memory: memory.read().map(HostMemory::from_memory),
        sessions: if unchanged { Vec::new() } else { sessions },
        digest: Some(digest),
        unchanged,
    }
}

/// Give `session` one cycle (with the centrally claimed `task`), or a repair of `fix`.
pub fn grant(
    home: &Home,
    config: &Config,
    session: &str,
    task: Option<GrantTask>,
    fix: Option<&str>,
) -> anyhow::Result<GrantDone> {
    known(config, session)?;
    let sc = SessionControl::new(home, session);
    let grant = match fix {
        Some(branch) => sc.grant_fix(branch)?,
        None => sc.grant(task)?,
    };
    Ok(GrantDone {
        version: VERSION,
        session: session.to_string(),
        grant,
    })
}

/// Take back the grant of `session` when its worker is dead.
pub fn take_back(home: &Home, config: &Config, session: &str) -> anyhow::Result<GrantDone> {
    known(config, session)?;
    Ok(GrantDone {
        version: VERSION,
        session: session.to_string(),
        grant: SessionControl::new(home, session).take_back()?,
    })
}

/// Read one of the documents above from a host's stdout; a different version or a malformed
/// document is an error naming the host and the fix.
pub fn parse<T: serde::de::DeserializeOwned>(
    host: &str,
    op: &str,
    out: &[u8],
) -> anyhow::Result<T> {
    let v: serde_json::Value = serde_json::from_slice(out).map_err(|e| {
        anyhow::anyhow!(
            "`brl remote {op}` on host `{host}` printed no JSON document ({e}): {:?}\n  fix: run `brl hosts check` — the host may run another brl version; `brl hosts setup` copies this one",
            String::from_utf8_lossy(&out[..out.len().min(200)])
        )
    })?;
    let version = v.get("version").and_then(|v| v.as_u64());
    if version != Some(u64::from(VERSION)) {
        anyhow::bail!(
            "`brl remote {op}` on host `{host}` answered version {version:?}, this brl speaks {VERSION}\n  fix: `brl hosts setup` copies this brl's binary to the host"
        );
    }
    serde_json::from_value(v).map_err(|e| {
        anyhow::anyhow!(
            "`brl remote {op}` on host `{host}` answered a document this brl cannot read: {e}\n  fix: `brl hosts setup` copies this brl's binary to the host"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_and_versions_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        let config: Config = toml::from_str(
            "repo = \"/nowhere\"\nsessions = 2\nhost = \"a\"\n[agent]\ncommand = \"true\"\n",
        )
        .expect("config");
        let snap = snapshot(&home, &config, &mut MemoryReader::default(), None);
        assert_eq!(
            snap.sessions
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            ["a-s1", "a-s2"]
        );
        assert!(snap.sessions.iter().all(|s| !s.alive && s.shown == "dead"));
        let text = serde_json::to_vec(&snap).expect("json");
        let back: Snapshot = parse("a", "snapshot", &text).expect("parses");
        assert_eq!(back, snap);
        // Asked with the digest it last sent, an unchanged host leaves its sessions out; with
        // any other digest it sends them all.
        let digest = snap.digest.clone().expect("a digest");
        let same = snapshot(&home, &config, &mut MemoryReader::default(), Some(&digest));
        assert!(same.unchanged && same.sessions.is_empty());
        assert_eq!(same.digest.as_deref(), Some(digest.as_str()));
        let other = snapshot(&home, &config, &mut MemoryReader::default(), Some("0"));
        assert!(!other.unchanged);
        assert_eq!(other.sessions, snap.sessions);

        let task = GrantTask {
            id: 7,
            title: "t".into(),
            body: Some("b".into()),
        };
        let g = grant(&home, &config, "a-s2", Some(task.clone()), None).expect("grant");
        assert_eq!(g.grant.as_ref().and_then(|g| g.task.clone()), Some(task));
        // A grant changes the sessions: the old digest no longer holds them back.
        let after = snapshot(&home, &config, &mut MemoryReader::default(), Some(&digest));
        assert!(!after.unchanged && after.sessions.len() == 2);
        assert_ne!(after.digest.as_deref(), Some(digest.as_str()));
        // A second grant is refused under the lock: the session holds one.
        assert_eq!(
            grant(&home, &config, "a-s2", None, None).expect("ok").grant,
            None
        );
        // No worker lives: the grant comes back.
        let t = take_back(&home, &config, "a-s2").expect("take back");
        assert_eq!(t.grant.map(|g| g.id), Some(1));
        let err = grant(&home, &config, "s1", None, None).expect_err("not this home's");
        assert!(err.to_string().contains("`s1` is not one of"), "{err}");

        let err = parse::<Snapshot>("a", "snapshot", b"{\"version\": 99}").expect_err("v");
        assert!(err.to_string().contains("version Some(99)"), "{err}");
        let err = parse::<Snapshot>("a", "snapshot", b"bash: brl: not found").expect_err("j");
        assert!(err.to_string().contains("host `a`"), "{err}");
    }
}
