//! The control room's engine: holds the home's lock (one scheduler per home), keeps one tmux pane
//! per session, grants cycles, and serves the HTTP triggers — until SIGINT/SIGTERM, when it stops
//! within seconds and leaves the workers running in tmux (a restart adopts them).
//!
//! Steady state, whatever the number of sessions: one `list-panes` every `[tmux] check_secs`, a
//! scheduling pass when a control file changes (a worker became idle) and every
//! `[scheduler] interval_secs`; nothing polls per pane, nothing captures pane output. With
//! `[[hosts]]`, one collection pass per host every `[tmux] check_secs` on its own thread (one ssh
//! command per host when nothing is new).

pub mod fleet;
pub mod ops;
pub mod reap;
pub mod schedule;
mod schedule_hosts;
mod timers;

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::config::Config;
use crate::home::Home;
use crate::scheduler::MemoryReader;
use crate::status;
use crate::store::atomic::{LockGuard, lock_owner};
use crate::store::control::ControlWatch;
use crate::tmux::{Layout, Tmux};

use fleet::Fleet;
use schedule::{Scheduler, append};

/// How `brl up` was asked to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Overrides `sessions` of brl.toml for this control room and its workers.
    pub sessions: Option<NonZeroU32>,
    /// What keeps this control room running ([`supervisor`], read before PM2's variables are
    /// scrubbed); recorded in the home's lock for the dashboards.
    pub supervisor: String,
}

/// Take the home's lock, or say who holds it.
pub fn lock_home(home: &Home, supervisor: &str) -> anyhow::Result<LockGuard> {
    let path = status::control_lock_path(home);
    match LockGuard::try_exclusive(&path)? {
        Some(mut g) => {
            g.write_owner_with(supervisor)?;
            Ok(g)
        }
        None => {
            let who = lock_owner(&path)
                .map(|p| format!("process {p}"))
                .unwrap_or_else(|| "another process".into());
            anyhow::bail!(
                "a control room already schedules the home {}: {who} holds {}. One control room per home: use that one (`brl status`, `brl attach`), or stop it with `brl down`",
                home.root().display(),
                path.display()
            )
        }
    }
}

/// What keeps this control room running, as the dashboard's header shows it: `pm2 <id>` under
/// PM2, `tmux` in a tmux pane, else `terminal`. Read before `brl up` scrubs PM2's variables.
pub fn supervisor() -> String {
    if let Ok(id) = std::env::var("pm_id") {
        return format!("pm2 {id}");
    }
    if std::env::var_os("TMUX").is_some() {
        return "tmux".into();
    }
    "terminal".into()
}

