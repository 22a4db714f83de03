//! What an idle control room costs: its CPU time and the `tmux` processes it spawns over 60 idle
//! seconds, with 3 and with 30 sessions. Idle: every worker waits for a grant, no task is queued
//! and the agent may not pick its own (`[scheduler] self_plan = false`), so nothing runs a cycle.
//! The steady state measured is the default one: a `list-panes` every `[tmux] check_secs` (10),
//! a scheduling pass then, when a control file changes (nothing writes one while all wait: the
//! workers keep no periodic heartbeat) and every `[scheduler] interval_secs` (300 — not due
//! inside the window). `benches/fleet.rs` measures the whole fleet (workers, pane copiers, the
//! dashboard, tmux) beside the control room.
//!
//! Targets (whatever the number of sessions): at most ~12 tmux spawns a minute; under 0.2
//! CPU-seconds a minute for the control room with 30 sessions; 30 sessions cost no more than
//! ~2× what 3 cost. A miss prints a `TARGET MISSED` line; nothing fails, since a benchmark is not
//! a timed test.
//!
//! How it counts: a logging `tmux` wrapper first on PATH for `brl up` appends one line per run
//! (time, `$PPID`, the parent's `comm`, the arguments) and `exec`s the real tmux. Only lines whose
//! `$PPID` is the control room's pid count: the `brl up` process runs the control room itself, so
//! its direct children are exactly its tmux spawns (the tmux server it starts, the panes' shells,
//! the workers and `pipe-pane` commands are other processes and do not call tmux; the bench's own
//! tmux calls and `brl down` are counted apart). CPU is utime+stime of `/proc/<pid>/stat` (all
//! its threads; sampled at clock ticks, so 10 ms steps) and, exact to the ns, the sum of its
//! threads' `/proc/<pid>/task/<tid>/schedstat` — shown by thread too (main loop, inotify reader,
//! HTTP server, log writer), with their context switches (about their wake-ups). cutime+cstime,
//! the CPU of its reaped children, is the tmux clients it ran — plus the wrapper's bash start-up,
//! an artefact of the counting.
//!
//! Each run has its own temp dir (`brl demo --dir … --rounds 0`: a demo repository, a home, the
//! deterministic demo agent), a private tmux socket `brl-bench-<pid>-<N>` (the default tmux
//! server is never touched) and the HTTP server on (as a user runs it), on a free loopback port.
//! Afterwards `brl down`, and the private tmux server is killed in any case (also on a panic).
//!
//! `cargo bench --bench control_idle`; `BRL_BENCH_SECS=10` shortens the window (figures are still
//! per minute).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SIZES: [u32; 2] = [3, 30];
/// Time given to start-up after every worker says `waiting`, before the window opens.
const SETTLE: Duration = Duration::from_secs(5);
/// Targets.
const MAX_SPAWNS_PER_MIN: f64 = 12.0;
const MAX_CPU_PER_MIN: f64 = 0.2;
/// "30 sessions cost at most ~2× 3 sessions", with a floor for figures too small to compare.
const MAX_GROWTH: f64 = 2.0;
const SPAWN_NOISE: f64 = 1.0;
const CPU_NOISE: f64 = 0.01;

/// What one window measured, already per minute.
struct Measured {
    sessions: u32,
    secs: f64,
    spawns: f64,
    other_spawns: usize,
    cpu_self: f64,
    cpu_children: f64,
    switches: f64,
    threads: usize,
    /// CPU-s/min from schedstat (ns), all threads, and by thread name.
    exact: f64,
    by_thread: BTreeMap<String, f64>,
    by_command: BTreeMap<String, usize>,
    still_idle: bool,
}

/// Stops what one run started: the control room (if still running), the private tmux server,
/// and any worker left (by the pid in its life lock, only while that lock is held).
struct Guard {
    brl: PathBuf,
    home: PathBuf,
    real_tmux: PathBuf,
    socket: String,
    child: Option<Child>,
}

