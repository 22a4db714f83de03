//! A snapshot of a home, read from its files: sessions (from the control files and the workers'
//! locks), the review queue and task queue by status, memory against the gate, and whether a
//! control room schedules it. Served by `GET /status` and printed by `brl status`.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::{Value, json};

use crate::agents::HookSupport;
use crate::config::Config;
use crate::home::Home;
use crate::scheduler::MemoryReader;
use crate::scheduler::budget::round_usd;
use crate::store::atomic::{LockGuard, lock_owner};
use crate::store::control::SessionControl;
use crate::store::queue::Queue;
use crate::store::tasks::Tasks;

/// The lock the scheduling control room holds on a home.
pub fn control_lock_path(home: &Home) -> std::path::PathBuf {
    home.locks_dir().join("control.lock")
}

/// The pid of the control room scheduling this home, if one runs.
pub fn control_room_pid(home: &Home) -> Option<u32> {
    let path = control_lock_path(home);
    match LockGuard::is_held(&path) {
        Ok(true) => lock_owner(&path),
        _ => None,
    }
}

/// The snapshot as JSON. Files that cannot be read are reported in place (`"error": …`), never
/// papered over with zeros.
pub fn snapshot(home: &Home, config: &Config, memory: &mut MemoryReader) -> Value {
    let now = Utc::now();
    let mut facts = Vec::new();
    let mut sessions: Vec<Value> = config
        .session_names()
        .iter()
        .map(|s| {
            let sc = SessionControl::new(home, s);
            let alive = sc.worker_alive().unwrap_or(false);
            match sc.load() {
                Ok(c) => {
                    let state = crate::why::shown_state(&c, alive, now);
                    facts.push(crate::why::SessionFact::of(s, &c, alive));
                    json!({
                        "name": s,
                        "state": state,
                        "alive": alive,
                        "pid": c.pid,
                        "phase": c.phase,
                        "phase_since": c.phase_since,
                        "branch": c.branch,
                        "since": c.since,
                        "until": c.until,
                        "heartbeat": c.heartbeat,
                        "grant": c.grant,
                        "last": c.last,
                        "blocked": c.blocked,
                        "paused": c.paused,
                    })
                }
                Err(e) => json!({"name": s, "alive": alive, "error": e.to_string()}),
            }
        })
        .collect();
    let (hosts, host_sessions) = hosts::hosts_json(home, config);
    sessions.extend(host_sessions);
    let mut backlog = Value::Null;
    let queue = match Queue::new(&home.queue_path()).load() {
        Ok(entries) => {
            let mut by: BTreeMap<&str, usize> = BTreeMap::new();
            for e in &entries {
                *by.entry(e.status.as_str()).or_default() += 1;
            }
            let open = entries.iter().filter(|e| e.status.is_open()).count();
            let cap = config.review.max_pending;
            let paused = crate::scheduler::backlog_full(open, cap);
            backlog = json!({
                "open": open,
                "max_pending": cap,
                "paused": paused,
                "text": paused.then(|| crate::scheduler::backlog_text(open)),
            });
            json!(by)
        }
        Err(e) => json!({"error": e.to_string()}),
    };
    let tasks = match Tasks::new(&home.tasks_path()).load() {
        Ok(list) => {
            let mut by: BTreeMap<&str, usize> = BTreeMap::new();
            for t in &list {
                *by.entry(t.state.as_str()).or_default() += 1;
            }
            let ready = list.iter().filter(|t| t.ready()).count();
            json!({"by_state": by, "ready": ready})
        }
        Err(e) => json!({"error": e.to_string()}),
    };
    let mem = memory.read();
    let room = control_room_pid(home);
    let why = crate::why::explain(
        &crate::why::gather(home, config, now, room, facts, mem),
        now,
    );
    let memory = match mem {
        Some(m) => json!({
            "used_bytes": m.used,
            "total_bytes": m.total,
            "used_percent": m.used_percent_rounded(),
            "source": m.source,
            "max_ram_percent": config.scheduler.max_ram_percent,
            "gated": m.used_percent() > f64::from(config.scheduler.max_ram_percent),
        }),
        None => json!({"error": "memory figures unavailable"}),
    };
    let outcomes = crate::scheduler::budget::today_cycles(&home.log_path(), now)
        .map(|c| crate::why::outcome_counts(&c))
        .unwrap_or_default();
    let today = match crate::scheduler::budget::today(&home.log_path(), now) {
        Ok(u) => json!({
            "outcomes": outcomes,
            "cost_usd": round_usd(u.cost_usd),
            "cycles": u.cycles,
            "daily_usd": config.budget.daily_usd,
            "max_cycles_per_day": config.budget.max_cycles_per_day,
            "limit_reached": crate::scheduler::budget::reached(&u, config.budget.daily_usd, config.budget.max_cycles_per_day),
            "by_session": u.by_session.iter().map(|(s, (c, n))| (s.clone(), json!({"cost_usd": round_usd(*c), "cycles": n}))).collect::<serde_json::Map<_, _>>(),
        }),
        Err(e) => json!({"error": e.to_string()}),
    };
    json!({
        "home": home.root(),
        "agent": with_sandbox(agent(home, &config.agent.command), config.agent.sandbox),
        "agent_limits": crate::scheduler::limits::lines(home, now),
        "today": today,
        "at": now,
        "control_room": {"pid": room},
        "fleet_paused": match crate::store::control::FleetControl::new(home).load() {
            Ok(f) => json!(f.paused),
            Err(e) => json!({"error": e.to_string()}),
        },
        "why": why,
        "sessions": sessions,
        "hosts": hosts,
        "queue": queue,
        "review_backlog": backlog,
        "tasks": tasks,
        "memory": memory,
    })
}

