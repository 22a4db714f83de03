//! The agent CLIs brl drives, one module each: the command line that really edits headless,
//! what that command allows, how the agent loads hooks (and which of its flags switch them off),
//! which tool names it uses, which state files it leaves in a worktree, and how its output reads
//! into one [`AgentResult`] (cost, tokens, turns, session, error kind, denials, limits).
//!
//! The cycle and the jobs ask a [`Preset`]; nothing else needs to know an agent's name.
//!
//! ```no_run
//! use brl::agents::Preset;
//! let preset = Preset::from_config(Some("claude"), "claude -p --permission-mode acceptEdits")?;
//! let result = preset.parse_result("{\"type\":\"result\"}", "");
//! # Ok::<(), String>(())
//! ```

use chrono::{DateTime, Utc};
use serde::Serialize;

pub mod aider;
pub mod claude;
pub mod cmdline;
pub mod codex;
pub mod custom;
pub mod gemini;
mod kind;
pub mod limits;
pub mod opencode;
pub mod prices;
pub mod result;
pub mod sandbox;

pub use kind::PresetKind;
pub use prices::{ModelPrice, Prices, PricesConfig};
pub use result::{AgentResult, CostSource, Denial, Limit, LimitKind, denial_reason};

/// How an agent loads hooks, so `brl gate` can be installed where it will run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HookSupport {
    /// A settings file in the worktree holds the hook (Claude Code, Gemini CLI).
    ProjectSettings {
        /// Relative to the worktree.
        path: &'static str,
        /// The hook event run before each tool call.
        event: &'static str,
    },
    /// The hook is given on the agent's command line (Codex: `-c hooks.PreToolUse=[…]`, which
    /// only runs with the trust flag).
    CommandLine {
        trust_flag: &'static str,
        config_key: &'static str,
    },
    /// No hook mechanism: no safety gate for this agent. `own_deny` says what brl relies on
    /// instead, if anything.
    None { own_deny: Option<&'static str> },
}

impl HookSupport {
    pub fn has_gate(self) -> bool {
        !matches!(self, HookSupport::None { .. })
    }
}

/// What a tool does, whatever the agent calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolClass {
    /// Runs a shell command (`Bash`, `shell`, `run_shell_command`).
    Shell,
    /// Writes a whole file (`Write`, `write_file`).
    Write,
    /// Edits part of a file (`Edit`, `replace`).
    Edit,
    /// Applies a patch naming its own paths (Codex `apply_patch`).
    Patch,
    /// Only reads.
    Read,
    /// Reaches the network.
    Network,
    /// Asks the user a question (nobody is there to answer).
    Ask,
    /// Internal bookkeeping with no effect outside the agent (plans, to-do lists).
    Internal,
}

/// Whether `rel` matches one of `patterns` (as [`PresetKind::state_paths`] writes them): `dir/`
/// matches everything under `dir`, a `*` in the last part matches any characters there
/// (`.aider*` matches `.aider.chat.history.md` and everything under `.aider.tags.cache.v4/`),
/// anything else matches that exact path. Patterns are anchored at the worktree's root.
pub fn is_state_path(patterns: &[&str], rel: &str) -> bool {
    let rel = rel.trim_start_matches("./");
    patterns.iter().any(|p| {
        if let Some(dir) = p.strip_suffix('/') {
            return rel == dir || rel.starts_with(&format!("{dir}/"));
        }
        match p.split_once('*') {
            Some((pre, post)) => {
                // the pattern's own part of the path: up to the first `/` after the prefix
                let first = match rel.get(pre.len()..).and_then(|r| r.find('/')) {
                    Some(i) => &rel[..pre.len() + i],
                    None => rel,
                };
                first.len() >= pre.len() + post.len()
                    && first.starts_with(pre)
                    && first.ends_with(post)
            }
            None => rel == *p,
        }
    })
}

/// Every preset's state paths (for a leftover commit that must not pick up any agent's state,
/// whichever agent ran before).
pub fn all_state_paths() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = PresetKind::ALL
        .iter()
        .flat_map(|k| k.state_paths().iter().copied())
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// What a parser gets besides the output.
pub struct ParseCtx<'a> {
    pub prices: &'a Prices,
    /// The model the command line names (`-m`, `--model`), if any.
    pub model: Option<String>,
    pub now: DateTime<Utc>,
}

/// An agent preset bound to its `[agent] command`.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    kind: PresetKind,
    command: String,
    prices: Prices,
    sandbox: sandbox::Sandbox,
}

impl Preset {
    /// The preset for `[agent] preset` (`None`: detected from the command) and `[agent]
    /// command`, the command checked: a flag that would stop the gate from loading, or a command
    /// that does not run the preset's agent, is an error naming it and the fix.
    pub fn from_config(preset: Option<&str>, command: &str) -> Result<Preset, String> {
        let kind = match preset {
            Some(name) => PresetKind::parse(name)?,
            None => PresetKind::detect(command),
        };
        let p = Preset::unchecked(kind, command);
        p.check_command(command)?;
        Ok(p)
    }

    /// No checks (for commands already checked, and tests).
    pub fn unchecked(kind: PresetKind, command: &str) -> Preset {
        Preset {
            kind,
            command: command.to_string(),
            prices: Prices::default(),
            sandbox: sandbox::Sandbox::None,
        }
    }

