//! `brl down`: stop the control room, the workers and this home's panes — and only this home's.
//!
//! 1. The control room: SIGTERM, up to 15 s for it to release the home's lock, then SIGKILL.
//! 2. The workers: SIGTERM (a cycle in flight is interrupted and recorded), up to `--wait-secs`.
//!    Past that grace period brl kills what is left itself: the agent's process group recorded in
//!    `logs/sessions/<s>/running.pgid` (only while it still runs in that session's worktree, see
//!    `proc::kill_orphaned_group`), the worker's own process group, and every process group of
//!    the terminal session the worker leads (its pane's: the agent and the checks it started).
//!    Each kill is said, per session.
//! 3. The panes tagged `@brl_home = <this home>` (workers and the control room's own pane), in
//!    whatever tmux session they are; nothing else. A tmux session ends by itself when its last
//!    pane is closed, so a session shared with other homes or the user's own windows stays.
//!    What still runs in those panes' terminal sessions afterwards (a process group that outlived
//!    the SIGHUP) is killed too.
//!
//! Exit 0 when nothing of the home runs any more; 1 (naming what) otherwise.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::home::Home;
use crate::status;
use crate::store::atomic::{LockGuard, lock_owner};
use crate::tmux::Tmux;

/// How long the control room has to stop after SIGTERM before it is killed.
const CONTROL_GRACE: Duration = Duration::from_secs(15);
/// How long a SIGKILLed process has to disappear.
const KILL_WAIT: Duration = Duration::from_secs(5);

