//! The review queue, `<home>/logs/review-queue.json`: kept branches waiting for a decision.
//!
//! Every update is a read-modify-write under an exclusive lock on `review-queue.json.lock`, and the
//! file is replaced atomically, so concurrent cycles adding entries and a person approving never
//! lose an update. The file carries a format version; a file that cannot be read is reported with its
//! path and never overwritten.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::outcome::Counts;
use crate::store::state::{StateError, StateFile};

pub const QUEUE_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved,
    Rejected,
    Conflict,
    /// Re-checked against a newer main, it now makes the checks worse (see `decision_reason`).
    Stale,
    /// Merging it into the current main would change nothing (its change is already there, e.g. a
    /// twin was approved); closed without a decision, its branch deleted (`queue_superseded`).
    Superseded,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Conflict => "conflict",
            Status::Stale => "stale",
            Status::Superseded => "superseded",
        }
    }

    /// Still waiting for a person's decision.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Pending | Status::Conflict | Status::Stale)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub branch: String,
    pub session: String,
    pub status: Status,
    pub created: DateTime<Utc>,
    pub before: Counts,
    pub after: Counts,
    /// Why the cycle kept it, then (after a decision) why it was decided so.
    pub reason: String,
    /// Main's commit the branch started from, and the branch's commit when kept.
    pub base: String,
    pub head: String,
    pub commits: usize,
    /// First line of the newest commit message.
    pub subject: String,
    #[serde(default)]
    pub decided: Option<DateTime<Utc>>,
    /// The reason given with the decision (a rejection's reason, a conflict's files…).
    #[serde(default)]
    pub decision_reason: Option<String>,
    /// Main's new commit after an approval.
    #[serde(default)]
    pub merged_as: Option<String>,
    #[serde(default)]
    pub conflict_files: Vec<String>,
    /// The id of the cycle that kept it (never reused); absent in entries older than ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle_id: Option<String>,
    /// The automated review's verdict, once it ran on this branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    /// The twin group of an open entry: open entries with the same patch id, or nearly the same
    /// change (see `decision::twins`), share it. None: no twin waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The approved branch this one is a near-twin of: it still changes something after that
    /// approval, so it stays open with this note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin_of: Option<String>,
    /// Main's commit that made this entry `superseded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// The fixer's record: repairs tried on this branch, or the branch this entry replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

/// What the fixer (role `fix`, `brl fix`) did about an entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// Repair cycles tried on this branch (at most `[fixer] max_attempts`).
    #[serde(default)]
    pub attempts: u32,
    /// When the last one ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_at: Option<DateTime<Utc>>,
    /// Why the last one failed (after the last attempt: why the fixer gave up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// On an entry a repair made: the branch it replaced (deleted), and the attempt that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_by_attempt: Option<u32>,
}

/// What the automated review (`brl review`) said about a branch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// `approve`, `reject` or `unclear` (an answer without a `VERDICT:` line).
    pub verdict: String,
    /// The reviewer's reasons (the referee's, in the adversarial style).
    pub reasons: String,
    /// Every text of the review in order, by role (three in the adversarial style).
    #[serde(default)]
    pub texts: Vec<ReviewText>,
    pub at: DateTime<Utc>,
    /// Main's commit the branch was re-checked against.
    pub main: String,
    /// The re-check's figures: main's counts → main merged with the branch.
    #[serde(default)]
    pub figures: Option<String>,
    /// The diff shown was cut short.
    #[serde(default)]
    pub truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewText {
    pub role: String,
    pub text: String,
}

#[derive(Serialize, Deserialize)]
struct QueueFile {
    version: u32,
    entries: Vec<QueueEntry>,
}

/// Errors of the review queue (see [`StateError`]).
pub type QueueError = StateError;

pub struct Queue {
    file: StateFile,
}

