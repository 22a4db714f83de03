//! What an agent run reported, the same shape for every agent: cost, tokens, turns, session id,
//! error kind, the tools it was denied and the usage/rate limit it hit.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where `cost_usd` came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CostSource {
    /// The agent said it (Claude Code, opencode, aider).
    Reported,
    /// Tokens × the price table (`[prices."<model>"]`).
    Computed,
}

/// One tool the agent was not allowed to use, and how many times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Denial {
    /// `Edit`, `Bash(git commit)`, `write_file` …
    pub tool: String,
    pub count: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// The plan's usage allowance is spent (Claude's 5-hour limit, Codex's usage limit, a daily
    /// quota): hours, not seconds.
    UsageLimit,
    /// Too many requests (HTTP 429): seconds to minutes.
    RateLimit,
    /// The API is overloaded (HTTP 529, 503 "overloaded").
    Overloaded,
}

/// The agent stopped because of a limit; when it said when the limit resets, `resets_at` or
/// `retry_after_secs` carries it (else the scheduler backs off).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Limit {
    pub kind: LimitKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// The agent's own words (one line, cut short).
    pub message: String,
}

impl Limit {
    /// When to try again: the reset time, else now + retry-after, else `None` (back off).
    pub fn resume_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.resets_at.or_else(|| {
            self.retry_after_secs
                .and_then(|s| i64::try_from(s).ok())
                .map(|s| now + chrono::Duration::seconds(s))
        })
    }
}

/// What one agent run reported. Every field is optional: an agent that says nothing leaves them
/// empty, and nothing here is guessed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AgentResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_source: Option<CostSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Input tokens served from a cache (a part of `input_tokens` for Codex and Gemini; on top of
    /// it for Anthropic and opencode — each parser says which in its own code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub is_error: bool,
    /// The agent's error subtype (`error_max_turns`, `turn_failed`, …) when it reported one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub denials: Vec<Denial>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// The agent's final answer text, unwrapped from its JSON (for the jobs; never the prompt).
    #[serde(skip)]
    pub answer: Option<String>,
}

/// Add one denial of `tool`, keeping first-seen order.
pub fn add_denial(denials: &mut Vec<Denial>, tool: &str) {
    match denials.iter_mut().find(|d| d.tool == tool) {
        Some(d) => d.count += 1,
        None => denials.push(Denial {
            tool: tool.to_string(),
            count: 1,
        }),
    }
}

/// `Edit ×3, Bash(git commit) ×1 denied — {why}`; `None` when nothing was denied.
pub fn denial_reason(denials: &[Denial], why: &str) -> Option<String> {
    if denials.is_empty() {
        return None;
    }
    let list: Vec<String> = denials
        .iter()
        .map(|d| format!("{} ×{}", d.tool, d.count))
        .collect();
    Some(format!("{} denied — {why}", list.join(", ")))
}

/// One line, at most `max` characters (for messages kept in log entries).
pub fn one_line(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        line
    } else {
        let mut s: String = line.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_are_counted_in_order_and_named_in_the_reason() {
        let mut d = Vec::new();
        for t in ["Edit", "Bash(git commit)", "Edit", "Edit"] {
            add_denial(&mut d, t);
        }
        assert_eq!(
            denial_reason(&d, "the agent command lacks a permission mode").as_deref(),
            Some("Edit ×3, Bash(git commit) ×1 denied — the agent command lacks a permission mode")
        );
        assert_eq!(denial_reason(&[], "x"), None);
    }

    #[test]
    fn resume_time_prefers_the_reset_time() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut l = Limit {
            kind: LimitKind::RateLimit,
            resets_at: None,
            retry_after_secs: Some(30),
            message: String::new(),
        };
        assert_eq!(l.resume_at(now), Some(now + chrono::Duration::seconds(30)));
        l.resets_at = Some(now + chrono::Duration::hours(2));
        assert_eq!(l.resume_at(now), Some(now + chrono::Duration::hours(2)));
        l.resets_at = None;
        l.retry_after_secs = None;
        assert_eq!(l.resume_at(now), None);
    }

    #[test]
    fn serialized_entry_leaves_out_what_is_unknown() {
        let r = AgentResult {
            cost_usd: Some(0.5),
            cost_source: Some(CostSource::Computed),
            ..Default::default()
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"cost_usd": 0.5, "cost_source": "computed", "is_error": false})
        );
    }
}
