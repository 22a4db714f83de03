//! The control room end to end: `brl up --no-tui` on a private tmux socket with fake agents,
//! restarts, dead panes and workers, the RAM gate, the typecheck semaphore, tasks, `brl down`.

mod common;

use std::time::Duration;

use common::agent;
use common::room::{Room, signal, wait_for};

fn sessions_with_cycles(r: &Room) -> std::collections::BTreeSet<String> {
    r.entries("ralph_cycle")
        .iter()
        .filter_map(|c| c["session"].as_str().map(String::from))
        .collect()
}

#[test]
fn up_runs_three_tagged_panes_and_down_stops_everything() {
    // brl.toml says 1 session; --sessions 3 overrides it for the control room and its workers.
    let mut r = Room::new(1, &agent("fix_one.sh"), "");
    r.up(&["--sessions", "3"]);
    wait_for(60, "cycles from all 3 sessions", || {
        sessions_with_cycles(&r).len() == 3
    });
    let panes = r.panes();
    assert_eq!(panes.len(), 3, "{panes:?}");
    let home = r.w.home.display().to_string();
    let mut tags: Vec<&str> = panes.iter().map(|p| p.1.as_str()).collect();
    tags.sort();
    assert_eq!(tags, vec!["s1", "s2", "s3"]);
    // No `session` in brl.toml: the session is the home's own, derived from its path.
    let session = r.tmux_session();
    assert!(session.starts_with("brl-home-"), "{session}");
    assert!(
        panes.iter().all(|p| p.2 == home && p.4 == session && !p.3),
        "{panes:?}"
    );
    // Headless: JSON lines on stdout, and the same in logs/brl.log.<date>.
    let out = std::fs::read_to_string(&r.out).expect("up.out");
    assert!(!out.trim().is_empty());
    for line in out.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
    }
    let logs: Vec<String> = std::fs::read_dir(r.w.home.join("logs"))
        .expect("logs")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("brl.log"))
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    // Each pane's output goes to its bounded pane.log too.
    wait_for(10, "pane.log", || {
        std::fs::read_to_string(r.w.home.join("logs/sessions/s2/pane.log"))
            .is_ok_and(|t| t.contains("worker s2"))
    });

    let workers = r.workers();
    assert_eq!(workers.len(), 3, "{workers:?}");
    let (code, out, err) = r.w.run(&["down"]);
    assert_eq!(code, 0, "{out}{err}");
    let mut child = r.child.take().expect("control room");
    let status = child.wait().expect("wait");
    assert!(
        status.success(),
        "the control room exits 0 on brl down: {status:?}"
    );
    assert!(
        !r.tmux(&["has-session", "-t", &format!("={session}")]),
        "the tmux session is gone"
    );
    for (s, pid) in workers {
        assert!(
            !brl::proc::is_running(pid as i32),
            "worker {s} ({pid}) still runs"
        );
    }
    assert_eq!(r.entries("control_stopped").len(), 1);
}

