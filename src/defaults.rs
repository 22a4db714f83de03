//! The default files a home starts with, embedded in the binary so an installed `brl` needs no
//! source tree: the commented `brl.toml` for each preset, the prompts, skills and layouts.

/// `(path relative to the home, contents)` of every default file but `brl.toml`.
pub const FILES: &[(&str, &str)] = &[
    ("prompts/ralph.md", include_str!("../prompts/ralph.md")),
    (
        "skills/one-small-change.md",
        include_str!("../skills/one-small-change.md"),
    ),
    (
        "skills/read-before-editing.md",
        include_str!("../skills/read-before-editing.md"),
    ),
    ("layouts/tiled.toml", include_str!("../layouts/tiled.toml")),
    (
        "layouts/windows.toml",
        include_str!("../layouts/windows.toml"),
    ),
];

/// The embedded default of `prompts/<role>.md`, if there is one.
/// An embedded file by its path in the home, e.g. `layouts/tiled.toml`.
pub fn file(path: &str) -> Option<&'static str> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, c)| *c)
}

pub fn prompt(role: &str) -> Option<&'static str> {
    let want = format!("prompts/{role}.md");
    FILES.iter().find(|(p, _)| *p == want).map(|(_, c)| *c)
}

/// Which kind of project the checks are set up for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    Typescript,
    Rust,
    Python,
    Custom,
}

/// A commented `brl.toml` for `repo` with the checks of `preset`.
pub fn config_toml(repo: &str, preset: Preset) -> String {
    let checks = match preset {
        Preset::Typescript => {
            r#"[checks.typecheck]
command = "npx tsc --noEmit"
parser = "tsc"

[checks.test]
command = "npx vitest run"
parser = "vitest""#
        }
        Preset::Rust => {
            r#"[checks.typecheck]
command = "cargo check --keep-going"
parser = "cargo"

[checks.test]
command = "cargo test --no-fail-fast"
parser = "cargo-test""#
        }
        Preset::Python => {
            r#"[checks.typecheck]
command = "mypy ."
parser = "mypy"

[checks.test]
command = "python -m pytest -q"
parser = "pytest""#
        }
        Preset::Custom => {
            r#"# Edit these: any command works. `exit-code` counts 0 errors on exit 0, else 1;
# `regex` counts matching output lines (errors = "<regex>" for a type check;
# failures = "<regex>" and passed = "<regex>" for tests).
[checks.typecheck]
command = "make typecheck"
parser = "exit-code"

[checks.test]
command = "make test"
parser = "exit-code""#
        }
    };
    let repo = toml_string(repo);
    format!(
        r#"# brl.toml — the configuration of this brl home. Unknown keys are errors.

# The target git repository, relative to this file's directory or absolute.
repo = {repo}
# The branch that approvals merge into.
main = "main"
# Number of agent sessions; they are named s1..sN.
sessions = 3
# A file in the target repo that every cycle's prompt includes (optional).
context_file = "AGENTS.md"

[agent]
# Run through `sh -c` in the session's worktree; the prompt arrives on stdin. Claude Code's JSON
# result (--output-format json) is understood: its cost and turns go into the log.
command = "claude -p --model sonnet --output-format json"
# The agent's whole process group is killed past this.
timeout_secs = 1800

[checks]
# At most this many type checks run at once, across all sessions.
max_parallel_typechecks = 2
# Each check is killed past this, and counts as "failed to run".
timeout_secs = 600

# parser: tsc | vitest | jest | cargo | cargo-test | pytest | mypy | regex | exit-code
{checks}

[worker]
# Pause between two cycles of `brl worker`; doubled after each failed cycle, up to max_backoff_secs.
pause_secs = 10
max_backoff_secs = 600

[scheduler]
# With no ready task, the agent picks its own small task (false: the session waits for a task).
self_plan = true
# A task whose cycles end without a kept branch this many times becomes `failed`.
max_attempts = 3
# Idle sessions are reconsidered this often (and at once whenever a worker becomes idle).
interval_secs = 300
# No cycle is granted while used memory is above this percentage (the cgroup's, when tighter).
max_ram_percent = 85
# At most this many cycles at once; 0 = one per session.
max_running = 0

[tmux]
# The tmux server (`tmux -L <socket>`); remove the line to use your default server.
# socket = "brl"
# The tmux session that holds one pane per agent session.
session = "brl"
# A file in layouts/: "tiled" (all panes in one window) or "windows" (one window per session).
layout = "tiled"
# The control room checks the panes this often (one tmux call, whatever the number of sessions).
check_secs = 10
# Each session's terminal output goes to logs/sessions/<s>/pane.log, rotated past this size.
pane_log_max_bytes = 2097152

[server]
# HTTP triggers, served by the control room (`brl up`): GET /healthz, /status; POST /trigger/...
enabled = true
listen = "127.0.0.1:7878"
# POSTs need `Authorization: Bearer <token>`, the token read from this environment variable.
# Listening beyond loopback without a token is refused.
token_env = "BRL_TOKEN"

[tasks]
# At most this many pending tasks (done, failed and dropped ones do not count).
max_pending = 20

[prompt]
# How many recent cycles of the other sessions each prompt shows.
recent_entries = 12
# Bounds on what the prompt includes from skills/ and from the context file.
skills_max_bytes = 8192
context_max_bytes = 16384
"#
    )
}

/// A TOML basic string for `s`.
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    #[test]
    fn every_preset_is_a_valid_config() {
        for p in [
            Preset::Typescript,
            Preset::Rust,
            Preset::Python,
            Preset::Custom,
        ] {
            let text = config_toml("../my \"app\"", p);
            let c = Config::parse(Path::new("brl.toml"), &text)
                .unwrap_or_else(|e| panic!("{p:?}: {e}"));
            assert_eq!(c.repo, Path::new("../my \"app\""));
            assert!(c.checks.typecheck.is_some() && c.checks.test.is_some());
        }
    }

    #[test]
    fn ralph_prompt_is_embedded() {
        assert!(prompt("ralph").is_some_and(|p| p.contains("{{branch}}")));
        assert!(prompt("nope").is_none());
    }
}
