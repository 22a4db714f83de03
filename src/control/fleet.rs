//! The panes: one tmux pane per session, each running `brl worker <session>`, found by their tags
//! (`@brl_home`, `@brl_session`) with one `list-panes` call per check — never per pane, never by
//! guessing from titles or commands. Missing panes are created, dead ones respawned.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use super::reap;
use crate::home::Home;
use crate::store::atomic::{LockGuard, lock_owner};
use crate::store::control::worker_lock_path;
use crate::store::log::{self, Entry};
use crate::tmux::{Layout, NewPane, Pane, Tmux};

/// What to do about one session's pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// No pane of this session: create one.
    Create { session: String },
    /// Its pane's process died: start the worker again in it.
    Respawn {
        session: String,
        pane: String,
        status: Option<i32>,
        piped: bool,
    },
}

/// The pure part: given the sessions wanted and the tagged panes found, what to do. Panes of
/// other tmux sessions, duplicates and panes of sessions not wanted are left alone (reported in
/// the second list).
pub fn plan(sessions: &[String], panes: &[Pane], tmux_session: &str) -> (Vec<Action>, Vec<Pane>) {
    let mut by: BTreeMap<&str, Vec<&Pane>> = BTreeMap::new();
    let mut strays = Vec::new();
    for p in panes {
        if p.tmux_session == tmux_session && sessions.contains(&p.session) {
            by.entry(p.session.as_str()).or_default().push(p);
        } else {
            strays.push(p.clone());
        }
    }
    let mut actions = Vec::new();
    for s in sessions {
        match by.get(s.as_str()) {
            None => actions.push(Action::Create { session: s.clone() }),
            Some(ps) => {
                if ps.iter().all(|p| p.dead) {
                    actions.push(Action::Respawn {
                        session: s.clone(),
                        pane: ps[0].id.clone(),
                        status: ps[0].dead_status,
                        piped: ps[0].piped,
                    });
                }
                strays.extend(ps.iter().skip(1).map(|p| (*p).clone()));
            }
        }
    }
    (actions, strays)
}

/// Keeps the panes in line with the sessions; remembers respawns so a worker that dies at once
/// every time is restarted less and less often (up to every 5 minutes), not in a tight loop.
pub struct Fleet {
    pub tmux: Tmux,
    pub tmux_session: String,
    pub layout: Layout,
    /// The home the workers run with (on their host: `D/home`); its paths go into the panes'
    /// commands.
    home: Home,
    /// The home this fleet's log entries go to: the control room's own.
    log_home: Home,
    /// The host the panes live on (`None`: this machine). Then the workers' life locks are on
    /// that host, so the checks that read them here (old workers, workers elsewhere) are left to
    /// the host's own worker, which exits when its session is taken.
    host: Option<String>,
    home_tag: String,
    brl: String,
    sessions_override: Option<u32>,
    pane_log_max: u64,
    respawns: BTreeMap<String, (u32, Instant)>,
    reported_strays: usize,
    /// This home's panes in `tmux_session` at the last check: when they all vanish at once,
    /// the tmux server or the session died, and the panes are made again (`tmux_recreated`).
    last_seen: usize,
    /// Workers that outlived their vanished panes (pid, when noticed), by session: the session's
    /// new pane waits until the old worker has recorded its cycle and exited, up to
    /// [`OLD_WORKER_GRACE`]; then its processes are killed (`worker_killed`).
    old_workers: BTreeMap<String, (u32, Instant)>,
    /// Sessions whose worker runs without a pane of this fleet (pid), as last reported.
    elsewhere: BTreeMap<String, u32>,
}

/// How long a worker whose pane vanished has to exit by itself (on the SIGHUP it got, it records
/// its cycle in flight and exits within seconds).
pub const OLD_WORKER_GRACE: Duration = Duration::from_secs(30);

/// What one check did.
#[derive(Debug, Default)]
pub struct Checked {
    pub created: usize,
    pub respawned: usize,
    pub adopted: usize,
}

impl Fleet {
    pub fn new(
        home: &Home,
        tmux: Tmux,
        tmux_session: &str,
        layout: Layout,
        sessions_override: Option<u32>,
        pane_log_max: u64,
    ) -> anyhow::Result<Fleet> {
        let exe = std::env::current_exe()
            .map_err(|e| anyhow::anyhow!("cannot find the brl executable to run in panes: {e}"))?;
        Ok(Fleet {
            tmux,
            tmux_session: tmux_session.to_string(),
            layout,
            home: home.clone(),
            log_home: home.clone(),
            host: None,
            home_tag: home.root().display().to_string(),
            brl: shell_quote(&exe.display().to_string()),
            sessions_override,
            pane_log_max,
            respawns: BTreeMap::new(),
            reported_strays: 0,
            last_seen: 0,
            old_workers: BTreeMap::new(),
            elsewhere: BTreeMap::new(),
        })
    }

