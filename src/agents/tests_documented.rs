//! The parsers on `documented-*` fixtures (see `tests_real.rs` for what is real), on merged
//! streams, and with prices from the config.

use chrono::{Local, NaiveDateTime, TimeZone, Utc};

use super::tests::{close, fixture, now, preset};
use super::*;

// ---- results: documented formats ----

#[test]
fn codex_documented_edit_costs_from_the_price_table() {
    let r = preset(PresetKind::Codex).parse_result_at(
        fixture!("codex/documented-edit.stdout"),
        fixture!("codex/documented-edit.stderr"),
        now(),
    );
    assert_eq!(
        r.session_id.as_deref(),
        Some("0199a213-81c0-7800-8aa1-bbab2a035a53")
    );
    assert_eq!(r.input_tokens, Some(24763));
    assert_eq!(r.cached_input_tokens, Some(24448));
    assert_eq!(r.output_tokens, Some(122));
    assert_eq!(r.turns, Some(1));
    // (315 × 1.25 + 24448 × 0.125 + 122 × 10) / 1e6
    assert!(close(r.cost_usd, 0.00466975), "{:?}", r.cost_usd);
    assert_eq!(r.cost_source, Some(CostSource::Computed));
    // a retried 429 before the turn completed, and the prompt echoed on stderr, are no limit
    assert!(!r.is_error && r.limit.is_none(), "{r:?}");
    assert_eq!(
        r.answer.as_deref(),
        Some("Fixed the off-by-one in src/lib.rs.\nVERDICT: done")
    );
}

#[test]
fn codex_documented_usage_limit_with_reset_time() {
    let r = preset(PresetKind::Codex).parse_result_at(
        fixture!("codex/documented-usage-limit.stdout"),
        "",
        now(),
    );
    assert!(r.is_error);
    assert_eq!(r.error_kind.as_deref(), Some("turn_failed"));
    let l = r.limit.unwrap();
    assert_eq!(l.kind, LimitKind::UsageLimit);
    let want = Local
        .from_local_datetime(
            &NaiveDateTime::parse_from_str("2026-12-05 22:03", "%Y-%m-%d %H:%M").unwrap(),
        )
        .earliest()
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(l.resets_at, Some(want));
    // a crash before any JSON: the error on stderr counts
    let r = preset(PresetKind::Codex).parse_result_at(
        "",
        "ERROR: exceeded retry limit, last status: 429 Too Many Requests\n",
        now(),
    );
    assert_eq!(r.limit.unwrap().kind, LimitKind::RateLimit);
}

#[test]
fn gemini_documented_edit_and_denial() {
    let p = preset(PresetKind::Gemini);
    let r = p.parse_result_at(fixture!("gemini/documented-edit.stdout"), "", now());
    assert_eq!(r.input_tokens, Some(24939));
    assert_eq!(r.cached_input_tokens, Some(21263));
    assert_eq!(r.output_tokens, Some(174));
    assert_eq!(r.turns, Some(3));
    assert_eq!(r.model.as_deref(), Some("gemini-2.5-pro"));
    // (3676 × 1.25 + 21263 × 0.31 + 174 × 10) / 1e6
    assert!(close(r.cost_usd, 0.01292653), "{:?}", r.cost_usd);
    assert_eq!(
        r.answer.as_deref(),
        Some("I replaced the greeting in src/app.ts.")
    );
    assert_eq!(
        p.denial_reason(&r.denials).as_deref(),
        Some(
            "run_shell_command ×1 denied — the agent command does not allow them \
             (--approval-mode auto_edit for edits, --allowed-tools \
             'run_shell_command(<prefix>)' for commands)"
        )
    );
}

#[test]
fn gemini_documented_quota_error() {
    let r = preset(PresetKind::Gemini).parse_result_at(
        fixture!("gemini/documented-quota.stdout"),
        "",
        now(),
    );
    assert!(r.is_error);
    assert_eq!(r.error_kind.as_deref(), Some("ApiError"));
    let l = r.limit.unwrap();
    assert_eq!(l.kind, LimitKind::RateLimit);
    assert_eq!(l.retry_after_secs, Some(37));
}

