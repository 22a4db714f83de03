//! Usage limits, rate limits and overload, in the agents' own words and in HTTP terms (429, 529),
//! with the reset time when the agent says one.
//!
//! Two entry points, because a false alarm pauses the whole fleet:
//! - [`in_error`] reads a text already known to be an error message (Claude's `is_error` result,
//!   a Codex `turn.failed`, a Gemini `error` object) with broad patterns;
//! - [`in_lines`] scans free output (stderr, plain-text agents) and only looks at lines that
//!   carry an unmistakable API-error marker (`rate_limit_error`, `API Error: 429`,
//!   `RateLimitError` …), so a prompt or a diff that merely talks about rate limits is no limit.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use regex::Regex;

use super::result::{Limit, LimitKind, one_line};

fn re(s: &str) -> Regex {
    // The patterns are constants of this file; the unit tests compile every one.
    Regex::new(s).unwrap_or_else(|e| panic!("bad built-in pattern {s}: {e}"))
}

static USAGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)usage_limit_reached|usage limit (has been )?(reached|exceeded)|hit your (usage |session |weekly |daily |5-hour |opus |sonnet )?limit|\b(5-hour|weekly|daily|session) limit reached|\blimit reached\b.*\breset|exceeded your current quota|insufficient_quota|quota exceeded.*per ?day|per ?day.*quota|exhausted your (daily |monthly )?quota|daily quota|out of credits|credit balance is too low",
    )
});
static OVERLOADED: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)overloaded|\b529\b|model_overloaded|server(s)? (are|is) busy"));
static RATE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)rate[ _-]?limit|too many requests|\b429\b|resource_exhausted|quota exceeded|throttl")
});

/// Markers that make a free-output line an API error worth reading.
const LINE_MARKERS: &[&str] = &[
    "rate_limit_error",
    "overloaded_error",
    "usage_limit_reached",
    "ratelimiterror",
    "resource_exhausted",
    "too many requests",
    "api error: 429",
    "api error: 529",
    "error: 429",
    "error: 529",
    "http 429",
    "http 529",
    "status code 429",
    "status code 529",
    "\"code\": 429",
    "\"code\":429",
    "\"status\": 429",
    "\"status\":429",
    "\"status_code\":429",
    "usage limit reached",
    "usage limit has been reached",
    "hit your limit",
    "hit your usage limit",
    "hit your session limit",
    "hit your weekly limit",
    "rate limited you",
    "servers are overloaded",
    "overloadederror",
    "internalservererror",
    "down or overloaded",
];

/// The limit an error message speaks of, if any.
pub fn in_error(text: &str, now: DateTime<Utc>) -> Option<Limit> {
    // Claude Code: "Server is temporarily limiting requests (not your usage limit)"
    let not_usage = text.to_ascii_lowercase().contains("not your usage limit");
    let kind = if USAGE.is_match(text) && !not_usage {
        LimitKind::UsageLimit
    } else if OVERLOADED.is_match(text) {
        LimitKind::Overloaded
    } else if RATE.is_match(text) {
        LimitKind::RateLimit
    } else {
        return None;
    };
    let (resets_at, retry_after_secs) = reset(text, now);
    Some(Limit {
        kind,
        resets_at,
        retry_after_secs,
        message: one_line(text, 300),
    })
}

/// The limit an HTTP status names (429, 529), for agents that report the status apart from the
/// text (Claude Code's `api_error_status`).
pub fn from_status(status: u64, text: &str) -> Option<Limit> {
    let kind = match status {
        429 => LimitKind::RateLimit,
        529 => LimitKind::Overloaded,
        _ => return None,
    };
    Some(Limit {
        kind,
        resets_at: None,
        retry_after_secs: None,
        message: one_line(&format!("HTTP {status}: {text}"), 300),
    })
}