#[test]
fn restart_adopts_panes_and_records_the_in_flight_cycle_once() {
    let mut r = Room::new(2, &agent("slow_fix.sh"), "");
    r.up(&[]);
    wait_for(60, "a cycle in its hack phase", || {
        r.control("s1").phase.as_deref() == Some("hack")
    });
    let branch = r.control("s1").branch.expect("the cycle's branch");
    let (status, took) = r.stop();
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(5), "stopping took {took:?}");
    assert_eq!(r.workers().len(), 2, "the workers keep running");

    r.up(&[]);
    wait_for(30, "the restart", || {
        r.entries("control_started").len() == 2
    });
    let started = &r.entries("control_started")[1]["data"];
    assert_eq!(started["panes_adopted"], 2, "{started}");
    assert_eq!(started["panes_created"], 0, "{started}");
    wait_for(60, "the in-flight cycle to be recorded", || {
        r.entries("ralph_cycle")
            .iter()
            .any(|c| c["data"]["branch"] == branch.as_str())
    });
    let before = r.entries("ralph_cycle").len();
    wait_for(60, "scheduling to resume", || {
        r.entries("ralph_cycle").len() >= before + 2
    });
    let same = r
        .entries("ralph_cycle")
        .iter()
        .filter(|c| c["data"]["branch"] == branch.as_str())
        .count();
    assert_eq!(same, 1, "the in-flight cycle is recorded exactly once");
    assert_eq!(r.panes().len(), 2, "no duplicate panes: {:?}", r.panes());

    // A second control room on the same home refuses, naming the holder.
    let pid = r.child.as_ref().expect("running").id();
    let (code, _, err) = r.w.run(&["up", "--no-tui"]);
    assert_ne!(code, 0);
    assert!(err.contains(&format!("process {pid}")), "{err}");

    // A pane closed by hand is recreated.
    let s2 = r
        .panes()
        .into_iter()
        .find(|p| p.1 == "s2")
        .expect("s2 pane");
    assert!(r.tmux(&["kill-pane", "-t", &s2.0]));
    wait_for(30, "the closed pane to be recreated", || {
        r.entries("pane_created")
            .iter()
            .any(|e| e["session"] == "s2")
            && r.panes().iter().any(|p| p.1 == "s2" && !p.3)
    });
    // A killed worker's pane is respawned.
    wait_for(30, "s1's worker", || {
        r.workers().iter().any(|w| w.0 == "s1")
    });
    let (_, pid) = r.workers().into_iter().find(|w| w.0 == "s1").expect("s1");
    signal(pid, libc::SIGKILL);
    wait_for(30, "the worker to be respawned", || {
        !r.entries("worker_respawned").is_empty()
            && r.workers().iter().any(|w| w.0 == "s1" && w.1 != pid)
    });
    assert_eq!(r.panes().len(), 2, "{:?}", r.panes());
}

#[test]
fn the_ram_gate_grants_nothing_and_says_so_once() {
    let mut r = Room::new(
        2,
        &agent("fix_one.sh"),
        "[scheduler]\ninterval_secs = 1\nmax_ram_percent = 1\n",
    );
    r.up(&[]);
    wait_for(30, "assignment_skipped", || {
        !r.entries("assignment_skipped").is_empty()
    });
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        r.entries("ralph_cycle").is_empty(),
        "no cycle starts above the gate"
    );
    let skipped = r.entries("assignment_skipped");
    assert_eq!(skipped.len(), 1, "rate-limited: {skipped:?}");
    let d = &skipped[0]["data"];
    assert_eq!(d["reason"], "ram");
    assert_eq!(d["max_ram_percent"], 1);
    assert!(d["used_percent"].as_f64().is_some_and(|p| p > 1.0), "{d}");
    assert!(d["total_bytes"].as_u64().is_some_and(|t| t > 0), "{d}");
}

#[test]
fn one_typecheck_at_a_time_across_sessions() {
    let times = tempfile::NamedTempFile::new().expect("tmp");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents/timed_check.sh");
    let mut r = Room::new(3, &agent("fix_one.sh"), "");
    let config = std::fs::read_to_string(r.w.home.join("brl.toml")).expect("config");
    let config = config
        .replace("max_parallel_typechecks = 2", "max_parallel_typechecks = 1")
        .replace(
            "command = \"cat f*.txt\"",
            &format!(
                "command = \"sh {} {}\"",
                script.display(),
                times.path().display()
            ),
        );
    std::fs::write(r.w.home.join("brl.toml"), config).expect("write");
    r.up(&[]);
    wait_for(90, "6 cycles", || r.entries("ralph_cycle").len() >= 6);
    let text = std::fs::read_to_string(times.path()).expect("times");
    let mut spans = Vec::new();
    let mut open: Option<u128> = None;
    let mut events: Vec<(u128, bool)> = text
        .lines()
        .filter_map(|l| {
            let (kind, t) = l.split_once(' ')?;
            Some((t.parse().ok()?, kind == "start"))
        })
        .collect();
    events.sort();
    for (t, start) in events {
        if start {
            assert!(open.is_none(), "two type checks at once:\n{text}");
            open = Some(t);
        } else {
            spans.push((open.take().expect("an end after a start"), t));
        }
    }
    assert!(spans.len() >= 4, "{text}");
}

