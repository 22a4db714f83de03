//! [`PresetKind`]: which agent CLI, and the per-agent facts each module holds, by kind.

use serde::Serialize;

use super::{HookSupport, ToolClass, aider, claude, cmdline, codex, custom, gemini, opencode};

/// One agent CLI brl knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PresetKind {
    Claude,
    Codex,
    Gemini,
    Opencode,
    Aider,
    /// Any other command: no gate, no known result format beyond Claude-shaped JSON.
    Custom,
}

impl PresetKind {
    pub const ALL: [PresetKind; 6] = [
        PresetKind::Claude,
        PresetKind::Codex,
        PresetKind::Gemini,
        PresetKind::Opencode,
        PresetKind::Aider,
        PresetKind::Custom,
    ];

    /// The name used in `brl init --agent <name>` and `[agent] preset = "<name>"`.
    pub fn name(self) -> &'static str {
        match self {
            PresetKind::Claude => "claude",
            PresetKind::Codex => "codex",
            PresetKind::Gemini => "gemini",
            PresetKind::Opencode => "opencode",
            PresetKind::Aider => "aider",
            PresetKind::Custom => "custom",
        }
    }

    pub fn parse(name: &str) -> Result<PresetKind, String> {
        PresetKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = PresetKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown agent preset `{name}` (fix: use one of {})",
                    names.join(", ")
                )
            })
    }

    /// The program names that run this agent.
    pub fn programs(self) -> &'static [&'static str] {
        match self {
            PresetKind::Claude => claude::PROGRAMS,
            PresetKind::Codex => codex::PROGRAMS,
            PresetKind::Gemini => gemini::PROGRAMS,
            PresetKind::Opencode => opencode::PROGRAMS,
            PresetKind::Aider => aider::PROGRAMS,
            PresetKind::Custom => &[],
        }
    }

    /// The preset whose program the command runs (`custom` when none does, or when it runs more
    /// than one agent).
    pub fn detect(command: &str) -> PresetKind {
        let found: Vec<PresetKind> = PresetKind::ALL
            .into_iter()
            .filter(|k| {
                !k.programs().is_empty()
                    && cmdline::find(command, k.programs()).is_ok_and(|v| !v.is_empty())
            })
            .collect();
        match found.as_slice() {
            [one] => *one,
            _ => PresetKind::Custom,
        }
    }

    /// The command line `brl init --agent <name>` writes: it really edits headless and keeps
    /// the gate loaded. `checks` are the project's check commands (typecheck, test), which the
    /// Claude preset allows the agent to run; `brl` is the path of the brl executable (Codex gets
    /// the gate hook on its command line).
    pub fn default_command(self, checks: &[&str], brl: &str) -> String {
        match self {
            PresetKind::Claude => claude::default_command(checks),
            PresetKind::Codex => codex::default_command(brl),
            PresetKind::Gemini => gemini::default_command(checks),
            PresetKind::Opencode => opencode::default_command(),
            PresetKind::Aider => aider::default_command(),
            PresetKind::Custom => custom::default_command(),
        }
    }

    /// The comment `brl init` writes above the command: what it allows and what it does not.
    pub fn comment(self) -> &'static str {
        match self {
            PresetKind::Claude => claude::COMMENT,
            PresetKind::Codex => codex::COMMENT,
            PresetKind::Gemini => gemini::COMMENT,
            PresetKind::Opencode => opencode::COMMENT,
            PresetKind::Aider => aider::COMMENT,
            PresetKind::Custom => custom::COMMENT,
        }
    }

    /// Whether and how the agent loads hooks (what the gate installer must do).
    pub fn hooks(self) -> HookSupport {
        match self {
            PresetKind::Claude => claude::HOOKS,
            PresetKind::Codex => codex::HOOKS,
            PresetKind::Gemini => gemini::HOOKS,
            PresetKind::Opencode => opencode::HOOKS,
            PresetKind::Aider => aider::HOOKS,
            PresetKind::Custom => custom::HOOKS,
        }
    }

    /// Files and directories (gitignore patterns, relative to the worktree) the agent or its gate
    /// leaves in a worktree; brl's leftover commit must never include them.
    pub fn state_paths(self) -> &'static [&'static str] {
        match self {
            PresetKind::Claude => claude::STATE_PATHS,
            PresetKind::Codex => codex::STATE_PATHS,
            PresetKind::Gemini => gemini::STATE_PATHS,
            PresetKind::Opencode => opencode::STATE_PATHS,
            PresetKind::Aider => aider::STATE_PATHS,
            PresetKind::Custom => &[],
        }
    }

    /// What the agent's tool of that name does, for the gate; `None` for a name this agent is
    /// not known to use (the gate blocks unknown tools that may write or execute).
    pub fn tool_class(self, tool: &str) -> Option<ToolClass> {
        match self {
            PresetKind::Claude => claude::tool_class(tool),
            PresetKind::Codex => codex::tool_class(tool),
            PresetKind::Gemini => gemini::tool_class(tool),
            PresetKind::Opencode | PresetKind::Aider | PresetKind::Custom => None,
        }
    }

    /// Directories and files under `$HOME` the agent writes its own state to (sessions, auth,
    /// caches): writable inside `[agent] sandbox = "bwrap"`.
    pub fn state_dirs(self) -> &'static [&'static str] {
        match self {
            PresetKind::Claude => &[".claude", ".claude.json", ".claude.json.backup", ".npm"],
            PresetKind::Codex => &[".codex", ".npm"],
            PresetKind::Gemini => &[".gemini", ".npm"],
            PresetKind::Opencode => &[
                ".local/share/opencode",
                ".local/state/opencode",
                ".config/opencode",
                ".cache/opencode",
                ".npm",
            ],
            PresetKind::Aider => &[".aider", ".cache/aider"],
            PresetKind::Custom => &[],
        }
    }

    /// Whether the agent is known to work inside `[agent] sandbox = "bwrap"`, and what was
    /// checked: shown by `brl init` and in docs.
    pub fn sandbox_note(self) -> &'static str {
        match self {
            PresetKind::Claude | PresetKind::Gemini | PresetKind::Opencode => {
                "works in bwrap: tests/sandbox.rs runs the real CLI there (it edits and commits in \
                 its worktree; its shell tool cannot touch the checkout or main)"
            }
            PresetKind::Codex => {
                "works in bwrap with its own sandbox off (--dangerously-bypass-approvals-and-sandbox: \
                 brl's sandbox confines it; tests/sandbox.rs runs the real CLI so, it edits and \
                 commits and its shell tool cannot touch the checkout or main); with -s \
                 workspace-write inside brl's sandbox its commands fail (its own sandbox is bwrap, \
                 which cannot map uids without capabilities)"
            }
            PresetKind::Aider => {
                "works in bwrap: tests/sandbox.rs runs the real CLI there (it edits and commits in \
                 its worktree)"
            }
            PresetKind::Custom => {
                "a custom command: brl does not know what it needs outside the worktree"
            }
        }
    }

    /// Why the agent was denied tools, for the cycle's reason.
    pub(super) fn denial_hint(self) -> &'static str {
        match self {
            PresetKind::Claude => claude::DENIAL_HINT,
            PresetKind::Gemini => gemini::DENIAL_HINT,
            PresetKind::Opencode => opencode::DENIAL_HINT,
            PresetKind::Codex => codex::DENIAL_HINT,
            PresetKind::Aider => aider::DENIAL_HINT,
            PresetKind::Custom => "the agent refused them",
        }
    }
}
