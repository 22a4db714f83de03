//! Codex (`codex exec`).
//!
//! Measured with 0.171.0: `-s workspace-write --skip-git-repo-check` edits but cannot commit in a
//! linked worktree (the git dir is outside its sandbox; brl's leftover commit covers that). Plain
//! mode echoes the prompt on stderr; `--json` prints JSONL events with token usage, no dollars
//! (dollars come from the price table). PreToolUse hooks given with `-c hooks.PreToolUse=[…]`
//! run only with `--dangerously-bypass-hook-trust`; file edits go through `apply_patch`.
//!
//! Probed with 0.171.0 and the default command (a fake Responses API): the hook runs through a
//! shell (`$BRL_HOME`, `$BRL_SESSION` expand), gets Claude-shaped JSON on stdin (`tool_name`
//! `"Bash"`, `tool_input.command`), and exit 2 blocks the call. A patch arrives as a `Bash`
//! command `apply_patch <<'EOF' … EOF` — the gate must check every path in it ([`patch_paths`]).
//! The real-agent suite keeps what Codex hands a hook in `tests/fixtures/agents/codex/hook_inputs.jsonl`
//! (shell calls as `Bash`, the freeform patch tool as `apply_patch`, a heredoc patch as `Bash`).

use serde_json::Value;

use super::cmdline::{Invocation, quote};
use super::result::{AgentResult, CostSource};
use super::{HookSupport, ParseCtx, ToolClass, limits};

pub const PROGRAMS: &[&str] = &["codex"];

pub const DEFAULT_MODEL: &str = "gpt-5-codex";
pub const TRUST_FLAG: &str = "--dangerously-bypass-hook-trust";
pub const HOOK_KEY: &str = "hooks.PreToolUse";
/// What marks a hook command as brl's gate (the same marker the Claude installer uses).
const GATE_MARKER: &str = " gate --home ";

pub const COMMENT: &str = "\
# Codex, headless (`codex exec --json`). Allows: editing files in the session's worktree
# (sandbox workspace-write) and running commands inside that sandbox; it cannot commit in a
# linked worktree (brl commits what it leaves). No network. Cost: tokens × [prices.\"gpt-5-codex\"].
# brl's gate runs as its PreToolUse hook, given right here on the command line; keep
# --dangerously-bypass-hook-trust and the -c hooks.PreToolUse=... value, or the gate is off.";

pub const HOOKS: HookSupport = HookSupport::CommandLine {
    trust_flag: TRUST_FLAG,
    config_key: HOOK_KEY,
};

pub const DENIAL_HINT: &str = "Codex's sandbox or approval policy refused them (the agent command \
                               needs -s workspace-write to edit)";

pub const STATE_PATHS: &[&str] = &[".codex/"];

/// The gate as a Codex hook: the session comes from the environment brl sets for the agent.
pub fn gate_hook(brl: &str) -> String {
    let cmd = format!(
        "{}{GATE_MARKER}\"$BRL_HOME\" --session \"$BRL_SESSION\"",
        quote(brl)
    );
    let toml_str = format!("\"{}\"", cmd.replace('\\', "\\\\").replace('"', "\\\""));
    format!("{HOOK_KEY}=[{{hooks=[{{type=\"command\",command={toml_str}}}]}}]")
}

pub fn default_command(brl: &str) -> String {
    format!(
        "codex exec --json -s workspace-write --skip-git-repo-check -m {DEFAULT_MODEL} \
         {TRUST_FLAG} -c {}",
        quote(&gate_hook(brl))
    )
}

