//! Two homes on one machine, with brl.toml saying nothing about a tmux session or a port: each
//! gets its own session and port, derived from its path, and `brl down` on one never touches
//! the other — not even when a user makes them share a tmux session by hand.

mod common;

use std::time::Duration;

use brl::server::occupant::{self, Occupant};
use common::agent;
use common::room::{Room, wait_for};

/// A room on `socket` (another room's private tmux server) instead of its own.
fn on_socket(r: &mut Room, socket: &str) {
    let path = r.w.home.join("brl.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    let text = text.replace(
        &format!("socket = \"{}\"", r.socket),
        &format!("socket = \"{socket}\""),
    );
    std::fs::write(&path, text).expect("write config");
    r.socket = socket.to_string();
}

/// The panes of this room's home (the shared server has the other home's too).
fn own_panes(r: &Room) -> Vec<(String, String, String, bool, String)> {
    let home = r.w.home.display().to_string();
    r.panes().into_iter().filter(|p| p.2 == home).collect()
}

fn config(r: &Room) -> brl::config::Config {
    brl::home::Home::new(&r.w.home)
        .load_config()
        .expect("config")
}

#[test]
fn two_homes_with_default_config_never_touch_each_other() {
    // The HTTP server on, at the derived port (no `listen` line); no `session` line either.
    let extra = "[server]\nenabled = true\n";
    let mut a = Room::new(2, &agent("slow_fix.sh"), extra);
    let mut b = Room::new(2, &agent("slow_fix.sh"), extra);
    let socket = a.socket.clone();
    on_socket(&mut b, &socket);
    let (ca, cb) = (config(&a), config(&b));
    assert!(ca.tmux.session_derived && cb.tmux.session_derived);
    assert!(ca.server.listen_derived && cb.server.listen_derived);
    assert_ne!(ca.tmux.session, cb.tmux.session);
    assert_ne!(ca.server.listen, cb.server.listen);
    // `brl status` says where each home lives, and that it is derived.
    let (code, out, _) = a.w.run(&["status"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&ca.tmux.session) && out.contains(&ca.server.listen.to_string()),
        "{out}"
    );
    assert!(out.contains("derived from this home's path"), "{out}");

    let slow = [("BRL_TEST_AGENT_SECS", "6")];
    a.up_with_env(&[], &slow);
    b.up_with_env(&[], &slow);
    // Each control room serves its own home on its own port.
    for (r, c) in [(&a, &ca), (&b, &cb)] {
        let home = r.w.home.display().to_string();
        wait_for(20, "the HTTP server", || {
            occupant::ask(c.server.listen, Duration::from_secs(2))
                == Occupant::Brl { home: home.clone() }
        });
    }
    wait_for(60, "both homes' s1 in their hack phase", || {
        a.control("s1").phase.as_deref() == Some("hack")
            && b.control("s1").phase.as_deref() == Some("hack")
    });
    let b_branch = b.control("s1").branch.expect("b's cycle branch");
    let b_panes = own_panes(&b);
    let b_workers = b.workers();
    assert_eq!(b_panes.len(), 2, "{b_panes:?}");
    assert!(
        b_panes.iter().all(|p| p.4 == cb.tmux.session),
        "{b_panes:?}"
    );
    assert!(own_panes(&a).iter().all(|p| p.4 == ca.tmux.session));

    // `brl down` on A while B's cycle is in flight.
    let (code, out, err) = a.w.run(&["down", "--wait-secs", "20"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        !out.contains(&cb.tmux.session),
        "A's down named B's session: {out}"
    );
    assert!(own_panes(&a).is_empty(), "{:?}", own_panes(&a));
    assert!(!a.tmux(&["has-session", "-t", &format!("={}", ca.tmux.session)]));
    let status = a
        .child
        .take()
        .expect("A's control room")
        .wait()
        .expect("wait");
    assert!(status.success(), "{status:?}");

    // B is untouched: the same panes and workers, and its cycle finishes and is kept.
    assert_eq!(own_panes(&b), b_panes);
    assert_eq!(b.workers(), b_workers);
    wait_for(60, "B's in-flight cycle to be recorded", || {
        b.entries("ralph_cycle")
            .iter()
            .any(|c| c["data"]["branch"] == b_branch.as_str())
    });
    let cycle = b
        .entries("ralph_cycle")
        .into_iter()
        .find(|c| c["data"]["branch"] == b_branch.as_str())
        .expect("B's cycle");
    assert_eq!(cycle["data"]["outcome"], "kept", "{cycle}");
    assert!(
        b.w.queue().iter().any(|e| e["branch"] == b_branch.as_str()),
        "B's kept branch is in B's queue"
    );
    assert!(
        b.entries("ralph_cycle")
            .iter()
            .all(|c| c["data"]["outcome"] != "interrupted")
    );

    // A third home asking for B's port by hand is told which home holds it.
    let mut c = Room::new(
        1,
        &agent("fix_one.sh"),
        &format!("[server]\nlisten = \"{}\"\n", cb.server.listen),
    );
    on_socket(&mut c, &socket);
    let (code, out, err) = c.w.run(&["up", "--no-tui"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains(&b.w.home.display().to_string())
            && err.contains(&cb.server.listen.to_string())
            && err.contains("[server] listen"),
        "{err}"
    );
    assert!(
        own_panes(&c).is_empty(),
        "no pane made before the port check"
    );

    let (code, out, err) = b.w.run(&["down", "--wait-secs", "20"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_session_shared_by_hand_keeps_the_other_homes_panes() {
    let shared = "[tmux]\nsession = \"shared\"\n";
    let mut a = Room::new(1, &agent("fix_one.sh"), "");
    let mut b = Room::new(1, &agent("fix_one.sh"), "");
    let socket = a.socket.clone();
    on_socket(&mut b, &socket);
    for r in [&a, &b] {
        // Room puts its own [tmux] table last: the session goes into it.
        let path = r.w.home.join("brl.toml");
        let text = std::fs::read_to_string(&path).expect("config");
        std::fs::write(&path, text.replace("[tmux]\n", shared)).expect("write");
        assert_eq!(config(r).tmux.session, "shared");
    }
    a.up(&[]);
    wait_for(30, "A's pane", || own_panes(&a).len() == 1);
    b.up(&[]);
    wait_for(30, "B's pane", || own_panes(&b).len() == 1);
    let b_pane = own_panes(&b);
    assert_eq!(b_pane[0].4, "shared");

    let (code, out, err) = a.w.run(&["down", "--wait-secs", "10"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("tmux session `shared` kept"), "{out}");
    assert!(own_panes(&a).is_empty());
    assert_eq!(own_panes(&b), b_pane, "B's pane is untouched");
    assert!(!b.workers().is_empty(), "B's worker still runs");

    let (code, out, err) = b.w.run(&["down", "--wait-secs", "10"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("tmux session `shared` closed"), "{out}");
    assert!(!b.tmux(&["has-session", "-t", "=shared"]));
}

#[test]
fn init_writes_no_fixed_session_or_port_and_shows_the_derived_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut seen = Vec::new();
    for name in ["one", "two"] {
        let home = dir.path().join(name);
        let out = assert_cmd::Command::cargo_bin("brl")
            .expect("binary")
            .arg("--home")
            .arg(&home)
            .env_remove("BRL_HOME")
            .arg("init")
            .output()
            .expect("brl init");
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let config = brl::home::Home::new(&home).load_config().expect("valid");
        assert!(config.tmux.session_derived && config.server.listen_derived);
        // The output names the values this home will use, and says where they come from.
        assert!(
            stdout.contains(&format!("session `{}`", config.tmux.session))
                && stdout.contains(&config.server.listen.to_string())
                && stdout.contains("derived from this home's path"),
            "{stdout}"
        );
        let text = std::fs::read_to_string(home.join("brl.toml")).expect("brl.toml");
        for line in text.lines() {
            let l = line.trim_start();
            assert!(
                !l.starts_with("session =") && !l.starts_with("listen ="),
                "a fixed value in the template: {line}"
            );
        }
        seen.push((config.tmux.session, config.server.listen));
    }
    assert_ne!(seen[0].0, seen[1].0);
    assert_ne!(seen[0].1, seen[1].1);
}

#[test]
fn panes_left_in_the_session_brl_toml_named_before_are_not_doubled() {
    // A home whose brl.toml said `session = "brl"` (the old template's value) runs...
    let mut r = Room::new(2, &agent("fix_one.sh"), "");
    let path = r.w.home.join("brl.toml");
    let derived = std::fs::read_to_string(&path).expect("config");
    std::fs::write(
        &path,
        derived.replace("[tmux]\n", "[tmux]\nsession = \"brl\"\n"),
    )
    .expect("write");
    r.up(&[]);
    wait_for(30, "two panes in `brl`", || {
        let p = own_panes(&r);
        p.len() == 2 && p.iter().all(|p| p.4 == "brl")
    });
    wait_for(30, "both workers", || r.workers().len() == 2);
    let (status, _) = r.stop();
    assert!(status.success());
    // ...then the line is removed: the session is derived now, the old panes still run.
    std::fs::write(&path, &derived).expect("write");
    let before = r.entries("ralph_cycle").len();
    r.up(&[]);
    wait_for(30, "the restart", || {
        r.entries("control_started").len() == 2
    });
    wait_for(30, "worker_elsewhere for both sessions", || {
        r.entries("worker_elsewhere").len() == 2
    });
    // No second worker per session: no new pane, no respawn loop; the old workers go on cycling.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(own_panes(&r).len(), 2, "{:?}", own_panes(&r));
    assert_eq!(r.entries("pane_created").len(), 2);
    assert!(r.entries("worker_respawned").is_empty());
    assert_eq!(r.entries("worker_elsewhere").len(), 2, "said once each");
    wait_for(60, "cycles to go on", || {
        r.entries("ralph_cycle").len() >= before + 2
    });
    // brl down closes this home's panes wherever they are.
    let (code, out, err) = r.w.run(&["down", "--wait-secs", "20"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(own_panes(&r).is_empty(), "{:?}", own_panes(&r));
    assert!(out.contains("tmux session `brl` closed"), "{out}");
}
