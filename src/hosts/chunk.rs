//! A piece of a host's experiment log, as `brl remote log` sends it: one JSON header line
//! (`{"version":1,"from":N,"len":L,"file_len":F}`) and then exactly `L` bytes of the log from
//! byte `N` — whole lines only. The last line of the log is sent only once it ends with its
//! newline: a writer that is mid-append (or died mid-write, see `store::log`) leaves a fragment
//! that is never sent; the store's next append starts on a fresh line, so the fragment later
//! reads as one malformed line of its own, which the collector skips and counts.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub const CHUNK_VERSION: u32 = 1;
/// What `brl remote log` sends at most per call unless told (`--max-bytes`).
pub const DEFAULT_MAX_BYTES: u64 = 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub version: u32,
    pub from: u64,
    pub len: u64,
    /// The log's length (settled: no append in progress) when it was read.
    pub file_len: u64,
    /// Which log this is: a hash of its first line (None while it has no complete line). A log
    /// replaced by another (a home set up again) has another first line, so a cursor into the
    /// old one is never applied to the new one.
    #[serde(default)]
    pub log_id: Option<String>,
}

/// The id of the log in `file` (see [`Header::log_id`]).
fn log_id(file: &File, file_len: u64) -> io::Result<Option<String>> {
    let mut buf = vec![0u8; file_len.min(64 * 1024) as usize];
    file.read_exact_at(&mut buf, 0)?;
    Ok(buf
        .iter()
        .position(|&b| b == b'\n')
        .map(|nl| format!("{:08x}", crate::home::short_hash(&buf[..nl]))))
}

/// The bytes of `path` from `from` up to the end of the last complete line within `max` bytes.
/// A single line longer than `max` is sent whole (never cut), once it is complete. `from` must
/// be a line start inside the file: anything else is an error that says why (the log was
/// replaced, or the cursor is wrong).
pub fn read(path: &Path, from: u64, max: u64) -> anyhow::Result<(Header, Vec<u8>)> {
    let file = match File::open(path) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
    };
    let file_len = match &file {
        Some(f) => crate::store::log::settled_len(f)?,
        None => 0,
    };
    let id = match &file {
        Some(f) => log_id(f, file_len)?,
        None => None,
    };
    let header = |len| Header {
        version: CHUNK_VERSION,
        from,
        len,
        file_len,
        log_id: id.clone(),
    };
    if from > file_len {
        anyhow::bail!(
            "{} has {file_len} bytes, fewer than the {from} the control room already collected: the log was replaced or truncated\n  fix: if this host's home was set up again, move the control room's logs/hosts/<host>.json aside so collection starts over (entries already collected would come again)",
            path.display()
        );
    }
    let Some(file) = file.filter(|_| from < file_len) else {
        return Ok((header(0), Vec::new()));
    };
    if from > 0 {
        let mut prev = [0u8; 1];
        file.read_exact_at(&mut prev, from - 1)?;
        if prev[0] != b'\n' {
            anyhow::bail!(
                "byte {from} of {} is not the start of a line: the log was replaced or edited\n  fix: move the control room's logs/hosts/<host>.json aside so collection starts over",
                path.display()
            );
        }
    }
    let max = max.max(1);
    let mut want = max.min(file_len - from);
    loop {
        let mut buf = vec![0u8; want as usize];
        file.read_exact_at(&mut buf, from)?;
        if let Some(last_nl) = buf.iter().rposition(|&b| b == b'\n') {
            buf.truncate(last_nl + 1);
            let len = buf.len() as u64;
            return Ok((header(len), buf));
        }
        if from + want >= file_len {
            // Only a fragment with no newline yet: nothing complete to send.
            return Ok((header(0), Vec::new()));
        }
        // One line longer than `max`: read further until its end.
        want = (want * 2).min(file_len - from);
    }
}

/// Split what `brl remote log` printed into its header and bytes, checking that they agree.
pub fn parse(out: &[u8]) -> anyhow::Result<(Header, &[u8])> {
    let nl = out
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| anyhow::anyhow!("`brl remote log` printed no header line"))?;
    let header: Header = serde_json::from_slice(&out[..nl]).map_err(|e| {
        anyhow::anyhow!(
            "`brl remote log` printed a header that is not one ({e}): {}\n  fix: make sure the host runs the same brl version (`brl hosts setup`)",
            String::from_utf8_lossy(&out[..nl.min(200)])
        )
    })?;
    if header.version > CHUNK_VERSION {
        anyhow::bail!(
            "the host's brl sends log chunks of version {}, newer than this brl's {CHUNK_VERSION}\n  fix: run the same brl version on both (`brl hosts setup`)",
            header.version
        );
    }
    let body = &out[nl + 1..];
    if body.len() as u64 != header.len {
        anyhow::bail!(
            "`brl remote log` announced {} bytes and sent {} (the connection was cut?)",
            header.len,
            body.len()
        );
    }
    Ok((header, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_lines_only_and_never_a_torn_tail() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("log.jsonl");
        let (h, b) = read(&p, 0, 100).expect("missing file");
        assert_eq!((h.len, h.file_len, b.len()), (0, 0, 0));
        assert!(read(&p, 5, 100).is_err(), "a cursor past a missing log");
        std::fs::write(&p, "aaaa\nbbbb\ncc").expect("write");
        let (h, b) = read(&p, 0, 100).expect("read");
        assert_eq!(
            (b.as_slice(), h.len, h.file_len),
            (&b"aaaa\nbbbb\n"[..], 10, 12)
        );
        let id = h.log_id.clone().expect("an id");
        assert_eq!(read(&p, 5, 100).expect("read").0.log_id, Some(id.clone()));
        let (_, b) = read(&p, 0, 7).expect("read");
        assert_eq!(b, b"aaaa\n");
        // A line longer than max is sent whole.
        let (_, b) = read(&p, 0, 2).expect("read");
        assert_eq!(b, b"aaaa\n");
        let (_, b) = read(&p, 5, 100).expect("read");
        assert_eq!(b, b"bbbb\n");
        // Only the torn fragment is left: nothing.
        let (h, b) = read(&p, 10, 100).expect("read");
        assert_eq!((h.len, b.len()), (0, 0));
        let e = read(&p, 3, 100).expect_err("mid-line").to_string();
        assert!(e.contains("not the start of a line"), "{e}");
        let e = read(&p, 99, 100).expect_err("past the end").to_string();
        assert!(e.contains("fewer than"), "{e}");
        std::fs::write(&p, "zzzz\nbbbb\ncc").expect("write");
        assert_ne!(
            read(&p, 5, 100).expect("read").0.log_id,
            Some(id),
            "another log"
        );

        let mut out = serde_json::to_vec(&h).expect("json");
        out.push(b'\n');
        let (back, body) = parse(&out).expect("parse");
        assert_eq!((back, body.len()), (h, 0));
        let mut bad = br#"{"version":1,"from":0,"len":3,"file_len":3}"#.to_vec(); // no log_id: fine
        bad.extend_from_slice(b"\nab");
        assert!(parse(&bad).is_err(), "short body");
        assert!(parse(b"no header").is_err());
    }
}