impl Guard {
    fn down(&mut self, out: &Path) {
        let log = std::fs::File::create(out).expect("create down.out");
        let status = Command::new(&self.brl)
            .arg("--home")
            .arg(&self.home)
            .args(["down", "--wait-secs", "20"])
            .env_remove("BRL_HOME")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("`brl down` did not succeed; see {}", out.display());
        }
        if let Some(mut c) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(20);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn workers(&self) -> Vec<u32> {
        let Ok(dir) = std::fs::read_dir(self.home.join("logs/locks")) else {
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
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(c.id(), libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        // Only this run's server, by its private socket; its panes get SIGHUP and the workers stop.
        let _ = Command::new(&self.real_tmux)
            .args(["-L", &self.socket, "kill-server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // tmux leaves its socket file behind; this one is ours alone.
        // SAFETY: getuid only reads this process's user id.
        let uid = unsafe { libc::getuid() };
        let tmpdir = std::env::var_os("TMUX_TMPDIR").unwrap_or_else(|| "/tmp".into());
        let _ = std::fs::remove_file(
            Path::new(&tmpdir)
                .join(format!("tmux-{uid}"))
                .join(&self.socket),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.workers().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        for pid in self.workers() {
            signal(pid, libc::SIGKILL);
        }
    }
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: sends a signal to a process this bench started, by its pid.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// (utime + stime, cutime + cstime) of a process, in seconds.
fn cpu(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/pid/stat");
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 1..];
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11) // fields 3..=13; utime is field 14
        .take(4)
        .map(|v| v.parse().expect("a number"))
        .collect();
    // SAFETY: sysconf only reads a system constant.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ((f[0] + f[1]) as f64 / tick, (f[2] + f[3]) as f64 / tick)
}

/// One thread of a process: its name, its CPU time in ns (`/proc/<pid>/task/<tid>/schedstat`,
/// exact, unlike the tick-sampled utime/stime) and its context switches (about its wake-ups).
struct Thread {
    comm: String,
    cpu_ns: u64,
    switches: u64,
}

fn threads(pid: u32) -> BTreeMap<u32, Thread> {
    let mut out = BTreeMap::new();
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("read /proc/pid/task")
        .flatten()
    {
        let Some(tid) = t.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let read = |f: &str| std::fs::read_to_string(t.path().join(f)).unwrap_or_default();
        let switches = read("status")
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        let cpu_ns = read("schedstat")
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let comm = read("comm").trim().to_string();
        out.insert(
            tid,
            Thread {
                comm,
                cpu_ns,
                switches,
            },
        );
    }
    out
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

/// The machine, in one line.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or("? GiB".to_string(), |kb| {
            format!("{:.1} GiB", kb / (1 << 20) as f64)
        });
    let tmux = Command::new("tmux")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{cpus} CPUs ({model}), {mem} RAM, {tmux}")
}

/// `command -v <name>` with the PATH as it is now.
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

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("its address").port()
}

/// The wrapper directory: `tmux` logs one line and runs the real one.
fn wrapper(dir: &Path, real: &Path, log: &Path) -> PathBuf {
    let bin = dir.join("wrap");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let bash = which("bash");
    let q = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
    // Builtins only (no `date`, no `cat`): the wrapper itself spawns nothing before the exec.
    let script = format!(
        "#!{bash}\nread -r comm < /proc/$PPID/comm\nIFS=$'\\t'\nprintf '%s\\t%s\\t%s\\t%s\\n' \"$EPOCHREALTIME\" \"$PPID\" \"$comm\" \"$*\" >> {log}\nexec {real} \"$@\"\n",
        bash = bash.display(),
        log = q(log),
        real = q(real),
    );
    let path = bin.join("tmux");
    std::fs::write(&path, script).expect("write the wrapper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

/// brl.toml of the demo home with the bench's settings; tables are edited, never duplicated.
fn configure(home: &Path, socket: &str, port: u16) {
    let path = home.join("brl.toml");
    let text = std::fs::read_to_string(&path).expect("read brl.toml");
    let mut t: toml::Table = text.parse().expect("the demo's brl.toml parses");
    let mut set = |table: &str, key: &str, value: toml::Value| {
        let entry = t
            .entry(table)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        entry
            .as_table_mut()
            .unwrap_or_else(|| panic!("`{table}` in brl.toml is not a table"))
            .insert(key.to_string(), value);
    };
    set("tmux", "socket", toml::Value::String(socket.to_string()));
    set("server", "enabled", toml::Value::Boolean(true));
    set(
        "server",
        "listen",
        toml::Value::String(format!("127.0.0.1:{port}")),
    );
    set("scheduler", "self_plan", toml::Value::Boolean(false));
    // The default interval (the demo's is short, for newcomers).
    set("scheduler", "interval_secs", toml::Value::Integer(300));
    std::fs::write(&path, toml::to_string(&t).expect("serialize")).expect("write brl.toml");
}

/// Tagged panes on the private socket (run with the real tmux, not through the wrapper).
fn panes(real_tmux: &Path, socket: &str) -> usize {
    Command::new(real_tmux)
        .args(["-L", socket, "list-panes", "-a", "-F", "#{@brl_session}"])
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| !l.is_empty())
                .count()
        })
        .unwrap_or(0)
}

