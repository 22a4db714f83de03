//! Running a shell command as its own process group, with input on stdin, output streamed to a
//! sink as it arrives, a timeout and a cancel flag. When the command ends — normally, by timeout or
//! by cancel — the whole group is killed, so nothing it started outlives it.

use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Output kept for parsing is bounded; past this, the oldest part is dropped.
const MAX_CAPTURE: usize = 64 * 1024 * 1024;
/// Between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

pub struct Spec<'a> {
    /// Run as `sh -c <command>`.
    pub command: &'a str,
    pub cwd: &'a Path,
    pub env: Vec<(String, String)>,
    /// Written to stdin, which is then closed. `None`: stdin is /dev/null.
    pub stdin: Option<Vec<u8>>,
    pub timeout: Duration,
    /// Set by a signal handler: stop the command and return [`End::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
    /// While the command runs, its process group id is written here, so that if this process is
    /// killed outright the next one can kill the orphaned group ([`kill_orphaned_group`]).
    pub pgid_file: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Exited(i32),
    Signaled(i32),
    TimedOut,
    Cancelled,
}

#[derive(Debug)]
pub struct Run {
    pub end: End,
    /// stdout and stderr merged, as arrived (bounded; lossy UTF-8).
    pub output: String,
    pub duration: Duration,
}

/// Run `spec`, passing every chunk of output to `sink` as it arrives.
pub fn run(spec: Spec, sink: &mut dyn FnMut(&[u8])) -> io::Result<Run> {
    let start = Instant::now();
    let (mut reader, writer) = io::pipe()?;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(spec.command)
        .current_dir(spec.cwd)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .process_group(0)
        .stdout(writer.try_clone()?)
        .stderr(writer)
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn()?;
    // Our copies of the pipe's write end must go, or the reader never sees EOF.
    drop(cmd);
    let pid = child.id() as libc::pid_t;
    if let Some(f) = &spec.pgid_file {
        let _ = std::fs::write(f, format!("{pid} {}\n", spec.cwd.display()));
    }

    if let (Some(input), Some(mut stdin)) = (spec.stdin, child.stdin.take()) {
        std::thread::spawn(move || {
            // The command may not read its input; a broken pipe is not an error here.
            let _ = stdin.write_all(&input);
        });
    }
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader_thread = std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let mut captured: Vec<u8> = Vec::new();
    let mut take = |chunk: Vec<u8>, captured: &mut Vec<u8>| {
        sink(&chunk);
        captured.extend_from_slice(&chunk);
        if captured.len() > MAX_CAPTURE {
            let cut = captured.len() - MAX_CAPTURE / 2;
            captured.drain(..cut);
        }
    };
    let deadline = start + spec.timeout;
    let end = loop {
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(50)) {
            take(chunk, &mut captured);
        }
        if exited_without_reaping(pid) {
            kill_group(pid, libc::SIGKILL);
            let status = child.wait()?;
            break status_end(status);
        }
        let cancelled = spec.cancel.is_some_and(|c| c.load(Ordering::SeqCst));
        if cancelled || Instant::now() >= deadline {
            terminate_group(pid, &mut child)?;
            break if cancelled {
                End::Cancelled
            } else {
                End::TimedOut
            };
        }
    };
    // The group is dead: the pipe drains to EOF. Bound the wait in case something escaped the group.
    let drain_deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(chunk) => take(chunk, &mut captured),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() > drain_deadline => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    if reader_thread.is_finished() {
        let _ = reader_thread.join();
    }
    if let Some(f) = &spec.pgid_file {
        let _ = std::fs::remove_file(f);
    }
    Ok(Run {
        end,
        output: String::from_utf8_lossy(&captured).into_owned(),
        duration: start.elapsed(),
    })
}

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
        (stat(pid)?.1 == pgid).then_some(pid)
    });
    let ours = members.into_iter().any(|pid| {
        std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
    });
    if ours {
        kill_group(pgid, libc::SIGKILL);
        Some(pgid)
    } else {
        None
    }
}

/// A process's state letter and process group, from `/proc/<pid>/stat`; `None` when it is gone.
fn stat(pid: i32) -> Option<(char, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command's closing parenthesis: state ppid pgrp …
    let mut fields = text.rsplit(')').next()?.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let pgrp = fields.nth(1)?.parse().ok()?;
    Some((state, pgrp))
}

