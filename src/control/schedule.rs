//! The scheduler's driver: read the control files, take back grants of dead workers, ask the pure
//! decision ([`crate::scheduler::decide`]) who gets a cycle, claim tasks and write the grants.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use serde_json::json;

use crate::config::Config;
use crate::home::Home;
use crate::hosts::fleet::HostRoom;
use crate::scheduler::{
    self, Inputs, MemoryReader, SessionView, Skip, SkipLog, Usage, budget, limits,
};
use crate::store::atomic::LockGuard;
use crate::store::control::{Control, Fleet, FleetControl, GrantTask, SessionControl, Stamp};
use crate::store::log::{self, Entry};
use crate::store::tasks::{TaskState, Tasks};

/// One `assignment_skipped` entry per reason per this many seconds while it lasts.
const SKIP_LOG_SECS: i64 = 1800;

#[derive(Default)]
pub struct Scheduler {
    memory: MemoryReader,
    skips: SkipLog,
    idle_before: BTreeSet<String>,
    pub(super) warned: BTreeSet<String>,
    /// Each session's control file as last read, with its stamp: a pass only stats unchanged
    /// files (opening one wakes every watcher of the directory — one per worker).
    seen: BTreeMap<String, (Stamp, Control)>,
    budget_logged: Option<(chrono::NaiveDate, String)>,
    /// The agent's limit that held the last decision back: when it resets, the next pass
    /// decides at once instead of waiting for the interval.
    limited_until: Option<chrono::DateTime<Utc>>,
    /// The fleet's control file as last read (paused or not), with its stamp.
    fleet: (Option<Stamp>, Fleet),
}

/// What one pass did.
#[derive(Debug, Default)]
pub struct Pass {
    pub granted: Vec<String>,
    pub taken_back: Vec<String>,
}

