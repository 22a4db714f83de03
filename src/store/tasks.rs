//! The task queue, `<home>/logs/tasks.json`: work for the sessions, from people and from meetings.
//!
//! Every update is a read-modify-write under an exclusive lock on `tasks.json.lock`, and the file is
//! replaced atomically, so a person adding or approving tasks and cycles claiming and finishing them
//! never lose an update. The file carries a format version and the next id (ids are never reused);
//! a file that cannot be read is reported with its path and never overwritten.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::atomic::{LockGuard, lock_path_for, write_atomic};

pub const TASKS_VERSION: u32 = 1;

/// The longest title, in characters.
const MAX_TITLE_CHARS: usize = 200;
/// The longest body, in bytes.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Safe to run without a person's approval.
    AutoSafe,
    /// Runs only once a person approves it.
    Proposed,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::AutoSafe => "auto_safe",
            Tier::Proposed => "proposed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Pending,
    Running,
    Done,
    Failed,
    Dropped,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Done => "done",
            TaskState::Failed => "failed",
            TaskState::Dropped => "dropped",
        }
    }

    /// Pending work: counted by the cap and by the duplicate-title rule.
    fn is_open(self) -> bool {
        matches!(self, TaskState::Pending | TaskState::Running)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// 1, 2, 3… never reused.
    pub id: u64,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    pub tier: Tier,
    /// Auto-safe tasks need no approval; proposed ones do.
    pub approved: bool,
    pub state: TaskState,
    /// Where it came from: "cli", "http", "meeting", …
    pub source: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Cycles that ended without keeping a branch.
    #[serde(default)]
    pub attempts: u32,
    /// The session that runs or ran it.
    #[serde(default)]
    pub session: Option<String>,
    /// The kept branch, when done.
    #[serde(default)]
    pub branch: Option<String>,
    /// Why the last attempt did not keep a branch.
    #[serde(default)]
    pub last_reason: Option<String>,
}

impl Task {
    /// A cycle may claim it: pending, and auto-safe or approved.
    pub fn ready(&self) -> bool {
        self.state == TaskState::Pending && (self.tier == Tier::AutoSafe || self.approved)
    }
}

#[derive(Serialize, Deserialize)]
struct TasksFile {
    version: u32,
    next_id: u64,
    tasks: Vec<Task>,
}

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error(
        "the task queue {path} cannot be read: {detail}\n  brl will not overwrite it. fix: repair the file, or move it aside (mv {path} {path}.broken) to start an empty task queue"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the task queue {path} has format version {found}, newer than this brl understands ({TASKS_VERSION}); fix: upgrade brl, or move the file aside (mv {path} {path}.newer) to start an empty task queue"
    )]
    NewerVersion { path: PathBuf, found: u32 },
    #[error("task queue {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The request breaks a rule of the queue; the message says which and what to do.
    #[error("{0}")]
    Refused(String),
}

pub struct Tasks {
    path: PathBuf,
}

