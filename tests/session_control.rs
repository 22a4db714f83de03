//! The operator's control of each session, end to end: `brl up --no-tui` on a private tmux
//! socket, workers in real panes, fake agents; `brl pause|resume|stop|restart` and
//! `brl task add --session` from the command line, as an operator types them.

mod common;

use common::agent;
use common::room::{Room, wait_for};

fn cycles_of(r: &Room, session: &str) -> Vec<serde_json::Value> {
    r.entries("ralph_cycle")
        .into_iter()
        .filter(|c| c["session"] == session)
        .collect()
}

#[test]
fn a_paused_session_gets_no_grant_while_the_others_do_until_resumed() {
    let mut r = Room::new(3, &agent("no_change.sh"), "");
    // Paused before the control room starts: the pause lives in the control file.
    let (code, out, err) = r.w.run(&["pause", "s2"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("session s2 is paused"), "{out}");
    r.up(&[]);
    wait_for(90, "two cycles each from s1 and s3", || {
        cycles_of(&r, "s1").len() >= 2 && cycles_of(&r, "s3").len() >= 2
    });
    assert!(cycles_of(&r, "s2").is_empty(), "s2 was paused");
    let c = r.control("s2");
    assert!(c.grant.is_none() && c.grants == 0, "{c:?}");
    let (_, status, _) = r.w.run(&["status"]);
    assert!(
        status
            .lines()
            .any(|l| l.trim_start().starts_with("s2") && l.contains("paused")),
        "{status}"
    );
    assert!(status.contains("PAUSED by cli"), "{status}");

    let (code, out, err) = r.w.run(&["resume", "s2"]);
    assert_eq!(code, 0, "{out}{err}");
    wait_for(60, "s2 cycling again", || !cycles_of(&r, "s2").is_empty());
    let paused = r.entries("session_paused");
    let resumed = r.entries("session_resumed");
    assert_eq!(paused.len(), 1, "{paused:?}");
    assert_eq!(paused[0]["session"], "s2");
    assert_eq!(paused[0]["data"]["by"], "cli");
    assert_eq!(resumed.len(), 1, "{resumed:?}");
    assert_eq!(resumed[0]["data"]["by"], "cli");
}

#[test]
fn a_task_given_to_s3_is_the_next_thing_s3_does_and_a_paused_fleet_waits() {
    let mut r = Room::new(3, &agent("no_change.sh"), "");
    let (code, out, err) = r.w.run(&["pause"]);
    assert_eq!(code, 0, "{out}{err}");
    r.up(&[]);
    wait_for(30, "the fleet_paused skip", || {
        r.entries("assignment_skipped")
            .iter()
            .any(|e| e["data"]["reason"] == "fleet_paused" && e["data"]["by"] == "cli")
    });
    assert!(r.entries("ralph_cycle").is_empty(), "the fleet was paused");
    // An older task for anyone, then one for s3: s3 does its own first, nobody else takes it.
    let (code, out, err) = r.w.run(&["task", "add", "older task for anyone"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = r.w.run(&["task", "add", "--session", "s3", "for s3 only"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("session s3 takes it next"), "{out}");
    let (_, list, _) = r.w.run(&["task", "list"]);
    assert!(
        list.lines()
            .any(|l| l.contains("for s3 only") && l.contains("(for s3)")),
        "{list}"
    );
    let (code, _, err) = r.w.run(&["task", "add", "--session", "s9", "nobody"]);
    assert_ne!(code, 0);
    assert!(err.contains("s9"), "{err}");

    let (code, out, err) = r.w.run(&["resume"]);
    assert_eq!(code, 0, "{out}{err}");
    wait_for(60, "s3's first cycle", || !cycles_of(&r, "s3").is_empty());
    let first = &cycles_of(&r, "s3")[0];
    assert_eq!(first["data"]["task"], "for s3 only", "{first}");
    for c in r.entries("ralph_cycle") {
        if c["session"] != "s3" {
            assert_ne!(c["data"]["task"], "for s3 only", "{c}");
        }
    }
    assert_eq!(r.entries("fleet_paused").len(), 1);
    assert_eq!(r.entries("fleet_resumed").len(), 1);
}

#[test]
fn stop_interrupts_the_cycle_once_and_the_same_worker_goes_on() {
    let mut r = Room::new(2, &agent("slow_fix.sh"), "");
    r.up_with_env(&[], &[("BRL_TEST_AGENT_SECS", "30")]);
    wait_for(60, "s1 in its hack phase", || {
        r.control("s1").phase.as_deref() == Some("hack")
    });
    let c = r.control("s1");
    let branch = c.branch.clone().expect("branch");
    let grant = c.grant.as_ref().map(|g| g.id).expect("grant");
    let worker = r.workers().into_iter().find(|w| w.0 == "s1").expect("s1").1;
    let (code, out, err) = r.w.run(&["stop", "s1"]);
    assert_eq!(code, 0, "{out}{err}");
    wait_for(30, "the stopped cycle's entry", || {
        cycles_of(&r, "s1")
            .iter()
            .any(|c| c["data"]["branch"] == branch.as_str())
    });
    let same: Vec<_> = cycles_of(&r, "s1")
        .into_iter()
        .filter(|c| c["data"]["branch"] == branch.as_str())
        .collect();
    assert_eq!(same.len(), 1, "{same:?}");
    assert_eq!(same[0]["data"]["outcome"], "interrupted", "{}", same[0]);
    let reason = same[0]["data"]["reason"].as_str().unwrap_or("");
    assert!(reason.contains("brl stop"), "{reason}");
    // The same worker takes its next grant.
    wait_for(30, "s1's next cycle", || {
        let c = r.control("s1");
        c.grant
            .as_ref()
            .is_some_and(|g| g.id > grant && g.taken_by.is_some())
    });
    assert!(r.workers().iter().any(|w| w.0 == "s1" && w.1 == worker));
    let stopped = r.entries("cycle_stopped");
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!(stopped[0]["data"]["by"], "cli");
    // Nothing runs on s2 to stop? It may; a session with no cycle is refused, naming it.
    let (code, _, err) = r.w.run(&["stop", "s9"]);
    assert_ne!(code, 0);
    assert!(err.contains("s9"), "{err}");
}

#[test]
fn restart_mid_cycle_records_it_interrupted_once_and_cycles_again() {
    let mut r = Room::new(2, &agent("slow_fix.sh"), "");
    r.up_with_env(&[], &[("BRL_TEST_AGENT_SECS", "30")]);
    wait_for(60, "s1 in its hack phase", || {
        r.control("s1").phase.as_deref() == Some("hack")
    });
    let c = r.control("s1");
    let branch = c.branch.clone().expect("branch");
    let grant = c.grant.as_ref().map(|g| g.id).expect("grant");
    let worker = r.workers().into_iter().find(|w| w.0 == "s1").expect("s1").1;
    let (code, out, err) = r.w.run(&["restart", "s1"]);
    assert_eq!(code, 0, "{out}{err}");
    wait_for(30, "a new worker for s1", || {
        r.workers().iter().any(|w| w.0 == "s1" && w.1 != worker)
    });
    wait_for(30, "s1 cycling again", || {
        let c = r.control("s1");
        c.grant
            .as_ref()
            .is_some_and(|g| g.id > grant && g.taken_by.is_some())
    });
    let same: Vec<_> = cycles_of(&r, "s1")
        .into_iter()
        .filter(|c| c["data"]["branch"] == branch.as_str())
        .collect();
    assert_eq!(same.len(), 1, "recorded once: {same:?}");
    assert_eq!(same[0]["data"]["outcome"], "interrupted", "{}", same[0]);
    let restarted = r.entries("session_restarted");
    assert_eq!(restarted.len(), 1);
    assert_eq!(restarted[0]["data"]["by"], "cli");
    assert_eq!(r.panes().len(), 2, "{:?}", r.panes());
    // A second restart right away is served at once too: a worker asked to stop is not a
    // crash, so the respawn back-off (20 s for a second quick death) does not apply.
    let second = r.workers().into_iter().find(|w| w.0 == "s1").expect("s1").1;
    let (code, out, err) = r.w.run(&["restart", "s1"]);
    assert_eq!(code, 0, "{out}{err}");
    wait_for(8, "a third worker for s1, without back-off", || {
        r.workers()
            .iter()
            .any(|w| w.0 == "s1" && w.1 != worker && w.1 != second)
    });
}

/// What the dashboard's terminal pane (tmux session `term`) shows now.
fn screen(r: &Room) -> String {
    let out = std::process::Command::new("tmux")
        .args(["-L", &r.socket, "capture-pane", "-p", "-t", "=term:"])
        .output()
        .expect("tmux capture-pane");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn keys(r: &Room, keys: &[&str]) {
    let mut args = vec!["send-keys", "-t", "=term:"];
    args.extend_from_slice(keys);
    assert!(r.tmux(&args), "send-keys {keys:?}");
}

#[test]
fn the_dashboard_keys_pause_and_resume_a_session_and_the_fleet() {
    let r = Room::new(3, &agent("no_change.sh"), "");
    let exe = assert_cmd::cargo::cargo_bin("brl");
    let cmd = format!(
        "'{}' --home '{}' up; echo \"[brl up exited $?]\"; sleep 60",
        exe.display(),
        r.w.home.display()
    );
    assert!(r.tmux(&[
        "new-session",
        "-d",
        "-s",
        "term",
        "-x",
        "120",
        "-y",
        "40",
        &cmd
    ]));
    wait_for(60, "cycles from every session", || {
        ["s1", "s2", "s3"]
            .iter()
            .all(|s| !cycles_of(&r, s).is_empty())
    });
    // The dashboard shows its rows (a loaded machine can take a while to draw the first frame):
    // select s2 (second row) and press p.
    wait_for(30, "the sessions on screen", || {
        let s = screen(&r);
        s.contains("s1") && s.contains("s2") && s.contains("s3")
    });
    keys(&r, &["j", "p"]);
    wait_for(20, "s2 paused by the dashboard", || {
        r.control("s2").paused.is_some_and(|p| p.by == "dashboard")
    });
    // Its cycle in flight (if any) finishes; then nothing more while s1 and s3 go on.
    wait_for(30, "s2 idle", || r.control("s2").grant.is_none());
    let s2_then = cycles_of(&r, "s2").len();
    let (s1, s3) = (cycles_of(&r, "s1").len(), cycles_of(&r, "s3").len());
    wait_for(60, "two more cycles each from s1 and s3", || {
        cycles_of(&r, "s1").len() >= s1 + 2 && cycles_of(&r, "s3").len() >= s3 + 2
    });
    assert_eq!(
        cycles_of(&r, "s2").len(),
        s2_then,
        "s2 got a grant while paused"
    );
    wait_for(20, "the paused state on screen", || {
        screen(&r).contains("paused")
    });
    // p again resumes it.
    keys(&r, &["p"]);
    wait_for(60, "s2 cycling again", || {
        cycles_of(&r, "s2").len() > s2_then
    });
    let by: Vec<_> = r
        .entries("session_resumed")
        .iter()
        .map(|e| e["data"]["by"].clone())
        .collect();
    assert_eq!(by, vec![serde_json::json!("dashboard")]);
    // P pauses the whole fleet.
    keys(&r, &["P"]);
    wait_for(20, "the fleet paused", || {
        !r.entries("fleet_paused").is_empty()
    });
    assert_eq!(r.entries("fleet_paused")[0]["data"]["by"], "dashboard");
    keys(&r, &["q"]);
}
