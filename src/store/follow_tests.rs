//! Unit tests for [`super::Follower`]: new appends, a file that appears later, truncation,
//! replacement by rename, removal, partial lines, and polling without a watcher.

use super::*;
use crate::store::log::append;
use serde_json::json;
use std::fs::OpenOptions;
use std::io::Write;

const PATIENCE: Duration = Duration::from_secs(5);

fn entry(i: usize) -> Entry {
    Entry::new("k", Some("s"), json!({ "i": i }))
}

/// Collect batches until `want` entries (or a notice containing `notice`) arrived.
fn collect(f: &mut Follower, want: usize, notice: Option<&str>) -> Batch {
    let deadline = Instant::now() + PATIENCE;
    let mut all = Batch::default();
    while Instant::now() < deadline {
        let b = f.next_batch(Duration::from_millis(300)).unwrap();
        all.entries.extend(b.entries);
        all.malformed += b.malformed;
        all.notices.extend(b.notices);
        let noticed = notice.is_none_or(|n| all.notices.iter().any(|x| x.contains(n)));
        if all.entries.len() >= want && noticed {
            break;
        }
    }
    all
}

fn is(batch: &Batch) -> Vec<u64> {
    batch
        .entries
        .iter()
        .map(|e| e.data["i"].as_u64().unwrap())
        .collect()
}

fn raw_append(path: &Path, bytes: &str) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes.as_bytes()).unwrap();
}

#[test]
fn sees_appends_after_the_start_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    for i in 0..3 {
        append(&path, &entry(i)).unwrap();
    }
    let mut f = Follower::from_end(&path).unwrap();
    let quiet = f.next_batch(Duration::from_millis(100)).unwrap();
    assert!(quiet.is_empty());
    for i in 3..6 {
        append(&path, &entry(i)).unwrap();
    }
    raw_append(&path, "not json\n");
    let b = collect(&mut f, 3, None);
    assert_eq!(is(&b), vec![3, 4, 5]);
    assert_eq!(b.malformed, 1);
    assert!(b.notices.is_empty());
}

#[test]
fn file_that_does_not_exist_yet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs").join("log.jsonl"); // not even the directory
    let mut f = Follower::from_end(&path).unwrap();
    assert!(f.next_batch(Duration::from_millis(50)).unwrap().is_empty());
    append(&path, &entry(0)).unwrap();
    append(&path, &entry(1)).unwrap();
    assert_eq!(is(&collect(&mut f, 2, None)), vec![0, 1]);
    append(&path, &entry(2)).unwrap();
    assert_eq!(is(&collect(&mut f, 1, None)), vec![2]);
}

#[test]
fn truncation_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    for i in 0..5 {
        append(&path, &entry(i)).unwrap();
    }
    let mut f = Follower::from_end(&path).unwrap();
    append(&path, &entry(5)).unwrap();
    assert_eq!(is(&collect(&mut f, 1, None)), vec![5]);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&path, &entry(100)).unwrap();
    let b = collect(&mut f, 1, Some("truncated"));
    assert_eq!(is(&b), vec![100]);
    assert_eq!(
        b.notices,
        vec!["log was truncated; following from its start"]
    );
}

#[test]
fn truncate_and_regrow_past_the_old_end_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    append(&path, &entry(0)).unwrap();
    let mut f = Follower::from_end(&path).unwrap();
    // Shrink and grow beyond the old length between two looks at the file.
    fs::write(&path, "").unwrap();
    for i in 10..13 {
        append(&path, &Entry::new("other", None, json!({"i": i}))).unwrap();
    }
    let b = collect(&mut f, 3, Some("truncated"));
    assert_eq!(is(&b), vec![10, 11, 12]);
}

#[test]
fn replacement_by_rename_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    append(&path, &entry(0)).unwrap();
    let mut f = Follower::from_end(&path).unwrap();
    append(&path, &entry(1)).unwrap();
    let fresh = dir.path().join("log.jsonl.new");
    append(&fresh, &entry(50)).unwrap();
    append(&fresh, &entry(51)).unwrap();
    fs::rename(&fresh, &path).unwrap();
    let b = collect(&mut f, 3, Some("replaced"));
    // What the old file still had comes first, then the new file from its start.
    assert_eq!(is(&b), vec![1, 50, 51]);
    append(&path, &entry(52)).unwrap();
    assert_eq!(is(&collect(&mut f, 1, None)), vec![52]);
}

#[test]
fn removal_and_recreation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    append(&path, &entry(0)).unwrap();
    let mut f = Follower::from_end(&path).unwrap();
    fs::remove_file(&path).unwrap();
    let b = collect(&mut f, 0, Some("removed"));
    assert!(b.entries.is_empty());
    append(&path, &entry(7)).unwrap();
    let b = collect(&mut f, 1, Some("recreated"));
    assert_eq!(is(&b), vec![7]);
}

#[test]
fn partial_line_is_held_back_until_complete() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    append(&path, &entry(0)).unwrap();
    let mut f = Follower::from_end(&path).unwrap();
    let line = entry(1).to_line();
    let (first, rest) = line.split_at(line.len() / 2);
    raw_append(&path, first);
    let b = f.next_batch(Duration::from_millis(700)).unwrap();
    assert!(b.is_empty(), "{b:?}");
    raw_append(&path, rest);
    let b = collect(&mut f, 1, None);
    assert_eq!((is(&b), b.malformed), (vec![1], 0));
}

#[test]
fn polling_works_without_a_watcher() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    let mut f = Follower::from_end(&path).unwrap();
    f.watch = None;
    let start = Instant::now();
    assert!(f.next_batch(Duration::from_millis(250)).unwrap().is_empty());
    assert!(start.elapsed() >= Duration::from_millis(250));
    append(&path, &entry(3)).unwrap();
    assert_eq!(is(&collect(&mut f, 1, None)), vec![3]);
}
