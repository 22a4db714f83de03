//! What a hook call asks for, whichever agent sent it: the tool's class (Claude Code, Codex and
//! Gemini CLI name their tools differently, [`crate::agents::PresetKind::tool_class`] knows each),
//! the shell script of a shell call, the target of a file tool, the paths of a patch.
//!
//! The hook inputs are Claude-shaped for all three (`tool_name`, `tool_input`, `cwd`): Codex
//! sends its shell calls as `Bash` with `tool_input.command` and its patches as `apply_patch` with
//! the patch text in `tool_input.command`; Gemini sends `run_shell_command` (`command`),
//! `write_file` and `replace` (`file_path`) — see `tests/fixtures/agents/*/hook_inputs.jsonl`.

use serde_json::Value;

use crate::agents::codex::{self, PatchOp};
use crate::agents::{PresetKind, ToolClass};

/// The agents whose tools the gate knows, in the order a name is looked up (no name means one
/// thing to one agent and another to the next).
const WITH_HOOKS: [PresetKind; 3] = [PresetKind::Claude, PresetKind::Codex, PresetKind::Gemini];

/// Shell-class tools that run no command of their own: they read the output of, or stop, a
/// shell the agent started earlier (which the gate already checked).
const SHELL_HELPERS: &[&str] = &["BashOutput", "KillShell", "KillBash"];

/// Tools the pinned CLIs really offer their model (every request's tool list, recorded by
/// `tests/gate_agents.rs`) that the presets' `tool_class` tables do not name, and what the gate
/// does with them. That test fails when a CLI offers a tool the gate does not know.
const MEASURED: &[(&str, Kind)] = &[
    // Claude Code 2.1.197: scheduling, task lists, messages to its own sub-agents, reports.
    ("CronCreate", Kind::Pass),
    ("CronDelete", Kind::Pass),
    ("CronList", Kind::Pass),
    ("ScheduleWakeup", Kind::Pass),
    ("ReportFindings", Kind::Pass),
    ("SendMessage", Kind::Pass),
    ("TaskCreate", Kind::Pass),
    ("TaskGet", Kind::Pass),
    ("TaskList", Kind::Pass),
    ("TaskOutput", Kind::Pass),
    ("TaskStop", Kind::Pass),
    ("TaskUpdate", Kind::Pass),
    ("Workflow", Kind::Pass),
    // … and its own git worktrees: the session's work must stay in the session's worktree.
    ("EnterWorktree", Kind::OwnWorktree),
    ("ExitWorktree", Kind::OwnWorktree),
    // Codex 0.171.0: goals, sub-agents, and a question for the user.
    ("create_goal", Kind::Pass),
    ("get_goal", Kind::Pass),
    ("update_goal", Kind::Pass),
    ("multi_agent_v1", Kind::Pass),
    ("request_user_input", Kind::Ask),
    // Gemini CLI 0.61.0: skills, plans, sub-agents, topics, background processes, search.
    ("activate_skill", Kind::Pass),
    ("enter_plan_mode", Kind::Pass),
    ("invoke_agent", Kind::Pass),
    ("update_topic", Kind::Pass),
    ("grep_search", Kind::Pass),
    ("list_background_processes", Kind::Pass),
    ("read_background_output", Kind::Pass),
];

/// What the gate does with a call of `tool`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Runs shell commands: every simple command is checked (and any patch fed to `apply_patch`).
    Shell,
    /// Writes or edits the file the call names: it must lie inside the worktree.
    File,
    /// Applies a patch: every path it names must lie inside the worktree.
    Patch,
    /// Asks a person: always blocked (nobody is there).
    Ask,
    /// Makes or enters a git worktree of the agent's own: always blocked (the session's work
    /// must stay in the worktree brl gave it).
    OwnWorktree,
    /// Reads, reaches the network through the agent's own permission checks, keeps the agent's
    /// own notes, or helps with a shell already checked: passes.
    Pass,
    /// A tool none of the agents is known to have: it may write or execute, so it is blocked
    /// unless `[gate] allow_tools` names it.
    Unknown,
}

/// The class of `tool` for the first agent that knows the name.
pub fn class(tool: &str) -> Option<ToolClass> {
    WITH_HOOKS.iter().find_map(|k| k.tool_class(tool))
}

pub fn kind(tool: &str) -> Kind {
    if SHELL_HELPERS.contains(&tool) {
        return Kind::Pass;
    }
    if let Some((_, k)) = MEASURED.iter().find(|(name, _)| *name == tool) {
        return *k;
    }
    match class(tool) {
        Some(ToolClass::Shell) => Kind::Shell,
        Some(ToolClass::Write | ToolClass::Edit) => Kind::File,
        Some(ToolClass::Patch) => Kind::Patch,
        Some(ToolClass::Ask) => Kind::Ask,
        Some(ToolClass::Read | ToolClass::Network | ToolClass::Internal) => Kind::Pass,
        None => Kind::Unknown,
    }
}

