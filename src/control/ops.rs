//! The operator's control of each session and of the fleet — pause, resume, stop the cycle in
//! flight, restart the worker — as one set of engine calls behind the CLI (`brl pause` …), HTTP
//! (`POST /sessions/<s>/pause` …) and the dashboard's keys. Each writes the control files (so a
//! restarted control room and the workers honour it), and logs one entry naming who did it
//! (`by`: `cli`, `http` or `dashboard`).
//!
//! A `[[hosts]]` host's session (`<host>-sN`) has its control files and worker on its host: the
//! same operation runs there (`brl remote <op> <session> --by <who>` over the host's ssh, see
//! [`here`]), which logs it in the host's log (collected into the central one with its host).

use std::time::Duration;

use serde_json::json;

use crate::config::HostConfig;
use crate::home::Home;
use crate::hosts::remote_ops::{self, OpDone};
use crate::hosts::ssh::Ssh;
use crate::store::atomic::lock_owner;
use crate::store::control::{FleetControl, SessionControl, WorkerState, worker_lock_path};
use crate::store::log::{self, Entry};
use crate::store::tasks::Tasks;

/// Who asked: logged as `by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Cli,
    Http,
    Dashboard,
    /// A chat command (Telegram; `crate::chat`).
    Telegram,
}

impl By {
    pub fn as_str(self) -> &'static str {
        match self {
            By::Cli => "cli",
            By::Http => "http",
            By::Dashboard => "dashboard",
            By::Telegram => "telegram",
        }
    }

    /// The inverse of [`By::as_str`] (`brl remote <op> --by <who>`).
    pub fn parse(who: &str) -> Option<By> {
        [By::Cli, By::Http, By::Dashboard, By::Telegram]
            .into_iter()
            .find(|b| b.as_str() == who)
    }
}

/// One operation, as the faces name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Pause,
    Resume,
    Stop,
    Restart,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Pause => "pause",
            Op::Resume => "resume",
            Op::Stop => "stop",
            Op::Restart => "restart",
        }
    }
}

/// Do `op` on `session` (pause and resume: `None` is the whole fleet; stop and restart need a
/// session).
pub fn apply(home: &Home, op: Op, session: Option<&str>, by: By) -> Result<String, OpError> {
    match (op, session) {
        (Op::Pause, s) => pause(home, s, by),
        (Op::Resume, s) => resume(home, s, by),
        (Op::Stop, Some(s)) => stop(home, s, by),
        (Op::Restart, Some(s)) => restart(home, s, by),
        (op, None) => Err(OpError(format!(
            "`{}` needs a session (s1..sN): it works on one session, not the fleet",
            op.as_str()
        ))),
    }
}

/// An operation refused or failed, in words naming the session and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OpError(pub String);

fn err(e: impl std::fmt::Display) -> OpError {
    OpError(e.to_string())
}

fn append(home: &Home, kind: &str, session: Option<&str>, data: serde_json::Value) {
    log::append_or_report(&home.log_path(), &Entry::new(kind, session, data));
}

/// How long an operation on a host may take before it is given up.
const REMOTE_TIMEOUT: Duration = Duration::from_secs(30);

/// The `[[hosts]]` host that runs `session`, or `None` for this home's own. A brl.toml that
/// cannot be read leaves this home's own names (`sN`) their control here, and refuses the rest.
fn host_of(home: &Home, session: &str) -> Result<Option<HostConfig>, OpError> {
    match home.load_config() {
        Ok(c) => Ok(c.host_of(session).cloned()),
        Err(_)
            if session
                .strip_prefix('s')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            Ok(None)
        }
        Err(e) => Err(OpError(format!(
            "cannot tell which host runs session {session}: {e:#}\n  fix: repair brl.toml (`brl status` names the problem)"
        ))),
    }
}

/// `op` on `session` run on its host `h`: `D/bin/brl --home D/home remote <op> <session> --by
/// <who>` over the host's ssh. An unreachable host is an error naming it and the fix.
fn on_host(home: &Home, h: &HostConfig, op: Op, session: &str, by: By) -> Result<OpDone, OpError> {
    let ssh = Ssh::new(home, h);
    let failed = |e: &dyn std::fmt::Display| {
        OpError(format!(
            "cannot {} session {session} on host `{}`: {e}",
            op.as_str(),
            h.name
        ))
    };
    ssh.ensure_master().map_err(|e| failed(&e))?;
    let p = crate::hosts::place::host_paths(h);
    let (bin, root) = (p.bin.display().to_string(), p.home.display().to_string());
    let argv = [
        bin.as_str(),
        "--home",
        &root,
        "remote",
        op.as_str(),
        session,
        "--by",
        by.as_str(),
    ];
    let out = ssh
        .run(&argv, None, REMOTE_TIMEOUT)
        .map_err(|e| failed(&e))?;
    if !out.ok() {
        // The host's brl said why (its error names the session and the fix).
        let why = out.stderr.trim();
        let why = why.strip_prefix("error: ").unwrap_or(why);
        return Err(OpError(if why.is_empty() {
            format!(
                "`brl remote {}` for session {session} on host `{}` failed (exit {:?})\n  fix: run `brl hosts check`; the host's brl or home may be missing (`brl hosts setup`)",
                op.as_str(),
                h.name,
                out.status
            )
        } else {
            format!("on host `{}`: {why}", h.name)
        }));
    }
    remote_ops::parse::<OpDone>(&h.name, op.as_str(), &out.stdout)
        .map_err(|e| OpError(format!("{e:#}")))
}

