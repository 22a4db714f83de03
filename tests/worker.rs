//! `brl worker`: one cycle per grant, and a clean stop on SIGTERM in the middle of a cycle.

mod common;

use std::time::{Duration, Instant};

use common::{World, agent};

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn term(child: &std::process::Child) {
    // SAFETY: sends SIGTERM to the child this test started, by its pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
}

#[test]
fn worker_runs_one_cycle_per_grant_until_stopped() {
    let w = World::new(1);
    let mut child = w.spawn_worker("s1");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(w.cycles().is_empty(), "no cycle without a grant");
    w.grant("s1", false);
    wait_for("the first cycle", || w.cycles().len() == 1);
    let control = brl::store::control::SessionControl::new(&brl::home::Home::new(&w.home), "s1");
    wait_for("the grant to be cleared", || {
        control.load().expect("control").grant.is_none()
    });
    let c = control.load().expect("control");
    assert_eq!(c.last.expect("last cycle").outcome, "kept");
    w.grant("s1", false);
    wait_for("the second cycle", || w.cycles().len() == 2);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(w.cycles().len(), 2, "one cycle per grant");
    // One worker per session.
    let (code, _, err) = w.run(&["worker", "s1"]);
    assert_ne!(code, 0);
    assert!(err.contains("another worker of session s1"), "{err}");
    term(&child);
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    let cycles = w.cycles();
    assert_eq!(cycles[0]["data"]["outcome"], "kept");
    assert_eq!(
        cycles[1]["data"]["outcome"], "kept",
        "the second cycle builds on main: {}",
        cycles[1]
    );
}

#[test]
fn sigterm_mid_cycle_interrupts_cleanly() {
    let w = World::new(1);
    w.write_config(1, &agent("hang.sh"), 120, "");
    let mut child = w.spawn_worker("s1");
    w.grant("s1", false);
    let leader = w.home.join("hang-leader.pid");
    wait_for("the agent to start", || {
        leader.exists() && w.home.join("hang-child.pid").exists()
    });
    std::thread::sleep(Duration::from_millis(200));
    // The session is busy: a second cycle of it refuses, naming the holder.
    let (code, _, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("already running a cycle") && err.contains(&format!("pid {}", child.id())),
        "{err}"
    );
    let start = Instant::now();
    term(&child);
    let status = child.wait().expect("wait");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "stop took {:?}",
        start.elapsed()
    );
    assert!(status.success(), "{status:?}");
    let cycles = w.cycles();
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0]["data"]["outcome"], "interrupted", "{}", cycles[0]);
    assert!(w.branches().is_empty(), "the branch is discarded");
    w.assert_hang_agent_gone();
}

#[test]
fn a_worker_killed_outright_is_recovered_by_the_next_cycle() {
    let w = World::new(1);
    w.write_config(1, &agent("hang.sh"), 120, "");
    assert_eq!(w.run(&["task", "add", "a task the dead cycle held"]).0, 0);
    let mut child = w.spawn_worker("s1");
    w.grant("s1", true);
    let child_pid = w.home.join("hang-child.pid");
    wait_for("the agent to start", || child_pid.exists());
    std::thread::sleep(Duration::from_millis(200));
    child.kill().expect("SIGKILL the worker");
    child.wait().expect("wait");
    assert_eq!(
        w.branches().len(),
        1,
        "the dead cycle's branch is still there"
    );
    assert!(w.cycles().is_empty());
    // The scheduler takes the dead worker's grant back.
    let control = brl::store::control::SessionControl::new(&brl::home::Home::new(&w.home), "s1");
    let back = control.take_back().expect("take back").expect("the grant");
    assert!(back.task.is_some());

    w.write_config(1, &agent("no_change.sh"), 20, "");
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("did not finish"), "{err}");
    let cycles = w.cycles();
    assert_eq!(cycles.len(), 2, "{cycles:#?}");
    assert_eq!(cycles[0]["data"]["outcome"], "error");
    assert_eq!(cycles[0]["data"]["recovered"], true);
    assert_eq!(cycles[1]["data"]["outcome"], "no_change");
    assert!(
        w.branches().is_empty(),
        "the dead cycle's empty branch is gone"
    );
    w.assert_hang_agent_gone();
    // The task it held is back in the queue, its attempt not counted.
    let (_, out, _) = w.run(&["task", "list", "--json"]);
    let tasks: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(tasks[0]["state"], "pending", "{tasks}");
    assert_eq!(tasks[0]["attempts"], 0);
    // Recorded once: another cycle adds no second recovery entry.
    w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(
        w.cycles()
            .iter()
            .filter(|c| c["data"]["recovered"] == true)
            .count(),
        1
    );
}

