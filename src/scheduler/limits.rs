//! Agent limits: when an agent says it hit a usage or rate limit (or the API is overloaded), no
//! session using that agent gets a cycle until the reset time the agent reported, else until a
//! back-off (60 s doubling to 30 min, reset by a cycle that ran without a limit) has passed; then
//! the fleet resumes by itself.
//!
//! The state lives in one small file, `logs/control/agent-limits.json` (written crash-safely under
//! its lock): per preset, the limit and how many limits in a row it hit. The cycle that hits a
//! limit records it ([`record`]) and logs one `agent_limited` entry only when the agent was not
//! already limited; the scheduler asks [`active`] before granting; the dashboard and `brl status`
//! show [`describe`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Duration, Local, Utc};
use serde::{Deserialize, Serialize};

use crate::agents::{Limit, LimitKind};
use crate::home::Home;
use crate::store::state::{StateError, StateFile};

/// First back-off when the agent gave no reset time.
pub const BACKOFF_FIRST_SECS: i64 = 60;
/// The longest back-off.
pub const BACKOFF_MAX_SECS: i64 = 30 * 60;
const VERSION: u32 = 1;

/// One agent's limit, as the state file keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentLimit {
    /// The preset's name (`claude`, `codex`, …).
    pub preset: String,
    /// `usage_limit`, `rate_limit` or `overloaded` ([`LimitKind`]).
    pub kind: String,
    /// No cycle for this agent before this time.
    pub resume_at: DateTime<Utc>,
    /// `agent` when the agent said when the limit resets, `backoff` when brl guessed.
    pub resume_source: ResumeSource,
    /// The agent's own words.
    pub message: String,
    /// When it was hit.
    pub since: DateTime<Utc>,
    /// Limits hit in a row without a cycle that ran clear (sizes the back-off).
    pub strikes: u32,
    /// The session whose cycle hit it.
    #[serde(default)]
    pub session: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResumeSource {
    Agent,
    Backoff,
}

impl AgentLimit {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        now < self.resume_at
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LimitsFile {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    agents: BTreeMap<String, AgentLimit>,
}

/// The name a limit's kind has in the state file and the log.
pub fn kind_name(k: LimitKind) -> &'static str {
    match k {
        LimitKind::UsageLimit => "usage_limit",
        LimitKind::RateLimit => "rate_limit",
        LimitKind::Overloaded => "overloaded",
    }
}

/// The back-off after `strikes` limits in a row (1 = the first): 60 s, 120 s, … at most 30 min.
pub fn backoff_secs(strikes: u32) -> i64 {
    let doublings = strikes.saturating_sub(1).min(20);
    (BACKOFF_FIRST_SECS << doublings).min(BACKOFF_MAX_SECS)
}

/// The limit to keep after `limit` was hit at `now` by `preset`, given what was kept before
/// (pure). The second value says whether this is news (the agent was not limited at `now`):
/// only news gets an `agent_limited` entry and a notification.
pub fn next(
    before: Option<&AgentLimit>,
    preset: &str,
    limit: &Limit,
    session: Option<&str>,
    now: DateTime<Utc>,
) -> (AgentLimit, bool) {
    let news = before.is_none_or(|b| !b.is_active(now));
    let strikes = before.map_or(0, |b| b.strikes).saturating_add(1);
    let (resume_at, resume_source) = match limit.resume_at(now) {
        Some(t) if t > now => (t, ResumeSource::Agent),
        _ => (
            now + Duration::seconds(backoff_secs(strikes)),
            ResumeSource::Backoff,
        ),
    };
    // Two sessions limited at once: keep the later resume time.
    let (resume_at, resume_source) = match before {
        Some(b) if b.is_active(now) && b.resume_at > resume_at => (b.resume_at, b.resume_source),
        _ => (resume_at, resume_source),
    };
    let kept = AgentLimit {
        preset: preset.to_string(),
        kind: kind_name(limit.kind).to_string(),
        resume_at,
        resume_source,
        message: limit.message.clone(),
        since: if news {
            now
        } else {
            before.map_or(now, |b| b.since)
        },
        strikes,
        session: session.map(str::to_string),
    };
    (kept, news)
}

/// The limit that stops `preset` at `now`, from the kept limits (pure).
pub fn active_in<'a>(
    limits: &'a [AgentLimit],
    preset: &str,
    now: DateTime<Utc>,
) -> Option<&'a AgentLimit> {
    limits
        .iter()
        .find(|l| l.preset == preset && l.is_active(now))
}

/// "agent claude limited (usage limit) until 23:03" (local time; the date too when not today).
pub fn describe(l: &AgentLimit, now: DateTime<Utc>) -> String {
    let kind = match l.kind.as_str() {
        "usage_limit" => "usage limit",
        "rate_limit" => "rate limit",
        "overloaded" => "API overloaded",
        other => other,
    };
    let at = l.resume_at.with_timezone(&Local);
    let when = if at.date_naive() == now.with_timezone(&Local).date_naive() {
        at.format("%H:%M:%S").to_string()
    } else {
        at.format("%Y-%m-%d %H:%M").to_string()
    };
    let how = match l.resume_source {
        ResumeSource::Agent => "",
        ResumeSource::Backoff => ", backing off",
    };
    format!("agent {} limited ({kind}) until {when}{how}", l.preset)
}

fn file(home: &Home) -> StateFile {
    StateFile {
        path: path(home),
        what: "agent limits file",
        version: VERSION,
        hint: "; it only pauses the scheduler until an agent's limit resets",
    }
}

/// Where the limits are kept.
pub fn path(home: &Home) -> PathBuf {
    home.control_dir().join("agent-limits.json")
}

