//! Target 1: `brl cycle s1`, SIGKILLed at a random instant or stopped at a `cycle:*` crash point
//! and killed there; then the next `brl cycle s1` runs and the promises are checked.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use crate::checks::{self, Started, USER_FILE, USER_TEXT};
use crate::common::{World, agent};
use crate::harness::{self, Stop, Trial};
use crate::{Ctx, Instant as At};

/// The chaos agents, and which one a crash point needs to be reached at all.
pub const AGENTS: [&str; 3] = ["chaos_commit.sh", "chaos_uncommitted.sh", "chaos_fork.sh"];

fn agent_for(point: &str, round: usize) -> &'static str {
    if point.contains("leftover") {
        "chaos_uncommitted.sh"
    } else if point.contains("agent") {
        "chaos_fork.sh"
    } else {
        AGENTS[round % AGENTS.len()]
    }
}

/// A fresh world for one trial: one session, the user's untracked file in the target repo.
pub fn world(agent_script: &str) -> World {
    let w = World::new(1);
    w.write_config(1, &agent(agent_script), 30, "");
    if let Err(e) = std::fs::write(w.repo.join(USER_FILE), USER_TEXT) {
        panic!("cannot write the user's file in {}: {e}", w.repo.display());
    }
    w
}

pub fn trial(ctx: &mut Ctx, at: &At, round: usize) -> Trial {
    let mut t = Trial::default();
    let script = match at {
        At::Point(p) => agent_for(p, round),
        At::Random => AGENTS[round % AGENTS.len()],
    };
    t.notes.push(format!("agent {script}"));
    let w = world(script);
    let dead = ctx.tag("cycle-killed");
    let next = ctx.tag("cycle-next");

    let mut c = harness::brl(&w.home, &dead);
    c.args(["cycle", "s1", "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let At::Point(p) = at {
        c.env(brl::chaos::ENV, p);
    }
    let mut child = match c.spawn() {
        Ok(c) => c,
        Err(e) => {
            t.violation("harness", format!("cannot start brl cycle: {e}"));
            return t;
        }
    };
    let pid = child.id();
    match at {
        At::Point(p) => match harness::kill_at_point(&mut child, Duration::from_secs(30)) {
            Stop::Hit => t.killed = true,
            Stop::Exited => t.violation(
                "point_reached",
                format!("brl cycle ran to its end without stopping at {p}"),
            ),
            Stop::TimedOut => t.violation(
                "point_reached",
                format!("brl cycle neither stopped at {p} nor ended within 30 s (killed)"),
            ),
        },
        At::Random => {
            let after = Duration::from_secs_f64(ctx.rng.unit() * ctx.cycle_secs * 1.1);
            t.killed = harness::kill_after(&mut child, after);
            t.notes
                .push(format!("kill at {:.2} s", after.as_secs_f64()));
        }
    }

    let mut started = Vec::new();
    let marker = w.home.join("logs/sessions/s1/inflight.json");
    if let Ok(text) = std::fs::read_to_string(&marker) {
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(m) if m["pid"].as_u64() == Some(pid as u64) => {
                if let Some(b) = m["branch"].as_str() {
                    started.push(Started {
                        branch: b.to_string(),
                        instance: format!("cycle:{dead}"),
                        cycle_id: m["cycle_id"].as_str().map(String::from),
                    });
                }
            }
            Ok(_) => {}
            Err(e) => t.violation("state_parses", format!("{}: {e}", marker.display())),
        }
    }

    // The next brl command: the session's next cycle.
    let mut c = harness::brl(&w.home, &next);
    c.args(["cycle", "s1", "--quiet"]);
    let ran = harness::run_limited(c, Duration::from_secs(90));
    if !ran.ok() {
        t.violation(
            "next_command_ok",
            format!("next brl cycle s1: {}", ran.describe()),
        );
    } else {
        ctx.cycle_secs = 0.7 * ctx.cycle_secs + 0.3 * ran.took.as_secs_f64();
        if ran.out.contains(" error: ") {
            t.violation(
                "next_command_ok",
                format!("the next cycle ended in error: {}", ran.out.trim()),
            );
        }
    }

    let entries = checks::log_entries(&w.home, &mut t);
    let runs = harness::agent_runs(&w.home);
    started.extend(checks::started_by_agents(&runs));
    let keyed = checks::cycles_once(&entries, &started, &mut t);
    t.notes.push(format!("cycles keyed by {keyed}"));
    if let Some(q) = checks::queue(&w.home, &next, &mut t) {
        checks::queue_matches_branches(&w.repo, &entries, &q, &BTreeSet::new(), &mut t);
    }
    checks::user_repo(&w.repo, "main", &mut t);
    checks::no_processes(&w.home, &[&dead], "the killed cycle", &mut t);
    checks::no_processes(&w.home, &[&next], "the finished next cycle", &mut t);
    harness::kill_tagged(&dead);
    harness::kill_tagged(&next);
    t
}
