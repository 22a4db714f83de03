//! The heartbeat: what it counts from the log entries of its period, what it reads from the
//! files, and its text (pure).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::events::Event;
use crate::store::log::Entry;

/// What the heartbeat counts from the entries of its period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Period {
    pub kept: u32,
    pub discarded: u32,
    /// Other outcomes (no_change, agent_failed, timeout, interrupted, error) by name.
    pub other: BTreeMap<String, u32>,
    pub cost_usd: f64,
    pub decisions: u32,
    pub workers_died: u32,
    pub budget_reached: bool,
    pub notify_failed: u32,
}

impl Period {
    pub fn see(&mut self, e: &Entry) {
        match e.kind.as_str() {
            "ralph_cycle" => {
                match e.data["outcome"].as_str().unwrap_or("unknown") {
                    "kept" => self.kept += 1,
                    "discarded" => self.discarded += 1,
                    other => *self.other.entry(other.to_string()).or_default() += 1,
                }
                self.cost_usd += e.data["cost_usd"].as_f64().unwrap_or(0.0);
            }
            "review_decision" => self.decisions += 1,
            "worker_respawned" => self.workers_died += 1,
            "budget_reached" => self.budget_reached = true,
            "notify_failed" => self.notify_failed += 1,
            _ => {}
        }
    }
}

/// Branches the heartbeat lists as waiting for a decision.
const WAITING_SHOWN: usize = 8;

/// An open review queue entry, with its number (the one `/queue` shows).
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    pub number: u64,
    pub branch: String,
    pub status: &'static str,
    pub subject: String,
}

/// What the heartbeat reads from the files at its time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Look {
    pub sessions: usize,
    /// Workers holding their life lock.
    pub alive: usize,
    /// Review queue entries `pending` and `conflict`.
    pub pending: usize,
    pub conflict: usize,
    /// The open entries, numbered, in queue order.
    pub waiting: Vec<Waiting>,
}

/// "heartbeat, last hour: 3 of 3 sessions alive, 7 kept, 4 discarded, 2 waiting for review".
pub fn heartbeat(
    p: &Period,
    look: &Look,
    period: Duration,
    now: DateTime<Utc>,
    home: &str,
) -> Event {
    let mut text = format!(
        "heartbeat, last {}: {} of {} sessions alive, {} kept, {} discarded",
        span(period),
        look.alive,
        look.sessions,
        p.kept,
        p.discarded
    );
    let others: u32 = p.other.values().sum();
    if others > 0 {
        let list: Vec<String> = p.other.iter().map(|(k, n)| format!("{n} {k}")).collect();
        text.push_str(&format!(", {others} other ({})", list.join(", ")));
    }
    text.push_str(&format!(", {} waiting for review", look.pending));
    if look.conflict > 0 {
        text.push_str(&format!(" ({} in conflict)", look.conflict));
    }
    let mut more = Vec::new();
    if p.cost_usd > 0.0 {
        more.push(format!("${:.2} spent", p.cost_usd));
    }
    let plural = |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if p.decisions > 0 {
        more.push(plural(p.decisions, "review decision", "review decisions"));
    }
    if p.workers_died > 0 {
        more.push(plural(p.workers_died, "worker death", "worker deaths"));
    }
    if p.budget_reached {
        more.push("budget reached".into());
    }
    if p.notify_failed > 0 {
        more.push(plural(
            p.notify_failed,
            "notification failed",
            "notifications failed",
        ));
    }
    if !more.is_empty() {
        text.push_str("; ");
        text.push_str(&more.join(", "));
    }
    if !look.waiting.is_empty() {
        text.push_str("\nwaiting for a decision:");
        for w in look.waiting.iter().take(WAITING_SHOWN) {
            let status = if w.status == "pending" {
                String::new()
            } else {
                format!(" [{}]", w.status)
            };
            let subject: String = w.subject.chars().take(60).collect();
            text.push_str(&format!(
                "\nb{} {}{status} \"{subject}\"",
                w.number, w.branch
            ));
        }
        if look.waiting.len() > WAITING_SHOWN {
            text.push_str(&format!(
                "\n… and {} more (/queue)",
                look.waiting.len() - WAITING_SHOWN
            ));
        }
        text.push_str("\n/approve <n> · /reject <n> · /diff <n>");
    }
    Event {
        event: "heartbeat".into(),
        ts: now,
        home: home.into(),
        session: None,
        text,
        data: json!({
            "period_secs": period.as_secs(), "sessions": look.sessions, "alive": look.alive,
            "kept": p.kept, "discarded": p.discarded, "other": p.other,
            "waiting_for_review": look.pending, "conflict": look.conflict,
            "cost_usd": crate::scheduler::budget::round_usd(p.cost_usd), "decisions": p.decisions,
            "workers_died": p.workers_died, "budget_reached": p.budget_reached,
            "notify_failed": p.notify_failed,
        }),
    }
}

