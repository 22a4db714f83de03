//! The scheduler's decision: which idle sessions get a cycle now. A pure function of the sessions'
//! states, memory, the cycles running, the task queue and the limits — tested without tmux, files
//! or a clock. The control room does the IO around it (`crate::control`).

pub mod budget;
pub mod fix;
pub mod limits;
pub mod memory;

use serde::Serialize;

pub use budget::Usage;
pub use memory::{Memory, MemoryReader};

/// One session as the scheduler sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub name: String,
    /// Its worker process lives.
    pub alive: bool,
    /// Waiting for a grant, holding none.
    pub idle: bool,
    /// Holding a grant (a cycle granted or running).
    pub granted: bool,
    /// Seconds it has been waiting (longest-waiting sessions go first).
    pub waiting_secs: i64,
    /// Paused by the operator (`brl pause <session>`): never granted, never counted as left out.
    pub paused: bool,
    /// A ready task waits reserved for it (`brl task add --session`): it takes that task next,
    /// before any repair, whatever the queue order.
    pub reserved_task: bool,
}

/// What the decision looks at.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub sessions: &'a [SessionView],
    /// `None` when memory could not be read: no gate (the control room warns).
    pub memory: Option<Memory>,
    pub max_ram_percent: u8,
    /// At most this many grants held at once; 0 = no cap beyond one per session.
    pub max_running: u32,
    /// Tasks ready to be taken (auto_safe, or proposed and approved) and reserved for no session.
    pub ready_tasks: usize,
    /// The operator paused the whole fleet (`brl pause`): no grant at all.
    pub fleet_paused: bool,
    pub self_plan: bool,
    /// Today's (UTC) cost and cycles, and the `[budget]` limits.
    pub today: &'a Usage,
    pub daily_usd: Option<f64>,
    pub max_cycles_per_day: Option<u32>,
    /// The agent every session uses hit a limit that has not reset yet.
    pub agent_limit: Option<&'a limits::AgentLimit>,
    /// Review-queue entries open now (pending, conflict, stale) and `[review] max_pending`
    /// (0 = no cap): at the cap no self-planned cycle is granted.
    pub open_reviews: usize,
    pub max_pending: u32,
    /// `[review] backlog_blocks_tasks`: at the cap, queued tasks wait too.
    pub backlog_blocks_tasks: bool,
    /// Branches the fixer may repair now, in the order to take them ([`fix::order`]): each
    /// goes to one idle session, before tasks and self-planned cycles.
    pub fixes: &'a [String],
}

/// One grant to give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantTo {
    pub session: String,
    /// Take the oldest ready task for it (else the agent plans its own).
    pub with_task: bool,
    /// A repair cycle of this review-queue branch (role `fix`) instead.
    pub fix: Option<String>,
}

/// Why idle sessions got nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Skip {
    /// Memory is above the gate.
    Ram {
        used_percent: f64,
        used_bytes: u64,
        total_bytes: u64,
        max_ram_percent: u8,
        source: &'static str,
        /// The `[[hosts]]` host whose memory is above its gate; absent for this machine.
        #[serde(skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    /// `[scheduler] max_running` cycles are already granted.
    MaxRunning { running: u32, max_running: u32 },
    /// No ready task and `[scheduler] self_plan = false`.
    NoTask,
    /// The agent hit a usage or rate limit: nothing until it resets.
    AgentLimited {
        preset: String,
        kind: String,
        resume_at: chrono::DateTime<chrono::Utc>,
    },
    /// `[review] max_pending` entries wait for review: no self-planned cycle (nor, with
    /// `backlog_blocks_tasks`, a task) until some are decided.
    ReviewBacklog { open: usize, max_pending: u32 },
    /// The operator paused the whole fleet (`brl pause`; `brl resume` lifts it).
    FleetPaused { by: String },
    /// A `[budget]` limit is reached for today (UTC).
    Budget {
        limit: &'static str,
        cost_usd: f64,
        cycles: u32,
        daily_usd: Option<f64>,
        max_cycles_per_day: Option<u32>,
    },
}

