//! What the WHOLE fleet costs while nothing happens: every process brl starts — the control room
//! (`brl up --no-tui`), the workers, the `pipe-pane` copiers (`brl pane-log`), the dashboard
//! (`brl up` in a terminal, a viewer of the same home) — plus brl's tmux server, at 3, 8, 30 and
//! 64 sessions, idle (every worker waiting for a grant) and with agents running (every session
//! in a cycle whose agent is `sleep`, so the cycle's own machinery is all that can cost).
//!
//! Per role: CPU-seconds per minute (exact, the sum of its threads'
//! `/proc/<pid>/task/<tid>/schedstat`) and wake-ups per second (voluntary + nonvoluntary context
//! switches of its threads, `/proc/<pid>/task/<tid>/status`), plus the tick-sampled CPU of the
//! children the control room and the workers reaped in the window (`cutime+cstime`: tmux clients,
//! the counting wrapper's bash). tmux calls: a logging `tmux` wrapper first on PATH for `brl up`
//! (the tmux server inherits that PATH, so workers and panes use it too) appends a line per run;
//! the bench's own calls use the real tmux and are not counted. The dashboard runs in a 160×48
//! pane of a SEPARATE private tmux server (its terminal, the user's, not brl's): the bytes it
//! writes are counted by `pipe-pane`, and that server's CPU is shown apart, outside the fleet.
//!
//! Goals (a miss prints `TARGET MISSED`; nothing fails — a benchmark is not a timed test):
//! fleet ≤ 0.2 CPU-s/min at 30 idle sessions; 64 sessions ≤ 1.5× 8 sessions (idle and running);
//! dashboard ≤ 1 KB/min to its terminal at 30 sessions; ≤ 12 tmux calls/min.
//!
//! `cargo bench --bench fleet`. `BRL_BENCH_SECS` (default 60) is the window; `BRL_BENCH_SIZES`
//! (default `3,8,30,64`) and `BRL_BENCH_MODES` (default `idle,running`) choose the runs. Each run
//! has its own temp dir, demo home and private tmux sockets; afterwards `brl down`, and both
//! private tmux servers are killed in any case (also on a panic).

#[path = "support/procs.rs"]
mod procs;

use std::collections::BTreeMap;

use procs::{Sample, descends_from, processes, sample};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// After the fleet is ready (all waiting, or all agents running), before the window opens.
const SETTLE: Duration = Duration::from_secs(10);
const MAX_FLEET_CPU_30: f64 = 0.2;
const MAX_GROWTH_8_TO_64: f64 = 1.5;
/// Below this, growth is noise (CPU-s/min).
const CPU_NOISE: f64 = 0.02;
const MAX_DASH_BYTES: f64 = 1024.0;
const MAX_TMUX_CALLS: f64 = 12.0;
const ROLES: [&str; 5] = [
    "control room",
    "workers",
    "pane copiers",
    "dashboard",
    "tmux server",
];

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Idle,
    Running,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Idle => "idle",
            Mode::Running => "running",
        }
    }
}

#[derive(Default, Clone)]
struct Use {
    procs: usize,
    cpu: f64,
    wakeups: f64,
}

