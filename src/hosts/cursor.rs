//! What the control room knows of each host's collection, `logs/hosts/<name>.collect.json`: whether the
//! host answered its last pass (and since when), the last error, how far into the host's
//! experiment log the central log holds its entries (the cursor), and the last `main` pushed to it.
//! Written crash-safely ([`crate::store::atomic::write_atomic`]); the status and the dashboard
//! read it.
//!
//! The cursor in this file is a hint, never the truth: the central log is. Every entry collected
//! from a host carries `data.origin = {host, offset, end}` (its byte range in the host's log), and
//! the central append is the commit point. So a pass starts from the larger of the saved cursor
//! and the `end` of the last central entry from that host appended after `central_len` (the
//! central log's length when the cursor was saved): a collector killed between its append and
//! its save neither loses nor doubles an entry.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::home::Home;
use crate::store::atomic::write_atomic;

pub const HOST_STATE_VERSION: u32 = 1;

/// One host's collection state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostState {
    pub version: u32,
    pub host: String,
    /// The last pass reached the host over ssh.
    pub reachable: bool,
    /// When `reachable` last changed (None: never seen yet).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// The last pass's error, in words (None: it went through).
    #[serde(default)]
    pub last_error: Option<String>,
    /// Bytes of the host's experiment log already in the central log (always a line start).
    #[serde(default)]
    pub cursor: u64,
    /// The central log's length when `cursor` was saved: entries past it may be newer.
    #[serde(default)]
    pub central_len: u64,
    /// Which log of the host the cursor points into (see `chunk::Header::log_id`).
    #[serde(default)]
    pub log_id: Option<String>,
    /// The last `main` commit pushed to the host's clone.
    #[serde(default)]
    pub pushed_main: Option<String>,
    /// When a pass last went through.
    #[serde(default)]
    pub last_ok: Option<DateTime<Utc>>,
    /// Entries collected from this host so far (by this file's passes).
    #[serde(default)]
    pub collected: u64,
    /// Lines of the host's log that were not entries (skipped, never sent on).
    #[serde(default)]
    pub malformed: u64,
}

impl HostState {
    pub fn new(host: &str) -> HostState {
        HostState {
            version: HOST_STATE_VERSION,
            host: host.to_string(),
            reachable: true,
            since: None,
            last_error: None,
            cursor: 0,
            central_len: 0,
            log_id: None,
            pushed_main: None,
            last_ok: None,
            collected: 0,
            malformed: 0,
        }
    }

    /// "unreachable since 01:02:03 UTC: <error>" or "reachable".
    pub fn describe(&self) -> String {
        if self.reachable {
            return "reachable".into();
        }
        let since = self
            .since
            .map(|t| format!(" since {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
            .unwrap_or_default();
        let why = self
            .last_error
            .as_deref()
            .map(|e| format!(": {}", e.lines().next().unwrap_or("")))
            .unwrap_or_default();
        format!("unreachable{since}{why}")
    }
}

/// `logs/hosts/<name>.collect.json` (beside the control room's `<name>.json`, which says what
/// the fleet knows of the host: see `hosts::status_file`).
pub fn state_path(home: &Home, host: &str) -> PathBuf {
    home.logs_dir()
        .join("hosts")
        .join(format!("{host}.collect.json"))
}

/// `logs/hosts/<name>.collect.lock`: one collection pass per host at a time.
pub fn lock_path(home: &Home, host: &str) -> PathBuf {
    home.logs_dir()
        .join("hosts")
        .join(format!("{host}.collect.lock"))
}

/// The saved state; a missing file is a host never collected. A file that cannot be read is an
/// error naming it (it is never overwritten on a guess: the cursor would start over).
pub fn load(home: &Home, host: &str) -> anyhow::Result<HostState> {
    let path = state_path(home, host);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HostState::new(host)),
        Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
    };
    let state: HostState = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a host state file ({e})\n  fix: move it aside; the next pass rebuilds the cursor from the central log's `origin` entries",
            path.display()
        )
    })?;
    if state.version > HOST_STATE_VERSION {
        anyhow::bail!(
            "{} has version {}, newer than this brl knows ({HOST_STATE_VERSION})\n  fix: upgrade brl",
            path.display(),
            state.version
        );
    }
    Ok(state)
}

