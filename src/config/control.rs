//! The control room's sections of `brl.toml`: `[scheduler]`, `[tmux]` and `[server]`.

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// With no ready task, the agent picks its own small task (else the session waits for one).
    #[serde(default = "default_true")]
    pub self_plan: bool,
    /// A task whose cycles end without a kept branch this many times becomes `failed`.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: NonZeroU32,
    /// How often idle sessions are reconsidered for a grant (also: whenever a worker is idle).
    #[serde(default = "default_interval")]
    pub interval_secs: NonZeroU64,
    /// No grant while used memory is above this percentage (of the cgroup's limit when tighter).
    #[serde(default = "default_max_ram")]
    pub max_ram_percent: u8,
    /// At most this many cycles at once across the home; 0 = one per session.
    #[serde(default)]
    pub max_running: u32,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            self_plan: true,
            max_attempts: default_max_attempts(),
            interval_secs: default_interval(),
            max_ram_percent: default_max_ram(),
            max_running: 0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmuxConfig {
    /// The tmux server's socket name (`tmux -L <name>`); none = the user's default server.
    #[serde(default)]
    pub socket: Option<String>,
    /// The tmux session that holds the panes.
    #[serde(default = "default_tmux_session")]
    pub session: String,
    /// A file `layouts/<layout>.toml` in the home.
    #[serde(default = "default_layout")]
    pub layout: String,
    /// How often the control room checks the panes (one `list-panes` call each time).
    #[serde(default = "default_check_secs")]
    pub check_secs: NonZeroU64,
    /// Each session's `pane.log` is rotated to `pane.log.1` past this size.
    #[serde(default = "default_pane_log_bytes")]
    pub pane_log_max_bytes: u64,
}

impl Default for TmuxConfig {
    fn default() -> Self {
        TmuxConfig {
            socket: None,
            session: default_tmux_session(),
            layout: default_layout(),
            check_secs: default_check_secs(),
            pane_log_max_bytes: default_pane_log_bytes(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Serve the HTTP triggers from the control room.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// The address to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The environment variable that holds the bearer token for POSTs.
    #[serde(default = "default_token_env")]
    pub token_env: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            enabled: true,
            listen: default_listen(),
            token_env: default_token_env(),
        }
    }
}

/// Daily limits (UTC days): once reached, no more grants until the next day.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// Stop granting once today's agent cost (the `cost_usd` the agent reports) reaches this.
    #[serde(default)]
    pub daily_usd: Option<f64>,
    /// Stop granting once this many cycles were recorded today.
    #[serde(default)]
    pub max_cycles_per_day: Option<u32>,
}

pub(super) fn default_true() -> bool {
    true
}
fn default_max_attempts() -> NonZeroU32 {
    NonZeroU32::new(3).expect("not zero")
}
fn default_interval() -> NonZeroU64 {
    NonZeroU64::new(300).expect("not zero")
}
fn default_max_ram() -> u8 {
    85
}
fn default_tmux_session() -> String {
    "brl".into()
}
fn default_layout() -> String {
    "tiled".into()
}
fn default_check_secs() -> NonZeroU64 {
    NonZeroU64::new(10).expect("not zero")
}
fn default_pane_log_bytes() -> u64 {
    2 * 1024 * 1024
}
fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7878))
}
fn default_token_env() -> String {
    "BRL_TOKEN".into()
}