impl Skip {
    /// The `reason` of its `assignment_skipped` entry.
    pub fn reason(&self) -> &'static str {
        match self {
            Skip::Ram { .. } => "ram",
            Skip::MaxRunning { .. } => "max_running",
            Skip::NoTask => "no_task",
            Skip::Budget { .. } => "budget",
            Skip::AgentLimited { .. } => "agent_limited",
            Skip::ReviewBacklog { .. } => "review_backlog",
            Skip::FleetPaused { .. } => "fleet_paused",
        }
    }
}

/// The decision: grants, and the reason for the idle sessions left without one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub grants: Vec<GrantTo>,
    pub skipped: Option<(Skip, Vec<String>)>,
}

/// A `[[hosts]]` host's RAM gate: its sessions are gated on ITS memory and limit, not this
/// machine's.
#[derive(Debug, Clone, PartialEq)]
pub struct HostGate {
    pub host: String,
    pub sessions: Vec<String>,
    /// `None` when the host reported no figures: no gate.
    pub memory: Option<Memory>,
    pub max_ram_percent: u8,
}

/// Decide who gets a cycle now. Paused sessions are left out before anything else; a paused
/// fleet grants nothing.
pub fn decide(inp: &Inputs) -> Plan {
    decide_by(inp, "the operator")
}

/// [`decide`], naming who paused the fleet in its skip.
pub fn decide_by(inp: &Inputs, fleet_paused_by: &str) -> Plan {
    decide_fleet(inp, &[], fleet_paused_by)
}

/// The RAM gate that holds `session` back, if any: its host's when it is one of `hosts`'
/// sessions, else this machine's (`inp.memory`, `inp.max_ram_percent`).
fn ram_gate(inp: &Inputs, hosts: &[HostGate], session: &str) -> Option<Skip> {
    let (memory, max, host) = match hosts
        .iter()
        .find(|h| h.sessions.iter().any(|s| s == session))
    {
        Some(h) => (h.memory, h.max_ram_percent, Some(h.host.clone())),
        None => (inp.memory, inp.max_ram_percent, None),
    };
    let m = memory?;
    (m.used_percent() > f64::from(max)).then(|| Skip::Ram {
        used_percent: m.used_percent_rounded(),
        used_bytes: m.used,
        total_bytes: m.total,
        max_ram_percent: max,
        source: m.source,
        host,
    })
}

