//! The day's limits: today's (UTC) agent cost and cycles, from the `ralph_cycle` entries of the
//! experiment log. Budgets count work *done today*, never pending work; caps on pending work
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
}

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

/// Today's usage, read backwards from the end of the log until the day's first cycle.
pub fn today(log_path: &Path, now: DateTime<Utc>) -> std::io::Result<Usage> {
    Ok(usage_of(&today_cycles(log_path, now)?, day_start(now)))
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
    let mut n = 256.min(max);
    loop {
        let tail = log::tail(log_path, n, &filter)?;
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
