//! `brl gate`: the safety hook. The agent CLI runs it before each tool call (Claude Code and
//! Codex as a `PreToolUse` hook, Gemini CLI as a `BeforeTool` hook) with the call as JSON on
//! stdin; exit 0 lets the call run, exit 2 blocks it and the reason printed on stderr goes back
//! to the agent.
//!
//! Parse, then judge effects. What each agent's tool is ([`tools`]: shell, file write/edit,
//! patch, read; a tool it does not know is blocked unless `[gate] allow_tools` names it); a
//! shell script parsed by a real bash parser into its simple commands ([`shell`], on
//! `brush-parser`; what it rejects is blocked), the command a word list really runs ([`argv`]),
//! paths against the worktree ([`paths`]); then pure rules ([`rules`] walks the script and
//! follows `cd`): what each command changes and where ([`targets`], [`effects`]), git
//! ([`git`], and [`git_outside`] for other checkouts), inline interpreter code and downloads run
//! unread ([`interp`]), process kills, tmux, `/proc`, forge and database verbs ([`system`]),
//! deploys ([`deploy`]), secrets ([`secrets`]) and SQL ([`commands`]). [`run`] does the IO of one
//! hook call and [`install`] writes the hook where the session's agent loads it
//! (`.claude/settings.json`, `.gemini/settings.json`; Codex gets it on its command line).

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

pub mod argv;
pub mod commands;
pub mod deploy;
pub mod effects;
pub mod git;
pub mod git_outside;
pub mod install;
pub mod interp;
pub mod paths;
pub mod rules;
pub mod run;
pub mod secrets;
pub mod shell;
pub mod system;
pub mod targets;
pub mod tools;

pub use rules::{Block, Context, Verdict, check};

/// The part of a hook input the gate reads (Claude-shaped for all three agents). Other fields
/// (`transcript_path`, `permission_mode`, `tool_use_id`, …) are ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct HookInput {
    /// `Bash`, `Write`, `Edit`, `MultiEdit`, `NotebookEdit`, `AskUserQuestion`, …
    pub tool_name: String,
    /// The tool's arguments: `command` for Bash, `file_path` (or `notebook_path`) for edits.
    #[serde(default)]
    pub tool_input: Value,
    /// The agent's working directory; relative paths are resolved against it.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// Claude Code's own session id (not brl's session name).
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub hook_event_name: Option<String>,
}

impl HookInput {
    /// A Bash call of `command` in `cwd`.
    pub fn bash(command: &str, cwd: &str) -> HookInput {
        HookInput {
            tool_name: "Bash".into(),
            tool_input: serde_json::json!({ "command": command }),
            cwd: Some(PathBuf::from(cwd)),
            session_id: None,
            hook_event_name: Some("PreToolUse".into()),
        }
    }
}

#[cfg(test)]
#[path = "agents_tests.rs"]
mod agents_tests;
