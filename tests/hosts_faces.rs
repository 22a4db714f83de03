//! The CLI across hosts: `brl pause|resume|stop|restart <host>-sN` and `brl task add --session
//! <host>-sN` on the control host reach a `[[hosts]]` host's session (a real OpenSSH server on
//! loopback) — the op runs on the host, in its own home, over its ssh; a paused host session gets
//! no grant from the control room until resumed; an unreachable host makes the op fail with an
//! error naming the host and the fix.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use brl::config::HostConfig;
use brl::home::Home;
use brl::hosts::fleet::{host_paths, tmux_socket};
use brl::store::control::{SessionControl, WorkerState};
use common::room::{Room, Server, wait_for};
use common::sshd::Sshd;
use common::{agent, git};

/// `brl hosts setup` for real, then a committer identity in the host's clone.
fn set_up(room: &Room, h: &HostConfig) -> PathBuf {
    let (code, out, err) = room.w.run(&["hosts", "setup"]);
    assert_eq!(code, 0, "{out}{err}");
    let p = host_paths(h);
    git(&p.repo, &["config", "user.name", "Host"]);
    git(&p.repo, &["config", "user.email", "host@example.invalid"]);
    p.home
}

/// The entries of a host's own log of one kind for one session.
fn host_entries(home: &Path, kind: &str, session: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(home.join("logs/experiment-log.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == kind && v["session"] == session)
        .collect()
}

fn control(home: &Path, session: &str) -> brl::store::control::Control {
    SessionControl::new(&Home::new(home), session)
        .load()
        .expect("the host's control file reads")
}

#[test]
fn session_ops_reach_a_host_session_over_its_ssh() {
    let mut a = Sshd::start("a");
    let ha = a.host_config(1);
    let extra = format!(
        "[scheduler]\ninterval_secs = 3600\n\n[review]\nmax_pending = 0\n\n{}",
        a.host_toml(1)
    );
    let mut room = Room::new(1, &agent("fix_one.sh"), &extra);
    let home_a = set_up(&room, &ha);
    let _server = Server(tmux_socket(&ha));

    // Before the control room runs: paused on the host, by the CLI, logged there.
    let (code, out, err) = room.w.run(&["pause", "a-s1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("session a-s1 is paused"), "{out}");
    assert!(control(&home_a, "a-s1").paused.is_some());
    let paused = host_entries(&home_a, "session_paused", "a-s1");
    assert_eq!(paused.len(), 1, "{paused:?}");
    assert_eq!(paused[0]["data"]["by"], "cli");
    // Tasks stay central: the name of a host's session is accepted, the task is queued here.
    let (code, out, err) = room
        .w
        .run(&["task", "add", "for host a", "--session", "a-s1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("session a-s1 takes it next"), "{out}");
    // An unknown name is refused with the fleet's names.
    let (code, _, err) = room.w.run(&["pause", "a-s2"]);
    assert_ne!(code, 0);
    assert!(err.contains("a-s1..a-s1 on host `a`"), "{err}");

    // The control room runs: the local session cycles, the paused host session gets no grant.
    room.up(&[]);
    wait_for(45, "two local cycles", || room.w.cycles().len() >= 2);
    wait_for(30, "the host's worker", || {
        SessionControl::new(&Home::new(&home_a), "a-s1")
            .worker_alive()
            .unwrap_or(false)
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        control(&home_a, "a-s1").grants,
        0,
        "a paused session got a grant"
    );

    // Resumed from the control host: it is granted a cycle with its task, which runs there.
    let (code, out, err) = room.w.run(&["resume", "a-s1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("session a-s1 is resumed"), "{out}");
    wait_for(60, "a cycle on the host session", || {
        !host_entries(&home_a, "ralph_cycle", "a-s1").is_empty()
    });
    assert!(control(&home_a, "a-s1").grants >= 1);

    // Paused again and settled: stopping a cycle that does not run is the host's refusal,
    // relayed with the host's name.
    let (code, out, err) = room.w.run(&["pause", "a-s1"]);
    assert_eq!(code, 0, "{out}{err}");
    wait_for(60, "the host session out of its cycle", || {
        control(&home_a, "a-s1").state != WorkerState::Cycle
    });
    let (code, _, err) = room.w.run(&["stop", "a-s1"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("on host `a`") && err.contains("runs no cycle now"),
        "{err}"
    );

    // Restart: the host's worker gets SIGTERM there and the control room respawns its pane.
    let before = SessionControl::new(&Home::new(&home_a), "a-s1")
        .load()
        .ok()
        .and_then(|c| c.pid);
    let (code, out, err) = room.w.run(&["restart", "a-s1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("is stopping"), "{out}");
    let restarted = host_entries(&home_a, "session_restarted", "a-s1");
    assert_eq!(restarted.len(), 1, "{restarted:?}");
    assert_eq!(restarted[0]["data"]["by"], "cli");
    wait_for(45, "a new worker on the host", || {
        let c = SessionControl::new(&Home::new(&home_a), "a-s1");
        c.worker_alive().unwrap_or(false) && c.load().ok().and_then(|c| c.pid) != before
    });

    // The host goes away: the op fails, naming the host and the fix.
    a.drop_connections();
    a.pause();
    let (code, _, err) = room.w.run(&["resume", "a-s1"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("host `a` is unreachable") && err.contains("fix:"),
        "{err}"
    );
    assert!(control(&home_a, "a-s1").paused.is_some(), "still paused");
    a.resume();
    let (code, out, err) = room.w.run(&["resume", "a-s1"]);
    assert_eq!(code, 0, "{out}{err}");
    room.stop();
}

/// The live preview of a host's session: the end of its pane log on the host, read over ssh,
/// colours kept and other control sequences dropped; at most one read a second; "(host a
/// unreachable)" when its sshd is down.
#[test]
fn the_preview_of_a_host_session_reads_its_pane_log_over_ssh() {
    use brl::tui::preview_remote;
    use std::sync::{Arc, Mutex};

    let mut a = Sshd::start("a");
    let ha = a.host_config(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let home = Home::new(dir.path());
    let ssh = brl::hosts::Ssh::new(&home, &ha);
    let log = preview_remote::pane_log(&ha, "a-s1");
    // Both servers log in as this user: the host's files are this machine's.
    assert_eq!(
        PathBuf::from(&log),
        host_paths(&ha).home.join("logs/sessions/a-s1/pane.log")
    );
    let p = preview_remote::read(&ssh, &log, "a-s1");
    assert!(p.lines.is_empty());
    assert!(
        p.note
            .as_deref()
            .is_some_and(|n| n.contains("does not exist on host a")),
        "{p:?}"
    );

    let path = PathBuf::from(&log);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(
        &path,
        "first\n\u{1b}]0;title\u{7}\u{1b}[31mred\u{1b}[0m \u{1b}[2Jcleared\nlast line\n",
    )
    .expect("write");
    let p = preview_remote::read(&ssh, &log, "a-s1");
    assert_eq!(
        p.lines,
        ["first", "\u{1b}[31mred\u{1b}[0m cleared", "last line"],
        "{p:?}"
    );
    assert_eq!(p.note, None);

    // The poller: one read at once, then at most one a second.
    let seen: Arc<Mutex<Vec<brl::tui::data::Preview>>> = Arc::default();
    let got = Arc::clone(&seen);
    let stop = preview_remote::spawn(&home, &ha, "a-s1", move |p| {
        got.lock().expect("lock").push(p);
        true
    });
    std::thread::sleep(Duration::from_millis(3500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let n = seen.lock().expect("lock").len();
    assert!((2..=4).contains(&n), "{n} reads in 3.5 s");
    assert!(
        seen.lock()
            .expect("lock")
            .iter()
            .all(|p| p.lines.last().map(String::as_str) == Some("last line"))
    );

    // The host goes away: said, not a stale screen.
    a.drop_connections();
    a.pause();
    ssh.close();
    let p = preview_remote::read(&ssh, &log, "a-s1");
    assert!(p.lines.is_empty(), "{p:?}");
    assert_eq!(p.note.as_deref(), Some("(host a unreachable)"));
    a.resume();
    ssh.close();
}
