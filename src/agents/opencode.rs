//! opencode (`opencode run`).
//!
//! Measured with 1.18.33: `opencode run` edits and runs bash by default; with `--format json` it
//! prints JSONL events, each `step_finish` carrying that step's cost and tokens. It has no hook a
//! control room can use: no safety gate. What brl can use instead is opencode's own permission
//! config, which the default command passes inline (`OPENCODE_CONFIG_CONTENT`) to deny the
//! commands the gate would block.

use serde_json::Value;

use super::cmdline::{Invocation, quote};
use super::result::{AgentResult, CostSource, add_denial};
use super::{HookSupport, ParseCtx, limits};

pub const PROGRAMS: &[&str] = &["opencode"];

pub const DEFAULT_MODEL: &str = "anthropic/claude-sonnet-4-5";

pub const COMMENT: &str = "\
# opencode, headless (`opencode run --format json`). Allows: editing files and running shell
# commands (opencode's default), except those denied by the permission config passed in
# OPENCODE_CONFIG_CONTENT (git push, hard resets, git clean, rm -rf, sudo).
# No safety gate for this agent: opencode has no hook brl can use. Cost: what opencode reports
# per step (tokens × [prices] when its provider reports none).";

pub const HOOKS: HookSupport = HookSupport::None {
    own_deny: Some("opencode's `permission` config (OPENCODE_CONFIG_CONTENT)"),
};

pub const STATE_PATHS: &[&str] = &[".opencode/"];

pub const DENIAL_HINT: &str = "opencode's permission config denied them";

/// Shell command patterns opencode is told to deny (its own glob syntax).
pub const DENIED_BASH: &[&str] = &[
    // the loop never pushes; a force push is the worst of it
    "git push*",
    "git reset --hard*",
    "git clean*",
    "git checkout main*",
    "rm -rf*",
    "rm -fr*",
    "sudo *",
];

/// opencode's permission config as JSON: everything allowed but [`DENIED_BASH`]. opencode lets
/// the LAST matching pattern win, so the catch-all `*` is written first (by hand: a JSON map
/// here would sort its keys).
pub fn permission_config() -> String {
    let q = |s: &str| Value::from(s).to_string();
    let mut bash = vec![format!("{}:{}", q("*"), q("allow"))];
    bash.extend(
        DENIED_BASH
            .iter()
            .map(|p| format!("{}:{}", q(p), q("deny"))),
    );
    format!(
        r#"{{"permission":{{"edit":"allow","webfetch":"deny","bash":{{{}}}}}}}"#,
        bash.join(",")
    )
}

pub fn default_command() -> String {
    format!(
        "OPENCODE_CONFIG_CONTENT={} opencode run --format json -m {DEFAULT_MODEL}",
        quote(&permission_config())
    )
}

/// Nothing to refuse (there is no gate to switch off), but a command that is not `run` would
/// wait for a person at a terminal.
pub fn check(found: &[Invocation]) -> Result<(), String> {
    for inv in found {
        if !inv.args.iter().any(|a| a == "run") {
            return Err(
                "`opencode` without `run` opens its terminal UI and waits for a person (fix: \
                 `opencode run …`)"
                    .into(),
            );
        }
    }
    Ok(())
}

/// What the command allows that the operator may not expect (not errors).
pub fn warnings(found: &[Invocation]) -> Vec<String> {
    let mut out = Vec::new();
    for inv in found {
        if !inv.values(&["--format"]).iter().any(|f| f == "json") {
            out.push("no --format json: brl cannot read the run's cost or tokens".into());
        }
        if inv.env_value("OPENCODE_CONFIG_CONTENT").is_none() {
            out.push(
                "no OPENCODE_CONFIG_CONTENT: opencode's own permission config (the only guard \
                 brl has for it) is whatever the user's config says"
                    .into(),
            );
        }
    }
    out
}

fn u(v: &Value, path: &str) -> u64 {
    v.pointer(path).and_then(Value::as_u64).unwrap_or(0)
}