/// Refuse a command whose hooks would not run: the trust flag or the gate hook missing, or hooks
/// switched off; and an interactive `codex` (without `exec`).
pub fn check(found: &[Invocation]) -> Result<(), String> {
    for inv in found {
        // global options may come first: `codex -c k=v exec …`
        let exec = inv.args.iter().any(|a| a == "exec")
            || inv.args.first().map(String::as_str) == Some("e");
        if !exec {
            return Err(
                "`codex` without `exec` waits for a person at a terminal (fix: `codex exec …`)"
                    .into(),
            );
        }
        if inv.has_flag(&["--worktree"]) {
            return Err(
                "`--worktree` makes Codex work in a git worktree of its own, not in the \
                 session's (fix: remove it; brl gives each session its worktree)"
                    .into(),
            );
        }
        let configs = inv.values(&["-c", "--config"]);
        for kv in &configs {
            let compact: String = kv.chars().filter(|c| !c.is_whitespace()).collect();
            if compact == "features.hooks=false" || compact == "features.codex_hooks=false" {
                return Err(format!(
                    "`-c {kv}` switches Codex hooks off, so brl's gate would not run (fix: \
                     remove it)"
                ));
            }
        }
        for feature in inv.values(&["--disable"]) {
            if feature == "hooks" || feature == "codex_hooks" {
                return Err(format!(
                    "`--disable {feature}` switches Codex hooks off, so brl's gate would not \
                     run (fix: remove it)"
                ));
            }
        }
        if !inv.has_flag(&[TRUST_FLAG]) {
            return Err(format!(
                "Codex without `{TRUST_FLAG}` skips hooks nobody reviewed, so brl's gate would \
                 not run (fix: add `{TRUST_FLAG}`, as `brl init --agent codex` writes it)"
            ));
        }
        let has_gate = configs
            .iter()
            .any(|kv| kv.trim_start().starts_with(HOOK_KEY) && kv.contains(GATE_MARKER));
        if !has_gate {
            return Err(format!(
                "Codex is given no `-c {HOOK_KEY}=[…]` that runs `brl gate`, so the gate would \
                 not run (fix: add the -c value `brl init --agent codex` writes)"
            ));
        }
    }
    Ok(())
}

/// What the command allows that the operator may not expect (not errors).
pub fn warnings(found: &[Invocation]) -> Vec<String> {
    let mut out = Vec::new();
    for inv in found {
        if !inv.has_flag(&["--json"]) {
            out.push(
                "no --json: brl cannot read the run's tokens (so no cost), and the answer \
                 comes mixed with the echoed prompt"
                    .to_string(),
            );
        }
        let sandbox = inv.values(&["-s", "--sandbox"]);
        if !inv.has_flag(&["--dangerously-bypass-approvals-and-sandbox", "--yolo"])
            && !sandbox
                .iter()
                .any(|s| s == "workspace-write" || s == "danger-full-access")
        {
            out.push(
                "Codex's sandbox is read-only unless -s workspace-write is given: the agent \
                 edits nothing"
                    .to_string(),
            );
        }
    }
    out
}

pub fn tool_class(tool: &str) -> Option<ToolClass> {
    Some(match tool {
        "shell" | "local_shell" | "exec_command" | "unified_exec" | "container.exec"
        | "write_stdin" | "Bash" => ToolClass::Shell,
        "apply_patch" => ToolClass::Patch,
        "read_file" | "list_dir" | "grep_files" | "view_image" => ToolClass::Read,
        "web_search" => ToolClass::Network,
        "update_plan" => ToolClass::Internal,
        _ => return None,
    })
}

/// `ERROR codex_core::tools::router: error=patch rejected: writing is blocked by read-only
/// sandbox; …` on stderr (measured, 0.171.0): the JSONL says nothing of it.
fn rejected_tools(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let rest = l.split_once("codex_core::tools::router: error=")?.1;
            let (what, _) = rest.split_once(" rejected")?;
            Some(match what.trim() {
                "patch" => "apply_patch".to_string(),
                other => other.to_string(),
            })
        })
        .collect()
}

/// What a patch does to a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchOp {
    Add,
    Update,
    Delete,
    /// The new name of the file the previous `Update File` names.
    MoveTo,
}

