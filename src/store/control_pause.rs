//! Pauses the operator asked for: one session's (in its control file, [`Control::paused`]) and
//! the whole fleet's (`logs/control/fleet.json`). Both live in files, so a restarted control
//! room and the workers honour them; the scheduler's pure decision skips what is paused.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::control::{Control, Grant, SessionControl, Stamp, stamp_of};
use crate::home::Home;
use crate::store::state::{StateError, StateFile};

/// Who paused, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paused {
    /// `cli`, `http` or `dashboard`.
    pub by: String,
    pub at: DateTime<Utc>,
}

impl Paused {
    pub fn now(by: &str) -> Paused {
        Paused {
            by: by.to_string(),
            at: Utc::now(),
        }
    }
}

/// What pausing a session did.
#[derive(Debug, Clone, PartialEq)]
pub struct PauseDone {
    /// False when it was paused already (the first pause is kept).
    pub news: bool,
    /// A grant no worker had taken yet, withdrawn (its task goes back to the queue).
    pub withdrawn: Option<Grant>,
    /// A cycle runs now: it finishes, then the session waits.
    pub cycle_running: bool,
}

impl SessionControl {
    /// Operator: pause the session. A grant not taken yet is withdrawn under the file's lock (a
    /// worker takes grants under the same lock, so it either has it already or never will).
    pub fn pause(&self, by: &str) -> Result<PauseDone, StateError> {
        self.update(|c: &mut Control| {
            let news = c.paused.is_none();
            if news {
                c.paused = Some(Paused::now(by));
            }
            let untaken = c.grant.as_ref().is_some_and(|g| g.taken_by.is_none());
            let withdrawn = if untaken { c.grant.take() } else { None };
            PauseDone {
                news,
                withdrawn,
                cycle_running: c.grant.is_some(),
            }
        })
    }

    /// Operator: resume the session. Returns the pause it lifted (None: it was not paused).
    pub fn resume(&self) -> Result<Option<Paused>, StateError> {
        if self.load()?.paused.is_none() {
            return Ok(None);
        }
        self.update(|c| c.paused.take())
    }
}

/// `logs/control/fleet.json`: the fleet-wide state the operator sets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    /// The whole fleet is paused: no session gets a grant; cycles in flight finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Paused>,
}

/// The fleet's control file.
pub struct FleetControl {
    file: StateFile,
}

impl FleetControl {
    pub fn new(home: &Home) -> FleetControl {
        FleetControl {
            file: StateFile {
                path: home.control_dir().join("fleet.json"),
                what: "fleet control file",
                version: 1,
                hint: "; deleting it resumes the whole fleet (`brl pause` pauses it again)",
            },
        }
    }

    pub fn path(&self) -> &std::path::Path {
        self.file.path()
    }

    /// The file's stamp (`stat` only; `None` when absent): read it again only when it changed.
    pub fn stamp(&self) -> Option<Stamp> {
        stamp_of(self.file.path())
    }

    /// The file's contents (absent: nothing paused).
    pub fn load(&self) -> Result<Fleet, StateError> {
        Ok(self.file.read()?.unwrap_or_default())
    }

    /// Pause the whole fleet; false when it was paused already (the first pause is kept).
    pub fn pause(&self, by: &str) -> Result<bool, StateError> {
        self.file.update(Fleet::default, |f: &mut Fleet| {
            Ok(match f.paused {
                Some(_) => false,
                None => {
                    f.paused = Some(Paused::now(by));
                    true
                }
            })
        })
    }

    /// Resume the whole fleet; the pause it lifted, if any.
    pub fn resume(&self) -> Result<Option<Paused>, StateError> {
        if self.load()?.paused.is_none() {
            return Ok(None);
        }
        self.file
            .update(Fleet::default, |f: &mut Fleet| Ok(f.paused.take()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::control::GrantTask;

    #[test]
    fn pausing_withdraws_an_untaken_grant_and_keeps_a_taken_one() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        let sc = SessionControl::new(&home, "s2");
        let task = GrantTask {
            id: 7,
            title: "t".into(),
            body: None,
        };
        sc.grant(Some(task)).expect("grant").expect("granted");
        let done = sc.pause("cli").expect("pause");
        assert!(done.news);
        assert_eq!(done.withdrawn.and_then(|g| g.task).map(|t| t.id), Some(7));
        assert!(!done.cycle_running);
        let c = sc.load().expect("load");
        assert!(c.grant.is_none());
        assert_eq!(c.paused.as_ref().map(|p| p.by.as_str()), Some("cli"));
        // Paused twice: the first pause stays.
        assert!(!sc.pause("http").expect("pause").news);
        assert_eq!(
            sc.resume().expect("resume").map(|p| p.by).as_deref(),
            Some("cli")
        );
        assert_eq!(sc.resume().expect("resume"), None);

        // A paused session is granted nothing, even by a scheduler that decided before the
        // pause.
        sc.pause("cli").expect("pause");
        assert_eq!(sc.grant(None).expect("grant"), None);
        assert_eq!(sc.grant_fix("brl/s1/1").expect("grant"), None);
        sc.resume().expect("resume");

        // A grant a worker took is a cycle in flight: it finishes.
        sc.grant(None).expect("grant").expect("granted");
        sc.take(42).expect("take").expect("taken");
        let done = sc.pause("dashboard").expect("pause");
        assert!(done.withdrawn.is_none() && done.cycle_running);
    }

    #[test]
    fn the_fleet_pause_survives_in_its_file() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        assert_eq!(FleetControl::new(&home).load().expect("load").paused, None);
        assert!(FleetControl::new(&home).pause("http").expect("pause"));
        assert!(!FleetControl::new(&home).pause("cli").expect("pause"));
        let again = FleetControl::new(&home).load().expect("load");
        assert_eq!(again.paused.map(|p| p.by), Some("http".to_string()));
        assert!(FleetControl::new(&home).resume().expect("resume").is_some());
        assert_eq!(FleetControl::new(&home).resume().expect("resume"), None);
    }
}