/// `brl remote <op> <session> --by <who>`, run ON a host in its own home: the operation on one
/// of its sessions. A pause's withdrawn task is not released here (tasks are central): its id
/// goes back in the answer for the control room to release.
pub fn here(home: &Home, op: Op, session: &str, by: By) -> Result<OpDone, OpError> {
    home.load_config()
        .map_err(anyhow::Error::from)
        .and_then(|c| c.check_local_session(session))
        .map_err(|e| OpError(format!("{e:#}")))?;
    let (message, task_returned) = match op {
        Op::Pause => pause_session(home, session, by)?,
        Op::Resume => (resume_session(home, session, by)?, None),
        Op::Stop => (stop_here(home, session, by)?, None),
        Op::Restart => (restart_here(home, session, by, true)?, None),
    };
    Ok(OpDone {
        version: remote_ops::VERSION,
        session: session.to_string(),
        op: op.as_str().to_string(),
        message,
        task_returned,
    })
}

/// Put a task withdrawn with a paused session's grant back in the central queue.
fn release(home: &Home, task: u64) {
    if let Err(e) =
        Tasks::new(&home.tasks_path()).release(task, "its session was paused before it began")
    {
        tracing::error!("{e}");
    }
}

/// Pause one session (`Some`) or the whole fleet (`None`). Returns what to tell the operator.
pub fn pause(home: &Home, session: Option<&str>, by: By) -> Result<String, OpError> {
    let Some(s) = session else {
        let news = FleetControl::new(home).pause(by.as_str()).map_err(err)?;
        if !news {
            return Ok("the fleet was paused already; `brl resume` resumes it".into());
        }
        append(home, "fleet_paused", None, json!({"by": by.as_str()}));
        return Ok("the fleet is paused: no session gets a new cycle (cycles in flight finish); `brl resume` resumes it".into());
    };
    let (message, task) = match host_of(home, s)? {
        Some(h) => {
            let done = on_host(home, &h, Op::Pause, s, by)?;
            (done.message, done.task_returned)
        }
        None => pause_session(home, s, by)?,
    };
    if let Some(t) = task {
        release(home, t);
    }
    Ok(message)
}

/// Pause `s` in this home; the task of a withdrawn grant is returned, not released.
fn pause_session(home: &Home, s: &str, by: By) -> Result<(String, Option<u64>), OpError> {
    let done = SessionControl::new(home, s)
        .pause(by.as_str())
        .map_err(err)?;
    let task = done.withdrawn.as_ref().and_then(|g| g.task.as_ref());
    let returned = task.map(|t| t.id);
    if !done.news {
        return Ok((
            format!("session {s} was paused already; `brl resume {s}` resumes it"),
            returned,
        ));
    }
    append(
        home,
        "session_paused",
        Some(s),
        json!({"by": by.as_str(),
               "withdrawn_grant": done.withdrawn.as_ref().map(|g| g.id),
               "task_returned": task.map(|t| t.id),
               "cycle_running": done.cycle_running}),
    );
    let message = if done.cycle_running {
        format!(
            "session {s} is paused: its cycle in flight finishes, then it gets none until `brl resume {s}` (`brl stop {s}` interrupts the cycle)"
        )
    } else {
        format!("session {s} is paused: it gets no cycle until `brl resume {s}`")
    };
    Ok((message, returned))
}

/// Resume one session (`Some`) or the whole fleet (`None`).
pub fn resume(home: &Home, session: Option<&str>, by: By) -> Result<String, OpError> {
    let Some(s) = session else {
        return match FleetControl::new(home).resume().map_err(err)? {
            None => Ok("the fleet was not paused".into()),
            Some(p) => {
                append(
                    home,
                    "fleet_resumed",
                    None,
                    json!({"by": by.as_str(), "paused_by": p.by, "paused_at": p.at}),
                );
                Ok("the fleet is resumed: idle sessions get cycles again".into())
            }
        };
    };
    match host_of(home, s)? {
        Some(h) => Ok(on_host(home, &h, Op::Resume, s, by)?.message),
        None => resume_session(home, s, by),
    }
}