/// Run the control room until `stop` is set.
pub fn run(home: &Home, opts: &Options, stop: &AtomicBool) -> anyhow::Result<()> {
    let mut config = load(home, opts)?;
    let _lock = lock_home(home, &opts.supervisor)?;
    let layout = Layout::load(&home.layouts_dir(), &config.tmux.layout)?;
    let tmux = Tmux::new(config.tmux.socket.as_deref());
    // `[[hosts]]`: each host's workers live in tmux there (see crate::hosts::fleet).
    let mut hosts = Vec::new();
    for h in &config.hosts {
        // `brl down --host` held it until this `brl up`.
        crate::hosts::status_file::clear_stopped(home, &h.name).with_context(|| {
            format!(
                "cannot remove {} (left by `brl down --host {}`): remove it by hand",
                crate::hosts::status_file::stopped_path(home, &h.name).display(),
                h.name
            )
        })?;
    }
    crate::hosts::fleet::sync(&mut hosts, home, &config, &layout);
    let mut fleet = Fleet::new(
        home,
        tmux,
        &config.tmux.session,
        layout.clone(),
        opts.sessions.map(NonZeroU32::get),
        config.tmux.pane_log_max_bytes,
    )?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let server = start_server(home, &config, &cancel)?;
    // Notifications ([notify]): a thread following the experiment log; see crate::notify.
    let notifier = crate::notify::spawn(home, &config);
    // Commands from the Telegram chat ([notify.telegram] commands); see crate::chat.
    // Only when configured at start: an idle control room wakes for nothing it does not do.
    let chat = config
        .notify
        .telegram
        .as_ref()
        .filter(|t| t.commands)
        .map(|_| crate::chat::spawn(home));
    // Hosts ([[hosts]]): their records, kept branches and task results come home on a thread of
    // their own every `[tmux] check_secs`; see crate::hosts::collect.
    let collector = (!config.hosts.is_empty())
        .then(|| crate::hosts::collector::Collector::spawn(home, &config));

    schedule::release_orphan_tasks(home, &config);
    let first = fleet
        .check(&config.session_names())
        .context("cannot set up the tmux panes")?;
    let mut on_hosts = Vec::new();
    for room in &mut hosts {
        let c = room.check();
        on_hosts.push(json!({"host": room.name(), "reachable": room.reachable(),
            "panes_adopted": c.as_ref().map(|c| c.adopted),
            "panes_created": c.as_ref().map(|c| c.created),
            "panes_respawned": c.as_ref().map(|c| c.respawned)}));
    }
    let socket = config
        .tmux
        .socket
        .clone()
        .unwrap_or_else(|| "default".into());
    append(
        home,
        "control_started",
        None,
        json!({"pid": std::process::id(), "sessions": config.sessions.get(),
               "tmux_socket": socket, "tmux_session": config.tmux.session,
               "panes_adopted": first.adopted, "panes_created": first.created,
               "panes_respawned": first.respawned, "hosts": on_hosts,
               "http": config.server.enabled.then(|| config.server.listen.to_string())}),
    );
    tracing::info!(
        adopted = first.adopted,
        created = first.created,
        respawned = first.respawned,
        "control room running; attach with `brl attach`, stop everything with `brl down`"
    );

    let events = Events::new(home);
    let mut sched = Scheduler::default();
    let check_every = Duration::from_secs(config.tmux.check_secs.get());
    let mut next_check = Instant::now() + check_every;
    let mut next_pass = Instant::now();
    let mut timers = timers::JobTimers::new(home, &config);
    let mut check_failing: Option<String> = None;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        let due = now >= next_pass;
        if now >= next_check {
            config = reload(home, opts, config);
            // A failure is said once until it changes or clears: a tmux that cannot start the
            // session fails every check, and the log must not fill with the same line.
            match fleet.check(&config.session_names()) {
                Ok(_) => {
                    if check_failing.take().is_some() {
                        tracing::info!("the tmux panes are checked again without error");
                    }
                }
                Err(e) => {
                    let m = format!("{e:#}");
                    if check_failing.as_deref() != Some(m.as_str()) {
                        tracing::error!("checking the tmux panes: {m}");
                        append(home, "tmux_check_failed", None, json!({"error": m}));
                        check_failing = Some(m);
                    }
                }
            }
            crate::hosts::fleet::sync(&mut hosts, home, &config, &layout);
            for room in &mut hosts {
                room.check();
                // A host's idle workers cannot wake this loop (their control files are there):
                // its sessions are read at every check, one ssh command per host, so a worker
                // that finished waits at most `[tmux] check_secs` for its next grant.
                if !due {
                    room.refresh();
                }
            }
            next_check = now + Duration::from_secs(config.tmux.check_secs.get());
        }
        if due {
            config = reload(home, opts, config);
            next_pass = now + Duration::from_secs(config.scheduler.interval_secs.get());
            // Main may have moved (a user's push): superseded entries close (cheap when not).
            if let Err(e) = crate::decision::sweep(home, &config) {
                tracing::warn!("review queue sweep: {e:#}");
            }
        }
        sched.pass(home, &config, due, &mut hosts);
        let mut deadline = next_check.min(next_pass);
        if let Some(job_due) = timers.tick(home, &config) {
            deadline = deadline.min(job_due);
        }
        events.wait_until(deadline, stop);
    }

    cancel.cancel();
    // A job in flight: its agent is stopped and its entry written (a few seconds at most).
    timers.stop(Duration::from_secs(5));
    // At most ~1 s: queued notifications are dropped, a send in flight is abandoned.
    notifier.stop();
    if let Some(chat) = chat {
        chat.stop();
    }
    // A pass in flight is safe to cut at any step (the central append is its commit point).
    if let Some(collector) = collector {
        collector.stop(Duration::from_secs(3));
    }
    if let Some(h) = server {
        let _ = h.join();
    }
    append(
        home,
        "control_stopped",
        None,
        json!({"pid": std::process::id(), "note": "the workers keep running in tmux; `brl up` adopts them, `brl down` stops them"}),
    );
    tracing::info!("control room stopped; the workers keep running in tmux");
    Ok(())
}

