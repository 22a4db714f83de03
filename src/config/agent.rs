//! `[agent]`: the command brl runs, its preset (which agent CLI it is: how its output reads, which
//! flags would switch the gate off, which state files it leaves), and the price table that turns
//! token counts into dollars for agents that report tokens only.

use std::num::NonZeroU64;
use std::path::Path;

use serde::Deserialize;

use super::{Config, ConfigError, errors};
use crate::agents::sandbox::Sandbox;
use crate::agents::{Preset, PresetKind, Prices};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Run through `sh -c` in the session's worktree, the prompt on stdin.
    pub command: String,
    /// `claude`, `codex`, `gemini`, `opencode`, `aider` or `custom`; detected from the command
    /// when absent.
    #[serde(default)]
    pub preset: Option<String>,
    #[serde(default = "default_agent_timeout")]
    pub timeout_secs: NonZeroU64,
    /// `"none"` (default) or `"bwrap"`: run the agent under bubblewrap, the file system
    /// read-only but for its worktree (see [`crate::agents::sandbox`]).
    #[serde(default)]
    pub sandbox: Sandbox,
}

fn default_agent_timeout() -> NonZeroU64 {
    NonZeroU64::new(1800).expect("not zero")
}

impl Config {
    /// The agent preset bound to `[agent] command` and the `[prices]` table. The config was
    /// checked at load ([`Config::parse`]), so this does not fail: a preset name that could
    /// not be read there cannot reach here, and the command is not checked again.
    pub fn preset(&self) -> Preset {
        let kind = match self.agent.preset.as_deref() {
            Some(name) => PresetKind::parse(name).unwrap_or(PresetKind::Custom),
            None => PresetKind::detect(&self.agent.command),
        };
        let prices = Prices::with_overrides(&self.prices).unwrap_or_default();
        Preset::unchecked(kind, &self.agent.command)
            .with_prices(prices)
            .with_sandbox(self.agent.sandbox)
    }

    /// `[agent] preset` and `[agent] command` checked together (a flag that stops the gate from
    /// loading is an error naming it), and the `[prices]` table.
    pub(super) fn validate_agent(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let invalid = |table: &str, key: &str, dotted: &str, message: String, fix: String| {
            let at = errors::find_key(text, table, key).unwrap_or(0);
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line: errors::line_of(text, at),
                key: dotted.to_string(),
                message,
                fix,
            }
        };
        if let Some(name) = &self.agent.preset
            && let Err(e) = PresetKind::parse(name)
        {
            let (message, fix) = split_fix(&e);
            return Err(invalid("agent", "preset", "agent.preset", message, fix));
        }
        if let Err(e) = Preset::from_config(self.agent.preset.as_deref(), &self.agent.command) {
            let e = e.trim_start_matches("[agent] command: ").to_string();
            let (message, fix) = split_fix(&e);
            return Err(invalid("agent", "command", "agent.command", message, fix));
        }
        if let Err(e) = Prices::with_overrides(&self.prices) {
            let model = e.split('"').nth(1).map(str::to_string).unwrap_or_default();
            let (message, fix) = split_fix(&e);
            let table = format!("prices.\"{model}\"");
            let at = errors::find_table(text, &table).unwrap_or(0);
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: errors::line_of(text, at),
                key: table,
                message,
                fix,
            });
        }
        Ok(())
    }
}

/// `"<what> (fix: <fix>)"` → (what, fix); without a fix part, a general one.
fn split_fix(e: &str) -> (String, String) {
    match e.rsplit_once("(fix: ") {
        Some((what, fix)) => (
            what.trim().to_string(),
            fix.trim_end().trim_end_matches(')').to_string(),
        ),
        None => (
            e.to_string(),
            "see docs/agents.md for each preset's command line".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::CostSource;

    fn config(agent: &str, extra: &str) -> Result<Config, String> {
        let text = format!("repo = \"../app\"\n\n[agent]\n{agent}\n{extra}");
        Config::parse(Path::new("/h/brl.toml"), &text).map_err(|e| e.to_string())
    }

    /// `command = <the Codex preset's own command> -m <model>` (a TOML literal string).
    fn codex(model: &str) -> String {
        let cmd = PresetKind::Codex.default_command(&[], "brl");
        format!("command = '''{cmd} -m {model}'''")
    }

    #[test]
    fn a_hook_disabling_flag_is_an_error_naming_flag_file_line_and_key() {
        let m = config("command = \"claude -p --bare --output-format json\"", "")
            .expect_err("--bare turns the gate off");
        assert!(m.contains("/h/brl.toml"), "{m}");
        assert!(m.contains("line 4"), "{m}");
        assert!(m.contains("`agent.command`"), "{m}");
        assert!(m.contains("--bare"), "{m}");
        assert!(m.contains("fix: remove `--bare`"), "{m}");
        let m = config(
            "timeout_secs = 60\ncommand = \"claude -p --setting-sources user\"",
            "",
        )
        .expect_err("no project settings");
        assert!(
            m.contains("line 5") && m.contains("--setting-sources"),
            "{m}"
        );
    }

    #[test]
    fn the_preset_is_checked_and_detected() {
        let m = config("command = \"claude -p\"\npreset = \"claud\"", "").expect_err("typo");
        assert!(m.contains("`agent.preset`") && m.contains("line 5"), "{m}");
        assert!(m.contains("codex"), "{m}");
        let m = config("command = \"sh run.sh\"\npreset = \"codex\"", "").expect_err("wrapper");
        assert!(m.contains("`agent.command`") && m.contains("custom"), "{m}");
        let c = config(&codex("gpt-5-codex"), "").expect("valid");
        assert_eq!(c.preset().kind(), PresetKind::Codex);
        let c = config("command = \"sh tests/agents/fix_one.sh\"", "").expect("valid");
        assert_eq!(c.preset().kind(), PresetKind::Custom);
    }

    #[test]
    fn the_sandbox_is_none_bwrap_or_an_error_naming_the_key() {
        let c = config("command = \"claude -p\"", "").expect("valid");
        assert_eq!(c.agent.sandbox, Sandbox::None);
        let c = config("command = \"claude -p\"\nsandbox = \"bwrap\"", "").expect("valid");
        assert_eq!(c.preset().sandbox(), Sandbox::Bwrap);
        let m = config("command = \"claude -p\"\nsandbox = \"firejail\"", "")
            .expect_err("unknown sandbox");
        assert!(m.contains("sandbox") && m.contains("bwrap"), "{m}");
    }

    #[test]
    fn prices_from_the_config_compute_dollars() {
        let extra = "[prices.\"my-model\"]\ninput_usd_per_mtok = 2.0\noutput_usd_per_mtok = 4.0\n";
        let c = config(&codex("my-model"), extra).expect("valid");
        let out = r#"{"type":"turn.completed","usage":{"input_tokens":1000000,"cached_input_tokens":0,"output_tokens":1000000}}"#;
        let r = c.preset().parse_result(out, "");
        assert_eq!(r.cost_source, Some(CostSource::Computed), "{r:?}");
        assert!((r.cost_usd.unwrap_or(0.0) - 6.0).abs() < 1e-9, "{r:?}");
        let bad = "[prices.\"my-model\"]\ninput_usd_per_mtok = -1.0\noutput_usd_per_mtok = 4.0\n";
        let m = config(&codex("my-model"), bad).expect_err("negative");
        assert!(
            m.contains("prices.\"my-model\"") && m.contains("line 5"),
            "{m}"
        );
    }
}