impl Queue {
    pub fn new(path: &Path) -> Queue {
        Queue {
            file: StateFile {
                path: path.to_path_buf(),
                what: "review queue",
                version: QUEUE_VERSION,
                hint: "; kept branches are still in git (git branch --list 'brl/*')",
            },
        }
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// All entries, oldest first. A missing file is an empty queue.
    pub fn load(&self) -> Result<Vec<QueueEntry>, QueueError> {
        Ok(self
            .file
            .read::<QueueFile>()?
            .map(|f| f.entries)
            .unwrap_or_default())
    }

    /// Read-modify-write under the queue's lock; the file is replaced only when `f` succeeds.
    pub fn update<T>(
        &self,
        f: impl FnOnce(&mut Vec<QueueEntry>) -> Result<T, QueueError>,
    ) -> Result<T, QueueError> {
        let empty = || QueueFile {
            version: QUEUE_VERSION,
            entries: Vec::new(),
        };
        self.file
            .update(empty, |q: &mut QueueFile| f(&mut q.entries))
    }

    /// Add a new pending entry (a branch appears once).
    pub fn add(&self, entry: QueueEntry) -> Result<(), QueueError> {
        self.update(|entries| {
            if entries.iter().any(|e| e.branch == entry.branch) {
                return Err(QueueError::Refused(format!(
                    "branch {} is already in the review queue",
                    entry.branch
                )));
            }
            entries.push(entry);
            Ok(())
        })
    }

    /// The entry for `branch`, if any.
    pub fn find(&self, branch: &str) -> Result<Option<QueueEntry>, QueueError> {
        Ok(self.load()?.into_iter().find(|e| e.branch == branch))
    }
}

/// What the superseded/twins sweep last looked at (`logs/review-queue-checked.json`): a
/// fingerprint of main's commit and the open branches' tips. The sweep runs again only when it
/// differs, so calling it on every `brl queue list` and every control-room tick stays cheap.
///
/// A cache, not a record: replaced atomically (temp + rename) but not fsync-ed — an approve pays
/// for every fsync in its wall time, and a lost or torn file only makes the next sweep run again.
/// An unreadable file counts as "never checked".
pub struct Checked {
    path: std::path::PathBuf,
}

#[derive(Serialize, Deserialize)]
struct CheckedFile {
    version: u32,
    fingerprint: String,
    at: DateTime<Utc>,
}

impl Checked {
    /// Next to the queue file.
    pub fn beside(queue_path: &Path) -> Checked {
        Checked {
            path: queue_path.with_file_name("review-queue-checked.json"),
        }
    }

    /// The last fingerprint checked (None: never, or the file is gone or unreadable).
    pub fn last(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        serde_json::from_str::<CheckedFile>(&text)
            .ok()
            .filter(|f| f.version == QUEUE_VERSION)
            .map(|f| f.fingerprint)
    }

    pub fn save(&self, fingerprint: &str) -> std::io::Result<()> {
        let f = CheckedFile {
            version: QUEUE_VERSION,
            fingerprint: fingerprint.to_string(),
            at: Utc::now(),
        };
        let json = serde_json::to_vec(&f).map_err(std::io::Error::other)?;
        let tmp = self
            .path
            .with_file_name(format!(".review-queue-checked.json.{}", std::process::id()));
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, &self.path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(branch: &str) -> QueueEntry {
        QueueEntry {
            branch: branch.into(),
            session: "s1".into(),
            status: Status::Pending,
            created: Utc::now(),
            before: Counts::default(),
            after: Counts::default(),
            reason: "errors 2 → 1".into(),
            base: "abc".into(),
            head: "def".into(),
            commits: 1,
            subject: "fix".into(),
            decided: None,
            decision_reason: None,
            merged_as: None,
            conflict_files: vec![],
            review: None,
            cycle_id: None,
            group: None,
            twin_of: None,
            superseded_by: None,
            fix: None,
        }
    }

    #[test]
    fn add_load_and_refuse_duplicates() {
        let d = tempfile::tempdir().expect("tempdir");
        let q = Queue::new(&d.path().join("logs/review-queue.json"));
        assert!(q.load().expect("empty").is_empty());
        q.add(entry("brl/s1/a")).expect("add");
        q.add(entry("brl/s1/b")).expect("add");
        assert!(q.add(entry("brl/s1/a")).is_err());
        let all = q.load().expect("load");
        assert_eq!(all.len(), 2);
        assert_eq!(
            q.find("brl/s1/b").expect("find").map(|e| e.commits),
            Some(1)
        );
    }

    #[test]
    fn corrupt_file_is_reported_and_kept() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("review-queue.json");
        std::fs::write(&p, "{ not json").expect("write");
        let q = Queue::new(&p);
        let e = q.add(entry("brl/s1/a")).expect_err("corrupt");
        let m = e.to_string();
        assert!(
            m.contains(&p.display().to_string()) && m.contains("will not overwrite"),
            "{m}"
        );
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "{ not json");
        std::fs::write(&p, r#"{"version": 99, "entries": []}"#).expect("write");
        assert!(
            q.load()
                .expect_err("newer")
                .to_string()
                .contains("upgrade brl")
        );
    }

    #[test]
    fn concurrent_adds_lose_nothing() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("review-queue.json");
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let p = p.clone();
                std::thread::spawn(move || {
                    let q = Queue::new(&p);
                    for i in 0..20 {
                        q.add(entry(&format!("brl/s{t}/{i}"))).expect("add");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        assert_eq!(Queue::new(&p).load().expect("load").len(), 160);
    }
}
