//! The dashboard's costs (`cargo bench --bench dashboard`):
//!
//! 1. Frame render time for a busy home — 30 sessions, 500 pending reviews, 10,000 log
//!    entries — at 200×60, per view, on ratatui's TestBackend (the drawing itself; the terminal's
//!    diff output is not part of it).
//! 2. At idle: bytes the dashboard writes to its terminal and the CPU time it uses over 30
//!    seconds, for a real `brl up` in a tmux pane (bytes counted by `pipe-pane`, CPU from
//!    /proc/<pid>/stat), on a home whose sessions have nothing to do.
//!
//! `BRL_BENCH_IDLE_SECS` changes the 30 s. The figures are in the README.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use brl::config::keys::Action;
use brl::tui::fixtures;
use brl::tui::update::{Msg, update};
use brl::tui::views;
use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benches; nothing to list here
    }
    render_busy();
    idle();
}

fn render_busy() {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("time");
    println!("render, busy home (30 sessions, 500 pending reviews, 10,000 log entries), 200x60:");
    for (name, action) in [
        ("sessions", Action::ViewSessions),
        ("log", Action::ViewLog),
        ("review", Action::ViewReview),
        ("tasks", Action::ViewTasks),
        ("meetings", Action::ViewMeetings),
    ] {
        let mut app = fixtures::busy_home(now, 30, 500, 10_000);
        app.width = 200;
        app.height = 60;
        update(&mut app, Msg::Action(action));
        let mut term = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
        for _ in 0..20 {
            term.draw(|f| views::render(&app, f)).expect("draw");
        }
        let n = 500;
        let start = Instant::now();
        for i in 0..n {
            // Vary the clock so each frame is really drawn, as ticks do.
            app.now = now + chrono::Duration::seconds(i);
            term.draw(|f| views::render(&app, f)).expect("draw");
        }
        let per = start.elapsed() / n as u32;
        println!("  {name:<9} {:>8.1} µs/frame", per.as_secs_f64() * 1e6);
    }
}

fn idle() {
    let secs: u64 = std::env::var("BRL_BENCH_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("idle: SKIPPED — tmux is not installed");
        return;
    }
    let exe = Path::new(env!("CARGO_BIN_EXE_brl"));
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("demo");
    // A demo home with a populated queue, then a budget that lets no new cycle start: an
    // idle factory.
    let out = Command::new(exe)
        .args(["demo", "--dir"])
        .arg(&root)
        .args(["--rounds", "1"])
        .output()
        .expect("brl demo");
    assert!(
        out.status.success(),
        "brl demo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let home = root.join("home");
    let socket = format!("brl-bench-{}", std::process::id());
    let mut config = std::fs::read_to_string(home.join("brl.toml")).expect("config");
    config = config.replace("socket = \"brl-demo\"", &format!("socket = \"{socket}\""));
    config.push_str("\n[budget]\nmax_cycles_per_day = 3\n\n[server]\nenabled = false\n");
    std::fs::write(home.join("brl.toml"), config).expect("config");
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket])
            .args(args)
            .output()
            .expect("tmux")
    };
    let cmd = format!("exec '{}' --home '{}' up", exe.display(), home.display());
    tmux(&[
        "new-session",
        "-d",
        "-s",
        "term",
        "-x",
        "200",
        "-y",
        "60",
        &cmd,
    ]);
    // Let it start the control room and settle (initial loads, the first frames).
    std::thread::sleep(Duration::from_secs(8));
    let pid =
        String::from_utf8_lossy(&tmux(&["display", "-p", "-t", "=term:", "#{pane_pid}"]).stdout)
            .trim()
            .to_string();
    let count = dir.path().join("bytes");
    tmux(&[
        "pipe-pane",
        "-t",
        "=term:",
        &format!("cat > '{}'", count.display()),
    ]);
    let cpu0 = cpu_secs(&pid);
    std::thread::sleep(Duration::from_secs(secs));
    let cpu1 = cpu_secs(&pid);
    tmux(&["pipe-pane", "-t", "=term:"]);
    std::thread::sleep(Duration::from_millis(300));
    let bytes = std::fs::metadata(&count).map(|m| m.len()).unwrap_or(0);
    let screen =
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", "=term:"]).stdout).into_owned();
    let _ = Command::new(exe)
        .arg("--home")
        .arg(&home)
        .args(["down", "--wait-secs", "5"])
        .output();
    tmux(&["kill-server"]);
    let sock_dir = std::env::var_os("TMUX_TMPDIR").unwrap_or_else(|| "/tmp".into());
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let _ = std::fs::remove_file(
        Path::new(&sock_dir)
            .join(format!("tmux-{uid}"))
            .join(&socket),
    );
    match (cpu0, cpu1) {
        (Some(a), Some(b)) => {
            let per_min = 60.0 / secs as f64;
            println!(
                "idle dashboard, 200x60, {secs} s (demo home, 3 idle sessions, queue populated):"
            );
            println!(
                "  written to the terminal: {bytes} bytes ({:.0} bytes/min)",
                bytes as f64 * per_min
            );
            println!("  CPU: {:.3} s ({:.3} CPU-s/min)", b - a, (b - a) * per_min);
        }
        _ => {
            println!(
                "idle: could not read the dashboard's CPU time (pid {pid:?}); the screen was:\n{screen}"
            );
        }
    }
}

/// utime + stime of `pid` in seconds.
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit(')').next()?;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / hz)
}
