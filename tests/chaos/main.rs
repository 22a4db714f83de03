//! The chaos harness (issue 12): SIGKILL brl at random and at targeted instants, then check that
//! nothing was lost or clobbered. Targets: `brl cycle`, `brl queue approve` / `reject`, the control
//! room, the tmux server and a pane close; the checks are in `checks.rs`.
//!
//! CI runs a small plan bounded in time: every crash point of `brl::chaos::POINTS` once, 3 random
//! instants per command, 2 control-room kills and each tmux death once. By hand, with a large N:
//!
//! ```text
//! BRL_CHAOS_TRIALS=200 cargo test --release --test chaos -- --nocapture
//! ```
//!
//! `BRL_CHAOS_TRIALS=N` repeats that plan round robin until N trials; `BRL_CHAOS_TARGETS=cycle,
//! approve,reject,room,tmux` keeps some targets; `BRL_CHAOS_SEED` makes the random instants
//! reproducible (the seed is printed); `BRL_CHAOS_BUDGET_SECS` stops starting trials after that long
//! (default 300 s for the CI plan, none with `BRL_CHAOS_TRIALS`). Every violation is listed and
//! fails the test.

#[path = "../common/mod.rs"]
mod common;

mod checks;
mod cycle;
mod decide;
mod harness;
mod room;
mod selftest;

use std::collections::BTreeMap;
use std::time::Instant as Clock;

use decide::Decision;
use harness::{Rng, Trial};
use room::Action;

/// Where in the operation the kill lands.
#[derive(Clone, Debug)]
pub enum Instant {
    Random,
    /// A crash point of `brl::chaos::POINTS`: brl stops itself there and is killed.
    Point(&'static str),
}

impl Instant {
    fn name(&self) -> &str {
        match self {
            Instant::Random => "random",
            Instant::Point(p) => p,
        }
    }
}

#[derive(Clone, Debug)]
enum Target {
    Cycle(Instant),
    Decide(Decision, Instant),
    Room(Action),
}

impl Target {
    fn group(&self) -> &'static str {
        match self {
            Target::Cycle(_) => "cycle",
            Target::Decide(Decision::Approve, _) => "approve",
            Target::Decide(Decision::Reject, _) => "reject",
            Target::Room(Action::KillControl) => "room",
            Target::Room(_) => "tmux",
        }
    }
    fn instant(&self) -> String {
        match self {
            Target::Cycle(i) | Target::Decide(_, i) => i.name().to_string(),
            Target::Room(a) => a.name().to_string(),
        }
    }
}

/// What trials share: the random source, unique tags, running estimates of how long the
/// commands take (random instants fall within them).
pub struct Ctx {
    pub rng: Rng,
    trial: usize,
    pub cycle_secs: f64,
    pub decide_secs: f64,
}

impl Ctx {
    /// A tag no other process on the machine carries: test pid, trial, role.
    pub fn tag(&self, role: &str) -> String {
        format!("chaos-{}-{}-{role}", std::process::id(), self.trial)
    }
}

/// One round of the plan: every point once, 3 random instants per command, the room and tmux.
fn round() -> Vec<Target> {
    let points = |prefix: &str| -> Vec<Instant> {
        brl::chaos::POINTS
            .iter()
            .filter(|p| p.starts_with(prefix))
            .map(|p| Instant::Point(p))
            .chain(std::iter::repeat_n(Instant::Random, 3))
            .collect()
    };
    let mut plan: Vec<Target> = points("cycle:").into_iter().map(Target::Cycle).collect();
    for d in [Decision::Approve, Decision::Reject] {
        let prefix = format!("{}:", d.verb());
        plan.extend(points(&prefix).into_iter().map(|i| Target::Decide(d, i)));
    }
    plan.extend(
        [
            Action::KillControl,
            Action::KillControl,
            Action::KillServer,
            Action::SigkillServer,
            Action::KillPane,
        ]
        .map(Target::Room),
    );
    plan
}

fn plan() -> Vec<Target> {
    let keep: Option<Vec<String>> = std::env::var("BRL_CHAOS_TARGETS")
        .ok()
        .map(|s| s.split(',').map(|t| t.trim().to_string()).collect());
    let one: Vec<Target> = round()
        .into_iter()
        .filter(|t| {
            keep.as_ref()
                .is_none_or(|k| k.iter().any(|k| k == t.group()))
        })
        .collect();
    match std::env::var("BRL_CHAOS_TRIALS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        Some(n) => one.iter().cycle().take(n).cloned().collect(),
        None => one,
    }
}