#[test]
fn tasks_are_granted_in_order_and_proposed_ones_wait_for_approval() {
    let mut r = Room::new(
        1,
        &agent("fix_one.sh"),
        "[scheduler]\ninterval_secs = 1\nself_plan = false\n",
    );
    assert_eq!(r.w.run(&["task", "add", "first"]).0, 0);
    assert_eq!(r.w.run(&["task", "add", "second"]).0, 0);
    assert_eq!(
        r.w.run(&["task", "add", "a proposal", "--tier", "proposed"])
            .0,
        0
    );
    r.up(&[]);
    wait_for(60, "two cycles", || r.entries("ralph_cycle").len() >= 2);
    std::thread::sleep(Duration::from_secs(3));
    let cycles = r.entries("ralph_cycle");
    assert_eq!(cycles.len(), 2, "the proposed task waits: {cycles:?}");
    assert_eq!(cycles[0]["data"]["task"], "first");
    assert_eq!(cycles[1]["data"]["task"], "second");
    assert_eq!(r.w.run(&["task", "approve", "3"]).0, 0);
    wait_for(60, "the approved task's cycle", || {
        r.entries("ralph_cycle").len() >= 3
    });
    assert_eq!(r.entries("ralph_cycle")[2]["data"]["task"], "a proposal");
}

#[test]
fn a_task_fails_after_max_attempts_and_is_not_granted_again() {
    let mut r = Room::new(
        1,
        &agent("fail.sh"),
        "[scheduler]\ninterval_secs = 1\nself_plan = false\nmax_attempts = 2\n",
    );
    assert_eq!(r.w.run(&["task", "add", "doomed"]).0, 0);
    r.up(&[]);
    wait_for(60, "two attempts", || r.entries("ralph_cycle").len() >= 2);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(r.entries("ralph_cycle").len(), 2);
    let (_, out, _) = r.w.run(&["task", "list", "--json"]);
    let tasks: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(tasks[0]["state"], "failed", "{tasks}");
    assert_eq!(tasks[0]["attempts"], 2);
}

