//! The task queue, `<home>/logs/tasks.json`: work for the sessions, from people and from meetings.
//!
//! Every update is a read-modify-write under an exclusive lock on `tasks.json.lock`, and the file is
//! replaced atomically, so a person adding or approving tasks and cycles claiming and finishing them
//! never lose an update. The file carries a format version and the next id (ids are never reused);
//! a file that cannot be read is reported with its path and never overwritten.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::state::{StateError, StateFile};

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
    /// Reserved for this session (`brl task add --session`): only it claims the task, before
    /// any other ready task ("do this next").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_session: Option<String>,
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

/// Errors of the task queue (see [`StateError`]).
pub type TaskError = StateError;

pub struct Tasks {
    file: StateFile,
}

/// The first control character of `text` in words (`an escape character (ESC) at character
/// 5`), if any; with `multiline`, line feeds and tabs are allowed.
fn control_char(text: &str, multiline: bool) -> Option<String> {
    let (i, c) = text
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !(multiline && matches!(c, '\n' | '\t')))?;
    let name = match c {
        '\u{1b}' => "an escape character (ESC)".to_string(),
        '\0' => "a NUL character".to_string(),
        '\n' => "a line break".to_string(),
        '\r' => "a carriage return".to_string(),
        '\t' => "a tab".to_string(),
        c => format!("the control character U+{:04X}", u32::from(c)),
    };
    Some(format!("{name} at character {}", i + 1))
}

/// Whether a title and body are acceptable in themselves (before any rule of the queue's
/// contents — cap, duplicates — applies); the message says what to change.
pub fn check_text(title: &str, body: Option<&str>) -> Result<(), String> {
    let title = title.trim();
    if title.is_empty() {
        return Err("a task needs a title; give one".into());
    }
    // Titles and bodies are printed by `brl task list`, the dashboard and `brl status`: a control
    // character (an escape sequence, a carriage return, NUL) could repaint the operator's
    // terminal. A title is one line; a body may have line breaks and tabs.
    if let Some(why) = control_char(title, false) {
        return Err(format!(
            "the title contains {why}; a title is one line of plain text"
        ));
    }
    if let Some(why) = body.and_then(|b| control_char(b, true)) {
        return Err(format!(
            "the body contains {why}; plain text with line breaks and tabs only"
        ));
    }
    let chars = title.chars().count();
    if chars > MAX_TITLE_CHARS {
        return Err(format!(
            "the title has {chars} characters, more than the limit of {MAX_TITLE_CHARS}; shorten it and put the details in the body"
        ));
    }
    if let Some(b) = body.filter(|b| !b.trim().is_empty())
        && b.len() > MAX_BODY_BYTES
    {
        return Err(format!(
            "the body has {} bytes, more than the limit of {MAX_BODY_BYTES} (16 KiB); shorten it or point to a file",
            b.len()
        ));
    }
    Ok(())
}

impl Tasks {
    pub fn new(path: &Path) -> Tasks {
        Tasks {
            file: StateFile {
                path: path.to_path_buf(),
                what: "task queue",
                version: TASKS_VERSION,
                hint: "",
            },
        }
    }

    pub fn path(&self) -> &Path {
        self.file.path()
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
        self.add_for(title, body, tier, source, max_pending, None)
    }

