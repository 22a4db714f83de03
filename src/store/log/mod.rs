//! The shared, append-only experiment log (`<home>/logs/experiment-log.jsonl`).
//!
//! One JSON object per line:
//! `{"ts":"2026-11-21T01:02:03.456Z","type":"<type>","session":"<name>"|null,"data":{...}}`.
//!
//! Many processes append at once. Every append takes an exclusive `flock` and writes its whole
//! line with a single `write()`, so lines are never torn or interleaved by concurrent writers. A
//! writer that dies in the middle of a write can still leave a fragment without a trailing
//! newline; readers skip such lines (and any other malformed line) and count them, and the next
//! append starts on a fresh line so the fragment cannot swallow a good entry.
//!
//! This module owns the entry type, appending and the one-line human format; reading the log
//! backwards (`tail`, [`Filter`], [`Tail`]) lives in `log/tail.rs`.

mod tail;

pub use tail::{Filter, Tail, tail};

use std::borrow::Cow;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// How long readers wait for an in-progress append before reading the file's length anyway.
const SETTLE_WAIT: Duration = Duration::from_millis(200);
/// Longest value `format_human` shows before cutting it short.
const MAX_HUMAN_VALUE: usize = 120;
/// Data keys `format_human` shows first, in this order, when present.
const WELL_KNOWN_KEYS: [&str; 4] = ["outcome", "branch", "reason", "status"];

/// One line of the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(serialize_with = "serialize_ts")]
    pub ts: DateTime<Utc>,
    #[serde(rename = "type")]
    pub kind: String,
    pub session: Option<String>,
    #[serde(default)]
    pub data: Value,
}

impl Entry {
    /// A new entry stamped with the current time (millisecond precision).
    pub fn new(kind: &str, session: Option<&str>, data: Value) -> Entry {
        Entry {
            ts: Utc::now().trunc_subsecs(3),
            kind: kind.to_string(),
            session: session.map(str::to_string),
            data,
        }
    }

    /// The entry as one line of JSON, newline included. JSON escapes control characters inside
    /// strings, so the result never contains a newline other than the final one.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("an Entry always serializes to JSON");
        line.push('\n');
        line
    }
}

/// `2026-11-21T01:02:03.456Z`; more digits only if the time really has sub-millisecond precision
/// (so nothing is lost in a round trip).
fn serialize_ts<S: Serializer>(ts: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let format = if ts.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        SecondsFormat::Millis
    } else {
        SecondsFormat::AutoSi
    };
    s.serialize_str(&ts.to_rfc3339_opts(format, true))
}

/// [`append`] for long-running loops (the control room, its notifier) that must go on when the
/// log cannot be written: the failure is reported through `tracing` (logs/brl.log), not returned.
pub fn append_or_report(path: &Path, entry: &Entry) {
    if let Err(e) = append(path, entry) {
        tracing::error!("{e}");
    }
}

/// Append one entry: open with `O_APPEND|O_CREAT` (creating parent directories), take an exclusive
/// `flock`, write the whole line with one `write()` call (looping only on a short write), unlock.
/// Any number of processes may append at once; no line is torn or interleaved.
///
/// If the file does not end with a newline (an earlier writer died mid-write), the line is
/// prefixed with one so the fragment stays a line of its own instead of corrupting this entry.
pub fn append(path: &Path, entry: &Entry) -> io::Result<()> {
    append_inner(path, entry).map_err(|e| crate::store::atomic::naming(path, "append to", e))
}

fn append_inner(path: &Path, entry: &Entry) -> io::Result<()> {
    let line = entry.to_line();
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    file.lock()?;
    let written = write_line(&file, line.as_bytes());
    let unlocked = file.unlock();
    written.and(unlocked)
}