/// How a worker in a tmux pane is made to stop, mid-cycle.
#[derive(Clone, Copy)]
enum Ending {
    KillPane,
    KillServer,
    Term,
}

/// A worker running in a pane of a private tmux server, mid-cycle with `hang.sh`, is stopped
/// by `ending`: it is gone within 5 s, its lock is free, its cycle is recorded once naming the
/// signal, and no agent process is left.
fn worker_in_a_pane_exits(ending: Ending, signal_name: &str) {
    use std::process::{Command, Stdio};
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let w = World::new(1);
    w.write_config(1, &agent("hang.sh"), 120, "");
    let socket = format!(
        "brl-wtest-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let _server = common::room::Server(socket.clone());
    let tmux = |args: &[&str]| -> String {
        let out = Command::new("tmux")
            .args(["-L", &socket])
            .args(args)
            .env_remove("BRL_HOME")
            .env_remove("TMUX")
            .stdin(Stdio::null())
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // A first pane that stays, so closing the worker's pane does not end the server.
    tmux(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "120",
        "-y",
        "40",
        "sleep 600",
    ]);
    let worker_cmd = format!(
        "exec '{}' --home '{}' worker s1",
        assert_cmd::cargo::cargo_bin("brl").display(),
        w.home.display()
    );
    let pane = tmux(&[
        "split-window",
        "-t",
        "t",
        "-P",
        "-F",
        "#{pane_id} #{pane_pid}",
        &worker_cmd,
    ]);
    let (pane_id, pid) = pane.split_once(' ').expect("pane id and pid");
    let pid: i32 = pid.parse().expect("pid");
    let home = brl::home::Home::new(&w.home);
    let lock = brl::store::control::worker_lock_path(&home, "s1");
    wait_for("the worker to hold its lock", || {
        brl::store::atomic::LockGuard::is_held(&lock).unwrap_or(false)
    });
    w.grant("s1", false);
    wait_for("the agent to start", || {
        w.home.join("hang-leader.pid").exists() && w.home.join("hang-child.pid").exists()
    });
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    match ending {
        Ending::KillPane => {
            tmux(&["kill-pane", "-t", pane_id]);
        }
        Ending::KillServer => {
            tmux(&["kill-server"]);
        }
        // SAFETY: sends SIGTERM to the worker this test started, by its pid.
        Ending::Term => unsafe {
            libc::kill(pid, libc::SIGTERM);
        },
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while brl::proc::is_running(pid) {
        assert!(
            Instant::now() < deadline,
            "the worker ({pid}) still runs 5 s after {signal_name}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !brl::store::atomic::LockGuard::is_held(&lock).expect("lock"),
        "the worker's lock is free"
    );
    let cycles = w.cycles();
    assert_eq!(cycles.len(), 1, "recorded once: {cycles:#?}");
    let d = &cycles[0]["data"];
    assert_eq!(d["outcome"], "interrupted", "{d}");
    assert!(
        d["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("interrupted by {signal_name}"))),
        "the reason names {signal_name}: {d}"
    );
    w.assert_hang_agent_gone();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // A replacement worker starts: nothing of the old one is in its way.
    let mut next = w.spawn_worker("s1");
    wait_for("the replacement to hold the lock", || {
        brl::store::atomic::LockGuard::is_held(&lock).unwrap_or(false)
    });
    assert!(next.try_wait().expect("try_wait").is_none(), "it runs");
    term(&next);
    next.wait().expect("wait");
}

#[test]
fn a_worker_whose_pane_is_closed_mid_cycle_exits() {
    worker_in_a_pane_exits(Ending::KillPane, "SIGHUP");
}

#[test]
fn a_worker_whose_tmux_server_is_killed_mid_cycle_exits() {
    worker_in_a_pane_exits(Ending::KillServer, "SIGHUP");
}

#[test]
fn a_worker_in_a_pane_exits_on_sigterm_mid_cycle() {
    worker_in_a_pane_exits(Ending::Term, "SIGTERM");
}
