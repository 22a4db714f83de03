//! Unit tests for the experiment log: round trips, the backwards tail reader, malformed and torn
//! lines, the human format, and concurrent appends from threads and processes.

use super::tail::BLOCK;
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