/// The agent the home runs: its preset, whether brl's gate applies (and how), and what the
/// preset warns about its command.
pub fn agent(home: &Home, command: &str) -> Value {
    let kind = match crate::gate::install::configured_agent(home) {
        Ok(k) => k,
        Err(e) => return json!({"error": format!("{e:#}")}),
    };
    let preset = crate::agents::Preset::unchecked(kind, command);
    let gate = match kind.hooks() {
        HookSupport::ProjectSettings { path, event } => format!("{event} hook in {path}"),
        HookSupport::CommandLine { .. } => "PreToolUse hook on its command line".to_string(),
        HookSupport::None { .. } => NO_GATE.to_string(),
    };
    let warnings: Vec<String> = preset
        .warnings(command)
        .into_iter()
        .filter(|w| !w.starts_with(NO_GATE))
        .chain(preset.check_command(command).err())
        .collect();
    json!({
        "preset": kind.name(),
        "gate": kind.hooks().has_gate(),
        "gate_how": gate,
        "warnings": warnings,
    })
}

/// `[agent] sandbox` in the agent's block; with bwrap asked for and not on `PATH`, a warning
/// naming the package (every cycle would stop on it).
fn with_sandbox(mut agent: Value, sandbox: crate::agents::sandbox::Sandbox) -> Value {
    use crate::agents::sandbox::{self, Sandbox};
    let Some(obj) = agent.as_object_mut() else {
        return agent;
    };
    let name = match sandbox {
        Sandbox::None => "none",
        Sandbox::Bwrap => "bwrap",
    };
    obj.insert("sandbox".into(), json!(name));
    if sandbox == Sandbox::Bwrap && !sandbox::on_path() {
        let w = "[agent] sandbox = \"bwrap\" but `bwrap` is not on PATH: every cycle stops \
                 (fix: install the `bubblewrap` package, or set [agent] sandbox = \"none\")";
        if let Some(Value::Array(ws)) = obj.get_mut("warnings") {
            ws.push(json!(w));
        }
    }
    agent
}

/// What brl says wherever it shows an agent without hooks (opencode, aider, custom).
pub const NO_GATE: &str = "no safety gate for this agent";

/// The agent line(s) for `brl status` and `brl up`.
pub fn describe_agent(a: &Value) -> String {
    if let Some(e) = a["error"].as_str() {
        return format!("agent: ERROR {e}\n");
    }
    let name = a["preset"].as_str().unwrap_or("?");
    let mut out = if a["gate"].as_bool() == Some(true) {
        format!(
            "agent: {name} — brl gate on ({})\n",
            a["gate_how"].as_str().unwrap_or("?")
        )
    } else {
        format!("agent: {name} — {NO_GATE}\n")
    };
    if a["sandbox"].as_str() == Some("bwrap") {
        out.push_str("  sandbox: bwrap (the file system read-only but for its worktree)\n");
    }
    for w in a["warnings"].as_array().into_iter().flatten() {
        if let Some(w) = w.as_str() {
            out.push_str(&format!("  warning: {w}\n"));
        }
    }
    out
}

/// The snapshot in plain words, for `brl status`. Reasons, blocked texts and branch names come
/// from files and agents: every control character in them is shown escaped.
pub fn describe(v: &Value) -> String {
    crate::term::safe_text(&describe_raw(v)).into_owned()
}