/// Is `pid` running? A zombie waiting for its reaper counts as gone.
pub fn is_running(pid: i32) -> bool {
    stat(pid).is_some_and(|(state, _)| state != 'Z')
}

/// TERM the group, wait up to [`GRACE`], then KILL it, and reap the leader.
fn terminate_group(pid: libc::pid_t, child: &mut std::process::Child) -> io::Result<()> {
    kill_group(pid, libc::SIGTERM);
    let grace_end = Instant::now() + GRACE;
    while Instant::now() < grace_end {
        if exited_without_reaping(pid) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    kill_group(pid, libc::SIGKILL);
    child.wait()?;
    Ok(())
}

fn kill_group(pgid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: killpg only sends a signal; a group that no longer exists gives ESRCH, ignored.
    unsafe {
        libc::killpg(pgid, sig);
    }
}

/// Has the leader exited? Checked with WNOWAIT so it stays a zombie: its pid, and so the process
/// group id, cannot be reused before we kill the rest of the group.
fn exited_without_reaping(pid: libc::pid_t) -> bool {
    // SAFETY: siginfo_t is plain data; waitid fills it or leaves it zeroed.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        r == 0 && info.si_pid() != 0
    }
}

fn status_end(status: std::process::ExitStatus) -> End {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => End::Exited(code),
        (None, Some(sig)) => End::Signaled(sig),
        (None, None) => End::Exited(-1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(command: &'a str, cwd: &'a Path, timeout: Duration) -> Spec<'a> {
        Spec {
            command,
            cwd,
            env: vec![("BRL_TEST_VAR".into(), "hello".into())],
            stdin: Some(b"from stdin\n".to_vec()),
            timeout,
            cancel: None,
            pgid_file: None,
        }
    }

    #[test]
    fn captures_output_stdin_env_and_exit_code() {
        let d = tempfile::tempdir().expect("tempdir");
        let mut seen = Vec::new();
        let r = run(
            spec(
                "cat; echo $BRL_TEST_VAR; echo err >&2; exit 3",
                d.path(),
                Duration::from_secs(10),
            ),
            &mut |c| seen.extend_from_slice(c),
        )
        .expect("run");
        assert_eq!(r.end, End::Exited(3));
        assert_eq!(r.output, "from stdin\nhello\nerr\n");
        assert_eq!(seen, r.output.as_bytes());
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let d = tempfile::tempdir().expect("tempdir");
        let pidfile = d.path().join("bg.pid");
        let cmd = format!("sleep 300 & echo $! > {}; sleep 300", pidfile.display());
        let r = run(
            spec(&cmd, d.path(), Duration::from_millis(500)),
            &mut |_| {},
        )
        .expect("run");
        assert_eq!(r.end, End::TimedOut);
        assert!(r.duration < Duration::from_secs(10));
        let bg: i32 = std::fs::read_to_string(&pidfile)
            .expect("pid")
            .trim()
            .parse()
            .expect("num");
        assert!(
            !is_running(bg),
            "background child {bg} outlived the timeout"
        );
    }

    #[test]
    fn stragglers_die_when_the_leader_exits() {
        let d = tempfile::tempdir().expect("tempdir");
        let pidfile = d.path().join("bg.pid");
        let cmd = format!("sleep 300 & echo $! > {}; exit 0", pidfile.display());
        let r = run(spec(&cmd, d.path(), Duration::from_secs(10)), &mut |_| {}).expect("run");
        assert_eq!(r.end, End::Exited(0));
        let bg: i32 = std::fs::read_to_string(&pidfile)
            .expect("pid")
            .trim()
            .parse()
            .expect("num");
        std::thread::sleep(Duration::from_millis(100));
        assert!(!is_running(bg), "straggler {bg} survived");
    }

    #[test]
    fn cancel_stops_it() {
        let d = tempfile::tempdir().expect("tempdir");
        let flag = AtomicBool::new(true);
        let mut s = spec("sleep 300", d.path(), Duration::from_secs(100));
        s.cancel = Some(&flag);
        let r = run(s, &mut |_| {}).expect("run");
        assert_eq!(r.end, End::Cancelled);
    }
}
