//! Waiting without polling: a process's exit seen through a pidfd, pipes through `poll(2)`, and a
//! self-pipe the stop signals make readable, so that a thread waiting for any of them sleeps in the
//! kernel until one happens — no timer ticks while an agent works or a worker waits.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A pidfd for `pid` (Linux ≥ 5.3): readable once the process has exited — without reaping it, so
/// `waitid(WNOWAIT)` still finds it a zombie. `None` where the kernel has none: callers then wake
/// on a short timer, as before.
pub fn pidfd(pid: libc::pid_t) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    let fd = RawFd::try_from(fd).ok()?;
    // SAFETY: the kernel just returned this descriptor; nobody else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The read end of the stop signals' self-pipe: it becomes readable when one of the signals given
/// to [`wake_on_signal`] arrives, and stays readable (it is never drained) — a sleeper polling it
/// wakes at once and checks its stop flag. `None` until a signal was registered.
pub fn signal_fd() -> Option<RawFd> {
    WAKE.get().map(|(r, _)| r.as_raw_fd())
}

static WAKE: OnceLock<(OwnedFd, OwnedFd)> = OnceLock::new();

/// A self-pipe, created on first use.
fn wake_pipe(
    cell: &'static OnceLock<(OwnedFd, OwnedFd)>,
) -> io::Result<&'static (OwnedFd, OwnedFd)> {
    if let Some(p) = cell.get() {
        return Ok(p);
    }
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors or returns -1.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both were just created by pipe2 and belong to nobody else.
    let pair = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // Another thread may have set it first: then ours is dropped (closed) here.
    let _ = cell.set(pair);
    cell.get()
        .ok_or_else(|| io::Error::other("the wake pipe vanished"))
}

/// Make `sig` write a byte into the self-pipe of [`signal_fd`] (besides whatever else handles it).
pub fn wake_on_signal(sig: libc::c_int) -> io::Result<()> {
    let (_, w) = wake_pipe(&WAKE)?;
    // The bell too, now: a command run started before the first ring must already sleep on it.
    wake_pipe(&BELL)?;
    signal_hook::low_level::pipe::register_raw(sig, w.as_raw_fd())?;
    Ok(())
}

/// The read end of the cancel bell: readable (for good) once [`ring`] was called. `None` before.
/// Only [`super::run`]'s commands sleep on it; with it (or a signal pipe) to wake them, they need
/// no timer to notice a cancel flag.
pub fn bell_fd() -> Option<RawFd> {
    BELL.get().map(|(r, _)| r.as_raw_fd())
}

static BELL: OnceLock<(OwnedFd, OwnedFd)> = OnceLock::new();

/// Wake every command run of this process ([`super::run`]): call it right after setting a cancel
/// flag from code (a stop signal rings the signal pipe by itself). Runs whose own flag is not set
/// then go back to looking at their flag every second, as the bell stays readable.
pub fn ring() {
    if let Ok((_, w)) = wake_pipe(&BELL) {
        // SAFETY: writes one byte from a local buffer; a full pipe (EAGAIN) has rung already.
        unsafe {
            libc::write(w.as_raw_fd(), [1u8].as_ptr().cast(), 1);
        }
    }
}

/// Make `sig` ring the cancel bell (see [`ring`]) from its handler: for a signal that cancels
/// the commands in flight but not the process (the worker's SIGUSR1, `brl stop`).
pub fn ring_on_signal(sig: libc::c_int) -> io::Result<()> {
    let (_, w) = wake_pipe(&BELL)?;
    signal_hook::low_level::pipe::register_raw(sig, w.as_raw_fd())?;
    Ok(())
}

/// Silence the bell once the cancel it carried was served (drain its pipe), so later command
/// runs sleep on it again instead of looking at their flag every second.
pub fn hush() {
    let Some(fd) = bell_fd() else { return };
    let mut buf = [0u8; 64];
    // SAFETY: reads into a local buffer from our own non-blocking pipe until it is empty.
    while unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}

/// `poll(2)` for readability of `fds` (negative entries are skipped), at most `max` (`None`:
/// forever). Returns which are readable or hung up; all false on a timeout or a signal (EINTR).
pub fn readable(fds: &[RawFd], max: Option<Duration>) -> io::Result<Vec<bool>> {
    let mut set: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = max.map_or(-1, |d| {
        // Round up: a 0.4 ms rest must not become a busy 0 ms poll.
        let ms = d.as_micros().div_ceil(1000);
        libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
    });
    // SAFETY: `set` is a valid array of pollfd of the given length for the duration of the call.
    let r = unsafe { libc::poll(set.as_mut_ptr(), set.len() as libc::nfds_t, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![false; fds.len()]);
        }
        return Err(e);
    }
    Ok(set
        .iter()
        .map(|p| p.fd >= 0 && p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0)
        .collect())
}

/// Sleep `d`, or less when `stop` is set: a stop signal (the self-pipe) wakes the sleep at once;
/// without one to wake on, the flag is looked at every 100 ms.
pub fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let end = Instant::now() + d;
    let mut sig = signal_fd();
    loop {
        let now = Instant::now();
        if now >= end || stop.load(Ordering::SeqCst) {
            return;
        }
        match sig {
            Some(fd) => {
                let rang = readable(&[fd], Some(end - now)).map_or(true, |r| r[0]);
                if rang && !stop.load(Ordering::SeqCst) {
                    // A signal this flag does not follow (or a poll error): the pipe stays
                    // readable, so look at the flag on a timer from now on rather than spin.
                    sig = None;
                }
            }
            None => std::thread::sleep((end - now).min(Duration::from_millis(100))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pidfd_is_readable_when_its_process_exits_and_not_before() {
        let mut child = std::process::Command::new("sleep")
            .arg("0.3")
            .spawn()
            .expect("spawn sleep");
        let fd = pidfd(child.id() as libc::pid_t).expect("pidfd_open works on this kernel");
        let started = Instant::now();
        let first = readable(&[fd.as_raw_fd()], Some(Duration::from_millis(50))).expect("poll");
        assert_eq!(first, vec![false], "still running");
        let second = readable(&[fd.as_raw_fd()], Some(Duration::from_secs(5))).expect("poll");
        assert_eq!(second, vec![true], "exited");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
            "woke at the exit, not on a timer: {waited:?}"
        );
        child.wait().expect("reap");
    }

    #[test]
    fn negative_descriptors_are_skipped_and_a_timeout_says_nothing_is_ready() {
        let (r, _w) = std::io::pipe().expect("pipe");
        let got = readable(&[-1, r.as_raw_fd()], Some(Duration::from_millis(10))).expect("poll");
        assert_eq!(got, vec![false, false]);
    }
}
