//! The dashboard's actions on the home: the same operations as the CLI (`decision::approve`,
//! `decision::reject`, the task queue's add/approve/drop), each under its file's lock, run on a
//! thread of its own; the result comes back as a message and is shown, never swallowed.

use std::sync::mpsc::Sender;
use std::thread;

use crate::decision::{self, Approval};
use crate::home::Home;
use crate::store::tasks::{Tasks, Tier};

use super::app::Level;
use super::update::Msg;

/// The name of job threads (their panics are caught and shown, the terminal stays).
pub const THREAD: &str = "brl-tui-job";

/// Who the log's `review_decision` entries name as the decider.
const BY: &str = "dashboard";

pub fn approve(home: &Home, branch: String, force: bool, tx: Sender<Msg>) {
    let home = Home::new(home.root());
    spawn(tx, format!("approving {branch}"), move || {
        let config = home.load_config().map_err(|e| e.to_string())?;
        let a = decision::approve_with(&home, &config, &branch, BY, force)
            .map_err(|e| format!("{e:#}"))?;
        let level = match a {
            Approval::Merged { .. } | Approval::AlreadyMerged | Approval::Superseded { .. } => {
                Level::Ok
            }
            Approval::Conflict { .. } | Approval::Refused { .. } => Level::Error,
        };
        Ok((level, a.describe(&branch, &config.main)))
    });
}

pub fn reject(home: &Home, branch: String, reason: Option<String>, tx: Sender<Msg>) {
    let home = Home::new(home.root());
    spawn(tx, format!("rejecting {branch}"), move || {
        let config = home.load_config().map_err(|e| e.to_string())?;
        decision::reject(&home, &config, &branch, reason.as_deref(), BY)
            .map_err(|e| format!("{e:#}"))?;
        Ok((
            Level::Ok,
            format!(
                "rejected {branch}: the branch is deleted ({})",
                reason.as_deref().unwrap_or("no reason given")
            ),
        ))
    });
}

/// Approve `branches` in this order through the merge train (each a journaled approval, each
/// re-checked on the main that holds the previous ones; it stops at the first that fails).
pub fn approve_many(home: &Home, branches: Vec<String>, force: bool, tx: Sender<Msg>) {
    let home = Home::new(home.root());
    let n = branches.len();
    spawn(tx, format!("approving {n} branches"), move || {
        let config = home.load_config().map_err(|e| e.to_string())?;
        let report = crate::jobs::review::train::run(&home, &config, &branches, BY, force)
            .map_err(|e| format!("{e:#}"))?;
        let merged = report
            .steps
            .iter()
            .filter(|s| s.result == "merged" || s.result == "superseded")
            .count();
        let mut text = format!("bulk approve: {merged} of {n} reached {}", config.main);
        if let Some(stop) = report
            .steps
            .iter()
            .find(|s| s.result != "merged" && s.result != "superseded")
        {
            text.push_str(&format!(
                "; stopped at {} ({}: {}) — the rest were not tried",
                stop.branch, stop.result, stop.detail
            ));
        }
        let level = if report.complete() {
            Level::Ok
        } else {
            Level::Error
        };
        Ok((level, text))
    });
}

/// Reject each of `branches` (the same reason); every failure is named.
pub fn reject_many(home: &Home, branches: Vec<String>, reason: Option<String>, tx: Sender<Msg>) {
    let home = Home::new(home.root());
    let n = branches.len();
    spawn(tx, format!("rejecting {n} branches"), move || {
        let config = home.load_config().map_err(|e| e.to_string())?;
        let mut failed = Vec::new();
        for b in &branches {
            if let Err(e) = decision::reject(&home, &config, b, reason.as_deref(), BY) {
                failed.push(format!("{b}: {e:#}"));
            }
        }
        if failed.is_empty() {
            Ok((
                Level::Ok,
                format!("rejected {n} branches: they are deleted"),
            ))
        } else {
            Ok((
                Level::Error,
                format!(
                    "rejected {} of {n}; not rejected: {}",
                    n - failed.len(),
                    failed.join("; ")
                ),
            ))
        }
    });
}

