//! What is worth a notification, and its text: pure functions from log entries to [`Event`]s,
//! tested without files, threads or a clock.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::store::log::Entry;

/// Lines of a meeting summary or a doctor finding a notification shows.
const FIRST_LINES: usize = 3;
/// Longest line a notification shows of a summary.
const MAX_LINE: usize = 200;

/// One notification: what every notifier gets (the command on stdin, the webhook as its body;
/// Telegram gets `text`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// `kept`, `review_decision`, `budget_reached`, `worker_died`, `session_blocked`,
    /// `control_room_crashed`, `meeting`, `doctor`, `agent_limited`, `host_unreachable`,
    /// `host_reachable` or `heartbeat`.
    pub event: String,
    /// When it happened (the log entry's time; now for a heartbeat).
    pub ts: DateTime<Utc>,
    /// The home's directory.
    pub home: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// One readable line, or a few.
    pub text: String,
    pub data: Value,
}

impl Event {
    fn new(kind: &str, e: &Entry, home: &str, text: String, data: Value) -> Event {
        Event {
            event: kind.into(),
            ts: e.ts,
            home: home.into(),
            session: e.session.clone(),
            text,
            data,
        }
    }
}

/// The notification for a log entry, if it is worth one. The notifier's own entries
/// (`notify_*`) never are, so a failing notifier cannot feed itself.
pub fn from_entry(e: &Entry, home: &str) -> Option<Event> {
    let d = &e.data;
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
    match e.kind.as_str() {
        "ralph_cycle" if s("outcome") == "kept" => Some(kept(e, home)),
        "review_decision" => Some(Event::new(
            "review_decision",
            e,
            home,
            decision_text(d),
            d.clone(),
        )),
        "budget_reached" => Some(Event::new(
            "budget_reached",
            e,
            home,
            budget_text(d),
            d.clone(),
        )),
        "agent_limited" => {
            let resume = match s("resume_source") {
                "backoff" => "no reset time given; brl backs off and",
                _ => "it",
            };
            let text = format!(
                "agent {} hit a {} — no session gets a cycle until {} ({resume} resumes by itself): {}",
                s("preset"),
                s("kind").replace('_', " "),
                s("resume_at"),
                cut(s("message"))
            );
            Some(Event::new("agent_limited", e, home, text, d.clone()))
        }
        "host_unreachable" => {
            let text = format!(
                "host {} is unreachable: {} — its sessions go on there if it is up; their results come home when it is back",
                s("host"),
                cut(s("error").lines().next().unwrap_or(""))
            );
            Some(Event::new("host_unreachable", e, home, text, d.clone()))
        }
        "host_reachable" => {
            let down = d
                .get("down_secs")
                .and_then(Value::as_i64)
                .map(|n| format!(" after {} min", (n + 59) / 60))
                .unwrap_or_default();
            let text = format!(
                "host {} is reachable again{down}; its results are being collected",
                s("host")
            );
            Some(Event::new("host_reachable", e, home, text, d.clone()))
        }
        "session_blocked" => {
            let who = e.session.as_deref().unwrap_or("a session");
            let text = format!(
                "session {who} is BLOCKED and runs no cycles until it is repaired: {}",
                cut(s("reason"))
            );
            Some(Event::new("session_blocked", e, home, text, d.clone()))
        }
        "worker_respawned" => {
            let who = e.session.as_deref().unwrap_or("a session");
            let status = match d.get("exit_status") {
                Some(Value::Null) | None => "exit status unknown".to_string(),
                Some(v) => format!("exit status {}", plain(v)),
            };
            let n = d
                .get("respawns_in_a_row")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            let again = if n > 1 {
                format!(" ({n} times in a row)")
            } else {
                String::new()
            };
            let text = format!("worker of {who} died ({status}), respawned{again}");
            Some(Event::new("worker_died", e, home, text, d.clone()))
        }
        "team_standup" => {
            let mut text = "standup summary:".to_string();
            for line in first_lines(s("summary")) {
                text.push('\n');
                text.push_str(&line);
            }
            if !s("file").is_empty() {
                text.push_str(&format!("\n(full text: {})", s("file")));
            }
            Some(Event::new("meeting", e, home, text, d.clone()))
        }
        "doctor_analysis" => {
            // A notification only when some session is not `productive`: "doctor: s2
            // error_looping (same error in the last 3 cycles: …), s3 idle".
            let sessions = d.get("sessions")?.as_object()?;
            let mut found: Vec<(&String, &str, &Value)> = sessions
                .iter()
                .filter_map(|(name, v)| Some((name, v.get("class")?.as_str()?, v)))
                .filter(|(_, class, _)| *class != "productive")
                .collect();
            if found.is_empty() {
                return None;
            }
            found.sort_by_key(|(name, ..)| (name.len(), name.as_str()));
            let parts: Vec<String> = found
                .iter()
                .map(|(name, class, v)| {
                    let why = v["evidence"].get(0).and_then(Value::as_str);
                    match why.filter(|_| *class != "idle") {
                        Some(why) => format!("{name} {class} ({})", cut(why)),
                        None => format!("{name} {class}"),
                    }
                })
                .collect();
            let brief: serde_json::Map<String, Value> = sessions
                .iter()
                .map(|(name, v)| {
                    let keep = json!({"class": v.get("class"), "evidence": v.get("evidence")});
                    (name.clone(), keep)
                })
                .collect();
            let text = format!("doctor: {}", parts.join(", "));
            let data = json!({"sessions": brief, "summary": d.get("summary")});
            Some(Event::new("doctor", e, home, text, data))
        }
        _ => None,
    }
}