#[test]
fn http_triggers_reach_the_running_control_room() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("addr")
        .port();
    let var = format!("BRL_TEST_TOKEN_{}", std::process::id());
    let mut r = Room::new(
        1,
        &agent("fix_one.sh"),
        &format!(
            "[scheduler]\ninterval_secs = 1\nself_plan = false\n[server]\nlisten = \"127.0.0.1:{port}\"\ntoken_env = \"{var}\"\n"
        ),
    );
    r.up_with_env(&[], &[(var.as_str(), "s3cret")]);
    let base = format!("http://127.0.0.1:{port}");
    wait_for(30, "the HTTP server", || {
        ureq::get(&format!("{base}/healthz")).call().is_ok()
    });
    // The client, with the same config and token.
    let out =
        r.w.brl()
            .env(&var, "s3cret")
            .args(["trigger", "task", "from http", "--body", "details"])
            .output()
            .expect("brl trigger");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("task #1"));
    wait_for(60, "the triggered task's cycle", || {
        r.entries("ralph_cycle")
            .iter()
            .any(|c| c["data"]["task"] == "from http")
    });
    // A wrong token is refused; with the right one a job starts and logs its one entry.
    let out =
        r.w.brl()
            .env(&var, "wrong")
            .args(["trigger", "review"])
            .output()
            .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("401"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out =
        r.w.brl()
            .env(&var, "s3cret")
            .args(["trigger", "review"])
            .output()
            .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for(60, "the triggered review's entry", || {
        !r.entries("cto_review").is_empty()
    });
    // GET /status: sessions, queue, tasks, memory.
    let text = ureq::get(&format!("{base}/status"))
        .call()
        .expect("status")
        .body_mut()
        .read_to_string()
        .expect("body");
    let status: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(status["sessions"][0]["name"], "s1");
    assert_eq!(status["tasks"]["by_state"]["done"], 1, "{status}");
    assert!(
        status["memory"]["total_bytes"]
            .as_u64()
            .is_some_and(|t| t > 0),
        "{status}"
    );
    assert!(status["control_room"]["pid"].as_u64().is_some(), "{status}");
    // `brl status` prints the same in words.
    let (code, out, _) = r.w.run(&["status"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("control room: scheduling") && out.contains("s1"),
        "{out}"
    );
}

#[test]
fn attach_puts_a_terminal_on_the_sessions_pane() {
    // The `windows` layout: one tmux window per session, named after it.
    let mut r = Room::new(
        2,
        &agent("fix_one.sh"),
        "[scheduler]\ninterval_secs = 1\nself_plan = false\n",
    );
    let config = std::fs::read_to_string(r.w.home.join("brl.toml")).expect("config");
    let config = config.replace("[tmux]\n", "[tmux]\nlayout = \"windows\"\n");
    std::fs::write(r.w.home.join("brl.toml"), config).expect("write");
    r.up(&[]);
    wait_for(30, "two panes", || r.panes().len() == 2);
    let windows = std::process::Command::new("tmux")
        .args([
            "-L",
            &r.socket,
            "list-windows",
            "-t",
            &format!("={}", r.tmux_session()),
            "-F",
            "#{window_name}",
        ])
        .output()
        .expect("tmux");
    assert_eq!(String::from_utf8_lossy(&windows.stdout), "s1\ns2\n");
    // A real terminal for `brl attach`: a pane of a second private tmux server.
    let outer = format!("{}-outer", r.socket);
    let _outer = common::room::Server(outer.clone());
    let brl = assert_cmd::cargo::cargo_bin("brl");
    let cmd = format!(
        "'{}' --home '{}' attach s2; sleep 30",
        brl.display(),
        r.w.home.display()
    );
    let ok = std::process::Command::new("tmux")
        .args([
            "-L",
            &outer,
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            &cmd,
        ])
        .status()
        .expect("tmux");
    assert!(ok.success());
    let s2 = r.panes().into_iter().find(|p| p.1 == "s2").expect("s2").0;
    wait_for(20, "a client attached to s2's pane", || {
        let out = std::process::Command::new("tmux")
            .args(["-L", &r.socket, "list-clients", "-F", "#{pane_id}"])
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l == s2)
    });
    // Without a terminal it says what to do instead.
    let (code, _, err) = r.w.run(&["attach"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("needs a terminal") && err.contains(&r.socket),
        "{err}"
    );
}

#[test]
fn the_daily_budget_stops_grants_and_says_so_once() {
    // The agent reports $0.0312 a cycle (Claude Code's JSON); the cap is reached by the second.
    let mut r = Room::new(
        1,
        &agent("claude_json.sh"),
        "[scheduler]\ninterval_secs = 1\n[budget]\ndaily_usd = 0.05\n",
    );
    // Yesterday (UTC) spent far more than the budget: a new day starts from zero.
    let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
    std::fs::create_dir_all(r.w.home.join("logs")).expect("mkdir");
    std::fs::write(
        r.w.home.join("logs/experiment-log.jsonl"),
        format!(
            "{}\n",
            serde_json::json!({"ts": yesterday.to_rfc3339(), "type": "ralph_cycle", "session": "s1",
                               "data": {"outcome": "kept", "cost_usd": 9.5}})
        ),
    )
    .expect("write log");
    r.up(&[]);
    wait_for(60, "budget_reached", || {
        !r.entries("budget_reached").is_empty()
    });
    std::thread::sleep(Duration::from_secs(4));
    let cycles = r.entries("ralph_cycle");
    let today: Vec<_> = cycles
        .iter()
        .filter(|c| c["data"]["cost_usd"] == 0.0312)
        .collect();
    assert_eq!(today.len(), 2, "granted today until the cap: {cycles:?}");
    assert_eq!(cycles.len(), 3, "yesterday's entry and today's two");
    let reached = r.entries("budget_reached");
    assert_eq!(reached.len(), 1, "once a day: {reached:?}");
    assert_eq!(reached[0]["data"]["limit"], "daily_usd");
    assert!((reached[0]["data"]["cost_usd"].as_f64().expect("cost") - 0.0624).abs() < 1e-6);
    let (_, out, _) = r.w.run(&["status"]);
    assert!(
        out.contains("LIMIT REACHED (daily_usd)") && out.contains("$0.0624"),
        "{out}"
    );
}