/// "hour", "3 hours", "10 min", "30 s".
fn span(d: Duration) -> String {
    match d.as_secs() {
        3600 => "hour".into(),
        s if s >= 3600 && s % 3600 == 0 => format!("{} hours", s / 3600),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, session: Option<&str>, data: serde_json::Value) -> Entry {
        Entry {
            ts: "2026-11-21T01:02:03.456Z".parse().expect("ts"),
            kind: kind.into(),
            session: session.map(String::from),
            data,
        }
    }

    #[test]
    fn the_heartbeat_summarises_the_period() {
        let mut p = Period::default();
        let cycle = |outcome: &str, cost: f64| {
            entry(
                "ralph_cycle",
                Some("s1"),
                json!({"outcome": outcome, "cost_usd": cost}),
            )
        };
        for _ in 0..7 {
            p.see(&cycle("kept", 0.1));
        }
        for _ in 0..4 {
            p.see(&cycle("discarded", 0.05));
        }
        p.see(&cycle("timeout", 0.0));
        p.see(&entry("review_decision", None, json!({})));
        p.see(&entry("notify_failed", None, json!({})));
        p.see(&entry("notify_failed", None, json!({})));
        let look = Look {
            sessions: 3,
            alive: 3,
            pending: 2,
            conflict: 0,
            waiting: Vec::new(),
        };
        let now = "2026-11-21T10:00:00Z".parse().expect("ts");
        let e = heartbeat(&p, &look, Duration::from_secs(3600), now, "/h");
        assert_eq!(
            e.text,
            "heartbeat, last hour: 3 of 3 sessions alive, 7 kept, 4 discarded, 1 other (1 timeout), \
             2 waiting for review; $0.90 spent, 1 review decision, 2 notifications failed"
        );
        assert_eq!(
            (
                e.data["kept"].as_u64(),
                e.data["waiting_for_review"].as_u64()
            ),
            (Some(7), Some(2))
        );
        let quiet = heartbeat(
            &Period::default(),
            &Look {
                sessions: 2,
                ..Look::default()
            },
            Duration::from_secs(600),
            now,
            "/h",
        );
        assert_eq!(
            quiet.text,
            "heartbeat, last 10 min: 0 of 2 sessions alive, 0 kept, 0 discarded, 0 waiting for review"
        );
        let morning = heartbeat(
            &Period::default(),
            &Look {
                sessions: 1,
                pending: 1,
                conflict: 1,
                waiting: vec![
                    Waiting {
                        number: 3,
                        branch: "brl/s1/a".into(),
                        status: "pending",
                        subject: "Fix one error".into(),
                    },
                    Waiting {
                        number: 5,
                        branch: "brl/s1/b".into(),
                        status: "conflict",
                        subject: "Other".into(),
                    },
                ],
                ..Look::default()
            },
            Duration::from_secs(3600),
            now,
            "/h",
        );
        assert_eq!(
            morning.text,
            "heartbeat, last hour: 0 of 1 sessions alive, 0 kept, 0 discarded, 1 waiting for review (1 in conflict)\n\
             waiting for a decision:\nb3 brl/s1/a \"Fix one error\"\nb5 brl/s1/b [conflict] \"Other\"\n\
             /approve <n> · /reject <n> · /diff <n>"
        );
    }
}