struct Measured {
    sessions: u32,
    mode: Mode,
    ready: u32,
    roles: BTreeMap<&'static str, Use>,
    /// The agents' processes (shells, `sleep`): not brl's own cost, shown apart.
    agents: Use,
    /// By role and thread name: CPU-s/min and wake-ups/s.
    threads: BTreeMap<(&'static str, String), (f64, f64)>,
    reaped: f64,
    tmux_calls: f64,
    tmux_by_cmd: BTreeMap<String, usize>,
    dash_bytes: f64,
    dash_term: Use,
    load: String,
}

impl Measured {
    fn fleet(&self) -> f64 {
        self.roles.values().map(|u| u.cpu).sum::<f64>() + self.reaped
    }
    fn wakeups(&self) -> f64 {
        self.roles.values().map(|u| u.wakeups).sum()
    }
}

/// Stops what a run started: the control room, both private tmux servers, any worker left.
struct Guard {
    brl: PathBuf,
    home: PathBuf,
    real_tmux: PathBuf,
    sockets: Vec<String>,
    child: Option<Child>,
}

impl Guard {
    fn down(&mut self) {
        let _ = Command::new(&self.brl)
            .arg("--home")
            .arg(&self.home)
            .args(["down", "--wait-secs", "20"])
            .env_remove("BRL_HOME")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(c.id() as i32, libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        // SAFETY: getuid only reads this process's user id.
        let uid = unsafe { libc::getuid() };
        let tmpdir = std::env::var_os("TMUX_TMPDIR").unwrap_or_else(|| "/tmp".into());
        for s in &self.sockets {
            // Only this run's servers, by their private sockets.
            let _ = Command::new(&self.real_tmux)
                .args(["-L", s, "kill-server"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = std::fs::remove_file(Path::new(&tmpdir).join(format!("tmux-{uid}")).join(s));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !live_workers(&self.home).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        for pid in live_workers(&self.home) {
            signal(pid, libc::SIGKILL);
        }
    }
}

/// Workers still holding their life locks (pid from the lock file).
fn live_workers(home: &Path) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir(home.join("logs/locks")) else {
        return vec![];
    };
    dir.filter_map(|e| {
        let p = e.ok()?.path();
        let name = p.file_name()?.to_str()?;
        if !(name.starts_with("worker-") && name.ends_with(".lock")) {
            return None;
        }
        if !brl::store::atomic::LockGuard::is_held(&p).ok()? {
            return None;
        }
        std::fs::read_to_string(&p).ok()?.trim().parse().ok()
    })
    .collect()
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: sends a signal to a process this bench started, by its pid.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Every process of the fleet, by role ("agents" for what the agents run).
fn roles(room: i32, server: i32, dash: Option<i32>, brl: &Path) -> BTreeMap<i32, &'static str> {
    let procs = processes();
    let exe = brl.display().to_string();
    let mut out = BTreeMap::new();
    out.insert(room, "control room");
    out.insert(server, "tmux server");
    if let Some(d) = dash {
        out.insert(d, "dashboard");
    }
    for (&pid, (_, argv)) in &procs {
        if pid == server || !descends_from(&procs, pid, server) {
            continue;
        }
        let is_brl = argv
            .first()
            .is_some_and(|a| a == &exe || a.ends_with("/brl"));
        let role = if is_brl && argv.iter().any(|a| a == "worker") {
            "workers"
        } else if is_brl && argv.iter().any(|a| a == "pane-log") {
            "pane copiers"
        } else {
            "agents"
        };
        out.insert(pid, role);
    }
    out
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let tmux = Command::new("tmux")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{cpus} CPUs (nproc), {model}, {tmux}")
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn which(name: &str) -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .expect("sh runs");
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && path.starts_with('/'),
        "{name} is not on PATH; this benchmark needs it"
    );
    PathBuf::from(path)
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// `tmux` that logs one line (time, the caller's argv) and runs the real one; builtins only.
fn wrapper(dir: &Path, real: &Path, log: &Path) -> PathBuf {
    let bin = dir.join("wrap");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let script = format!(
        "#!{bash}\nIFS=$'\\t'\nprintf '%s\\t%s\\n' \"$EPOCHREALTIME\" \"$*\" >> {log}\nexec {real} \"$@\"\n",
        bash = which("bash").display(),
        log = quote(log),
        real = quote(real),
    );
    let path = bin.join("tmux");
    std::fs::write(&path, script).expect("write the wrapper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

/// The tmux calls in `[from, to]`, by command.
fn tmux_calls(log: &Path, from: f64, to: f64) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut by = BTreeMap::new();
    for line in text.lines() {
        let Some((ts, args)) = line.split_once('\t') else {
            continue;
        };
        let Ok(ts) = ts.parse::<f64>() else { continue };
        if ts < from || ts > to {
            continue;
        }
        let mut words = args.split('\t');
        let mut cmd = "";
        while let Some(w) = words.next() {
            if matches!(w, "-L" | "-S" | "-f") {
                words.next();
            } else if !w.starts_with('-') {
                cmd = w;
                break;
            }
        }
        *by.entry(cmd.to_string()).or_insert(0) += 1;
    }
    by
}

fn configure(home: &Path, socket: &str, mode: Mode, agent: &Path) {
    let path = home.join("brl.toml");
    let text = std::fs::read_to_string(&path).expect("read brl.toml");
    let mut t: toml::Table = text.parse().expect("the demo's brl.toml parses");
    let mut set = |table: &str, key: &str, value: toml::Value| {
        t.entry(table)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .unwrap_or_else(|| panic!("`{table}` in brl.toml is not a table"))
            .insert(key.to_string(), value);
    };
    set("tmux", "socket", toml::Value::String(socket.to_string()));
    set("server", "enabled", toml::Value::Boolean(false));
    set("scheduler", "interval_secs", toml::Value::Integer(300));
    set("scheduler", "max_ram_percent", toml::Value::Integer(100));
    set("scheduler", "max_running", toml::Value::Integer(0));
    set(
        "scheduler",
        "self_plan",
        toml::Value::Boolean(mode == Mode::Running),
    );
    if mode == Mode::Running {
        set(
            "agent",
            "command",
            toml::Value::String(agent.display().to_string()),
        );
        set("agent", "timeout_secs", toml::Value::Integer(3600));
    }
    std::fs::write(&path, toml::to_string(&t).expect("serialize")).expect("write brl.toml");
}

fn control(home: &Path, i: u32) -> serde_json::Value {
    std::fs::read_to_string(home.join(format!("logs/control/s{i}.json")))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// How many sessions are where the mode wants them: waiting without a grant, or in the hack phase.
fn ready(home: &Path, n: u32, mode: Mode) -> u32 {
    (1..=n)
        .filter(|&i| {
            let v = control(home, i);
            match mode {
                Mode::Idle => v["state"] == "waiting" && v["grant"].is_null(),
                Mode::Running => v["state"] == "cycle" && v["phase"] == "hack",
            }
        })
        .count() as u32
}

fn tmux_out(real: &Path, socket: &str, args: &[&str]) -> String {
    Command::new(real)
        .args(["-L", socket])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn run(n: u32, mode: Mode, window: Duration, real_tmux: &Path) -> Measured {
    let brl = PathBuf::from(env!("CARGO_BIN_EXE_brl"));
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    let made = Command::new(&brl)
        .arg("demo")
        .arg("--dir")
        .arg(&demo)
        .args(["--rounds", "0"])
        .env_remove("BRL_HOME")
        .stdout(Stdio::null())
        .status()
        .expect("brl demo runs");
    assert!(made.success(), "brl demo --rounds 0 failed");
    let home = demo.join("home");
    // The fake agent: sleeps, quietly, for longer than any window.
    let agent = dir.path().join("sleeping-agent.sh");
    std::fs::write(&agent, "#!/bin/sh\nexec sleep 100000\n").expect("write the agent");
    std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let socket = format!("brl-bench-fleet-{}-{n}", std::process::id());
    let dash_socket = format!("brl-bench-dash-{}-{n}", std::process::id());
    configure(&home, &socket, mode, &agent);

    let log = dir.path().join("tmux-calls.log");
    let wrap = wrapper(dir.path(), real_tmux, &log);
    let mut paths = vec![wrap];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(paths).expect("PATH");

    let out = home.join("up.out");
    let out_file = std::fs::File::create(&out).expect("create up.out");
    let mut guard = Guard {
        brl: brl.clone(),
        home: home.clone(),
        real_tmux: real_tmux.to_path_buf(),
        sockets: vec![socket.clone(), dash_socket.clone()],
        child: None,
    };
    let child = Command::new(&brl)
        .arg("--home")
        .arg(&home)
        .args(["up", "--no-tui", "--sessions", &n.to_string()])
        .env("PATH", &path)
        .env_remove("BRL_HOME")
        .env_remove("BRL_SESSIONS")
        .env_remove("BRL_LOG")
        .env_remove("TMUX")
        .env_remove("TMUX_PANE")
        .stdin(Stdio::null())
        .stdout(out_file.try_clone().expect("dup"))
        .stderr(out_file)
        .spawn()
        .expect("spawn brl up");
    let room = child.id() as i32;
    guard.child = Some(child);
    let deadline = Instant::now() + Duration::from_secs(60 + 4 * u64::from(n));
    while ready(&home, n, mode) < n && Instant::now() < deadline {
        if let Some(c) = guard.child.as_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            panic!(
                "the control room exited ({status}); its output:\n{}",
                std::fs::read_to_string(&out).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    // The dashboard: `brl up` in a terminal of its own finds the control room and only shows.
    let cmd = format!("exec {} --home {} up", quote(&brl), quote(&home));
    let dash_env = format!("PATH={}", path.to_string_lossy());
    let _ = Command::new(real_tmux)
        .args([
            "-L",
            &dash_socket,
            "new-session",
            "-d",
            "-s",
            "term",
            "-x",
            "160",
            "-y",
            "48",
        ])
        .args(["-e", &dash_env])
        .arg(&cmd)
        .env_remove("TMUX")
        .status();
    std::thread::sleep(SETTLE);
    let ready_n = ready(&home, n, mode);
    let server: i32 = tmux_out(real_tmux, &socket, &["display", "-p", "#{pid}"])
        .parse()
        .expect("brl's tmux server pid");
    let dash_server: i32 = tmux_out(real_tmux, &dash_socket, &["display", "-p", "#{pid}"])
        .parse()
        .unwrap_or(0);
    let dash: Option<i32> = tmux_out(
        real_tmux,
        &dash_socket,
        &["display", "-p", "-t", "=term:", "#{pane_pid}"],
    )
    .parse()
    .ok();
    let bytes = dir.path().join("dash-bytes");
    tmux_out(
        real_tmux,
        &dash_socket,
        &[
            "pipe-pane",
            "-t",
            "=term:",
            &format!("cat > {}", quote(&bytes)),
        ],
    );

    let who = roles(room, server, dash, &brl);
    let before: BTreeMap<i32, Sample> = who.keys().filter_map(|&p| Some((p, sample(p)?))).collect();
    let term0 = sample(dash_server);
    let t0 = now_secs();
    let start = Instant::now();
    std::thread::sleep(window);
    let t1 = now_secs();
    let secs = start.elapsed().as_secs_f64();
    let who_after = roles(room, server, dash, &brl);
    let after: BTreeMap<i32, Sample> = who_after
        .keys()
        .filter_map(|&p| Some((p, sample(p)?)))
        .collect();
    let term1 = sample(dash_server);
    tmux_out(real_tmux, &dash_socket, &["pipe-pane", "-t", "=term:"]);
    let load = loadavg();
    std::thread::sleep(Duration::from_millis(300));
    let dash_bytes = std::fs::metadata(&bytes).map_or(0, |m| m.len());
    if let Some(keep) = std::env::var_os("BRL_BENCH_KEEP_DASH") {
        // What the dashboard wrote, kept for a look (`cat -v`).
        let _ = std::fs::copy(
            &bytes,
            Path::new(&keep).join(format!("dash-{}-{n}.bytes", mode.name())),
        );
    }

    let per_min = 60.0 / secs;
    // SAFETY: sysconf only reads a system constant.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let mut by_role: BTreeMap<&'static str, Use> =
        ROLES.iter().map(|r| (*r, Use::default())).collect();
    let mut agents = Use::default();
    let mut reaped = 0.0;
    let mut threads: BTreeMap<(&'static str, String), (f64, f64)> = BTreeMap::new();
    for (pid, s1) in &after {
        let role = who_after[pid];
        let s0 = before.get(pid).cloned().unwrap_or_default();
        for (tid, (comm, cpu1, sw1)) in &s1.threads {
            let (cpu0, sw0) = s0.threads.get(tid).map_or((0, 0), |t| (t.1, t.2));
            let e = threads.entry((role, comm.clone())).or_default();
            e.0 += cpu1.saturating_sub(cpu0) as f64 / 1e9 * per_min;
            e.1 += sw1.saturating_sub(sw0) as f64 / secs;
        }
        let u = if role == "agents" {
            &mut agents
        } else {
            by_role.entry(role).or_default()
        };
        u.procs += 1;
        u.cpu += s1.cpu_ns.saturating_sub(s0.cpu_ns) as f64 / 1e9 * per_min;
        u.wakeups += s1.switches.saturating_sub(s0.switches) as f64 / secs;
        if matches!(role, "control room" | "workers") {
            reaped += s1.reaped_ticks.saturating_sub(s0.reaped_ticks) as f64 / tick * per_min;
        }
    }
    let dash_term = match (term0, term1) {
        (Some(a), Some(b)) => Use {
            procs: 1,
            cpu: b.cpu_ns.saturating_sub(a.cpu_ns) as f64 / 1e9 * per_min,
            wakeups: b.switches.saturating_sub(a.switches) as f64 / secs,
        },
        _ => Use::default(),
    };
    let tmux_by_cmd = tmux_calls(&log, t0, t1);
    let calls: usize = tmux_by_cmd.values().sum();
    guard.down();
    drop(guard);
    Measured {
        sessions: n,
        mode,
        ready: ready_n,
        roles: by_role,
        agents,
        threads,
        reaped,
        tmux_calls: calls as f64 * per_min,
        tmux_by_cmd,
        dash_bytes: dash_bytes as f64 * per_min,
        dash_term,
        load,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs: u64 = std::env::var("BRL_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&s| s > 0)
        .unwrap_or(60);
    let sizes: Vec<u32> = std::env::var("BRL_BENCH_SIZES")
        .unwrap_or_else(|_| "3,8,30,64".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let modes: Vec<Mode> = std::env::var("BRL_BENCH_MODES")
        .unwrap_or_else(|_| "idle,running".into())
        .split(',')
        .filter_map(|m| match m.trim() {
            "idle" => Some(Mode::Idle),
            "running" => Some(Mode::Running),
            _ => None,
        })
        .collect();
    let real_tmux = which("tmux");
    println!("machine: {}", machine());
    println!(
        "whole fleet, {secs} s window per run (after the fleet is ready + {} s); load average at start: {}",
        SETTLE.as_secs(),
        loadavg()
    );
    let mut results = Vec::new();
    for &mode in &modes {
        for &n in &sizes {
            println!("  running {n} sessions, {} …", mode.name());
            results.push(run(n, mode, Duration::from_secs(secs), &real_tmux));
        }
    }
    println!();
    println!(
        "CPU-s/min (exact, schedstat) and wake-ups/s per role; reaped: the CPU of the children the control room and workers reaped (tmux clients, the wrapper's bash), in 10 ms clock ticks — one tick is {:.3} CPU-s/min in this window, so that column is coarse",
        0.01 * 60.0 / secs as f64
    );
    println!(
        "{:>8} {:>8} {:>6} | {:>17} | {:>17} | {:>17} | {:>17} | {:>17} | {:>7} | {:>13} | {:>6} | {:>8} | {:>7} | load",
        "mode",
        "sessions",
        "ready",
        "control room",
        "workers",
        "pane copiers",
        "dashboard",
        "tmux server",
        "reaped",
        "FLEET cpu wk/s",
        "tmux/m",
        "dash B/m",
        "agents"
    );
    for m in &results {
        let cell = |r: &str| {
            let u = &m.roles[r];
            format!("{:>8.4} {:>8.1}", u.cpu, u.wakeups)
        };
        println!(
            "{:>8} {:>8} {:>6} | {} | {} | {} | {} | {} | {:>7.3} | {:>6.3} {:>6.0} | {:>6.1} | {:>8.0} | {:>7.4} | {}",
            m.mode.name(),
            m.sessions,
            m.ready,
            cell("control room"),
            cell("workers"),
            cell("pane copiers"),
            cell("dashboard"),
            cell("tmux server"),
            m.reaped,
            m.fleet(),
            m.wakeups(),
            m.tmux_calls,
            m.dash_bytes,
            m.agents.cpu,
            m.load
        );
    }
    println!();
    for m in &results {
        let calls: Vec<String> = m
            .tmux_by_cmd
            .iter()
            .map(|(c, k)| format!("{k} × {c}"))
            .collect();
        println!(
            "  {} {}: processes {}; tmux calls in the window: {}; dashboard's terminal (its tmux server, not brl's): {:.4} CPU-s/min, {:.1} wake-ups/s",
            m.mode.name(),
            m.sessions,
            ROLES
                .iter()
                .map(|r| format!("{r} {}", m.roles[r].procs))
                .collect::<Vec<_>>()
                .join(", "),
            if calls.is_empty() {
                "none".into()
            } else {
                calls.join(", ")
            },
            m.dash_term.cpu,
            m.dash_term.wakeups,
        );
        let busy: Vec<String> = m
            .threads
            .iter()
            .filter(|((role, _), (_, wk))| *role != "agents" && *wk >= 0.05)
            .map(|((role, comm), (cpu, wk))| format!("{role}/{comm} {cpu:.4} {wk:.1}"))
            .collect();
        println!(
            "    threads waking ≥ 0.05/s (role/thread CPU-s/min wake-ups/s, summed over processes): {}",
            if busy.is_empty() {
                "none".into()
            } else {
                busy.join(", ")
            }
        );
        if m.ready < m.sessions {
            println!(
                "  WARNING: {} {}: only {} sessions were {} when the window opened",
                m.mode.name(),
                m.sessions,
                m.ready,
                if m.mode == Mode::Idle {
                    "waiting"
                } else {
                    "running their agent"
                }
            );
        }
    }
    let mut missed = Vec::new();
    for m in &results {
        if m.tmux_calls > MAX_TMUX_CALLS {
            missed.push(format!(
                "{} {}: {:.1} tmux calls/min > {MAX_TMUX_CALLS}",
                m.mode.name(),
                m.sessions,
                m.tmux_calls
            ));
        }
        if m.sessions == 30 && m.dash_bytes > MAX_DASH_BYTES {
            missed.push(format!(
                "{} 30: the dashboard wrote {:.0} B/min > {MAX_DASH_BYTES}",
                m.mode.name(),
                m.dash_bytes
            ));
        }
        if m.sessions == 30 && m.mode == Mode::Idle && m.fleet() > MAX_FLEET_CPU_30 {
            missed.push(format!(
                "idle 30: the fleet used {:.3} CPU-s/min > {MAX_FLEET_CPU_30}",
                m.fleet()
            ));
        }
    }
    for &mode in &modes {
        let at = |n| results.iter().find(|m| m.mode == mode && m.sessions == n);
        if let (Some(small), Some(big)) = (at(8), at(64))
            && big.fleet() > MAX_GROWTH_8_TO_64 * small.fleet() + CPU_NOISE
        {
            missed.push(format!(
                "{}: 64 sessions cost {:.3} CPU-s/min > {MAX_GROWTH_8_TO_64} × {:.3} (8 sessions)",
                mode.name(),
                big.fleet(),
                small.fleet()
            ));
        }
    }
    println!();
    if missed.is_empty() {
        println!("targets met");
    }
    for m in missed {
        println!("TARGET MISSED: {m}");
    }
}
