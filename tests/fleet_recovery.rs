//! What survives a death around the control room: the tmux server killed under a running
//! fleet, and `brl down` against a worker that ignores SIGTERM. Real tmux on a private socket,
//! real workers and git, fake agents.

mod common;

use std::time::Duration;

use common::agent;
use common::room::{Room, wait_for};

#[test]
fn a_killed_tmux_server_is_noticed_and_the_fleet_cycles_again() {
    let mut r = Room::new(2, &agent("slow_fix.sh"), "");
    r.up(&[]);
    wait_for(60, "a cycle in its hack phase", || {
        r.control("s1").phase.as_deref() == Some("hack")
    });
    let old_panes: Vec<String> = r.panes().into_iter().map(|p| p.0).collect();
    let before = r.entries("ralph_cycle").len();
    assert!(r.tmux(&["kill-server"]), "kill-server");
    // Noticed at the next check (check_secs = 1), said once.
    wait_for(10, "the vanishing to be noticed", || {
        !r.entries("tmux_recreated").is_empty()
    });
    let recreated = r.entries("tmux_recreated");
    assert_eq!(recreated.len(), 1, "{recreated:?}");
    assert_eq!(recreated[0]["data"]["panes_before"], 2, "{recreated:?}");
    // The panes come back on a new server as soon as the old workers (SIGHUP) have exited, or,
    // when one ignores it, after the control room killed it past its grace period.
    let grace = brl::control::fleet::OLD_WORKER_GRACE.as_secs();
    wait_for(grace + 15, "the panes on a new tmux server", || {
        let p = r.panes();
        p.len() == 2 && p.iter().all(|p| !p.3)
    });
    for e in r.entries("worker_killed") {
        assert!(
            e["data"]["reason"]
                .as_str()
                .is_some_and(|t| t.contains("did not exit")),
            "{e}"
        );
    }
    // New cycles are recorded after the old workers' interrupted ones, in both sessions.
    wait_for(90, "both sessions to cycle again", || {
        let cycles = r.entries("ralph_cycle");
        ["s1", "s2"].iter().all(|s| {
            cycles[before..]
                .iter()
                .any(|c| c["session"] == *s && c["data"]["outcome"] != "interrupted")
        })
    });
    // Still one vanishing, said once: no spinning on the new server.
    assert_eq!(r.entries("tmux_recreated").len(), 1);
    assert_eq!(r.panes().len(), 2, "{:?} (old: {old_panes:?})", r.panes());
    let (code, out, err) = r.w.run(&["down", "--wait-secs", "10"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn down_kills_a_worker_that_ignores_sigterm_and_exits_0() {
    let r = Room::new(1, &agent("fix_one.sh"), "");
    let home = r.w.home.display().to_string();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents/stubborn_worker.sh");
    // A pane tagged with this home, in its tmux session, running the stubborn worker.
    let session = r.tmux_session();
    assert!(r.tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        &format!("sh '{}' '{home}'", script.display()),
        ";",
        "set-option",
        "-p",
        "@brl_home",
        &home,
        ";",
        "set-option",
        "-p",
        "@brl_session",
        "s1",
    ]));
    let pgid_file = r.w.home.join("logs/sessions/s1/running.pgid");
    wait_for(10, "the stubborn worker and its agent", || {
        r.workers().len() == 1 && pgid_file.exists()
    });
    let worker = r.workers()[0].1 as i32;
    let agent_pid: i32 = std::fs::read_to_string(&pgid_file)
        .expect("running.pgid")
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a pid");
    assert_eq!(r.panes().len(), 1, "{:?}", r.panes());

    let start = std::time::Instant::now();
    let (code, out, err) = r.w.run(&["down", "--wait-secs", "2"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert!(out.contains("did not stop within 2 s of SIGTERM"), "{out}");
    assert!(
        out.contains(&format!("s1: killed the agent's process group {agent_pid}")),
        "{out}"
    );
    assert!(
        out.contains(&format!("s1: killed the worker (pid {worker})")),
        "{out}"
    );
    assert!(out.contains("everything of"), "{out}");
    assert!(!brl::proc::is_running(worker), "the worker still runs");
    assert!(!brl::proc::is_running(agent_pid), "the agent still runs");
    assert!(r.panes().is_empty(), "{:?}", r.panes());
    assert!(r.workers().is_empty());
}
