//! The notifier's thread: follows the log, maps entries to events for every notifier's queue,
//! sends the heartbeat on its timer, notices a crash of the previous control room at start-up,
//! and picks up a changed `[notify]` section of brl.toml.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, SubsecRound, Utc};

use super::events::{self, Event};
use super::heartbeat::{self, Look, Period};
use super::queue::{Ctx, Sink};
use super::send::{Limits, Target};
use super::{Options, STOP_WITHIN};
use crate::config::{Config, NotifyConfig};
use crate::home::Home;
use crate::store::control::SessionControl;
use crate::store::follow::Follower;
use crate::store::log::{self, Filter};
use crate::store::queue::{Queue, Status};

/// The longest the loop waits for log entries before looking at the stop flag and the timers
/// (the follower re-checks the file this often anyway): two wake-ups a second when idle.
const SLICE: Duration = Duration::from_millis(500);
/// How many of the log's last entries are searched for the last one before this start.
const LAST_SEEN_WINDOW: usize = 64;

pub(super) struct Runner {
    home: Home,
    /// The home's directory, as events name it.
    home_name: String,
    sessions: Vec<String>,
    notify: NotifyConfig,
    opts: Options,
    ctx: Ctx,
    started_at: DateTime<Utc>,
    follower: Option<Follower>,
    sinks: Vec<Sink>,
    /// brl.toml's (modified, length) when last read.
    config_stamp: Option<(SystemTime, u64)>,
    follow_error_logged: bool,
}

impl Runner {
    pub fn new(
        home: &Home,
        config: &Config,
        opts: Options,
        stop: Arc<AtomicBool>,
        started_at: DateTime<Utc>,
        follower: Option<Follower>,
    ) -> Runner {
        let ctx = Ctx {
            home: home.root().to_path_buf(),
            log: home.log_path(),
            limits: Limits {
                http: opts.http_timeout,
                command: opts.command_timeout,
            },
            backoff: opts.backoff.clone(),
            capacity: opts.queue_capacity,
            stop,
        };
        Runner {
            home: home.clone(),
            home_name: home.root().display().to_string(),
            sessions: config.session_names(),
            notify: config.notify.clone(),
            config_stamp: stamp(&home.config_path()),
            opts,
            ctx,
            started_at,
            follower,
            sinks: Vec::new(),
            follow_error_logged: false,
        }
    }

    pub fn run(mut self) {
        self.start_sinks();
        if !self.sinks.is_empty()
            && let Some(e) = self.crash_check()
        {
            self.push(e);
        }
        let mut period = Period::default();
        let mut next_beat = self.beat_every().map(|d| Instant::now() + d);
        let mut next_reload = Instant::now() + self.opts.reload_every;
        while !self.stopping() {
            let now = Instant::now();
            if self.sinks.is_empty() {
                // Nothing to notify: no need to follow the log; look at brl.toml now and then
                // ([`super::Notifier::stop`] unparks this thread).
                self.follower = None;
                std::thread::park_timeout(next_reload.saturating_duration_since(now));
            } else {
                let wait = next_beat.map_or(SLICE, |t| t.saturating_duration_since(now).min(SLICE));
                self.follow(wait, &mut period);
            }
            let now = Instant::now();
            if let (Some(t), Some(every)) = (next_beat, self.beat_every())
                && now >= t
            {
                if !self.sinks.is_empty() {
                    let look = self.look();
                    self.push(heartbeat::heartbeat(
                        &period,
                        &look,
                        every,
                        Utc::now().trunc_subsecs(3),
                        &self.home_name,
                    ));
                }
                period = Period::default();
                next_beat = Some(now + every);
            }
            if now >= next_reload {
                next_reload = now + self.opts.reload_every;
                if self.reload() {
                    next_beat = self.beat_every().map(|d| now + d);
                }
                if !self.sinks.is_empty() && self.follower.is_none() {
                    // From the end: what was written while nothing was listening is not news.
                    self.follower = Follower::from_end(&self.ctx.log).ok();
                    period = Period::default();
                }
            }
        }
        // The stop flag is seen within SLICE; the rest of STOP_WITHIN is the sinks'.
        let deadline = Instant::now() + STOP_WITHIN.saturating_sub(SLICE).mul_f32(0.8);
        for sink in self.sinks.drain(..) {
            sink.join_until(deadline);
        }
    }

    fn stopping(&self) -> bool {
        self.ctx.stop.load(Ordering::SeqCst)
    }

    fn beat_every(&self) -> Option<Duration> {
        let d = self
            .opts
            .heartbeat
            .unwrap_or(Duration::from_secs(self.notify.heartbeat_secs));
        (!d.is_zero()).then_some(d)
    }

    fn start_sinks(&mut self) {
        self.sinks = Target::all(&self.notify)
            .into_iter()
            .map(|t| Sink::start(t, self.ctx.clone()))
            .collect();
    }

