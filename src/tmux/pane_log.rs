//! A bounded copy of a pane's terminal output: the reading end of `tmux pipe-pane`.
//!
//! The file at `path` holds the newest output and `<path>.1` the output before it; together
//! they never take more than 2 × `max_bytes` on disk, however long the worker runs.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Appends everything read from `input` to `path` (creating its parent directories), chunk by
/// chunk as it arrives, so a reader tailing the file sees output promptly. When the next chunk
/// would take the file past `max_bytes`, the file is renamed to `<path>.1` (replacing an older
/// one) and a new file is started; the cut is made after the chunk's last newline that still
/// fits, so lines are not split unless one line alone is longer than `max_bytes`. An existing
/// file is appended to (and rotated first if it is already too big). Returns at EOF.
///
/// `max_bytes` of 0 is an `InvalidInput` error.
pub fn copy_bounded(mut input: impl Read, path: &Path, max_bytes: u64) -> io::Result<()> {
    if max_bytes == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("pane log {}: max_bytes must be above 0", path.display()),
        ));
    }
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    let mut out = Rotating::open(path, max_bytes)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_chunk(&buf[..n])?;
    }
}

/// The path of the previous (rotated) file: `<path>.1`.
pub fn rotated_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// The current output file and its size.
struct Rotating<'a> {
    path: &'a Path,
    file: File,
    size: u64,
    max: u64,
}

impl<'a> Rotating<'a> {
    fn open(path: &'a Path, max: u64) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(Rotating {
            path,
            file,
            size,
            max,
        })
    }

    /// Writes `chunk`, rotating as often as needed so that no file exceeds `max` bytes.
    fn write_chunk(&mut self, mut chunk: &[u8]) -> io::Result<()> {
        while !chunk.is_empty() {
            let room = usize::try_from(self.max.saturating_sub(self.size)).unwrap_or(usize::MAX);
            if chunk.len() <= room {
                self.write(chunk)?;
                break;
            }
            // Cut after the last newline that fits; if none fits, start a new file first, and
            // only split the line when it is longer than a whole file.
            let cut = match chunk[..room].iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None if self.size > 0 => 0,
                None => room,
            };
            self.write(&chunk[..cut])?;
            chunk = &chunk[cut..];
            self.rotate()?;
        }
        self.file.flush()
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if !bytes.is_empty() {
            self.file.write_all(bytes)?;
            self.size += bytes.len() as u64;
        }
        Ok(())
    }

    /// Renames the current file to `<path>.1` (replacing it) and opens a fresh one.
    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        std::fs::rename(self.path, rotated_path(self.path))?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path)?;
        self.size = self.file.metadata()?.len();
        Ok(())
    }
}

/// The last `max_bytes` of a pane log as plain text (see [`clean_terminal`]), reaching into the
/// rotated `<path>.1` when the current file is shorter; whether older output was left out. A
/// missing `path` is a `NotFound` error.
pub fn read_tail(path: &Path, max_bytes: usize) -> io::Result<(String, bool)> {
    let (current, mut cut) = read_end(path, max_bytes)?;
    let mut bytes = Vec::new();
    if !cut
        && current.len() < max_bytes
        && let Ok((b, c)) = read_end(&rotated_path(path), max_bytes - current.len())
    {
        (bytes, cut) = (b, c);
    }
    bytes.extend_from_slice(&current);
    let text = String::from_utf8_lossy(&bytes);
    // A cut file starts with the byte before the part wanted: start at the next whole line.
    let text = match (cut, text.find('\n')) {
        (true, Some(p)) => &text[p + 1..],
        _ => &text[..],
    };
    Ok((clean_terminal(text), cut))
}

/// The last `max` bytes of `path`, and whether the file holds more. When it does, the byte before
/// them comes first too, so the caller can tell whether they start a whole line.
fn read_end(path: &Path, max: usize) -> io::Result<(Vec<u8>, bool)> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let max = max as u64;
    let cut = len > max;
    let start = if cut { len - max - 1 } else { 0 };
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    f.take(len - start).read_to_end(&mut buf)?;
    Ok((buf, cut))
}

/// Terminal output as plain text: escape sequences removed, a carriage return keeps what was
/// drawn after it, tabs become spaces, blank lines at the ends dropped.
pub fn clean_terminal(text: &str) -> String {
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| {
            let l = l.trim_end_matches('\r');
            let l = l.rsplit('\r').next().unwrap_or(l);
            // The stripper drops tabs: expand them first.
            strip_ansi_escapes::strip_str(l.replace('\t', "    "))
                .trim_end()
                .to_string()
        })
        .collect();
    let first = lines.iter().position(|l| !l.is_empty()).unwrap_or(0);
    let last = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    if first >= last {
        return String::new();
    }
    lines[first..last].join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// A reader that hands out its chunks one `read` call at a time, like a pipe.
    struct Chunks(Vec<&'static [u8]>);
    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let chunk = self.0.remove(0);
            buf[..chunk.len()].copy_from_slice(chunk);
            Ok(chunk.len())
        }
    }

    #[test]
    fn appends_and_creates_parent_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/panes/s1.log");
        copy_bounded(&b"one\n"[..], &path, 1000).unwrap();
        copy_bounded(&b"two\n"[..], &path, 1000).unwrap();
        assert_eq!(read(&path), "one\ntwo\n");
        assert!(!rotated_path(&path).exists());
    }

    #[test]
    fn rotates_at_line_boundaries_and_keeps_one_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s1.log");
        let input = Chunks(vec![b"aaaa\nbbbb\n", b"cccc\n", b"dddd\neeee\nffff\n"]);
        copy_bounded(input, &path, 12).unwrap();
        // 12 bytes fit two 5-byte lines per file.
        assert_eq!(read(&rotated_path(&path)), "cccc\ndddd\n");
        assert_eq!(read(&path), "eeee\nffff\n");
        let total = std::fs::metadata(&path).unwrap().len()
            + std::fs::metadata(rotated_path(&path)).unwrap().len();
        assert!(total <= 24);
    }

    #[test]
    fn long_lines_are_split_so_no_file_exceeds_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s1.log");
        copy_bounded(&b"0123456789abcdef"[..], &path, 6).unwrap();
        assert_eq!(read(&rotated_path(&path)), "6789ab");
        assert_eq!(read(&path), "cdef");
    }

    #[test]
    fn an_existing_oversized_file_is_rotated_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s1.log");
        std::fs::write(&path, "old old old\n").unwrap();
        std::fs::write(rotated_path(&path), "older\n").unwrap();
        copy_bounded(&b"new\n"[..], &path, 8).unwrap();
        assert_eq!(read(&rotated_path(&path)), "old old old\n");
        assert_eq!(read(&path), "new\n");
    }

    #[test]
    fn zero_max_bytes_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = copy_bounded(&b"x"[..], &dir.path().join("a"), 0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
