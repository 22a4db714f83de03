//! A host of the fleet for the tests, made by the real `brl hosts setup`, with
//! real `brl worker`s started on it over ssh; and the checks that its records came home once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use brl::home::Home;
use brl::hosts::Ssh;
use brl::store::control::{GrantTask, SessionControl};
use serde_json::Value;

use crate::common::room::{signal, wait_for};
use crate::common::sshd::Sshd;
use crate::common::{World, git};

/// The host's side as `brl hosts setup` lays it out under `dir`: `bin/brl`, `repo` (a clone of
/// the control repo that accepts pushes to its checked-out main) and `home` (`host = "a"`, so its
/// sessions are `a-s1..`).
pub struct Host {
    pub name: String,
    pub dir: PathBuf,
    pub ssh: Ssh,
    pub workers: Vec<u32>,
}

impl Host {
    /// The host made ready by the real `brl hosts setup <name>` of `w` (whose brl.toml holds the
    /// host's `[[hosts]]`); its clone gets a committer identity, as a user's host has one.
    pub fn new(w: &World, sshd: &Sshd) -> Host {
        let (code, out, err) = w.run(&["hosts", "setup", &sshd.name]);
        assert_eq!(code, 0, "brl hosts setup {}: {out}{err}", sshd.name);
        let dir = sshd.work_dir();
        let repo = dir.join("repo");
        git(&repo, &["config", "user.name", "Host A"]);
        git(&repo, &["config", "user.email", "a@example.invalid"]);
        let ssh = Ssh::new(&Home::new(&w.home), &sshd.host_config(1));
        Host {
            name: sshd.name.clone(),
            dir,
            ssh,
            workers: Vec::new(),
        }
    }

    pub fn home(&self) -> Home {
        Home::new(&self.dir.join("home"))
    }

    /// `brl worker <session>` started on the host over ssh, detached from the connection (it
    /// outlives it, as in a tmux pane); its pid is kept to stop it at the end.
    pub fn start_worker(&mut self, session: &str) {
        let d = self.dir.display();
        let line = format!(
            "setsid nohup {d}/bin/brl --home {d}/home worker {session} </dev/null >{d}/worker-{session}.log 2>&1 & echo $!"
        );
        let out = self
            .ssh
            .run(&["sh", "-c", &line], None, Duration::from_secs(30))
            .expect("ssh runs");
        assert!(out.ok(), "{out:?}");
        let pid: u32 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("a pid");
        self.workers.push(pid);
    }

    /// The host's own `ralph_cycle` entries.
    pub fn cycles(&self) -> Vec<Value> {
        entries(&self.dir.join("home/logs/experiment-log.jsonl"))
            .into_iter()
            .filter(|v| v["type"] == "ralph_cycle")
            .collect()
    }

    /// Grant each session cycles until each has `n` more `ralph_cycle` entries on the host.
    pub fn run_cycles(&self, sessions: &[&str], n: usize, task: Option<(&str, GrantTask)>) {
        let home = self.home();
        let count = |s: &str| self.cycles().iter().filter(|c| c["session"] == s).count();
        let targets: Vec<usize> = sessions.iter().map(|s| count(s) + n).collect();
        let mut task = task;
        wait_for(60, "the host's cycles", || {
            let mut done = true;
            for (s, t) in sessions.iter().zip(&targets) {
                if count(s) >= *t {
                    continue;
                }
                done = false;
                let give = match &task {
                    Some((ts, _)) if ts == s => task.take().map(|(_, g)| g),
                    _ => None,
                };
                let sc = SessionControl::new(&home, s);
                if sc.grant(give.clone()).expect("grant").is_none()
                    && let Some(g) = give
                {
                    task = Some((s, g));
                }
            }
            done
        });
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        for pid in &self.workers {
            signal(*pid, libc::SIGTERM);
        }
        for pid in &self.workers {
            for _ in 0..100 {
                if !brl::proc::is_running(*pid as i32) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if brl::proc::is_running(*pid as i32) {
                signal(*pid, libc::SIGKILL);
            }
        }
        self.ssh.close();
    }
}

pub fn entries(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// The central entries that came from host `a`.
pub fn from_host(w: &World) -> Vec<Value> {
    from_named(w, "a")
}

/// The central entries that came from host `name`.
pub fn from_named(w: &World, name: &str) -> Vec<Value> {
    entries(&w.home.join("logs/experiment-log.jsonl"))
        .into_iter()
        .filter(|v| v["data"]["origin"]["host"] == name)
        .collect()
}

/// `brl hosts collect` (one pass); its exit code and output.
pub fn collect(w: &World) -> (i32, String) {
    let out = w
        .spawnable()
        .args(["hosts", "collect"])
        .output()
        .expect("brl runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `brl hosts collect` stopped at crash point `point`, then SIGKILLed there.
pub fn collect_killed_at(w: &World, point: &str) {
    let mut child = w
        .spawnable()
        .args(["hosts", "collect"])
        .env(brl::chaos::ENV, point)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("brl runs");
    let pid = child.id();
    wait_for(30, point, || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, r)| r.trim_start().starts_with('T'))
            })
            .unwrap_or(false)
            || child.try_wait().ok().flatten().is_some()
    });
    assert!(
        child.try_wait().expect("wait").is_none(),
        "brl hosts collect ended instead of stopping at {point}"
    );
    signal(pid, libc::SIGKILL);
    let _ = child.wait();
}

pub fn state(w: &World) -> Value {
    state_of(w, "a")
}

/// `logs/hosts/<name>.collect.json` of the control home.
pub fn state_of(w: &World, name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(w.home.join(format!("logs/hosts/{name}.collect.json")))
            .expect("host state"),
    )
    .expect("json")
}

/// Every entry the host logged up to the cursor is in the central log once, in the host's order,
/// with its host; every kept branch is in the control repo at the kept commit and queued once.
pub fn assert_home_exactly_once(w: &World, host: &Host) {
    let cursor = state_of(w, &host.name)["cursor"].as_u64().expect("cursor");
    let text = std::fs::read(host.dir.join("home/logs/experiment-log.jsonl")).expect("host log");
    let sent: Vec<Value> = text[..cursor as usize]
        .split(|b| *b == b'\n')
        .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
        .collect();
    let got = from_named(w, &host.name);
    let key = |v: &Value| (v["ts"].clone(), v["type"].clone(), v["session"].clone());
    assert_eq!(
        got.iter().map(key).collect::<Vec<_>>(),
        sent.iter().map(key).collect::<Vec<_>>(),
        "the central log holds the host's entries once each, in order"
    );
    assert!(got.iter().all(|v| v["data"]["host"] == host.name.as_str()));
    let queue = w.queue();
    for c in got.iter().filter(|v| v["type"] == "ralph_cycle") {
        if c["data"]["outcome"] != "kept" || !c["data"]["collect_note"].is_null() {
            continue;
        }
        let branch = c["data"]["branch"].as_str().expect("branch");
        assert_eq!(
            git(&w.repo, &["rev-parse", &format!("refs/heads/{branch}")]),
            c["data"]["head"].as_str().expect("head"),
            "{branch} is in the control repo at the kept commit"
        );
        let q: Vec<&Value> = queue.iter().filter(|q| q["branch"] == branch).collect();
        assert_eq!(q.len(), 1, "{branch} is queued once");
        assert_eq!(q[0]["session"], c["session"]);
        assert_eq!(q[0]["cycle_id"], c["data"]["cycle_id"]);
    }
}