    /// Run the agent inside this sandbox (`[agent] sandbox`).
    pub fn with_sandbox(mut self, sandbox: sandbox::Sandbox) -> Preset {
        self.sandbox = sandbox;
        self
    }

    pub fn sandbox(&self) -> sandbox::Sandbox {
        self.sandbox
    }

    /// Use this price table (`[prices]` from brl.toml) instead of the defaults.
    pub fn with_prices(mut self, prices: Prices) -> Preset {
        self.prices = prices;
        self
    }

    pub fn kind(&self) -> PresetKind {
        self.kind
    }

    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    pub fn command(&self) -> &str {
        &self.command
    }

    pub fn hooks(&self) -> HookSupport {
        self.kind.hooks()
    }

    pub fn state_paths(&self) -> &'static [&'static str] {
        self.kind.state_paths()
    }

    /// Whether `rel` (a path relative to the worktree, `/`-separated) is agent state this preset
    /// lists: brl's leftover commit must leave it out.
    pub fn is_state_path(&self, rel: &str) -> bool {
        is_state_path(self.state_paths(), rel)
    }

    pub fn tool_class(&self, tool: &str) -> Option<ToolClass> {
        self.kind.tool_class(tool)
    }

    pub fn default_command(&self, checks: &[&str], brl: &str) -> String {
        self.kind.default_command(checks, brl)
    }

    /// Check a command line for this preset; the error names the flag (or what is missing) and
    /// the fix, and starts with `[agent] command`.
    pub fn check_command(&self, command: &str) -> Result<(), String> {
        let fail = |why: String| format!("[agent] command: {why}");
        let programs = self.kind.programs();
        if programs.is_empty() {
            return cmdline::words(command).map(|_| ()).map_err(fail);
        }
        let found = cmdline::find(command, programs).map_err(fail)?;
        if found.is_empty() {
            return Err(fail(format!(
                "preset `{}` but the command does not run `{}` (brl cannot check what a \
                 wrapper passes to the agent; fix: call `{}` in the command itself, or set \
                 [agent] preset = \"custom\")",
                self.name(),
                programs[0],
                programs[0]
            )));
        }
        let checked = match self.kind {
            PresetKind::Claude => claude::check(&found),
            PresetKind::Codex => codex::check(&found),
            PresetKind::Gemini => gemini::check(&found),
            PresetKind::Opencode => opencode::check(&found),
            PresetKind::Aider => aider::check(&found),
            PresetKind::Custom => Ok(()),
        };
        checked.map_err(fail)
    }

    /// What `command` lets the agent do (or not do) that the operator may not expect: a Claude
    /// command without a permission mode edits nothing, a Codex command without `--json` reports
    /// no tokens, … Not errors: for `brl init`, `brl status` and the doctor to show.
    pub fn warnings(&self, command: &str) -> Vec<String> {
        let Ok(found) = cmdline::find(command, self.kind.programs()) else {
            return Vec::new();
        };
        let mut out = match self.kind {
            PresetKind::Claude => claude::warnings(&found),
            PresetKind::Codex => codex::warnings(&found),
            PresetKind::Gemini => gemini::warnings(&found),
            PresetKind::Opencode => opencode::warnings(&found),
            PresetKind::Aider => aider::warnings(&found),
            PresetKind::Custom => Vec::new(),
        };
        if !self.hooks().has_gate() {
            out.push(format!("no safety gate for this agent ({})", self.name()));
        }
        out
    }

    /// The model the command names (`--model sonnet`, `-m gpt-5-codex`, `-c model=…`).
    pub fn model(&self) -> Option<String> {
        let found = cmdline::find(&self.command, self.kind.programs()).ok()?;
        let inv = found.first()?;
        let named = inv.values(&["-m", "--model"]).pop();
        named.or_else(|| {
            inv.values(&["-c", "--config"])
                .into_iter()
                .rev()
                .find_map(|kv| {
                    kv.strip_prefix("model=")
                        .map(|m| m.trim_matches(['"', '\'']).to_string())
                })
        })
    }

    /// Read what the agent reported from its stdout (and stderr, for errors it prints there).
    pub fn parse_result(&self, stdout: &str, stderr: &str) -> AgentResult {
        self.parse_result_at(stdout, stderr, Utc::now())
    }

    /// [`Preset::parse_result`] with the clock given (for relative reset times).
    pub fn parse_result_at(&self, stdout: &str, stderr: &str, now: DateTime<Utc>) -> AgentResult {
        let ctx = ParseCtx {
            prices: &self.prices,
            model: self.model(),
            now,
        };
        match self.kind {
            PresetKind::Claude => claude::parse(stdout, stderr, &ctx),
            PresetKind::Codex => codex::parse(stdout, stderr, &ctx),
            PresetKind::Gemini => gemini::parse(stdout, stderr, &ctx),
            PresetKind::Opencode => opencode::parse(stdout, stderr, &ctx),
            PresetKind::Aider => aider::parse(stdout, stderr, &ctx),
            PresetKind::Custom => custom::parse(stdout, stderr, &ctx),
        }
    }

    /// The cycle's reason when the agent was denied tools: "Edit ×3, Bash(git commit) ×1 denied —
    /// the agent command lacks a permission mode …"; `None` when nothing was denied.
    pub fn denial_reason(&self, denials: &[Denial]) -> Option<String> {
        denial_reason(denials, self.kind.denial_hint())
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_documented;
#[cfg(test)]
mod tests_real;
#[cfg(test)]
mod tests_warnings;
