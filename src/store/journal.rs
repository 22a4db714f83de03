//! The decision journal, `<home>/logs/journal/<decision-id>.json`: one file per approve or reject
//! in flight, written crash-safely (write-temp + fsync + rename) before the decision changes
//! anything and removed once every step is done. A file left behind means the process died
//! mid-way; recovery (`decision::recover`) reads it and finishes (or undoes) the decision.
//!
//! Each file carries a format version; a file that cannot be read is reported with its path and
//! left where it is.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::home::Home;
use crate::store::atomic::write_atomic;

pub const JOURNAL_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Approve,
    Reject,
}

/// How far a decision got (what recovery may assume).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Nothing decided yet: main has not moved, no merge result is known. (Written by brl
    /// versions that journaled before merging; read and rolled back still.)
    Started,
    /// The result is known (and for a merge, `new_main` exists); main may or may not have moved.
    /// The one step an approve or reject writes: every later step is idempotent and recovery
    /// tells from main whether it moved.
    Prepared,
    /// Main moved, the queue, the log and the branch are done; the checked-out main is being
    /// brought along (from `checkout_started`). (Written by earlier brl versions; read still.)
    Checkout,
}

/// One decision in flight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub version: u32,
    /// The decision's id, also in its `review_decision` log entry.
    pub id: String,
    pub op: Op,
    pub branch: String,
    pub by: String,
    /// The process that made the decision.
    pub pid: u32,
    pub started: DateTime<Utc>,
    /// The branch's tip when decided (None: the branch was already gone).
    pub tip: Option<String>,
    pub old_main: Option<String>,
    /// Main's commit once merged (the branch tip, or an unreferenced merge commit).
    pub new_main: Option<String>,
    /// `fast_forward`, `merge_commit`, `already_merged`, `conflict` (approve) or `deleted` (reject).
    pub result: String,
    #[serde(default)]
    pub conflict_files: Vec<String>,
    /// The reason given (reject, conflict).
    pub reason: Option<String>,
    pub step: Step,
    #[serde(default)]
    pub checkout_started: Option<DateTime<Utc>>,
    /// The log's length when the journal was written: the decision's entry can only be after it.
    #[serde(default)]
    pub log_offset: u64,
    /// An approval of a `stale`/`conflict` entry the person forced (`--force`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forced: bool,
}

/// A journal file that cannot be used; the message names it and the fix.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the decision journal {path} cannot be read: {detail}\n  brl leaves it as it is. fix: a decision on its branch was interrupted — check the branch, main and `brl queue list`, then move the file aside (mv {path} {path}.broken)"
    )]
    Unreadable { path: PathBuf, detail: String },
    #[error("cannot list the decision journal {dir}: {source}")]
    List {
        dir: PathBuf,
        source: std::io::Error,
    },
}

pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    pub fn new(home: &Home) -> Journal {
        Journal {
            dir: home.logs_dir().join("journal"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Cheap: is the journal directory empty (no record, no temp file of a write that died)?
    /// A missing directory is empty.
    pub fn is_empty(&self) -> bool {
        match std::fs::read_dir(&self.dir) {
            Ok(mut d) => d.next().is_none(),
            Err(_) => true,
        }
    }

    /// Write (or replace) `r`'s file crash-safely.
    pub fn write(&self, r: &Record) -> Result<(), JournalError> {
        let path = self.path_of(&r.id);
        let mut json = serde_json::to_vec_pretty(r).map_err(|e| JournalError::Write {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        json.push(b'\n');
        write_atomic(&path, &json).map_err(|source| JournalError::Write { path, source })
    }

    /// Remove `id`'s file (done); a missing file is fine.
    pub fn remove(&self, id: &str) -> Result<(), JournalError> {
        let path = self.path_of(id);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(JournalError::Write { path, source }),
        }
    }

    /// Every record, oldest first (by id, which starts with the time), each read or its error.
    /// Also removes the temp files of writes that died (only call with the approve lock held).
    pub fn load_all(&self) -> Result<Vec<Result<Record, JournalError>>, JournalError> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(JournalError::List {
                    dir: self.dir.clone(),
                    source,
                });
            }
        };
        let mut paths = Vec::new();
        for e in rd.flatten() {
            let p = e.path();
            if is_record(&p) {
                paths.push(p);
            } else if e.file_name().to_string_lossy().starts_with('.') {
                let _ = std::fs::remove_file(&p);
            }
        }
        paths.sort();
        Ok(paths.iter().map(|p| read(p)).collect())
    }
}

fn is_record(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    !name.starts_with('.') && name.ends_with(".json")
}

fn read(path: &Path) -> Result<Record, JournalError> {
    let bad = |detail: String| JournalError::Unreadable {
        path: path.to_path_buf(),
        detail,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    match value.get("version").and_then(|v| v.as_u64()) {
        None => return Err(bad("no `version` field".into())),
        Some(v) if v != u64::from(JOURNAL_VERSION) => {
            return Err(bad(format!(
                "format version {v}, this brl understands {JOURNAL_VERSION} (upgrade brl if it is newer)"
            )));
        }
        Some(_) => {}
    }
    serde_json::from_value(value).map_err(|e| bad(e.to_string()))
}

/// A new decision id: `d<YYYYMMDDTHHMMSS.mmm>-<pid>-<8 hex>`, never reused (time, pid and a
/// per-process counter mixed with the clock's nanoseconds).
pub fn new_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let now = Utc::now();
    let n = N.fetch_add(1, Ordering::Relaxed);
    let mix = crate::home::short_hash(
        format!(
            "{}-{}-{n}",
            now.timestamp_nanos_opt().unwrap_or(0),
            std::process::id()
        )
        .as_bytes(),
    );
    format!(
        "d{}-{}-{mix:08x}",
        now.format("%Y%m%dT%H%M%S%.3f"),
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> Record {
        Record {
            version: JOURNAL_VERSION,
            id: id.into(),
            op: Op::Reject,
            branch: "brl/s1/x".into(),
            by: "test".into(),
            pid: 1,
            started: Utc::now(),
            tip: Some("abc".into()),
            old_main: None,
            new_main: None,
            result: "deleted".into(),
            conflict_files: vec![],
            reason: Some("no".into()),
            step: Step::Started,
            checkout_started: None,
            log_offset: 0,
            forced: false,
        }
    }

    #[test]
    fn write_list_remove_and_loud_errors() {
        let d = tempfile::tempdir().expect("tempdir");
        let j = Journal::new(&Home::new(d.path()));
        assert!(j.is_empty());
        assert!(j.load_all().expect("none").is_empty());
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        j.write(&record(&a)).expect("write");
        assert!(!j.is_empty());
        std::fs::write(j.dir().join(".x.json.tmp-1"), "half").expect("temp");
        assert!(!j.is_empty());
        std::fs::write(j.dir().join(format!("{b}.json")), "{\"version\": 7}").expect("bad");
        let all = j.load_all().expect("list");
        assert_eq!(all.len(), 2);
        let good: Vec<_> = all.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(good.len(), 1);
        assert_eq!(good[0].id, a);
        let e = all
            .iter()
            .find_map(|r| r.as_ref().err())
            .expect("bad")
            .to_string();
        assert!(
            e.contains(&format!("{b}.json")) && e.contains("version 7"),
            "{e}"
        );
        assert!(!j.dir().join(".x.json.tmp-1").exists(), "dead temp removed");
        j.remove(&a).expect("remove");
        j.remove(&a).expect("twice is fine");
        std::fs::remove_file(j.path_of(&b)).expect("rm");
        assert!(j.is_empty());
    }
}
