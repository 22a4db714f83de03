//! Gemini CLI (`gemini -p`).
//!
//! Measured with 0.61.0: `--approval-mode auto_edit` edits (in the default mode the edit tools
//! are left out), in a trusted folder only: headless in an untrusted folder it refuses to run
//! (exit 55) unless `GEMINI_CLI_TRUST_WORKSPACE=true` or `--skip-trust`. `--output-format json`
//! prints one object with the answer and per-model token counts, no dollars.
//!
//! Probed with the default command (a fake Gemini API): a BeforeTool hook in the worktree's
//! `.gemini/settings.json` (`{"hooks":{"BeforeTool":[{"matcher":".*","hooks":[{"type":
//! "command","command":"…"}]}]}}`) runs with `$BRL_HOME`/`$BRL_SESSION` expanded, gets
//! `tool_name` (`write_file`, `replace`, `run_shell_command`) and `tool_input` as JSON on stdin,
//! and exit 2 blocks the call (`tests/fixtures/agents/gemini/hook_inputs.jsonl`). Hooks are on by
//! default; a user's `hooksConfig.enabled = false` would switch them off.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::cmdline::{Invocation, quote};
use super::result::{AgentResult, CostSource, add_denial};
use super::{HookSupport, ParseCtx, ToolClass, limits};

pub const PROGRAMS: &[&str] = &["gemini"];

pub const DEFAULT_MODEL: &str = "gemini-2.5-pro";
pub const TRUST_ENV: &str = "GEMINI_CLI_TRUST_WORKSPACE";

pub const COMMENT: &str = "\
# Gemini CLI, headless. Allows: editing files in the session's worktree (approval mode
# auto_edit), `git add`, `git commit` and the project's check commands (--allowed-tools). Any
# other shell command is denied by its policy (and named in the cycle's reason).
# Cost: tokens × [prices.\"gemini-2.5-pro\"].
# brl's gate runs as its BeforeTool hook in .gemini/settings.json. GEMINI_CLI_TRUST_WORKSPACE=true
# trusts the session's worktree (Gemini refuses to run headless in an untrusted folder).";

pub const HOOKS: HookSupport = HookSupport::ProjectSettings {
    path: ".gemini/settings.json",
    event: "BeforeTool",
};

pub const STATE_PATHS: &[&str] = &[".gemini/settings.json"];

pub const DENIAL_HINT: &str = "the agent command does not allow them (--approval-mode auto_edit \
                               for edits, --allowed-tools 'run_shell_command(<prefix>)' for \
                               commands)";

/// `auto_edit` does not offer `run_shell_command` at all (measured, 0.61.0); `--allowed-tools
/// "run_shell_command(<prefix>)"` (deprecated for policy files, still working) lets exactly those
/// command prefixes run: `git add`, `git commit` and the project's check commands. Probed: one
/// `--allowed-tools` per rule — after `--allowed-tools a b` only `a` is honoured.
pub fn default_command(checks: &[&str]) -> String {
    let mut allowed = vec![
        "run_shell_command(git add)".to_string(),
        "run_shell_command(git commit)".to_string(),
    ];
    for c in checks {
        let c = c.trim();
        if !c.is_empty() {
            allowed.push(format!("run_shell_command({c})"));
        }
    }
    let allowed: Vec<String> = allowed
        .iter()
        .map(|a| format!("--allowed-tools {}", quote(a)))
        .collect();
    format!(
        "{TRUST_ENV}=true gemini -p '' -m {DEFAULT_MODEL} --approval-mode auto_edit \
         --output-format json {}",
        allowed.join(" ")
    )
}

/// Refuse a command whose workspace is not trusted (project settings, so the gate, ignored).
pub fn check(found: &[Invocation]) -> Result<(), String> {
    for inv in found {
        if !inv.has_flag(&["-p", "--prompt"]) {
            return Err(
                "`gemini` without `-p` starts its interactive mode (fix: add `-p ''`; \
                        brl passes the prompt on stdin, which Gemini appends to it)"
                    .into(),
            );
        }
        if inv.has_flag(&["-w", "--worktree"]) {
            return Err(
                "`--worktree` makes Gemini CLI work in a git worktree of its own, not in the \
                 session's (fix: remove it; brl gives each session its worktree)"
                    .into(),
            );
        }
        match inv.env_value(TRUST_ENV) {
            Some("true") => {}
            _ if inv.has_flag(&["--skip-trust"]) => {}
            other => {
                let got = other.map_or("not set".to_string(), |v| format!("`{v}`"));
                return Err(format!(
                    "`{TRUST_ENV}` is {got} before `gemini`; Gemini CLI refuses to run \
                     headless in a folder it does not trust, and every session worktree is new \
                     to it (fix: start the command with `{TRUST_ENV}=true gemini …`, or add \
                     `--skip-trust`)"
                ));
            }
        }
    }
    Ok(())
}