/// The first limit found on a line of free output that carries an API-error marker.
pub fn in_lines(text: &str, now: DateTime<Utc>) -> Option<Limit> {
    text.lines()
        .filter(|l| {
            let low = l.to_ascii_lowercase();
            LINE_MARKERS.iter().any(|m| low.contains(m))
        })
        .find_map(|l| in_error(l, now))
}

static EPOCH_PIPE: LazyLock<Regex> = LazyLock::new(|| re(r"\|(\d{10})\b"));
static RESETS_AT_EPOCH: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)resets_?at\\*"?\s*[:=]\s*\\*"?(\d{10})\b"#));
/// Anthropic's unified (plan) limit reset, an epoch in a response header some agents pass on.
static UNIFIED_RESET: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)ratelimit-unified-reset\\*"?\s*[:=]\s*\\*"?(\d{10})\b"#));
static RESETS_AT_ISO: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?i)resets_?at"?\s*[:=]\s*"(\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d))""#)
});
static RESETS_IN: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)resets_in_seconds\\*"?\s*[:=]\s*(\d+)"#));
static RETRY_AFTER: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)retry[-_ ]after\\*"?\s*[:=]\s*\\*"?(\d+)\b"#));
static RETRY_DELAY: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)retryDelay\\*"?\s*:\s*\\*"(\d+(?:\.\d+)?)s\\*""#));
static RETRY_IN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:retry|try again|reset|resets|available again) in (\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b",
    )
});
static TRY_AGAIN_AT: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)try again at ([A-Za-z]{3,9} \d{1,2}(?:st|nd|rd|th)?,? \d{4},? \d{1,2}:\d\d ?[AP]M)")
});
/// Codex: "… or try again at 11:03 PM." — a local time of day (measured, 0.171.0).
static TRY_AGAIN_CLOCK: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)try again at (\d{1,2})(?::(\d\d))? ?([AP]M)\b"));
static RESETS_CLOCK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)resets? (?:at )?(?:([A-Za-z]{3,9}) (\d{1,2}),? (?:at )?)?(\d{1,2})(?::(\d\d))?\s*(am|pm)(?:\s*\(([^)]+)\))?",
    )
});

/// The reset time (absolute) or the wait (seconds) a limit message names.
fn reset(text: &str, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, Option<u64>) {
    let epoch = |c: regex::Captures| {
        c[1].parse::<i64>()
            .ok()
            .and_then(|s| Utc.timestamp_opt(s, 0).single())
    };
    if let Some(t) = EPOCH_PIPE.captures(text).and_then(epoch) {
        return (Some(t), None);
    }
    if let Some(t) = RESETS_AT_EPOCH.captures(text).and_then(epoch) {
        return (Some(t), None);
    }
    if let Some(t) = UNIFIED_RESET.captures(text).and_then(epoch) {
        return (Some(t), None);
    }
    if let Some(t) = RESETS_AT_ISO
        .captures(text)
        .and_then(|c| DateTime::parse_from_rfc3339(&c[1]).ok())
    {
        return (Some(t.with_timezone(&Utc)), None);
    }
    for r in [&*RESETS_IN, &*RETRY_AFTER] {
        if let Some(s) = r.captures(text).and_then(|c| c[1].parse::<u64>().ok()) {
            return (None, Some(s));
        }
    }
    if let Some(s) = RETRY_DELAY
        .captures(text)
        .and_then(|c| c[1].parse::<f64>().ok())
    {
        return (None, Some(s.ceil() as u64));
    }
    if let Some(c) = RETRY_IN.captures(text)
        && let Ok(n) = c[1].parse::<f64>()
    {
        let unit = c[2].to_ascii_lowercase();
        let secs = if unit.starts_with("ms") || unit.starts_with("milli") {
            n / 1000.0
        } else if unit.starts_with('m') {
            n * 60.0
        } else if unit.starts_with('h') {
            n * 3600.0
        } else {
            n
        };
        return (None, Some(secs.ceil() as u64));
    }
    if let Some(t) = TRY_AGAIN_AT.captures(text).and_then(|c| local_date(&c[1])) {
        return (Some(t), None);
    }
    if let Some(t) = TRY_AGAIN_CLOCK
        .captures(text)
        .and_then(|c| next_local(&c[1], c.get(2).map(|m| m.as_str()), &c[3], now))
    {
        return (Some(t), None);
    }
    if let Some(t) = RESETS_CLOCK.captures(text).and_then(|c| clock(&c, now)) {
        return (Some(t), None);
    }
    (None, None)
}

