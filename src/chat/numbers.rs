//! Stable branch numbers, `logs/branch-numbers.json`: each branch gets the next number the first
//! time `/queue`, a notification or the heartbeat names it, and keeps it; numbers are never
//! reused, so `/approve 3` typed from an old notification can only mean that branch (or nothing).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::home::Home;
use crate::store::state::{StateError, StateFile};

const VERSION: u32 = 1;
/// Branches remembered; the oldest numbers are forgotten past this (never reused).
const KEEP: usize = 2000;

#[derive(Default, Serialize, Deserialize)]
struct NumbersFile {
    #[serde(default)]
    version: u32,
    /// The last number given.
    #[serde(default)]
    last: u64,
    #[serde(default)]
    branches: BTreeMap<String, u64>,
}

pub struct Numbers {
    file: StateFile,
}

impl Numbers {
    pub fn new(home: &Home) -> Numbers {
        Numbers {
            file: StateFile {
                path: home.logs_dir().join("branch-numbers.json"),
                what: "branch numbers file",
                version: VERSION,
                hint: " (the chat's branch numbers start again from the next unused one)",
            },
        }
    }

    /// The numbers of `branches`, giving the next ones to those that have none (in order).
    pub fn assign(&self, branches: &[&str]) -> Result<Vec<u64>, StateError> {
        if let Some(f) = self.file.read::<NumbersFile>()?
            && let Some(known) = branches
                .iter()
                .map(|b| f.branches.get(*b).copied())
                .collect::<Option<Vec<u64>>>()
        {
            return Ok(known);
        }
        self.file.update(NumbersFile::default, |f| {
            let out = branches
                .iter()
                .map(|b| {
                    *f.branches.entry((*b).to_string()).or_insert_with(|| {
                        f.last += 1;
                        f.last
                    })
                })
                .collect();
            if f.branches.len() > KEEP {
                let mut all: Vec<u64> = f.branches.values().copied().collect();
                all.sort_unstable();
                let cut = all[all.len() - KEEP];
                f.branches.retain(|_, n| *n >= cut);
            }
            Ok(out)
        })
    }

    /// The number of `branch`, given now if it has none.
    pub fn of(&self, branch: &str) -> Result<u64, StateError> {
        Ok(self.assign(&[branch])?.first().copied().unwrap_or(0))
    }

    /// The branch numbered `n`, if it is remembered.
    pub fn branch(&self, n: u64) -> Result<Option<String>, StateError> {
        Ok(self.file.read::<NumbersFile>()?.and_then(|f| {
            f.branches
                .into_iter()
                .find(|(_, m)| *m == n)
                .map(|(b, _)| b)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_never_reused() {
        let d = tempfile::tempdir().expect("tempdir");
        let n = Numbers::new(&Home::new(d.path()));
        assert_eq!(n.assign(&["a", "b"]).expect("assign"), vec![1, 2]);
        assert_eq!(n.of("b").expect("of"), 2);
        assert_eq!(n.assign(&["c", "a"]).expect("assign"), vec![3, 1]);
        assert_eq!(n.branch(3).expect("read").as_deref(), Some("c"));
        assert_eq!(n.branch(9).expect("read"), None);
    }
}
