//! `brl review`, `brl standup`, `brl doctor`: one run of the job in the foreground, then a
//! summary a person reads (`--json`: the log entry's data).

use std::io::IsTerminal;

use serde_json::Value;

use crate::home::Home;
use crate::jobs::{self, Job};

pub fn run(home: &Home, job: Job, json: bool) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    let stop = super::stop_flag()?;
    let echo = std::io::stdout().is_terminal();
    let data = jobs::run(home, &config, job, echo, Some(&stop))?;
    // say!, not println!: these commands ignore SIGPIPE (they run agents), so a closed stdout
    // must not panic.
    if json {
        crate::say!("{}", serde_json::to_string_pretty(&data)?);
    } else {
        // The summary quotes what agents wrote (reports, verdicts, reasons): escaped.
        for line in summary(job, &data) {
            crate::say!("{}", crate::term::safe_line(&line));
        }
    }
    Ok(0)
}

/// The entry's data in lines: its summary (or note) first, then each other field in words —
/// lists with their length and first items, maps as `key: value`.
pub fn summary(job: Job, data: &Value) -> Vec<String> {
    let mut out = vec![format!("{}: done", job.name())];
    let Some(obj) = data.as_object() else {
        out.push(format!("  {}", short(data, 200)));
        return out;
    };
    for key in ["summary", "note"] {
        if let Some(v) = obj.get(key).and_then(Value::as_str) {
            out.push(format!("  {v}"));
        }
    }
    for (key, v) in obj {
        if matches!(key.as_str(), "summary" | "note") {
            continue;
        }
        let line = match v {
            Value::Null => continue,
            Value::Array(items) if items.is_empty() => format!("{key}: none"),
            Value::Array(items) => {
                let first: Vec<String> = items.iter().take(5).map(|i| short(i, 80)).collect();
                let more = items.len().saturating_sub(5);
                format!(
                    "{key}: {} — {}{}",
                    items.len(),
                    first.join("; "),
                    if more > 0 {
                        format!("; … {more} more")
                    } else {
                        String::new()
                    }
                )
            }
            Value::Object(m) if m.is_empty() => format!("{key}: none"),
            Value::Object(m) => {
                out.push(format!("  {key}:"));
                for (k, v) in m.iter().take(30) {
                    out.push(format!("    {k}: {}", short(v, 120)));
                }
                continue;
            }
            other => format!("{key}: {}", short(other, 120)),
        };
        out.push(format!("  {line}"));
    }
    out
}

/// A value in one line of at most `max` characters (strings without their quotes).
fn short(v: &Value, max: usize) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", short(v, 40)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    let text = text.replace('\n', " ");
    if text.chars().count() > max {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_reads_as_lines() {
        let data = serde_json::json!({
            "mode": "advisory", "pending": 2, "stale": [], "conflict": ["brl/s1/x"],
            "verdicts": {"brl/s2/y": "approve"}, "decisions": [],
        });
        let lines = summary(Job::Review, &data);
        assert_eq!(lines[0], "review: done");
        assert!(
            lines.contains(&"  conflict: 1 — brl/s1/x".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"    brl/s2/y: approve".to_string()),
            "{lines:?}"
        );
        assert!(lines.contains(&"  stale: none".to_string()), "{lines:?}");
    }
}
