//! Workers on their hosts, grants decided centrally: a control room with one local session and
//! two `[[hosts]]` (real OpenSSH servers on loopback, two sessions each) makes each host's panes
//! in tmux on that host, grants their cycles over ssh, stops granting to a host whose sshd is
//! down (and says so in the log and `brl status`), grants again when it is back, and after its own
//! restart adopts the hosts' panes instead of making second ones.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use brl::config::HostConfig;
use brl::home::Home;
use brl::hosts::Ssh;
use brl::hosts::fleet::{host_paths, tmux_socket};
use brl::store::control::SessionControl;
use common::room::{Room, Server, wait_for};
use common::sshd::Sshd;
use common::{World, agent, git};

/// The hosts made ready by the real `brl hosts setup` (brl copied over ssh, the clone made with
/// git over ssh, the host's home written); the clone gets a committer identity, as a user's
/// host has one. Returns each host's home.
fn set_up(w: &World, hosts: &[&HostConfig]) -> Vec<PathBuf> {
    let (code, out, err) = w.run(&["hosts", "setup"]);
    assert_eq!(code, 0, "{out}{err}");
    hosts
        .iter()
        .map(|h| {
            let p = host_paths(h);
            git(&p.repo, &["config", "user.name", "Host"]);
            git(&p.repo, &["config", "user.email", "host@example.invalid"]);
            p.home
        })
        .collect()
}