/// Every path the `apply_patch` bodies inside `text` name (a patch itself, or a shell command
/// that feeds one to `apply_patch`), in order: the `*** Add File:`, `*** Update File:`,
/// `*** Delete File:` and `*** Move to:` lines between `*** Begin Patch` and `*** End Patch`.
pub fn patch_paths(text: &str) -> Vec<(PatchOp, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        match line.trim() {
            "*** Begin Patch" => inside = true,
            "*** End Patch" => inside = false,
            _ if inside => {
                let ops = [
                    ("*** Add File: ", PatchOp::Add),
                    ("*** Update File: ", PatchOp::Update),
                    ("*** Delete File: ", PatchOp::Delete),
                    ("*** Move to: ", PatchOp::MoveTo),
                ];
                if let Some((op, path)) = ops
                    .iter()
                    .find_map(|(prefix, op)| line.strip_prefix(prefix).map(|p| (*op, p)))
                {
                    out.push((op, path.trim().to_string()));
                }
            }
            _ => {}
        }
    }
    out
}

fn u(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn message(v: &Value) -> Option<String> {
    v.pointer("/error/message")
        .or_else(|| v.get("message"))
        .and_then(Value::as_str)
        .map(String::from)
}

pub fn parse(stdout: &str, stderr: &str, ctx: &ParseCtx) -> AgentResult {
    let mut r = AgentResult::default();
    let (mut input, mut cached, mut output) = (0u64, 0u64, 0u64);
    let mut completed = 0u64;
    let mut failed = false;
    let mut errors: Vec<String> = Vec::new();
    let mut saw_json = false;
    for line in stdout.lines().map(str::trim).filter(|l| l.starts_with('{')) {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        saw_json = true;
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "thread.started" => {
                r.session_id = v.get("thread_id").and_then(Value::as_str).map(String::from);
            }
            "turn.completed" => {
                completed += 1;
                if let Some(usage) = v.get("usage") {
                    input += u(usage, "input_tokens");
                    cached += u(usage, "cached_input_tokens");
                    output += u(usage, "output_tokens");
                }
            }
            "turn.failed" => {
                failed = true;
                if let Some(usage) = v.get("usage") {
                    input += u(usage, "input_tokens");
                    cached += u(usage, "cached_input_tokens");
                    output += u(usage, "output_tokens");
                }
                errors.extend(message(&v));
            }
            "error" => errors.extend(message(&v)),
            "item.completed" => {
                let item = v.get("item").unwrap_or(&Value::Null);
                let kind = item
                    .get("type")
                    .or_else(|| item.get("item_type"))
                    .and_then(Value::as_str);
                if kind == Some("agent_message") {
                    r.answer = item.get("text").and_then(Value::as_str).map(String::from);
                }
            }
            _ => {}
        }
    }
    let mut rejected = rejected_tools(stderr);
    if rejected.is_empty() {
        rejected = rejected_tools(stdout);
    }
    for tool in rejected {
        super::result::add_denial(&mut r.denials, &tool);
    }
    if saw_json {
        r.turns = Some(completed);
        r.input_tokens = Some(input);
        r.cached_input_tokens = Some(cached);
        r.output_tokens = Some(output);
    }
    r.model = ctx.model.clone();
    if saw_json && let Some(model) = &r.model {
        // Codex's input_tokens include the cached ones
        r.cost_usd = ctx
            .prices
            .cost(model, input.saturating_sub(cached), cached, output);
        if r.cost_usd.is_some() {
            r.cost_source = Some(CostSource::Computed);
        }
    }
    // retries print `error` events too; they count only when the run did not complete
    if failed || completed == 0 {
        r.limit = errors
            .iter()
            .rev()
            .find_map(|e| limits::in_error(e, ctx.now))
            .or_else(|| limits::in_lines(stderr, ctx.now))
            .or_else(|| {
                // no JSON at all: a crash, its error among the plain lines
                (!saw_json)
                    .then(|| limits::in_lines(stdout, ctx.now))
                    .flatten()
            });
        r.is_error = failed || !errors.is_empty() || r.limit.is_some();
        if failed {
            r.error_kind = Some("turn_failed".into());
        } else if r.is_error {
            r.error_kind = Some("error".into());
        }
    }
    if !saw_json && r.answer.is_none() && !stdout.trim().is_empty() {
        r.answer = Some(stdout.to_string());
    }
    r
}
