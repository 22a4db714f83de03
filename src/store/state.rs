//! Versioned JSON state files (`{"version": N, …}`): read, and read-modify-write under an
//! exclusive lock with atomic replacement. A file that cannot be read is reported with its path
//! and never overwritten; one written by a newer brl is refused.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::atomic::{LockGuard, lock_path_for, write_atomic};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "the {what} {path} cannot be read: {detail}\n  brl will not overwrite it. fix: repair the file, or move it aside (mv {path} {path}.broken) to start an empty {what}{hint}"
    )]
    Corrupt {
        what: &'static str,
        path: PathBuf,
        detail: String,
        hint: &'static str,
    },
    #[error(
        "the {what} {path} has format version {found}, newer than this brl understands ({known}); fix: upgrade brl, or move the file aside (mv {path} {path}.newer) to start an empty {what}"
    )]
    NewerVersion {
        what: &'static str,
        path: PathBuf,
        found: u64,
        known: u32,
    },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The request breaks a rule of the file's owner; the message says which and what to do.
    #[error("{0}")]
    Refused(String),
}

/// One state file and how to talk about it.
pub struct StateFile {
    pub path: PathBuf,
    /// What it is, for messages: "review queue", "task queue".
    pub what: &'static str,
    pub version: u32,
    /// Appended to the "cannot be read" fix, e.g. where the data also lives.
    pub hint: &'static str,
}

impl StateFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The contents; `None` when the file does not exist.
    pub fn read<F: DeserializeOwned>(&self) -> Result<Option<F>, StateError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(self.io(source)),
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| self.corrupt(e.to_string()))?;
        let version = value
            .get("version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| self.corrupt("no `version` field".into()))?;
        if version > u64::from(self.version) {
            return Err(StateError::NewerVersion {
                what: self.what,
                path: self.path.clone(),
                found: version,
                known: self.version,
            });
        }
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| self.corrupt(e.to_string()))
    }

    /// Read-modify-write under the file's lock (`<path>.lock`); `empty` stands in for a missing
    /// file. The file is replaced, stamped with the current version, only when `f` succeeds.
    pub fn update<F: Serialize + DeserializeOwned, T>(
        &self,
        empty: impl FnOnce() -> F,
        f: impl FnOnce(&mut F) -> Result<T, StateError>,
    ) -> Result<T, StateError> {
        let _guard = LockGuard::exclusive(&lock_path_for(&self.path)).map_err(|e| self.io(e))?;
        let mut contents = self.read()?.unwrap_or_else(empty);
        let out = f(&mut contents)?;
        let mut value =
            serde_json::to_value(&contents).map_err(|e| self.io(std::io::Error::other(e)))?;
        value["version"] = serde_json::json!(self.version);
        let mut json =
            serde_json::to_vec_pretty(&value).map_err(|e| self.io(std::io::Error::other(e)))?;
        json.push(b'\n');
        write_atomic(&self.path, &json).map_err(|e| self.io(e))?;
        Ok(out)
    }

    fn io(&self, source: std::io::Error) -> StateError {
        StateError::Io {
            what: self.what,
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, detail: String) -> StateError {
        StateError::Corrupt {
            what: self.what,
            path: self.path.clone(),
            detail,
            hint: self.hint,
        }
    }
}
