//! The presets' command lines: checks, defaults, detection, hooks, tool names; and the helpers
//! the result tests share.

use chrono::{DateTime, Utc};

use super::*;

/// A fixture under `tests/fixtures/agents/`, read at compile time.
macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!("../../tests/fixtures/agents/", $path))
    };
}
pub(super) use fixture;

pub(super) fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-04T20:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub(super) fn preset(kind: PresetKind) -> Preset {
    Preset::unchecked(
        kind,
        &kind.default_command(&["cargo test"], "/usr/local/bin/brl"),
    )
}

pub(super) fn close(a: Option<f64>, b: f64) -> bool {
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
fn gemini_default_allows_commits_and_the_checks_by_prefix() {
    let cmd = PresetKind::Gemini.default_command(&["npx vitest run"], "brl");
    let words = cmdline::words(&cmd).unwrap();
    // one flag per rule: Gemini CLI honours only the first of `--allowed-tools a b` (probed)
    let inv = &cmdline::find(&cmd, &["gemini"]).unwrap()[0];
    assert_eq!(
        inv.values(&["--allowed-tools"]),
        vec![
            "run_shell_command(git add)",
            "run_shell_command(git commit)",
            "run_shell_command(npx vitest run)"
        ]
    );
    let at = words.iter().position(|w| w == "--approval-mode").unwrap();
    assert_eq!(words[at + 1], "auto_edit");
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
    let global_first = good.replacen("codex exec", "codex -c model_reasoning_effort=high exec", 1);
    p.check_command(&global_first).unwrap();
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
fn opencode_denies_after_its_catch_all() {
    let text = opencode::permission_config();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["permission"]["bash"]["git push*"], "deny");
    assert_eq!(v["permission"]["bash"]["*"], "allow");
    // the last matching pattern wins in opencode: the catch-all must come first
    let star = text.find(r#""*":"allow""#).unwrap();
    for p in opencode::DENIED_BASH {
        assert!(text.find(&format!("\"{p}\"")).unwrap() > star, "{p}");
    }
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
