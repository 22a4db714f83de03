//! Finding processes through `/proc`: an orphaned process group, whatever still runs in a
//! directory, who holds a file open. Used by recovery, which must leave no process of a dead cycle
//! alive and no lock file a live process still holds removed.

use std::path::Path;
use std::time::{Duration, Instant};

use super::kill_group;

/// Kill the process group recorded in `pgid_file` by a process that died without cleaning up —
/// only if that group still runs in the recorded directory (a reused id is left alone). Returns
/// the group id killed.
pub fn kill_orphaned_group(pgid_file: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(pgid_file).ok()?;
    let _ = std::fs::remove_file(pgid_file);
    let (pgid, dir) = text.trim_end().split_once(' ')?;
    let pgid: i32 = pgid.parse().ok()?;
    let members = std::fs::read_dir("/proc").ok()?.filter_map(|e| {
        let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        (stat(pid)?.pgrp == pgid).then_some(pid)
    });
    let ours = members.into_iter().any(|pid| {
        std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
    });
    if ours {
        kill_group(pgid, libc::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(3);
        while group_alive(pgid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(pgid)
    } else {
        None
    }
}

/// This process and its ancestors: never to be killed by a sweep.
fn self_and_ancestors() -> Vec<i32> {
    let mut out = vec![std::process::id() as i32];
    let mut pid = out[0];
    while let Some(parent) = parent_of(pid) {
        if parent <= 1 || out.contains(&parent) {
            break;
        }
        out.push(parent);
        pid = parent;
    }
    out
}

fn parent_of(pid: i32) -> Option<i32> {
    stat(pid).map(|st| st.ppid)
}

/// The live processes of this user (pids from `/proc`), without this process and its ancestors.
fn own_processes() -> Vec<i32> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let spare = self_and_ancestors();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        (e.metadata().ok()?.uid() == uid && !spare.contains(&pid) && is_running(pid)).then_some(pid)
    })
    .collect()
}

/// Kill (SIGKILL) every process of this user whose working directory is `dir` or inside it —
/// never this process or its ancestors — and wait (a few seconds at most) until they are gone.
/// Returns the pids killed.
pub fn kill_in_dir(dir: &Path) -> Vec<i32> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut killed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let inside: Vec<i32> = own_processes()
            .into_iter()
            .filter(|pid| {
                std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|c| c.starts_with(&dir))
            })
            .collect();
        if inside.is_empty() || Instant::now() > deadline {
            break;
        }
        for pid in inside {
            // SAFETY: kill only sends a signal; a process that is gone gives ESRCH, ignored.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            if !killed.contains(&pid) {
                killed.push(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    killed
}

/// Does any live process (of any user, as far as `/proc` shows them) hold `path` open? Read
/// from `/proc/*/fd`, comparing canonical paths. Used before removing a lock file a dead
/// process left: a lock someone still holds is never removed.
pub fn held_open(path: &Path) -> bool {
    let want = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs
        .flatten()
        .filter(|p| {
            p.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<i32>().is_ok())
        })
        .any(|p| {
            std::fs::read_dir(p.path().join("fd")).is_ok_and(|fds| {
                fds.flatten()
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == want))
            })
        })
}

/// What `/proc/<pid>/stat` says of a process (the one reader of that file in brl).
pub struct Stat {
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    /// The terminal session it belongs to (a tmux pane's process leads its own).
    pub session: i32,
}

/// A process's [`Stat`]; `None` when it is gone.
pub fn stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command's closing parenthesis: state ppid pgrp session …
    let mut f = text.rsplit(')').next()?.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgrp = f.next()?.parse().ok()?;
    let session = f.next()?.parse().ok()?;
    Some(Stat {
        state,
        ppid,
        pgrp,
        session,
    })
}

/// Does any live (not zombie) process belong to group `pgid`?
fn group_alive(pgid: i32) -> bool {
    std::fs::read_dir("/proc").is_ok_and(|d| {
        d.flatten().any(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
                .and_then(stat)
                .is_some_and(|st| st.pgrp == pgid && st.state != 'Z')
        })
    })
}

/// Is `pid` running? A zombie waiting for its reaper counts as gone.
pub fn is_running(pid: i32) -> bool {
    stat(pid).is_some_and(|st| st.state != 'Z')
}
