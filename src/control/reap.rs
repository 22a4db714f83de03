//! Killing what runs for a session of this home, when asking did not help: `brl down` past its
//! grace period, and the control room when a worker outlives its pane (the tmux server died)
//! and ignores SIGHUP. Only processes that are provably the home's are touched: the agent group
//! recorded in `running.pgid` while it runs in the session's worktree, the worker holding the
//! session's lock, and the process groups of the terminal session a pane's worker leads.

use std::time::{Duration, Instant};

use crate::home::Home;

/// How long SIGKILLed processes get to disappear (their parents reap them).
const KILL_WAIT: Duration = Duration::from_secs(5);

/// Kill, with SIGKILL, what runs for session `s`: its agent's recorded group, the worker `pid`
/// (its whole group when it leads one, as in a tmux pane) and every group of the terminal
/// session it leads. Says what it killed.
pub fn kill_session_processes(home: &Home, s: &str, worker: Option<u32>) -> Vec<String> {
    let mut said = Vec::new();
    if let Some(pgid) = crate::proc::kill_orphaned_group(&crate::cycle::running_pgid(home, s)) {
        said.push(format!(
            "{s}: killed the agent's process group {pgid} (SIGKILL)"
        ));
    }
    let Some(pid) = worker.map(|p| p as i32) else {
        return said;
    };
    if !crate::proc::is_running(pid) {
        return said;
    }
    if leads_session(pid) {
        // Its pane's terminal session: the worker, its agent and its checks, each group.
        let groups = groups_of_sessions(&[pid]);
        for g in &groups {
            kill_group(*g);
        }
        said.push(format!(
            "{s}: killed the worker (pid {pid}) and the process groups of its pane: {} (SIGKILL)",
            groups
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        wait_gone(&[pid]);
    } else if pgid_of(pid) == Some(pid) && Some(pid) != own_group() {
        kill_group(pid);
        said.push(format!(
            "{s}: killed the worker's process group {pid} (SIGKILL)"
        ));
    } else {
        // SAFETY: kill only sends a signal; a pid that is gone gives ESRCH, ignored.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
        said.push(format!("{s}: killed the worker (pid {pid}, SIGKILL)"));
    }
    said
}

/// `pid` is alive and leads its own terminal session (as a tmux pane's process does).
pub fn leads_session(pid: i32) -> bool {
    crate::proc::is_running(pid) && crate::proc::stat(pid).is_some_and(|st| st.session == pid)
}

/// The process groups with a live (not zombie) member in one of the terminal `sessions`, never
/// brl's own group.
pub fn groups_of_sessions(sessions: &[i32]) -> Vec<i32> {
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
            let st = crate::proc::stat(pid)?;
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
pub fn wait_gone(sessions: &[i32]) {
    let end = Instant::now() + KILL_WAIT;
    while !groups_of_sessions(sessions).is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
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

pub fn kill_group(pgid: i32) {
    // SAFETY: killpg only sends a signal; a group that is gone gives ESRCH, ignored.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}
