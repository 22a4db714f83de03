//! Why nothing happens: the one answer `brl status` and the dashboard give. It asks the
//! scheduler's own pure decision ([`crate::scheduler::decide`]) with what the files say now, and
//! adds what the decision cannot see: the control room not running, sessions blocked, stopped or
//! all failing for the same reason. Pure ([`explain`]) over [`Facts`]; [`gather`] reads the files.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::home::Home;
use crate::scheduler::limits::{self, AgentLimit};
use crate::scheduler::{self, Inputs, Memory, SessionView, Skip, Usage};
use crate::store::control::{Control, WorkerState};

/// One session, as the answer needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionFact {
    pub name: String,
    /// Its worker holds the life lock.
    pub alive: bool,
    /// Waiting for a grant, holding none.
    pub idle: bool,
    /// Holding a grant (granted or in a cycle).
    pub granted: bool,
    /// Why it cannot run cycles until repaired, in its own words.
    pub blocked: Option<String>,
    /// The last cycle: (outcome, reason).
    pub last: Option<(String, String)>,
}

impl SessionFact {
    pub fn of(name: &str, c: &Control, alive: bool) -> SessionFact {
        SessionFact {
            name: name.to_string(),
            alive,
            idle: c.idle(),
            granted: c.grant.is_some(),
            blocked: c.blocked.as_ref().map(|b| b.reason.clone()),
            last: c
                .last
                .as_ref()
                .map(|l| (l.outcome.clone(), l.reason.clone())),
        }
    }
}

/// What the files say now: the scheduler's inputs, and who schedules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The control room's pid; `None`: nobody schedules.
    pub room: Option<u32>,
    pub sessions: Vec<SessionFact>,
    pub memory: Option<Memory>,
    pub max_ram_percent: u8,
    pub max_running: u32,
    pub ready_tasks: usize,
    pub self_plan: bool,
    pub today: Usage,
    pub daily_usd: Option<f64>,
    pub max_cycles_per_day: Option<u32>,
    pub agent_limit: Option<AgentLimit>,
    pub open_reviews: usize,
    pub max_pending: u32,
    pub backlog_blocks_tasks: bool,
    /// Who paused the whole fleet (`brl pause`, `P`); `None`: not paused.
    pub fleet_paused: Option<String>,
}

/// A reason, in full and short (for a narrow screen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Why {
    /// Stable key: "no_control_room", "agent_limited", "budget", "ram", "review_backlog",
    /// "max_running", "no_task", "all_failing", "blocked".
    pub key: &'static str,
    pub text: String,
    pub short: String,
}

fn why(key: &'static str, text: String, short: String) -> Why {
    Why { key, text, short }
}

/// Outcomes of a cycle that did not work (a discard or a no-change is work done).
fn failed(outcome: &str) -> bool {
    matches!(
        outcome,
        "agent_failed" | "error" | "failed" | "setup_failed" | "check_failed" | "interrupted"
    ) || outcome.ends_with("_failed")
}

