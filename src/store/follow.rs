//! Following the experiment log as it grows (`tail -f` for the JSON-lines log).
//!
//! The log's directory is watched with inotify (so creation and replacement are seen, not just
//! writes; opens and reads of the directory's files wake nobody), and the file is re-checked at
//! least every [`RECHECK`] regardless, so a lost event only delays things. Without a watcher it
//! simply polls.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::log::{Entry, settled_len};

/// With a watcher: the longest wait before re-checking the file without any event. inotify loses
/// no event short of a queue overflow (which wakes us too), so this is a rare safety net — not a
/// tick: an idle dashboard must not wake for it.
const RECHECK: Duration = Duration::from_secs(30);
/// Without a watcher: how often the file is polled.
const POLL: Duration = Duration::from_millis(200);
/// The most read from the file per step (a batch covers at most about this much).
const READ_CHUNK: u64 = 4 << 20;
/// How many bytes before the read position are remembered to notice a truncate-and-regrow.
const FINGERPRINT: usize = 32;

/// What one call to [`Follower::next_batch`] found.
#[derive(Debug, Default)]
pub struct Batch {
    /// New entries, oldest first.
    pub entries: Vec<Entry>,
    /// New lines that are not valid entries (skipped).
    pub malformed: usize,
    /// Things a person should know, e.g. "log was truncated; following from its start".
    pub notices: Vec<String>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.malformed == 0 && self.notices.is_empty()
    }
}

/// Follows a log file as it grows: yields entries appended after the starting point.
pub struct Follower {
    path: PathBuf,
    open: Option<Open>,
    /// Bytes read after the last complete line (a line still being written).
    pending: Vec<u8>,
    /// The last (up to) [`FINGERPRINT`] bytes before the read position.
    fingerprint: Vec<u8>,
    /// The file disappeared while being followed (and has not come back yet).
    removed: bool,
    watch: Option<Watch>,
}

struct Open {
    file: File,
    /// (device, inode) of the open file, to notice the path being replaced.
    id: (u64, u64),
    /// Read position: everything before it has been read (into entries or `pending`).
    offset: u64,
}

struct Watch {
    inner: super::watch::Watch,
    name: OsString,
}

impl Watch {
    /// Watch the directory holding `path` (for writes, creation, replacement, removal — not
    /// for opens or reads, which would wake us for every reader of the directory's files);
    /// `None` if that can't be done (then we poll).
    fn new(path: &Path) -> Option<Watch> {
        let name = path.file_name()?.to_owned();
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let inner = super::watch::Watch::new().ok()?;
        inner.dir_and_writes(dir).ok()?;
        Some(Watch { inner, name })
    }
}

/// Is this event a change to a file (created, written, renamed, removed)? Opening, reading and
/// closing a file unwritten are events too (inotify reports them); treating those as news makes
/// readers wake each other — and themselves — in a loop.
pub fn is_change(event: &notify::Event) -> bool {
    use notify::EventKind;
    use notify::event::{AccessKind, AccessMode};
    match event.kind {
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Any | EventKind::Other => true,
    }
}