#[test]
fn opencode_documented_edit() {
    let p = preset(PresetKind::Opencode);
    let r = p.parse_result_at(fixture!("opencode/documented-edit.stdout"), "", now());
    assert!(close(r.cost_usd, 0.0174), "{:?}", r.cost_usd);
    assert_eq!(r.cost_source, Some(CostSource::Reported));
    assert_eq!(r.input_tokens, Some(2000));
    assert_eq!(r.cached_input_tokens, Some(7200));
    assert_eq!(r.output_tokens, Some(110));
    assert_eq!(r.turns, Some(2));
    assert_eq!(
        r.session_id.as_deref(),
        Some("ses_494719016ffe85dkDMj0FPRbHK")
    );
    assert_eq!(
        r.denials,
        vec![Denial {
            tool: "bash".into(),
            count: 1
        }]
    );
    assert_eq!(
        r.answer.as_deref(),
        Some("Done: the greeting now says hello, world.")
    );
    assert!(!r.is_error);
}

#[test]
fn opencode_documented_rate_limit() {
    let r = preset(PresetKind::Opencode).parse_result_at(
        fixture!("opencode/documented-rate-limit.stdout"),
        "",
        now(),
    );
    assert!(r.is_error);
    assert_eq!(r.error_kind.as_deref(), Some("APIError"));
    let l = r.limit.unwrap();
    assert_eq!(l.kind, LimitKind::RateLimit);
    assert_eq!(l.retry_after_secs, Some(30));
}

#[test]
fn aider_documented_edit_and_rate_limit() {
    let p = preset(PresetKind::Aider);
    let r = p.parse_result_at(fixture!("aider/documented-edit.stdout"), "", now());
    assert!(close(r.cost_usd, 0.0362), "{:?}", r.cost_usd);
    assert_eq!(r.turns, Some(2));
    assert_eq!(r.input_tokens, Some(11300));
    assert_eq!(r.cached_input_tokens, Some(1500));
    assert_eq!(r.output_tokens, Some(236));
    assert_eq!(
        r.model.as_deref(),
        Some("anthropic/claude-sonnet-4-5-20250929")
    );
    assert!(r.limit.is_none());
    let r = p.parse_result_at(fixture!("aider/documented-rate-limit.stdout"), "", now());
    let l = r.limit.unwrap();
    assert_eq!(l.kind, LimitKind::RateLimit);
    assert!(r.is_error);
    // a limit aider retried past, with an answer after it, is no limit
    let retried = format!(
        "{}Tokens: 1k sent, 10 received. Cost: $0.01 message, $0.01 session.\n",
        fixture!("aider/documented-rate-limit.stdout")
    );
    assert!(p.parse_result_at(&retried, "", now()).limit.is_none());
}

#[test]
fn custom_reads_claude_json_or_keeps_plain_text() {
    let p = Preset::from_config(None, "./my-agent.sh").unwrap();
    assert_eq!(p.kind(), PresetKind::Custom);
    let r = p.parse_result_at(fixture!("claude/edit.stdout"), "", now());
    assert!(close(r.cost_usd, 0.352455));
    let r = p.parse_result_at("VERDICT: approve\n", "", now());
    assert_eq!(r.answer.as_deref(), Some("VERDICT: approve\n"));
    assert_eq!(r.cost_usd, None);
    let r = p.parse_result_at(
        "",
        "API Error: 529 {\"type\":\"overloaded_error\"}\n",
        now(),
    );
    assert_eq!(r.limit.unwrap().kind, LimitKind::Overloaded);
}