/// When to stop starting trials: `BRL_CHAOS_BUDGET_SECS`, else 300 s for the CI plan and none for
/// a run by hand (`BRL_CHAOS_TRIALS`). A trial that hangs is itself bounded (every wait has a limit).
fn budget() -> Option<std::time::Duration> {
    let secs = match std::env::var("BRL_CHAOS_BUDGET_SECS") {
        Ok(s) => s.parse::<u64>().ok(),
        Err(_) if std::env::var_os("BRL_CHAOS_TRIALS").is_some() => None,
        Err(_) => Some(300),
    };
    secs.map(std::time::Duration::from_secs)
}

#[derive(Default)]
struct Row {
    trials: usize,
    killed: usize,
    violations: usize,
    secs: f64,
}

#[test]
fn nothing_is_lost_when_brl_is_killed() {
    let seed = std::env::var("BRL_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let mut ctx = Ctx {
        rng: Rng::new(seed),
        trial: 0,
        cycle_secs: 0.8,
        decide_secs: 0.06,
    };
    let plan = plan();
    let start = Clock::now();
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    let mut by_check: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut found: Vec<String> = Vec::new();
    let mut rounds: BTreeMap<String, usize> = BTreeMap::new();
    let budget = budget();
    eprintln!(
        "chaos: {} trials, seed {seed}, budget {}",
        plan.len(),
        budget.map_or("none".into(), |b| format!("{} s", b.as_secs()))
    );
    let mut skipped = 0;
    for target in &plan {
        if budget.is_some_and(|b| start.elapsed() >= b) {
            skipped += 1;
            continue;
        }
        ctx.trial += 1;
        let r = rounds.entry(target.group().to_string()).or_default();
        let n = *r;
        *r += 1;
        let t0 = Clock::now();
        let t: Trial = match target {
            Target::Cycle(i) => cycle::trial(&mut ctx, i, n),
            Target::Decide(d, i) => decide::trial(&mut ctx, *d, i, n),
            Target::Room(a) => room::trial(&mut ctx, *a, n),
        };
        let secs = t0.elapsed().as_secs_f64();
        let row = rows
            .entry((target.group().to_string(), target.instant()))
            .or_default();
        row.trials += 1;
        row.killed += usize::from(t.killed);
        row.violations += t.violations.len();
        row.secs += secs;
        eprintln!(
            "  #{:<3} {:<8} {:<28} {:>5.1} s  {:<9} {} violation(s)  {}",
            ctx.trial,
            target.group(),
            target.instant(),
            secs,
            if t.killed { "killed" } else { "no kill" },
            t.violations.len(),
            t.notes.join("; ")
        );
        for v in t.violations {
            *by_check.entry(v.check).or_default() += 1;
            found.push(format!(
                "#{} {} @ {}: [{}] {}",
                ctx.trial,
                target.group(),
                target.instant(),
                v.check,
                v.detail
            ));
        }
    }
    if skipped > 0 {
        *by_check.entry("harness_budget").or_default() += 1;
        found.push(format!(
            "[harness_budget] {skipped} trial(s) not run: the {} s budget (BRL_CHAOS_BUDGET_SECS) was spent, trials took far longer than they do when brl keeps its promises",
            budget.map_or(0, |b| b.as_secs())
        ));
    }
    let total = start.elapsed().as_secs_f64();
    let mut table = String::from(
        "\nchaos summary\n| target | instant | trials | killed | violations | time (s) |\n|---|---|---:|---:|---:|---:|\n",
    );
    for ((g, i), r) in &rows {
        table.push_str(&format!(
            "| {g} | {i} | {} | {} | {} | {:.1} |\n",
            r.trials, r.killed, r.violations, r.secs
        ));
    }
    table.push_str("\n| check | violations |\n|---|---:|\n");
    for c in CHECKS {
        table.push_str(&format!(
            "| {c} | {} |\n",
            by_check.get(c).copied().unwrap_or(0)
        ));
    }
    for (c, n) in by_check.iter().filter(|(c, _)| !CHECKS.contains(c)) {
        table.push_str(&format!("| {c} | {n} |\n"));
    }
    table.push_str(&format!(
        "\n{} trials, {} violations, {total:.1} s, seed {seed}\n",
        ctx.trial,
        found.len()
    ));
    eprintln!("{table}");
    assert!(
        found.is_empty(),
        "{} violation(s) in {} trials (seed {seed}):\n{}",
        found.len(),
        ctx.trial,
        found.join("\n")
    );
}

/// Every check, so the table shows the zeros too.
const CHECKS: &[&str] = &[
    "point_reached",
    "next_command_ok",
    "log_parses",
    "cycle_recorded_once",
    "kept_branch_queued",
    "pending_has_branch",
    "head_on_main",
    "repo_clean",
    "user_file_survives",
    "no_git_locks",
    "no_orphan_process",
    "decided_once",
    "decision_agrees",
    "decision_retry_works",
    "sessions_cycle_again",
    "down_exits_0",
    "down_stops_everything",
    "state_parses",
    "repo_readable",
    "harness",
    "harness_budget",
];