    fn push(&self, event: Event) {
        tracing::info!(event = %event.event, text = %event.text, "notification");
        for sink in &self.sinks {
            sink.push(event.clone());
        }
    }

    /// Wait up to `wait` for new log entries; count them for the heartbeat and queue the
    /// notifications they call for.
    fn follow(&mut self, wait: Duration, period: &mut Period) {
        let Some(f) = self.follower.as_mut() else {
            std::thread::sleep(wait);
            return;
        };
        match f.next_batch(wait) {
            Ok(batch) => {
                self.follow_error_logged = false;
                for notice in &batch.notices {
                    tracing::warn!("notifications: {notice}");
                }
                for e in &batch.entries {
                    period.see(e);
                    if let Some(mut ev) = events::from_entry(e, &self.home_name) {
                        self.number(&mut ev);
                        self.push(ev);
                    }
                }
            }
            Err(e) => {
                if !self.follow_error_logged {
                    self.follow_error_logged = true;
                    tracing::error!("notifications: cannot read {}: {e}", self.ctx.log.display());
                }
                std::thread::sleep(wait);
            }
        }
    }

    /// A kept branch, or a decision on one, carries the branch's number (the one `/queue`
    /// shows), so `/approve 3` can be typed from the notification itself.
    fn number(&self, ev: &mut Event) {
        if !matches!(ev.event.as_str(), "kept" | "review_decision") {
            return;
        }
        let Some(branch) = ev.data.get("branch").and_then(|b| b.as_str()) else {
            return;
        };
        match crate::chat::numbers::Numbers::new(&self.home).of(branch) {
            Ok(n) => {
                events::with_number(ev, n);
            }
            Err(e) => tracing::warn!("notifications: {branch} goes without its number: {e}"),
        }
    }

    /// At start-up: did the previous control room stop without `control_stopped`? Reads the
    /// log backwards from its end, back to the previous start (and the last clean stop).
    fn crash_check(&self) -> Option<Event> {
        let path = &self.ctx.log;
        let kind = |k: &str| Filter {
            kind: Some(k.into()),
            session: None,
        };
        let starts = log::tail(path, 2, &kind("control_started")).ok()?.entries;
        if !starts.iter().any(|e| e.ts < self.started_at) {
            return None;
        }
        let stops = log::tail(path, 1, &kind("control_stopped")).ok()?.entries;
        let prev = events::unclean_start(&starts, stops.last(), self.started_at)?;
        let last_seen = log::tail(path, LAST_SEEN_WINDOW, &Filter::default())
            .ok()
            .and_then(|t| {
                t.entries
                    .iter()
                    .rev()
                    .find(|e| e.ts < self.started_at)
                    .map(|e| e.ts)
            });
        Some(events::crash_event(
            prev,
            last_seen,
            Utc::now().trunc_subsecs(3),
            &self.home_name,
        ))
    }

    /// Sessions alive (workers holding their life lock) and the review queue, for the heartbeat.
    fn look(&self) -> Look {
        let alive = self
            .sessions
            .iter()
            .filter(|s| {
                SessionControl::new(&self.home, s)
                    .worker_alive()
                    .unwrap_or(false)
            })
            .count();
        let queue = Queue::new(&self.home.queue_path())
            .load()
            .unwrap_or_else(|e| {
                tracing::warn!("notifications: heartbeat without the review queue: {e}");
                Vec::new()
            });
        let count = |st: Status| queue.iter().filter(|q| q.status == st).count();
        let open: Vec<&str> = queue
            .iter()
            .filter(|q| q.status.is_open())
            .map(|q| q.branch.as_str())
            .collect();
        let waiting = match crate::chat::numbers::Numbers::new(&self.home).assign(&open) {
            Ok(numbers) => numbers
                .into_iter()
                .zip(queue.iter().filter(|q| q.status.is_open()))
                .map(|(n, q)| heartbeat::Waiting {
                    number: n,
                    branch: q.branch.clone(),
                    status: q.status.as_str(),
                    subject: q.subject.clone(),
                })
                .collect(),
            Err(e) => {
                tracing::warn!("notifications: heartbeat without branch numbers: {e}");
                Vec::new()
            }
        };
        Look {
            sessions: self.sessions.len(),
            alive,
            pending: count(Status::Pending),
            conflict: count(Status::Conflict),
            waiting,
        }
    }

    /// Pick up a changed `[notify]` (the notifiers restart; what waited in their queues is
    /// dropped). Returns whether it changed. A broken brl.toml keeps the last good section.
    fn reload(&mut self) -> bool {
        let now = stamp(&self.home.config_path());
        if now == self.config_stamp {
            return false;
        }
        self.config_stamp = now;
        let Ok(config) = self.home.load_config() else {
            return false;
        };
        if config.notify == self.notify {
            return false;
        }
        tracing::info!("notifications: [notify] changed in brl.toml; notifiers restarted");
        self.notify = config.notify;
        self.sinks.clear(); // each closes; a send in flight finishes on its own
        self.start_sinks();
        true
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}
