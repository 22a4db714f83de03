//! A host's report: one line per thing (`ok` / `missing` / `wrong` / `warn`, with its fix), as
//! `brl hosts check` and `brl hosts setup` print it.

use std::fmt::Write as _;

use crate::config::HostConfig;
use crate::hosts::probe::one_line;
use crate::hosts::ssh::SshError;

/// How one thing on a host stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ok,
    Missing,
    Wrong,
    /// Usable, but worth knowing (low disk, a main behind the control host's).
    Warn,
}

impl State {
    pub fn word(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Missing => "missing",
            State::Wrong => "wrong",
            State::Warn => "warn",
        }
    }
}

/// One line of a host's report.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// `ssh`, `tmux`, `git`, `brl`, `disk`, `repo`, `home` or `agent`.
    pub what: &'static str,
    pub state: State,
    pub detail: String,
    /// What to do about it (none when ok).
    pub fix: Option<String>,
}

impl Item {
    pub(super) fn new(
        what: &'static str,
        state: State,
        detail: String,
        fix: Option<String>,
    ) -> Item {
        Item {
            what,
            state,
            detail,
            fix,
        }
    }
}

/// One host's report.
#[derive(Debug, Clone)]
pub struct HostReport {
    pub host: String,
    pub dest: String,
    pub dir: String,
    pub items: Vec<Item>,
}

impl HostReport {
    /// Nothing missing or wrong (warnings allowed).
    pub fn ready(&self) -> bool {
        self.items
            .iter()
            .all(|i| matches!(i.state, State::Ok | State::Warn))
    }

    /// The block `brl hosts check` prints.
    pub fn render(&self) -> String {
        let mut s = format!(
            "host {} ({}, dir {}): {}\n",
            self.host,
            self.dest,
            self.dir,
            if self.ready() { "ready" } else { "NOT ready" }
        );
        for i in &self.items {
            let _ = write!(s, "  {:<8} {:<6} {}", i.state.word(), i.what, i.detail);
            if let Some(f) = &i.fix {
                let _ = write!(s, " — fix: {f}");
            }
            s.push('\n');
        }
        s
    }

    /// A host that could not be reached: one line, in ssh's own words.
    pub fn unreachable(host: &HostConfig, err: &SshError) -> HostReport {
        let reason = match err {
            SshError::Unreachable { reason, .. } => reason.clone(),
            other => other.to_string(),
        };
        HostReport {
            host: host.name.clone(),
            dest: destination(host),
            dir: host.dir.clone(),
            items: vec![Item::new(
                "ssh",
                State::Missing,
                format!("unreachable: {}", one_line(&reason)),
                Some(format!(
                    "check that `ssh{} {}` works from this machine without a password prompt (a key in ssh-agent or `identity` in [[hosts]]) and that the host is up",
                    host.port.map(|p| format!(" -p {p}")).unwrap_or_default(),
                    host.ssh
                )),
            )],
        }
    }
}

/// `user@host` or `user@host:port`, for messages.
pub fn destination(host: &HostConfig) -> String {
    match host.port {
        Some(p) => format!("{}:{p}", host.ssh),
        None => host.ssh.clone(),
    }
}