    pub fn home_tag(&self) -> &str {
        &self.home_tag
    }

    /// The shell command a session's pane runs.
    pub fn worker_command(&self, session: &str) -> String {
        let env = self
            .sessions_override
            .map(|n| format!("BRL_SESSIONS={n} "))
            .unwrap_or_default();
        format!(
            "{env}exec {} --home {} worker {}",
            self.brl,
            shell_quote(&self.home_tag),
            shell_quote(session)
        )
    }

    /// The `pipe-pane` command that copies the pane's output to its bounded pane.log.
    pub fn pipe_command(&self, session: &str) -> String {
        let path = self.home.session_logs_dir(session).join("pane.log");
        format!(
            "exec {} pane-log {} --max-bytes {}",
            self.brl,
            shell_quote(&path.display().to_string()),
            self.pane_log_max
        )
    }

    /// One check: a single `list-panes`, then create or respawn what is needed (logged).
    pub fn check(&mut self, sessions: &[String]) -> anyhow::Result<Checked> {
        let panes = self.tmux.panes(&self.home_tag)?;
        let seen = panes
            .iter()
            .filter(|p| p.tmux_session == self.tmux_session)
            .count();
        if self.last_seen > 0 && seen == 0 {
            self.report_vanished(sessions);
        }
        let (actions, strays) = plan(sessions, &panes, &self.tmux_session);
        if strays.len() != self.reported_strays {
            self.reported_strays = strays.len();
            for p in &strays {
                tracing::warn!(
                    pane = %p.id, session = %p.session, tmux_session = %p.tmux_session,
                    "a pane tagged for this home is not part of the fleet (a duplicate, or a session beyond `sessions`); left alone"
                );
            }
        }
        let mut done = Checked {
            adopted: panes.len().saturating_sub(strays.len()),
            ..Checked::default()
        };
        // Counted before acting: a failure below leaves what was seen, so the next check does
        // not report the same vanishing twice.
        self.last_seen = seen;
        for a in actions {
            let session = match &a {
                Action::Create { session } | Action::Respawn { session, .. } => session,
            };
            if self.host.is_none()
                && (self.old_worker_blocks(session) || self.worker_elsewhere(session))
            {
                continue;
            }
            match a {
                Action::Create { session } => {
                    let command = self.worker_command(&session);
                    let pipe = self.pipe_command(&session);
                    let cwd = self.home.root().to_path_buf();
                    // A relative home on a host is relative to the remote user's home directory,
                    // where tmux (started over ssh) starts too.
                    let cwd = cwd.is_absolute().then_some(cwd);
                    let id = self.tmux.create(&NewPane {
                        tmux_session: &self.tmux_session,
                        home_tag: &self.home_tag,
                        session: &session,
                        command: &command,
                        pipe_command: Some(&pipe),
                        layout: &self.layout,
                        cwd: cwd.as_deref(),
                    })?;
                    done.created += 1;
                    self.last_seen += 1;
                    self.log("pane_created", &session, json!({"pane": id}));
                }
                Action::Respawn {
                    session,
                    pane,
                    status,
                    piped,
                } => {
                    // A worker that exited 0 was asked to stop (`brl restart`, a signal): not a
                    // crash, so no back-off — the operator's restart is served at once.
                    if status == Some(0) {
                        self.respawns.remove(&session);
                    }
                    if !self.respawn_due(&session) {
                        continue;
                    }
                    let command = self.worker_command(&session);
                    let pipe = self.pipe_command(&session);
                    self.tmux.respawn(&pane, &command, Some(&pipe), piped)?;
                    done.respawned += 1;
                    let n = self.respawns.get(&session).map(|r| r.0).unwrap_or(0);
                    self.log(
                        "worker_respawned",
                        &session,
                        json!({"pane": pane, "exit_status": status, "respawns_in_a_row": n}),
                    );
                }
            }
        }
        Ok(done)
    }

