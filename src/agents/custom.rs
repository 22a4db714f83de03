//! Any other agent command (`[agent] preset = "custom"`, or a command brl does not recognise).
//!
//! brl knows nothing of its hooks or state files; it reads a Claude-shaped `{"type":"result"}`
//! object when the command prints one (wrappers around `claude -p` often do), and otherwise keeps
//! the plain output as the answer and looks for unmistakable API-limit errors in it.

use super::result::AgentResult;
use super::{HookSupport, ParseCtx, claude, limits};

pub const COMMENT: &str = "\
# A custom agent command: run through `sh -c` in the session's worktree, the prompt on stdin.
# brl does not know what it allows. No safety gate for this agent (brl cannot install a hook
# into an agent it does not know). Cost is known only if it prints Claude Code's JSON result.";

pub const HOOKS: HookSupport = HookSupport::None { own_deny: None };

/// A placeholder that fails loudly until the operator writes a real command.
pub fn default_command() -> String {
    "echo 'set [agent] command in brl.toml to your agent command (the prompt comes on stdin)' >&2; exit 2"
        .to_string()
}

pub fn parse(stdout: &str, stderr: &str, ctx: &ParseCtx) -> AgentResult {
    if claude::result_json(stdout).is_some() {
        return claude::parse(stdout, stderr, ctx);
    }
    let limit = limits::in_lines(stderr, ctx.now).or_else(|| limits::in_lines(stdout, ctx.now));
    AgentResult {
        is_error: limit.is_some(),
        error_kind: limit.as_ref().map(|_| "limit".to_string()),
        limit,
        answer: (!stdout.trim().is_empty()).then(|| stdout.to_string()),
        model: ctx.model.clone(),
        ..Default::default()
    }
}
