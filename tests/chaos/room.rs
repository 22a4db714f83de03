//! Targets 3 and 4: the control room (`brl up --no-tui`, 2 sessions, a private tmux socket)
//! SIGKILLed at a random instant and restarted; the tmux server killed (`kill-server`, or SIGKILL
//! of its pid) or a worker's pane closed while a cycle runs. Then: every session cycles again
//! within 30 s, `brl down` exits 0 within its own time, and nothing of the home is left running.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Ctx;
use crate::checks::{self, USER_FILE, USER_TEXT, of_kind};
use crate::common::agent;
use crate::common::room::Room;
use crate::harness::{self, TAG_ENV, Trial};

const SESSIONS: [&str; 2] = ["s1", "s2"];
/// How long the sessions get to cycle again (the figure).
const CYCLE_AGAIN: Duration = Duration::from_secs(30);
/// `brl down --wait-secs` given, and the time `brl down` may take in all: its 15 s for the
/// control room, the workers' wait, and a margin.
const DOWN_WAIT: u64 = 10;
const DOWN_LIMIT: Duration = Duration::from_secs(15 + DOWN_WAIT + 20);

#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// SIGKILL `brl up` at a random instant, then start it again.
    KillControl,
    /// `tmux -L <socket> kill-server` while a cycle runs.
    KillServer,
    /// SIGKILL of the tmux server's pid while a cycle runs.
    SigkillServer,
    /// `tmux kill-pane` of the pane whose session is in a cycle.
    KillPane,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::KillControl => "SIGKILL brl up",
            Action::KillServer => "kill-server",
            Action::SigkillServer => "SIGKILL tmux server",
            Action::KillPane => "kill-pane",
        }
    }
}

/// (phase, branch) of each session, from its control file.
fn phases(r: &Room) -> BTreeMap<String, (Option<String>, Option<String>)> {
    SESSIONS
        .iter()
        .map(|s| {
            let p = r.w.home.join("logs/control").join(format!("{s}.json"));
            let v: serde_json::Value = std::fs::read_to_string(p)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            let get = |k: &str| v[k].as_str().map(String::from);
            (s.to_string(), (get("phase"), get("branch")))
        })
        .collect()
}

