//! Hosts: where workers live. The local machine is one; each `[[hosts]]` of brl.toml is another,
//! reached with the system `ssh` over one multiplexed connection ([`ssh`]). Everything that crosses
//! a host boundary goes through existing engines — ssh, tmux, git — and the control room, the
//! queue, approve and the jobs stay on the control host.

pub mod arrive;
pub mod check;
pub mod chunk;
pub mod collect;
pub mod collector;
pub mod cursor;
pub mod fleet;
pub mod layout;
pub mod place;
pub mod probe;
pub mod remote_home;
pub mod remote_ops;
pub mod report;
pub mod setup;
pub mod ssh;
pub mod status_file;

use crate::config::Config;
use crate::home::Home;

pub use layout::Layout;
pub use ssh::{Output, Ssh, SshError};

/// The `ssh` of every `[[hosts]]`, in brl.toml's order.
pub fn all(home: &Home, config: &Config) -> Vec<Ssh> {
    config.hosts.iter().map(|h| Ssh::new(home, h)).collect()
}
