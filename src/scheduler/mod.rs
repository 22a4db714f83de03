//! The scheduler's decision: which idle sessions get a cycle now. A pure function of the sessions'
//! states, memory, the cycles running, the task queue and the limits — tested without tmux, files
//! or a clock. The control room does the IO around it (`crate::control`).

pub mod budget;
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
    /// Tasks ready to be taken (auto_safe, or proposed and approved).
    pub ready_tasks: usize,
    pub self_plan: bool,
    /// Today's (UTC) cost and cycles, and the `[budget]` limits.
    pub today: &'a Usage,
    pub daily_usd: Option<f64>,
    pub max_cycles_per_day: Option<u32>,
    /// The agent every session uses hit a limit that has not reset yet.
    pub agent_limit: Option<&'a limits::AgentLimit>,
}

/// One grant to give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantTo {
    pub session: String,
    /// Take the oldest ready task for it (else the agent plans its own).
    pub with_task: bool,
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
    /// A `[budget]` limit is reached for today (UTC).
    Budget {
        limit: &'static str,
        cost_usd: f64,
        cycles: u32,
        daily_usd: Option<f64>,
        max_cycles_per_day: Option<u32>,
    },
}

/// The decision: grants, and the reason for the idle sessions left without one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub grants: Vec<GrantTo>,
    pub skipped: Option<(Skip, Vec<String>)>,
}