/// Put branch number `n` on a `kept` or `review_decision` event: `b3 ` before its text, the
/// commands that act on it after a kept one, and `number` in its data.
pub fn with_number(ev: &mut Event, n: u64) {
    ev.text = format!("b{n} {}", ev.text);
    if ev.event == "kept" {
        ev.text
            .push_str(&format!("\n/diff {n} · /approve {n} · /reject {n}"));
    }
    if let Some(d) = ev.data.as_object_mut() {
        d.insert("number".into(), json!(n));
    }
}

fn kept(e: &Entry, home: &str) -> Event {
    let d = &e.data;
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
    let who = e.session.as_deref().unwrap_or("a session");
    let mut text = format!("{who} kept {}, waiting for review", s("branch"));
    if !s("subject").is_empty() {
        text.push_str(&format!(": \"{}\"", cut(s("subject"))));
    }
    let mut facts = counts(&d["before"], &d["after"]);
    if let Some(c) = d.get("cost_usd").and_then(Value::as_f64) {
        facts.push(format!("${c:.2}"));
    }
    if !s("task").is_empty() {
        facts.push(format!("task \"{}\"", cut(s("task"))));
    }
    if !facts.is_empty() {
        text.push('\n');
        text.push_str(&facts.join(" · "));
    }
    let keep = [
        "branch", "before", "after", "subject", "reason", "commits", "cost_usd", "task", "task_id",
    ];
    let data: serde_json::Map<String, Value> = keep
        .iter()
        .filter_map(|k| d.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    Event::new("kept", e, home, text, Value::Object(data))
}

/// `errors 12 → 11`, … for each count known before or after.
fn counts(before: &Value, after: &Value) -> Vec<String> {
    ["errors", "failures", "passed"]
        .iter()
        .filter_map(|k| {
            let (b, a) = (before.get(*k)?, after.get(*k));
            let show = |v: Option<&Value>| v.and_then(Value::as_u64).map(|n| n.to_string());
            match (show(Some(b)), show(a)) {
                (None, None) => None,
                (b, a) => Some(format!(
                    "{k} {} → {}",
                    b.as_deref().unwrap_or("?"),
                    a.as_deref().unwrap_or("?")
                )),
            }
        })
        .collect()
}

fn decision_text(d: &Value) -> String {
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
    let branch = s("branch");
    let by = if s("by").is_empty() {
        "someone"
    } else {
        s("by")
    };
    match (s("decision"), s("result")) {
        ("approve", "fast_forward") => format!("{branch} approved by {by}: merged (fast-forward)"),
        ("approve", "merge_commit") => {
            let commit: String = s("merged_as").chars().take(7).collect();
            format!("{branch} approved by {by}: merged (merge commit {commit})")
        }
        ("approve", "already_merged") => format!("{branch} approved by {by}: already merged"),
        ("approve", "conflict") => {
            let files: Vec<&str> = d["conflict_files"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            format!(
                "approving {branch} ({by}) hit a conflict in {}: nothing merged, it waits in the queue as `conflict`",
                if files.is_empty() {
                    "some files".to_string()
                } else {
                    files.join(", ")
                }
            )
        }
        ("approve", "refused") => format!("approving {branch} ({by}) was refused: {}", s("reason")),
        ("reject", _) => {
            let reason = if s("reason").is_empty() {
                "no reason given"
            } else {
                s("reason")
            };
            format!("{branch} rejected by {by}: {}", cut(reason))
        }
        (decision, result) => format!("{branch}: {decision} by {by} → {result}"),
    }
}

fn budget_text(d: &Value) -> String {
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
    let n = |k: &str| d.get(k).and_then(Value::as_f64);
    // The scheduler writes `limit`; `reason` is accepted too.
    let limit = [s("limit"), s("reason")]
        .into_iter()
        .find(|l| matches!(*l, "daily_usd" | "max_cycles_per_day"))
        .unwrap_or_else(|| s("limit"));
    let what = match limit {
        "daily_usd" => format!(
            "today's agent cost ${:.2} reached [budget] daily_usd = ${:.2}",
            n("cost_usd").unwrap_or(0.0),
            n("daily_usd").unwrap_or(0.0)
        ),
        "max_cycles_per_day" => format!(
            "{} cycles today reached [budget] max_cycles_per_day = {}",
            n("cycles").unwrap_or(0.0),
            n("max_cycles_per_day").unwrap_or(0.0)
        ),
        "" => "a daily limit".to_string(),
        other => other.to_string(),
    };
    format!(
        "budget reached: {what}; no more cycles are granted until midnight UTC (or raise [budget] in brl.toml)"
    )
}

/// The previous control room's `control_started` when no `control_stopped` came after it:
/// `starts` are the last start entries (oldest first), `last_stop` the last stop entry, and
/// entries at or after `started_at` belong to this control room.
pub fn unclean_start<'a>(
    starts: &'a [Entry],
    last_stop: Option<&Entry>,
    started_at: DateTime<Utc>,
) -> Option<&'a Entry> {
    let prev = starts.iter().rev().find(|e| e.ts < started_at)?;
    match last_stop {
        Some(stop) if stop.ts >= prev.ts => None,
        _ => Some(prev),
    }
}