fn resume_session(home: &Home, s: &str, by: By) -> Result<String, OpError> {
    match SessionControl::new(home, s).resume().map_err(err)? {
        None => Ok(format!("session {s} was not paused")),
        Some(p) => {
            append(
                home,
                "session_resumed",
                Some(s),
                json!({"by": by.as_str(), "paused_by": p.by, "paused_at": p.at}),
            );
            Ok(format!("session {s} is resumed"))
        }
    }
}

/// The pid of the live worker of `session`, from its life lock (not from the control file,
/// which a dead worker may have left behind).
fn live_worker(home: &Home, session: &str) -> Result<u32, OpError> {
    let sc = SessionControl::new(home, session);
    if !sc.worker_alive().map_err(err)? {
        return Err(OpError(format!(
            "session {session} has no live worker (is the control room running? `brl up` starts the workers, `brl status` shows them)"
        )));
    }
    lock_owner(&worker_lock_path(home, session)).ok_or_else(|| {
        OpError(format!(
            "cannot read the worker's pid from {}; `brl attach {session}` shows its pane",
            worker_lock_path(home, session).display()
        ))
    })
}

fn signal(pid: u32, sig: i32, session: &str) -> Result<(), OpError> {
    let Ok(p) = i32::try_from(pid) else {
        return Err(OpError(format!(
            "session {session}: worker pid {pid} is not a valid pid"
        )));
    };
    // SAFETY: kill(2) on a pid read from the worker's life lock, held right now by that worker.
    if unsafe { libc::kill(p, sig) } != 0 {
        return Err(OpError(format!(
            "cannot signal the worker of session {session} (pid {pid}): {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Stop the cycle in flight of `session`: the worker kills the agent, discards the branch,
/// records the cycle once as `interrupted`, and waits for its next grant (SIGUSR1: see
/// [`crate::worker`]).
pub fn stop(home: &Home, session: &str, by: By) -> Result<String, OpError> {
    match host_of(home, session)? {
        Some(h) => Ok(on_host(home, &h, Op::Stop, session, by)?.message),
        None => stop_here(home, session, by),
    }
}

fn stop_here(home: &Home, session: &str, by: By) -> Result<String, OpError> {
    let c = SessionControl::new(home, session).load().map_err(err)?;
    let running =
        c.state == WorkerState::Cycle && c.grant.as_ref().is_some_and(|g| g.taken_by.is_some());
    if !running {
        return Err(OpError(format!(
            "session {session} runs no cycle now (it is {}); nothing to stop — `brl pause {session}` keeps it from starting one",
            c.state.as_str()
        )));
    }
    let pid = live_worker(home, session)?;
    signal(pid, libc::SIGUSR1, session)?;
    append(
        home,
        "cycle_stopped",
        Some(session),
        json!({"by": by.as_str(), "pid": pid,
               "grant": c.grant.as_ref().map(|g| g.id), "branch": c.branch,
               "note": "the worker records the cycle as interrupted and waits for its next grant"}),
    );
    Ok(format!(
        "session {session}: its cycle{} is being stopped (recorded as interrupted); the worker then waits for its next grant",
        c.branch.map(|b| format!(" on {b}")).unwrap_or_default()
    ))
}

/// Restart the worker of `session`: SIGTERM (a cycle in flight is recorded as interrupted), and
/// the control room respawns its pane at its next check (`[tmux] check_secs`).
pub fn restart(home: &Home, session: &str, by: By) -> Result<String, OpError> {
    match host_of(home, session)? {
        Some(h) => Ok(on_host(home, &h, Op::Restart, session, by)?.message),
        None => restart_here(home, session, by, false),
    }
}

/// `on_host`: this is a host's home, whose panes the control room on the control host watches.
fn restart_here(home: &Home, session: &str, by: By, on_host: bool) -> Result<String, OpError> {
    let pid = live_worker(home, session)?;
    signal(pid, libc::SIGTERM, session)?;
    if on_host {
        append(
            home,
            "session_restarted",
            Some(session),
            json!({"by": by.as_str(), "pid": pid, "control_room": "control host"}),
        );
        return Ok(format!(
            "session {session}: worker {pid} is stopping (a cycle in flight is recorded as interrupted); the control room starts a new one in its pane on this host at its next check (`brl up` on the control host if none runs)"
        ));
    }
    let room = crate::status::control_room_pid(home);
    append(
        home,
        "session_restarted",
        Some(session),
        json!({"by": by.as_str(), "pid": pid, "control_room": room}),
    );
    Ok(match room {
        Some(_) => format!(
            "session {session}: worker {pid} is stopping (a cycle in flight is recorded as interrupted); the control room starts a new one in its pane within seconds"
        ),
        None => format!(
            "session {session}: worker {pid} is stopping; no control room runs, so `brl up` starts a new one"
        ),
    })
}
