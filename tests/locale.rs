//! brl in any locale: with `LANG` and every `LC_*` removed, or `LANG=C` (PM2, cron, systemd, ssh
//! without locale forwarding), a tmux client prints control characters and non-ASCII bytes as
//! `_`. The control room, its workers, `brl status`, `brl down` and the dashboard must work all
//! the same — here on a home whose path is not ASCII, so a mangled tag would show.

mod common;

use std::process::Command;

use common::agent;
use common::room::{Room, wait_for};

/// The environment variables that choose a locale.
fn locale_vars() -> Vec<String> {
    let mut v: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("LC_"))
        .collect();
    v.extend(["LANG".into(), "LANGUAGE".into(), "LC_ALL".into()]);
    v
}

/// Remove every locale variable from `cmd`, then set `set` (e.g. `LANG=C`).
fn no_locale(cmd: &mut Command, set: Option<(&str, &str)>) {
    for k in locale_vars() {
        cmd.env_remove(k);
    }
    if let Some((k, v)) = set {
        cmd.env(k, v);
    }
}

/// A room whose home lives at a non-ASCII path.
fn room_at_non_ascii_home(sessions: usize) -> Room {
    let mut r = Room::new(sessions, &agent("fix_one.sh"), "");
    let moved = r.w.dir.path().join("hôme-été");
    std::fs::rename(&r.w.home, &moved).expect("move the home");
    r.out = moved.join("up.out");
    r.w.home = moved;
    r
}

/// `brl <args>` on the room's home with the locale set up by `set`.
fn brl(r: &Room, args: &[&str], set: Option<(&str, &str)>) -> (i32, String, String) {
    let mut c = r.w.spawnable();
    c.args(args);
    no_locale(&mut c, set);
    let out = c.output().expect("brl runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn control_room_in(set: Option<(&str, &str)>) {
    let mut r = room_at_non_ascii_home(2);
    r.up_with(&[], |c| no_locale(c, set));
    wait_for(60, "a kept cycle in each session", || {
        let cycles = r.entries("ralph_cycle");
        ["s1", "s2"].iter().all(|s| {
            cycles
                .iter()
                .any(|c| c["session"] == *s && c["data"]["outcome"] == "kept")
        })
    });
    // Each pane made once, tagged with the home's exact (non-ASCII) path, none duplicated.
    let home = r.w.home.display().to_string();
    let panes = r.panes();
    assert_eq!(panes.len(), 2, "{panes:?}");
    assert!(panes.iter().all(|p| p.2 == home && !p.3), "{panes:?}");
    assert_eq!(r.entries("pane_created").len(), 2);
    assert!(r.entries("worker_respawned").is_empty());
    assert!(r.entries("tmux_check_failed").is_empty());
    // The control room still adopts its panes after the first check (no "duplicate session").
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(r.entries("pane_created").len(), 2);
    let child = r.child.as_mut().expect("control room");
    assert!(child.try_wait().expect("wait").is_none(), "it still runs");

    let (code, out, err) = brl(&r, &["status"], set);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("scheduling") && out.contains("s1") && out.contains("s2"),
        "{out}"
    );
    // It reads the panes from tmux, in this locale too.
    let pane_line = out
        .lines()
        .find(|l| l.starts_with("panes:"))
        .unwrap_or_else(|| panic!("no panes line: {out}"));
    for p in &panes {
        assert!(pane_line.contains(&format!("{} {}", p.1, p.0)), "{out}");
    }
    assert!(
        !pane_line.contains("DEAD") && !pane_line.contains("ERROR"),
        "{out}"
    );
    let (code, out, err) = brl(&r, &["down", "--wait-secs", "20"], set);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("closed this home's panes"), "{out}");
    assert!(r.panes().is_empty(), "{:?}", r.panes());
    let status = r.child.take().expect("control room").wait().expect("wait");
    assert!(status.success(), "{status:?}");
}

#[test]
fn the_control_room_works_with_no_locale_at_all() {
    control_room_in(None);
}

#[test]
fn the_control_room_works_with_lang_c() {
    control_room_in(Some(("LANG", "C")));
}

/// What the terminal pane `term` shows now.
fn screen(r: &Room) -> String {
    let out = Command::new("tmux")
        .args(["-u", "-L", &r.socket, "capture-pane", "-p", "-t", "=term:"])
        .output()
        .expect("tmux capture-pane");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_dashboard_opens_with_no_locale() {
    let r = room_at_non_ascii_home(2);
    let exe = assert_cmd::cargo::cargo_bin("brl");
    let cmd = format!(
        "'{}' --home '{}' up; echo \"[brl up exited $?]\"; sleep 60",
        exe.display(),
        r.w.home.display()
    );
    // The test's tmux server itself starts with no locale: so do its panes, the dashboard in
    // one of them, and the control room the dashboard starts.
    let mut tmux = Command::new("tmux");
    tmux.args(["-L", &r.socket, "new-session", "-d", "-s", "term"])
        .args(["-x", "120", "-y", "40", &cmd]);
    no_locale(&mut tmux, None);
    assert!(tmux.status().expect("tmux").success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let s = screen(&r);
        if s.contains("Sessions") && s.contains("scheduling") && s.contains("s2") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the dashboard did not show a scheduling control room; the screen shows:\n{s}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // The control room it started runs in this home's tmux session, tagged with the home.
    wait_for(30, "the two worker panes", || r.panes().len() == 2);
    assert!(r.tmux(&["send-keys", "-t", "=term:", "q"]));
    wait_for(15, "the dashboard to close", || {
        screen(&r).contains("[brl up exited 0]")
    });
    let (code, out, err) = brl(&r, &["down", "--wait-secs", "20"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("control"),
        "the control pane is closed too: {out}"
    );
}

#[test]
fn brl_up_says_why_its_control_room_did_not_start() {
    // The control room cannot start: its port is held by something that is not brl.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let r = Room::new(
        1,
        &agent("fix_one.sh"),
        &format!("[server]\nlisten = \"{addr}\"\n"),
    );
    let exe = assert_cmd::cargo::cargo_bin("brl");
    let cmd = format!(
        "'{}' --home '{}' up; echo \"[brl up exited $?]\"; sleep 60",
        exe.display(),
        r.w.home.display()
    );
    let mut tmux = Command::new("tmux");
    tmux.args(["-L", &r.socket, "new-session", "-d", "-s", "term"])
        .args(["-x", "150", "-y", "50", &cmd]);
    no_locale(&mut tmux, None);
    assert!(tmux.status().expect("tmux").success());
    let joined = || {
        let out = Command::new("tmux")
            .args([
                "-u",
                "-L",
                &r.socket,
                "capture-pane",
                "-p",
                "-J",
                "-t",
                "=term:",
            ])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    let screen = loop {
        let s = joined();
        if s.contains("[brl up exited") {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "brl up did not end; the screen shows:\n{s}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(!screen.contains("[brl up exited 0]"), "{screen}");
    assert!(
        screen.contains("the control room did not start")
            && screen.contains(&addr.to_string())
            && screen.contains("not brl"),
        "the reason is shown: {screen}"
    );
    drop(taken);
}
