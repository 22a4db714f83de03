//! The control room's sections of `brl.toml`: `[scheduler]`, `[tmux]` and `[server]`.

use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::Path;

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
    /// The tmux session that holds the panes. Not given: derived from the home's path (see
    /// [`derived_tmux_session`]), so two homes on one tmux server never share a session.
    #[serde(default)]
    pub session: String,
    /// `session` was not in brl.toml: it is the home's derived name.
    #[serde(skip)]
    pub session_derived: bool,
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
            session: String::new(),
            session_derived: false,
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
    /// The address to listen on. Not given: 127.0.0.1 and a port derived from the home's path
    /// (see [`derived_port`]), so two homes on one machine never ask for the same port.
    #[serde(default = "unset_listen")]
    pub listen: SocketAddr,
    /// `listen` was not in brl.toml: it is the home's derived address.
    #[serde(skip)]
    pub listen_derived: bool,
    /// The environment variable that holds the bearer token for POSTs.
    #[serde(default = "default_token_env")]
    pub token_env: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            enabled: true,
            listen: unset_listen(),
            listen_derived: false,
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
fn default_layout() -> String {
    "tiled".into()
}
fn default_check_secs() -> NonZeroU64 {
    NonZeroU64::new(10).expect("not zero")
}
fn default_pane_log_bytes() -> u64 {
    2 * 1024 * 1024
}
/// A placeholder until [`derive_from_home`] runs (port 0 is never served).
fn unset_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// The first port of the range the derived ports come from: 20000–29999, below the ephemeral
/// ports Linux hands out (32768 and up), so an outgoing connection never holds a home's port.
pub const DERIVED_PORT_BASE: u16 = 20000;
/// How many ports the derived ports spread over.
pub const DERIVED_PORT_SPAN: u16 = 10000;

/// The home's tmux session when brl.toml names none: `brl-<last part of the home's path>-<hash
/// of the whole path>`, e.g. `brl-myapp-1a2b3c4d` — readable in `tmux ls`, unique per home. Only
/// letters, digits, `-` and `_` (tmux replaces `:` and `.`).
pub fn derived_tmux_session(home: &Path) -> String {
    let hash = crate::home::short_hash(home.display().to_string().as_bytes());
    let name: String = home
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(24)
        .collect();
    let name = name.trim_matches('-');
    if name.is_empty() {
        format!("brl-{hash:08x}")
    } else {
        format!("brl-{name}-{hash:08x}")
    }
}

/// The home's HTTP port when brl.toml names no `[server] listen`: from the hash of the home's
/// path, in 20000–29999. Two homes can still land on the same port (about 1 in 10000): the second
/// control room then says which home holds it (see `server::spawn`).
pub fn derived_port(home: &Path) -> u16 {
    // A different hash input than the session name's, so the two do not move together.
    let hash = crate::home::short_hash(format!("port:{}", home.display()).as_bytes());
    DERIVED_PORT_BASE + (hash % u32::from(DERIVED_PORT_SPAN)) as u16
}

/// Fill in `[tmux] session` and `[server] listen` from the home when `table` (brl.toml as read)
/// does not give them. Values written in brl.toml are kept exactly as written.
pub(super) fn derive_from_home(
    tmux: &mut TmuxConfig,
    server: &mut ServerConfig,
    home: &Path,
    table: &toml::Table,
) {
    let given = |section: &str, key: &str| {
        table
            .get(section)
            .and_then(toml::Value::as_table)
            .is_some_and(|t| t.contains_key(key))
    };
    if !given("tmux", "session") {
        tmux.session = derived_tmux_session(home);
        tmux.session_derived = true;
    }
    if !given("server", "listen") {
        server.listen = SocketAddr::from(([127, 0, 0, 1], derived_port(home)));
        server.listen_derived = true;
    }
}
fn default_token_env() -> String {
    "BRL_TOKEN".into()
}
