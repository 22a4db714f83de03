//! Each parser on REAL captured output.
//!
//! Fixtures under `tests/fixtures/agents/<cli>/`: `edit`, `denied` and `rate_limited` are REAL
//! captures (Claude Code 2.1.197, Codex 0.171.0, Gemini CLI 0.61.0, opencode 1.18.33, aider 0.86.2,
//! each against brl's scripted fake model API, saved by the real-agent suite); `documented-*`
//! files are written from each CLI's documented output format for what the fake API does not
//! produce (cached tokens, reset times in the agent's own words, retried errors, prompt echoes).

use super::tests::{close, fixture, now, preset};
use super::*;

// ---- results: Claude Code (real captures) ----

#[test]
fn claude_real_edit() {
    let r = preset(PresetKind::Claude).parse_result_at(
        fixture!("claude/edit.stdout"),
        fixture!("claude/edit.stderr"),
        now(),
    );
    assert!(close(r.cost_usd, 0.352455), "{r:?}");
    assert_eq!(r.cost_source, Some(CostSource::Reported));
    assert_eq!(r.input_tokens, Some(116855));
    assert_eq!(r.output_tokens, Some(126));
    assert_eq!(r.turns, Some(4));
    assert_eq!(
        r.session_id.as_deref(),
        Some("022bdd72-6005-403e-bb73-89101b19d02e")
    );
    assert_eq!(r.model.as_deref(), Some("claude-sonnet-5"));
    assert!(!r.is_error && r.error_kind.is_none() && r.limit.is_none());
    assert!(r.denials.is_empty());
    assert_eq!(
        r.answer.as_deref(),
        Some("I created hello.txt and edited greeting.txt.")
    );
}

#[test]
fn claude_real_denied_run_names_the_denied_tools() {
    let p = preset(PresetKind::Claude);
    let r = p.parse_result_at(fixture!("claude/denied.stdout"), "", now());
    assert!(!r.is_error, "Claude says success even when denied");
    assert_eq!(
        r.denials,
        vec![
            Denial {
                tool: "Write".into(),
                count: 1
            },
            Denial {
                tool: "Bash(git commit)".into(),
                count: 1
            }
        ]
    );
    assert_eq!(
        p.denial_reason(&r.denials).as_deref(),
        Some(
            "Write ×1, Bash(git commit) ×1 denied — the agent command lacks a permission mode \
             (--permission-mode acceptEdits) or an --allowedTools rule for them"
        )
    );
    assert!(close(r.cost_usd, 0.29247));
}