/// A failed task back to pending with its attempts reset; logged as `task_retried`.
pub fn retry_task(home: &Home, id: u64, tx: Sender<Msg>) {
    let home = Home::new(home.root());
    spawn(tx, format!("retrying task {id}"), move || {
        let t = Tasks::new(&home.tasks_path())
            .retry(id)
            .map_err(|e| e.to_string())?;
        crate::store::log::append_or_report(
            &home.log_path(),
            &crate::store::log::Entry::new(
                "task_retried",
                None,
                serde_json::json!({"task": id, "title": t.title, "by": BY}),
            ),
        );
        Ok((
            Level::Ok,
            format!("task {id} is pending again (attempts reset): {}", t.title),
        ))
    });
}

pub fn add_task(home: &Home, title: String, body: Option<String>, tier: Tier, tx: Sender<Msg>) {
    let home = Home::new(home.root());
    spawn(tx, "adding a task".into(), move || {
        let config = home.load_config().map_err(|e| e.to_string())?;
        let t = Tasks::new(&home.tasks_path())
            .add(&title, body.as_deref(), tier, BY, config.tasks.max_pending)
            .map_err(|e| e.to_string())?;
        let note = if t.ready() {
            "ready for the next free session"
        } else {
            "proposed: approve it with A before a session takes it"
        };
        Ok((
            Level::Ok,
            format!("task {} added: {} — {note}", t.id, t.title),
        ))
    });
}

pub fn approve_task(home: &Home, id: u64, tx: Sender<Msg>) {
    let home = Home::new(home.root());
    spawn(tx, format!("approving task {id}"), move || {
        let t = Tasks::new(&home.tasks_path())
            .approve(id)
            .map_err(|e| e.to_string())?;
        Ok((Level::Ok, format!("task {id} approved: {}", t.title)))
    });
}

pub fn drop_task(home: &Home, id: u64, tx: Sender<Msg>) {
    let home = Home::new(home.root());
    spawn(tx, format!("dropping task {id}"), move || {
        let t = Tasks::new(&home.tasks_path())
            .drop_task(id)
            .map_err(|e| e.to_string())?;
        Ok((Level::Ok, format!("task {id} dropped: {}", t.title)))
    });
}

/// Start `brl <job>` as a process of its own (its own process group: it outlives the dashboard
/// and the terminal); its result is its entry in the experiment log.
pub fn trigger(home: &Home, job: crate::jobs::Job) -> (Level, String) {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    if job.running(home) {
        return (
            Level::Warn,
            format!(
                "the {} job is already running; its entry appears in the log when it ends",
                job.name()
            ),
        );
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return (Level::Error, format!("cannot find the brl executable: {e}")),
    };
    let child = Command::new(exe)
        .arg("--home")
        .arg(home.root())
        .arg(job.name())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    match child {
        Ok(mut c) => {
            let pid = c.id();
            // Reap it when it ends.
            let _ = thread::Builder::new()
                .name("brl-tui-reaper".into())
                .spawn(move || {
                    let _ = c.wait();
                });
            (
                Level::Ok,
                format!(
                    "{} started (pid {pid}); the header shows its progress, its `{}` entry is logged when it ends",
                    job.name(),
                    job.entry_kind()
                ),
            )
        }
        Err(e) => (
            Level::Error,
            format!("cannot start `brl {}`: {e}", job.name()),
        ),
    }
}

/// Pause, resume, stop or restart a session, or pause/resume the fleet (`session` `None`),
/// logged `by: "dashboard"`.
pub fn session_op(
    home: &Home,
    op: crate::control::ops::Op,
    session: Option<String>,
    tx: Sender<Msg>,
) {
    use crate::control::ops::{self, By};
    let home = Home::new(home.root());
    let who = session.clone().unwrap_or_else(|| "the fleet".into());
    spawn(tx, format!("{} {who}", op.as_str()), move || {
        let text =
            ops::apply(&home, op, session.as_deref(), By::Dashboard).map_err(|e| e.to_string())?;
        Ok((Level::Ok, text))
    });
}

fn spawn(
    tx: Sender<Msg>,
    what: String,
    f: impl FnOnce() -> Result<(Level, String), String> + Send + 'static,
) {
    thread::Builder::new()
        .name(THREAD.into())
        .spawn(move || {
            let (level, text) = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => (Level::Error, format!("{what} failed: {e}")),
                Err(_) => (
                    Level::Error,
                    format!("{what} failed: a bug in brl (see logs/brl.log*)"),
                ),
            };
            let _ = tx.send(Msg::Done { what, level, text });
        })
        .expect("spawning a thread");
}
