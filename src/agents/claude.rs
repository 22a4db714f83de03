//! Claude Code (`claude -p`).
//!
//! Measured with 2.1.197: in `-p` mode without a permission mode it denies every Edit, Write and
//! `git commit` yet exits 0 with `"subtype":"success"`; `--permission-mode acceptEdits` lets it
//! edit, and `--allowedTools` rules (each quoted on its own) let it run the named commands.
//! Project hooks (`.claude/settings.json`, `PreToolUse`, exit 2 blocks) run before its own
//! permission check in every mode — unless `--bare`, `--safe-mode`, or `--setting-sources`
//! without `project` is given: then the gate is silently off, so those are refused.
//!
//! Probed with 2.1.197 against a fake Anthropic API, the model asking to write a file, a
//! PreToolUse hook that exits 2 in `.claude/settings.json`:
//! - the default command: the hook runs and the write is blocked; without the hook the same
//!   command wrote a file, ran `git add`, `git commit` and the allowed check command
//!   (`npx vitest run …`), and a `curl` was denied (in `permission_denials`);
//! - `--safe-mode`, `--setting-sources user`, `--bare`, `CLAUDE_CODE_SIMPLE=1`: the hook does not
//!   run and the file IS written;
//! - the same hook passed with `--settings '<json>'`: honoured with `--setting-sources user`, NOT
//!   with `--bare` or `--safe-mode` — so refusing is the only safe answer for those two, and for
//!   `--setting-sources` brl could pass the gate through `--settings` instead (it refuses, and
//!   says to add `project`, which is simpler to get right).

use serde_json::Value;

use super::cmdline::{Invocation, quote};
use super::result::{AgentResult, CostSource, add_denial};
use super::{HookSupport, ParseCtx, ToolClass, limits};

pub const PROGRAMS: &[&str] = &["claude"];

pub const COMMENT: &str = "\
# Claude Code, headless. Allows: editing files in the session's worktree (acceptEdits),
# `git add` / `git commit`, and the project's own check commands. Anything else that needs a
# permission (other shell commands, web access) is denied and shows in the cycle's reason.
# brl's gate (a PreToolUse hook in .claude/settings.json) checks every tool call first; never
# add --bare, --safe-mode or --setting-sources without `project`: they switch the gate off.";

pub const HOOKS: HookSupport = HookSupport::ProjectSettings {
    path: ".claude/settings.json",
    event: "PreToolUse",
};

pub const STATE_PATHS: &[&str] = &[".claude/settings.json", ".claude/settings.local.json"];

pub const DENIAL_HINT: &str = "the agent command lacks a permission mode (--permission-mode \
                               acceptEdits) or an --allowedTools rule for them";

/// `claude -p --model sonnet --output-format json --permission-mode acceptEdits --allowedTools
/// 'Bash(git add:*)' 'Bash(git commit:*)' '<check>:*'…`
pub fn default_command(checks: &[&str]) -> String {
    let mut rules = vec![
        "Bash(git add:*)".to_string(),
        "Bash(git commit:*)".to_string(),
    ];
    for c in checks {
        let c = c.trim();
        if !c.is_empty() {
            rules.push(format!("Bash({c}:*)"));
        }
    }
    let rules: Vec<String> = rules.iter().map(|r| quote(r)).collect();
    format!(
        "claude -p --model sonnet --output-format json --permission-mode acceptEdits \
         --allowedTools {}",
        rules.join(" ")
    )
}

/// Refuse the flags that stop project hooks from loading, and a command that is not headless.
pub fn check(found: &[Invocation]) -> Result<(), String> {
    for inv in found {
        // `--bare` works by setting CLAUDE_CODE_SIMPLE=1 (claude --help, 2.1.197)
        if let Some(v) = inv.env_value("CLAUDE_CODE_SIMPLE")
            && !v.is_empty()
            && v != "0"
        {
            return Err(format!(
                "`CLAUDE_CODE_SIMPLE={v}` is Claude Code's minimal mode (what `--bare` sets): it \
                 skips hooks, so brl's gate would be silently off (fix: remove it)"
            ));
        }
        for flag in ["--bare", "--safe-mode"] {
            if inv.has_flag(&[flag]) {
                return Err(format!(
                    "`{flag}` stops Claude Code from loading project hooks, so brl's gate would \
                     be silently off (fix: remove `{flag}`)"
                ));
            }
        }
        for v in inv.values(&["--setting-sources"]) {
            if !v.split(',').any(|s| s.trim() == "project") {
                return Err(format!(
                    "`--setting-sources {v}` leaves out `project`, so Claude Code does not load \
                     .claude/settings.json and brl's gate would be silently off (fix: add \
                     `project`, e.g. `--setting-sources {v},project`, or remove the flag)"
                ));
            }
        }
        if !inv.has_flag(&["-p", "--print"]) {
            return Err(
                "`claude` without `-p` waits for a person at a terminal (fix: add `-p`)".into(),
            );
        }
    }
    Ok(())
}

