//! The day's limits: today's (UTC) agent cost and cycles, from the `ralph_cycle` entries of the
//! experiment log — and the cost of the jobs (review, standup, doctor), which run the agent too.
//! Every agent's cost counts: what it reported, or its tokens priced by `[prices]`. Budgets count work *done today*, never pending work; caps on pending work
//! (tasks) live with the task queue.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveTime, Utc};
use serde::Serialize;

use crate::store::log::{self, Entry, Filter};

/// What today cost so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    pub cost_usd: f64,
    pub cycles: u32,
    /// Per session: (cost, cycles).
    pub by_session: BTreeMap<String, (f64, u32)>,
    /// Of `cost_usd`, what the jobs cost.
    pub jobs_usd: f64,
}

/// The entries of the jobs that run the agent (their `cost_usd` counts against the budget).
pub const JOB_KINDS: [&str; 3] = ["cto_review", "team_standup", "doctor_analysis"];

/// Dollars as shown and logged: to 1/100 of a cent.
pub fn round_usd(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The start of the UTC day holding `now`.
pub fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive().and_time(NaiveTime::MIN).and_utc()
}

/// Sum the cycles recorded at or after `since` (pure).
pub fn usage_of(entries: &[Entry], since: DateTime<Utc>) -> Usage {
    let mut u = Usage::default();
    for e in entries
        .iter()
        .filter(|e| JOB_KINDS.contains(&e.kind.as_str()) && e.ts >= since)
    {
        let cost = e.data.get("cost_usd").and_then(|c| c.as_f64());
        let cost = cost.filter(|c| c.is_finite() && *c > 0.0).unwrap_or(0.0);
        u.cost_usd += cost;
        u.jobs_usd += cost;
    }
    for e in entries
        .iter()
        .filter(|e| e.kind == "ralph_cycle" && e.ts >= since)
    {
        let cost = e
            .data
            .get("cost_usd")
            .and_then(|c| c.as_f64())
            .unwrap_or(0.0);
        u.cost_usd += cost;
        u.cycles += 1;
        let s = u
            .by_session
            .entry(e.session.clone().unwrap_or_default())
            .or_default();
        s.0 += cost;
        s.1 += 1;
    }
    u
}

/// Today's usage, read backwards from the end of the log until the day's first entry.
pub fn today(log_path: &Path, now: DateTime<Utc>) -> std::io::Result<Usage> {
    let all = Filter {
        kind: None,
        session: None,
    };
    let entries = entries_since(log_path, day_start(now), usize::MAX, &all)?;
    Ok(usage_of(&entries, day_start(now)))
}

/// Today's (UTC) `ralph_cycle` entries, oldest first, read backwards from the end of the log
/// until the day's first cycle.
pub fn today_cycles(log_path: &Path, now: DateTime<Utc>) -> std::io::Result<Vec<Entry>> {
    cycles_since(log_path, day_start(now), usize::MAX)
}

/// The `ralph_cycle` entries at or after `since`, oldest first, read backwards from the end of
/// the log until an older one — or until `max` were read (the newest `max` then).
pub fn cycles_since(
    log_path: &Path,
    since: DateTime<Utc>,
    max: usize,
) -> std::io::Result<Vec<Entry>> {
    let filter = Filter {
        kind: Some("ralph_cycle".into()),
        session: None,
    };
    entries_since(log_path, since, max, &filter)
}

/// The entries `filter` takes at or after `since`, oldest first, read backwards from the end of
/// the log until an older one — or until `max` were read (the newest `max` then).
pub fn entries_since(
    log_path: &Path,
    since: DateTime<Utc>,
    max: usize,
    filter: &Filter,
) -> std::io::Result<Vec<Entry>> {
    let mut n = 256.min(max);
    loop {
        let tail = log::tail(log_path, n, filter)?;
        let reached = tail.entries.first().is_some_and(|e| e.ts < since);
        if reached || tail.entries.len() < n || n >= max {
            return Ok(tail.entries.into_iter().filter(|e| e.ts >= since).collect());
        }
        n = n.saturating_mul(4).min(max);
    }
}