#[test]
fn claude_real_429_is_a_limit() {
    let r = preset(PresetKind::Claude).parse_result_at(
        fixture!("claude/rate_limited.stdout"),
        fixture!("claude/rate_limited.stderr"),
        now(),
    );
    assert!(r.is_error);
    assert_eq!(r.error_kind.as_deref(), Some("api_error_429"));
    let l = r.limit.expect("a limit");
    assert!(
        matches!(l.kind, LimitKind::RateLimit | LimitKind::UsageLimit),
        "{l:?}"
    );
    assert!(l.message.contains("429"), "{}", l.message);
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

// ---- results: real captures of the other four CLIs ----

fn real(kind: PresetKind, case: &str) -> AgentResult {
    let dir = format!(
        "{}/tests/fixtures/agents/{}",
        env!("CARGO_MANIFEST_DIR"),
        kind.name()
    );
    let read = |ext: &str| {
        std::fs::read_to_string(format!("{dir}/{case}.{ext}"))
            .unwrap_or_else(|e| panic!("{dir}/{case}.{ext}: {e}"))
    };
    preset(kind).parse_result_at(&read("stdout"), &read("stderr"), now())
}

#[test]
fn codex_real_captures() {
    let r = real(PresetKind::Codex, "edit");
    assert_eq!(r.input_tokens, Some(21126));
    assert_eq!(r.output_tokens, Some(73));
    assert_eq!(r.turns, Some(1));
    assert_eq!(
        r.session_id.as_deref(),
        Some("01a24293-dec7-72a1-9591-2741ac94d6df")
    );
    // 21126 × 1.25 + 73 × 10 per million (gpt-5-codex, the preset's model)
    assert!(close(r.cost_usd, 0.0271375), "{:?}", r.cost_usd);
    assert_eq!(r.cost_source, Some(CostSource::Computed));
    assert_eq!(
        r.answer.as_deref(),
        Some("Added hello.txt and updated greeting.txt.")
    );
    assert!(!r.is_error && r.denials.is_empty() && r.limit.is_none());

    let r = real(PresetKind::Codex, "denied");
    assert_eq!(
        r.denials,
        vec![Denial {
            tool: "apply_patch".into(),
            count: 1
        }]
    );
    assert!(!r.is_error, "a denied Codex run still completes its turn");

    let r = real(PresetKind::Codex, "rate_limited");
    assert!(r.is_error);
    assert_eq!(r.error_kind.as_deref(), Some("turn_failed"));
    assert_eq!(r.limit.map(|l| l.kind), Some(LimitKind::RateLimit));
}

#[test]
fn codex_real_hook_payloads() {
    let shell: serde_json::Value =
        serde_json::from_str(fixture!("codex/hook-pretooluse-shell.json")).unwrap();
    assert_eq!(shell["tool_name"], "Bash");
    assert_eq!(
        PresetKind::Codex.tool_class(shell["tool_name"].as_str().unwrap()),
        Some(ToolClass::Shell)
    );
    assert!(codex::patch_paths(shell["tool_input"]["command"].as_str().unwrap()).is_empty());
    let patch: serde_json::Value =
        serde_json::from_str(fixture!("codex/hook-pretooluse-patch.json")).unwrap();
    let cmd = patch["tool_input"]["command"].as_str().unwrap();
    assert_eq!(
        codex::patch_paths(cmd),
        vec![
            (codex::PatchOp::Add, "hello.txt".to_string()),
            (codex::PatchOp::Update, "a.txt".to_string())
        ]
    );
    let moved = "*** Begin Patch\n*** Update File: src/a.rs\n*** Move to: ../outside.rs\n@@\n-a\n+b\n*** Delete File: /etc/passwd\n*** End Patch\n*** Add File: not-in-a-patch\n";
    assert_eq!(
        codex::patch_paths(moved),
        vec![
            (codex::PatchOp::Update, "src/a.rs".to_string()),
            (codex::PatchOp::MoveTo, "../outside.rs".to_string()),
            (codex::PatchOp::Delete, "/etc/passwd".to_string())
        ]
    );
}

#[test]
fn gemini_real_hook_payload() {
    let v: serde_json::Value =
        serde_json::from_str(fixture!("gemini/hook-beforetool-write.json")).unwrap();
    assert_eq!(v["hook_event_name"], "BeforeTool");
    let tool = v["tool_name"].as_str().unwrap();
    assert_eq!(PresetKind::Gemini.tool_class(tool), Some(ToolClass::Write));
    assert!(v["tool_input"]["file_path"].as_str().is_some());
}

#[test]
fn gemini_real_captures() {
    let r = real(PresetKind::Gemini, "edit");
    assert_eq!(r.input_tokens, Some(29878));
    assert_eq!(r.output_tokens, Some(107));
    assert_eq!(r.turns, Some(3));
    assert_eq!(r.model.as_deref(), Some("gemini-2.5-pro"));
    assert!(close(r.cost_usd, 0.0384175), "{:?}", r.cost_usd);
    assert!(!r.is_error && r.denials.is_empty() && r.limit.is_none());

    // default approval mode: the edit tools are left out, and calls to them fail
    let p = preset(PresetKind::Gemini);
    let r = real(PresetKind::Gemini, "denied");
    assert_eq!(
        p.denial_reason(&r.denials).as_deref(),
        Some(
            "write_file ×1, replace ×1 denied — the agent command lacks an approval mode that \
             allows them (--approval-mode auto_edit)"
        )
    );

    // the error JSON comes on stderr, after a stack trace
    let r = real(PresetKind::Gemini, "rate_limited");
    assert!(r.is_error);
    assert_eq!(
        r.session_id.as_deref(),
        Some("7d458e15-ef31-4478-90c6-cd12a9eacbde")
    );
    let l = r.limit.unwrap();
    assert_eq!(l.kind, LimitKind::UsageLimit, "daily quota: {}", l.message);
}

#[test]
fn opencode_real_captures() {
    let r = real(PresetKind::Opencode, "edit");
    assert_eq!(r.turns, Some(4));
    assert_eq!(r.input_tokens, Some(31822));
    assert_eq!(r.output_tokens, Some(126));
    assert_eq!(
        r.session_id.as_deref(),
        Some("ses_dbd6648d8ffeywpwqTfauzEKC4")
    );
    // the fake provider has no price in opencode (cost 0): the table prices the preset's model
    assert_eq!(r.cost_source, Some(CostSource::Computed));
    assert!(
        close(r.cost_usd, (31822.0 * 3.0 + 126.0 * 15.0) / 1e6),
        "{:?}",
        r.cost_usd
    );
    assert_eq!(
        r.answer.as_deref(),
        Some("I created hello.txt and edited greeting.txt.")
    );
    assert!(r.denials.is_empty());

    // denied tools are not offered; the model's calls come back as the `invalid` tool
    let r = real(PresetKind::Opencode, "denied");
    assert_eq!(
        r.denials,
        vec![
            Denial {
                tool: "write".into(),
                count: 1
            },
            Denial {
                tool: "edit".into(),
                count: 1
            }
        ]
    );

    let r = real(PresetKind::Opencode, "rate_limited");
    assert!(r.is_error);
    let l = r.limit.unwrap();
    // anthropic-ratelimit-unified-reset: 1796417291, passed on in the error's headers
    assert_eq!(l.resets_at.map(|t| t.timestamp()), Some(1796417291));
}

#[test]
fn aider_real_captures() {
    let r = real(PresetKind::Aider, "edit");
    assert!(close(r.cost_usd, 0.0027));
    assert_eq!(r.cost_source, Some(CostSource::Reported));
    assert_eq!(r.input_tokens, Some(738));
    assert_eq!(r.output_tokens, Some(32));
    assert_eq!(r.model.as_deref(), Some("openai/fake-model"));
    assert!(r.limit.is_none() && r.denials.is_empty());

    let r = real(PresetKind::Aider, "denied");
    assert_eq!(
        r.denials,
        vec![Denial {
            tool: "edit".into(),
            count: 2
        }]
    );

    // aider exits 0 after giving up on a rate-limited request
    let r = real(PresetKind::Aider, "rate_limited");
    assert!(r.is_error);
    assert_eq!(r.limit.map(|l| l.kind), Some(LimitKind::RateLimit));
}
