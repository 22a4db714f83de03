//! What one SSH host costs while its sessions idle, at 2 and at 16 sessions on it (plus one local
//! session): issue 19's promise is one multiplexed connection per host and idle traffic and CPU
//! flat in the number of remote sessions.
//!
//! Each run starts a real OpenSSH server on loopback (`tests/common/sshd.rs`, LogLevel VERBOSE),
//! makes the host ready with the real `brl hosts setup`, and starts the real control room
//! (`brl up --no-tui`, private tmux socket; `[scheduler] self_plan = false`, no tasks and a one-hour
//! `interval_secs`, so every session waits for a grant; `[tmux] check_secs` left at its default).
//! Once the N panes exist in the host's tmux and the local pane in the control room's, it settles
//! (10 s), then measures over a window (`BRL_BENCH_SECS`, default 60):
//! - **TCP connections** to the sshd port: the server's per-connection children (its pid's
//!   children) and the established sockets `ss` sees, at the window's start and end, plus the
//!   connections opened in the window (`Connection from` lines in the sshd log);
//! - **bytes per minute** on those connections: `ss -tin` `bytes_sent` + `bytes_received` of the
//!   client ends of the sockets to the port, end minus start (a socket opened in the window counts
//!   from zero; one that closes within the window is lost, so connections opened are shown too);
//! - **remote commands per minute**: `Starting session:` lines in the sshd log (one per channel
//!   that runs a command, whether on the multiplexed master or on a connection of its own);
//! - **CPU-s per minute** by role, exact for processes alive at the window's end (the sum of their
//!   threads' `/proc/<pid>/task/<tid>/schedstat`), plus the children they reaped in the window
//!   (`cutime+cstime`, 10 ms ticks): the control room (its reaped: the `ssh` clients it runs), the
//!   `ssh` master (found by its ControlPath), sshd (the listener and its per-connection processes;
//!   their reaped: the remote commands, `brl remote snapshot`, the host's tmux clients), the host's
//!   tmux server (by its socket) and the workers and pane copiers it runs, and the local session's
//!   tmux server and worker.
//!
//! Goals (a miss prints `TARGET MISSED`; a benchmark is not a timed test): the same number of
//! connections at 16 as at 2 sessions (one), and bytes/min, remote commands/min and fleet CPU at
//! 16 within 1.5× of 2 (CPU above a noise floor of 0.02 CPU-s/min).
//!
//! `cargo bench --bench hosts`. `BRL_BENCH_SECS` (default 60), `BRL_BENCH_SIZES` (default `2,16`).
//! Everything a run started is stopped afterwards, also on a panic: `brl down`, the control room,
//! the ssh master (`ssh -O exit`), the host's and the control room's tmux servers (by their private
//! sockets) and the sshd (by its pid).

#[path = "../tests/common/mod.rs"]
mod common;

#[path = "support/procs.rs"]
mod procs;

use std::collections::{BTreeMap, HashMap};

use procs::{Sample, descends_from, processes, sample};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use brl::config::HostConfig;
use brl::home::Home;
use brl::hosts::Ssh;
use brl::hosts::fleet::{host_paths, tmux_socket};
use common::room::{Room, Server};
use common::sshd::{Sshd, children_of};
use common::{agent, git};

const SETTLE: Duration = Duration::from_secs(10);
const MAX_GROWTH: f64 = 1.5;
/// Below this, CPU growth is noise (CPU-s/min).
const CPU_NOISE: f64 = 0.02;
const ROLES: [&str; 7] = [
    "control room",
    "ssh master",
    "sshd",
    "host tmux",
    "host workers",
    "local tmux",
    "local worker",
];

#[derive(Default)]
struct Measured {
    sessions: u32,
    conns_start: usize,
    conns_end: usize,
    sockets_start: usize,
    sockets_end: usize,
    opened: usize,
    bytes: f64,
    commands: f64,
    commands_by_kind: BTreeMap<String, usize>,
    /// CPU-s/min by role (own threads), and the children each role reaped.
    cpu: BTreeMap<&'static str, f64>,
    reaped: BTreeMap<&'static str, f64>,
    procs: BTreeMap<&'static str, usize>,
    load: String,
}

impl Measured {
    fn fleet(&self) -> f64 {
        self.cpu.values().sum::<f64>() + self.reaped.values().sum::<f64>()
    }
}

