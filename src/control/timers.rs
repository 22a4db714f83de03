//! The periodic jobs' timers: each job with an interval (`[review|standup|doctor]
//! interval_secs`, not 0) runs when that long has passed since its last log entry — so a
//! restarted control room keeps the rhythm instead of running everything at start. A job still
//! running when its time comes again is skipped (its lock says so), not queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::config::Config;
use crate::home::Home;
use crate::jobs::{self, Job, JobError};

pub struct JobTimers {
    /// Per job (in `Job::ALL` order): when it is next due.
    next: [Option<Instant>; 3],
    running: Vec<JoinHandle<()>>,
    cancel: Arc<AtomicBool>,
}

impl JobTimers {
    pub fn new(home: &Home, config: &Config) -> JobTimers {
        let now = Instant::now();
        let next = Job::ALL.map(|job| {
            let every = job.interval(config)?;
            let since = jobs::last_run(home, job)
                .and_then(|t| (Utc::now() - t).to_std().ok())
                .unwrap_or(Duration::ZERO);
            // Never ran: a full interval from now; else what is left of it.
            let left = if since.is_zero() {
                every
            } else {
                every.saturating_sub(since)
            };
            Some(now + left)
        });
        JobTimers {
            next,
            running: Vec::new(),
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Start the jobs that are due; returns when the next one is.
    pub fn tick(&mut self, home: &Home, config: &Config) -> Option<Instant> {
        let now = Instant::now();
        self.running.retain(|h| !h.is_finished());
        for (i, job) in Job::ALL.into_iter().enumerate() {
            let Some(every) = job.interval(config) else {
                self.next[i] = None;
                continue;
            };
            let due = *self.next[i].get_or_insert(now + every);
            if now < due {
                continue;
            }
            self.next[i] = Some(now + every);
            match jobs::spawn(home, job, Some(Arc::clone(&self.cancel))) {
                Ok(h) => {
                    tracing::info!(job = job.name(), "periodic job started");
                    self.running.push(h);
                }
                Err(e @ JobError::Busy { .. }) => tracing::info!(job = job.name(), "skipped: {e}"),
                Err(e) => tracing::error!(job = job.name(), "cannot start: {e}"),
            }
        }
        self.next.iter().flatten().min().copied()
    }

    /// Stop the agents of running jobs and wait (up to `max`) for their entries to be written.
    pub fn stop(self, max: Duration) {
        self.cancel.store(true, Ordering::SeqCst);
        // Wake the running job's command at once (it sleeps until something rings).
        crate::proc::wait::ring();
        let end = Instant::now() + max;
        for h in self.running {
            while !h.is_finished() && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(50));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }
}