/// Today's runner merges stderr into stdout: every parser reads the same figures from the merged
/// stream (stderr lines before and after the agent's JSON).
#[test]
fn merged_stdout_and_stderr_read_the_same() {
    let noise_before = "Loaded cached credentials.\nWARNING: proceeding\n";
    let noise_after = "[debug] shutting down\n";
    let cases: [(PresetKind, &str, &str); 6] = [
        (PresetKind::Claude, fixture!("claude/edit.stdout"), ""),
        (PresetKind::Claude, fixture!("claude/denied.stdout"), ""),
        (
            PresetKind::Codex,
            fixture!("codex/documented-edit.stdout"),
            fixture!("codex/documented-edit.stderr"),
        ),
        (
            PresetKind::Gemini,
            fixture!("gemini/documented-edit.stdout"),
            "",
        ),
        (
            PresetKind::Opencode,
            fixture!("opencode/documented-edit.stdout"),
            "",
        ),
        (
            PresetKind::Aider,
            fixture!("aider/documented-edit.stdout"),
            "",
        ),
    ];
    for (kind, stdout, stderr) in cases {
        let p = preset(kind);
        let apart = p.parse_result_at(stdout, stderr, now());
        let merged = format!("{noise_before}{stderr}{stdout}{noise_after}");
        let mut together = p.parse_result_at(&merged, "", now());
        if kind == PresetKind::Aider {
            together.answer.clone_from(&apart.answer);
        }
        assert_eq!(together, apart, "{kind:?}");
        assert!(apart.cost_usd.is_some(), "{kind:?}");
    }
}

#[test]
fn prices_from_config_reach_the_parser() {
    let cfg: PricesConfig = toml::from_str(
        "[\"gpt-5-codex\"]\ninput_usd_per_mtok = 0.0\noutput_usd_per_mtok = 1000000.0\n",
    )
    .unwrap();
    let p = preset(PresetKind::Codex).with_prices(Prices::with_overrides(&cfg).unwrap());
    let r = p.parse_result_at(fixture!("codex/documented-edit.stdout"), "", now());
    assert!(close(r.cost_usd, 122.0), "{:?}", r.cost_usd);
}

#[test]
fn claude_denial_labels() {
    let p = preset(PresetKind::Claude);
    let out = r#"{"type":"result","subtype":"success","is_error":false,"permission_denials":[
        {"tool_name":"Bash","tool_input":{"command":"curl http://example.com"}},
        {"tool_name":"Bash","tool_input":{"command":"git -C x commit"}},
        {"tool_name":"Bash","tool_input":{"command":"npm run test"}},
        {"tool_name":"Edit","tool_input":{"file_path":"a"}},
        {"tool_name":"Edit","tool_input":{"file_path":"b"}}]}"#;
    let r = p.parse_result_at(out, "", now());
    let labels: Vec<(&str, u32)> = r
        .denials
        .iter()
        .map(|d| (d.tool.as_str(), d.count))
        .collect();
    assert_eq!(
        labels,
        vec![
            ("Bash(curl)", 1),
            ("Bash(git)", 1),
            ("Bash(npm run)", 1),
            ("Edit", 2)
        ]
    );
}

#[test]
fn claude_usage_limit_text_and_529_status() {
    let p = preset(PresetKind::Claude);
    let out = r#"{"type":"result","subtype":"success","is_error":true,"num_turns":1,"result":"Claude AI usage limit reached|1765000000","total_cost_usd":0}"#;
    let l = p.parse_result_at(out, "", now()).limit.unwrap();
    assert_eq!(l.kind, LimitKind::UsageLimit);
    assert_eq!(l.resets_at.unwrap().timestamp(), 1765000000);
    let out = r#"{"type":"result","subtype":"success","is_error":true,"api_error_status":529,"result":"API Error: Repeated 529 responses","total_cost_usd":0}"#;
    assert_eq!(
        p.parse_result_at(out, "", now()).limit.unwrap().kind,
        LimitKind::Overloaded
    );
    // a successful answer that talks about rate limits is no limit
    let out = r#"{"type":"result","subtype":"success","is_error":false,"result":"Added a 429 rate limit (rate_limit_error) to the API."}"#;
    assert_eq!(p.parse_result_at(out, "", now()).limit, None);
    let out = r#"{"type":"result","subtype":"error_max_turns","is_error":false,"num_turns":30}"#;
    assert_eq!(
        p.parse_result_at(out, "", now()).error_kind.as_deref(),
        Some("error_max_turns")
    );
}