/// What a run started and must stop, in this order, also on a panic: `brl down`, the ssh
/// master, then (dropped after) the host's tmux server, the control room and the sshd.
struct Cleanup {
    home: PathBuf,
    ssh: Ssh,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new(env!("CARGO_BIN_EXE_brl"))
            .arg("--home")
            .arg(&self.home)
            .args(["down", "--wait-secs", "20"])
            .env_remove("BRL_HOME")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        self.ssh.close();
    }
}

/// How the bench recognises the fleet's processes.
struct Ident {
    room: i32,
    sshd_config: String,
    control_path: String,
    host_socket: String,
    local_socket: String,
}

fn base(a: &str) -> &str {
    a.rsplit('/').next().unwrap_or(a)
}

/// Every process of the fleet, by role; and the sshd listener's pid.
fn roles(id: &Ident) -> (BTreeMap<i32, &'static str>, Option<i32>) {
    let procs = processes();
    let me = std::process::id() as i32;
    let listener = procs
        .iter()
        // sshd rewrites its title (`sshd: … -f <config> [listener] …`): matched by content.
        .find(|(_, (ppid, argv))| *ppid == me && argv.iter().any(|a| a.contains(&id.sshd_config)))
        .map(|(&p, _)| p);
    let tmux_server = |socket: &str| {
        procs
            .iter()
            .filter(|(_, (ppid, argv))| {
                // The server has left its starter: its parent is init (or a subreaper).
                argv.first().is_some_and(|a| base(a) == "tmux")
                    && argv.iter().any(|a| a == socket)
                    && procs
                        .get(ppid)
                        .is_none_or(|(_, pargv)| pargv.first().is_none_or(|a| base(a) != "sshd"))
            })
            .map(|(&p, _)| p)
            .collect::<Vec<_>>()
    };
    let (host_tmux, local_tmux) = (tmux_server(&id.host_socket), tmux_server(&id.local_socket));
    let mut out = BTreeMap::new();
    let control_opt = format!("ControlPath={}", id.control_path);
    for (&pid, (_, argv)) in &procs {
        let first = argv.first().map(|a| base(a)).unwrap_or("");
        let role = if pid == id.room {
            "control room"
        } else if first == "ssh" && argv.iter().any(|a| a == &control_opt) {
            "ssh master"
        } else if listener.is_some_and(|l| descends_from(&procs, pid, l)) {
            // The listener, its per-connection processes (the remote commands they run are
            // their reaped children, or counted here while they live).
            "sshd"
        } else if host_tmux.contains(&pid) {
            "host tmux"
        } else if host_tmux.iter().any(|&t| descends_from(&procs, pid, t)) {
            "host workers"
        } else if local_tmux.contains(&pid) {
            "local tmux"
        } else if local_tmux.iter().any(|&t| descends_from(&procs, pid, t)) {
            "local worker"
        } else {
            continue;
        };
        out.insert(pid, role);
    }
    (out, listener)
}