/// Replace the state file crash-safely.
pub fn save(home: &Home, state: &HostState) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
    write_atomic(&state_path(home, &state.host), &bytes)
}

/// The `end` of the last entry from `host` in the central log at or after byte `from` (None:
/// none there). Only complete lines are read; lines that are not JSON are passed over (the log's
/// readers skip them too). A log shorter than `from` (replaced by hand) is read from its start.
pub fn last_origin_end(central: &Path, host: &str, from: u64) -> io::Result<Option<u64>> {
    let mut file = match std::fs::File::open(central) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(crate::store::atomic::naming(central, "read", e)),
    };
    let len = file.metadata()?.len();
    let start = if from > len { 0 } else { from };
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(len - start).read_to_end(&mut bytes)?;
    let mut best: Option<u64> = None;
    // Only lines that name this host's origin are parsed.
    let needle = format!("\"host\":{}", Value::from(host));
    for line in bytes.split(|b| *b == b'\n') {
        if !contains(line, needle.as_bytes()) {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        let origin = &v["data"]["origin"];
        if origin["host"].as_str() == Some(host)
            && let Some(end) = origin["end"].as_u64()
        {
            best = Some(best.map_or(end, |b| b.max(end)));
        }
    }
    Ok(best)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::log::{Entry, append};
    use serde_json::json;

    #[test]
    fn origin_end_is_found_after_a_point_and_state_round_trips() {
        let d = tempfile::tempdir().expect("tempdir");
        let log = d.path().join("experiment-log.jsonl");
        assert_eq!(last_origin_end(&log, "a", 0).expect("missing"), None);
        let origin = |h: &str, end: u64| json!({"origin": {"host": h, "offset": 0, "end": end}});
        append(
            &log,
            &Entry::new("ralph_cycle", Some("a-s1"), origin("a", 100)),
        )
        .expect("a");
        let mid = std::fs::metadata(&log).expect("len").len();
        append(
            &log,
            &Entry::new("ralph_cycle", Some("b-s1"), origin("b", 900)),
        )
        .expect("b");
        append(
            &log,
            &Entry::new("ralph_cycle", Some("a-s1"), origin("a", 250)),
        )
        .expect("a");
        append(&log, &Entry::new("worker_started", Some("s1"), json!({}))).expect("local");
        // A torn fragment at the end is never read as an entry.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"data\":{\"origin\""))
            .expect("torn");
        assert_eq!(last_origin_end(&log, "a", 0).expect("read"), Some(250));
        assert_eq!(last_origin_end(&log, "a", mid).expect("read"), Some(250));
        assert_eq!(last_origin_end(&log, "b", 0).expect("read"), Some(900));
        assert_eq!(last_origin_end(&log, "c", 0).expect("read"), None);
        assert_eq!(
            last_origin_end(&log, "a", 1 << 40).expect("read"),
            Some(250)
        );

        let home = Home::new(d.path());
        let mut s = load(&home, "a").expect("new");
        assert_eq!((s.cursor, s.reachable), (0, true));
        s.cursor = 42;
        s.reachable = false;
        s.last_error = Some("host `a` is unreachable".into());
        s.since = Some(Utc::now());
        save(&home, &s).expect("save");
        let back = load(&home, "a").expect("load");
        assert_eq!(back, s);
        assert!(
            back.describe().starts_with("unreachable since "),
            "{}",
            back.describe()
        );
        std::fs::write(state_path(&home, "a"), "{").expect("write");
        let e = load(&home, "a").expect_err("corrupt").to_string();
        assert!(e.contains("a.collect.json") && e.contains("fix:"), "{e}");
    }
}