/// Every reason the fleet or a session is not working now, most important first; empty when
/// nothing holds work back.
pub fn explain(f: &Facts, now: DateTime<Utc>) -> Vec<Why> {
    let mut out = Vec::new();
    if f.room.is_none() {
        out.push(why(
            "no_control_room",
            "control room not running: no cycles are granted (start it with `brl up`)".into(),
            "control room NOT RUNNING (brl up)".into(),
        ));
    }
    let views: Vec<SessionView> = f
        .sessions
        .iter()
        .map(|s| SessionView {
            name: s.name.clone(),
            alive: s.alive,
            idle: s.idle && s.blocked.is_none(),
            granted: s.granted,
            waiting_secs: 0,
            paused: false,
            reserved_task: false,
        })
        .collect();
    let plan = scheduler::decide_by(
        &Inputs {
            sessions: &views,
            memory: f.memory,
            max_ram_percent: f.max_ram_percent,
            max_running: f.max_running,
            ready_tasks: f.ready_tasks,
            self_plan: f.self_plan,
            today: &f.today,
            daily_usd: f.daily_usd,
            max_cycles_per_day: f.max_cycles_per_day,
            agent_limit: f.agent_limit.as_ref().filter(|l| l.is_active(now)),
            open_reviews: f.open_reviews,
            max_pending: f.max_pending,
            backlog_blocks_tasks: f.backlog_blocks_tasks,
            fixes: &[],
            fleet_paused: f.fleet_paused.is_some(),
        },
        f.fleet_paused.as_deref().unwrap_or("?"),
    );
    if let Some((skip, _)) = &plan.skipped {
        out.push(skip_why(skip, now));
    }
    // All sessions failing the same way: one line, not one per session.
    let reasons: Vec<&str> = f
        .sessions
        .iter()
        .filter_map(|s| s.last.as_ref())
        .filter(|(o, _)| failed(o))
        .map(|(_, r)| r.as_str())
        .collect();
    let all_same = f.sessions.len() > 1
        && reasons.len() == f.sessions.len()
        && reasons.windows(2).all(|w| w[0] == w[1]);
    if all_same {
        out.push(why(
            "all_failing",
            format!("all {} sessions fail: {}", f.sessions.len(), reasons[0]),
            format!("all fail: {}", reasons[0]),
        ));
    }
    for s in &f.sessions {
        if let Some(b) = &s.blocked {
            out.push(why(
                "blocked",
                format!("{} blocked: {b}", s.name),
                format!("{}: {b}", s.name),
            ));
        }
    }
    out
}

/// A scheduler's skip in words.
pub fn skip_why(skip: &Skip, now: DateTime<Utc>) -> Why {
    match skip {
        Skip::FleetPaused { by } => why(
            "fleet_paused",
            format!("the fleet is paused (by {by}): no session gets a new cycle (`brl resume` or `P` resumes)"),
            format!("fleet PAUSED by {by}"),
        ),
        Skip::Ram {
            used_percent,
            used_bytes,
            total_bytes,
            max_ram_percent,
            source,
            host,
        } => why(
            "ram",
            format!(
                "RAM-gated{}: memory {used_percent:.1}% used ({} of {} GiB, {source}) is above the gate {max_ram_percent}%: no new cycles",
                host.as_deref().map(|h| format!(" on host {h}")).unwrap_or_default(),
                gib(*used_bytes),
                gib(*total_bytes)
            ),
            format!("RAM-gated {used_percent:.0}%>{max_ram_percent}%"),
        ),
        Skip::MaxRunning {
            running,
            max_running,
        } => why(
            "max_running",
            format!("{running} cycles running, the most `[scheduler] max_running` = {max_running} allows: the others wait"),
            format!("max_running {running}/{max_running}"),
        ),
        Skip::NoTask => why(
            "no_task",
            "no task ready and `[scheduler] self_plan = false`: add a task (`brl task add`) or approve one".into(),
            "no task ready".into(),
        ),
        Skip::AgentLimited {
            preset,
            kind,
            resume_at,
        } => {
            let until = until(*resume_at, now);
            why(
                "agent_limited",
                format!(
                    "agent {preset} rate-limited ({}) until {until}: no cycles until then",
                    kind.replace('_', " ")
                ),
                format!("{preset} limited until {until}"),
            )
        }
        Skip::ReviewBacklog { open, .. } => why(
            "review_backlog",
            scheduler::backlog_text(*open),
            format!("paused: {open} to review"),
        ),
        Skip::Budget {
            limit,
            cost_usd,
            cycles,
            daily_usd,
            max_cycles_per_day,
        } => {
            let figures = match *limit {
                "daily_usd" => format!(
                    "${cost_usd:.2} of ${:.2} today",
                    daily_usd.unwrap_or_default()
                ),
                _ => format!(
                    "{cycles} of {} cycles today",
                    max_cycles_per_day.unwrap_or_default()
                ),
            };
            why(
                "budget",
                format!(
                    "budget reached ({limit}: {figures}): no new cycles until midnight UTC"
                ),
                format!("budget reached ({limit})"),
            )
        }
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / f64::from(1u32 << 30))
}