    /// All of this home's panes vanished between two checks: the tmux server was killed (or the
    /// session closed by hand). Logged once per vanishing as `tmux_recreated`; the check that
    /// follows makes the session and the panes again. The old workers got SIGHUP: each records
    /// its cycle in flight and exits, so the new ones can take their sessions' locks.
    fn report_vanished(&mut self, sessions: &[String]) {
        let server = match self.tmux.server_running() {
            Ok(true) => "the tmux session was closed; the server still runs",
            Ok(false) => "the tmux server is gone (killed, or it crashed)",
            Err(_) => "the tmux server does not answer",
        };
        let now = Instant::now();
        // On a host the life locks are the host's: not read from here.
        for s in sessions.iter().filter(|_| self.host.is_none()) {
            let lock = worker_lock_path(&self.home, s);
            if LockGuard::is_held(&lock).unwrap_or(false)
                && let Some(pid) = lock_owner(&lock)
            {
                self.old_workers.insert(s.clone(), (pid, now));
            }
        }
        let old: BTreeMap<&str, u32> = self
            .old_workers
            .iter()
            .map(|(s, (pid, _))| (s.as_str(), *pid))
            .collect();
        let data = json!({
            "host": self.host,
            "tmux_session": self.tmux_session,
            "panes_before": self.last_seen,
            "sessions": sessions,
            "reason": server,
            "waiting_for_old_workers": old,
        });
        tracing::warn!(%data, "this home's tmux panes vanished; making them again");
        log::append_or_report(
            &self.log_home.log_path(),
            &Entry::new("tmux_recreated", None, data),
        );
    }

    /// Does the worker that outlived this session's vanished pane still hold the session? While
    /// it does (up to [`OLD_WORKER_GRACE`]) no new worker is started: it would only exit with
    /// "another worker is running" and fall into the respawn back-off. Past the grace period its
    /// processes are killed and the new pane follows at the next check.
    fn old_worker_blocks(&mut self, session: &str) -> bool {
        let Some(&(pid, since)) = self.old_workers.get(session) else {
            return false;
        };
        let lock = worker_lock_path(&self.home, session);
        let held = LockGuard::is_held(&lock).unwrap_or(false) && lock_owner(&lock) == Some(pid);
        if !held {
            self.old_workers.remove(session);
            return false;
        }
        if since.elapsed() < OLD_WORKER_GRACE {
            return true;
        }
        self.old_workers.remove(session);
        let killed = reap::kill_session_processes(&self.home, session, Some(pid));
        self.log(
            "worker_killed",
            session,
            json!({"pid": pid, "killed": killed,
                   "reason": format!("its pane vanished with the tmux server and it did not exit within {} s", OLD_WORKER_GRACE.as_secs())}),
        );
        true
    }

    /// Does a worker of this session run without a pane here (started by hand, or in a pane of
    /// another tmux session, e.g. the one brl.toml named before)? Then no pane is made or
    /// respawned for it: a second worker would only exit with "another worker is running", again
    /// and again. Said once per worker; the pane follows at the first check after it exits.
    fn worker_elsewhere(&mut self, session: &str) -> bool {
        let lock = worker_lock_path(&self.home, session);
        let holder = LockGuard::is_held(&lock)
            .unwrap_or(false)
            .then(|| lock_owner(&lock))
            .flatten();
        let Some(pid) = holder else {
            self.elsewhere.remove(session);
            return false;
        };
        if self.elsewhere.insert(session.to_string(), pid) != Some(pid) {
            self.log(
                "worker_elsewhere",
                session,
                json!({"pid": pid, "tmux_session": self.tmux_session,
                       "note": "its worker runs outside this tmux session; the session's pane is made when it exits"}),
            );
        }
        true
    }

    /// Respawn now? Back-off doubles from 10 s per quick death in a row, up to 5 minutes.
    fn respawn_due(&mut self, session: &str) -> bool {
        let now = Instant::now();
        let entry = self
            .respawns
            .entry(session.to_string())
            .or_insert((0, now - Duration::from_secs(3600)));
        let (n, last) = *entry;
        let since = now.duration_since(last);
        // A worker that lived 10 minutes was not crash-looping.
        let n = if since > Duration::from_secs(600) {
            0
        } else {
            n
        };
        let wait = Duration::from_secs((10u64 << n.min(5)).min(300));
        if n > 0 && since < wait {
            return false;
        }
        *entry = (n + 1, now);
        true
    }

    fn log(&self, kind: &str, session: &str, mut data: serde_json::Value) {
        if let Some(h) = &self.host {
            data["host"] = json!(h);
        }
        tracing::info!(kind, session, %data, "panes");
        log::append_or_report(
            &self.log_home.log_path(),
            &Entry::new(kind, Some(session), data),
        );
    }
}

/// Quote for `sh`: single quotes, with embedded ones escaped.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[path = "fleet_host.rs"]
mod host;
pub use host::OnHost;

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
