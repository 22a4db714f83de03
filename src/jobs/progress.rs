//! A running job's progress where the dashboard can read it cheaply: one small JSON file per job,
//! `logs/jobs/<job>.progress.json`, replaced atomically at each step ("branch 2 of 5", "round 2
//! of 3 · s2") and once more at the end with the result (counts, the transcript to open). The
//! dashboard watches `logs/jobs/` and shows it in its header; the experiment log's entry stays
//! the record, this file only says what is happening now.
//!
//! Writing it never fails a job: a file that cannot be written is reported once to brl.log and
//! the job goes on (the log entry still tells the result).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::home::Home;
use crate::store::atomic::write_atomic;

/// The progress file's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// `review`, `standup`, `doctor`, `fix`.
    pub job: String,
    /// The process running it (a `running` file whose process is gone: it died).
    pub pid: u32,
    pub started: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// What it is doing now, in words.
    pub step: String,
    /// Set when it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<Done>,
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Done {
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// "3 reviewed: approve 2, reject 1", "failed: …".
    pub summary: String,
    /// The file to open (a standup's transcript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
}

/// The directory of the progress files.
pub fn dir(home: &Home) -> PathBuf {
    home.logs_dir().join("jobs")
}

pub fn path(home: &Home, job: &str) -> PathBuf {
    dir(home).join(format!("{job}.progress.json"))
}

/// Publishes one run's progress.
pub struct Publisher {
    path: PathBuf,
    now: Progress,
    warned: bool,
    finished: bool,
}

/// A run that returns (an error, a panic) without its result says so.
impl Drop for Publisher {
    fn drop(&mut self) {
        if !self.finished {
            let step = self.now.step.clone();
            self.finish_with(
                false,
                format!("stopped at \"{step}\" without a result (the log says why)"),
                None,
            );
        }
    }
}

impl Publisher {
    /// A run of `job` starts: its file says so at once.
    pub fn start(home: &Home, job: &str) -> Publisher {
        let now = Utc::now();
        let mut p = Publisher {
            path: path(home, job),
            now: Progress {
                job: job.to_string(),
                pid: std::process::id(),
                started: now,
                updated: now,
                step: "starting".into(),
                done: None,
            },
            warned: false,
            finished: false,
        };
        p.write();
        p
    }

    /// The run is at `step` ("branch 2 of 5: brl/s1/…").
    pub fn step(&mut self, step: impl Into<String>) {
        self.now.step = step.into();
        self.now.updated = Utc::now();
        self.write();
    }

    /// The run ended: its result, from its log entry's data.
    pub fn finish(mut self, data: &Value) {
        let s = summary(&self.now.job, data);
        self.finish_with(
            data["ok"].as_bool().unwrap_or(false),
            s,
            data["file"].as_str().map(str::to_string),
        );
    }

    fn finish_with(&mut self, ok: bool, summary: String, transcript: Option<String>) {
        self.finished = true;
        let at = Utc::now();
        self.now.updated = at;
        self.now.done = Some(Done {
            at,
            ok,
            summary,
            transcript,
        });
        self.write();
    }

    fn write(&mut self) {
        let r = std::fs::create_dir_all(parent(&self.path)).and_then(|()| {
            let bytes = serde_json::to_vec(&self.now).map_err(std::io::Error::other)?;
            write_atomic(&self.path, &bytes)
        });
        if let Err(e) = r
            && !self.warned
        {
            self.warned = true;
            tracing::warn!(
                "cannot write the job's progress to {} ({e}); the dashboard will not show it, the log entry still tells the result",
                self.path.display()
            );
        }
    }
}

fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}

