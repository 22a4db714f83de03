//! Running a shell command as its own process group, with input on stdin, output streamed to a
//! sink as it arrives, a timeout and a cancel flag. When the command ends — normally, by timeout or
//! by cancel — the whole group is killed, so nothing it started outlives it.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod sweep;
pub mod wait;

pub use sweep::{Stat, held_open, is_running, kill_in_dir, kill_orphaned_group, stat};

/// Output kept for parsing is bounded; past this, the oldest part is dropped.
const MAX_CAPTURE: usize = 64 * 1024 * 1024;
/// Between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(3);
/// How often a running command's cancel flag is looked at when nothing can ring the wake pipe
/// (no stop signal registered in this process, no [`wait::ring`] called yet).
const CANCEL_CHECK: Duration = Duration::from_secs(1);

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
    /// [`run`], [`run_with`]: stdout and stderr merged, as arrived. [`run_split`]: stdout alone.
    /// Bounded; lossy UTF-8.
    pub output: String,
    /// [`run_split`]: stderr alone (bounded; lossy UTF-8). Empty when the streams were merged.
    pub stderr: String,
    pub duration: Duration,
}

/// Which of the command's output streams a chunk came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
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
    run_streams(spec, false, &mut |_, chunk| sink(chunk), hooks)
}

/// [`run_with`] with stdout and stderr kept apart: `sink` gets each chunk with its stream, the
/// run's `output` is stdout alone and its `stderr` the rest. For callers that read an answer
/// from stdout while the command talks (or echoes its input) on stderr — the jobs' agents.
pub fn run_split(spec: Spec, sink: &mut dyn FnMut(Stream, &[u8]), hooks: Hooks) -> io::Result<Run> {
    run_streams(spec, true, sink, hooks)
}

