//! The experiment log from the outside: concurrent appends by separate processes, `brl log` on a
//! damaged file, `brl emit`, and `--follow`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use brl::store::log::{self, Entry};
use common::World;

const CHILD_ENV: &str = "BRL_TEST_APPEND_CHILD";

/// Not a test on its own: the body of each appending child process (see below).
#[test]
fn append_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (path, id) = spec.split_once('|').expect("path|id");
    for i in 0..2000 {
        let e = Entry::new(
            "stress",
            Some(id),
            serde_json::json!({"i": i, "pad": "x".repeat(i % 300)}),
        );
        log::append(std::path::Path::new(path), &e).expect("append");
    }
}

#[test]
fn eight_processes_appending_2000_lines_each_make_16000_valid_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("logs/experiment-log.jsonl");
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..8)
        .map(|p| {
            Command::new(&exe)
                .args(["--exact", "append_child", "--nocapture", "--test-threads=1"])
                .env(CHILD_ENV, format!("{}|p{p}", path.display()))
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").success());
    }
    let text = std::fs::read_to_string(&path).expect("log");
    let mut per_child = std::collections::HashMap::new();
    for line in text.lines() {
        let e: Entry = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("torn or interleaved line ({err}): {line}"));
        *per_child
            .entry(e.session.clone().expect("session"))
            .or_insert(0) += 1;
    }
    assert_eq!(text.lines().count(), 16_000);
    assert_eq!(per_child.len(), 8);
    assert!(per_child.values().all(|&n| n == 2000), "{per_child:?}");
}

#[test]
fn brl_log_skips_garbage_and_a_torn_last_line_and_warns() {
    let w = World::new(1);
    let path = w.home.join("logs/experiment-log.jsonl");
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    let good = |i: u32| {
        Entry::new(
            "ralph_cycle",
            Some("s1"),
            serde_json::json!({"outcome": "kept", "i": i}),
        )
        .to_line()
    };
    let text = format!(
        "{}{}this is not json\n{}{{\"ts\": \"2026-",
        good(1),
        good(2),
        good(3)
    );
    std::fs::write(&path, text).expect("write");
    let (code, out, err) = w.run(&["log"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.contains("ralph_cycle") && out.contains("kept"), "{out}");
    assert!(
        err.contains("2") && err.contains(&path.display().to_string()),
        "{err}"
    );
    let (_, out, _) = w.run(&["log", "--json", "-n", "2"]);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .iter()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
}

#[test]
fn emit_appends_and_filters_work() {
    let w = World::new(1);
    assert_eq!(
        w.run(&[
            "emit",
            "custom_event",
            "--session",
            "s1",
            "--data",
            r#"{"k": 1}"#
        ])
        .0,
        0
    );
    assert_eq!(w.run(&["emit", "other", "--data", "{}"]).0, 0);
    let (code, _, err) = w.run(&["emit", "bad", "--data", "{nope"]);
    assert_ne!(code, 0);
    assert!(err.contains("not valid JSON"), "{err}");
    let (_, out, _) = w.run(&["log", "--type", "custom_event"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("k=1"), "{out}");
    let (_, out, _) = w.run(&["log", "--session", "s1", "--json"]);
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn follow_prints_new_entries_and_survives_truncation() {
    let w = World::new(1);
    let mut child = w
        .spawnable()
        .args(["log", "--follow", "--json", "-n", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.expect("line")).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let path = w.home.join("logs/experiment-log.jsonl");
    log::append(&path, &Entry::new("first", None, serde_json::json!({}))).expect("append");
    let got = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("first entry followed");
    assert!(got.contains("\"first\""), "{got}");
    std::fs::write(&path, "").expect("truncate");
    std::thread::sleep(Duration::from_millis(700));
    log::append(
        &path,
        &Entry::new("after_truncate", None, serde_json::json!({})),
    )
    .expect("append");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = false;
    while Instant::now() < deadline && !seen {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            seen = l.contains("after_truncate");
        }
    }
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(seen, "the entry after truncation was not followed");
}
