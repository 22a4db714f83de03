//! What every target shares: violations, a small seeded random source, running brl with a time
//! limit, and the processes of a trial (found by the tag in their environment, never by name).

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that marks every process a trial starts (brl, its agents, their
/// children, the tmux server a control room starts and its panes): the one way the harness finds
/// "its" processes, so it never touches anything else on the machine.
pub const TAG_ENV: &str = "BRL_CHAOS_TAG";

/// One broken promise, named by the check that saw it.
#[derive(Debug, Clone)]
pub struct Violation {
    pub check: &'static str,
    pub detail: String,
}

/// What a trial saw: its violations, and whether the kill landed.
#[derive(Debug, Default)]
pub struct Trial {
    pub violations: Vec<Violation>,
    /// The process was killed while running (random) or stopped at its point (targeted).
    pub killed: bool,
    /// Free text for the table's notes (e.g. "completed before the kill").
    pub notes: Vec<String>,
}

impl Trial {
    pub fn violation(&mut self, check: &'static str, detail: impl Into<String>) {
        self.violations.push(Violation {
            check,
            detail: detail.into(),
        });
    }
}

/// xorshift64*: reproducible from `BRL_CHAOS_SEED`, no crate needed for a few random instants.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// The outcome of a command run with a time limit.
pub struct Ran {
    pub code: Option<i32>,
    pub out: String,
    pub err: String,
    pub took: Duration,
    pub timed_out: bool,
}

impl Ran {
    pub fn ok(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }
    /// "exit 1: <stderr>" for a violation's detail.
    pub fn describe(&self) -> String {
        let how = if self.timed_out {
            format!(
                "still running after {:.0} s (killed)",
                self.took.as_secs_f64()
            )
        } else {
            match self.code {
                Some(c) => format!("exit {c}"),
                None => "killed by a signal".into(),
            }
        };
        format!(
            "{how}: {}{}",
            last_lines(&self.err, 4),
            last_lines(&self.out, 2)
        )
    }
}

fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(n)..];
    if tail.is_empty() {
        String::new()
    } else {
        format!("[{}] ", tail.join(" | "))
    }
}

/// Run `cmd` to its end or for at most `limit` (then SIGKILL it, by its pid).
pub fn run_limited(mut cmd: Command, limit: Duration) -> Ran {
    let start = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return Ran {
                code: None,
                out: String::new(),
                err: format!("cannot start {cmd:?}: {e}"),
                took: start.elapsed(),
                timed_out: false,
            };
        }
    };
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() >= limit => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    Ran {
        code: status.and_then(|s| s.code()),
        out: out.join().unwrap_or_default(),
        err: err.join().unwrap_or_default(),
        took: start.elapsed(),
        timed_out,
    }
}

fn drain<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut r) = r {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            s = String::from_utf8_lossy(&buf).into_owned();
        }
        s
    })
}

pub fn signal(pid: u32, sig: i32) {
    // SAFETY: sends a signal to one process this trial started, by its pid.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// The state letter of `/proc/<pid>/stat` (`R`, `S`, `T`, `Z`…), `None` when there is no such process.
pub fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.trim_start().chars().next()
}

/// How a spawned brl met its crash point.
pub enum Stop {
    /// Stopped itself (state `T`) at the point; then SIGKILLed and reaped.
    Hit,
    /// Ran to its end without stopping: the point is not in the code path.
    Exited,
    /// Neither stopped nor ended in time; SIGKILLed.
    TimedOut,
}

/// Wait for `child` to SIGSTOP itself at its crash point, then SIGKILL it.
pub fn kill_at_point(child: &mut Child, limit: Duration) -> Stop {
    let pid = child.id();
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return Stop::Exited;
        }
        if proc_state(pid) == Some('T') {
            signal(pid, libc::SIGKILL);
            let _ = child.wait();
            return Stop::Hit;
        }
        if start.elapsed() >= limit {
            signal(pid, libc::SIGKILL);
            let _ = child.wait();
            return Stop::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// SIGKILL `child` after `after`, unless it ended first. Returns whether the kill landed.
pub fn kill_after(child: &mut Child, after: Duration) -> bool {
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if start.elapsed() >= after {
            signal(child.id(), libc::SIGKILL);
            let _ = child.wait();
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Live (not zombie) processes whose environment carries `BRL_CHAOS_TAG=<tag>`: (pid, command line).
pub fn tagged(tag: &str) -> Vec<(u32, String)> {
    let want = format!("{TAG_ENV}={tag}");
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    let me = std::process::id();
    let mut found = Vec::new();
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if !env.split(|b| *b == 0).any(|v| v == want.as_bytes()) {
            continue;
        }
        if matches!(proc_state(pid), None | Some('Z')) {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| {
                String::from_utf8_lossy(&c)
                    .replace('\0', " ")
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        found.push((pid, cmd));
    }
    found
}

/// SIGKILL every live process tagged `tag` (all of them were started by this trial).
pub fn kill_tagged(tag: &str) {
    for _ in 0..3 {
        let left = tagged(tag);
        if left.is_empty() {
            return;
        }
        for (pid, _) in left {
            signal(pid, libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The lines the chaos agents append to `<home>/chaos-pids.txt`.
#[derive(Debug, Clone)]
pub struct AgentRun {
    pub tag: String,
    pub role: String,
    pub pid: u32,
    pub branch: String,
    pub cycle_id: Option<String>,
}

pub fn agent_runs(home: &Path) -> Vec<AgentRun> {
    let text = std::fs::read_to_string(home.join("chaos-pids.txt")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4).then(|| AgentRun {
                tag: f[0].to_string(),
                role: f[1].to_string(),
                pid: f[2].parse().unwrap_or(0),
                branch: f[3].to_string(),
                cycle_id: f.get(4).filter(|s| **s != "-").map(|s| s.to_string()),
            })
        })
        .collect()
}

/// `brl --home <home>` with the trial's tag, and no crash point unless the caller sets one.
pub fn brl(home: &Path, tag: &str) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("brl"));
    c.arg("--home")
        .arg(home)
        .env_remove("BRL_HOME")
        .env_remove(brl::chaos::ENV)
        .env(TAG_ENV, tag);
    c
}
