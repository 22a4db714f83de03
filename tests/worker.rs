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
