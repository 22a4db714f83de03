//! How long `tail(path, 100, &Filter::default())` takes on a ~1 MB log and on a ~1 GB log.
//! Reading backwards from the end, the two should take about the same time.
//!
//! Then the same through the binary, as a user runs it: `brl --home <home> log -n 100`.
//!
//! `cargo bench --bench log_tail`; set `BRL_BENCH_SMALL=1` to use 10 MB instead of 1 GB.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use brl::store::log::{Entry, Filter, tail};
use chrono::{TimeDelta, Utc};
use serde_json::json;

const RUNS: usize = 50;
const WARMUP: usize = 5;
const TAIL_N: usize = 100;
/// The big file is this buffer of lines written over and over.
const CHUNK: usize = 16 << 20;

/// Tiny deterministic generator, so runs are comparable.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() as usize % items.len()]
    }
}

/// Lines like the ones brl writes, at least `bytes` of them (whole lines only).
fn realistic_lines(bytes: usize, seed: u64) -> Vec<u8> {
    let mut rng = Lcg(seed);
    let sessions = ["s1", "s2", "auth-refactor", "perf", "docs-7"];
    let outcomes = ["kept", "reverted", "failed", "timeout"];
    let reasons = [
        "tests passed",
        "clippy warnings",
        "benchmark regressed by 4%",
        "agent exceeded its budget",
    ];
    let start = Utc::now() - TimeDelta::days(30);
    let mut out = Vec::with_capacity(bytes + 4096);
    let mut i = 0i64;
    while out.len() < bytes {
        i += 1;
        let session = rng.pick(&sessions);
        let ts = start + TimeDelta::milliseconds(i * 1_500 + (rng.next() % 1000) as i64);
        let (kind, data) = match rng.next() % 4 {
            0 => (
                "ralph_cycle",
                json!({
                    "outcome": rng.pick(&outcomes),
                    "branch": format!("brl/{session}/cycle-{i}"),
                    "reason": rng.pick(&reasons),
                    "cycle": i,
                    "duration_ms": rng.next() % 600_000,
                    "tokens_in": rng.next() % 200_000,
                    "tokens_out": rng.next() % 20_000,
                    "cost_usd": (rng.next() % 500) as f64 / 100.0,
                }),
            ),
            1 => (
                "tool_call",
                json!({
                    "tool": rng.pick(&["bash", "edit", "read", "grep"]),
                    "status": rng.pick(&["ok", "error"]),
                    "args": {"command": "cargo test --workspace -- --nocapture", "cwd": "/work/main"},
                    "duration_ms": rng.next() % 90_000,
                }),
            ),
            2 => (
                "test_run",
                json!({
                    "status": rng.pick(&["pass", "fail"]),
                    "passed": rng.next() % 400,
                    "failed": rng.next() % 3,
                    "summary": "test result: ok. 312 passed; 0 failed; 2 ignored; finished in 41.2s",
                }),
            ),
            _ => (
                "session_note",
                json!({
                    "reason": rng.pick(&reasons),
                    "files_changed": ["src/store/log.rs", "src/store/follow.rs", "README.md"],
                }),
            ),
        };
        let mut entry = Entry::new(kind, Some(session), data);
        entry.ts = ts;
        out.extend_from_slice(entry.to_line().as_bytes());
    }
    out
}

/// Write ~`bytes` of log to `path` by repeating one buffer of lines; returns the size written.
fn write_log(path: &Path, bytes: usize) -> std::io::Result<u64> {
    let chunk = realistic_lines(bytes.min(CHUNK), 42);
    let mut file = File::create(path)?;
    let mut written = 0;
    while written < bytes {
        file.write_all(&chunk)?;
        written += chunk.len();
    }
    file.sync_all()?;
    Ok(written as u64)
}

/// Median (and min, max) time of `tail(path, TAIL_N, default)` over `RUNS` runs.
fn time_tail(path: &Path) -> (Duration, Duration, Duration) {
    let filter = Filter::default();
    for _ in 0..WARMUP {
        tail(path, TAIL_N, &filter).expect("tail");
    }
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let t = tail(path, TAIL_N, &filter).expect("tail");
            let took = start.elapsed();
            assert_eq!(t.entries.len(), TAIL_N);
            assert_eq!(t.malformed, 0);
            took
        })
        .collect();
    times.sort();
    (times[RUNS / 2], times[0], times[RUNS - 1])
}

const CMD_RUNS: usize = 20;

/// Median wall time of `brl --home <home> log -n 100`, output discarded.
fn time_command(home: &Path) -> Duration {
    let run = || {
        let start = Instant::now();
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_brl"))
            .arg("--home")
            .arg(home)
            .args(["log", "-n", &TAIL_N.to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("brl runs");
        assert!(status.success());
        start.elapsed()
    };
    for _ in 0..3 {
        run();
    }
    let mut times: Vec<Duration> = (0..CMD_RUNS).map(|_| run()).collect();
    times.sort();
    times[CMD_RUNS / 2]
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn main() -> std::io::Result<()> {
    let small_run = std::env::var("BRL_BENCH_SMALL").is_ok_and(|v| v == "1");
    let big_size = if small_run { 10 << 20 } else { 1 << 30 };
    let dir = tempfile::tempdir()?;

    let small_home = dir.path().join("small");
    let small = small_home.join("logs/experiment-log.jsonl");
    std::fs::create_dir_all(small.parent().expect("dir"))?;
    let small_len = write_log(&small, 1 << 20)?;

    let big_home = dir.path().join("big");
    let big = big_home.join("logs/experiment-log.jsonl");
    std::fs::create_dir_all(big.parent().expect("dir"))?;
    let started = Instant::now();
    let big_len = write_log(&big, big_size)?;
    let write_secs = started.elapsed().as_secs_f64();
    println!(
        "wrote {:.1} MiB in {write_secs:.2} s ({:.0} MiB/s)",
        mib(big_len),
        mib(big_len) / write_secs
    );

    let (small_med, small_min, small_max) = time_tail(&small);
    let (big_med, big_min, big_max) = time_tail(&big);
    println!("tail(n = {TAIL_N}, no filter), {RUNS} runs each, files in the page cache:");
    for (name, len, med, min, max) in [
        ("small", small_len, small_med, small_min, small_max),
        ("big", big_len, big_med, big_min, big_max),
    ] {
        println!(
            "  {name:<5} {:>8.1} MiB  median {med:>10.2?}  (min {min:.2?}, max {max:.2?})",
            mib(len)
        );
    }
    println!(
        "  ratio big/small (medians): {:.2} for a file {:.0}x larger",
        big_med.as_secs_f64() / small_med.as_secs_f64(),
        big_len as f64 / small_len as f64
    );
    let small_cmd = time_command(&small_home);
    let big_cmd = time_command(&big_home);
    println!("`brl log -n {TAIL_N}` (the whole process), {CMD_RUNS} runs each:");
    println!("  small  median {:>10.2?}", small_cmd);
    println!("  big    median {:>10.2?}", big_cmd);
    println!(
        "  ratio big/small (medians): {:.2}",
        big_cmd.as_secs_f64() / small_cmd.as_secs_f64()
    );
    drop(dir); // deletes both files
    Ok(())
}
