//! Running a shell command as its own process group, with input on stdin, output streamed to a
//! sink as it arrives, a timeout and a cancel flag. When the command ends — normally, by timeout or
//! by cancel — the whole group is killed, so nothing it started outlives it.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
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

/// Named instants inside [`run_with`] (the chaos harness's crash points for the agent).
#[derive(Clone, Copy)]
pub struct Hooks {
    /// The command's process exists (held at its gate); its group may not be recorded yet.
    pub after_spawn: fn(),
    /// Its group is recorded; the command is not yet released.
    pub after_recorded: fn(),
}

impl Hooks {
    pub const NONE: Hooks = Hooks {
        after_spawn: noop,
        after_recorded: noop,
    };
}

fn noop() {}

/// The shell that holds the command at a gate: it waits for one line on fd 3, which the parent
/// writes only once the process group is recorded. If the parent dies first, the read sees EOF
/// and the command never runs. stdin, stdout and stderr are untouched, so the prompt and the
/// output pipe reach the command as before.
const GATE: &str = r#"read -r _ <&3 || exit 97; exec 3<&-; exec sh -c "$1""#;

/// Run `spec`, passing every chunk of output to `sink` as it arrives.
pub fn run(spec: Spec, sink: &mut dyn FnMut(&[u8])) -> io::Result<Run> {
    run_with(spec, sink, Hooks::NONE)
}

/// [`run`], calling `hooks` at the named instants. The command's process group is recorded in
/// `spec.pgid_file` (fsync'd) BEFORE the command can run: no command runs unseen, even when this
/// process is killed right after the spawn.
pub fn run_with(spec: Spec, sink: &mut dyn FnMut(&[u8]), hooks: Hooks) -> io::Result<Run> {
    let start = Instant::now();
    let (mut reader, writer) = io::pipe()?;
    let (gate_read, gate_write) = io::pipe()?;
    // Kept away from 0-2 and from 3 (where the child wants it); close-on-exec in this process.
    // SAFETY: fcntl duplicates a descriptor we own; the result is checked.
    let gate_fd = unsafe { libc::fcntl(gate_read.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if gate_fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: gate_fd was just returned by fcntl and is owned by nobody else.
    let gate_fd = unsafe { OwnedFd::from_raw_fd(gate_fd) };
    drop(gate_read);
    let raw_gate = gate_fd.as_raw_fd();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(GATE)
        .arg("brl-agent")
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
    // SAFETY: dup2 is async-signal-safe; it runs in the child between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(raw_gate, 3) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    // Our copies of the pipe's write end must go, or the reader never sees EOF.
    drop(cmd);
    drop(gate_fd);
    let pid = child.id() as libc::pid_t;
    (hooks.after_spawn)();
    if let Some(f) = &spec.pgid_file
        && let Err(e) = record_group(f, pid, spec.cwd)
    {
        // Never let the command run unrecorded.
        kill_group(pid, libc::SIGKILL);
        let _ = child.wait();
        return Err(io::Error::new(
            e.kind(),
            format!("cannot record the process group in {}: {e}", f.display()),
        ));
    }
    (hooks.after_recorded)();
    {
        let mut gate_write = gate_write;
        // The command may already be gone (killed from outside): its exit is seen below.
        let _ = gate_write.write_all(b"\n");
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

/// Write `<pgid> <cwd>` to `path` and make it durable (file and directory fsync'd).
fn record_group(path: &Path, pgid: i32, cwd: &Path) -> io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(format!("{pgid} {}\n", cwd.display()).as_bytes())?;
    f.sync_all()?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
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
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    text.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
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

/// Does a live process (of this user) hold `path` open? Read from `/proc/*/fd`.
pub fn held_open(path: &Path) -> bool {
    own_processes().into_iter().any(|pid| {
        std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
            fds.flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == path))
        })
    })
}

/// The signal that stopped this process, as [`signal_slot`] recorded it.
pub fn received_signal() -> Option<i32> {
    match signal_slot().load(Ordering::SeqCst) {
        0 => None,
        n => i32::try_from(n).ok(),
    }
}

/// Where the face's signal handlers record which signal arrived (0: none yet).
pub fn signal_slot() -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    static SLOT: std::sync::OnceLock<std::sync::Arc<std::sync::atomic::AtomicUsize>> =
        std::sync::OnceLock::new();
    SLOT.get_or_init(Default::default).clone()
}

/// Why a cycle stopped on `sig`, in words: "interrupted by SIGHUP (the pane was closed)".
pub fn interrupted_by(sig: i32) -> String {
    match sig {
        libc::SIGHUP => "interrupted by SIGHUP (the pane was closed)".into(),
        libc::SIGTERM => "interrupted by SIGTERM (asked to stop)".into(),
        libc::SIGINT => "interrupted by SIGINT (Ctrl-C)".into(),
        other => format!("interrupted by signal {other}"),
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

/// Does any live (not zombie) process belong to group `pgid`?
fn group_alive(pgid: i32) -> bool {
    std::fs::read_dir("/proc").is_ok_and(|d| {
        d.flatten().any(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
                .and_then(stat)
                .is_some_and(|(st, g)| g == pgid && st != 'Z')
        })
    })
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
    fn the_group_is_recorded_before_the_command_runs() {
        let d = tempfile::tempdir().expect("tempdir");
        let pgid_file = d.path().join("running.pgid");
        let seen = d.path().join("seen");
        let cmd = format!(
            "cat '{}' > '{}'; echo $$ >> '{}'; cat",
            pgid_file.display(),
            seen.display(),
            seen.display()
        );
        let mut s = spec(&cmd, d.path(), Duration::from_secs(10));
        s.pgid_file = Some(pgid_file.clone());
        let r = run(s, &mut |_| {}).expect("run");
        assert_eq!(r.end, End::Exited(0));
        assert_eq!(
            r.output, "from stdin\n",
            "stdin reaches the command through the gate"
        );
        let text = std::fs::read_to_string(&seen).expect("seen");
        let mut lines = text.lines();
        let recorded = lines.next().expect("the recorded group");
        let me = lines.next().expect("the command's pid");
        assert_eq!(
            recorded.split_once(' ').map(|(p, _)| p),
            Some(me),
            "the command ran as the recorded group's leader: {text}"
        );
        assert!(!pgid_file.exists(), "removed once the command ended");
    }

    #[test]
    fn sweeping_a_directory_kills_what_runs_there_but_not_us() {
        let d = tempfile::tempdir().expect("tempdir");
        let mut child = std::process::Command::new("sleep")
            .arg("300")
            .current_dir(d.path())
            .spawn()
            .expect("sleep");
        let pid = child.id() as i32;
        let killed = kill_in_dir(d.path());
        let _ = child.wait();
        assert_eq!(killed, vec![pid]);
        assert!(!is_running(pid));
        assert!(is_running(std::process::id() as i32));
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
