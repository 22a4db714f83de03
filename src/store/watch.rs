//! Watching files with inotify directly, with a mask of our choosing: writes, replacements and
//! removals wake the watcher; opens, reads and closes without writing do not. (The `notify`
//! crate's inotify watcher always asks for `IN_OPEN`, so a reader opening one control file woke
//! every watcher of the directory — one per worker: N² wake-ups.)
//!
//! Two kinds of watch: a file's own inode ([`Watch::file`], re-armed after each replacement,
//! since an atomic write renames a new inode over the old one — the kernel then tells only this
//! file's watchers), and a directory ([`Watch::dir`]), whose events carry the entry's name so a
//! watcher can ignore the ones it does not care about (lock files). The waiting thread sleeps in
//! `poll(2)`: no helper thread, no timer.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// A file's content or identity changed: written, replaced by a rename, removed, moved.
const FILE_MASK: u32 = libc::IN_MODIFY
    | libc::IN_CLOSE_WRITE
    | libc::IN_ATTRIB
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF;
/// An entry of the directory was written, created, replaced or removed.
const DIR_MASK: u32 = libc::IN_CLOSE_WRITE
    | libc::IN_MOVED_TO
    | libc::IN_MOVED_FROM
    | libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF;

/// What one wake-up brought.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// A watched file changed (or was replaced, or removed): re-arm with [`Watch::file`].
    pub file: bool,
    /// Names of the watched directories' entries that changed.
    pub names: BTreeSet<OsString>,
    /// The same entries as paths (the watched directory joined with the name).
    pub paths: BTreeSet<PathBuf>,
    /// A watched directory itself went away (or the queue overflowed): re-read everything.
    pub lost: bool,
}

impl Changes {
    pub fn any(&self) -> bool {
        self.file || self.lost || !self.names.is_empty()
    }
}

/// One inotify instance. Shareable: one thread may sleep in [`Watch::wait`] while another adds
/// or removes directories.
pub struct Watch {
    fd: OwnedFd,
    dirs: Mutex<BTreeMap<libc::c_int, PathBuf>>,
}

