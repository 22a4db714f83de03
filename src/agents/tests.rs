//! The presets: command checks, defaults, detection; and each parser on captured output.
//!
//! Fixtures under `tests/fixtures/agents/<cli>/`: the files without a prefix are REAL captures
//! (Claude Code 2.1.197 against brl's scripted fake model API, saved by the real-agent suite);
//! `documented-*` files are written from each CLI's documented output format (codex `exec --json`
//! events, Gemini CLI `--output-format json`, opencode `run --format json`, aider's plain output)
//! until real captures of those CLIs replace them.

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};

use super::*;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!("../../tests/fixtures/agents/", $path))
    };
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-04T20:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn preset(kind: PresetKind) -> Preset {
    Preset::unchecked(
        kind,
        &kind.default_command(&["cargo test"], "/usr/local/bin/brl"),
    )
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

// ---- commands ----

#[test]
fn every_default_command_passes_its_own_check() {
    for kind in PresetKind::ALL {
        let cmd = kind.default_command(&["npx tsc --noEmit", "npx vitest run"], "/opt/brl bin/brl");
        let p = Preset::from_config(Some(kind.name()), &cmd)
            .unwrap_or_else(|e| panic!("{}: {e}\n{cmd}", kind.name()));
        assert_eq!(p.kind(), kind);
        if kind != PresetKind::Custom {
            assert_eq!(PresetKind::detect(&cmd), kind, "{cmd}");
        }
    }
}

#[test]
fn claude_default_edits_commits_and_runs_the_checks() {
    let cmd = PresetKind::Claude.default_command(&["npx tsc --noEmit", "npx vitest run"], "brl");
    let words = cmdline::words(&cmd).unwrap();
    let at = words.iter().position(|w| w == "--permission-mode").unwrap();
    assert_eq!(words[at + 1], "acceptEdits");
    for rule in [
        "Bash(git add:*)",
        "Bash(git commit:*)",
        "Bash(npx tsc --noEmit:*)",
        "Bash(npx vitest run:*)",
    ] {
        assert!(
            words.iter().any(|w| w == rule),
            "{rule} is not one word of {cmd}"
        );
    }
    assert!(words.iter().any(|w| w == "json"));
}

#[test]
fn claude_flags_that_switch_the_gate_off_are_refused_by_name() {
    let p = Preset::unchecked(PresetKind::Claude, "");
    for (cmd, flag) in [
        ("claude -p --bare", "--bare"),
        ("claude -p --safe-mode --model sonnet", "--safe-mode"),
        ("claude -p --setting-sources user", "--setting-sources user"),
        (
            "claude -p --setting-sources=user,local",
            "--setting-sources user,local",
        ),
        ("cd x && IS_SANDBOX=1 claude -p --bare", "--bare"),
        ("CLAUDE_CODE_SIMPLE=1 claude -p", "CLAUDE_CODE_SIMPLE=1"),
    ] {
        let e = p.check_command(cmd).unwrap_err();
        assert!(e.contains(flag), "{cmd}: {e}");
        assert!(e.starts_with("[agent] command"), "{e}");
        assert!(e.contains("fix:"), "{e}");
    }
    p.check_command("claude -p --setting-sources user,project")
        .unwrap();
    // a flag's name inside a quoted value is not a flag
    p.check_command(r#"claude -p --append-system-prompt "do not pass --bare""#)
        .unwrap();
    assert!(
        p.check_command("claude --model sonnet")
            .unwrap_err()
            .contains("-p")
    );
    assert!(p.check_command("claude -p 'unbalanced").is_err());
}

#[test]
fn codex_without_its_hook_flags_is_refused_by_name() {
    let p = Preset::unchecked(PresetKind::Codex, "");
    let e = p
        .check_command("codex exec --json -s workspace-write")
        .unwrap_err();
    assert!(e.contains("--dangerously-bypass-hook-trust"), "{e}");
    let e = p
        .check_command("codex exec --json --dangerously-bypass-hook-trust")
        .unwrap_err();
    assert!(e.contains("hooks.PreToolUse"), "{e}");
    let good = PresetKind::Codex.default_command(&[], "brl");
    let e = p
        .check_command(&format!("{good} -c features.hooks=false"))
        .unwrap_err();
    assert!(e.contains("features.hooks=false"), "{e}");
    let e = p
        .check_command(&format!("{good} --disable hooks"))
        .unwrap_err();
    assert!(e.contains("--disable hooks"), "{e}");
    let e = p.check_command(&format!("{good} --worktree")).unwrap_err();
    assert!(e.contains("--worktree"), "{e}");
    let e = p.check_command("codex --json").unwrap_err();
    assert!(e.contains("exec"), "{e}");
}

#[test]
fn codex_gate_hook_is_valid_toml_and_runs_the_gate_for_the_session() {
    let cmd = PresetKind::Codex.default_command(&[], "/bin/echo");
    let inv = &cmdline::find(&cmd, &["codex"]).unwrap()[0];
    let value = inv
        .values(&["-c"])
        .into_iter()
        .find(|v| v.starts_with("hooks.PreToolUse"))
        .unwrap();
    let doc: toml::Value = toml::from_str(&value).unwrap_or_else(|e| panic!("{value}: {e}"));
    let hook = &doc["hooks"]["PreToolUse"][0]["hooks"][0];
    assert_eq!(hook["type"].as_str(), Some("command"));
    let hook_cmd = hook["command"].as_str().unwrap();
    // Codex runs the hook through a shell with the agent's environment
    let out = std::process::Command::new("sh")
        .args(["-c", hook_cmd])
        .env("BRL_HOME", "/home with space/h")
        .env("BRL_SESSION", "s2")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "gate --home /home with space/h --session s2\n"
    );
}

#[test]
fn gemini_needs_a_trusted_workspace() {
    let p = Preset::unchecked(PresetKind::Gemini, "");
    let e = p
        .check_command("gemini -p '' --approval-mode auto_edit")
        .unwrap_err();
    assert!(e.contains("GEMINI_CLI_TRUST_WORKSPACE"), "{e}");
    let e = p
        .check_command("GEMINI_CLI_TRUST_WORKSPACE=false gemini -p ''")
        .unwrap_err();
    assert!(e.contains("`false`"), "{e}");
    p.check_command("gemini -p '' --skip-trust").unwrap();
    let e = p
        .check_command("GEMINI_CLI_TRUST_WORKSPACE=true gemini -p '' -w x")
        .unwrap_err();
    assert!(e.contains("--worktree"), "{e}");
    let e = p
        .check_command("GEMINI_CLI_TRUST_WORKSPACE=true gemini --approval-mode auto_edit")
        .unwrap_err();
    assert!(e.contains("-p"), "{e}");
}

#[test]
fn interactive_commands_are_refused() {
    let e = Preset::from_config(Some("opencode"), "opencode --model x").unwrap_err();
    assert!(e.contains("run"), "{e}");
    let e = Preset::from_config(Some("aider"), "aider --yes-always").unwrap_err();
    assert!(e.contains("--message-file"), "{e}");
}

#[test]
fn a_wrapper_script_needs_the_custom_preset() {
    let e = Preset::from_config(Some("claude"), "./run-agent.sh --fast").unwrap_err();
    assert!(e.contains("preset = \"custom\""), "{e}");
    let p = Preset::from_config(Some("custom"), "./run-agent.sh --fast").unwrap();
    assert!(!p.hooks().has_gate());
    let e = Preset::from_config(Some("cursor"), "x").unwrap_err();
    assert!(
        e.contains("claude, codex, gemini, opencode, aider, custom"),
        "{e}"
    );
}

#[test]
fn detection_and_models() {
    assert_eq!(
        PresetKind::detect("claude -p --model sonnet"),
        PresetKind::Claude
    );
    assert_eq!(
        PresetKind::detect("IS_SANDBOX=1 npx -y @openai/codex exec --json"),
        PresetKind::Codex
    );
    assert_eq!(PresetKind::detect("./agent.sh"), PresetKind::Custom);
    assert_eq!(
        PresetKind::detect("claude -p; aider -m x"),
        PresetKind::Custom
    );
    assert_eq!(
        preset(PresetKind::Codex).model().as_deref(),
        Some("gpt-5-codex")
    );
    let p = Preset::unchecked(PresetKind::Codex, r#"codex exec -c model="o3" --json"#);
    assert_eq!(p.model().as_deref(), Some("o3"));
    assert_eq!(
        preset(PresetKind::Opencode).model().as_deref(),
        Some("anthropic/claude-sonnet-4-5")
    );
}

#[test]
fn hooks_state_paths_and_tool_names() {
    assert_eq!(
        PresetKind::Claude.hooks(),
        HookSupport::ProjectSettings {
            path: ".claude/settings.json",
            event: "PreToolUse"
        }
    );
    assert!(matches!(
        PresetKind::Codex.hooks(),
        HookSupport::CommandLine { .. }
    ));
    assert!(matches!(
        PresetKind::Gemini.hooks(),
        HookSupport::ProjectSettings {
            event: "BeforeTool",
            ..
        }
    ));
    for kind in [PresetKind::Opencode, PresetKind::Aider, PresetKind::Custom] {
        assert!(!kind.hooks().has_gate());
        assert!(
            kind.comment().contains("No safety gate for this agent"),
            "{kind:?}"
        );
    }
    assert!(PresetKind::Aider.state_paths().contains(&".aider*"));
    assert!(
        PresetKind::Claude
            .state_paths()
            .contains(&".claude/settings.json")
    );
    assert!(
        PresetKind::Gemini
            .state_paths()
            .contains(&".gemini/settings.json")
    );
    assert_eq!(
        PresetKind::Claude.tool_class("MultiEdit"),
        Some(ToolClass::Edit)
    );
    assert_eq!(
        PresetKind::Codex.tool_class("apply_patch"),
        Some(ToolClass::Patch)
    );
    assert_eq!(
        PresetKind::Gemini.tool_class("run_shell_command"),
        Some(ToolClass::Shell)
    );
    assert_eq!(
        PresetKind::Gemini.tool_class("write_file"),
        Some(ToolClass::Write)
    );
    assert_eq!(PresetKind::Gemini.tool_class("mystery_tool"), None);
    for kind in PresetKind::ALL {
        assert!(
            kind.comment().lines().all(|l| l.starts_with('#')),
            "{kind:?}"
        );
    }
}

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
            "run_shell_command ×1 denied — the agent command lacks an approval mode that allows \
             them (--approval-mode auto_edit)"
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