/// The notification that the previous control room died without a clean shutdown.
/// `last_seen`: the time of the log's last entry before this start.
pub fn crash_event(
    prev: &Entry,
    last_seen: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    home: &str,
) -> Event {
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let at = last_seen.map_or_else(
        || format!("some time after {}", fmt(prev.ts)),
        |t| {
            format!(
                "at about {} (the log's last entry before the restart)",
                fmt(t)
            )
        },
    );
    let pid = prev
        .data
        .get("pid")
        .map(plain)
        .unwrap_or_else(|| "?".into());
    Event {
        event: "control_room_crashed".into(),
        ts: now,
        home: home.into(),
        session: None,
        text: format!(
            "the control room stopped without a clean shutdown (crash, kill -9, reboot) {at}; restarted {}. It had started {} (pid {pid}).",
            fmt(now),
            fmt(prev.ts)
        ),
        data: json!({"pid": prev.data.get("pid"), "started": prev.ts, "last_entry": last_seen, "restarted": now}),
    }
}

/// The first non-empty lines of `text`, each cut short; "…" when there is more.
fn first_lines(text: &str) -> Vec<String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut out: Vec<String> = lines.by_ref().take(FIRST_LINES).map(cut).collect();
    if lines.next().is_some() {
        out.push("…".into());
    }
    out
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_LINE) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

/// A JSON scalar without quotes.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