/// The client ends of the established TCP sockets to `port`: local address → bytes sent +
/// received (from `ss -tin`).
fn socket_bytes(port: u16) -> BTreeMap<String, u64> {
    let out = Command::new("ss")
        .args([
            "-tinH",
            "state",
            "established",
            "dport",
            "=",
            &format!(":{port}"),
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let mut sockets = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in out.lines() {
        if !line.starts_with(char::is_whitespace) {
            // `Recv-Q Send-Q Local:Port Peer:Port`
            current = line
                .split_whitespace()
                .find(|t| {
                    t.rsplit_once(':')
                        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
                })
                .map(str::to_string);
            if let Some(c) = &current {
                sockets.insert(c.clone(), 0);
            }
            continue;
        }
        let Some(c) = &current else { continue };
        let bytes: u64 = line
            .split_whitespace()
            .filter_map(|t| {
                t.strip_prefix("bytes_sent:")
                    .or_else(|| t.strip_prefix("bytes_received:"))
            })
            .filter_map(|v| v.parse::<u64>().ok())
            .sum();
        *sockets.entry(c.clone()).or_default() += bytes;
    }
    sockets
}

fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Tagged panes of a tmux server on `socket` (the host's tmux runs on this machine, so the bench
/// looks without ssh and adds nothing to the host's traffic).
fn tagged_panes(socket: &str) -> usize {
    Command::new("tmux")
        .args(["-L", socket, "list-panes", "-a", "-F", "#{@brl_session}"])
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count()
        })
        .unwrap_or(0)
}

fn run(n: u32, window: Duration) -> Measured {
    let sshd = Sshd::start("h");
    let h: HostConfig = sshd.host_config(n);
    let mut room = Room::new(1, &agent("fix_one.sh"), "");
    // Every session idles: no tasks, no self-planning, a one-hour scheduling interval; tmux
    // checks at their default.
    let extra = format!(
        "[scheduler]\ninterval_secs = 3600\nself_plan = false\n\n[server]\nenabled = false\n\n\
         [tmux]\nsocket = \"{}\"\n\n{}",
        room.socket,
        sshd.host_toml(n)
    );
    room.w.write_config(1, &agent("fix_one.sh"), 60, &extra);
    let (code, out, err) = room.w.run(&["hosts", "setup"]);
    assert_eq!(code, 0, "brl hosts setup: {out}{err}");
    let paths = host_paths(&h);
    git(&paths.repo, &["config", "user.name", "Host"]);
    git(
        &paths.repo,
        &["config", "user.email", "host@example.invalid"],
    );
    let control = Home::new(&room.w.home);
    let ssh = Ssh::new(&control, &h);
    let host_socket = tmux_socket(&h);
    // Dropped in reverse: the cleanup runs first, then the host's tmux server goes.
    let _host_tmux = Server(host_socket.clone());
    let _cleanup = Cleanup {
        home: room.w.home.clone(),
        ssh: Ssh::new(&control, &h),
    };

    room.up(&[]);
    wait_for(180, "the host's panes and the local one", || {
        tagged_panes(&host_socket) == n as usize && tagged_panes(&room.socket) == 1
    });
    std::thread::sleep(SETTLE);

    let id = Ident {
        room: room.child.as_ref().map_or(0, |c| c.id() as i32),
        sshd_config: sshd
            .dir
            .path()
            .join("etc/sshd_config")
            .display()
            .to_string(),
        control_path: ssh.control_path().display().to_string(),
        host_socket: host_socket.clone(),
        local_socket: room.socket.clone(),
    };
    let sshd_log = sshd.dir.path().join("etc/sshd.log");
    let log_start = std::fs::metadata(&sshd_log).map_or(0, |m| m.len());
    let (roles_start, listener) = roles(&id);
    let listener = listener.expect("the bench's sshd runs");
    let conns_start = children_of(listener as u32).len();
    let bytes_start = socket_bytes(sshd.port);
    let samples_start: HashMap<i32, Sample> = roles_start
        .keys()
        .filter_map(|&p| sample(p).map(|s| (p, s)))
        .collect();
    let t0 = Instant::now();

    std::thread::sleep(window);

    let bytes_end = socket_bytes(sshd.port);
    let (roles_end, _) = roles(&id);
    let samples_end: HashMap<i32, Sample> = roles_end
        .keys()
        .filter_map(|&p| sample(p).map(|s| (p, s)))
        .collect();
    let conns_end = children_of(listener as u32).len();
    let minutes = t0.elapsed().as_secs_f64() / 60.0;
    let log = std::fs::read(&sshd_log).unwrap_or_default();
    let window_log = String::from_utf8_lossy(log.get(log_start as usize..).unwrap_or_default());

    // SAFETY: sysconf only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut m = Measured {
        sessions: n,
        conns_start,
        conns_end,
        sockets_start: bytes_start.len(),
        sockets_end: bytes_end.len(),
        ..Measured::default()
    };
    for (pid, role) in &roles_end {
        let Some(end) = samples_end.get(pid) else {
            continue;
        };
        let start = samples_start.get(pid).cloned().unwrap_or_default();
        *m.cpu.entry(role).or_default() +=
            end.cpu_ns.saturating_sub(start.cpu_ns) as f64 / 1e9 / minutes;
        *m.reaped.entry(role).or_default() +=
            end.reaped_ticks.saturating_sub(start.reaped_ticks) as f64 / ticks / minutes;
        *m.procs.entry(role).or_default() += 1;
    }
    let sent: u64 = bytes_end
        .iter()
        .map(|(k, v)| v.saturating_sub(bytes_start.get(k).copied().unwrap_or(0)))
        .sum();
    m.bytes = sent as f64 / minutes;
    for line in window_log.lines() {
        if line.contains("Connection from") {
            m.opened += 1;
        }
        if let Some((_, rest)) = line.split_once("Starting session: ") {
            m.commands += 1.0;
            let kind = rest.split(" for ").next().unwrap_or(rest).to_string();
            *m.commands_by_kind.entry(kind).or_default() += 1;
        }
    }
    m.commands /= minutes;
    m.load = std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    m
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let ram = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or("? GiB".to_string(), |kb| {
            format!("{:.0} GiB", kb / 1024.0 / 1024.0)
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let version = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .output()
            .map(|o| {
                let s = if o.stdout.is_empty() {
                    o.stderr
                } else {
                    o.stdout
                };
                String::from_utf8_lossy(&s).trim().to_string()
            })
            .unwrap_or_default()
    };
    format!(
        "{cpus} CPUs (nproc), {model}, {ram} RAM, kernel {kernel}, {}, {}",
        version("ssh", "-V"),
        version("tmux", "-V")
    )
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let secs: u64 = std::env::var("BRL_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let sizes: Vec<u32> = std::env::var("BRL_BENCH_SIZES")
        .unwrap_or_else(|_| "2,16".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .filter(|&n| n > 0)
        .collect();
    println!("machine: {}", machine());
    println!(
        "one host (sshd on loopback), 1 local session, idle; {secs} s window after {} s settle\n",
        SETTLE.as_secs()
    );
    let mut results = Vec::new();
    for &n in &sizes {
        let m = run(n, Duration::from_secs(secs));
        println!(
            "{n} host sessions: {:.0} B/min, {:.1} remote commands/min ({:?}), load {}",
            m.bytes, m.commands, m.commands_by_kind, m.load
        );
        results.push(m);
    }

    println!();
    println!(
        "| host sessions | sshd connections (start/end) | sockets to the port (start/end) | connections opened | bytes/min | remote commands/min | {} | reaped by control room | reaped by sshd | whole fleet CPU-s/min |",
        ROLES.join(" | ")
    );
    println!("|{}", "---|".repeat(9 + ROLES.len()));
    for m in &results {
        let cpu: Vec<String> = ROLES
            .iter()
            .map(|r| format!("{:.3}", m.cpu.get(r).copied().unwrap_or(0.0)))
            .collect();
        println!(
            "| {} | {}/{} | {}/{} | {} | {:.0} | {:.1} | {} | {:.3} | {:.3} | {:.3} |",
            m.sessions,
            m.conns_start,
            m.conns_end,
            m.sockets_start,
            m.sockets_end,
            m.opened,
            m.bytes,
            m.commands,
            cpu.join(" | "),
            m.reaped.get("control room").copied().unwrap_or(0.0),
            m.reaped.get("sshd").copied().unwrap_or(0.0),
            m.fleet()
        );
    }
    println!("\nprocesses by role at the window's end:");
    for m in &results {
        println!("  {} host sessions: {:?}", m.sessions, m.procs);
    }

    let (Some(small), Some(big)) = (
        results.iter().min_by_key(|m| m.sessions),
        results.iter().max_by_key(|m| m.sessions),
    ) else {
        return;
    };
    if small.sessions == big.sessions {
        return;
    }
    let mut missed = Vec::new();
    if big.conns_end != small.conns_end || big.conns_end > 1 {
        missed.push(format!(
            "connections: {} at {} sessions, {} at {} (goal: one each)",
            small.conns_end, small.sessions, big.conns_end, big.sessions
        ));
    }
    let grows = |a: f64, b: f64, floor: f64| b > a.max(floor) * MAX_GROWTH;
    if grows(small.bytes, big.bytes, 0.0) {
        missed.push(format!("bytes/min: {:.0} → {:.0}", small.bytes, big.bytes));
    }
    if grows(small.commands, big.commands, 0.0) {
        missed.push(format!(
            "remote commands/min: {:.1} → {:.1}",
            small.commands, big.commands
        ));
    }
    if grows(small.fleet(), big.fleet(), CPU_NOISE) {
        missed.push(format!(
            "fleet CPU-s/min: {:.3} → {:.3}",
            small.fleet(),
            big.fleet()
        ));
    }
    if missed.is_empty() {
        println!(
            "\nflat: {} vs {} host sessions within {MAX_GROWTH}×, one connection",
            big.sessions, small.sessions
        );
    }
    for m in missed {
        println!("TARGET MISSED: {m}");
    }
}