fn describe_raw(v: &Value) -> String {
    let mut out = String::new();
    match v["control_room"]["pid"].as_u64() {
        Some(pid) => out.push_str(&format!("control room: scheduling (pid {pid})\n")),
        None => out.push_str(
            "control room: not running — no cycles are granted (start it with `brl up`)\n",
        ),
    }
    if v.get("agent").is_some() {
        out.push_str(&describe_agent(&v["agent"]));
    }
    if let Some(by) = v["fleet_paused"]["by"].as_str() {
        out.push_str(&format!(
            "fleet: PAUSED by {by} since {} — no session gets a new cycle (`brl resume` resumes)\n",
            v["fleet_paused"]["at"].as_str().unwrap_or("?")
        ));
    } else if let Some(e) = v["fleet_paused"]["error"].as_str() {
        out.push_str(&format!("fleet: ERROR {e}\n"));
    }
    // Why nothing happens, from the scheduler's own decision (the control room line says
    // whether it runs).
    for w in v["why"].as_array().into_iter().flatten() {
        if w["key"] != "no_control_room"
            && let Some(t) = w["text"].as_str()
        {
            out.push_str(&format!("why idle: {t}\n"));
        }
    }
    if let Some(t) = v["review_backlog"]["text"].as_str() {
        out.push_str(&format!(
            "{t} — no self-planned cycle until some are decided (`[review] max_pending` = {}; `brl queue` lists them)\n",
            v["review_backlog"]["max_pending"]
        ));
    }
    for l in v["agent_limits"].as_array().into_iter().flatten() {
        if let Some(l) = l.as_str() {
            out.push_str(&format!("{l}\n"));
        }
    }
    if let Some(m) = v["memory"].as_object()
        && let Some(p) = m.get("used_percent").and_then(Value::as_f64)
    {
        {
            out.push_str(&format!(
                "memory: {p:.1}% used ({}), gate at {}%{}\n",
                m.get("source").and_then(Value::as_str).unwrap_or("?"),
                m.get("max_ram_percent")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                if m.get("gated").and_then(Value::as_bool) == Some(true) {
                    " — GATED: no new cycles"
                } else {
                    ""
                }
            ));
        }
    }
    out.push_str(&hosts::describe_hosts(v));
    let t = &v["today"];
    if let Some(e) = t["error"].as_str() {
        out.push_str(&format!("today (UTC): ERROR {e}\n"));
    } else {
        let cap = |k: &str, unit: &str| match t[k].as_f64() {
            Some(c) => format!(" of {unit}{c}"),
            None => String::new(),
        };
        out.push_str(&format!(
            "today (UTC): ${:.4}{} in {} cycles{}{}\n",
            t["cost_usd"].as_f64().unwrap_or(0.0),
            cap("daily_usd", "$"),
            t["cycles"].as_u64().unwrap_or(0),
            cap("max_cycles_per_day", ""),
            match t["limit_reached"].as_str() {
                Some(l) => format!(" — LIMIT REACHED ({l}): no new cycles until midnight UTC"),
                None => String::new(),
            }
        ));
    }
    if let Some(o) = t["outcomes"].as_object() {
        let n = |k: &str| o.get(k).and_then(Value::as_u64).unwrap_or(0);
        out.push_str(&format!(
            "today's cycles: kept {} · discarded {} · no change {} · other {}\n",
            n("kept"),
            n("discarded"),
            n("no_change"),
            n("other")
        ));
    }
    out.push_str("sessions:\n");
    for s in v["sessions"].as_array().into_iter().flatten() {
        let name = s["name"].as_str().unwrap_or("?");
        if let Some(e) = s["error"].as_str() {
            out.push_str(&format!("  {name:<4} ERROR {e}\n"));
            continue;
        }
        let state = s["state"].as_str().unwrap_or("?");
        let phase = s["phase"]
            .as_str()
            .map(|p| format!(" {p}"))
            .unwrap_or_default();
        let branch = s["branch"]
            .as_str()
            .map(|b| format!(" {b}"))
            .unwrap_or_default();
        let last = s["last"]["outcome"]
            .as_str()
            .map(|o| format!("  last: {o} {}", s["last"]["branch"].as_str().unwrap_or("")))
            .unwrap_or_default();
        let spent = &t["by_session"][name];
        let spent = match spent["cycles"].as_u64() {
            Some(n) => format!(
                "  today: {n} cycles ${:.4}",
                spent["cost_usd"].as_f64().unwrap_or(0.0)
            ),
            None => String::new(),
        };
        let host = s["host"]
            .as_str()
            .map(|h| format!("  (host {h})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {name:<4} {state}{phase}{branch}{last}{spent}{host}\n"
        ));
        if let Some(by) = s["paused"]["by"].as_str() {
            out.push_str(&format!(
                "       PAUSED by {by} since {} (`brl resume {name}` resumes)\n",
                s["paused"]["at"].as_str().unwrap_or("?")
            ));
        }
        if let Some(why) = s["blocked"]["reason"].as_str() {
            out.push_str(&format!(
                "       BLOCKED since {}: {why}\n",
                s["blocked"]["since"].as_str().unwrap_or("?")
            ));
        }
    }
    if v["sessions"].as_array().is_some_and(|a| a.is_empty()) {
        out.push_str("  (none)\n");
    }
    out.push_str(&format!("review queue: {}\n", counts(&v["queue"])));
    out.push_str(&format!(
        "tasks: {} (ready: {})\n",
        counts(&v["tasks"]["by_state"]),
        v["tasks"]["ready"].as_u64().unwrap_or(0)
    ));
    if let Some(e) = v["tasks"]["error"].as_str() {
        out.push_str(&format!("tasks: ERROR {e}\n"));
    }
    out
}

fn counts(v: &Value) -> String {
    if let Some(e) = v["error"].as_str() {
        return format!("ERROR {e}");
    }
    let parts: Vec<String> = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    if parts.is_empty() {
        "empty".into()
    } else {
        parts.join(", ")
    }
}

#[path = "status_hosts.rs"]
mod hosts;

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