/// [`decide_by`] across hosts: each session is gated on its own host's memory ([`HostGate`]);
/// budget, `max_running`, tasks and the review backlog stay fleet-wide. Repairs go to this
/// machine's sessions only (the branch to repair lives in this machine's repository).
pub fn decide_fleet(inp: &Inputs, hosts: &[HostGate], fleet_paused_by: &str) -> Plan {
    let mut idle: Vec<&SessionView> = inp
        .sessions
        .iter()
        .filter(|s| s.alive && s.idle && !s.paused)
        .collect();
    if idle.is_empty() {
        return Plan::default();
    }
    // Sessions with a task reserved for them first (their task is "do this next"), then the
    // longest waiting.
    idle.sort_by(|a, b| {
        b.reserved_task
            .cmp(&a.reserved_task)
            .then(b.waiting_secs.cmp(&a.waiting_secs))
            .then(a.name.cmp(&b.name))
    });
    let names = |v: &[&SessionView]| v.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    if inp.fleet_paused {
        let skip = Skip::FleetPaused {
            by: fleet_paused_by.to_string(),
        };
        return Plan {
            grants: vec![],
            skipped: Some((skip, names(&idle))),
        };
    }
    if let Some(l) = inp.agent_limit {
        let skip = Skip::AgentLimited {
            preset: l.preset.clone(),
            kind: l.kind.clone(),
            resume_at: l.resume_at,
        };
        return Plan {
            grants: vec![],
            skipped: Some((skip, names(&idle))),
        };
    }
    if let Some(limit) = budget::reached(inp.today, inp.daily_usd, inp.max_cycles_per_day) {
        let skip = Skip::Budget {
            limit,
            cost_usd: budget::round_usd(inp.today.cost_usd),
            cycles: inp.today.cycles,
            daily_usd: inp.daily_usd,
            max_cycles_per_day: inp.max_cycles_per_day,
        };
        return Plan {
            grants: vec![],
            skipped: Some((skip, names(&idle))),
        };
    }
    // Sessions whose host's memory is above its gate wait; the others go on.
    let mut why = None;
    let mut left = Vec::new();
    idle.retain(|s| match ram_gate(inp, hosts, &s.name) {
        Some(skip) => {
            why.get_or_insert(skip);
            left.push(s.name.clone());
            false
        }
        None => true,
    });
    let running = inp.sessions.iter().filter(|s| s.granted).count() as u32;
    let mut room = match inp.max_running {
        0 => u32::MAX,
        max => max.saturating_sub(running),
    };
    let mut tasks = inp.ready_tasks;
    let mut fixes = inp.fixes.iter();
    // Room left under `[review] max_pending`: the open entries and the cycles in flight (each
    // may add one) count, so the queue stops at the cap instead of overshooting by a round.
    let mut backlog_room = match inp.max_pending {
        0 => usize::MAX,
        max => (max as usize).saturating_sub(inp.open_reviews + running as usize),
    };
    let backlog = Skip::ReviewBacklog {
        open: inp.open_reviews,
        max_pending: inp.max_pending,
    };
    let mut plan = Plan::default();
    for s in idle {
        if room == 0 {
            why.get_or_insert(Skip::MaxRunning {
                running,
                max_running: inp.max_running,
            });
            left.push(s.name.clone());
            continue;
        }
        // A repair keeps the queue's size (its result replaces the entry it fixes): never
        // held back by the backlog. A session with a reserved task does that task instead.
        let local = !hosts.iter().any(|h| h.sessions.contains(&s.name));
        if !s.reserved_task
            && local
            && let Some(branch) = fixes.next()
        {
            room -= 1;
            plan.grants.push(GrantTo {
                session: s.name.clone(),
                with_task: false,
                fix: Some(branch.clone()),
            });
            continue;
        }
        let full = backlog_room == 0;
        let with_task = (s.reserved_task || tasks > 0) && !(full && inp.backlog_blocks_tasks);
        if !with_task {
            let blocked = if full && (inp.self_plan || tasks > 0) {
                Some(backlog.clone())
            } else if !inp.self_plan {
                Some(Skip::NoTask)
            } else {
                None
            };
            if let Some(b) = blocked {
                why.get_or_insert(b);
                left.push(s.name.clone());
                continue;
            }
        }
        if with_task && !s.reserved_task {
            tasks -= 1;
        }
        if !with_task || inp.backlog_blocks_tasks {
            backlog_room = backlog_room.saturating_sub(1);
        }
        room -= 1;
        plan.grants.push(GrantTo {
            session: s.name.clone(),
            with_task,
            fix: None,
        });
    }
    plan.skipped = why.map(|w| (w, left));
    plan
}

/// Whether `open` review entries reach the cap `max_pending` (0 = no cap).
pub fn backlog_full(open: usize, max_pending: u32) -> bool {
    max_pending > 0 && open >= max_pending as usize
}

/// The words `brl status` and the dashboard's header say while the backlog holds cycles back.
pub fn backlog_text(open: usize) -> String {
    match open {
        1 => "paused: 1 branch waits for review".into(),
        n => format!("paused: {n} branches wait for review"),
    }
}

/// Rate-limits `assignment_skipped` entries: a gated night logs one entry per period, not one per
/// tick; a change of reason, or the gate lifting and closing again, logs at once.
#[derive(Debug, Default)]
pub struct SkipLog {
    last: Option<(String, i64)>,
    suppressed: u64,
}

impl SkipLog {
    /// Whether to log this skip now (`now` in seconds); returns how many were suppressed since
    /// the last one logged.
    pub fn should_log(&mut self, reason: &str, now: i64, period: i64) -> Option<u64> {
        match &self.last {
            Some((r, at)) if r == reason && now - at < period => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some((reason.to_string(), now));
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }

    /// A tick without a skip: the next skip is news.
    pub fn clear(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests;