/// What the command allows that the operator may not expect (not errors: brl runs it anyway).
pub fn warnings(found: &[Invocation]) -> Vec<String> {
    let mut out = Vec::new();
    for inv in found {
        let modes = inv.values(&["--permission-mode"]);
        let skip = inv.has_flag(&["--dangerously-skip-permissions"])
            || modes.iter().any(|m| m == "bypassPermissions");
        if modes.is_empty() && !skip {
            out.push(
                "no --permission-mode: Claude Code denies every edit and commit in -p mode yet \
                 reports success (add `--permission-mode acceptEdits`)"
                    .to_string(),
            );
        }
        if let Some(m) = modes.iter().find(|m| *m == "plan") {
            out.push(format!(
                "--permission-mode {m} only plans: the agent edits nothing"
            ));
        }
        if skip && inv.env_value("IS_SANDBOX") != Some("1") {
            out.push(
                "--dangerously-skip-permissions / bypassPermissions: Claude Code refuses to \
                 start as root unless IS_SANDBOX=1 is set"
                    .to_string(),
            );
        }
        let format = inv.values(&["--output-format"]);
        if !format.iter().any(|f| f == "json" || f == "stream-json") {
            out.push(
                "no --output-format json: brl cannot read the run's cost, turns or denials"
                    .to_string(),
            );
        }
    }
    out
}

pub fn tool_class(tool: &str) -> Option<ToolClass> {
    Some(match tool {
        "Bash" | "BashOutput" | "KillShell" | "KillBash" => ToolClass::Shell,
        "Write" | "NotebookEdit" => ToolClass::Write,
        "Edit" | "MultiEdit" => ToolClass::Edit,
        "Read" | "Glob" | "Grep" | "LS" | "NotebookRead" => ToolClass::Read,
        "WebFetch" | "WebSearch" => ToolClass::Network,
        "AskUserQuestion" => ToolClass::Ask,
        "Task" | "Agent" | "TodoWrite" | "ExitPlanMode" | "Skill" => ToolClass::Internal,
        _ => return None,
    })
}

/// The `{"type":"result",…}` object: the whole output, an element of a `--verbose` JSON array,
/// or the last such line of `stream-json`.
pub fn result_json(stdout: &str) -> Option<Value> {
    let is_result = |v: &Value| v.get("type").and_then(Value::as_str) == Some("result");
    if let Ok(v) = serde_json::from_str::<Value>(stdout.trim()) {
        if is_result(&v) {
            return Some(v);
        }
        if let Some(found) = v
            .as_array()
            .and_then(|a| a.iter().rev().find(|x| is_result(x)))
        {
            return Some(found.clone());
        }
    }
    stdout
        .lines()
        .rev()
        .map(str::trim)
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(is_result)
}

/// `Bash(git commit)` for a denied `git commit -m …`; the tool name for the others.
fn denial_label(d: &Value) -> String {
    let tool = d
        .get("tool_name")
        .and_then(Value::as_str)
        .unwrap_or("unknown tool");
    if tool != "Bash" {
        return tool.to_string();
    }
    let cmd = d
        .pointer("/tool_input/command")
        .and_then(Value::as_str)
        .unwrap_or("");
    // the program, and its subcommand when the next word looks like one (`git commit`, not
    // `curl http://…`)
    let mut words: Vec<&str> = cmd.split_whitespace().take(1).collect();
    if let Some(sub) = cmd.split_whitespace().nth(1)
        && sub.starts_with(|c: char| c.is_ascii_lowercase())
        && sub
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        words.push(sub);
    }
    if words.is_empty() {
        "Bash".into()
    } else {
        format!("Bash({})", words.join(" "))
    }
}

fn u(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

pub fn parse(stdout: &str, stderr: &str, ctx: &ParseCtx) -> AgentResult {
    let Some(v) = result_json(stdout) else {
        // no result object (a crash, a text-mode run): only unmistakable error lines count
        let limit = limits::in_lines(stderr, ctx.now).or_else(|| limits::in_lines(stdout, ctx.now));
        return AgentResult {
            is_error: limit.is_some(),
            error_kind: limit.as_ref().map(|_| "limit".to_string()),
            limit,
            answer: (!stdout.trim().is_empty()).then(|| stdout.to_string()),
            ..Default::default()
        };
    };
    let mut r = AgentResult {
        cost_usd: v.get("total_cost_usd").and_then(Value::as_f64),
        turns: v.get("num_turns").and_then(Value::as_u64),
        session_id: v
            .get("session_id")
            .and_then(Value::as_str)
            .map(String::from),
        is_error: v.get("is_error").and_then(Value::as_bool).unwrap_or(false),
        answer: v.get("result").and_then(Value::as_str).map(String::from),
        ..Default::default()
    };
    if r.cost_usd.is_some() {
        r.cost_source = Some(CostSource::Reported);
    }
    if let Some(usage) = v.get("usage") {
        // Anthropic's input_tokens leave out cache writes and reads; both are input too
        r.input_tokens = Some(u(usage, "input_tokens") + u(usage, "cache_creation_input_tokens"));
        r.cached_input_tokens = Some(u(usage, "cache_read_input_tokens"));
        r.output_tokens = Some(u(usage, "output_tokens"));
    }
    r.model = v
        .get("modelUsage")
        .and_then(Value::as_object)
        .and_then(|m| m.keys().next().cloned())
        .or_else(|| ctx.model.clone());
    let subtype = v.get("subtype").and_then(Value::as_str).unwrap_or("");
    if !subtype.is_empty() && subtype != "success" {
        r.error_kind = Some(subtype.to_string());
    } else if r.is_error {
        r.error_kind = Some("error".into());
    }
    for d in v
        .get("permission_denials")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        add_denial(&mut r.denials, &denial_label(d));
    }
    if r.is_error {
        let text = r.answer.as_deref().unwrap_or("");
        let status = v.get("api_error_status").and_then(Value::as_u64);
        r.limit = limits::in_error(text, ctx.now)
            .or_else(|| status.and_then(|s| limits::from_status(s, text)))
            .or_else(|| limits::in_lines(stderr, ctx.now));
        if let Some(s) = status {
            r.error_kind = Some(format!("api_error_{s}"));
        }
    }
    r
}