    /// [`Self::add`], the task reserved for `session` when given (only it claims the task,
    /// before any other ready task).
    pub fn add_for(
        &self,
        title: &str,
        body: Option<&str>,
        tier: Tier,
        source: &str,
        max_pending: usize,
        session: Option<&str>,
    ) -> Result<Task, TaskError> {
        check_text(title, body).map_err(StateError::Refused)?;
        let title = title.trim();
        let body = body.filter(|b| !b.trim().is_empty());
        let key = title.to_lowercase();
        self.update(|file| {
            if let Some(t) = file
                .tasks
                .iter()
                .find(|t| t.state.is_open() && t.title.trim().to_lowercase() == key)
            {
                return Err(StateError::Refused(format!(
                    "task #{} has the same title and is still {}; wait for it, or drop it first",
                    t.id,
                    t.state.as_str()
                )));
            }
            let open = file.tasks.iter().filter(|t| t.state.is_open()).count();
            if open >= max_pending {
                return Err(StateError::Refused(format!(
                    "the task queue holds {open} pending tasks, the cap ([tasks] max_pending = {max_pending}); finish, approve or drop some first"
                )));
            }
            // Ids never wrap: the id after this one must exist, or the file is full.
            let Some(after) = file.next_id.checked_add(1) else {
                return Err(StateError::Refused(format!(
                    "task ids are used up (next_id = {} in {}); archive tasks.json and start a \
                     new one, or lower next_id by hand if the high ids were a mistake",
                    file.next_id,
                    self.path().display()
                )));
            };
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
                for_session: session.map(str::to_string),
                branch: None,
                last_reason: None,
            };
            file.next_id = after;
            file.tasks.push(task.clone());
            Ok(task)
        })
    }

    /// Approve a proposed, pending task so that a cycle may claim it (approving twice is harmless).
    pub fn approve(&self, id: u64) -> Result<Task, TaskError> {
        self.update(|file| {
            let task = find_mut(&mut file.tasks, id)?;
            if task.tier == Tier::AutoSafe {
                return Err(StateError::Refused(format!(
                    "task #{id} is auto_safe and needs no approval"
                )));
            }
            if task.state != TaskState::Pending {
                return Err(StateError::Refused(format!(
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
                    return Err(StateError::Refused(format!(
                        "task #{id}: a cycle is running it; try after it ends"
                    )));
                }
                TaskState::Done => {
                    return Err(StateError::Refused(format!(
                        "task #{id} is done; there is nothing to drop (its branch is in the review queue)"
                    )));
                }
                TaskState::Dropped => {
                    return Err(StateError::Refused(format!("task #{id} is already dropped")));
                }
            }
            task.state = TaskState::Dropped;
            task.updated = Utc::now();
            Ok(task.clone())
        })
    }

    /// A failed task goes back to pending with its attempts reset (a person decided it deserves
    /// another go); its last reason stays as the history of why it failed. Only failed tasks.
    pub fn retry(&self, id: u64) -> Result<Task, TaskError> {
        self.update(|file| {
            let task = find_mut(&mut file.tasks, id)?;
            if task.state != TaskState::Failed {
                return Err(StateError::Refused(format!(
                    "task #{id} is {}; only a failed task can be retried",
                    task.state.as_str()
                )));
            }
            task.state = TaskState::Pending;
            task.attempts = 0;
            task.updated = Utc::now();
            Ok(task.clone())
        })
    }

    /// The oldest ready task reserved for `session`, else the oldest ready task reserved for
    /// none, becomes Running for `session`; None when none is ready. Tasks reserved for other
    /// sessions are never taken.
    pub fn claim(&self, session: &str) -> Result<Option<Task>, TaskError> {
        self.update(|file| {
            let Some(task) = file
                .tasks
                .iter_mut()
                .filter(|t| t.ready())
                .filter(|t| t.for_session.as_deref().is_none_or(|s| s == session))
                .min_by_key(|t| (t.for_session.is_none(), t.id))
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
        let mut file = self.file.read()?.unwrap_or_else(TasksFile::empty);
        file.normalize();
        Ok(file)
    }

    /// Read-modify-write under the queue's lock; the file is replaced only when `f` succeeds.
    fn update<T>(
        &self,
        f: impl FnOnce(&mut TasksFile) -> Result<T, TaskError>,
    ) -> Result<T, TaskError> {
        self.file.update(TasksFile::empty, |file: &mut TasksFile| {
            file.normalize();
            f(file)
        })
    }
}

impl TasksFile {
    fn empty() -> TasksFile {
        TasksFile {
            version: TASKS_VERSION,
            next_id: 1,
            tasks: Vec::new(),
        }
    }

    /// Never hand out an id that is in the file, even after a hand edit; keep ids in order.
    fn normalize(&mut self) {
        let past_max = self
            .tasks
            .iter()
            .map(|t| t.id)
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        self.next_id = self.next_id.max(past_max);
        self.tasks.sort_by_key(|t| t.id);
    }
}

fn find_mut(tasks: &mut [Task], id: u64) -> Result<&mut Task, TaskError> {
    tasks.iter_mut().find(|t| t.id == id).ok_or_else(|| {
        StateError::Refused(format!(
            "there is no task #{id}; list the tasks to see the ids"
        ))
    })
}

/// The task `id`, which must be running to be `verb` (finished, released).
fn find_running<'a>(tasks: &'a mut [Task], id: u64, verb: &str) -> Result<&'a mut Task, TaskError> {
    let task = find_mut(tasks, id)?;
    if task.state != TaskState::Running {
        return Err(StateError::Refused(format!(
            "task #{id} is {}, not running; only a running task can be {verb}",
            task.state.as_str()
        )));
    }
    Ok(task)
}

#[cfg(test)]
#[path = "tasks_tests.rs"]
mod tests;
