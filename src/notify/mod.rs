//! Notifications (`[notify]` of brl.toml): the control room tells a command, a webhook and/or a
//! Telegram chat when a branch is kept and waits for review, a review decision is made, a budget
//! is reached, a worker or the control room died, a meeting or the doctor has something to say —
//! and sends a heartbeat every `[notify] heartbeat_secs`, so that silence is never ambiguous.
//!
//! The file system is the bus: the notifier is a thread of the control room that follows the
//! experiment log from its end ([`crate::store::follow::Follower`]) and maps entries to
//! [`Event`]s ([`events`], pure). Each notifier has its own bounded queue and thread
//! ([`queue`]): a slow or failing one delays only its own notifications, is retried with
//! back-off, and what it could not deliver becomes a `notify_failed` entry in the log (never
//! notified itself). Nothing here can block or stop the control room.

pub mod events;
pub mod heartbeat;
mod queue;
mod run;
pub(crate) mod send;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};

pub use events::Event;
pub use heartbeat::{Look, Period};

use crate::config::Config;
use crate::home::Home;
use crate::store::follow::Follower;

/// How long [`Notifier::stop`] waits for the threads at most.
const STOP_WITHIN: Duration = Duration::from_millis(1000);

/// Internal settings, fixed in production and shortened by the tests.
#[derive(Clone, Debug)]
pub struct Options {
    /// Overrides `[notify] heartbeat_secs` (whose minimum is 60 s): tests use short periods.
    /// `Some(Duration::ZERO)`: no heartbeat.
    pub heartbeat: Option<Duration>,
    /// Waits before each retry of a failed send; each event is tried `backoff.len() + 1` times.
    pub backoff: Vec<Duration>,
    /// Events waiting per notifier; past this the oldest are dropped (and a `notify_failed`
    /// entry says how many).
    pub queue_capacity: usize,
    /// Timeout of one webhook or Telegram request.
    pub http_timeout: Duration,
    /// Timeout of one run of the command (its process group is killed past it).
    pub command_timeout: Duration,
    /// How often brl.toml is looked at for a changed `[notify]` section.
    pub reload_every: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            heartbeat: None,
            backoff: [2, 8, 30].map(Duration::from_secs).to_vec(),
            queue_capacity: 100,
            http_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(30),
            reload_every: Duration::from_secs(10),
        }
    }
}

/// The running notifier. Stop it with [`Notifier::stop`]; dropping it also stops it, without
/// waiting.
pub struct Notifier {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// Start the notifier of the control room of `home`, with the production [`Options`].
pub fn spawn(home: &Home, config: &Config) -> Notifier {
    spawn_with(home, config, Options::default())
}

/// Start the notifier. It follows the log from its current end: entries appended after this
/// returns are seen; older ones are not notified (but a crash of the previous control room is).
/// It runs even with no notifier configured, so that adding one to brl.toml takes effect
/// without a restart.
pub fn spawn_with(home: &Home, config: &Config, opts: Options) -> Notifier {
    let stop = Arc::new(AtomicBool::new(false));
    // At log precision: an entry stamped later, in the same millisecond, is this run's.
    let started_at = Utc::now().trunc_subsecs(3);
    let log = home.log_path();
    let follower = Follower::from_end(&log)
        .map_err(|e| tracing::error!("notifications: cannot follow {}: {e}", log.display()))
        .ok();
    let runner = run::Runner::new(home, config, opts, Arc::clone(&stop), started_at, follower);
    let handle = std::thread::Builder::new()
        .name("brl-notify".into())
        .spawn(move || runner.run())
        .map_err(|e| tracing::error!("notifications are off: cannot start their thread: {e}"))
        .ok();
    Notifier { stop, handle }
}

impl Notifier {
    /// Stop within about a second: notifications waiting in the queues are dropped, and a send
    /// in flight past that is abandoned (its thread ends on its own when the send times out; a
    /// running command is sent SIGTERM).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        crate::proc::wait::ring();
        let Some(h) = self.handle.take() else { return };
        h.thread().unpark();
        let deadline = Instant::now() + STOP_WITHIN;
        while !h.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if h.is_finished() {
            let _ = h.join();
        } else {
            tracing::warn!("notifications: a send still in flight was abandoned at shutdown");
        }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        crate::proc::wait::ring();
        if let Some(h) = &self.handle {
            h.thread().unpark();
        }
    }
}