fn tmux_out(socket: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("tmux")
        .args(["-L", socket])
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn trial(ctx: &mut Ctx, action: Action, round: usize) -> Trial {
    let mut t = Trial::default();
    let script = crate::cycle::AGENTS[round % crate::cycle::AGENTS.len()];
    t.notes.push(format!("agent {script}"));
    let mut r = Room::new(SESSIONS.len(), &agent(script), "");
    if let Err(e) = std::fs::write(r.w.repo.join(USER_FILE), USER_TEXT) {
        t.violation("harness", format!("cannot write the user's file: {e}"));
        return t;
    }
    let up1 = ctx.tag("up");
    let up2 = ctx.tag("up-again");
    let down = ctx.tag("down");
    let secs = "0.5";
    r.up_with_env(&[], &[(TAG_ENV, &up1), ("BRL_CHAOS_AGENT_SECS", secs)]);

    // The instant: random for the control room; while a cycle runs for tmux.
    let mut in_flight = BTreeSet::new();
    match action {
        Action::KillControl => {
            let after = Duration::from_secs_f64(0.3 + ctx.rng.unit() * 6.0);
            std::thread::sleep(after);
            t.notes
                .push(format!("kill at {:.2} s", after.as_secs_f64()));
        }
        _ => {
            let hacking = wait_until(CYCLE_AGAIN, || {
                phases(&r)
                    .values()
                    .any(|(p, _)| p.as_deref() == Some("hack"))
            });
            if !hacking {
                t.violation(
                    "sessions_cycle_again",
                    "no session began a cycle within 30 s of brl up",
                );
            }
        }
    }
    for (_, b) in phases(&r).into_values() {
        in_flight.extend(b);
    }
    let entries_before = count_cycles(&r);
    match action {
        Action::KillControl => {
            if let Some(mut c) = r.child.take() {
                harness::signal(c.id(), libc::SIGKILL);
                let _ = c.wait();
                t.killed = true;
            }
            r.up_with_env(&[], &[(TAG_ENV, &up2), ("BRL_CHAOS_AGENT_SECS", secs)]);
        }
        Action::KillServer => {
            t.killed = r.tmux(&["kill-server"]);
        }
        Action::SigkillServer => {
            match tmux_out(&r.socket, &["display-message", "-p", "#{pid}"])
                .and_then(|s| s.trim().parse::<u32>().ok())
            {
                Some(pid) => {
                    harness::signal(pid, libc::SIGKILL);
                    t.killed = true;
                }
                None => t.violation("harness", "cannot read the tmux server's pid"),
            }
        }
        Action::KillPane => {
            let panes = tmux_out(
                &r.socket,
                &["list-panes", "-a", "-F", "#{pane_id} #{@brl_session}"],
            )
            .unwrap_or_default();
            let busy: Vec<String> = phases(&r)
                .into_iter()
                .filter(|(_, (p, _))| p.is_some())
                .map(|(s, _)| s)
                .collect();
            let pane = panes.lines().find_map(|l| {
                let (id, s) = l.split_once(' ')?;
                busy.iter().any(|b| b == s).then(|| id.to_string())
            });
            match pane {
                Some(p) => {
                    t.killed = r.tmux(&["kill-pane", "-t", &p]);
                    t.notes.push(format!("closed pane {p}"));
                }
                None => t.violation(
                    "harness",
                    format!("no pane of a busy session in: {panes:?}"),
                ),
            }
        }
    }

    // Every session cycles again: a new entry, on a branch not in flight at the kill.
    let again = wait_until(CYCLE_AGAIN, || {
        missing_cycles(&r, &entries_before, &in_flight).is_empty()
    });
    if !again {
        t.violation(
            "sessions_cycle_again",
            format!(
                "after {}: no new cycle within 30 s from {}",
                action.name(),
                missing_cycles(&r, &entries_before, &in_flight).join(", ")
            ),
        );
    }

    // brl down, by itself.
    let mut c = harness::brl(&r.w.home, &down);
    c.args(["down", "--wait-secs", &DOWN_WAIT.to_string()]);
    let ran = harness::run_limited(c, DOWN_LIMIT);
    if !ran.ok() {
        t.violation("down_exits_0", format!("brl down: {}", ran.describe()));
    }
    if let Some(mut c) = r.child.take() {
        let stopped = wait_until(Duration::from_secs(10), || {
            matches!(c.try_wait(), Ok(Some(_)))
        });
        if !stopped {
            t.violation(
                "down_stops_everything",
                "the control room still runs 10 s after brl down",
            );
            let _ = c.kill();
        }
        let _ = c.wait();
    }
    let tags = [up1.as_str(), up2.as_str(), down.as_str()];
    wait_until(Duration::from_secs(5), || {
        tags.iter().all(|t| harness::tagged(t).is_empty())
    });
    checks::no_processes(&r.w.home, &tags, "after brl down", &mut t);
    let workers = r.workers();
    if !workers.is_empty() {
        t.violation(
            "down_stops_everything",
            format!("workers still hold their locks: {workers:?}"),
        );
    }
    if let Some(s) = tmux_out(&r.socket, &["list-sessions", "-F", "#{session_name}"]) {
        t.violation(
            "down_stops_everything",
            format!("the home's tmux server still has sessions: {}", s.trim()),
        );
    }
    for tag in tags {
        harness::kill_tagged(tag);
    }
    for (_, pid) in r.workers() {
        harness::signal(pid, libc::SIGKILL);
    }

    let entries = checks::log_entries(&r.w.home, &mut t);
    let runs = harness::agent_runs(&r.w.home);
    let keyed = checks::cycles_once(&entries, &checks::started_by_agents(&runs), &mut t);
    t.notes.push(format!(
        "cycles keyed by {keyed}, {} cycles",
        of_kind(&entries, "ralph_cycle").len()
    ));
    if let Some(q) = checks::queue(&r.w.home, &down, &mut t) {
        checks::queue_matches_branches(&r.w.repo, &entries, &q, &BTreeSet::new(), &mut t);
    }
    checks::user_repo(&r.w.repo, "main", &mut t);
    harness::kill_tagged(&down);
    t
}

fn count_cycles(r: &Room) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for e in r.entries("ralph_cycle") {
        if let Some(s) = e["session"].as_str() {
            *n.entry(s.to_string()).or_default() += 1;
        }
    }
    n
}

/// Sessions without a cycle entry newer than `before` on a branch not in `in_flight`.
fn missing_cycles(
    r: &Room,
    before: &BTreeMap<String, usize>,
    in_flight: &BTreeSet<String>,
) -> Vec<String> {
    let entries = r.entries("ralph_cycle");
    SESSIONS
        .iter()
        .filter(|s| {
            let skip = before.get(**s).copied().unwrap_or(0);
            !entries
                .iter()
                .filter(|e| e["session"] == **s)
                .skip(skip)
                .any(|e| {
                    e["data"]["branch"]
                        .as_str()
                        .is_some_and(|b| !in_flight.contains(b))
                })
        })
        .map(|s| s.to_string())
        .collect()
}