fn is_denied(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    // RejectedError: "The user rejected permission to use this specific tool call."
    // DeniedError: "The user has specified a rule which prevents you from using this specific …"
    e.contains("permission")
        || e.contains("rejected")
        || e.contains("denied")
        || e.contains("prevents you from using")
}

pub fn parse(stdout: &str, stderr: &str, ctx: &ParseCtx) -> AgentResult {
    let mut r = AgentResult::default();
    let (mut input, mut cached, mut output, mut steps) = (0u64, 0u64, 0u64, 0u64);
    let mut cost = 0.0f64;
    let mut texts: Vec<String> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let mut saw_json = false;
    for line in stdout.lines().map(str::trim).filter(|l| l.starts_with('{')) {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        saw_json = true;
        if r.session_id.is_none() {
            r.session_id = v.get("sessionID").and_then(Value::as_str).map(String::from);
        }
        let part = v.get("part").unwrap_or(&Value::Null);
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "step_finish" => {
                steps += 1;
                cost += part.get("cost").and_then(Value::as_f64).unwrap_or(0.0);
                // opencode counts cache reads and writes apart from input
                input += u(part, "/tokens/input") + u(part, "/tokens/cache/write");
                cached += u(part, "/tokens/cache/read");
                output += u(part, "/tokens/output") + u(part, "/tokens/reasoning");
            }
            "text" => {
                if let Some(t) = part.get("text").and_then(Value::as_str) {
                    texts.push(t.to_string());
                }
            }
            "tool_use" => {
                let status = part.pointer("/state/status").and_then(Value::as_str);
                let error = part.pointer("/state/error").and_then(Value::as_str);
                let tool = part.get("tool").and_then(Value::as_str).unwrap_or("tool");
                if status == Some("error") && error.is_some_and(is_denied) {
                    add_denial(&mut r.denials, tool);
                }
                // a tool the permission config denies outright is not offered at all; the
                // model's call to it comes back as the `invalid` tool (measured, 1.18.33)
                let wanted = part.pointer("/state/input/tool").and_then(Value::as_str);
                let why = part
                    .pointer("/state/input/error")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if tool == "invalid"
                    && let Some(wanted) = wanted
                    && why.contains("unavailable tool")
                {
                    add_denial(&mut r.denials, wanted);
                }
            }
            "error" => {
                let err = v.get("error").unwrap_or(&Value::Null);
                r.is_error = true;
                r.error_kind = err
                    .get("name")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .or(Some("error".into()));
                errors.push(err.to_string());
            }
            _ => {}
        }
    }
    r.model = ctx.model.clone();
    if saw_json {
        r.turns = Some(steps);
        r.input_tokens = Some(input);
        r.cached_input_tokens = Some(cached);
        r.output_tokens = Some(output);
        let computed = r
            .model
            .as_deref()
            .and_then(|m| ctx.prices.cost(m, input, cached, output));
        (r.cost_usd, r.cost_source) = match (cost > 0.0, computed) {
            (true, _) => (Some(cost), Some(CostSource::Reported)),
            // a provider opencode has no price for reports 0: use the table when it knows one
            (false, Some(c)) if input + output > 0 => (Some(c), Some(CostSource::Computed)),
            (false, _) if steps > 0 => (Some(0.0), Some(CostSource::Reported)),
            _ => (None, None),
        };
        if !texts.is_empty() {
            r.answer = Some(texts.join("\n"));
        }
    } else if !stdout.trim().is_empty() {
        r.answer = Some(stdout.to_string());
    }
    if r.is_error || !saw_json {
        r.limit = errors
            .iter()
            .find_map(|e| limits::in_error(e, ctx.now))
            .or_else(|| limits::in_lines(stderr, ctx.now));
        if r.limit.is_some() && !r.is_error {
            r.is_error = true;
            r.error_kind = Some("limit".into());
        }
    }
    r
}
