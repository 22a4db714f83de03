//! The home: the one place that knows where brl's files live.
//!
//! ```text
//! <home>/brl.toml                         config
//! <home>/prompts/ skills/ layouts/        templates, skill notes, tmux layouts
//! <home>/logs/experiment-log.jsonl        the shared append-only log
//! <home>/logs/review-queue.json           the review queue (+ .lock)
//! <home>/logs/sessions/<s>/<ts>.log       agent output of one cycle
//! <home>/logs/baseline/<commit>.json      baseline counts cached by main's commit
//! <home>/logs/control/<s>.json            grants, worker state and phase (control room ↔ workers)
//! <home>/logs/sessions/<s>/pane.log       a session's terminal output (bounded)
//! <home>/logs/brl.log.<date>              the control room's own log (daily files)
//! <home>/logs/locks/                      session, worker and home locks; typecheck slots
//! <home>/worktrees/<s>                    one git worktree per session
//! ```

use std::path::{Path, PathBuf};

use crate::config::{Config, ConfigError};

#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// A home at `root` (made absolute against the current directory).
    pub fn new(root: &Path) -> Home {
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        Home { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn config_path(&self) -> PathBuf {
        self.root.join("brl.toml")
    }
    /// The config; `BRL_SESSIONS=<n>` (set by `brl up --sessions N` in the panes it starts)
    /// overrides `sessions`.
    pub fn load_config(&self) -> Result<Config, ConfigError> {
        let mut config = Config::load(&self.config_path())?;
        if let Ok(v) = std::env::var("BRL_SESSIONS") {
            config.sessions = v.trim().parse().map_err(|_| ConfigError::Env {
                var: "BRL_SESSIONS",
                message: format!("`{v}` is not a number of sessions (1 or more); it overrides `sessions` of brl.toml"),
                fix: "unset BRL_SESSIONS, or set it to a whole number like 3 (`brl up --sessions N` sets it for its panes)".into(),
            })?;
        }
        Ok(config)
    }
    pub fn prompts_dir(&self) -> PathBuf {
        self.root.join("prompts")
    }
    pub fn skills_dir(&self) -> PathBuf {
        self.root.join("skills")
    }
    pub fn layouts_dir(&self) -> PathBuf {
        self.root.join("layouts")
    }
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }
    pub fn log_path(&self) -> PathBuf {
        self.logs_dir().join("experiment-log.jsonl")
    }
    pub fn tasks_path(&self) -> PathBuf {
        self.logs_dir().join("tasks.json")
    }
    pub fn queue_path(&self) -> PathBuf {
        self.logs_dir().join("review-queue.json")
    }
    pub fn session_logs_dir(&self, session: &str) -> PathBuf {
        self.logs_dir().join("sessions").join(session)
    }
    /// Per-session control files: grants, worker state and phase (see `store::control`).
    pub fn control_dir(&self) -> PathBuf {
        self.logs_dir().join("control")
    }
    /// Tests known to give different results on one commit (see `checks::flaky`).
    pub fn flaky_path(&self) -> PathBuf {
        self.logs_dir().join("flaky-tests.json")
    }
    pub fn baseline_dir(&self) -> PathBuf {
        self.logs_dir().join("baseline")
    }
    pub fn locks_dir(&self) -> PathBuf {
        self.logs_dir().join("locks")
    }
    pub fn worktrees_dir(&self) -> PathBuf {
        self.root.join("worktrees")
    }
    pub fn worktree(&self, session: &str) -> PathBuf {
        self.worktrees_dir().join(session)
    }
    /// The git worktree name for a session: unique per home, so two homes on one repo never clash.
    pub fn worktree_name(&self, session: &str) -> String {
        let h = short_hash(self.root.as_os_str().as_encoded_bytes());
        format!("brl-{session}-{h:08x}")
    }
}

/// A small stable hash (FNV-1a), for names that must not change between runs or Rust versions.
pub fn short_hash(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    h
}