/// What the command allows that the operator may not expect (not errors).
pub fn warnings(found: &[Invocation]) -> Vec<String> {
    let mut out = Vec::new();
    for inv in found {
        let mode = inv.values(&["--approval-mode"]).pop();
        let edits = inv.has_flag(&["-y", "--yolo"])
            || matches!(mode.as_deref(), Some("auto_edit" | "yolo"));
        if !edits {
            out.push(
                "no --approval-mode auto_edit: Gemini CLI leaves its edit tools out and the \
                 agent edits nothing"
                    .to_string(),
            );
        }
        if !inv
            .values(&["-o", "--output-format"])
            .iter()
            .any(|f| f == "json")
        {
            out.push(
                "no --output-format json: brl cannot read the run's tokens (so no cost)".into(),
            );
        }
    }
    out
}

pub fn tool_class(tool: &str) -> Option<ToolClass> {
    Some(match tool {
        "run_shell_command" => ToolClass::Shell,
        "write_file" | "save_memory" => ToolClass::Write,
        "replace" | "edit" => ToolClass::Edit,
        "read_file"
        | "read_many_files"
        | "list_directory"
        | "glob"
        | "search_file_content"
        | "grep" => ToolClass::Read,
        "web_fetch" | "google_web_search" => ToolClass::Network,
        "write_todos" => ToolClass::Internal,
        _ => return None,
    })
}

/// The JSON object: the first one that starts a line (Gemini may print a notice before it, and
/// stderr merged into the same stream may follow it).
fn json(stdout: &str) -> Option<Value> {
    let starts = std::iter::once(0).chain(stdout.match_indices("\n{").map(|(i, _)| i + 1));
    starts
        .filter(|&i| stdout[i..].trim_start().starts_with('{'))
        .find_map(|i| {
            serde_json::Deserializer::from_str(&stdout[i..])
                .into_iter::<Value>()
                .next()
                .and_then(Result::ok)
                .filter(Value::is_object)
        })
}

fn u(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// In the default approval mode Gemini CLI leaves the edit and shell tools out; a call to one is
/// reported as `Error executing tool write_file: Tool "write_file" not found`, and a shell command
/// outside `--allowed-tools` as `Error executing tool run_shell_command: Tool execution denied by
/// policy.` (measured, 0.61.0).
fn excluded_tools(text: &str) -> Vec<String> {
    static NOT_FOUND: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"^Error executing tool (\S+): (?:Tool "\S+" not found|Tool execution denied by policy)"#,
        )
            .unwrap_or_else(|e| panic!("bad built-in pattern: {e}"))
    });
    text.lines()
        .filter_map(|l| NOT_FOUND.captures(l.trim()).map(|c| c[1].to_string()))
        .collect()
}

pub fn parse(stdout: &str, stderr: &str, ctx: &ParseCtx) -> AgentResult {
    // with --output-format json the error object goes to stderr when the run fails (measured)
    let Some(v) = json(stdout).or_else(|| json(stderr)) else {
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
        answer: v.get("response").and_then(Value::as_str).map(String::from),
        session_id: v
            .get("session_id")
            .or_else(|| v.get("sessionId"))
            .and_then(Value::as_str)
            .map(String::from),
        ..Default::default()
    };
    if let Some(models) = v.pointer("/stats/models").and_then(Value::as_object) {
        let (mut input, mut cached, mut output, mut turns) = (0u64, 0u64, 0u64, 0u64);
        let mut cost = Some(0.0);
        for (model, s) in models {
            let t = s.get("tokens").unwrap_or(&Value::Null);
            // prompt includes the cached tokens; thoughts are billed as output
            let (p, c, o) = (
                u(t, "prompt"),
                u(t, "cached"),
                u(t, "candidates") + u(t, "thoughts"),
            );
            input += p;
            cached += c;
            output += o;
            turns += s
                .pointer("/api/totalRequests")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            cost = cost.and_then(|sum| {
                ctx.prices
                    .cost(model, p.saturating_sub(c), c, o)
                    .map(|x| sum + x)
            });
        }
        r.input_tokens = Some(input);
        r.cached_input_tokens = Some(cached);
        r.output_tokens = Some(output);
        r.turns = Some(turns);
        r.model = models.keys().next().cloned();
        if !models.is_empty() && cost.is_some() {
            r.cost_usd = cost;
            r.cost_source = Some(CostSource::Computed);
        }
    }
    r.model = r.model.or_else(|| ctx.model.clone());
    if let Some(by_name) = v.pointer("/stats/tools/byName").and_then(Value::as_object) {
        for (tool, s) in by_name {
            let rejected = s
                .pointer("/decisions/reject")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            for _ in 0..rejected.min(10_000) {
                add_denial(&mut r.denials, tool);
            }
        }
    }
    let mut excluded = excluded_tools(stderr);
    if excluded.is_empty() {
        excluded = excluded_tools(stdout);
    }
    for tool in excluded {
        add_denial(&mut r.denials, &tool);
    }
    if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
        r.is_error = true;
        r.error_kind = Some(
            err.get("type")
                .and_then(Value::as_str)
                .unwrap_or("error")
                .to_string(),
        );
        r.limit = limits::in_error(&err.to_string(), ctx.now);
    }
    if r.is_error && r.limit.is_none() {
        r.limit = limits::in_lines(stderr, ctx.now);
    }
    r
}