impl Tasks {
    pub fn new(path: &Path) -> Tasks {
        Tasks {
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All tasks, by id. A missing file is an empty queue.
    pub fn load(&self) -> Result<Vec<Task>, TaskError> {
        Ok(self.read()?.tasks)
    }

    /// Add a pending task. Refused when the title is empty or too long, the body too long, a
    /// pending or running task has the same title (trimmed, case-insensitive), or the queue
    /// already holds `max_pending` pending or running tasks. The title is stored trimmed; a blank
    /// body is no body.
    pub fn add(
        &self,
        title: &str,
        body: Option<&str>,
        tier: Tier,
        source: &str,
        max_pending: usize,
    ) -> Result<Task, TaskError> {
        let title = title.trim();
        if title.is_empty() {
            return Err(TaskError::Refused("a task needs a title; give one".into()));
        }
        let chars = title.chars().count();
        if chars > MAX_TITLE_CHARS {
            return Err(TaskError::Refused(format!(
                "the title has {chars} characters, more than the limit of {MAX_TITLE_CHARS}; shorten it and put the details in the body"
            )));
        }
        let body = body.filter(|b| !b.trim().is_empty());
        if let Some(b) = body
            && b.len() > MAX_BODY_BYTES
        {
            return Err(TaskError::Refused(format!(
                "the body has {} bytes, more than the limit of {MAX_BODY_BYTES} (16 KiB); shorten it or point to a file",
                b.len()
            )));
        }
        let key = title.to_lowercase();
        self.update(|file| {
            if let Some(t) = file
                .tasks
                .iter()
                .find(|t| t.state.is_open() && t.title.trim().to_lowercase() == key)
            {
                return Err(TaskError::Refused(format!(
                    "task #{} has the same title and is still {}; wait for it, or drop it first",
                    t.id,
                    t.state.as_str()
                )));
            }
            let open = file.tasks.iter().filter(|t| t.state.is_open()).count();
            if open >= max_pending {
                return Err(TaskError::Refused(format!(
                    "the task queue holds {open} pending tasks, the cap ([tasks] max_pending = {max_pending}); finish, approve or drop some first"
                )));
            }
            let now = Utc::now();
            let task = Task {
                id: file.next_id,
                title: title.to_string(),
                body: body.map(str::to_string),
                tier,
                approved: false,
                state: TaskState::Pending,
                source: source.to_string(),
                created: now,
                updated: now,
                attempts: 0,
                session: None,
                branch: None,
                last_reason: None,
            };
            file.next_id += 1;
            file.tasks.push(task.clone());
            Ok(task)
        })
    }

    /// Approve a proposed, pending task so that a cycle may claim it (approving twice is harmless).
    pub fn approve(&self, id: u64) -> Result<Task, TaskError> {
        self.update(|file| {
            let task = find_mut(&mut file.tasks, id)?;
            if task.tier == Tier::AutoSafe {
                return Err(TaskError::Refused(format!(
                    "task #{id} is auto_safe and needs no approval"
                )));
            }
            if task.state != TaskState::Pending {
                return Err(TaskError::Refused(format!(
                    "task #{id} is {}; only pending tasks can be approved",
                    task.state.as_str()
                )));
            }
            if !task.approved {
                task.approved = true;
                task.updated = Utc::now();
            }
            Ok(task.clone())
        })
    }

    /// Drop a pending or failed task. A running task cannot be dropped until its cycle ends.
    pub fn drop_task(&self, id: u64) -> Result<Task, TaskError> {
        self.update(|file| {
            let task = find_mut(&mut file.tasks, id)?;
            match task.state {
                TaskState::Pending | TaskState::Failed => {}
                TaskState::Running => {
                    return Err(TaskError::Refused(format!(
                        "task #{id}: a cycle is running it; try after it ends"
                    )));
                }
                TaskState::Done => {
                    return Err(TaskError::Refused(format!(
                        "task #{id} is done; there is nothing to drop (its branch is in the review queue)"
                    )));
                }
                TaskState::Dropped => {
                    return Err(TaskError::Refused(format!("task #{id} is already dropped")));
                }
            }
            task.state = TaskState::Dropped;
            task.updated = Utc::now();
            Ok(task.clone())
        })
    }

    /// The oldest ready task (by id) becomes Running for `session`; None when none is ready.
    pub fn claim(&self, session: &str) -> Result<Option<Task>, TaskError> {
        self.update(|file| {
            let Some(task) = file
                .tasks
                .iter_mut()
                .filter(|t| t.ready())
                .min_by_key(|t| t.id)
            else {
                return Ok(None);
            };
            task.state = TaskState::Running;
            task.session = Some(session.to_string());
            task.updated = Utc::now();
            Ok(Some(task.clone()))
        })
    }

    /// After a cycle that ran task `id`: kept → Done with `branch`; otherwise attempts += 1,
    /// last_reason = reason, and Failed when attempts >= max_attempts, else back to Pending.
    pub fn finish(
        &self,
        id: u64,
        kept: bool,
        branch: &str,
        reason: &str,
        max_attempts: u32,
    ) -> Result<Task, TaskError> {
        self.update(|file| {
            let task = find_running(&mut file.tasks, id, "finished")?;
            if kept {
                task.state = TaskState::Done;
                task.branch = Some(branch.to_string()).filter(|b| !b.is_empty());
            } else {
                task.attempts = task.attempts.saturating_add(1);
                task.last_reason = Some(reason.to_string());
                task.state = if task.attempts >= max_attempts {
                    TaskState::Failed
                } else {
                    TaskState::Pending
                };
            }
            task.updated = Utc::now();
            Ok(task.clone())
        })
    }

    /// Back to Pending without counting an attempt (the cycle was interrupted or its process
    /// died). Releasing a task that is already pending changes nothing.
    pub fn release(&self, id: u64, reason: &str) -> Result<Task, TaskError> {
        self.update(|file| {
            if let Some(t) = file.tasks.iter().find(|t| t.id == id)
                && t.state == TaskState::Pending
            {
                return Ok(t.clone());
            }
            let task = find_running(&mut file.tasks, id, "released")?;
            task.state = TaskState::Pending;
            task.last_reason = Some(reason.to_string());
            task.updated = Utc::now();
            Ok(task.clone())
        })
    }

    /// The whole file; a missing file is an empty queue whose first id is 1.
    fn read(&self) -> Result<TasksFile, TaskError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(TasksFile {
                    version: TASKS_VERSION,
                    next_id: 1,
                    tasks: Vec::new(),
                });
            }
            Err(source) => {
                return Err(TaskError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| self.corrupt(e.to_string()))?;
        let version = value
            .get("version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| self.corrupt("no `version` field".into()))?;
        if version > u64::from(TASKS_VERSION) {
            return Err(TaskError::NewerVersion {
                path: self.path.clone(),
                found: u32::try_from(version).unwrap_or(u32::MAX),
            });
        }
        let mut file: TasksFile =
            serde_json::from_value(value).map_err(|e| self.corrupt(e.to_string()))?;
        // Never hand out an id that is in the file, even after a hand edit.
        let past_max = file.tasks.iter().map(|t| t.id).max().unwrap_or(0) + 1;
        file.next_id = file.next_id.max(past_max);
        file.tasks.sort_by_key(|t| t.id);
        Ok(file)
    }

    /// Read-modify-write under the queue's lock; the file is replaced only when `f` succeeds.
    fn update<T>(
        &self,
        f: impl FnOnce(&mut TasksFile) -> Result<T, TaskError>,
    ) -> Result<T, TaskError> {
        let io = |source| TaskError::Io {
            path: self.path.clone(),
            source,
        };
        let _guard = LockGuard::exclusive(&lock_path_for(&self.path)).map_err(io)?;
        let mut file = self.read()?;
        let out = f(&mut file)?;
        file.version = TASKS_VERSION;
        let mut json =
            serde_json::to_vec_pretty(&file).map_err(|e| io(std::io::Error::other(e)))?;
        json.push(b'\n');
        write_atomic(&self.path, &json).map_err(io)?;
        Ok(out)
    }

    fn corrupt(&self, detail: String) -> TaskError {
        TaskError::Corrupt {
            path: self.path.clone(),
            detail,
        }
    }
}

fn find_mut(tasks: &mut [Task], id: u64) -> Result<&mut Task, TaskError> {
    tasks.iter_mut().find(|t| t.id == id).ok_or_else(|| {
        TaskError::Refused(format!(
            "there is no task #{id}; list the tasks to see the ids"
        ))
    })
}

/// The task `id`, which must be running to be `verb` (finished, released).
fn find_running<'a>(tasks: &'a mut [Task], id: u64, verb: &str) -> Result<&'a mut Task, TaskError> {
    let task = find_mut(tasks, id)?;
    if task.state != TaskState::Running {
        return Err(TaskError::Refused(format!(
            "task #{id} is {}, not running; only a running task can be {verb}",
            task.state.as_str()
        )));
    }
    Ok(task)
}

#[cfg(test)]
#[path = "tasks_tests.rs"]
mod tests;
