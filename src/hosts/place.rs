//! Where brl lives on a host and how its workers' tmux is reached: `D/bin/brl`, `D/repo`,
//! `D/home` for `dir = D`, the private tmux socket derived from that home, and the `Tmux` whose
//! commands run through the host's ssh.

use std::path::PathBuf;

use super::ssh::{Ssh, SshError};
use crate::config::{Config, HostConfig};
use crate::home::{Home, short_hash};
use crate::tmux::Tmux;

/// Where brl lives on a host with `dir = D`: `D/bin/brl`, `D/repo`, `D/home` ([`super::Layout`]
/// as paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    pub bin: PathBuf,
    pub repo: PathBuf,
    pub home: PathBuf,
}

pub fn host_paths(h: &HostConfig) -> HostPaths {
    let l = super::Layout::of(h);
    HostPaths {
        bin: l.bin.into(),
        repo: l.repo.into(),
        home: l.home.into(),
    }
}

/// The private tmux socket of a host's workers, derived from its home as a path string (two
/// homes on one host never share a server).
pub fn tmux_socket(h: &HostConfig) -> String {
    let home = host_paths(h).home;
    format!(
        "brl-{:08x}",
        short_hash(home.as_os_str().as_encoded_bytes())
    )
}

/// The `Tmux` of a host's workers, reached through `ssh`.
pub fn host_tmux(h: &HostConfig, ssh: &Ssh) -> Tmux {
    Tmux::remote(&tmux_socket(h), ssh.clone())
}

/// The tmux server and `@brl_home` tag of `session`'s pane: on its `[[hosts]]` host (the master
/// connection started first) or, for this machine's sessions, the home's own.
pub fn session_tmux(
    home: &Home,
    config: &Config,
    session: &str,
) -> Result<(Tmux, String), SshError> {
    match config
        .hosts
        .iter()
        .find(|h| h.session_names().iter().any(|n| n == session))
    {
        Some(h) => {
            let ssh = Ssh::new(home, h);
            ssh.ensure_master()?;
            let tag = host_paths(h).home.display().to_string();
            Ok((host_tmux(h, &ssh), tag))
        }
        None => Ok((
            Tmux::new(config.tmux.socket.as_deref()),
            home.root().display().to_string(),
        )),
    }
}
