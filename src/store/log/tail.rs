//! Reading the experiment log backwards: [`tail`] returns the last `n` entries matching a
//! [`Filter`], reading the file from its end in blocks and skipping (and counting) malformed
//! lines.

use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{Entry, settled_len};

/// How much of the file `tail` reads per step when walking backwards.
pub(super) const BLOCK: usize = 64 * 1024;

/// Which entries to keep; `None` fields match anything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub kind: Option<String>,
    pub session: Option<String>,
}

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        self.matches_parts(&e.kind, e.session.as_deref())
    }

    fn matches_parts(&self, kind: &str, session: Option<&str>) -> bool {
        self.kind.as_deref().is_none_or(|k| k == kind)
            && self.session.as_deref().is_none_or(|s| Some(s) == session)
    }
}

/// Just enough of an entry to apply a [`Filter`] without building its `data`. It accepts exactly
/// the lines [`Entry`] accepts (the whole line is still parsed and checked).
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "ts")]
    _ts: DateTime<Utc>,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    session: Option<Cow<'a, str>>,
    #[serde(default, rename = "data")]
    _data: IgnoredAny,
}

/// The result of [`tail`].
#[derive(Debug, Default)]
pub struct Tail {
    /// Oldest first, at most `n`.
    pub entries: Vec<Entry>,
    /// Lines seen while reading that are not valid entries (skipped). Blank lines are ignored.
    pub malformed: usize,
    /// The file does not end with '\n' (a writer died mid-write); that fragment is skipped and
    /// counted in `malformed`.
    pub torn_last: bool,
}

impl Tail {
    /// A one-line warning for a person, or `None` when nothing was skipped.
    pub fn warning(&self, path: &Path) -> Option<String> {
        if self.malformed == 0 {
            return None;
        }
        let plural = if self.malformed == 1 { "" } else { "s" };
        let torn = if self.torn_last {
            " (the last line is torn: a writer died mid-write)"
        } else {
            ""
        };
        Some(format!(
            "warning: skipped {} malformed line{plural} in {}{torn}; the rest of the log is intact",
            self.malformed,
            path.display()
        ))
    }
}

/// The last `n` entries matching `filter`, oldest first. The file is read backwards from its end
/// in blocks, so the time taken depends on how far back the `n` matches are, not on the file's
/// size. A missing file gives an empty `Tail`; malformed lines are skipped and counted.
pub fn tail(path: &Path, n: usize, filter: &Filter) -> io::Result<Tail> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Tail::default()),
        Err(e) => return Err(e),
    };
    let len = settled_len(&file)?;
    let mut out = Tail::default();
    if len == 0 {
        return Ok(out);
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, len - 1)?;
    out.torn_last = last[0] != b'\n';
    out.malformed = usize::from(out.torn_last);

    // `pos`: start of the part of the file not read yet. `carry`: the bytes from `pos` up to the
    // end of a line whose beginning lies before `pos`. `at_end`: the next segment is the one after
    // the file's final '\n': empty, or the torn fragment (already counted), never an entry.
    let mut pos = len;
    let mut carry: Vec<u8> = Vec::new();
    let mut at_end = true;
    while pos > 0 && out.entries.len() < n {
        // Read at least as much as we carry, so a huge line costs O(its length) overall.
        let want = BLOCK.max(carry.len()) as u64;
        let start = pos.saturating_sub(want);
        let fresh = (pos - start) as usize;
        let mut buf = vec![0u8; fresh + carry.len()];
        file.read_exact_at(&mut buf[..fresh], start)?;
        buf[fresh..].copy_from_slice(&carry);
        pos = start;

        let mut end = buf.len();
        while out.entries.len() < n {
            let (line_start, line) = match buf[..end].iter().rposition(|&b| b == b'\n') {
                Some(i) => (i, &buf[i + 1..end]),
                None if pos == 0 => (0, &buf[..end]),
                None => break,
            };
            if at_end {
                at_end = false;
            } else {
                take_line(line, filter, &mut out);
            }
            if line_start == 0 && pos == 0 {
                end = 0;
                break;
            }
            end = line_start;
        }
        carry = if pos == 0 {
            Vec::new()
        } else {
            buf[..end].to_vec()
        };
    }
    out.entries.reverse();
    Ok(out)
}

/// Parse one line for `tail`: a matching entry is pushed (newest first), a bad line counted.
fn take_line(line: &[u8], filter: &Filter, out: &mut Tail) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    match serde_json::from_slice::<Head>(line) {
        Ok(head) if filter.matches_parts(&head.kind, head.session.as_deref()) => {
            match serde_json::from_slice::<Entry>(line) {
                Ok(entry) => out.entries.push(entry),
                Err(_) => out.malformed += 1,
            }
        }
        Ok(_) => {}
        Err(_) => out.malformed += 1,
    }
}
