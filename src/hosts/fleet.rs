//! One `[[hosts]]` host as the control room drives it: its workers' panes (the same
//! [`Fleet`] logic as on this machine, over a tmux whose every command runs through the host's
//! multiplexed ssh), its sessions' states and memory (one `brl remote snapshot` per scheduling
//! pass), grants and take-backs (`brl remote grant` / `take-back`, applied on the host under the
//! control file's lock), and whether it is reachable — said once per change in the experiment log
//! (`host_unreachable` / `host_reachable`) and kept in `logs/hosts/<name>.json` for `brl status`.
//!
//! The workers run in tmux ON the host: an ssh drop or a control-room restart does not stop a
//! cycle; the next check adopts the panes by their tags.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;

use super::remote_ops::{self, GrantDone, RemoteSession, Snapshot};
use super::ssh::{Ssh, SshError};
use super::status_file::{self, HostStatus};
use crate::config::{Config, HostConfig};
use crate::control::fleet::{Checked, Fleet, OnHost};
use crate::home::Home;
use crate::store::control::{Grant, GrantTask};
use crate::store::log::{self, Entry};
use crate::tmux::{Layout, TmuxError};

pub use super::place::{HostPaths, host_paths, host_tmux, session_tmux, tmux_socket};

/// How long one `brl remote …` may take on a host before it counts as unreachable.
const REMOTE_TIMEOUT: Duration = Duration::from_secs(30);
/// An unreachable host is tried again after 2 s, doubling per failure up to this: a host that
/// does not answer (ssh waits up to its ConnectTimeout) must not hold up the control room's
/// loop at every check.
const RETRY_MAX: Duration = Duration::from_secs(30);

/// One host, driven by the control room.
pub struct HostRoom {
    pub config: HostConfig,
    pub ssh: Ssh,
    pub paths: HostPaths,
    pub fleet: Fleet,
    /// What the control room knows of the host (also on disk for `brl status`).
    pub status: HostStatus,
    home: Home,
    /// The last failure logged by a check, said once until it changes.
    check_failing: Option<String>,
    /// A snapshot arrived since [`HostRoom::take_fresh`] was last asked.
    fresh: bool,
    /// The snapshot came from another host's home: said once until it changes.
    misconfigured: Option<String>,
    /// While unreachable: failures in a row, and when to try again.
    failures: u32,
    retry_at: Option<Instant>,
    /// The sessions of the host's last full answer, as it sent them (before any local update),
    /// with their digest: sent back so an unchanged host leaves them out.
    last_sessions: Option<(String, Vec<RemoteSession>)>,
}