/// A moment ahead, in UTC (the log's and the budget's clock; the same on every machine an
/// operator connects from); the date too when not today.
fn until(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if at.date_naive() == now.date_naive() {
        at.format("%H:%M UTC").to_string()
    } else {
        at.format("%Y-%m-%d %H:%M UTC").to_string()
    }
}

/// Today's cycles by how they ended: kept, discarded, no change (nothing to keep is not a
/// discard), other (failed, interrupted, timed out…).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeCounts {
    pub kept: u32,
    pub discarded: u32,
    pub no_change: u32,
    pub other: u32,
}

/// [`OutcomeCounts`] of `ralph_cycle` entries.
pub fn outcome_counts(cycles: &[crate::store::log::Entry]) -> OutcomeCounts {
    let mut c = OutcomeCounts::default();
    for e in cycles {
        match e.data["outcome"].as_str() {
            Some("kept") => c.kept += 1,
            Some("discarded") => c.discarded += 1,
            Some("no_change") => c.no_change += 1,
            _ => c.other += 1,
        }
    }
    c
}

/// A session's shown state: as [`Control::shown_state`], except a session whose worker is gone
/// after stopping on purpose (`brl down`, a signal) or that never started is `stopped`, not
/// `dead` — dead is a worker that died while it was waiting, pausing or in a cycle.
pub fn shown_state(c: &Control, alive: bool, now: DateTime<Utc>) -> &'static str {
    match c.shown_state(alive, now) {
        "dead" if matches!(c.state, WorkerState::Stopped | WorkerState::Unknown) => "stopped",
        s => s,
    }
}

/// The facts besides the sessions, read from the home's files: tasks, today's usage, the agent's
/// limit, the review queue. A file that cannot be read counts as empty here (the callers show
/// its error where they show the file).
pub fn gather(
    home: &Home,
    config: &Config,
    now: DateTime<Utc>,
    room: Option<u32>,
    sessions: Vec<SessionFact>,
    memory: Option<Memory>,
) -> Facts {
    let ready_tasks = crate::store::tasks::Tasks::new(&home.tasks_path())
        .load()
        .map(|l| l.iter().filter(|t| t.ready()).count())
        .unwrap_or(0);
    let open_reviews = crate::store::queue::Queue::new(&home.queue_path())
        .load()
        .map(|q| q.iter().filter(|e| e.status.is_open()).count())
        .unwrap_or(0);
    let today = crate::scheduler::budget::today(&home.log_path(), now).unwrap_or_default();
    let agent_limit = limits::active(home, config.preset().name(), now)
        .ok()
        .flatten();
    with_config(
        config,
        Facts {
            room,
            sessions,
            memory,
            ready_tasks,
            today,
            agent_limit,
            open_reviews,
            fleet_paused: crate::store::control::FleetControl::new(home)
                .load()
                .ok()
                .and_then(|f| f.paused)
                .map(|p| p.by),
            ..Facts::default()
        },
    )
}

/// `facts` with the configured limits filled in.
pub fn with_config(config: &Config, facts: Facts) -> Facts {
    Facts {
        max_ram_percent: config.scheduler.max_ram_percent,
        max_running: config.scheduler.max_running,
        self_plan: config.scheduler.self_plan,
        daily_usd: config.budget.daily_usd,
        max_cycles_per_day: config.budget.max_cycles_per_day,
        max_pending: config.review.max_pending,
        backlog_blocks_tasks: config.review.backlog_blocks_tasks,
        ..facts
    }
}

#[cfg(test)]
#[path = "why_tests.rs"]
mod tests;