/// The config with `brl up --sessions` applied.
fn load(home: &Home, opts: &Options) -> anyhow::Result<Config> {
    let mut c = home.load_config()?;
    if let Some(n) = opts.sessions {
        c.sessions = n;
    }
    Ok(c)
}

/// Read brl.toml again (edits apply without a restart); a broken edit keeps the last good config.
fn reload(home: &Home, opts: &Options, last: Config) -> Config {
    match load(home, opts) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("{e:#}; keeping the last good configuration");
            last
        }
    }
}

fn start_server(
    home: &Home,
    config: &Config,
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<Option<std::thread::JoinHandle<()>>> {
    if !config.server.enabled {
        return Ok(None);
    }
    let token = std::env::var(&config.server.token_env)
        .ok()
        .filter(|t| !t.is_empty());
    match crate::server::check_startup(
        config.server.listen,
        token.as_deref(),
        &config.server.token_env,
    ) {
        Err(e) => anyhow::bail!("{e}"),
        Ok(Some(warning)) => tracing::warn!("{warning}"),
        Ok(None) => {}
    }
    let memory = Arc::new(Mutex::new(MemoryReader::default()));
    let (h, c) = (home.clone(), config.clone());
    let status: crate::server::StatusFn = Arc::new(move || {
        let config = h.load_config().unwrap_or_else(|_| c.clone());
        let mut m = memory
            .lock()
            .map_err(|_| anyhow::anyhow!("the memory reader was poisoned"))?;
        Ok(status::snapshot(&h, &config, &mut m))
    });
    let handle = crate::server::spawn(
        crate::server::ServerOptions {
            home: home.clone(),
            listen: config.server.listen,
            token,
            token_env: config.server.token_env.clone(),
            max_pending: config.tasks.max_pending,
            status,
        },
        cancel.clone(),
    )?;
    tracing::info!(listen = %config.server.listen, "HTTP triggers served");
    Ok(Some(handle))
}

/// Wakes the loop when a control file changes; falls back to the deadlines alone.
struct Events {
    watch: ControlWatch,
}

impl Events {
    fn new(home: &Home) -> Events {
        let watch = ControlWatch::new(home);
        if !watch.watching() {
            tracing::warn!(
                "cannot watch {}; idle workers are noticed at the next check instead",
                home.control_dir().display()
            );
        }
        Events { watch }
    }

    /// Until a change (then a short pause, to take a burst of writes as one), `deadline`, or stop.
    fn wait_until(&self, deadline: Instant, stop: &AtomicBool) {
        loop {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            // A stop signal wakes the wait itself (without one to wake on, the watch cuts its
            // waits to a second so the stop flag is seen).
            if self.watch.wait(deadline - now) {
                // A short pause takes a burst of writes as one.
                std::thread::sleep(Duration::from_millis(50));
                self.watch.drain();
                return;
            }
        }
    }
}
