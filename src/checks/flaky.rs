//! Tests known to be flaky: a test whose result differed between runs of the test check on the
//! same commit. Kept in `logs/flaky-tests.json` (name → when and where it was seen flipping); a
//! `flaky_test` log entry each time one is seen on a new commit. A flaky test never decides a
//! cycle by itself (see [`crate::outcome::compare`]). Delete an entry (or the file) once the
//! test is fixed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::home::Home;
use crate::store::atomic::{LockGuard, write_atomic};
use crate::store::log::{self, Entry};

/// One flaky test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flaky {
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The last commit it flipped on.
    pub commit: String,
    /// On how many commits it was seen flipping.
    pub times: u32,
}

/// The flaky tests by name; empty when there is no file. An unreadable file is set aside (its
/// name says where) and reported, so nothing is lost and the cycle goes on.
pub fn load(home: &Home) -> BTreeMap<String, Flaky> {
    let path = home.flaky_path();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BTreeMap::new(),
        Err(e) => {
            crate::say_err!("cannot read {}: {e}", path.display());
            return BTreeMap::new();
        }
    };
    match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => {
            let aside = path.with_extension(format!("json.unreadable-{}", Utc::now().timestamp()));
            let moved = std::fs::rename(&path, &aside).is_ok();
            crate::say_err!(
                "{} is not valid ({e}); {} — flaky tests will be found again",
                path.display(),
                if moved {
                    format!("kept as {}", aside.display())
                } else {
                    "left in place".to_string()
                }
            );
            BTreeMap::new()
        }
    }
}

/// The names of the known flaky tests.
pub fn known(home: &Home) -> Vec<String> {
    load(home).into_keys().collect()
}

/// Record `names` as seen flipping on `commit` (during the `label` measurement).
pub fn record(home: &Home, names: &[String], commit: &str, label: &str) {
    let lock = home.locks_dir().join("flaky-tests.lock");
    let _guard = match LockGuard::exclusive(&lock) {
        Ok(g) => g,
        Err(e) => {
            crate::say_err!("cannot record flaky tests {names:?}: {e}");
            return;
        }
    };
    let mut all = load(home);
    let now = Utc::now();
    let mut news = Vec::new();
    for name in names {
        match all.get_mut(name) {
            Some(f) if f.commit == commit => f.last_seen = now,
            Some(f) => {
                f.last_seen = now;
                f.commit = commit.to_string();
                f.times = f.times.saturating_add(1);
                news.push(name);
            }
            None => {
                all.insert(
                    name.clone(),
                    Flaky {
                        first_seen: now,
                        last_seen: now,
                        commit: commit.to_string(),
                        times: 1,
                    },
                );
                news.push(name);
            }
        }
    }
    let written = serde_json::to_vec_pretty(&all)
        .map_err(std::io::Error::other)
        .and_then(|json| write_atomic(&home.flaky_path(), &json));
    if let Err(e) = written {
        crate::say_err!(
            "cannot write {}: {e}; flaky tests {names:?} are not remembered",
            home.flaky_path().display()
        );
    }
    for name in news {
        let entry = Entry::new(
            "flaky_test",
            None,
            json!({ "name": name, "commit": commit, "during": label }),
        );
        log::append_or_report(&home.log_path(), &entry);
    }
}
