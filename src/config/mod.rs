//! `brl.toml`: the schema, its defaults, and validation whose messages name the file, the line,
//! the key and the fix. Unknown keys are errors: a typo never falls back to a default silently.

use std::num::{NonZeroU32, NonZeroU64};
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::{Deserialize, Deserializer};

use crate::checks::parse::{ParserKind, RegexRules};

mod agent;
mod control;
mod errors;
mod fixer;
mod gate;
mod hosts;
mod jobs;
pub mod keys;
mod notify;
mod worktree;
pub use agent::AgentConfig;
pub use control::{
    BudgetConfig, SchedulerConfig, ServerConfig, TmuxConfig, derived_port, derived_tmux_session,
};
pub use errors::ConfigError;
use errors::from_toml_error;
pub use fixer::FixerConfig;
pub use gate::GateConfig;
pub use hosts::HostConfig;
pub use jobs::{DoctorConfig, ReviewConfig, ReviewMode, ReviewStyle, StandupConfig};
pub use notify::{NotifyConfig, TelegramConfig};
pub use worktree::WorktreeConfig;

/// The whole configuration of a home.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The target git repository, relative to the home or absolute.
    pub repo: PathBuf,
    /// The branch that approvals merge into.
    #[serde(default = "default_main")]
    pub main: String,
    /// Number of sessions; they are named s1..sN.
    #[serde(default = "default_sessions")]
    pub sessions: NonZeroU32,
    /// Set in a host's own home by `brl hosts setup`: this home runs the sessions of the fleet's
    /// host of that name, so they are named `<host>-s1..<host>-sN` as the control room knows them.
    #[serde(default)]
    pub host: Option<String>,
    /// A file in the target repo read in the Read phase (optional).
    #[serde(default)]
    pub context_file: Option<String>,
    pub agent: AgentConfig,
    #[serde(default)]
    pub checks: ChecksConfig,
    /// `[worktree]`: the setup that makes a fresh worktree ready for the checks.
    #[serde(default)]
    pub worktree: WorktreeConfig,
    #[serde(default)]
    pub worker: WorkerConfig,
    #[serde(default)]
    pub prompt: PromptConfig,
    #[serde(default)]
    pub scheduler: SchedulerConfig,
    #[serde(default)]
    pub tasks: TasksConfig,
    #[serde(default)]
    pub tmux: TmuxConfig,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub budget: BudgetConfig,
    #[serde(default)]
    pub gate: GateConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
    #[serde(default)]
    pub review: ReviewConfig,
    #[serde(default)]
    pub standup: StandupConfig,
    #[serde(default)]
    pub doctor: DoctorConfig,
    /// `[fixer]`: repair cycles for conflicting and stale review-queue branches.
    #[serde(default)]
    pub fixer: FixerConfig,
    /// `[[hosts]]`: machines that run more sessions over SSH (`<host>-s1..`).
    #[serde(default)]
    pub hosts: Vec<HostConfig>,
    /// The dashboard's keys: action name → key(s), replacing that action's defaults.
    #[serde(default)]
    pub keys: keys::KeysConfig,
    /// `[prices."<model>"]`: dollars per million tokens, on top of the presets' defaults (for
    /// agents that report tokens only).
    #[serde(default)]
    pub prices: crate::agents::PricesConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TasksConfig {
    /// At most this many pending (not yet done, failed or dropped) tasks.
    #[serde(default = "default_max_pending")]
    pub max_pending: usize,
}