/// The shell script of a shell call: `command` (Claude, Gemini, Codex as `Bash`), `cmd` (Codex
/// `exec_command`), a word list (Codex `shell`: `["bash", "-lc", "…"]`, quoted back into one
/// script so the nested script is checked too), or the text typed into a running shell (Codex
/// `write_stdin`: `chars`). `Err` names what is missing.
pub fn shell_script(tool: &str, input: &Value) -> Result<String, String> {
    for key in ["command", "cmd", "chars"] {
        match input.get(key) {
            Some(Value::String(s)) => return Ok(s.clone()),
            Some(Value::Array(words)) => {
                let words: Option<Vec<&str>> = words.iter().map(Value::as_str).collect();
                let Some(words) = words else {
                    return Err(format!(
                        "the {tool} call's `{key}` is not a list of strings"
                    ));
                };
                return Ok(words
                    .iter()
                    .map(|w| sh_word(w))
                    .collect::<Vec<_>>()
                    .join(" "));
            }
            Some(_) => return Err(format!("the {tool} call's `{key}` is not a string")),
            None => {}
        }
    }
    Err(format!("the {tool} call has no `command` string"))
}

/// The directory a shell call says it runs in (Codex `workdir`), if any.
pub fn workdir(input: &Value) -> Option<&str> {
    input
        .get("workdir")
        .or_else(|| input.get("dir_path"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The file a write or edit call names, and the key it came from: `notebook_path` for
/// `NotebookEdit`, else `file_path` (Claude, Gemini), else `path` / `absolute_path`.
pub fn file_target<'a>(tool: &str, input: &'a Value) -> (Option<&'a str>, &'static str) {
    let keys: &[&'static str] = if tool == "NotebookEdit" {
        &["notebook_path"]
    } else {
        &["file_path", "path", "absolute_path"]
    };
    for key in keys {
        if let Some(v) = input.get(*key) {
            return (v.as_str(), key);
        }
    }
    (None, keys[0])
}

/// The text of a patch call: `command` (Codex's hook input), else `patch` / `input`.
pub fn patch_text(input: &Value) -> Option<&str> {
    ["command", "patch", "input"]
        .iter()
        .find_map(|k| input.get(*k).and_then(Value::as_str))
}

/// Every path a patch (or a shell script feeding one to `apply_patch`) names.
pub fn patch_paths(text: &str) -> Vec<(PatchOp, String)> {
    codex::patch_paths(text)
}

fn sh_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_agents_names_are_known() {
        for (tool, want) in [
            ("Bash", Kind::Shell),
            ("run_shell_command", Kind::Shell),
            ("shell", Kind::Shell),
            ("exec_command", Kind::Shell),
            ("Write", Kind::File),
            ("Edit", Kind::File),
            ("write_file", Kind::File),
            ("replace", Kind::File),
            ("apply_patch", Kind::Patch),
            ("Read", Kind::Pass),
            ("read_file", Kind::Pass),
            ("BashOutput", Kind::Pass),
            ("AskUserQuestion", Kind::Ask),
            ("request_user_input", Kind::Ask),
            ("EnterWorktree", Kind::OwnWorktree),
            ("TaskCreate", Kind::Pass),
            ("mcp__db__execute", Kind::Unknown),
            ("", Kind::Unknown),
        ] {
            assert_eq!(kind(tool), want, "{tool}");
        }
    }

    #[test]
    fn shell_scripts_of_each_shape() {
        let s = |v: Value| shell_script("t", &v);
        assert_eq!(s(json!({"command": "ls -l"})).as_deref(), Ok("ls -l"));
        assert_eq!(s(json!({"cmd": "ls"})).as_deref(), Ok("ls"));
        assert_eq!(
            s(json!({"command": ["bash", "-lc", "rm -rf '/x y'"]})).as_deref(),
            Ok(r"bash -lc 'rm -rf '\''/x y'\'''")
        );
        assert!(s(json!({"command": [1]})).is_err());
        assert!(s(json!({"command": 3})).is_err());
        assert!(s(json!({})).is_err());
    }

    #[test]
    fn file_targets() {
        let i = json!({"file_path": "a", "notebook_path": "b"});
        assert_eq!(file_target("Write", &i), (Some("a"), "file_path"));
        assert_eq!(
            file_target("NotebookEdit", &i),
            (Some("b"), "notebook_path")
        );
        assert_eq!(
            file_target("NotebookEdit", &json!({"file_path": "a"})).0,
            None
        );
        assert_eq!(file_target("replace", &json!({"path": "p"})).0, Some("p"));
    }
}