impl Follower {
    /// Start following from the current end of the file (it may not exist yet).
    pub fn from_end(path: &Path) -> io::Result<Follower> {
        // Watch first, so nothing that happens after we look at the file goes unseen.
        let watch = Watch::new(path);
        let mut follower = Follower {
            path: path.to_path_buf(),
            open: None,
            pending: Vec::new(),
            fingerprint: Vec::new(),
            removed: false,
            watch,
        };
        match File::open(path) {
            Ok(file) => {
                let offset = settled_len(&file)?;
                let keep = offset.min(FINGERPRINT as u64);
                let mut fingerprint = vec![0u8; keep as usize];
                file.read_exact_at(&mut fingerprint, offset - keep)?;
                follower.fingerprint = fingerprint;
                follower.open = Some(Open {
                    id: file_id(&file.metadata()?),
                    file,
                    offset,
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(follower)
    }

    /// Block until new complete lines arrive or `timeout` passes; return the new entries
    /// (possibly none) plus the count of malformed lines among them. A partial last line is held
    /// back until it is complete. Truncation (the file shrinks, or what was read changes) restarts
    /// from the beginning of the file; a replaced file (new inode) is read from its beginning
    /// after whatever remained in the old one. Both are reported in `notices`.
    pub fn next_batch(&mut self, timeout: Duration) -> io::Result<Batch> {
        let deadline = Instant::now() + timeout;
        let mut batch = Batch::default();
        loop {
            let more = self.check(&mut batch)?;
            if !batch.is_empty() {
                return Ok(batch);
            }
            if more {
                continue; // a long line still incomplete in what was read: read on
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(batch);
            }
            self.wait(deadline - now);
        }
    }

    /// Look at the file once and read what is new. Returns whether unread data remains.
    fn check(&mut self, batch: &mut Batch) -> io::Result<bool> {
        let current = match fs::metadata(&self.path) {
            Ok(meta) => Some(file_id(&meta)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if self.open.as_ref().map(|o| o.id) != current {
            self.switch_file(current.is_some(), batch)?;
        }
        let Some(open) = self.open.as_mut() else {
            return Ok(false);
        };
        let len = open.file.metadata()?.len();
        let rewritten = len > open.offset && !fingerprint_holds(open, &self.fingerprint)?;
        if len < open.offset || rewritten {
            open.offset = 0;
            self.pending.clear();
            self.fingerprint.clear();
            batch
                .notices
                .push("log was truncated; following from its start".to_string());
        }
        self.read_new(batch)
    }

    /// The path no longer names the file we have open: finish the old file, then open the new.
    fn switch_file(&mut self, exists: bool, batch: &mut Batch) -> io::Result<()> {
        let had_file = self.open.is_some();
        if had_file {
            while self.read_new(batch)? {}
            if !self.pending.is_empty() {
                batch.malformed += 1; // its last line will never be completed
            }
        }
        self.open = None;
        self.pending.clear();
        self.fingerprint.clear();
        if !exists {
            if had_file && !self.removed {
                self.removed = true;
                batch
                    .notices
                    .push("log was removed; waiting for it to reappear".to_string());
            }
            return Ok(());
        }
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()), // gone again
            Err(e) => return Err(e),
        };
        if had_file {
            batch
                .notices
                .push("log was replaced; following the new file from its start".to_string());
        } else if self.removed {
            batch
                .notices
                .push("log was recreated; following it from its start".to_string());
        }
        self.removed = false;
        self.open = Some(Open {
            id: file_id(&file.metadata()?),
            file,
            offset: 0,
        });
        if self.watch.is_none() {
            self.watch = Watch::new(&self.path); // its directory exists now
        }
        Ok(())
    }

    /// Read up to [`READ_CHUNK`] new bytes; complete lines go into `batch`, the rest is held in
    /// `pending`. Returns whether more unread data remains.
    fn read_new(&mut self, batch: &mut Batch) -> io::Result<bool> {
        let Some(open) = self.open.as_mut() else {
            return Ok(false);
        };
        let len = open.file.metadata()?.len();
        if len <= open.offset {
            return Ok(false);
        }
        let want = (len - open.offset).min(READ_CHUNK) as usize;
        let mut buf = std::mem::take(&mut self.pending);
        let old = buf.len();
        buf.resize(old + want, 0);
        let got = read_at_most(&open.file, &mut buf[old..], open.offset)?;
        buf.truncate(old + got);
        open.offset += got as u64;

        self.fingerprint.extend_from_slice(&buf[old..]);
        let excess = self.fingerprint.len().saturating_sub(FINGERPRINT);
        self.fingerprint.drain(..excess);

        let complete = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        for line in buf[..complete].split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Entry>(line) {
                Ok(entry) => batch.entries.push(entry),
                Err(_) => batch.malformed += 1,
            }
        }
        buf.drain(..complete);
        self.pending = buf;
        Ok(got > 0 && open.offset < len)
    }

    /// Wait for an event about our file, at most `max` and at most [`RECHECK`].
    fn wait(&mut self, max: Duration) {
        let Some(watch) = &self.watch else {
            thread::sleep(max.min(POLL));
            return;
        };
        let deadline = Instant::now() + max.min(RECHECK);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match watch.inner.wait(&[], Some(left)) {
                Ok((c, _)) if c.lost || c.names.contains(&watch.name) => return,
                // Nothing came: the time is up (or a signal interrupted the wait).
                Ok((c, _)) if !c.any() => return,
                // Another file of the directory: not ours.
                Ok(_) => {}
                Err(_) => {
                    self.watch = None; // the watch failed: poll from now on
                    return;
                }
            }
        }
    }
}

fn file_id(meta: &fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

/// Whether the bytes just before the read position are still the ones we read there.
fn fingerprint_holds(open: &Open, fingerprint: &[u8]) -> io::Result<bool> {
    let n = fingerprint.len() as u64;
    if n == 0 || n > open.offset {
        return Ok(true);
    }
    let mut now = vec![0u8; fingerprint.len()];
    match open.file.read_exact_at(&mut now, open.offset - n) {
        Ok(()) => Ok(now == fingerprint),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Read into `buf` at `offset` until it is full or the file ends; returns the bytes read.
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
#[path = "follow_tests.rs"]
mod tests;
