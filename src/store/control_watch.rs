//! Sleeping until a control file changes, for the two sides of `logs/control/`:
//!
//! - a worker waits on its OWN file's inode ([`OwnWatch`]): the kernel wakes it for its own grant
//!   only — never for another session's write, nor for anyone opening or reading a file;
//! - the control room waits on the directory ([`ControlWatch`]), for any session's file, and
//!   ignores lock and temp files.
//!
//! Both also wake on a stop signal (the self-pipe of [`crate::proc::wait::signal_fd`]), so neither
//! needs a timer to notice Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use crate::home::Home;
use crate::proc::wait::signal_fd;
use crate::store::watch::Watch;

use super::control::SessionControl;

/// Without a stop signal to wake on (the library used without `stop_flag`), the stop flag is
/// looked at this often.
const STOP_CHECK: Duration = Duration::from_secs(1);
/// Without a working watch (no inotify, the file missing), a change is looked for this often.
const FALLBACK: Duration = Duration::from_secs(5);

/// A worker's watch on its own control file.
pub struct OwnWatch {
    watch: Option<Watch>,
    path: PathBuf,
    armed: bool,
    /// The signal pipe was found readable: it stays so, so it is not polled again.
    rang: bool,
}

impl OwnWatch {
    pub fn new(sc: &SessionControl) -> OwnWatch {
        OwnWatch {
            watch: Watch::new().ok(),
            path: sc.path().to_path_buf(),
            armed: false,
            rang: false,
        }
    }

    /// Watch the file as it is now (after a replacement, the new inode). Call BEFORE reading it:
    /// any write after this wakes [`Self::wait`]. False when it cannot be watched.
    pub fn arm(&mut self) -> bool {
        self.armed = self
            .watch
            .as_ref()
            .is_some_and(|w| w.file(&self.path).is_ok());
        self.armed
    }

    /// Sleep until the file changes or a stop signal arrives. With no working watch, or no signal
    /// to wake on, a timeout stands in (see [`FALLBACK`], [`STOP_CHECK`]).
    pub fn wait(&mut self) {
        let sig = signal_fd().filter(|_| !self.rang);
        let mut max = if self.armed { None } else { Some(FALLBACK) };
        if sig.is_none() {
            max = Some(max.map_or(STOP_CHECK, |m| m.min(STOP_CHECK)));
        }
        let fds = [sig.unwrap_or(-1)];
        let rang = match &self.watch {
            Some(w) => w.wait(&fds, max).map(|(_, r)| r),
            None => crate::proc::wait::readable(&fds, max),
        };
        self.rang |= rang.is_ok_and(|r| r[0]);
    }
}

/// Wakes its owner when a session's control file is written (created, replaced, removed) —
/// never on mere reads, nor on lock or temp files. Without a working watcher
/// (`watching() == false`) the owner's timeouts are all there is.
pub struct ControlWatch {
    watch: Option<Watch>,
    /// The signal pipe was found readable: it stays so, so it is not polled again.
    rang: std::cell::Cell<bool>,
}

impl ControlWatch {
    pub fn new(home: &Home) -> ControlWatch {
        let dir = home.control_dir();
        let watch = std::fs::create_dir_all(&dir).ok().and_then(|()| {
            let w = Watch::new().ok()?;
            w.dir(&dir).ok()?;
            Some(w)
        });
        ControlWatch {
            watch,
            rang: std::cell::Cell::new(false),
        }
    }

    pub fn watching(&self) -> bool {
        self.watch.is_some()
    }

    /// Until a change (true), a stop signal, or `max` (false). A burst of changes counts once.
    pub fn wait(&self, max: Duration) -> bool {
        let sig = signal_fd().filter(|_| !self.rang.get());
        let max = if sig.is_some() {
            max
        } else {
            max.min(STOP_CHECK)
        };
        let fds = [sig.unwrap_or(-1)];
        let Some(w) = &self.watch else {
            let r = crate::proc::wait::readable(&fds, Some(max));
            self.rang.set(self.rang.get() || r.is_ok_and(|r| r[0]));
            return false;
        };
        match w.wait(&fds, Some(max)) {
            Ok((c, rang)) => {
                self.rang.set(self.rang.get() || rang[0]);
                c.lost
                    || c.names
                        .iter()
                        .any(|n| n.to_str().is_some_and(|n| n.ends_with(".json")))
            }
            Err(_) => false,
        }
    }

    /// Take what is queued without waiting (true when a control file changed).
    pub fn drain(&self) -> bool {
        self.watch.as_ref().is_some_and(|w| {
            w.take().is_ok_and(|c| {
                c.lost
                    || c.names
                        .iter()
                        .any(|n| n.to_str().is_some_and(|n| n.ends_with(".json")))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_waiting_worker_wakes_for_its_own_grant_and_not_for_other_sessions() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        let mine = SessionControl::new(&home, "s1");
        let other = SessionControl::new(&home, "s2");
        mine.set_state(1, crate::store::control::WorkerState::Waiting, None)
            .expect("write s1");
        other
            .set_state(2, crate::store::control::WorkerState::Waiting, None)
            .expect("write s2");
        let mut w = OwnWatch::new(&mine);
        assert!(w.arm(), "the own file can be watched");
        let started = Instant::now();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                // Another session's writes and a reader of ours: none of them is for us.
                for _ in 0..5 {
                    other.set_phase("hack", Some("b")).expect("write s2");
                    let _ = mine.load().expect("read s1");
                    std::thread::sleep(Duration::from_millis(40));
                }
                std::thread::sleep(Duration::from_millis(200));
                mine.grant(None).expect("grant s1");
            });
            w.wait();
        });
        let woke = started.elapsed();
        assert!(
            woke >= Duration::from_millis(350),
            "woken before the grant, at {woke:?}"
        );
        assert!(woke < Duration::from_secs(1), "the grant took {woke:?}");
        assert!(mine.load().expect("read").grant.is_some());
    }
}