/// Write `line` at the end of `file`; the caller holds the exclusive lock.
fn write_line(file: &File, line: &[u8]) -> io::Result<()> {
    let len = file.metadata()?.len();
    let mut last = [0u8; 1];
    let healed;
    let mut bytes = line;
    if len > 0 && file.read_at(&mut last, len - 1)? == 1 && last[0] != b'\n' {
        healed = [b"\n", line].concat();
        bytes = &healed;
    }
    // With O_APPEND one write() puts the whole line at the end of the file in one go; a short
    // write (disk full, signal) is finished off by the loop.
    let mut out = file;
    while !bytes.is_empty() {
        match out.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The file's length at a moment when no append is in progress: waits up to [`SETTLE_WAIT`] for a
/// shared lock, so the half-written line of a live writer is not mistaken for a torn one. If the
/// lock can't be had in time (a writer is stuck) the current length is used anyway.
pub(crate) fn settled_len(file: &File) -> io::Result<u64> {
    let deadline = Instant::now() + SETTLE_WAIT;
    loop {
        match file.try_lock_shared() {
            Ok(()) => {
                let len = file.metadata()?.len();
                file.unlock()?;
                return Ok(len);
            }
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(1));
            }
            Err(_) => return Ok(file.metadata()?.len()),
        }
    }
}

/// One line for a person:
/// `2026-11-21 01:02:03  ralph_cycle     s1  outcome=kept branch=brl/s1/x reason=... n=3`.
///
/// The time is UTC. Data keys `outcome`, `branch`, `reason` and `status` come first when present,
/// then the other scalar keys, then nested values as compact JSON. Values with spaces are quoted,
/// long values are cut short, and nothing can break the line.
pub fn format_human(e: &Entry) -> String {
    let session = e.session.as_deref().unwrap_or("-");
    let mut out = format!(
        "{}  {:<15} {}",
        e.ts.format("%Y-%m-%d %H:%M:%S"),
        one_line(&e.kind),
        one_line(session)
    );
    let fields = human_data(&e.data);
    if !fields.is_empty() {
        out.push_str("  ");
        out.push_str(&fields);
    }
    // JSON quoting escapes C0 controls but not DEL, C1 (the 8-bit CSI U+009B) or direction
    // overrides: the whole line goes through the terminal guard.
    crate::term::safe_line(&out).into_owned()
}

fn human_data(data: &Value) -> String {
    let map = match data {
        Value::Null => return String::new(),
        Value::Object(map) => map,
        other => return human_value(other),
    };
    let known = WELL_KNOWN_KEYS
        .iter()
        .filter_map(|&k| map.get_key_value(k))
        .filter(|(_, v)| !empty(v));
    let rest = map.iter().filter(|(k, v)| {
        !WELL_KNOWN_KEYS.contains(&k.as_str()) && !HIDDEN_KEYS.contains(&k.as_str()) && !empty(v)
    });
    let (scalars, nested): (Vec<_>, Vec<_>) =
        rest.partition(|(_, v)| !matches!(v, Value::Object(_) | Value::Array(_)));
    known
        .chain(scalars)
        .chain(nested)
        .map(|(k, v)| format!("{}={}", human_key(k), human_value(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Detail left to `--json`: a person reading the log wants the gist on one line.
const HIDDEN_KEYS: &[&str] = &["checks", "agent", "base", "output", "origin"];

/// Nothing to show: null, "", [] or {}.
fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A string shown bare when it is a single harmless word, else as a JSON string.
fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
}

fn human_key(k: &str) -> String {
    if needs_quotes(k) || k.contains('=') {
        Value::from(k).to_string()
    } else {
        k.to_string()
    }
}

fn human_value(v: &Value) -> String {
    let text = match v {
        Value::String(s) if !needs_quotes(s) => s.clone(),
        other => other.to_string(),
    };
    shorten(text, MAX_HUMAN_VALUE)
}

fn shorten(text: String, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text,
        Some(_) => {
            let cut = text.char_indices().nth(max_chars - 1).map_or(0, |(i, _)| i);
            format!("{}…", &text[..cut])
        }
    }
}

fn one_line(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(s.escape_debug().to_string())
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests;
