//! Records and branches of a host come home exactly once: a real sshd on loopback is the host, a
//! real `brl worker` runs there (started over ssh, in the host's own home, with a fake agent), and
//! `brl hosts collect` brings its `ralph_cycle` entries, kept branches and task results to the
//! control host — through an outage of the host's sshd and through kills of the collecting process
//! at its crash points — with nothing lost and nothing doubled.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use brl::home::Home;
use brl::hosts::Ssh;
use brl::store::control::{GrantTask, SessionControl};
use brl::store::tasks::{Tasks, Tier};
use common::room::{signal, wait_for};
use common::sshd::Sshd;
use common::{World, agent, git};
use serde_json::Value;

/// The host's side, made by hand the way `brl hosts setup` lays it out under `dir`: `bin/brl`,
/// `repo` (a clone of the control repo that accepts pushes to its checked-out main) and `home`
/// (`host = "a"`, so its sessions are `a-s1..`).
struct Host {
    dir: PathBuf,
    ssh: Ssh,
    workers: Vec<u32>,
}

impl Host {
    fn new(w: &World, sshd: &Sshd, sessions: u32) -> Host {
        let dir = sshd.work_dir();
        std::fs::create_dir_all(dir.join("bin")).expect("mkdir");
        std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("brl"), dir.join("bin/brl"))
            .expect("link brl");
        let repo = dir.join("repo");
        git(
            &dir,
            &["clone", "-q", &w.repo.display().to_string(), "repo"],
        );
        git(&repo, &["config", "user.name", "Host A"]);
        git(&repo, &["config", "user.email", "a@example.invalid"]);
        git(
            &repo,
            &["config", "receive.denyCurrentBranch", "updateInstead"],
        );
        let home = dir.join("home");
        std::fs::create_dir_all(&home).expect("mkdir");
        std::fs::write(
            home.join("brl.toml"),
            format!(
                r#"repo = "{repo}"
main = "main"
sessions = {sessions}
host = "{name}"
context_file = "AGENTS.md"

[agent]
command = "{agent}"
timeout_secs = 20

[checks]
timeout_secs = 30

[checks.typecheck]
command = "cat f*.txt"
parser = "regex"
errors = "^ERR"

[checks.test]
command = "cat tests.txt"
parser = "regex"
failures = "^FAIL"
passed = "^PASS"

[worker]
pause_secs = 1
max_backoff_secs = 2
"#,
                repo = repo.display(),
                name = sshd.name,
                agent = agent("fix_host.sh").replace('"', "\\\""),
            ),
        )
        .expect("write host config");
        let ssh = Ssh::new(&Home::new(&w.home), &sshd.host_config(sessions));
        Host {
            dir,
            ssh,
            workers: Vec::new(),
        }
    }

    fn home(&self) -> Home {
        Home::new(&self.dir.join("home"))
    }

    /// `brl worker <session>` started on the host over ssh, detached from the connection (it
    /// outlives it, as in a tmux pane); its pid is kept to stop it at the end.
    fn start_worker(&mut self, session: &str) {
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
    fn cycles(&self) -> Vec<Value> {
        entries(&self.dir.join("home/logs/experiment-log.jsonl"))
            .into_iter()
            .filter(|v| v["type"] == "ralph_cycle")
            .collect()
    }

    /// Grant each session cycles until each has `n` more `ralph_cycle` entries on the host.
    fn run_cycles(&self, sessions: &[&str], n: usize, task: Option<(&str, GrantTask)>) {
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

fn entries(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// The central entries that came from host `a`.
fn from_host(w: &World) -> Vec<Value> {
    entries(&w.home.join("logs/experiment-log.jsonl"))
        .into_iter()
        .filter(|v| v["data"]["origin"]["host"] == "a")
        .collect()
}

/// `brl hosts collect` (one pass); its exit code and output.
fn collect(w: &World) -> (i32, String) {
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
fn collect_killed_at(w: &World, point: &str) {
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

fn state(w: &World) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(w.home.join("logs/hosts/a.json")).expect("host state"),
    )
    .expect("json")
}

/// Every entry the host logged up to the cursor is in the central log once, in the host's order,
/// with its host; every kept branch is in the control repo at the kept commit and queued once.
fn assert_home_exactly_once(w: &World, host: &Host) {
    let cursor = state(w)["cursor"].as_u64().expect("cursor");
    let text = std::fs::read(host.dir.join("home/logs/experiment-log.jsonl")).expect("host log");
    let sent: Vec<Value> = text[..cursor as usize]
        .split(|b| *b == b'\n')
        .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
        .collect();
    let got = from_host(w);
    let key = |v: &Value| (v["ts"].clone(), v["type"].clone(), v["session"].clone());
    assert_eq!(
        got.iter().map(key).collect::<Vec<_>>(),
        sent.iter().map(key).collect::<Vec<_>>(),
        "the central log holds the host's entries once each, in order"
    );
    assert!(got.iter().all(|v| v["data"]["host"] == "a"));
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

#[test]
fn records_and_branches_come_home_once_across_outages_and_kills() {
    let mut sshd = Sshd::start("a");
    let w = World::new(2);
    // Enough errors that every cycle keeps a branch.
    for f in ["f1.txt", "f2.txt"] {
        std::fs::write(w.repo.join(f), "ERR 1\nERR 2\nERR 3\nERR 4\nERR 5\nERR 6\n").expect("w");
    }
    git(&w.repo, &["commit", "-qam", "more errors"]);
    w.write_config(1, &agent("fix_one.sh"), 20, &sshd.host_toml(2));
    let mut host = Host::new(&w, &sshd, 2);
    host.start_worker("a-s1");
    host.start_worker("a-s2");

    // A task claimed centrally for a-s1 (the control room decides claims), run on the host.
    let tasks = Tasks::new(&Home::new(&w.home).tasks_path());
    let t = tasks
        .add("fix f1", None, Tier::AutoSafe, "cli", 10)
        .expect("task");
    tasks.claim("a-s1").expect("claim").expect("claimed");
    let grant = GrantTask {
        id: t.id,
        title: t.title.clone(),
        body: None,
    };
    host.run_cycles(&["a-s1", "a-s2"], 1, Some(("a-s1", grant)));

    let (code, out) = collect(&w);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("a: ") && out.contains("2 branches queued"),
        "{out}"
    );
    assert_home_exactly_once(&w, &host);
    let cycles: Vec<Value> = from_host(&w)
        .into_iter()
        .filter(|v| v["type"] == "ralph_cycle")
        .collect();
    assert_eq!(cycles.len(), 2, "{cycles:?}");
    assert!(
        cycles.iter().all(|c| c["data"]["outcome"] == "kept"),
        "{cycles:?}"
    );
    let task = tasks.load().expect("tasks").remove(0);
    assert_eq!(task.state.as_str(), "done", "the task's result came home");
    let kept_for_task = cycles
        .iter()
        .find(|c| c["data"]["task_id"] == t.id)
        .expect("the task's cycle");
    assert_eq!(
        task.branch.as_deref(),
        kept_for_task["data"]["branch"].as_str()
    );
    assert_eq!(kept_for_task["data"]["task_state"], "done");
    let remote_notes = host
        .cycles()
        .into_iter()
        .find(|c| c["data"]["task_id"] == t.id)
        .map(|c| c["data"]["notes"].to_string())
        .unwrap_or_default();
    assert!(
        !remote_notes.contains("could not update task"),
        "the host's cycle leaves the control room's task alone: {remote_notes}"
    );
    // main was pushed to the host's clone; a new main follows on the next pass.
    let remote_repo = host.dir.join("repo");
    assert_eq!(
        git(&remote_repo, &["rev-parse", "main"]),
        git(&w.repo, &["rev-parse", "main"])
    );
    std::fs::write(w.repo.join("NOTES.md"), "moved on\n").expect("write");
    git(&w.repo, &["add", "NOTES.md"]);
    git(&w.repo, &["commit", "-qm", "main moves"]);
    let (code, out) = collect(&w);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("main pushed"), "{out}");
    assert_eq!(
        git(&remote_repo, &["rev-parse", "main"]),
        git(&w.repo, &["rev-parse", "main"])
    );
    assert!(
        remote_repo.join("NOTES.md").is_file(),
        "the host's checkout follows"
    );
    assert_eq!(state(&w)["reachable"], true);

    // The host's sshd goes away while its sessions keep working: collection fails, the host is
    // marked unreachable; once back, everything comes, once.
    sshd.drop_connections();
    sshd.pause();
    host.run_cycles(&["a-s1", "a-s2"], 1, None);
    let (code, out) = collect(&w);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("unreachable since"), "{out}");
    let s = state(&w);
    assert_eq!(s["reachable"], false, "{s}");
    assert!(
        s["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("unreachable"),
        "{s}"
    );
    let n_before = from_host(&w).len();
    std::thread::sleep(Duration::from_secs(2));
    sshd.resume();
    let (code, out) = collect(&w);
    assert_eq!(code, 0, "{out}");
    assert_eq!(state(&w)["reachable"], true);
    assert!(
        from_host(&w).len() > n_before,
        "the outage's cycles came home"
    );
    assert_home_exactly_once(&w, &host);
    let central = entries(&w.home.join("logs/experiment-log.jsonl"));
    for kind in ["host_unreachable", "host_reachable"] {
        assert_eq!(
            central.iter().filter(|v| v["type"] == kind).count(),
            1,
            "one {kind} entry"
        );
    }

    // The collecting process killed after a fetch (nothing appended) and after an append (cursor
    // not saved): the rerun brings the rest, nothing twice.
    host.run_cycles(&["a-s1", "a-s2"], 2, None);
    collect_killed_at(&w, "collect:after-fetch");
    let n_fetch_kill = from_host(&w).len();
    collect_killed_at(&w, "collect:after-append");
    assert_eq!(
        from_host(&w).len(),
        n_fetch_kill + 1,
        "the kill came right after one append"
    );
    collect_killed_at(&w, "collect:after-append");
    let (code, out) = collect(&w);
    assert_eq!(code, 0, "{out}");
    assert_home_exactly_once(&w, &host);
    let cycles = from_host(&w)
        .into_iter()
        .filter(|v| v["type"] == "ralph_cycle")
        .count();
    assert_eq!(
        cycles,
        host.cycles().len(),
        "every cycle of the host came home"
    );
    assert!(cycles >= 8, "{cycles}");
    // Nothing new: a pass changes nothing, and costs one command on the host.
    let len = std::fs::metadata(w.home.join("logs/experiment-log.jsonl"))
        .expect("log")
        .len();
    let sessions = || {
        std::fs::read_to_string(sshd.dir.path().join("etc/sshd.log"))
            .unwrap_or_default()
            .matches("Starting session: command")
            .count()
    };
    let before = sessions();
    let (code, out) = collect(&w);
    assert_eq!(
        sessions(),
        before + 1,
        "one ssh command when nothing is new"
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("a: 0 entries collected"), "{out}");
    assert_eq!(
        std::fs::metadata(w.home.join("logs/experiment-log.jsonl"))
            .expect("log")
            .len(),
        len
    );

    // A kept branch deleted on the host before it came home: the record comes, saying so, and
    // the other branch of the same pass is not held back.
    host.run_cycles(&["a-s1", "a-s2"], 1, None);
    let gone = host
        .cycles()
        .into_iter()
        .rev()
        .find(|c| c["session"] == "a-s1")
        .and_then(|c| c["data"]["branch"].as_str().map(str::to_string))
        .expect("a-s1's last branch");
    git(&remote_repo, &["branch", "-D", &gone]);
    let (code, out) = collect(&w);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 branch queued"), "{out}");
    let note = from_host(&w)
        .into_iter()
        .find(|v| v["data"]["branch"] == gone.as_str())
        .map(|v| v["data"]["collect_note"].to_string())
        .unwrap_or_default();
    assert!(note.contains("was gone from host `a`"), "{note}");
    assert!(!w.queue().iter().any(|q| q["branch"] == gone.as_str()));
    assert_home_exactly_once(&w, &host);

    // A branch of the same name already in the control repo at another commit is never
    // overwritten: the pass stops there, loudly; renamed out of the way, it goes on.
    host.run_cycles(&["a-s1"], 1, None);
    let clash = host
        .cycles()
        .last()
        .and_then(|c| c["data"]["branch"].as_str().map(str::to_string))
        .expect("a branch");
    let other = git(
        &w.repo,
        &[
            "commit-tree",
            "main^{tree}",
            "-p",
            "main",
            "-m",
            "someone else's work",
        ],
    );
    git(&w.repo, &["branch", &clash, &other]);
    let mine = git(&w.repo, &["rev-parse", &clash]);
    let (code, out) = collect(&w);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("never overwrites"), "{out}");
    assert_eq!(git(&w.repo, &["rev-parse", &clash]), mine, "untouched");
    assert_eq!(state(&w)["reachable"], true, "the host answered");
    git(&w.repo, &["branch", "-m", &clash, "mine"]);
    let (code, out) = collect(&w);
    assert_eq!(code, 0, "{out}");
    assert_eq!(git(&w.repo, &["rev-parse", "mine"]), mine);
    assert_home_exactly_once(&w, &host);

    // The host's log replaced by another of the same shape (its first line differs): the cursor
    // is not applied to it; the real log back, collection goes on.
    let log = host.dir.join("home/logs/experiment-log.jsonl");
    let real = std::fs::read(&log).expect("host log");
    let mut other = real.clone();
    // The first entry's year, one earlier (the first line is `{"ts":"2026-…`).
    let at = r#"{"ts":"202"#.len();
    assert!(
        other[at].is_ascii_digit() && other[at] != b'0',
        "{}",
        other[at] as char
    );
    other[at] -= 1;
    std::fs::write(&log, &other).expect("write");
    let (code, out) = collect(&w);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is not the one collected so far"), "{out}");
    std::fs::write(&log, &real).expect("write");
    let (code, out) = collect(&w);
    assert_eq!(code, 0, "{out}");
    assert_home_exactly_once(&w, &host);
}

#[test]
fn the_control_room_collects_on_its_own_and_shows_an_outage() {
    let mut sshd = Sshd::start("a");
    let mut room = common::room::Room::new(1, &agent("no_change.sh"), &sshd.host_toml(1));
    let mut host = Host::new(&room.w, &sshd, 1);
    host.start_worker("a-s1");
    room.up(&[]);
    host.run_cycles(&["a-s1"], 1, None);
    let cycles = |w: &World| {
        from_host(w)
            .iter()
            .filter(|v| v["type"] == "ralph_cycle")
            .count()
    };
    wait_for(30, "the control room to collect the host's cycle", || {
        cycles(&room.w) == 1
    });
    let reachable = |w: &World| {
        std::fs::read_to_string(w.home.join("logs/hosts/a.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .map(|s| s["reachable"] == true)
    };
    assert_eq!(reachable(&room.w), Some(true));

    // Down: shown unreachable while the host's session goes on; back: its cycle comes home.
    sshd.drop_connections();
    sshd.pause();
    wait_for(30, "the host shown unreachable", || {
        reachable(&room.w) == Some(false)
    });
    host.run_cycles(&["a-s1"], 1, None);
    sshd.resume();
    wait_for(30, "the host back and its cycle collected", || {
        reachable(&room.w) == Some(true) && cycles(&room.w) == 2
    });
    let (status, _) = room.stop();
    assert!(status.success(), "{status}");
    assert_home_exactly_once(&room.w, &host);
    assert_eq!(room.entries("host_unreachable").len(), 1);
    assert_eq!(room.entries("host_reachable").len(), 1);
}