/// "Apr 28th, 2026 10:03 PM" in this machine's time zone (where the agent ran).
fn local_date(s: &str) -> Option<DateTime<Utc>> {
    static ORDINAL: LazyLock<Regex> = LazyLock::new(|| re(r"(\d)(st|nd|rd|th)\b"));
    let s = ORDINAL.replace_all(s, "$1").replace(',', "");
    let s = s
        .replace("AM", " AM")
        .replace("PM", " PM")
        .replace("  ", " ");
    ["%b %d %Y %I:%M %p", "%B %d %Y %I:%M %p"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&s, f).ok())
        .and_then(|n| Local.from_local_datetime(&n).earliest())
        .map(|t| t.with_timezone(&Utc))
}

/// The next instant, after `now`, at that local time of day.
fn next_local(
    hour: &str,
    minute: Option<&str>,
    ampm: &str,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let time = twelve_hour(hour, minute, ampm)?;
    let today = now.with_timezone(&Local).date_naive();
    [today, today + chrono::Duration::days(1)]
        .into_iter()
        .filter_map(|d| Local.from_local_datetime(&d.and_time(time)).earliest())
        .map(|t| t.with_timezone(&Utc))
        .find(|t| *t > now)
}

/// `11`, `03`, `PM` → 23:03.
fn twelve_hour(hour: &str, minute: Option<&str>, ampm: &str) -> Option<NaiveTime> {
    let mut h: u32 = hour.parse().ok()?;
    let m: u32 = minute.map_or(Some(0), |m| m.parse().ok())?;
    if h == 0 || h > 12 {
        return None;
    }
    if h == 12 {
        h = 0;
    }
    if ampm.eq_ignore_ascii_case("pm") {
        h += 12;
    }
    NaiveTime::from_hms_opt(h, m, 0)
}

/// "resets 6pm (UTC)", "resets Apr 23 at 4pm (UTC)", "resets at 9am": the next such instant. A
/// named zone other than UTC cannot be converted without a zone database: no reset time then
/// (the scheduler backs off instead of guessing).
fn clock(c: &regex::Captures, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let time = twelve_hour(&c[3], c.get(4).map(|m| m.as_str()), &c[5])?;
    let zone = c.get(6).map(|m| m.as_str().trim());
    let to_utc = |n: NaiveDateTime| -> Option<DateTime<Utc>> {
        match zone {
            Some("UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Z") => Some(Utc.from_utc_datetime(&n)),
            Some(_) => None,
            None => Local
                .from_local_datetime(&n)
                .earliest()
                .map(|t| t.with_timezone(&Utc)),
        }
    };
    if let (Some(mon), Some(day)) = (c.get(1), c.get(2)) {
        let day: u32 = day.as_str().parse().ok()?;
        let on = |year: i32| {
            NaiveDate::parse_from_str(&format!("{} {day} {year}", mon.as_str()), "%b %d %Y")
                .ok()
                .and_then(|d| to_utc(d.and_time(time)))
        };
        let t = on(now.year())?;
        // "Jan 2" read on Dec 30 is next year's
        return if t + chrono::Duration::days(1) < now {
            on(now.year() + 1)
        } else {
            Some(t)
        };
    }
    let today = to_utc(now.date_naive().and_time(time))?;
    if today > now {
        Some(today)
    } else {
        to_utc((now.date_naive() + chrono::Duration::days(1)).and_time(time))
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