impl HostRoom {
    pub fn new(home: &Home, config: &Config, h: &HostConfig, layout: Layout) -> HostRoom {
        let ssh = Ssh::new(home, h);
        let paths = host_paths(h);
        let bin = paths.bin.display().to_string();
        let fleet = Fleet::on_host(
            home,
            &OnHost {
                host: &h.name,
                brl_bin: &bin,
                worker_home: &paths.home,
            },
            host_tmux(h, &ssh),
            &config.tmux.session,
            layout,
            config.tmux.pane_log_max_bytes,
        );
        let max = h
            .max_ram_percent
            .unwrap_or(config.scheduler.max_ram_percent);
        // What a previous control room knew: an outage that began before a restart keeps its
        // start.
        let mut status = match status_file::load(home, &h.name) {
            Ok(Some(s)) => s,
            Ok(None) => status_file::new(&h.name, max),
            Err(e) => {
                tracing::warn!("{e:#}");
                status_file::new(&h.name, max)
            }
        };
        status.max_ram_percent = max;
        HostRoom {
            config: h.clone(),
            ssh,
            paths,
            fleet,
            status,
            home: home.clone(),
            check_failing: None,
            misconfigured: None,
            fresh: false,
            failures: 0,
            retry_at: None,
            last_sessions: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn reachable(&self) -> bool {
        self.status.reachable
    }

    pub fn max_ram_percent(&self) -> u8 {
        self.status.max_ram_percent
    }

    /// The last snapshot, only while the host is reachable and not stopped by `brl down
    /// --host` (a stale one never feeds a grant).
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.status
            .snapshot
            .as_ref()
            .filter(|_| self.reachable() && !self.stopped())
    }

    /// Whether a new snapshot arrived since the last call (then dead workers' grants and
    /// settled tasks are looked at once for it).
    pub fn take_fresh(&mut self) -> bool {
        std::mem::take(&mut self.fresh)
    }

    /// `brl down --host` stopped this host: no panes, no grants until the next `brl up`.
    pub fn stopped(&self) -> bool {
        status_file::is_stopped(&self.home, self.name())
    }

    /// The panes: the master connection first (a host that cannot be reached is said so), then
    /// one `list-panes` over it and whatever creating or respawning is needed.
    /// Not now: stopped by `brl down --host`, or unreachable and its retry not due yet.
    fn resting(&self) -> bool {
        self.stopped() || self.retry_at.is_some_and(|t| Instant::now() < t)
    }

    pub fn check(&mut self) -> Option<Checked> {
        if self.resting() {
            return None;
        }
        if let Err(e) = self.ssh.ensure_master() {
            self.unreachable(&e.to_string());
            return None;
        }
        match self.fleet.check(&self.config.session_names()) {
            // `brl down --host` landed while this check ran (its list-panes saw the session
            // gone and made it again): undone at once.
            Ok(c) if (c.created > 0 || c.respawned > 0) && self.stopped() => {
                let _ = self.fleet.tmux.kill_session(&self.fleet.tmux_session);
                None
            }
            Ok(c) => {
                if self.check_failing.take().is_some() {
                    tracing::info!(host = %self.name(), "the host's tmux panes are checked again without error");
                }
                Some(c)
            }
            Err(e) => {
                let unreachable = e
                    .downcast_ref::<TmuxError>()
                    .is_some_and(|t| matches!(t, TmuxError::Unreachable { .. }));
                let m = format!("{e:#}");
                if unreachable {
                    self.unreachable(&m);
                } else if self.check_failing.as_deref() != Some(m.as_str()) {
                    tracing::error!(host = %self.name(), "checking the host's tmux panes: {m}");
                    self.log(
                        "tmux_check_failed",
                        None,
                        json!({"host": self.name(), "error": m}),
                    );
                    self.check_failing = Some(m);
                }
                None
            }
        }
    }

    /// One `brl remote snapshot` on the host; the result is kept (and written for `brl
    /// status`). `None` when the host did not answer.
    pub fn refresh(&mut self) -> Option<&Snapshot> {
        if self.resting() {
            return None;
        }
        let unless = match &self.last_sessions {
            Some((digest, _)) => vec!["--unless-digest".to_string(), digest.clone()],
            None => Vec::new(),
        };
        let answer = self
            .remote::<Snapshot>("snapshot", &unless)
            .and_then(|s| self.complete(s));
        match answer {
            // A `dir` that holds another host's home (or none set by `brl hosts setup`): its
            // sessions are not this host's, so nothing is granted there.
            Ok(s) if s.host.as_deref() != Some(self.name()) => {
                let m = format!(
                    "the home {} on host `{}` belongs to host {:?} (its brl.toml says `host = …`)\n  fix: check `dir` of this [[hosts]] table, or run `brl hosts setup` to write the host's home",
                    self.paths.home.display(),
                    self.name(),
                    s.host
                );
                if self.misconfigured.as_deref() != Some(m.as_str()) {
                    tracing::error!("{m}");
                    self.log(
                        "host_misconfigured",
                        None,
                        json!({"host": self.name(), "error": m}),
                    );
                    self.misconfigured = Some(m);
                }
                self.last_sessions = None;
                self.status.snapshot = None;
                None
            }
            Ok(s) => {
                self.misconfigured = None;
                self.fresh = true;
                self.reached();
                self.status.snapshot = Some(s);
                self.save();
                self.status.snapshot.as_ref()
            }
            Err(e) => {
                if !self.reachable() {
                    return None;
                }
                tracing::error!(host = %self.name(), "{e:#}");
                None
            }
        }
    }

    /// A snapshot whole again: an `unchanged` answer gets the sessions of the last full one
    /// (as the host sent them), a full one is kept for the next ask.
    fn complete(&mut self, mut s: Snapshot) -> anyhow::Result<Snapshot> {
        if s.unchanged {
            match &self.last_sessions {
                Some((digest, sessions)) if s.digest.as_ref() == Some(digest) => {
                    s.sessions = sessions.clone();
                    s.unchanged = false;
                }
                _ => {
                    self.last_sessions = None;
                    anyhow::bail!(
                        "host `{}` answered `brl remote snapshot` as unchanged since digest {:?}, which this control room did not ask with; the next pass asks for every session",
                        self.name(),
                        s.digest
                    );
                }
            }
        } else {
            self.last_sessions = s.digest.clone().map(|d| (d, s.sessions.clone()));
        }
        Ok(s)
    }

    /// Give `session` one cycle on the host (with a task claimed centrally, or a repair).
    pub fn grant(
        &mut self,
        session: &str,
        task: Option<&GrantTask>,
        fix: Option<&str>,
    ) -> anyhow::Result<Option<Grant>> {
        // `brl down --host` may have landed since the snapshot this grant was decided on.
        if self.stopped() {
            return Ok(None);
        }
        let mut args = vec![session.to_string()];
        if let Some(t) = task {
            args.push("--task".into());
            args.push(serde_json::to_string(t)?);
        }
        if let Some(b) = fix {
            args.push("--fix".into());
            args.push(b.to_string());
        }
        let done: GrantDone = self.remote("grant", &args)?;
        // The cached snapshot says so at once: no second grant from a stale view.
        if let (Some(g), Some(snap)) = (&done.grant, self.status.snapshot.as_mut())
            && let Some(c) = snap
                .sessions
                .iter_mut()
                .find(|s| s.name == session)
                .and_then(|s| s.control.as_mut())
        {
            c.grant = Some(g.clone());
        }
        Ok(done.grant)
    }

    /// Take back the grant of `session` whose worker died on the host.
    pub fn take_back(&mut self, session: &str) -> anyhow::Result<Option<Grant>> {
        let done: GrantDone = self.remote("take-back", &[session.to_string()])?;
        Ok(done.grant)
    }

    /// `D/bin/brl --home D/home remote <op> <args>` on the host, its JSON answer read.
    fn remote<T: serde::de::DeserializeOwned>(
        &mut self,
        op: &str,
        args: &[String],
    ) -> anyhow::Result<T> {
        let bin = self.paths.bin.display().to_string();
        let home = self.paths.home.display().to_string();
        let mut argv: Vec<&str> = vec![&bin, "--home", &home, "remote", op];
        argv.extend(args.iter().map(String::as_str));
        match self.ssh.run(&argv, None, REMOTE_TIMEOUT) {
            Ok(out) if out.ok() => {
                self.reached();
                remote_ops::parse(self.name(), op, &out.stdout)
            }
            Ok(out) => {
                self.reached();
                anyhow::bail!(
                    "`brl remote {op}` on host `{}` failed (exit {:?}): {}\n  fix: run `brl hosts check`; the host's brl or home may be missing (`brl hosts setup`)",
                    self.name(),
                    out.status,
                    out.stderr
                )
            }
            Err(e @ (SshError::Unreachable { .. } | SshError::TimedOut { .. })) => {
                let m = e.to_string();
                self.unreachable(&m);
                Err(e.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The host answered: back from an outage is logged once.
    fn reached(&mut self) {
        let now = Utc::now();
        self.status.checked_at = now;
        self.failures = 0;
        self.retry_at = None;
        if !self.status.reachable {
            let down_secs = (now - self.status.since).num_seconds();
            self.status.reachable = true;
            self.status.since = now;
            self.status.error = None;
            tracing::info!(host = %self.name(), down_secs, "host reachable again; grants resume");
            self.log(
                "host_reachable",
                None,
                json!({"host": self.name(), "down_secs": down_secs}),
            );
            self.save();
        }
    }

    /// The host did not answer: grants to it stop; said once per outage.
    fn unreachable(&mut self, error: &str) {
        let now = Utc::now();
        self.status.checked_at = now;
        let wait = Duration::from_secs(2u64 << self.failures.min(4)).min(RETRY_MAX);
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(Instant::now() + wait);
        if self.status.reachable {
            self.status.reachable = false;
            self.status.since = now;
            self.status.error = Some(error.to_string());
            tracing::warn!(host = %self.name(), "{error}");
            self.log(
                "host_unreachable",
                None,
                json!({"host": self.name(), "error": error,
                       "note": "grants to its sessions stop until it answers; its workers keep running there"}),
            );
        }
        self.save();
    }

    fn save(&self) {
        if let Err(e) = status_file::save(&self.home, &self.status) {
            tracing::error!("{e}");
        }
    }

    fn log(&self, kind: &str, session: Option<&str>, data: serde_json::Value) {
        log::append_or_report(&self.home.log_path(), &Entry::new(kind, session, data));
    }
}

/// The rooms of brl.toml's `[[hosts]]`, kept across reloads: a host whose table is unchanged
/// keeps its room (its back-off and reachability); a changed or new one gets a new room.
pub fn sync(rooms: &mut Vec<HostRoom>, home: &Home, config: &Config, layout: &Layout) {
    rooms.retain(|r| config.hosts.contains(&r.config));
    for h in &config.hosts {
        if !rooms.iter().any(|r| r.config == *h) {
            rooms.push(HostRoom::new(home, config, h, layout.clone()));
        }
    }
}