/// The result in a few words: verdict counts for a review, the speakers and tasks of a
/// standup, the classes of a doctor's run; the error of a failed one.
pub fn summary(job: &str, data: &Value) -> String {
    if data["ok"].as_bool() == Some(false)
        && let Some(e) = data["error"].as_str()
    {
        return format!("failed: {e}");
    }
    let n = |k: &str| data[k].as_array().map_or(0, Vec::len);
    match job {
        "review" => {
            if let Some(note) = data["note"].as_str() {
                return note.to_string();
            }
            let mut counts = std::collections::BTreeMap::new();
            if let Some(v) = data["verdicts"].as_object() {
                for verdict in v.values().filter_map(Value::as_str) {
                    *counts.entry(verdict.to_string()).or_insert(0u32) += 1;
                }
            }
            let total: u32 = counts.values().sum();
            let mut s = format!("{total} reviewed");
            if !counts.is_empty() {
                let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
                s.push_str(&format!(": {}", parts.join(", ")));
            }
            for k in ["stale", "conflict", "skipped"] {
                if n(k) > 0 {
                    s.push_str(&format!(" · {k} {}", n(k)));
                }
            }
            s
        }
        "standup" => format!(
            "{} spoke · {} task{} added",
            n("participants"),
            data["tasks_added"].as_u64().unwrap_or(0),
            if data["tasks_added"].as_u64() == Some(1) {
                ""
            } else {
                "s"
            }
        ),
        "doctor" => {
            let mut counts = std::collections::BTreeMap::new();
            if let Some(s) = data["sessions"].as_object() {
                for v in s.values() {
                    let c = v["class"].as_str().unwrap_or("?").to_string();
                    *counts.entry(c).or_insert(0u32) += 1;
                }
            }
            let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
            if parts.is_empty() {
                "no session to examine".into()
            } else {
                parts.join(", ")
            }
        }
        _ => data["result"]
            .as_str()
            .or(data["summary"].as_str())
            .unwrap_or("done")
            .to_string(),
    }
}

/// Every progress file under `logs/jobs/` (a file that cannot be read is left out: it is being
/// replaced, or a person's; the next change reads it again).
pub fn read_all(home: &Home) -> Vec<Progress> {
    let Ok(rd) = std::fs::read_dir(dir(home)) else {
        return vec![];
    };
    let mut v: Vec<Progress> = rd
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".progress.json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    v.sort_by(|a, b| a.job.cmp(&b.job));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_run_publishes_its_steps_then_its_result() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        let mut p = Publisher::start(&home, "review");
        assert_eq!(read_all(&home)[0].step, "starting");
        p.step("branch 2 of 3: brl/s1/a");
        let now = read_all(&home);
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].step, "branch 2 of 3: brl/s1/a");
        assert_eq!(now[0].pid, std::process::id());
        assert!(now[0].done.is_none());
        p.finish(
            &json!({"ok": true, "verdicts": {"a": "approve", "b": "approve", "c": "reject"},
                         "conflict": [{"branch": "d"}]}),
        );
        let done = read_all(&home)[0].done.clone().expect("done");
        assert!(done.ok);
        assert_eq!(done.summary, "3 reviewed: approve 2, reject 1 · conflict 1");
    }

    #[test]
    fn a_run_that_returns_without_its_result_says_where_it_stopped() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        {
            let mut p = Publisher::start(&home, "fix");
            p.step("repairing brl/s1/a in s2 (attempt 1 of 3)");
        }
        let done = read_all(&home)[0].done.clone().expect("done");
        assert!(!done.ok);
        assert!(
            done.summary.contains("repairing brl/s1/a"),
            "{}",
            done.summary
        );
        assert_eq!(
            summary(
                "fix",
                &json!({"ok": false, "result": "fix: brl/s1/a not repaired"})
            ),
            "fix: brl/s1/a not repaired"
        );
    }

    #[test]
    fn summaries_name_the_transcript_failures_and_classes() {
        assert_eq!(
            summary(
                "standup",
                &json!({"ok": true, "participants": ["s1", "s2"], "tasks_added": 1})
            ),
            "2 spoke · 1 task added"
        );
        assert_eq!(
            summary(
                "doctor",
                &json!({"ok": true, "sessions": {"s1": {"class": "stuck"}, "s2": {"class": "productive"}}})
            ),
            "productive 1, stuck 1"
        );
        assert_eq!(
            summary("review", &json!({"ok": false, "error": "timed out"})),
            "failed: timed out"
        );
    }
}
