//! aider (`aider --message-file /dev/stdin`).
//!
//! Measured with 0.86.2: `--yes-always --no-pretty --message-file /dev/stdin` edits and commits on
//! its own; it leaves `.aider*` caches in the tree (and, unless told `--no-gitignore`, adds them
//! to the repository's `.gitignore`). No hook mechanism: no safety gate; `--no-suggest-shell-commands`
//! keeps it from running shell commands at all. Its plain output says tokens and dollars per
//! message: `Tokens: 2.3k sent, 156 received. Cost: $0.0093 message, $0.0093 session.`

use std::sync::LazyLock;

use regex::Regex;

use super::cmdline::Invocation;
use super::result::{AgentResult, CostSource};
use super::{HookSupport, ParseCtx, limits};

pub const PROGRAMS: &[&str] = &["aider"];

pub const DEFAULT_MODEL: &str = "sonnet";

pub const COMMENT: &str = "\
# aider, headless. Allows: editing the files it chooses and committing them itself. Shell
# commands are off (--no-suggest-shell-commands). No safety gate for this agent: aider has no
# hook brl can use. Cost: what aider reports per message.";

pub const HOOKS: HookSupport = HookSupport::None {
    own_deny: Some("--no-suggest-shell-commands (aider runs no shell commands)"),
};

pub const DENIAL_HINT: &str = "aider did not apply them (is --dry-run set?)";

pub const STATE_PATHS: &[&str] = &[".aider*"];

pub fn default_command() -> String {
    format!(
        "aider --model {DEFAULT_MODEL} --yes-always --no-pretty --no-stream --no-gitignore \
         --no-suggest-shell-commands --no-check-update --no-show-release-notes --no-analytics \
         --message-file /dev/stdin"
    )
}

/// A command without a message waits for a person at a terminal.
pub fn check(found: &[Invocation]) -> Result<(), String> {
    for inv in found {
        if !inv.has_flag(&["--message-file", "--message", "-m", "--msg", "-f"]) {
            return Err(
                "`aider` without `--message-file` (or `--message`) opens its chat and waits for \
                 a person (fix: add `--message-file /dev/stdin`; brl passes the prompt on stdin)"
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
        if !inv.has_flag(&["--yes-always"]) {
            out.push("no --yes-always: aider waits for answers nobody gives".into());
        }
        if !inv.has_flag(&["--no-gitignore"]) {
            out.push(
                "no --no-gitignore: aider adds .aider* to the repository's .gitignore, an edit \
                 that lands in the agent's branch"
                    .into(),
            );
        }
        if !inv.has_flag(&["--no-suggest-shell-commands"]) {
            out.push("shell commands are on: aider may run the commands it suggests".into());
        }
    }
    out
}

fn re(s: &str) -> Regex {
    Regex::new(s).unwrap_or_else(|e| panic!("bad built-in pattern {s}: {e}"))
}

static TOKENS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^Tokens: ([0-9.]+[kKmM]?) sent(?:, ([0-9.]+[kKmM]?) cache write)?(?:, ([0-9.]+[kKmM]?) cache hit)?, ([0-9.]+[kKmM]?) received\.(?: Cost: \$([0-9.]+) message, \$([0-9.]+) session\.)?",
    )
});
static MODEL: LazyLock<Regex> = LazyLock::new(|| re(r"^(?:Main model|Model): (\S+)"));

/// `2.3k` → 2300, `1.2M` → 1200000, `156` → 156.
fn count(s: &str) -> u64 {
    let (num, mult) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1_000.0),
        Some('m' | 'M') => (&s[..s.len() - 1], 1_000_000.0),
        _ => (s, 1.0),
    };
    num.parse::<f64>().map_or(0, |n| (n * mult).round() as u64)
}

pub fn parse(stdout: &str, stderr: &str, ctx: &ParseCtx) -> AgentResult {
    let mut r = AgentResult {
        answer: (!stdout.trim().is_empty()).then(|| stdout.to_string()),
        ..Default::default()
    };
    let (mut sent, mut cached, mut received, mut messages) = (0u64, 0u64, 0u64, 0u64);
    let mut session_cost = None;
    for line in stdout.lines().map(str::trim) {
        if let Some(c) = TOKENS.captures(line) {
            messages += 1;
            sent += count(&c[1]) + c.get(2).map_or(0, |m| count(m.as_str()));
            cached += c.get(3).map_or(0, |m| count(m.as_str()));
            received += count(&c[4]);
            if let Some(s) = c.get(6).and_then(|m| m.as_str().parse::<f64>().ok()) {
                session_cost = Some(s);
            }
        } else if line.starts_with("Did not apply edit to ") {
            super::result::add_denial(&mut r.denials, "edit");
        } else if r.model.is_none()
            && let Some(c) = MODEL.captures(line)
        {
            r.model = Some(c[1].to_string());
        }
    }
    r.model = r.model.or_else(|| ctx.model.clone());
    if messages > 0 {
        r.turns = Some(messages);
        r.input_tokens = Some(sent);
        r.cached_input_tokens = Some(cached);
        r.output_tokens = Some(received);
        if let Some(c) = session_cost {
            // the last line's session total covers every message
            r.cost_usd = Some(c);
            r.cost_source = Some(CostSource::Reported);
        } else if let Some(c) = r
            .model
            .as_deref()
            .and_then(|m| ctx.prices.cost(m, sent, cached, received))
        {
            r.cost_usd = Some(c);
            r.cost_source = Some(CostSource::Computed);
        }
    }
    // aider retries a limited request itself: a limit counts only when no answer came after it
    let lines: Vec<&str> = stdout.lines().collect();
    let after_last_answer = match lines.iter().rposition(|l| TOKENS.is_match(l.trim())) {
        Some(i) => lines[i + 1..].join("\n"),
        None => stdout.to_string(),
    };
    r.limit = limits::in_lines(&after_last_answer, ctx.now).or_else(|| {
        if messages == 0 {
            limits::in_lines(stderr, ctx.now)
        } else {
            None
        }
    });
    if r.limit.is_some() {
        r.is_error = true;
        r.error_kind = Some("limit".into());
    }
    r
}
