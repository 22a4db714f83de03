//! What the fleet benches read of processes from /proc: each process's CPU (exact, from its
//! threads' schedstat), its reaped children's ticks, and the process tree. Included by
//! `benches/fleet.rs` and `benches/hosts.rs` with `#[path]`.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

/// A process's threads together: exact CPU ns (schedstat) and context switches.
#[derive(Clone, Default)]
pub struct Sample {
    pub cpu_ns: u64,
    pub switches: u64,
    /// By thread id: its name, CPU ns and context switches.
    pub threads: BTreeMap<u32, (String, u64, u64)>,
    /// cutime + cstime, in clock ticks.
    pub reaped_ticks: u64,
}

pub fn sample(pid: i32) -> Option<Sample> {
    let mut s = Sample::default();
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let read = |f: &str| std::fs::read_to_string(t.path().join(f)).unwrap_or_default();
        let switches = read("status")
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
        let cpu_ns = read("schedstat")
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        s.switches += switches;
        s.cpu_ns += cpu_ns;
        if let Some(tid) = t.file_name().to_str().and_then(|n| n.parse().ok()) {
            s.threads
                .insert(tid, (read("comm").trim().to_string(), cpu_ns, switches));
        }
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<u64> = stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .skip(13) // fields 3..=15; cutime is field 16
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    s.reaped_ticks = f.iter().sum();
    Some(s)
}

/// pid → (ppid, argv) of every process.
pub fn processes() -> HashMap<i32, (i32, Vec<String>)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(ppid) = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
        else {
            continue;
        };
        let argv = std::fs::read(format!("/proc/{pid}/cmdline"))
            .unwrap_or_default()
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        out.insert(pid, (ppid, argv));
    }
    out
}

pub fn descends_from(procs: &HashMap<i32, (i32, Vec<String>)>, mut pid: i32, root: i32) -> bool {
    for _ in 0..64 {
        if pid == root {
            return true;
        }
        match procs.get(&pid) {
            Some((ppid, _)) if *ppid > 1 => pid = *ppid,
            _ => return false,
        }
    }
    false
}