/// The tagged panes of a host's tmux, listed over ssh: (session tag, dead).
fn host_panes(ssh: &Ssh, h: &HostConfig) -> Vec<(String, bool)> {
    let socket = tmux_socket(h);
    let out = ssh
        .run(
            &[
                "tmux",
                "-L",
                &socket,
                "list-panes",
                "-a",
                "-F",
                "#{@brl_session} #{pane_dead}",
            ],
            None,
            Duration::from_secs(20),
        )
        .expect("ssh runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(s, _)| !s.is_empty())
        .map(|(s, d)| (s.to_string(), d == "1"))
        .collect()
}

/// The `ralph_cycle` entries of a host's own log, by session.
fn host_cycles(home: &Path, session: &str) -> usize {
    std::fs::read_to_string(home.join("logs/experiment-log.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "ralph_cycle" && v["session"] == session)
        .count()
}

fn grants(home: &Path, session: &str) -> u64 {
    SessionControl::new(&Home::new(home), session)
        .load()
        .map(|c| c.grants)
        .unwrap_or(0)
}

#[test]
fn workers_live_on_their_hosts_and_grants_follow_reachability() {
    let a = Sshd::start("a");
    let mut b = Sshd::start("b");
    let (ha, hb) = (a.host_config(2), b.host_config(2));
    // The scheduler's interval is an hour: the hosts' sessions are read at every tmux check
    // (every second here), so their grants never wait for the interval.
    let extra = format!(
        "[scheduler]\ninterval_secs = 3600\n\n[review]\nmax_pending = 0\n\n{}\n{}",
        a.host_toml(2),
        b.host_toml(2)
    );
    let mut room = Room::new(1, &agent("fix_one.sh"), &extra);
    let homes = set_up(&room.w, &[&ha, &hb]);
    let (home_a, home_b) = (homes[0].clone(), homes[1].clone());
    // Only the tmux servers this test's hosts run, killed by their sockets when the test ends.
    let _servers = (Server(tmux_socket(&ha)), Server(tmux_socket(&hb)));
    // The test looks at the hosts over its own ssh masters (named after another home), so its
    // probes never ride on, or stand in for, the control room's.
    let probe_dir = tempfile::tempdir().expect("tempdir");
    let probe = Home::new(probe_dir.path());
    let (ssh_a, ssh_b) = (Ssh::new(&probe, &ha), Ssh::new(&probe, &hb));
    ssh_a.ensure_master().expect("ssh to a");
    ssh_b.ensure_master().expect("ssh to b");

    room.up(&[]);
    // Each host's two panes, made in tmux on that host, tagged with the host's home.
    wait_for(30, "the hosts' panes", || {
        host_panes(&ssh_a, &ha).len() == 2 && host_panes(&ssh_b, &hb).len() == 2
    });
    let mut tags: Vec<String> = host_panes(&ssh_a, &ha).into_iter().map(|p| p.0).collect();
    tags.sort();
    assert_eq!(tags, ["a-s1", "a-s2"]);
    // Cycles granted by this control room run there: the hosts' own logs record them.
    wait_for(45, "a cycle on every host session", || {
        ["a-s1", "a-s2"]
            .iter()
            .all(|s| host_cycles(&home_a, s) >= 1)
            && ["b-s1", "b-s2"]
                .iter()
                .all(|s| host_cycles(&home_b, s) >= 1)
    });
    wait_for(30, "a local cycle", || !room.w.cycles().is_empty());
    let created = room.entries("pane_created");
    assert!(
        created
            .iter()
            .any(|e| e["session"] == "a-s1" && e["data"]["host"] == "a"),
        "{created:?}"
    );
    // A host's branch reaches the control repo only on its way into the review queue.
    let queued: Vec<String> = room
        .w
        .queue()
        .iter()
        .filter_map(|q| q["branch"].as_str().map(str::to_string))
        .collect();
    for b in room.w.branches() {
        assert!(
            b.starts_with("brl/s1/") || queued.contains(&b),
            "{b} came home unqueued"
        );
    }

    // A task is claimed centrally, rides in a host's grant, and is settled here when the cycle's
    // record comes home (the host's worker cannot reach the central queue).
    let (code, _, err) = room.w.run(&["pause", "s1"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = room.w.run(&["task", "add", "fix an error on a host"]);
    assert_eq!(code, 0, "{err}");
    let mut done = serde_json::Value::Null;
    wait_for(45, "the task done by a host's session", || {
        let (_, out, _) = room.w.run(&["task", "list", "--json"]);
        let list: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap_or_default();
        match list.into_iter().find(|t| t["state"] == "done") {
            Some(t) => {
                done = t;
                true
            }
            None => false,
        }
    });
    let branch = done["branch"].as_str().unwrap_or_default().to_string();
    assert!(
        branch.starts_with("brl/a-s") || branch.starts_with("brl/b-s"),
        "{done}"
    );
    // Settled by the collector from the cycle's own record, come home once with its host.
    let settled: Vec<serde_json::Value> = room
        .entries("ralph_cycle")
        .into_iter()
        .filter(|e| e["data"]["task_id"] == done["id"] && !e["data"]["host"].is_null())
        .collect();
    assert_eq!(settled.len(), 1, "{settled:?}");
    assert_eq!(settled[0]["data"]["task_state"], "done", "{settled:?}");
    assert!(room.entries("task_settled").is_empty(), "no grant was lost");
    let (code, _, err) = room.w.run(&["resume", "s1"]);
    assert_eq!(code, 0, "{err}");

    // Host b's sshd stops: the control room says so, grants to b stop, a goes on.
    b.drop_connections();
    b.pause();
    wait_for(30, "b reported unreachable", || {
        room.entries("host_unreachable")
            .iter()
            .any(|e| e["data"]["host"] == "b")
    });
    let (code, out, err) = room.w.run(&["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .any(|l| l.contains("host b") && l.contains("unreachable since")),
        "{out}"
    );
    // Settle: a grant in flight when b went down is either written or not.
    std::thread::sleep(Duration::from_secs(2));
    let b_grants = grants(&home_b, "b-s1") + grants(&home_b, "b-s2");
    let a_grants = grants(&home_a, "a-s1") + grants(&home_a, "a-s2");
    let until = Instant::now() + Duration::from_secs(6);
    wait_for(30, "more grants on a while b is down", || {
        grants(&home_a, "a-s1") + grants(&home_a, "a-s2") > a_grants && Instant::now() > until
    });
    assert_eq!(
        grants(&home_b, "b-s1") + grants(&home_b, "b-s2"),
        b_grants,
        "no grant reaches a host while it is unreachable"
    );
    // b's workers kept running in tmux on b all along.
    b.resume();
    wait_for(30, "b back", || {
        room.entries("host_reachable")
            .iter()
            .any(|e| e["data"]["host"] == "b")
    });
    wait_for(45, "grants to b again", || {
        grants(&home_b, "b-s1") + grants(&home_b, "b-s2") > b_grants
    });
    let panes_b = host_panes(&ssh_b, &hb);
    assert_eq!(panes_b.len(), 2, "{panes_b:?}");
    assert!(panes_b.iter().all(|p| !p.1), "{panes_b:?}");

    // The control room restarts: the hosts' panes are adopted, none made twice.
    let (status, _) = room.stop();
    assert!(status.success(), "{status:?}");
    room.up(&[]);
    wait_for(30, "the second control_started", || {
        room.entries("control_started").len() == 2
    });
    let started = room.entries("control_started");
    let hosts = &started[1]["data"]["hosts"];
    for h in ["a", "b"] {
        let e = hosts
            .as_array()
            .and_then(|v| v.iter().find(|x| x["host"] == h))
            .unwrap_or_else(|| panic!("host {h} in {hosts}"));
        assert_eq!(e["panes_adopted"], 2, "{hosts}");
        assert_eq!(e["panes_created"], 0, "{hosts}");
    }
    let cycles_before = host_cycles(&home_a, "a-s1") + host_cycles(&home_a, "a-s2");
    wait_for(45, "cycles on a after the restart", || {
        host_cycles(&home_a, "a-s1") + host_cycles(&home_a, "a-s2") > cycles_before
    });
    assert_eq!(host_panes(&ssh_a, &ha).len(), 2);
    assert_eq!(host_panes(&ssh_b, &hb).len(), 2);

    // A worker that dies on its host is respawned in its pane there, over ssh.
    let before = worker_pids(&home_a);
    assert_eq!(before.len(), 2, "{before:?}");
    common::room::signal(before[0], libc::SIGKILL);
    wait_for(30, "a worker respawned on a", || {
        room.entries("worker_respawned")
            .iter()
            .any(|e| e["data"]["host"] == "a")
            && worker_pids(&home_a).len() == 2
    });
    assert_eq!(
        host_panes(&ssh_a, &ha).len(),
        2,
        "the same panes, respawned"
    );

    // `brl down --host b`: b's workers stop (its tmux session there closes); the running control
    // room makes no new panes there and grants nothing to b; a goes on.
    let (code, out, err) = room.w.run(&["down", "--host", "b"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("host b: closed tmux session"), "{out}");
    wait_for(20, "b's workers gone", || {
        worker_pids(&home_b).is_empty() && host_panes(&ssh_b, &hb).is_empty()
    });
    // Settle: a grant sent just before the mark is either written or not.
    std::thread::sleep(Duration::from_secs(2));
    let b_grants = grants(&home_b, "b-s1") + grants(&home_b, "b-s2");
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        host_panes(&ssh_b, &hb).is_empty(),
        "no pane made again on b"
    );
    assert_eq!(grants(&home_b, "b-s1") + grants(&home_b, "b-s2"), b_grants);
    assert_eq!(host_panes(&ssh_a, &ha).len(), 2);
    let (_, out, _) = room.w.run(&["status"]);
    assert!(
        out.contains("host b: stopped") && out.contains("b-s1 stopped"),
        "{out}"
    );
    let (code, _, err) = room.w.run(&["down", "--host", "zz"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("no host `zz`") && err.contains("hosts: a, b"),
        "{err}"
    );

    // Plain `brl down`: the whole fleet — the control room, the local worker and host a's.
    let (code, out, err) = room.w.run(&["down", "--wait-secs", "20"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("host a: closed tmux session"), "{out}");
    wait_for(20, "a's workers gone", || {
        worker_pids(&home_a).is_empty() && host_panes(&ssh_a, &ha).is_empty()
    });
    if let Some(mut c) = room.child.take() {
        let st = c.wait().expect("wait");
        assert!(st.success(), "{st:?}");
    }
    // With the fleet stopped, one last collection brings the rest home: every cycle the hosts'
    // sessions ran is in the central log exactly once, with its host, and each kept branch is in
    // the control repo at the kept commit and in the review queue.
    let (code, out, err) = room.w.run(&["hosts", "collect"]);
    assert_eq!(code, 0, "{out}{err}");
    let central = room.entries("ralph_cycle");
    let queue = room.w.queue();
    for (name, home) in [("a", &home_a), ("b", &home_b)] {
        let mine: Vec<serde_json::Value> =
            std::fs::read_to_string(home.join("logs/experiment-log.jsonl"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|v| v["type"] == "ralph_cycle")
                .collect();
        assert!(
            mine.len() >= 4,
            "both of {name}'s sessions cycled: {}",
            mine.len()
        );
        for c in &mine {
            let id = &c["data"]["cycle_id"];
            let here: Vec<&serde_json::Value> = central
                .iter()
                .filter(|e| &e["data"]["cycle_id"] == id)
                .collect();
            assert_eq!(
                here.len(),
                1,
                "{name}'s cycle {id} is in the central log once"
            );
            assert_eq!(here[0]["data"]["host"], name);
            if c["data"]["outcome"] == "kept" {
                let branch = c["data"]["branch"].as_str().expect("branch");
                assert_eq!(
                    git(
                        &room.w.repo,
                        &["rev-parse", &format!("refs/heads/{branch}")]
                    ),
                    c["data"]["head"].as_str().expect("head")
                );
                assert_eq!(queue.iter().filter(|q| q["branch"] == branch).count(), 1);
            }
        }
    }
    ssh_a.close();
    ssh_b.close();
}

/// Workers alive in a host's home (their life locks held), by pid.
fn worker_pids(home: &Path) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir(home.join("logs/locks")) else {
        return vec![];
    };
    dir.filter_map(|e| {
        let p = e.ok()?.path();
        p.file_name()?
            .to_str()?
            .starts_with("worker-")
            .then_some(())?;
        brl::store::atomic::LockGuard::is_held(&p)
            .ok()?
            .then(|| brl::store::atomic::lock_owner(&p))
            .flatten()
    })
    .collect()
}