/// The one body of [`run_with`] and [`run_split`]: with `split` false both streams share one
/// pipe (so their order as arrived is kept) and every chunk is tagged [`Stream::Stdout`].
fn run_streams(
    spec: Spec,
    split: bool,
    sink: &mut dyn FnMut(Stream, &[u8]),
    hooks: Hooks,
) -> io::Result<Run> {
    let start = Instant::now();
    let (reader, writer) = io::pipe()?;
    let (err_reader, err_writer) = if split {
        let (r, w) = io::pipe()?;
        (Some(r), w)
    } else {
        (None, writer.try_clone()?)
    };
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
        .stdout(writer)
        .stderr(err_writer)
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
    // Until the group is known dead, any way out of here (an error, a panic) kills it.
    let mut group = KillOnDrop(Some(pid));
    (hooks.after_spawn)();
    if let Some(f) = &spec.pgid_file
        && let Err(e) = record_group(f, pid, spec.cwd)
    {
        // Never let the command run unrecorded.
        kill_group(pid, libc::SIGKILL);
        // Reaped: its id may be reused, so the guard must not signal it again.
        group.0 = None;
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
    let mut pipes = vec![(Stream::Stdout, reader)];
    if let Some(r) = err_reader {
        pipes.push((Stream::Stderr, r));
    }
    let mut captured: Vec<u8> = Vec::new();
    let mut captured_err: Vec<u8> = Vec::new();
    let mut take = |stream: Stream, chunk: &[u8]| {
        sink(stream, chunk);
        let into = match stream {
            Stream::Stdout => &mut captured,
            Stream::Stderr => &mut captured_err,
        };
        into.extend_from_slice(chunk);
        if into.len() > MAX_CAPTURE {
            let cut = into.len() - MAX_CAPTURE / 2;
            into.drain(..cut);
        }
    };
    // Asleep in poll(2) until output arrives, the command exits (its pidfd), a stop signal or a
    // code that set a cancel flag rings the wake pipe (`wait::ring`), or the deadline. Where
    // there is no wake pipe (or it rang for someone else), the cancel flag is looked at every
    // CANCEL_CHECK.
    let exit_fd = wait::pidfd(pid);
    let mut signal_fd = wait::signal_fd();
    let mut bell_fd = wait::bell_fd();
    let deadline = start + spec.timeout;
    let mut buf = vec![0u8; 64 * 1024];
    let end = loop {
        if exited_without_reaping(pid) {
            kill_group(pid, libc::SIGKILL);
            let status = child.wait()?;
            break status_end(status);
        }
        let cancelled = spec.cancel.is_some_and(|c| c.load(Ordering::SeqCst));
        let now = Instant::now();
        if cancelled || now >= deadline {
            terminate_group(pid, &mut child, exit_fd.as_ref())?;
            break if cancelled {
                End::Cancelled
            } else {
                End::TimedOut
            };
        }
        let mut rest = deadline - now;
        if spec.cancel.is_some() && signal_fd.is_none() && bell_fd.is_none() {
            // Nothing rings when the flag is set: look at it now and then.
            rest = rest.min(CANCEL_CHECK);
        }
        if exit_fd.is_none() {
            // No pidfd on this kernel: the exit is only seen by looking.
            rest = rest.min(Duration::from_millis(50));
        }
        let mut fds: Vec<RawFd> = pipes.iter().map(|(_, p)| p.as_raw_fd()).collect();
        fds.push(exit_fd.as_ref().map_or(-1, |f| f.as_raw_fd()));
        fds.push(signal_fd.unwrap_or(-1));
        fds.push(bell_fd.unwrap_or(-1));
        let ready = wait::readable(&fds, Some(rest))?;
        if !spec.cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
            // Rung for someone else (a signal this run's flag does not follow, another run's
            // cancel): the pipes stay readable, so stop polling them, or every later poll would
            // return at once — the flag is then looked at every CANCEL_CHECK.
            if ready[fds.len() - 2] {
                signal_fd = None;
            }
            if ready[fds.len() - 1] {
                bell_fd = None;
            }
        }
        read_ready(&mut pipes, &ready, &mut buf, &mut take);
    };
    group.0 = None;
    // The group is dead: the pipes drain to EOF. Bound the wait in case something escaped the
    // group and holds them open.
    let drain_deadline = Instant::now() + Duration::from_secs(2);
    while !pipes.is_empty() {
        let now = Instant::now();
        if now >= drain_deadline {
            break;
        }
        let fds: Vec<RawFd> = pipes.iter().map(|(_, p)| p.as_raw_fd()).collect();
        let ready = wait::readable(&fds, Some(drain_deadline - now))?;
        read_ready(&mut pipes, &ready, &mut buf, &mut take);
    }
    if let Some(f) = &spec.pgid_file {
        let _ = std::fs::remove_file(f);
    }
    Ok(Run {
        end,
        output: String::from_utf8_lossy(&captured).into_owned(),
        stderr: String::from_utf8_lossy(&captured_err).into_owned(),
        duration: start.elapsed(),
    })
}

/// One read from each pipe `ready` marks (by position), each chunk passed to `take`; a pipe at
/// EOF (or broken) is removed.
fn read_ready(
    pipes: &mut Vec<(Stream, io::PipeReader)>,
    ready: &[bool],
    buf: &mut [u8],
    take: &mut dyn FnMut(Stream, &[u8]),
) {
    let mut i = 0;
    pipes.retain_mut(|(stream, pipe)| {
        let is_ready = ready.get(i).copied().unwrap_or(false);
        i += 1;
        if !is_ready {
            return true;
        }
        match pipe.read(buf) {
            Ok(0) => false,
            Ok(n) => {
                take(*stream, &buf[..n]);
                true
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
            Err(_) => false,
        }
    });
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

/// Kills its process group when dropped, unless disarmed (`None`).
struct KillOnDrop(Option<libc::pid_t>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            kill_group(pgid, libc::SIGKILL);
        }
    }
}

/// TERM the group, wait up to [`GRACE`] for the leader to exit (on its pidfd when there is one),
/// then KILL the group, and reap the leader.
fn terminate_group(
    pid: libc::pid_t,
    child: &mut std::process::Child,
    exit_fd: Option<&OwnedFd>,
) -> io::Result<()> {
    kill_group(pid, libc::SIGTERM);
    let grace_end = Instant::now() + GRACE;
    loop {
        let now = Instant::now();
        if now >= grace_end || exited_without_reaping(pid) {
            break;
        }
        match exit_fd {
            Some(fd) => {
                wait::readable(&[fd.as_raw_fd()], Some(grace_end - now))?;
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
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
        libc::SIGUSR1 => "stopped by the operator (`brl stop`)".into(),
        other => format!("interrupted by signal {other}"),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