/// How many of the sessions' control files say `waiting` with no grant.
fn waiting(home: &Path, n: u32) -> u32 {
    (1..=n)
        .filter(|i| {
            std::fs::read_to_string(home.join(format!("logs/control/s{i}.json")))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .is_some_and(|v| v["state"] == "waiting" && v["grant"].is_null())
        })
        .count() as u32
}

/// The wrapper's lines in `[from, to]`: (those of `pid`, by tmux command; how many of others).
fn spawns(log: &Path, pid: u32, from: f64, to: f64) -> (BTreeMap<String, usize>, usize) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut ours = BTreeMap::new();
    let mut others = 0;
    for line in text.lines() {
        let mut f = line.splitn(4, '\t');
        let (Some(ts), Some(ppid), Some(_comm), args) = (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let Ok(ts) = ts.parse::<f64>() else { continue };
        if ts < from || ts > to {
            continue;
        }
        if ppid.parse::<u32>().ok() != Some(pid) {
            others += 1;
            continue;
        }
        // `-L <socket> <command> …`; `;`-chained commands are shown as `a+b`.
        let words: Vec<&str> = args.unwrap_or("").split('\t').collect();
        let mut cmds = Vec::new();
        let mut i = 0;
        let mut next_is_cmd = true;
        while i < words.len() {
            match words[i] {
                "-L" | "-S" | "-f" if cmds.is_empty() && next_is_cmd => i += 1,
                ";" => next_is_cmd = true,
                w if next_is_cmd && !w.starts_with('-') => {
                    cmds.push(w.to_string());
                    next_is_cmd = false;
                }
                _ => {}
            }
            i += 1;
        }
        *ours.entry(cmds.join("+")).or_insert(0) += 1;
    }
    (ours, others)
}