impl Scheduler {
    /// One pass. The decision runs when `due` (the interval elapsed) or when a session became
    /// idle since the last pass; taking back dead workers' grants happens every pass. The
    /// `hosts`' sessions are read from one `brl remote snapshot` per host per due pass (between
    /// two, from the last one), gated on their host's memory, and granted over ssh; an
    /// unreachable host's sessions get nothing.
    pub fn pass(
        &mut self,
        home: &Home,
        config: &Config,
        due: bool,
        hosts: &mut [HostRoom],
    ) -> Pass {
        let mut out = Pass::default();
        let now = Utc::now();
        // An agent limit that reset since the last decision: resume by ourselves, now.
        let due = due || self.limited_until.is_some_and(|t| now >= t);
        // The fleet resumed (or paused): decide now, not at the next interval.
        let was_paused = self.fleet.1.paused.is_some();
        let fleet = self.fleet(home);
        let due = due || was_paused != fleet.paused.is_some();
        let mut views = Vec::new();
        // Branches a session holds a repair grant for: never granted twice.
        let mut fixing = BTreeSet::new();
        for name in config.session_names() {
            let sc = SessionControl::new(home, &name);
            let stamp = sc.stamp();
            let cached = match (&stamp, self.seen.get(&name)) {
                (Some(now), Some((then, c))) if now == then && !due => Some(c.clone()),
                _ => None,
            };
            let holds_grant = cached.as_ref().is_none_or(|c| c.grant.is_some());
            if holds_grant && let Ok(Some(g)) = sc.take_back() {
                self.give_back_task(home, &name, g.task.as_ref());
                out.taken_back.push(name.clone());
                append(
                    home,
                    "grant_taken_back",
                    Some(&name),
                    json!({"grant": g.id, "task": g.task.as_ref().map(|t| t.id),
                           "note": "the worker holding this grant died; its task (if any) is back in the queue"}),
                );
            }
            let alive = sc.worker_alive().unwrap_or(false);
            let loaded = match cached {
                Some(c) if out.taken_back.last() != Some(&name) => Ok(c),
                _ => sc.load(),
            };
            match loaded {
                Ok(c) => {
                    self.warned.remove(&name);
                    // The stamp from before the read: a write in between only means one more
                    // read next time, never a stale cache.
                    match stamp {
                        Some(st) if out.taken_back.last() != Some(&name) => {
                            self.seen.insert(name.clone(), (st, c.clone()));
                        }
                        _ => {
                            self.seen.remove(&name);
                        }
                    }
                    if let Some(b) = c.grant.as_ref().and_then(|g| g.fix.clone()) {
                        fixing.insert(b);
                    }
                    views.push(SessionView {
                        paused: c.paused.is_some(),
                        reserved_task: false,
                        idle: c.idle(),
                        granted: c.grant.is_some(),
                        waiting_secs: c.since.map(|s| (now - s).num_seconds()).unwrap_or(0),
                        name,
                        alive,
                    });
                }
                Err(e) => {
                    if self.warned.insert(name.clone()) {
                        tracing::error!("{e}");
                        append(
                            home,
                            "control_error",
                            Some(&name),
                            json!({"error": e.to_string()}),
                        );
                    }
                }
            }
        }
        let gates = self.host_views(home, hosts, due, now, &mut views, &mut out);
        let idle: BTreeSet<String> = views
            .iter()
            .filter(|v| v.alive && v.idle && !v.paused)
            .map(|v| v.name.clone())
            .collect();
        let newly_idle = idle.difference(&self.idle_before).next().is_some();
        self.idle_before = idle.clone();
        if idle.is_empty() || !(due || newly_idle) {
            return out;
        }
        let tasks = Tasks::new(&home.tasks_path());
        let list = tasks.load().unwrap_or_else(|e| {
            tracing::error!("{e}");
            Vec::new()
        });
        let ready = list
            .iter()
            .filter(|t| t.ready() && t.for_session.is_none())
            .count();
        for v in &mut views {
            v.reserved_task = list
                .iter()
                .any(|t| t.ready() && t.for_session.as_deref() == Some(v.name.as_str()));
        }
        let today = match budget::today(&home.log_path(), now) {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(
                    "cannot read today's cycles from {}: {e}",
                    home.log_path().display()
                );
                Usage::default()
            }
        };
        let preset = config.preset();
        let agent_limit = match limits::active(home, preset.name(), now) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("{e}");
                None
            }
        };
        self.limited_until = agent_limit.as_ref().map(|l| l.resume_at);
        let (open_reviews, fixes) = crate::jobs::fix::queue_state(home, config, &fixing, now);
        let paused_by = fleet
            .paused
            .as_ref()
            .map(|p| p.by.clone())
            .unwrap_or_default();
        let plan = scheduler::decide_fleet(
            &Inputs {
                fleet_paused: fleet.paused.is_some(),
                open_reviews,
                max_pending: config.review.max_pending,
                backlog_blocks_tasks: config.review.backlog_blocks_tasks,
                fixes: &fixes,
                agent_limit: agent_limit.as_ref(),
                sessions: &views,
                memory: self.memory.read(),
                max_ram_percent: config.scheduler.max_ram_percent,
                max_running: config.scheduler.max_running,
                ready_tasks: ready,
                self_plan: config.scheduler.self_plan,
                today: &today,
                daily_usd: config.budget.daily_usd,
                max_cycles_per_day: config.budget.max_cycles_per_day,
            },
            &gates,
            &paused_by,
        );
        for g in &plan.grants {
            if let Some(room) = hosts
                .iter_mut()
                .find(|r| r.config.session_names().contains(&g.session))
            {
                self.grant_on_host(home, config, &tasks, room, g, &mut out);
                continue;
            }
            if let Some(branch) = &g.fix {
                match SessionControl::new(home, &g.session).grant_fix(branch) {
                    Ok(Some(grant)) => {
                        tracing::info!(session = %g.session, grant = grant.id, %branch, "repair cycle granted");
                        out.granted.push(g.session.clone());
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!("{e}"),
                }
                continue;
            }
            let Some(task) = task_for(&tasks, config, g) else {
                continue;
            };
            let sc = SessionControl::new(home, &g.session);
            match sc.grant(task.clone()) {
                Ok(Some(grant)) => {
                    tracing::info!(session = %g.session, grant = grant.id, task = task.as_ref().map(|t| t.id), "cycle granted");
                    out.granted.push(g.session.clone());
                }
                Ok(None) => self.give_back_task(home, &g.session, task.as_ref()),
                Err(e) => {
                    tracing::error!("{e}");
                    self.give_back_task(home, &g.session, task.as_ref());
                }
            }
        }
        // A session granted now is no longer idle as far as this scheduler knows: when it is seen
        // idle again it is news, even if no pass saw it busy in between (a host's session is
        // read once per check, and a short cycle can end before that).
        for s in &out.granted {
            self.idle_before.remove(s);
        }
        match &plan.skipped {
            Some((skip, who)) => {
                let reason = skip.reason();
                if let Skip::Budget { limit, .. } = skip {
                    self.budget_reached(home, now, limit, skip);
                }
                if let Some(suppressed) =
                    self.skips
                        .should_log(reason, now.timestamp(), SKIP_LOG_SECS)
                {
                    let mut data = serde_json::to_value(skip).unwrap_or_else(|_| json!({}));
                    data["sessions"] = json!(who);
                    data["suppressed_since_last"] = json!(suppressed);
                    data["next_entry_within_secs"] = json!(SKIP_LOG_SECS);
                    tracing::warn!(%data, "assignment skipped");
                    append(home, "assignment_skipped", None, data);
                }
            }
            None => self.skips.clear(),
        }
        out
    }

    /// The fleet's control file, read again only when its stamp changed.
    fn fleet(&mut self, home: &Home) -> Fleet {
        let fc = FleetControl::new(home);
        let stamp = fc.stamp();
        if stamp != self.fleet.0 || stamp.is_none() && self.fleet.1.paused.is_some() {
            let f = fc.load().unwrap_or_else(|e| {
                // Unreadable: keep what was last read (a paused fleet stays paused) and say so.
                tracing::error!("{e}");
                self.fleet.1.clone()
            });
            self.fleet = (stamp, f);
        }
        self.fleet.1.clone()
    }

    /// `budget_reached`, once per UTC day and limit (also across control-room restarts: the
    /// day's entries are checked first).
    fn budget_reached(
        &mut self,
        home: &Home,
        now: chrono::DateTime<Utc>,
        limit: &str,
        skip: &Skip,
    ) {
        let day = now.date_naive();
        if self.budget_logged.as_ref() == Some(&(day, limit.to_string())) {
            return;
        }
        self.budget_logged = Some((day, limit.to_string()));
        let filter = crate::store::log::Filter {
            kind: Some("budget_reached".into()),
            session: None,
        };
        let already = crate::store::log::tail(&home.log_path(), 20, &filter)
            .map(|t| {
                t.entries.iter().any(|e| {
                    e.ts >= budget::day_start(now) && e.data["limit"].as_str() == Some(limit)
                })
            })
            .unwrap_or(false);
        if !already {
            let mut data = serde_json::to_value(skip).unwrap_or_else(|_| json!({}));
            data["note"] = json!(
                "no more grants today (UTC); they resume at midnight UTC, or raise [budget] in brl.toml"
            );
            tracing::warn!(%data, "budget reached");
            append(home, "budget_reached", None, data);
        }
    }

    /// A task claimed for a grant that was not given (or taken back) returns to the queue —
    /// only while it is still running for this session.
    pub(super) fn give_back_task(&self, home: &Home, session: &str, task: Option<&GrantTask>) {
        let Some(t) = task else { return };
        let tasks = Tasks::new(&home.tasks_path());
        let running_here = tasks.load().ok().and_then(|l| {
            l.into_iter()
                .find(|x| x.id == t.id)
                .map(|x| x.state == TaskState::Running && x.session.as_deref() == Some(session))
        });
        if running_here == Some(true)
            && let Err(e) = tasks.release(t.id, "its grant was taken back: the worker died")
        {
            tracing::error!("{e}");
        }
    }
}

