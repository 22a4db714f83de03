//! Crash-safe state files: read-modify-write under an exclusive `flock` on a lock file beside the
//! state file, and replacement by write-temp + fsync + rename + fsync(dir). Any process can die at
//! any instant and leave either the old or the new file, never a mix.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An exclusive lock held until dropped (or until the process dies: the kernel releases it).
pub struct LockGuard {
    file: File,
}

impl LockGuard {
    /// Block until the exclusive lock on `path` (created if missing) is ours.
    pub fn exclusive(path: &Path) -> io::Result<LockGuard> {
        let file = open_lock_file(path)?;
        file.lock()?;
        Ok(LockGuard { file })
    }

    /// Take the lock if it is free; `Ok(None)` when another process holds it.
    pub fn try_exclusive(path: &Path) -> io::Result<Option<LockGuard>> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(LockGuard { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// Does another process hold the lock on `path`? (Taken and released at once when free.)
    /// A missing lock file means nobody holds it.
    pub fn is_held(path: &Path) -> io::Result<bool> {
        if !path.exists() {
            return Ok(false);
        }
        Ok(LockGuard::try_exclusive(path)?.is_none())
    }

    /// Record who holds the lock (the pid), for messages to whoever finds it taken.
    pub fn write_owner(&mut self) -> io::Result<()> {
        self.write_owner_with("")
    }

    /// Like [`Self::write_owner`], with a second line saying more about the owner (e.g. what
    /// supervises it); [`lock_note`] reads it.
    pub fn write_owner_with(&mut self, note: &str) -> io::Result<()> {
        self.file.set_len(0)?;
        use std::io::Seek;
        self.file.seek(io::SeekFrom::Start(0))?;
        writeln!(self.file, "{}", std::process::id())?;
        if !note.is_empty() {
            writeln!(self.file, "{}", note.replace('\n', " "))?;
        }
        self.file.flush()
    }
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// The pid recorded in a lock file by [`LockGuard::write_owner`], if any.
pub fn lock_owner(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// The note written with [`LockGuard::write_owner_with`], if any.
pub fn lock_note(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let note = text.lines().nth(1)?.trim();
    (!note.is_empty()).then(|| note.to_string())
}

/// The lock file that guards `path`: `<path>.lock`.
pub fn lock_path_for(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Replace `path` with `bytes` atomically: write a temp file in the same directory, fsync it,
/// rename it over `path`, fsync the directory.
/// Errors name `path` ("cannot write <path>: No space left on device"), kind kept.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_inner(path, bytes).map_err(|e| naming(path, "write", e))
}

/// `e`, its message prefixed with what was being done to which file; its kind is kept, so
/// callers can still tell "not found" from "no space".
pub fn naming(path: &Path, doing: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot {doing} {}: {e}", path.display()))
}

fn write_atomic_inner(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("state.json");
        write_atomic(&p, b"one").expect("write");
        write_atomic(&p, b"two").expect("write");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "two");
        let names: Vec<_> = std::fs::read_dir(d.path()).expect("dir").collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_failed_write_names_the_file_and_keeps_the_kind() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("not-a-dir").join("state.json");
        std::fs::write(d.path().join("not-a-dir"), b"a file in the way").expect("write");
        let e = write_atomic(&p, b"x").expect_err("a file is in the way");
        assert!(e.to_string().contains(&p.display().to_string()), "{e}");
        assert!(e.to_string().starts_with("cannot write "), "{e}");
    }

    #[test]
    fn try_lock_sees_a_held_lock() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("x.lock");
        let mut g = LockGuard::exclusive(&p).expect("lock");
        g.write_owner().expect("owner");
        assert!(LockGuard::try_exclusive(&p).expect("try").is_none());
        assert_eq!(lock_owner(&p), Some(std::process::id()));
        drop(g);
        assert!(LockGuard::try_exclusive(&p).expect("try").is_some());
    }
}