fn wait_for(secs: u64, what: &str, child: &mut Child, out: &Path, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the control room exited ({status}) while waiting for {what}; its output:\n{}",
                std::fs::read_to_string(out).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; the control room's output:\n{}",
            std::fs::read_to_string(out).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn run(n: u32, window: Duration, real_tmux: &Path) -> Measured {
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
    let socket = format!("brl-bench-{}-{n}", std::process::id());
    configure(&home, &socket, free_port());

    let log = dir.path().join("tmux-spawns.log");
    let wrap = wrapper(dir.path(), real_tmux, &log);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![wrap];
    paths.extend(std::env::split_paths(&path));
    let path = std::env::join_paths(paths).expect("PATH");

    let out = home.join("up.out");
    let out_file = std::fs::File::create(&out).expect("create up.out");
    let mut guard = Guard {
        brl: brl.clone(),
        home: home.clone(),
        real_tmux: real_tmux.to_path_buf(),
        socket: socket.clone(),
        child: None,
    };
    let child = Command::new(&brl)
        .arg("--home")
        .arg(&home)
        .args(["up", "--no-tui", "--sessions", &n.to_string()])
        .env("PATH", path)
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
    let pid = child.id();
    guard.child = Some(child);
    let c = guard.child.as_mut().expect("child");
    wait_for(120, &format!("{n} panes"), c, &out, || {
        panes(real_tmux, &socket) == n as usize
    });
    wait_for(120, &format!("{n} waiting workers"), c, &out, || {
        waiting(&home, n) == n
    });
    std::thread::sleep(SETTLE);

    let (self0, children0) = cpu(pid);
    let before = threads(pid);
    let t0 = now_secs();
    let start = Instant::now();
    std::thread::sleep(window);
    let (self1, children1) = cpu(pid);
    let after = threads(pid);
    let t1 = now_secs();
    let secs = start.elapsed().as_secs_f64();
    let still_idle = waiting(&home, n) == n && panes(real_tmux, &socket) == n as usize && {
        let c = guard.child.as_mut().expect("child");
        c.try_wait().ok().flatten().is_none()
    };

    let (by_command, other_spawns) = spawns(&log, pid, t0, t1);
    let per_min = 60.0 / secs;
    let total: usize = by_command.values().sum();
    // Per thread name, what it used in the window (a thread born in it counts from zero; one
    // that ended in it is lost — the control room's threads live as long as it does).
    let mut by_thread: BTreeMap<String, f64> = BTreeMap::new();
    let mut switches = 0;
    for (tid, t) in &after {
        let (cpu0, sw0) = before.get(tid).map_or((0, 0), |b| (b.cpu_ns, b.switches));
        *by_thread.entry(t.comm.clone()).or_default() +=
            t.cpu_ns.saturating_sub(cpu0) as f64 / 1e9 * per_min;
        switches += t.switches.saturating_sub(sw0);
    }
    guard.down(&home.join("down.out"));
    drop(guard);
    Measured {
        sessions: n,
        secs,
        spawns: total as f64 * per_min,
        other_spawns,
        cpu_self: (self1 - self0) * per_min,
        cpu_children: (children1 - children0) * per_min,
        switches: switches as f64 * per_min,
        threads: after.len(),
        exact: by_thread.values().sum(),
        by_thread,
        by_command,
        still_idle,
    }
}

fn main() {
    let secs: u64 = std::env::var("BRL_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&s| s > 0)
        .unwrap_or(60);
    // The real tmux, found before any PATH change.
    let real_tmux = which("tmux");
    println!("machine: {}", machine());
    println!(
        "idle control room, {secs} s window per run (after all workers wait + {} s), default check_secs = 10",
        SETTLE.as_secs()
    );
    let mut results = Vec::new();
    for n in SIZES {
        println!("  running {n} sessions …");
        results.push(run(n, Duration::from_secs(secs), &real_tmux));
    }

    println!();
    println!("per minute of idle wall time:");
    println!(
        "{:>8}  {:>12}  {:>17}  {:>17}  {:>15}  {:>12}  {:>7}",
        "sessions",
        "tmux spawns",
        "CPU-s self/ticks",
        "CPU-s self/exact",
        "CPU-s children",
        "ctx switches",
        "threads"
    );
    for m in &results {
        println!(
            "{:>8}  {:>12.1}  {:>17.3}  {:>17.4}  {:>15.3}  {:>12.0}  {:>7}",
            m.sessions, m.spawns, m.cpu_self, m.exact, m.cpu_children, m.switches, m.threads
        );
    }
    println!(
        "  (ticks: utime+stime of /proc/<pid>/stat, 10 ms sampling; exact: schedstat, summed over its threads; children: cutime+cstime, the tmux clients and the counting wrapper)"
    );
    println!();
    for m in &results {
        let threads: Vec<String> = m
            .by_thread
            .iter()
            .map(|(t, c)| format!("{t} {c:.4}"))
            .collect();
        println!(
            "  {} sessions: CPU-s/min by thread: {}",
            m.sessions,
            threads.join(", ")
        );
        let what: Vec<String> = m
            .by_command
            .iter()
            .map(|(c, k)| format!("{k} × {c}"))
            .collect();
        println!(
            "  {} sessions: tmux runs by the control room in {:.1} s: {}; by other processes (the bench, brl down): {}",
            m.sessions,
            m.secs,
            if what.is_empty() {
                "none".to_string()
            } else {
                what.join(", ")
            },
            m.other_spawns
        );
        if !m.still_idle {
            println!(
                "  WARNING: with {} sessions the room was not idle all along (a worker left `waiting`, a pane went, or the control room exited): the figures are not the idle state",
                m.sessions
            );
        }
    }

    let mut missed = Vec::new();
    for m in &results {
        if m.spawns > MAX_SPAWNS_PER_MIN {
            missed.push(format!(
                "{} sessions: {:.1} tmux spawns/min > {MAX_SPAWNS_PER_MIN}",
                m.sessions, m.spawns
            ));
        }
    }
    if let Some(big) = results.iter().find(|m| m.sessions == 30) {
        let cpu = big.cpu_self.max(big.exact);
        if cpu > MAX_CPU_PER_MIN {
            missed.push(format!(
                "30 sessions: {cpu:.3} control-room CPU-s/min > {MAX_CPU_PER_MIN}"
            ));
        }
        if let Some(small) = results.iter().find(|m| m.sessions == 3) {
            if big.spawns > MAX_GROWTH * small.spawns + SPAWN_NOISE {
                missed.push(format!(
                    "tmux spawns grow with the sessions: {:.1}/min with 30 vs {:.1}/min with 3",
                    big.spawns, small.spawns
                ));
            }
            // The exact figure: ticks cannot tell 0.005 from 0.
            if big.exact > MAX_GROWTH * small.exact + CPU_NOISE {
                missed.push(format!(
                    "control-room CPU grows with the sessions: {:.4} s/min with 30 vs {:.4} s/min with 3 (exact)",
                    big.exact, small.exact
                ));
            }
        }
    }
    println!();
    if missed.is_empty() {
        println!(
            "targets met: ≤ {MAX_SPAWNS_PER_MIN} tmux spawns/min, < {MAX_CPU_PER_MIN} CPU-s/min with 30 sessions, 30 sessions ≤ ~{MAX_GROWTH}× 3 sessions"
        );
    }
    for m in missed {
        println!("TARGET MISSED: {m}");
    }
}
