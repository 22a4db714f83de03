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

use std::borrow::Cow;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// How much of the file `tail` reads per step when walking backwards.
const BLOCK: usize = 64 * 1024;
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

/// Append one entry: open with `O_APPEND|O_CREAT` (creating parent directories), take an exclusive
/// `flock`, write the whole line with one `write()` call (looping only on a short write), unlock.
/// Any number of processes may append at once; no line is torn or interleaved.
///
/// If the file does not end with a newline (an earlier writer died mid-write), the line is
/// prefixed with one so the fragment stays a line of its own instead of corrupting this entry.
pub fn append(path: &Path, entry: &Entry) -> io::Result<()> {
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
    out
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
const HIDDEN_KEYS: &[&str] = &["checks", "agent", "base", "output"];

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
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashSet;
    use std::process::Command;

    fn log_in(dir: &tempfile::TempDir) -> std::path::PathBuf {
        dir.path().join("logs").join("experiment-log.jsonl")
    }

    fn entry(kind: &str, session: Option<&str>, i: usize) -> Entry {
        Entry::new(kind, session, json!({ "i": i }))
    }

    fn read_lines(path: &Path) -> Vec<String> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_in(&dir);
        let a = Entry::new(
            "ralph_cycle",
            Some("s1"),
            json!({"outcome": "kept", "text": "two\nlines", "n": [1, 2]}),
        );
        let b = Entry::new("note", None, Value::Null);
        append(&path, &a).unwrap();
        append(&path, &b).unwrap();
        let lines = read_lines(&path);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].contains(r#""session":null"#), "{}", lines[1]);
        let ts = serde_json::from_str::<Value>(&lines[0]).unwrap()["ts"].clone();
        let ts = ts.as_str().unwrap();
        assert!(
            ts.ends_with('Z') && ts.len() == "2026-11-21T01:02:03.456Z".len(),
            "{ts}"
        );
        assert_eq!(serde_json::from_str::<Entry>(&lines[0]).unwrap(), a);
        let t = tail(&path, 10, &Filter::default()).unwrap();
        assert_eq!(t.entries, vec![a, b]);
        assert_eq!((t.malformed, t.torn_last), (0, false));
        assert_eq!(t.warning(&path), None);
    }

    #[test]
    fn sub_millisecond_times_survive() {
        let mut e = entry("x", None, 0);
        e.ts = DateTime::from_timestamp(1_800_000_000, 123_456_789).unwrap();
        assert_eq!(serde_json::from_str::<Entry>(&e.to_line()).unwrap(), e);
    }

    #[test]
    fn tail_of_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let t = tail(&dir.path().join("nope.jsonl"), 5, &Filter::default()).unwrap();
        assert!(t.entries.is_empty());
        assert_eq!((t.malformed, t.torn_last), (0, false));
    }

    #[test]
    fn tail_n_bigger_than_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_in(&dir);
        for i in 0..3 {
            append(&path, &entry("k", Some("s"), i)).unwrap();
        }
        let t = tail(&path, 100, &Filter::default()).unwrap();
        let is: Vec<_> = t.entries.iter().map(|e| e.data["i"].clone()).collect();
        assert_eq!(is, vec![json!(0), json!(1), json!(2)]);
        assert!(
            tail(&path, 0, &Filter::default())
                .unwrap()
                .entries
                .is_empty()
        );
    }

    #[test]
    fn tail_with_filter_reaches_back_across_many_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_in(&dir);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut out = io::BufWriter::new(File::create(&path).unwrap());
        let filler = "x".repeat(150);
        let mut wanted = Vec::new();
        for i in 0..40_000 {
            let e = match i {
                // The only matches are near the start of a ~8 MB file.
                10 | 20 | 30 | 40 => Entry::new("rare", Some("s7"), json!({"i": i})),
                // A line much longer than a block, between the matches.
                25 => Entry::new("rare", Some("s8"), json!({"big": "y".repeat(300_000)})),
                _ if i % 3 == 0 => Entry::new("rare", Some("other"), json!({"i": i})),
                _ => Entry::new("common", Some("s7"), json!({"i": i, "pad": filler})),
            };
            if e.kind == "rare" && e.session.as_deref() == Some("s7") {
                wanted.push(e.clone());
            }
            out.write_all(e.to_line().as_bytes()).unwrap();
        }
        drop(out);
        assert!(fs::metadata(&path).unwrap().len() > 100 * BLOCK as u64);
        let filter = Filter {
            kind: Some("rare".into()),
            session: Some("s7".into()),
        };
        let t = tail(&path, 3, &filter).unwrap();
        assert_eq!(t.entries, wanted[1..].to_vec());
        let t = tail(&path, 10, &filter).unwrap();
        assert_eq!(t.entries, wanted);
        assert_eq!(t.malformed, 0);
        let by_session = Filter {
            kind: None,
            session: Some("s8".into()),
        };
        let t = tail(&path, 10, &by_session).unwrap();
        assert_eq!(t.entries.len(), 1);
        assert_eq!(t.entries[0].data["big"].as_str().unwrap().len(), 300_000);
        assert!(filter.matches(&wanted[0]) && !by_session.matches(&wanted[0]));
    }

    #[test]
    fn garbage_and_torn_lines_are_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_in(&dir);
        let a = entry("k", Some("s"), 1);
        let b = entry("k", Some("s"), 2);
        let c = entry("k", None, 3);
        let text = format!(
            "{}this is not json\n\n{}{}{}",
            a.to_line(),
            b.to_line(),
            c.to_line(),
            r#"{"ts":"2026-11-21T01:02:03.456Z","type":"k","se"#
        );
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        let t = tail(&path, 10, &Filter::default()).unwrap();
        assert_eq!(t.entries, vec![a.clone(), b.clone(), c.clone()]);
        assert_eq!(t.malformed, 2);
        assert!(t.torn_last);
        let warning = t.warning(&path).unwrap();
        assert!(warning.contains(&path.display().to_string()), "{warning}");
        assert!(warning.contains("2 malformed lines") && warning.contains("torn"));
        // Stopping before the garbage line: only the torn fragment was seen.
        let t = tail(&path, 2, &Filter::default()).unwrap();
        assert_eq!((t.entries, t.malformed), (vec![b, c], 1));

        // The next append starts a fresh line, so the fragment can't swallow it.
        let d = entry("k", None, 4);
        append(&path, &d).unwrap();
        let t = tail(&path, 10, &Filter::default()).unwrap();
        assert_eq!(t.entries.len(), 4);
        assert_eq!(t.entries[3], d);
        assert_eq!((t.malformed, t.torn_last), (2, false));
        assert!(!t.warning(&path).unwrap().contains("torn"));
    }

    #[test]
    fn human_format() {
        let mut e = Entry::new(
            "ralph_cycle",
            Some("s1"),
            json!({"n": 3, "branch": "brl/s1/a", "outcome": "kept", "note": "two words\nhere",
                   "nested": {"a": [1, 2]}, "long": "z".repeat(500)}),
        );
        e.ts = "2026-11-21T01:02:03.456Z".parse().unwrap();
        let s = format_human(&e);
        assert!(
            s.starts_with(
                "2026-11-21 01:02:03  ralph_cycle     s1  outcome=kept branch=brl/s1/a long=zzz"
            ),
            "{s}"
        );
        assert!(
            s.contains(r#" n=3 note="two words\nhere" nested={"a":[1,2]}"#),
            "{s}"
        );
        assert!(
            s.contains("z…") && !s.contains('\n') && s.len() < 300,
            "{s}"
        );
        let bare = Entry {
            session: None,
            data: Value::Null,
            ..e
        };
        assert_eq!(
            format_human(&bare),
            "2026-11-21 01:02:03  ralph_cycle     -"
        );
    }

    const THREADS: usize = 8;
    const PER_WRITER: usize = 2_000;

    /// Every line is a valid entry and each (writer, i) appears exactly once.
    fn check_concurrent_log(path: &Path) {
        let lines = read_lines(path);
        assert_eq!(lines.len(), THREADS * PER_WRITER);
        let mut seen = HashSet::new();
        for line in &lines {
            let e: Entry = serde_json::from_str(line).unwrap_or_else(|_| panic!("bad: {line}"));
            let key = (e.data["w"].as_u64().unwrap(), e.data["i"].as_u64().unwrap());
            assert!(seen.insert(key), "duplicate {key:?}");
        }
        let t = tail(path, usize::MAX, &Filter::default()).unwrap();
        assert_eq!((t.entries.len(), t.malformed), (lines.len(), 0));
    }

    fn append_many(path: &Path, writer: usize) {
        for i in 0..PER_WRITER {
            // Varying sizes, some much larger than a pipe buffer's atomic limit.
            let pad = "p".repeat((i * 37 + writer * 11) % 6_000);
            let e = Entry::new("load", Some("w"), json!({"w": writer, "i": i, "pad": pad}));
            append(path, &e).unwrap();
        }
    }

    #[test]
    fn concurrent_appends_from_threads() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_in(&dir);
        thread::scope(|s| {
            for w in 0..THREADS {
                let path = &path;
                s.spawn(move || append_many(path, w)); // each append opens its own File
            }
        });
        check_concurrent_log(&path);
    }

    const CHILD_ENV: &str = "BRL_LOG_TEST_APPEND_TO";

    /// Not a test on its own: when re-executed by `concurrent_appends_from_processes` with
    /// `BRL_LOG_TEST_APPEND_TO` set, this process acts as one appender.
    #[test]
    fn append_child_worker() {
        if let (Ok(path), Ok(w)) = (std::env::var(CHILD_ENV), std::env::var("BRL_LOG_TEST_W")) {
            append_many(Path::new(&path), w.parse().unwrap());
        }
    }

    #[test]
    fn concurrent_appends_from_processes() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_in(&dir);
        let exe = std::env::current_exe().unwrap();
        // The test's name inside the test binary, whatever the crate is called.
        let module = module_path!().split_once("::").unwrap().1;
        let worker = format!("{module}::append_child_worker");
        let children: Vec<_> = (0..THREADS)
            .map(|w| {
                Command::new(&exe)
                    .args(["--exact", &worker])
                    .args(["--test-threads=1", "--quiet"])
                    .env(CHILD_ENV, &path)
                    .env("BRL_LOG_TEST_W", w.to_string())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        check_concurrent_log(&path);
    }
}
