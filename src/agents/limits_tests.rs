use super::*;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-04T20:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn every_pattern_compiles() {
    for r in [
        &*USAGE,
        &*OVERLOADED,
        &*RATE,
        &*EPOCH_PIPE,
        &*RESETS_AT_EPOCH,
        &*UNIFIED_RESET,
        &*RESETS_AT_ISO,
        &*RESETS_IN,
        &*RETRY_AFTER,
        &*RETRY_DELAY,
        &*RETRY_IN,
        &*TRY_AGAIN_AT,
        &*TRY_AGAIN_CLOCK,
        &*RESETS_CLOCK,
    ] {
        assert!(!r.as_str().is_empty());
    }
}

#[test]
fn claude_usage_limit_with_epoch() {
    let l = in_error("Claude AI usage limit reached|1762952400", now()).unwrap();
    assert_eq!(l.kind, LimitKind::UsageLimit);
    assert_eq!(l.resets_at.unwrap().timestamp(), 1762952400);
}

#[test]
fn claude_limit_with_clock_time() {
    let l = in_error("You've hit your limit · resets 11pm (UTC)", now()).unwrap();
    assert_eq!(l.kind, LimitKind::UsageLimit);
    assert_eq!(
        l.resets_at.unwrap().to_rfc3339(),
        "2026-12-04T23:00:00+00:00"
    );
    let l = in_error("You've hit your limit · resets 3:30am (UTC)", now()).unwrap();
    assert_eq!(
        l.resets_at.unwrap().to_rfc3339(),
        "2026-12-05T03:30:00+00:00"
    );
    let l = in_error("You've hit your limit · resets Dec 6 at 4pm (UTC)", now()).unwrap();
    assert_eq!(
        l.resets_at.unwrap().to_rfc3339(),
        "2026-12-06T16:00:00+00:00"
    );
    // a zone we cannot convert: a limit without a reset time, never a wrong one
    let l = in_error(
        "You've hit your limit · resets 6pm (America/Toronto)",
        now(),
    )
    .unwrap();
    assert_eq!(l.resets_at, None);
}

#[test]
fn anthropic_api_errors() {
    let l = in_error(
        r#"API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed your account's rate limit. Please try again later."}}"#,
        now(),
    )
    .unwrap();
    assert_eq!(l.kind, LimitKind::RateLimit);
    let l = in_error(
        r#"API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        now(),
    )
    .unwrap();
    assert_eq!(l.kind, LimitKind::Overloaded);
}

#[test]
fn codex_usage_limit_json_and_wording() {
    let l = in_error(
        r#"{"type":"error","error":{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_at":1777936568,"resets_in_seconds":13872},"status_code":429}"#,
        now(),
    )
    .unwrap();
    assert_eq!(l.kind, LimitKind::UsageLimit);
    assert_eq!(l.resets_at.unwrap().timestamp(), 1777936568);
    let l = in_error(
        "You've hit your usage limit. Upgrade to Pro or try again at Dec 5th, 2026 10:03 PM.",
        now(),
    )
    .unwrap();
    let want = Local
        .from_local_datetime(
            &NaiveDateTime::parse_from_str("2026-12-05 22:03", "%Y-%m-%d %H:%M").unwrap(),
        )
        .earliest()
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(l.resets_at, Some(want));
    let l = in_error(
        "exceeded retry limit, last status: 429 Too Many Requests, request id: abc",
        now(),
    )
    .unwrap();
    assert_eq!(l.kind, LimitKind::RateLimit);
    assert_eq!(l.resets_at, None);
}

#[test]
fn codex_time_of_day_is_the_next_such_local_time() {
    let l = in_error(
        "You’ve hit your usage limit. … or try again at 11:03 PM.",
        now(),
    )
    .unwrap();
    assert_eq!(l.kind, LimitKind::UsageLimit);
    let t = l.resets_at.unwrap();
    assert!(t > now() && t <= now() + chrono::Duration::days(1), "{t}");
    let local = t.with_timezone(&Local);
    assert_eq!(local.format("%H:%M").to_string(), "23:03");
}

#[test]
fn claude_says_when_it_is_not_the_usage_limit() {
    let l = in_error(
        "API Error: Server is temporarily limiting requests (not your usage limit) · Rate limit \
         reached: usage limit exceeded for this key",
        now(),
    )
    .unwrap();
    assert_eq!(l.kind, LimitKind::RateLimit);
}

#[test]
fn gemini_quota_with_retry_delay() {
    let l = in_error(
        r#"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED","details":[{"retryDelay":"23.4s"}]}}"#,
        now(),
    )
    .unwrap();
    assert_eq!(l.kind, LimitKind::RateLimit);
    assert_eq!(l.retry_after_secs, Some(24));
    let l = in_error(
        "Quota exceeded for quota metric 'requests per day'. Please retry in 2h.",
        now(),
    )
    .unwrap();
    assert_eq!(l.kind, LimitKind::UsageLimit);
    assert_eq!(l.retry_after_secs, Some(7200));
}

#[test]
fn free_output_needs_an_error_marker() {
    let prompt = "Task: add a rate limit to the API; return 429 when overloaded.\n";
    assert_eq!(in_lines(prompt, now()), None);
    let out = format!(
        "{prompt}litellm.RateLimitError: AnthropicException - rate limit exceeded, retry-after: 17\n"
    );
    let l = in_lines(&out, now()).unwrap();
    assert_eq!(l.kind, LimitKind::RateLimit);
    assert_eq!(l.retry_after_secs, Some(17));
    assert!(l.message.starts_with("litellm.RateLimitError"));
}

#[test]
fn no_limit_in_ordinary_errors() {
    assert_eq!(
        in_error(
            "error_max_turns: reached the maximum number of turns",
            now()
        ),
        None
    );
    assert_eq!(in_error("API Error: 401 invalid x-api-key", now()), None);
}