pub fn down(home: &Home, wait_secs: u64) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    stop_control_room(home);
    // The workers: SIGTERM (a cycle in flight is interrupted, discarded and recorded).
    let workers = running_workers(home);
    for (s, pid, _) in &workers {
        println!("stopping worker {s} (pid {pid})");
        signal(*pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(wait_secs);
    for (s, pid, lock) in &workers {
        let rest = deadline.saturating_duration_since(Instant::now());
        if wait_free(lock, rest) {
            continue;
        }
        println!(
            "worker {s} (pid {pid}) did not stop within {wait_secs} s of SIGTERM (--wait-secs)"
        );
        kill_session_processes(home, s, Some(*pid));
        if !wait_free(lock, KILL_WAIT) {
            eprintln!("worker {s} (pid {pid}) still holds {}", lock.display());
        }
    }
    let mut leaders: Vec<i32> = workers
        .iter()
        .map(|w| w.1 as i32)
        .filter(|p| leads_session(*p))
        .collect();
    leaders.extend(close_panes(home, &config)?);
    // A pane closed above ends a worker started since (SIGHUP); one that ignores it is killed.
    let mut still = Vec::new();
    for (s, pid, lock) in running_workers(home) {
        if wait_free(&lock, KILL_WAIT) {
            continue;
        }
        kill_session_processes(home, &s, Some(pid));
        if !wait_free(&lock, KILL_WAIT) {
            still.push(format!("{s} (pid {pid})"));
        }
    }
    // What a worker left (its agent, a check): by the recorded agent group, and by the terminal
    // sessions of this home's panes.
    let mut sessions = config.session_names();
    sessions.extend(workers.iter().map(|w| w.0.clone()));
    sessions.sort();
    sessions.dedup();
    for s in &sessions {
        kill_session_processes(home, s, None);
    }
    leaders.sort_unstable();
    leaders.dedup();
    for g in groups_of_sessions(&leaders) {
        kill_group(g);
        println!("killed process group {g}, left running by a closed pane (SIGKILL)");
    }
    wait_gone(&leaders);
    let left: Vec<String> = groups_of_sessions(&leaders)
        .into_iter()
        .map(|g| format!("process group {g}"))
        .chain(still)
        .collect();
    if left.is_empty() {
        println!("everything of {} is stopped", home.root().display());
        Ok(0)
    } else {
        eprintln!(
            "still running after SIGKILL: {}; see `ps -o pid,pgid,stat,cmd -g <pgid>` (a process stuck in the kernel, state D, ends when its I/O does)",
            left.join(", ")
        );
        Ok(1)
    }
}

/// Step 1: SIGTERM, then SIGKILL past [`CONTROL_GRACE`].
fn stop_control_room(home: &Home) {
    let Some(pid) = status::control_room_pid(home) else {
        println!("no control room was running");
        return;
    };
    signal(pid, libc::SIGTERM);
    let lock = status::control_lock_path(home);
    if wait_free(&lock, CONTROL_GRACE) {
        println!("control room (pid {pid}) stopped");
        return;
    }
    signal(pid, libc::SIGKILL);
    if wait_free(&lock, KILL_WAIT) {
        println!(
            "control room (pid {pid}) did not stop within {} s of SIGTERM: killed it (SIGKILL)",
            CONTROL_GRACE.as_secs()
        );
    } else {
        eprintln!(
            "control room (pid {pid}) still holds {} after SIGKILL",
            lock.display()
        );
    }
}

/// Step 3: close every pane tagged with this home (workers and the control room's pane).
/// Returns the pids of the live panes' processes, each the leader of its terminal session.
fn close_panes(home: &Home, config: &crate::config::Config) -> anyhow::Result<Vec<i32>> {
    let tmux = Tmux::new(config.tmux.socket.as_deref());
    let tag = home.root().display().to_string();
    let socket = config.tmux.socket.as_deref().unwrap_or("default");
    let mut closed: Vec<String> = Vec::new();
    let mut sessions: Vec<String> = Vec::new();
    let workers = tmux.panes(&tag)?;
    let controls = tmux.control_panes(&tag)?;
    let leaders: Vec<i32> = workers
        .iter()
        .filter_map(|p| p.pid)
        .map(|p| p as i32)
        .filter(|p| leads_session(*p))
        .collect();
    let panes = workers
        .iter()
        .map(|p| (p.id.clone(), p.tmux_session.clone(), p.session.clone()))
        .chain(
            controls
                .iter()
                .map(|p| (p.id.clone(), p.tmux_session.clone(), "control".to_string())),
        );
    for (id, tmux_session, what) in panes {
        match tmux.kill_pane(&id) {
            Ok(()) => {
                closed.push(format!("{id} ({what})"));
                if !sessions.contains(&tmux_session) {
                    sessions.push(tmux_session);
                }
            }
            // Gone meanwhile (its session ended with the pane before it): nothing to close.
            Err(e) if pane_gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if closed.is_empty() {
        println!("no pane of this home on tmux socket {socket}");
        return Ok(leaders);
    }
    println!(
        "closed this home's panes on tmux socket {socket}: {}",
        closed.join(", ")
    );
    for s in sessions {
        if tmux.session_exists(&s)? {
            println!("tmux session `{s}` kept: it holds panes that are not this home's");
        } else {
            println!("tmux session `{s}` closed (no pane left in it)");
        }
    }
    Ok(leaders)
}

fn pane_gone(e: &crate::tmux::TmuxError) -> bool {
    let m = e.to_string();
    m.contains("can't find pane")
        || m.contains("no server running")
        || m.contains("error connecting")
}

/// Kill, with SIGKILL, what runs for session `s`: its agent's recorded group, the worker `pid`
/// (its whole group when it leads one, as in a tmux pane) and every group of the terminal
/// session it leads. Says what it killed.
fn kill_session_processes(home: &Home, s: &str, worker: Option<u32>) {
    if let Some(pgid) = crate::proc::kill_orphaned_group(&crate::cycle::running_pgid(home, s)) {
        println!("{s}: killed the agent's process group {pgid} (SIGKILL)");
    }
    let Some(pid) = worker.map(|p| p as i32) else {
        return;
    };
    if !crate::proc::is_running(pid) {
        return;
    }
    if leads_session(pid) {
        // Its pane's terminal session: the worker, its agent and its checks, each group.
        let groups = groups_of_sessions(&[pid]);
        for g in &groups {
            kill_group(*g);
        }
        println!(
            "{s}: killed the worker (pid {pid}) and the process groups of its pane: {} (SIGKILL)",
            groups
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        wait_gone(&[pid]);
    } else if pgid_of(pid) == Some(pid) && Some(pid) != own_group() {
        kill_group(pid);
        println!("{s}: killed the worker's process group {pid} (SIGKILL)");
    } else {
        signal(pid as u32, libc::SIGKILL);
        println!("{s}: killed the worker (pid {pid}, SIGKILL)");
    }
}

/// `pid` is alive and leads its own terminal session (as a tmux pane's process does).
fn leads_session(pid: i32) -> bool {
    crate::proc::is_running(pid) && stat(pid).is_some_and(|st| st.session == pid)
}

/// The process groups with a live (not zombie) member in one of the terminal `sessions`, never
/// brl's own group.
fn groups_of_sessions(sessions: &[i32]) -> Vec<i32> {
    if sessions.is_empty() {
        return vec![];
    }
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    let own = own_group();
    let mut groups: Vec<i32> = procs
        .filter_map(|e| {
            let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let st = stat(pid)?;
            (st.state != 'Z' && sessions.contains(&st.session) && st.pgrp > 1)
                .then_some(st.pgrp)
                .filter(|g| Some(*g) != own)
        })
        .collect();
    groups.sort_unstable();
    groups.dedup();
    groups
}

/// Wait up to [`KILL_WAIT`] for the terminal sessions to have no live process: SIGKILL is
/// delivered at once, but a process disappears when its parent reaps it.
fn wait_gone(sessions: &[i32]) {
    let end = Instant::now() + KILL_WAIT;
    while !groups_of_sessions(sessions).is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Stat {
    state: char,
    pgrp: i32,
    session: i32,
}

/// A process's state, group and terminal session from `/proc/<pid>/stat`; `None` when gone.
fn stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command's closing parenthesis: state ppid pgrp session …
    let mut f = text.rsplit(')').next()?.split_whitespace();
    let state = f.next()?.chars().next()?;
    let _ppid = f.next()?;
    let pgrp = f.next()?.parse().ok()?;
    let session = f.next()?.parse().ok()?;
    Some(Stat {
        state,
        pgrp,
        session,
    })
}

fn pgid_of(pid: i32) -> Option<i32> {
    // SAFETY: getpgid only reads the process table; an unknown pid gives -1.
    let g = unsafe { libc::getpgid(pid) };
    (g > 0).then_some(g)
}

fn own_group() -> Option<i32> {
    // SAFETY: getpgrp has no preconditions.
    let g = unsafe { libc::getpgrp() };
    (g > 0).then_some(g)
}

fn kill_group(pgid: i32) {
    // SAFETY: killpg only sends a signal; a group that is gone gives ESRCH, ignored.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

/// Workers alive now: (session, pid, life-lock path), from the lock files in logs/locks/.
fn running_workers(home: &Home) -> Vec<(String, u32, std::path::PathBuf)> {
    let Ok(dir) = std::fs::read_dir(home.locks_dir()) else {
        return vec![];
    };
    let mut out: Vec<_> = dir
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_str()?;
            let session = name
                .strip_prefix("worker-")?
                .strip_suffix(".lock")?
                .to_string();
            if !LockGuard::is_held(&path).ok()? {
                return None;
            }
            Some((session, lock_owner(&path)?, path))
        })
        .collect();
    out.sort();
    out
}

/// Wait until nobody holds `lock`, up to `max`.
fn wait_free(lock: &Path, max: Duration) -> bool {
    let end = Instant::now() + max;
    loop {
        if !LockGuard::is_held(lock).unwrap_or(false) {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill only sends a signal; a pid that is gone gives ESRCH, ignored.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}