/// Which daily limit is reached, if any (pure).
pub fn reached(
    usage: &Usage,
    daily_usd: Option<f64>,
    max_cycles: Option<u32>,
) -> Option<&'static str> {
    if daily_usd.is_some_and(|cap| usage.cost_usd >= cap) {
        return Some("daily_usd");
    }
    if max_cycles.is_some_and(|cap| usage.cycles >= cap) {
        return Some("max_cycles_per_day");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cycle(ts: &str, session: &str, cost: Option<f64>) -> Entry {
        Entry {
            ts: ts.parse().expect("ts"),
            kind: "ralph_cycle".into(),
            session: Some(session.into()),
            data: json!({"outcome": "kept", "cost_usd": cost}),
        }
    }

    #[test]
    fn only_today_counts_and_a_new_day_starts_at_zero() {
        let entries = vec![
            cycle("2026-11-20T23:59:59Z", "s1", Some(5.0)),
            cycle("2026-11-21T00:00:00Z", "s1", Some(0.5)),
            cycle("2026-11-21T08:00:00Z", "s2", Some(0.25)),
            cycle("2026-11-21T09:00:00Z", "s2", None),
        ];
        let now: DateTime<Utc> = "2026-11-21T10:00:00Z".parse().expect("ts");
        let u = usage_of(&entries, day_start(now));
        assert_eq!(u.cycles, 3);
        assert!((u.cost_usd - 0.75).abs() < 1e-9);
        assert_eq!(u.by_session["s2"], (0.25, 2));
        assert_eq!(reached(&u, Some(0.75), None), Some("daily_usd"));
        assert_eq!(reached(&u, Some(1.0), Some(3)), Some("max_cycles_per_day"));
        assert_eq!(reached(&u, Some(1.0), Some(4)), None);
        // The next day (an injected clock): nothing counts any more.
        let tomorrow: DateTime<Utc> = "2026-11-22T00:00:01Z".parse().expect("ts");
        let u = usage_of(&entries, day_start(tomorrow));
        assert_eq!((u.cycles, u.cost_usd), (0, 0.0));
        assert_eq!(reached(&u, Some(0.75), Some(3)), None);
    }

    #[test]
    fn jobs_and_computed_costs_count_too() {
        let mut job = cycle("2026-11-21T08:30:00Z", "s1", None);
        job.kind = "cto_review".into();
        job.session = None;
        job.data = json!({"ok": true, "cost_usd": 0.5});
        let mut computed = cycle("2026-11-21T09:00:00Z", "s2", Some(0.25));
        computed.data["cost_source"] = json!("computed");
        let mut other = cycle("2026-11-21T09:30:00Z", "s1", None);
        other.kind = "gate_block".into();
        other.data = json!({"cost_usd": 7.0});
        let entries = vec![job, computed, other];
        let now: DateTime<Utc> = "2026-11-21T10:00:00Z".parse().expect("ts");
        let u = usage_of(&entries, day_start(now));
        assert_eq!(u.cycles, 1, "jobs are not cycles");
        assert!((u.cost_usd - 0.75).abs() < 1e-9, "{u:?}");
        assert!((u.jobs_usd - 0.5).abs() < 1e-9, "{u:?}");
        assert_eq!(reached(&u, Some(0.75), None), Some("daily_usd"));
        // Read from a file, among other entries.
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("log.jsonl");
        for e in &entries {
            log::append(&path, e).expect("append");
        }
        let u = today(&path, now).expect("usage");
        assert!((u.cost_usd - 0.75).abs() < 1e-9, "{u:?}");
    }

    #[test]
    fn reads_the_log_back_to_the_start_of_the_day() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("log.jsonl");
        for i in 0..600 {
            let ts = if i < 300 {
                "2026-11-20T12:00:00Z"
            } else {
                "2026-11-21T12:00:00Z"
            };
            log::append(&path, &cycle(ts, "s1", Some(0.01))).expect("append");
        }
        let now: DateTime<Utc> = "2026-11-21T13:00:00Z".parse().expect("ts");
        let u = today(&path, now).expect("usage");
        assert_eq!(u.cycles, 300);
        assert!((u.cost_usd - 3.0).abs() < 1e-6);
    }
}