impl Watch {
    pub fn new() -> io::Result<Watch> {
        // SAFETY: inotify_init1 takes flags and returns a new descriptor or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this descriptor; nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Watch {
            fd,
            dirs: Mutex::new(BTreeMap::new()),
        })
    }

    /// Watch the inode now at `path` (again: after it was replaced, the new one). Changes to it
    /// come as [`Changes::file`]. A missing file is a `NotFound` error.
    pub fn file(&self, path: &Path) -> io::Result<()> {
        self.add(path, FILE_MASK).map(|_| ())
    }

    /// Watch the directory `path`; changed entries come by name in [`Changes::names`].
    pub fn dir(&self, path: &Path) -> io::Result<()> {
        let wd = self.add(path, DIR_MASK | libc::IN_ONLYDIR)?;
        self.dirs_map().insert(wd, path.to_path_buf());
        Ok(())
    }

    /// [`Self::dir`], also woken by every write to an entry that stays open (an append to a
    /// log held open by its writer), not only by its close.
    pub fn dir_and_writes(&self, path: &Path) -> io::Result<()> {
        let wd = self.add(path, DIR_MASK | libc::IN_MODIFY | libc::IN_ONLYDIR)?;
        self.dirs_map().insert(wd, path.to_path_buf());
        Ok(())
    }

    /// Stop watching the directory `path` (if it was).
    pub fn unwatch_dir(&self, path: &Path) {
        let mut dirs = self.dirs_map();
        let wds: Vec<libc::c_int> = dirs
            .iter()
            .filter(|(_, p)| p.as_path() == path)
            .map(|(wd, _)| *wd)
            .collect();
        for wd in wds {
            dirs.remove(&wd);
            // SAFETY: removing a watch descriptor of our own inotify instance.
            unsafe {
                libc::inotify_rm_watch(self.fd.as_raw_fd(), wd);
            }
        }
    }

    fn dirs_map(&self) -> std::sync::MutexGuard<'_, BTreeMap<libc::c_int, PathBuf>> {
        self.dirs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, path: &Path, mask: u32) -> io::Result<libc::c_int> {
        let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: a path with a NUL byte", path.display()),
            )
        })?;
        // SAFETY: a valid descriptor and a NUL-terminated path.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), mask) };
        if wd < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("cannot watch {}: {e}", path.display()),
            ));
        }
        Ok(wd)
    }

    /// The descriptor to poll, for callers that wait on more than this watch.
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Sleep until a change, one of `also` is readable, or `max` (`None`: no limit); then take
    /// every queued event. Returns the changes and which of `also` were readable.
    pub fn wait(&self, also: &[RawFd], max: Option<Duration>) -> io::Result<(Changes, Vec<bool>)> {
        let mut fds = vec![self.fd.as_raw_fd()];
        fds.extend_from_slice(also);
        let ready = crate::proc::wait::readable(&fds, max)?;
        let changes = if ready[0] {
            self.take()?
        } else {
            Changes::default()
        };
        Ok((changes, ready[1..].to_vec()))
    }

    /// Every queued event, without waiting.
    pub fn take(&self) -> io::Result<Changes> {
        let mut out = Changes::default();
        let mut buf = [0u8; 16 * 1024];
        loop {
            // SAFETY: reading into a buffer we own, of its length.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast::<libc::c_void>(),
                    buf.len(),
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => return Ok(out),
                    io::ErrorKind::Interrupted => continue,
                    _ => return Err(e),
                }
            }
            let n = n as usize;
            if n == 0 {
                return Ok(out);
            }
            self.parse(&buf[..n], &mut out);
        }
    }

    fn parse(&self, mut bytes: &[u8], out: &mut Changes) {
        const HEAD: usize = std::mem::size_of::<libc::inotify_event>();
        let dirs = self.dirs_map();
        while bytes.len() >= HEAD {
            // SAFETY: the kernel writes whole events; read_unaligned copes with the buffer's
            // alignment.
            let ev: libc::inotify_event =
                unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<libc::inotify_event>()) };
            let len = ev.len as usize;
            let name_bytes = bytes.get(HEAD..HEAD + len).unwrap_or(&[]);
            bytes = bytes.get(HEAD + len..).unwrap_or(&[]);
            if ev.mask & libc::IN_Q_OVERFLOW != 0 {
                out.lost = true;
                continue;
            }
            if let Some(dir) = dirs.get(&ev.wd) {
                if ev.mask & (libc::IN_DELETE_SELF | libc::IN_MOVE_SELF | libc::IN_IGNORED) != 0 {
                    out.lost = true;
                }
                let end = name_bytes
                    .iter()
                    .position(|&b| b == 0)
                    .unwrap_or(name_bytes.len());
                if end > 0 {
                    let name = OsString::from_vec(name_bytes[..end].to_vec());
                    out.paths.insert(dir.join(&name));
                    out.names.insert(name);
                }
            } else {
                // Anything on a file's watch is a change (IN_IGNORED: its inode is gone).
                out.file = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn replace(path: &Path, text: &str) {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, path).expect("rename");
    }

    #[test]
    fn a_file_watch_wakes_on_a_replacement_and_not_on_reads_or_other_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mine = dir.path().join("s1.json");
        let other = dir.path().join("s2.json");
        std::fs::write(&mine, "{}").expect("write");
        std::fs::write(&other, "{}").expect("write");
        let w = Watch::new().expect("inotify");
        w.file(&mine).expect("watch");
        // Readers open and read it; another file is replaced: nothing for us.
        let _ = std::fs::read_to_string(&mine).expect("read");
        replace(&other, "{\"x\":1}");
        let (c, _) = w.wait(&[], Some(Duration::from_millis(100))).expect("wait");
        assert!(!c.any(), "woken by a read or another file: {c:?}");
        // Replaced by an atomic write: woken at once.
        let started = Instant::now();
        let t = std::thread::spawn({
            let mine = mine.clone();
            move || {
                std::thread::sleep(Duration::from_millis(100));
                replace(&mine, "{\"grant\":1}");
            }
        });
        let (c, _) = w.wait(&[], Some(Duration::from_secs(5))).expect("wait");
        t.join().expect("writer");
        assert!(c.file, "the replacement was seen");
        assert!(started.elapsed() < Duration::from_secs(2));
        // Re-armed on the new inode: the next replacement is seen too.
        w.file(&mine).expect("re-arm");
        let _ = w.take();
        replace(&mine, "{\"grant\":2}");
        let (c, _) = w.wait(&[], Some(Duration::from_secs(5))).expect("wait");
        assert!(c.file, "the second replacement was seen");
    }

    #[test]
    fn a_dir_watch_names_written_entries_and_ignores_opens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.json");
        std::fs::write(&a, "{}").expect("write");
        let w = Watch::new().expect("inotify");
        w.dir(dir.path()).expect("watch");
        let _ = std::fs::read_to_string(&a).expect("read");
        let (c, _) = w.wait(&[], Some(Duration::from_millis(100))).expect("wait");
        assert!(!c.any(), "an open woke the watcher: {c:?}");
        replace(&dir.path().join("b.json"), "{}");
        let (c, _) = w.wait(&[], Some(Duration::from_secs(5))).expect("wait");
        assert!(c.names.contains(&OsString::from("b.json")), "{c:?}");
    }
}
