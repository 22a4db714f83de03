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
//! 4. Each `[[hosts]]` host: its tmux session there is closed over ssh (its workers get SIGHUP,
//!    record their cycle in flight and exit). `--host NAME` does only this, for one host, and
//!    marks it stopped so a running control room makes no panes there and grants nothing until
//!    the next `brl up`.
//!
//! Exit 0 when nothing of the home runs any more; 1 (naming what) otherwise.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::control::reap;
use crate::home::Home;
use crate::status;
use crate::store::atomic::{LockGuard, lock_owner};
use crate::tmux::Tmux;

/// How long the control room has to stop after SIGTERM before it is killed.
const CONTROL_GRACE: Duration = Duration::from_secs(15);
/// How long a SIGKILLed process has to disappear.
const KILL_WAIT: Duration = Duration::from_secs(5);

pub fn down(home: &Home, wait_secs: u64, host: Option<&str>) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    if let Some(name) = host {
        let h = config.hosts.iter().find(|h| h.name == name).ok_or_else(|| {
            anyhow::anyhow!(
                "no host `{name}` in [[hosts]] of {} (hosts: {})\n  fix: pass one of those names, or plain `brl down` to stop everything",
                home.config_path().display(),
                if config.hosts.is_empty() {
                    "none".to_string()
                } else {
                    config.hosts.iter().map(|h| h.name.as_str()).collect::<Vec<_>>().join(", ")
                }
            )
        })?;
        // Marked first: a control room checking meanwhile must not make the panes again.
        crate::hosts::status_file::mark_stopped(home, name)?;
        return Ok(if stop_host(home, &config, h) { 0 } else { 1 });
    }
    stop_control_room(home);
    let mut hosts_left = Vec::new();
    for h in &config.hosts {
        if !stop_host(home, &config, h) {
            hosts_left.push(format!("the workers of host {}", h.name));
        }
        // The control room is gone: nothing rides this host's connection any more.
        crate::hosts::Ssh::new(home, h).close();
    }
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
        say(reap::kill_session_processes(home, s, Some(*pid)));
        if !wait_free(lock, KILL_WAIT) {
            eprintln!("worker {s} (pid {pid}) still holds {}", lock.display());
        }
    }
    let mut leaders: Vec<i32> = workers
        .iter()
        .map(|w| w.1 as i32)
        .filter(|p| reap::leads_session(*p))
        .collect();
    leaders.extend(close_panes(home, &config)?);
    // A pane closed above ends a worker started since (SIGHUP); one that ignores it is killed.
    let mut still = Vec::new();
    for (s, pid, lock) in running_workers(home) {
        if wait_free(&lock, KILL_WAIT) {
            continue;
        }
        say(reap::kill_session_processes(home, &s, Some(pid)));
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
        say(reap::kill_session_processes(home, s, None));
    }
    leaders.sort_unstable();
    leaders.dedup();
    for g in reap::groups_of_sessions(&leaders) {
        reap::kill_group(g);
        println!("killed process group {g}, left running by a closed pane (SIGKILL)");
    }
    reap::wait_gone(&leaders);
    let left: Vec<String> = reap::groups_of_sessions(&leaders)
        .into_iter()
        .map(|g| format!("process group {g}"))
        .chain(still)
        .chain(hosts_left)
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

/// Close host `h`'s tmux session over ssh; false (said) when the host cannot be reached.
fn stop_host(home: &Home, config: &crate::config::Config, h: &crate::config::HostConfig) -> bool {
    let ssh = crate::hosts::Ssh::new(home, h);
    if let Err(e) = ssh.ensure_master() {
        eprintln!(
            "host {}: {e}\n  its workers keep running there; `brl down --host {}` when it is reachable",
            h.name, h.name
        );
        return false;
    }
    let tmux = crate::hosts::fleet::host_tmux(h, &ssh);
    let socket = crate::hosts::fleet::tmux_socket(h);
    match tmux.kill_session(&config.tmux.session) {
        Ok(true) => {
            println!(
                "host {}: closed tmux session `{}` (socket {socket}); its workers record their cycles and exit",
                h.name, config.tmux.session
            );
            true
        }
        Ok(false) => {
            println!(
                "host {}: no tmux session of this home on socket {socket}",
                h.name
            );
            true
        }
        Err(e) => {
            eprintln!("host {}: {e}", h.name);
            false
        }
    }
}

fn say(lines: Vec<String>) {
    for l in lines {
        println!("{l}");
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
        .filter(|p| reap::leads_session(*p))
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
        match tmux.session_exists(&s) {
            Ok(true) => {
                println!("tmux session `{s}` kept: it holds panes that are not this home's")
            }
            Ok(false) => println!("tmux session `{s}` closed (no pane left in it)"),
            // Only a report: this home's panes are closed either way.
            Err(e) => println!("tmux session `{s}`: cannot tell whether it is still open ({e})"),
        }
    }
    Ok(leaders)
}

fn pane_gone(e: &crate::tmux::TmuxError) -> bool {
    let m = e.to_string();
    m.contains("can't find pane")
        || m.contains("no current target")
        || m.contains("no server running")
        || m.contains("server exited unexpectedly")
        || m.contains("error connecting")
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