/// Decide who gets a cycle now.
pub fn decide(inp: &Inputs) -> Plan {
    let mut idle: Vec<&SessionView> = inp.sessions.iter().filter(|s| s.alive && s.idle).collect();
    if idle.is_empty() {
        return Plan::default();
    }
    idle.sort_by(|a, b| {
        b.waiting_secs
            .cmp(&a.waiting_secs)
            .then(a.name.cmp(&b.name))
    });
    let names = |v: &[&SessionView]| v.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
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
    if let Some(m) = inp.memory
        && m.used_percent() > f64::from(inp.max_ram_percent)
    {
        let skip = Skip::Ram {
            used_percent: m.used_percent_rounded(),
            used_bytes: m.used,
            total_bytes: m.total,
            max_ram_percent: inp.max_ram_percent,
            source: m.source,
        };
        return Plan {
            grants: vec![],
            skipped: Some((skip, names(&idle))),
        };
    }
    let running = inp.sessions.iter().filter(|s| s.granted).count() as u32;
    let mut room = match inp.max_running {
        0 => u32::MAX,
        max => max.saturating_sub(running),
    };
    let mut tasks = inp.ready_tasks;
    let mut plan = Plan::default();
    let mut left = Vec::new();
    let mut why = None;
    for s in idle {
        if room == 0 {
            why.get_or_insert(Skip::MaxRunning {
                running,
                max_running: inp.max_running,
            });
            left.push(s.name.clone());
            continue;
        }
        let with_task = tasks > 0;
        if !with_task && !inp.self_plan {
            why.get_or_insert(Skip::NoTask);
            left.push(s.name.clone());
            continue;
        }
        tasks = tasks.saturating_sub(1);
        room -= 1;
        plan.grants.push(GrantTo {
            session: s.name.clone(),
            with_task,
        });
    }
    plan.skipped = why.map(|w| (w, left));
    plan
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
mod tests {
    use super::*;

    fn s(name: &str, alive: bool, idle: bool, granted: bool, waiting: i64) -> SessionView {
        SessionView {
            name: name.into(),
            alive,
            idle,
            granted,
            waiting_secs: waiting,
        }
    }

    static NO_USAGE: std::sync::LazyLock<Usage> = std::sync::LazyLock::new(Usage::default);

    fn inputs(sessions: &[SessionView]) -> Inputs<'_> {
        Inputs {
            today: &NO_USAGE,
            daily_usd: None,
            max_cycles_per_day: None,
            sessions,
            memory: Some(Memory {
                used: 40,
                total: 100,
                source: "host",
            }),
            max_ram_percent: 85,
            max_running: 0,
            ready_tasks: 0,
            self_plan: true,
            agent_limit: None,
        }
    }

    #[test]
    fn an_agent_limit_grants_nothing_until_it_resets() {
        let ss = [s("s1", true, true, false, 3), s("s2", true, true, false, 2)];
        let now: chrono::DateTime<chrono::Utc> = "2026-12-04T20:00:00Z".parse().expect("ts");
        let limit = crate::agents::Limit {
            kind: crate::agents::LimitKind::UsageLimit,
            resets_at: Some("2026-12-04T23:03:00Z".parse().expect("ts")),
            retry_after_secs: None,
            message: "usage limit reached".into(),
        };
        let (kept, _) = limits::next(None, "claude", &limit, Some("s1"), now);
        let all = vec![kept];
        let mut i = inputs(&ss);
        i.ready_tasks = 2;
        i.agent_limit = limits::active_in(&all, "claude", now);
        let p = decide(&i);
        assert!(p.grants.is_empty());
        let (skip, who) = p.skipped.expect("skipped");
        assert_eq!(who, vec!["s1".to_string(), "s2".to_string()]);
        assert_eq!(
            skip,
            Skip::AgentLimited {
                preset: "claude".into(),
                kind: "usage_limit".into(),
                resume_at: "2026-12-04T23:03:00Z".parse().expect("ts"),
            }
        );
        // At the reset time the limit is no longer active: both sessions get a cycle again.
        let reset: chrono::DateTime<chrono::Utc> = "2026-12-04T23:03:00Z".parse().expect("ts");
        i.agent_limit = limits::active_in(&all, "claude", reset);
        assert_eq!(granted(&decide(&i)), vec![("s1", true), ("s2", true)]);
    }

    fn granted(p: &Plan) -> Vec<(&str, bool)> {
        p.grants
            .iter()
            .map(|g| (g.session.as_str(), g.with_task))
            .collect()
    }

    #[test]
    fn idle_live_sessions_get_a_cycle_longest_waiting_first() {
        let ss = [
            s("s1", true, true, false, 5),
            s("s2", true, false, true, 0),
            s("s3", false, true, false, 50),
            s("s4", true, true, false, 60),
        ];
        let p = decide(&inputs(&ss));
        assert_eq!(granted(&p), vec![("s4", false), ("s1", false)]);
        assert_eq!(p.skipped, None);
    }

    #[test]
    fn tasks_go_first_then_self_planning() {
        let ss = [s("s1", true, true, false, 3), s("s2", true, true, false, 2)];
        let mut i = inputs(&ss);
        i.ready_tasks = 1;
        assert_eq!(granted(&decide(&i)), vec![("s1", true), ("s2", false)]);
        i.self_plan = false;
        let p = decide(&i);
        assert_eq!(granted(&p), vec![("s1", true)]);
        assert_eq!(p.skipped, Some((Skip::NoTask, vec!["s2".into()])));
    }

    #[test]
    fn ram_gate_grants_nothing_and_says_why() {
        let ss = [s("s1", true, true, false, 1)];
        let mut i = inputs(&ss);
        i.memory = Some(Memory {
            used: 90,
            total: 100,
            source: "cgroup",
        });
        let p = decide(&i);
        assert!(p.grants.is_empty());
        let (skip, who) = p.skipped.expect("skipped");
        assert_eq!(who, vec!["s1".to_string()]);
        assert!(matches!(
            skip,
            Skip::Ram {
                max_ram_percent: 85,
                source: "cgroup",
                ..
            }
        ));
        // At the limit is still allowed; unknown memory is not gated.
        i.memory = Some(Memory {
            used: 85,
            total: 100,
            source: "host",
        });
        assert_eq!(decide(&i).grants.len(), 1);
        i.memory = None;
        assert_eq!(decide(&i).grants.len(), 1);
    }

    #[test]
    fn the_days_limits_stop_grants_until_the_next_day() {
        let ss = [s("s1", true, true, false, 1)];
        let spent = Usage {
            cost_usd: 5.0,
            cycles: 40,
            ..Usage::default()
        };
        let mut i = inputs(&ss);
        i.today = &spent;
        i.daily_usd = Some(5.0);
        let p = decide(&i);
        assert!(p.grants.is_empty());
        assert!(matches!(
            p.skipped,
            Some((
                Skip::Budget {
                    limit: "daily_usd",
                    ..
                },
                _
            ))
        ));
        i.daily_usd = Some(10.0);
        i.max_cycles_per_day = Some(40);
        assert!(matches!(
            decide(&i).skipped,
            Some((
                Skip::Budget {
                    limit: "max_cycles_per_day",
                    ..
                },
                _
            ))
        ));
        // A new day: the usage read from the log starts at zero again.
        let fresh = Usage::default();
        i.today = &fresh;
        assert_eq!(decide(&i).grants.len(), 1);
    }

    #[test]
    fn max_running_caps_grants() {
        let ss = [
            s("s1", true, false, true, 0),
            s("s2", true, true, false, 9),
            s("s3", true, true, false, 1),
        ];
        let mut i = inputs(&ss);
        i.max_running = 2;
        let p = decide(&i);
        assert_eq!(granted(&p), vec![("s2", false)]);
        assert_eq!(
            p.skipped,
            Some((
                Skip::MaxRunning {
                    running: 1,
                    max_running: 2
                },
                vec!["s3".into()]
            ))
        );
    }

    #[test]
    fn nobody_idle_nothing_to_do() {
        let ss = [s("s1", true, false, true, 0)];
        assert_eq!(decide(&inputs(&ss)), Plan::default());
    }

    #[test]
    fn skip_log_is_rate_limited() {
        let mut l = SkipLog::default();
        assert_eq!(l.should_log("ram", 0, 1800), Some(0));
        assert_eq!(l.should_log("ram", 10, 1800), None);
        assert_eq!(l.should_log("ram", 20, 1800), None);
        assert_eq!(l.should_log("ram", 1800, 1800), Some(2));
        assert_eq!(l.should_log("max_running", 1801, 1800), Some(0));
        l.clear();
        assert_eq!(l.should_log("max_running", 1802, 1800), Some(0));
    }
}