/// At start-up: tasks marked running for a session that holds no grant for them and runs no
/// cycle (a control room that died between claiming and granting) go back to the queue.
pub fn release_orphan_tasks(home: &Home, config: &Config) {
    let tasks = Tasks::new(&home.tasks_path());
    let Ok(list) = tasks.load() else { return };
    for t in list.iter().filter(|t| t.state == TaskState::Running) {
        let Some(s) = t.session.as_deref() else {
            continue;
        };
        if !config.session_names().iter().any(|n| n == s) {
            continue;
        }
        let held = SessionControl::new(home, s)
            .load()
            .ok()
            .and_then(|c| c.grant)
            .and_then(|g| g.task)
            .is_some_and(|g| g.id == t.id);
        let cycling =
            LockGuard::is_held(&home.locks_dir().join(format!("session-{s}.lock"))).unwrap_or(true);
        if !held && !cycling {
            match tasks.release(
                t.id,
                "no grant or cycle held it when the control room started",
            ) {
                Ok(_) => append(
                    home,
                    "task_released",
                    Some(s),
                    json!({"task": t.id, "reason": "orphaned: no grant or cycle held it"}),
                ),
                Err(e) => tracing::error!("{e}"),
            }
        }
    }
}

pub fn append(home: &Home, kind: &str, session: Option<&str>, data: serde_json::Value) {
    log::append_or_report(&home.log_path(), &Entry::new(kind, session, data));
}

/// The task a grant carries: the oldest ready task claimed for the session when the grant asks
/// for one (none when self-planning covers an empty queue); `None` when there is nothing to
/// grant (no task and no self-planning, or the task file cannot be read, which is logged).
pub(super) fn task_for(
    tasks: &Tasks,
    config: &Config,
    g: &scheduler::GrantTo,
) -> Option<Option<GrantTask>> {
    if !g.with_task {
        return Some(None);
    }
    match tasks.claim(&g.session) {
        Ok(Some(t)) => Some(Some(GrantTask {
            id: t.id,
            title: t.title,
            body: t.body,
        })),
        Ok(None) if config.scheduler.self_plan => Some(None),
        Ok(None) => None,
        Err(e) => {
            tracing::error!("{e}");
            None
        }
    }
}
