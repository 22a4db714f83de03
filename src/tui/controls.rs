//! The sessions' control files and life locks as the dashboard last read them. A reload reads
//! again only the sessions whose file changed (its stamp: inode, size, mtime — a `stat`, which
//! wakes no watcher) or whose worker process is gone (`kill(pid, 0)`; its lock is then probed),
//! so a reload costs next to nothing for sessions where nothing happened.

use std::collections::BTreeMap;

use crate::home::Home;
use crate::store::control::{Control, SessionControl, Stamp};

struct Cached {
    stamp: Option<Stamp>,
    alive: bool,
    control: Result<Control, String>,
}

#[derive(Default)]
pub struct ControlCache(BTreeMap<String, Cached>);

impl ControlCache {
    /// Whether the session's worker lives, and its control file (an error names the file).
    pub fn get(&mut self, home: &Home, session: &str) -> (bool, Result<Control, String>) {
        let sc = SessionControl::new(home, session);
        let stamp = sc.stamp();
        if let Some(c) = self.0.get(session)
            && stamp.is_some()
            && c.stamp == stamp
            && still(c)
        {
            return (c.alive, c.control.clone());
        }
        let alive = sc.worker_alive().unwrap_or(false);
        let control = sc.load().map_err(|e| e.to_string());
        self.0.insert(
            session.to_string(),
            Cached {
                stamp,
                alive,
                control: control.clone(),
            },
        );
        (alive, control)
    }

    /// The sessions as [`crate::why`] needs them, from what the last [`Self::get`] read (no IO).
    pub fn facts(&self, rows: &[crate::tui::data::SessionRow]) -> Vec<crate::why::SessionFact> {
        rows.iter()
            .filter_map(|r| {
                let c = self.0.get(&r.name)?;
                let control = c.control.as_ref().ok()?;
                Some(crate::why::SessionFact::of(&r.name, control, c.alive))
            })
            .collect()
    }
}

/// Is what was read still true of the worker's life? A dead worker stays dead until a new one
/// starts — and a new worker writes its control file first (a new stamp). A live one is asked
/// by its pid, without opening its lock.
fn still(c: &Cached) -> bool {
    if !c.alive {
        return true;
    }
    match c.control.as_ref().ok().and_then(|c| c.pid) {
        Some(pid) => {
            // SAFETY: signal 0 sends nothing; it only asks whether the process exists.
            let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
            r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::atomic::LockGuard;
    use crate::store::control::{WorkerState, worker_lock_path};

    #[test]
    fn a_worker_that_dies_is_seen_without_its_file_changing() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        std::fs::create_dir_all(home.locks_dir()).expect("mkdir");
        let mut worker = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let lock = LockGuard::try_exclusive(&worker_lock_path(&home, "s1"))
            .expect("lock")
            .expect("free");
        SessionControl::new(&home, "s1")
            .set_state(worker.id(), WorkerState::Waiting, None)
            .expect("write");
        let mut cache = ControlCache::default();
        let (alive, c) = cache.get(&home, "s1");
        assert!(alive);
        assert_eq!(c.expect("read").state, WorkerState::Waiting);
        // Unchanged file, live process: the cached answer.
        assert!(cache.get(&home, "s1").0);
        // The worker dies (its lock goes with it); the file is not touched.
        drop(lock);
        worker.kill().expect("kill");
        worker.wait().expect("reap");
        let (alive, c) = cache.get(&home, "s1");
        assert!(
            !alive,
            "a dead worker must not be shown alive from the cache"
        );
        assert!(c.is_ok());
    }
}
