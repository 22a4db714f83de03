//! Tests of `loader.rs`: the preview follows a pane log on change only; reasons from the files.
use std::io::Write;
use std::sync::mpsc::RecvTimeoutError;

use super::*;

/// The next preview the loader sends, within `secs`.
fn next_preview(rx: &Receiver<Msg>, secs: u64) -> Option<super::super::data::Preview> {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(Msg::Part(Part::Preview(p))) => return p,
            Ok(_) => continue,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
        }
    }
}

#[test]
fn the_preview_follows_the_pane_log_as_it_is_written_and_only_then() {
    let d = tempfile::tempdir().expect("tempdir");
    let home = Home::new(d.path());
    let config: Config =
        toml::from_str("repo = \"r\"\nsessions = 2\n[agent]\ncommand = \"a\"\n").expect("config");
    let (tx, rx) = mpsc::channel();
    let loader = Loader::spawn(&home, &config, tx);
    loader.send(Request::Preview(Some("s1".into())));
    let p = next_preview(&rx, 5).expect("a first preview");
    assert_eq!(p.session, "s1");
    assert!(p.note.is_some_and(|n| n.contains("no output yet")));
    // The pane's writer keeps the log open and appends: each write is seen.
    let path = home.session_logs_dir("s1").join("pane.log");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("open pane.log");
    f.write_all(b"\x1b]0;title\x07\x1b[32mcompiling\x1b[0m\n")
        .expect("write");
    let p = next_preview(&rx, 5).expect("a preview after the write");
    assert_eq!(p.lines, ["\u{1b}[32mcompiling\u{1b}[0m"]);
    f.write_all(b"done\n").expect("write");
    let p = next_preview(&rx, 5).expect("a preview after the second write");
    assert_eq!(p.lines.last().map(String::as_str), Some("done"));
    // A quiet pane: nothing more is sent.
    assert!(
        next_preview(&rx, 1).is_none(),
        "no preview while nothing is written"
    );
    // Another session selected: its output, and s1's writes no longer wake anyone.
    loader.send(Request::Preview(Some("s2".into())));
    assert_eq!(next_preview(&rx, 5).expect("s2's preview").session, "s2");
    f.write_all(b"more\n").expect("write");
    assert!(
        next_preview(&rx, 1).is_none(),
        "s1 is not followed any more"
    );
}

#[test]
fn the_loader_says_why_nothing_happens_from_the_files() {
    use crate::store::atomic::LockGuard;
    use crate::store::control::{SessionControl, WorkerState, worker_lock_path};
    let d = tempfile::tempdir().expect("tempdir");
    let home = Home::new(d.path());
    std::fs::create_dir_all(home.locks_dir()).expect("mkdir");
    let config: Config = toml::from_str(
        "repo = \"r\"\nsessions = 1\n[agent]\ncommand = \"a\"\n[budget]\nmax_cycles_per_day = 1\n",
    )
    .expect("config");
    // A live, waiting worker (this process holds its lock) and one cycle done today.
    let _lock = LockGuard::try_exclusive(&worker_lock_path(&home, "s1"))
        .expect("lock")
        .expect("free");
    SessionControl::new(&home, "s1")
        .set_state(std::process::id(), WorkerState::Waiting, None)
        .expect("write");
    crate::store::log::append(
        &home.log_path(),
        &crate::store::log::Entry::new(
            "ralph_cycle",
            Some("s1"),
            serde_json::json!({"outcome": "kept", "cost_usd": 0.1}),
        ),
    )
    .expect("append");
    let (tx, rx) = mpsc::channel();
    let loader = Loader::spawn(&home, &config, tx);
    loader.send(Request::Reload(What::ALL.to_vec()));
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let why = loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(Msg::Part(Part::Why(w))) => break w,
            Ok(_) => continue,
            Err(e) => panic!("no reasons sent: {e}"),
        }
    };
    let keys: Vec<&str> = why.iter().map(|w| w.key).collect();
    // Nobody holds the control lock: no control room; and the budget holds the cycle back.
    assert_eq!(keys, ["no_control_room", "budget"], "{why:?}");
    assert!(why[1].text.contains("1 of 1 cycles today"), "{why:?}");
}