impl Default for TasksConfig {
    fn default() -> Self {
        TasksConfig {
            max_pending: default_max_pending(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksConfig {
    #[serde(default = "default_parallel_typechecks")]
    pub max_parallel_typechecks: NonZeroU32,
    #[serde(default = "default_check_timeout")]
    pub timeout_secs: NonZeroU64,
    #[serde(default)]
    pub typecheck: Option<toml::Spanned<CheckConfig>>,
    #[serde(default)]
    pub test: Option<toml::Spanned<CheckConfig>>,
    /// Re-runs of the test check on the same commit that must reproduce a test regression
    /// before it discards a change (and that confirm a baseline's failures); 0 = no re-run.
    #[serde(default = "default_confirm_runs")]
    pub confirm_runs: u32,
    /// Days a discarded cycle's commit stays reachable under `refs/brl/discarded/`.
    #[serde(default = "default_keep_discarded_days")]
    pub keep_discarded_days: u32,
}

impl Default for ChecksConfig {
    fn default() -> Self {
        ChecksConfig {
            max_parallel_typechecks: default_parallel_typechecks(),
            timeout_secs: default_check_timeout(),
            typecheck: None,
            test: None,
            confirm_runs: default_confirm_runs(),
            keep_discarded_days: default_keep_discarded_days(),
        }
    }
}

fn default_confirm_runs() -> u32 {
    1
}

fn default_keep_discarded_days() -> u32 {
    14
}

/// One check: a command and the parser that counts its output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    pub command: String,
    pub parser: ParserKind,
    #[serde(default)]
    pub errors: Option<Pattern>,
    #[serde(default)]
    pub failures: Option<Pattern>,
    #[serde(default)]
    pub passed: Option<Pattern>,
}

impl CheckConfig {
    pub fn rules(&self) -> RegexRules {
        RegexRules {
            errors: self.errors.as_ref().map(|p| p.0.clone()),
            failures: self.failures.as_ref().map(|p| p.0.clone()),
            passed: self.passed.as_ref().map(|p| p.0.clone()),
        }
    }
}

/// A regular expression, checked when the config is read.
#[derive(Debug, Clone)]
pub struct Pattern(pub Regex);

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Regex::new(&s)
            .map(Pattern)
            .map_err(|e| serde::de::Error::custom(format!("not a valid regular expression: {e}")))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// Pause between two cycles of `brl worker`.
    #[serde(default = "default_pause")]
    pub pause_secs: u64,
    /// Upper bound of the back-off after repeated failures.
    #[serde(default = "default_max_backoff")]
    pub max_backoff_secs: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            pause_secs: default_pause(),
            max_backoff_secs: default_max_backoff(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptConfig {
    /// How many recent cycles of the other sessions the prompt shows.
    #[serde(default = "default_recent")]
    pub recent_entries: usize,
    /// Bound on the total size of the skill files put into the prompt.
    #[serde(default = "default_skills_bytes")]
    pub skills_max_bytes: usize,
    /// Bound on the size of the context file put into the prompt.
    #[serde(default = "default_context_bytes")]
    pub context_max_bytes: usize,
}

impl Default for PromptConfig {
    fn default() -> Self {
        PromptConfig {
            recent_entries: default_recent(),
            skills_max_bytes: default_skills_bytes(),
            context_max_bytes: default_context_bytes(),
        }
    }
}

/// The home a brl.toml belongs to: its directory, made absolute the way `Home::new` makes the
/// home's root absolute (so the derived names match the tags on the home's panes).
fn home_of(config_path: &Path) -> PathBuf {
    let dir = match config_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

fn default_max_pending() -> usize {
    20
}
fn default_main() -> String {
    "main".into()
}
fn default_sessions() -> NonZeroU32 {
    NonZeroU32::new(3).expect("3 is not zero")
}
fn default_parallel_typechecks() -> NonZeroU32 {
    NonZeroU32::new(2).expect("not zero")
}
fn default_check_timeout() -> NonZeroU64 {
    NonZeroU64::new(600).expect("not zero")
}
fn default_pause() -> u64 {
    10
}
fn default_max_backoff() -> u64 {
    600
}
fn default_recent() -> usize {
    12
}
fn default_skills_bytes() -> usize {
    8 * 1024
}
fn default_context_bytes() -> usize {
    16 * 1024
}
impl Config {
    /// Read and validate `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(path, &errors::as_text(path, bytes)?)
    }

    /// Parse and validate `text`, which came from `path` (used in messages; its directory is
    /// the home, from which the tmux session and the HTTP port are derived when not given).
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| from_toml_error(path, text, &e))?;
        // The same text just parsed as a Config, so it parses as a table too.
        let table: toml::Table = text.parse().map_err(|e| from_toml_error(path, text, &e))?;
        let home = home_of(path);
        control::derive_from_home(&mut config.tmux, &mut config.server, &home, &table);
        config.validate(path, text)?;
        Ok(config)
    }
    /// The target repository's path, resolved against the home.
    pub fn repo_path(&self, home: &Path) -> PathBuf {
        if self.repo.is_absolute() {
            self.repo.clone()
        } else {
            home.join(&self.repo)
        }
    }

    /// The session names: s1..sN, or `<host>-s1..<host>-sN` in a host's own home.
    pub fn session_names(&self) -> Vec<String> {
        let prefix = self
            .host
            .as_deref()
            .map(|h| format!("{h}-"))
            .unwrap_or_default();
        (1..=self.sessions.get())
            .map(|i| format!("{prefix}s{i}"))
            .collect()
    }

    /// Every session of the fleet: the local ones, then each host's, with the host's name
    /// (`None` = this machine).
    pub fn fleet_sessions(&self) -> Vec<(Option<&str>, String)> {
        let mut all: Vec<(Option<&str>, String)> = self
            .session_names()
            .into_iter()
            .map(|s| (None, s))
            .collect();
        for h in &self.hosts {
            all.extend(
                h.session_names()
                    .into_iter()
                    .map(|s| (Some(h.name.as_str()), s)),
            );
        }
        all
    }

    /// An error naming the valid sessions when `name` is not one of the fleet's: this home's
    /// own or a `[[hosts]]` host's (`<host>-sN`). For the faces (pause, resume, stop, restart,
    /// `task add --session`), which reach a host's session through its host.
    pub fn check_session(&self, name: &str) -> anyhow::Result<()> {
        if self.fleet_sessions().iter().any(|(_, s)| s == name) {
            return Ok(());
        }
        let mut known = vec![self.session_range()];
        known.extend(self.hosts.iter().map(|h| {
            format!(
                "{} on host `{}` (`sessions = {}` in its [[hosts]] table)",
                range(&h.session_names()),
                h.name,
                h.sessions
            )
        }));
        anyhow::bail!(
            "unknown session `{name}`: the fleet has sessions {}; raise `sessions` in brl.toml (or a [[hosts]] table's) to add more",
            known.join(", ")
        )
    }

    /// [`Config::check_session`] for what runs only in this home — a worker, a cycle, a repair:
    /// a `[[hosts]]` host's session runs on that host, never here.
    pub fn check_local_session(&self, name: &str) -> anyhow::Result<()> {
        if self.session_names().iter().any(|s| s == name) {
            return Ok(());
        }
        if let Some(h) = self.host_of(name) {
            anyhow::bail!(
                "session `{name}` runs on host `{}`, not in this home: its worker and cycles run there (`brl attach {name}` shows its pane)",
                h.name
            );
        }
        anyhow::bail!(
            "unknown session `{name}`: this home has sessions {} (`sessions = {}` in brl.toml); raise `sessions` to add more",
            self.session_range(),
            self.sessions
        )
    }

    /// The `[[hosts]]` host that runs `session`; `None` for this home's own sessions and for
    /// unknown names.
    pub fn host_of(&self, session: &str) -> Option<&HostConfig> {
        self.hosts
            .iter()
            .find(|h| h.session_names().iter().any(|s| s == session))
    }

    /// `s1..sN` (or `<host>-s1..<host>-sN` in a host's home).
    fn session_range(&self) -> String {
        range(&self.session_names())
    }
}

/// `first..last` of a list of session names.
fn range(names: &[String]) -> String {
    format!(
        "{}..{}",
        names.first().map(String::as_str).unwrap_or_default(),
        names.last().map(String::as_str).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests;