/// Every kept limit (active or past); none when the file does not exist.
pub fn load(home: &Home) -> Result<Vec<AgentLimit>, StateError> {
    Ok(file(home)
        .read::<LimitsFile>()?
        .map(|f| f.agents.into_values().collect())
        .unwrap_or_default())
}

/// The limit stopping `preset` now, if any (a file that cannot be read stops nothing; the
/// error is returned for the caller to show).
pub fn active(
    home: &Home,
    preset: &str,
    now: DateTime<Utc>,
) -> Result<Option<AgentLimit>, StateError> {
    Ok(active_in(&load(home)?, preset, now).cloned())
}

/// Every agent limited at `now`, in words ([`describe`]), for the dashboard and `brl status`;
/// a limits file that cannot be read is said so (it stops nothing).
pub fn lines(home: &Home, now: DateTime<Utc>) -> Vec<String> {
    match load(home) {
        Ok(all) => all
            .iter()
            .filter(|l| l.is_active(now))
            .map(|l| describe(l, now))
            .collect(),
        Err(e) => vec![format!("agent limits unknown: {e}")],
    }
}

/// Record that `preset` hit `limit` at `now`; returns the kept limit and whether it is news.
pub fn record(
    home: &Home,
    preset: &str,
    limit: &Limit,
    session: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(AgentLimit, bool), StateError> {
    std::fs::create_dir_all(home.control_dir()).map_err(|source| StateError::Io {
        what: "agent limits file",
        path: path(home),
        source,
    })?;
    file(home).update(LimitsFile::default, |f: &mut LimitsFile| {
        let (kept, news) = next(f.agents.get(preset), preset, limit, session, now);
        f.agents.insert(preset.to_string(), kept.clone());
        Ok((kept, news))
    })
}

/// A cycle of `preset` ran without hitting a limit: the back-off starts again from 60 s. Only
/// writes when there is something to clear.
pub fn clear(home: &Home, preset: &str) -> Result<(), StateError> {
    let f = file(home);
    let has = f
        .read::<LimitsFile>()?
        .is_some_and(|l| l.agents.contains_key(preset));
    if has {
        f.update(LimitsFile::default, |l: &mut LimitsFile| {
            l.agents.remove(preset);
            Ok(())
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("ts")
            .with_timezone(&Utc)
    }

    fn limit(resets_at: Option<&str>) -> Limit {
        Limit {
            kind: LimitKind::UsageLimit,
            resets_at: resets_at.map(t),
            retry_after_secs: None,
            message: "usage limit reached".into(),
        }
    }

    #[test]
    fn backoff_doubles_from_a_minute_to_half_an_hour() {
        let secs: Vec<i64> = (1..=7).map(backoff_secs).collect();
        assert_eq!(secs, vec![60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(backoff_secs(u32::MAX), 1800);
    }

    #[test]
    fn the_reset_time_wins_else_back_off_grows_and_news_is_once() {
        let now = t("2026-12-04T20:00:00Z");
        let (a, news) = next(
            None,
            "claude",
            &limit(Some("2026-12-04T23:03:00Z")),
            Some("s1"),
            now,
        );
        assert!(news);
        assert_eq!(a.resume_at, t("2026-12-04T23:03:00Z"));
        assert_eq!(a.resume_source, ResumeSource::Agent);
        // s2 is limited too a second later: not news, the same resume time.
        let later = now + Duration::seconds(1);
        let (b, news) = next(Some(&a), "claude", &limit(None), Some("s2"), later);
        assert!(!news);
        assert_eq!(b.resume_at, a.resume_at);
        assert_eq!(b.since, now);
        // After the reset, a limit without a time: a back-off sized by the strikes (3rd).
        let after = t("2026-12-04T23:04:00Z");
        let (c, news) = next(Some(&b), "claude", &limit(None), None, after);
        assert!(news);
        assert_eq!(c.strikes, 3);
        assert_eq!(c.resume_at, after + Duration::seconds(240));
        assert_eq!(c.resume_source, ResumeSource::Backoff);
        // A reset time already past counts as none.
        let (d, _) = next(
            None,
            "codex",
            &limit(Some("2026-12-04T19:00:00Z")),
            None,
            now,
        );
        assert_eq!(d.resume_at, now + Duration::seconds(60));
    }

    #[test]
    fn only_the_limited_agent_and_only_until_it_resumes() {
        let now = t("2026-12-04T20:00:00Z");
        let (a, _) = next(
            None,
            "claude",
            &limit(Some("2026-12-04T20:05:00Z")),
            None,
            now,
        );
        let all = vec![a];
        assert!(active_in(&all, "claude", now).is_some());
        assert!(active_in(&all, "codex", now).is_none());
        assert!(active_in(&all, "claude", t("2026-12-04T20:05:00Z")).is_none());
        let text = describe(&all[0], now);
        assert!(
            text.starts_with("agent claude limited (usage limit) until "),
            "{text}"
        );
    }

    #[test]
    fn the_file_records_and_clears() {
        let tmp = tempfile::tempdir().expect("tmp");
        let home = Home::new(tmp.path());
        let now = Utc::now();
        assert!(active(&home, "claude", now).expect("read").is_none());
        let (_, news) = record(&home, "claude", &limit(None), Some("s1"), now).expect("record");
        assert!(news);
        let (_, news) = record(&home, "claude", &limit(None), Some("s2"), now).expect("record");
        assert!(!news);
        let a = active(&home, "claude", now)
            .expect("read")
            .expect("limited");
        assert_eq!(a.strikes, 2);
        clear(&home, "claude").expect("clear");
        assert!(load(&home).expect("read").is_empty());
    }
}
