//! The periodic jobs: the automated review (`cto_review`), standup meetings (`team_standup`) and
//! the session doctor (`doctor_analysis`, with skill notes). The control room runs each every
//! `[<job>] interval_secs`; `brl review|standup|doctor` and `POST /trigger/<job>` run one on
//! demand. Each run takes the job's lock (two runs never overlap), has a time limit (`[<job>]
//! timeout_secs`, shared by all its agent calls) and appends exactly one log entry with its
//! figures, calls and cost — also when it fails.

mod ask;
pub mod doctor;
pub mod fix;
pub mod progress;
pub mod review;
mod scratch;
pub mod skills;
pub mod standup;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};

use crate::config::Config;
use crate::home::Home;
use crate::store::atomic::{LockGuard, lock_owner};
use crate::store::log::{self, Entry};

/// One of the periodic jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    Review,
    Standup,
    Doctor,
}

impl Job {
    pub const ALL: [Job; 3] = [Job::Review, Job::Standup, Job::Doctor];

    pub fn name(self) -> &'static str {
        match self {
            Job::Review => "review",
            Job::Standup => "standup",
            Job::Doctor => "doctor",
        }
    }

    pub fn parse(s: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|j| j.name() == s)
    }

    /// The type of the job's log entry.
    pub fn entry_kind(self) -> &'static str {
        match self {
            Job::Review => "cto_review",
            Job::Standup => "team_standup",
            Job::Doctor => "doctor_analysis",
        }
    }

    pub fn lock_path(self, home: &Home) -> PathBuf {
        home.locks_dir().join(format!("job-{}.lock", self.name()))
    }

    /// Whether a run of the job holds its lock now.
    pub fn running(self, home: &Home) -> bool {
        LockGuard::is_held(&self.lock_path(home)).unwrap_or(false)
    }

    /// The error for a run refused because another holds the lock (naming its pid).
    fn busy(self, home: &Home) -> JobError {
        let lock = self.lock_path(home);
        JobError::Busy {
            job: self.name(),
            pid: lock_owner(&lock)
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into()),
            lock: lock.display().to_string(),
        }
    }

    /// `[<job>] interval_secs`; `None` when 0 (on demand only) or the review is off.
    pub fn interval(self, config: &Config) -> Option<Duration> {
        let secs = match self {
            Job::Review if config.review.mode == crate::config::ReviewMode::Off => 0,
            Job::Review => config.review.interval_secs,
            Job::Standup => config.standup.interval_secs,
            Job::Doctor => config.doctor.interval_secs,
        };
        (secs > 0).then(|| Duration::from_secs(secs))
    }

    fn timeout(self, config: &Config) -> Duration {
        Duration::from_secs(match self {
            Job::Review => config.review.timeout_secs,
            Job::Standup => config.standup.timeout_secs,
            Job::Doctor => config.doctor.timeout_secs,
        })
    }
}

/// Why a job did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(
        "the {job} job is already running (pid {pid}, holding {lock}); it runs once at a time — wait for it, its entry appears in the log"
    )]
    Busy {
        job: &'static str,
        pid: String,
        lock: String,
    },
    #[error("the {job} job ran out of its time ({secs} s, `[{job}] timeout_secs` in brl.toml)")]
    TimedOut { job: &'static str, secs: u64 },
    #[error("{0}")]
    Failed(String),
}

impl From<anyhow::Error> for JobError {
    fn from(e: anyhow::Error) -> Self {
        JobError::Failed(format!("{e:#}"))
    }
}

impl From<std::io::Error> for JobError {
    fn from(e: std::io::Error) -> Self {
        JobError::Failed(e.to_string())
    }
}

/// What a job run needs: the home, its config, its deadline, and the tally of agent calls.
pub struct Ctx<'a> {
    pub home: &'a Home,
    pub config: &'a Config,
    pub job: Job,
    pub started: chrono::DateTime<Utc>,
    deadline: Instant,
    /// Copy agent output to stdout (`brl review` in a terminal).
    pub echo: bool,
    pub cancel: Option<&'a AtomicBool>,
    pub calls: u32,
    pub cost_usd: f64,
    /// The tokens the agents reported over the run's calls.
    pub tally: Tally,
    /// Where agents without a worktree of their own run: the job's scratch git repository
    /// (see [`scratch`]).
    pub scratch: PathBuf,
    /// The run's progress file (`logs/jobs/<job>.progress.json`), for the dashboard.
    progress: Option<progress::Publisher>,
}

pub use ask::{Answer, Tally, strip_echo};

impl Ctx<'_> {
    /// Say where the run is now ("branch 2 of 5: …"), for the dashboard's header.
    pub fn progress(&mut self, step: impl Into<String>) {
        if let Some(p) = self.progress.as_mut() {
            p.step(step);
        }
    }

    fn timed_out(&self) -> JobError {
        JobError::TimedOut {
            job: self.job.name(),
            secs: self.job.timeout(self.config).as_secs(),
        }
    }
}

/// Run `job` now in this process: take its lock, run it, append its one log entry. Returns the
/// entry's data. `Busy` when another run holds the lock (nothing is logged then).
pub fn run(
    home: &Home,
    config: &Config,
    job: Job,
    echo: bool,
    cancel: Option<&AtomicBool>,
) -> Result<Value, JobError> {
    let Some(mut lock) = LockGuard::try_exclusive(&job.lock_path(home))? else {
        return Err(job.busy(home));
    };
    lock.write_owner()?;
    let started = Instant::now();
    let mut ctx = Ctx {
        home,
        config,
        job,
        started: Utc::now(),
        deadline: started + job.timeout(config),
        echo,
        cancel,
        calls: 0,
        cost_usd: 0.0,
        tally: Tally::default(),
        scratch: home
            .logs_dir()
            .join("jobs")
            .join("scratch")
            .join(job.name()),
        progress: Some(progress::Publisher::start(home, job.name())),
    };
    let result = match job {
        Job::Review => review::run(&mut ctx),
        Job::Standup => standup::run(&mut ctx),
        Job::Doctor => doctor::run(&mut ctx),
    };
    let mut data = match &result {
        Ok(d) => d.clone(),
        Err(e) => json!({"error": e.to_string()}),
    };
    data["ok"] = json!(result.is_ok());
    data["calls"] = json!(ctx.calls);
    // `cost_usd` is what the budget counts (every job entry has it, 0 when nothing was spent
    // or the agent reported no cost: then `unpriced_calls` says how many calls).
    data["cost_usd"] = json!(crate::scheduler::budget::round_usd(ctx.cost_usd));
    ctx.tally.write(&mut data);
    data["duration_secs"] = json!(started.elapsed().as_secs_f64().round());
    if let Some(p) = ctx.progress.take() {
        p.finish(&data);
    }
    log::append(
        &home.log_path(),
        &Entry::new(job.entry_kind(), None, data.clone()),
    )
    .map_err(|e| {
        JobError::Failed(format!(
            "the {} job ran but its entry could not be logged to {}: {e}",
            job.name(),
            home.log_path().display()
        ))
    })?;
    result.map(|_| data)
}

/// Start `job` on a thread of its own (HTTP triggers, the control room's timer). `Busy` at once
/// when a run is in progress; otherwise the run's result is only logged. Setting `cancel` stops
/// its agent (the run then logs its entry as failed).
pub fn spawn(
    home: &Home,
    job: Job,
    cancel: Option<Arc<AtomicBool>>,
) -> Result<std::thread::JoinHandle<()>, JobError> {
    if job.running(home) {
        return Err(job.busy(home));
    }
    let home = Home::new(home.root());
    let handle = std::thread::Builder::new()
        .name(format!("brl-job-{}", job.name()))
        .spawn(move || {
            let config = match home.load_config() {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(job = job.name(), "cannot run: {e}");
                    return;
                }
            };
            match run(&home, &config, job, false, cancel.as_deref()) {
                Ok(_) => tracing::info!(job = job.name(), "finished"),
                Err(e) => tracing::warn!(job = job.name(), "{e}"),
            }
        })?;
    Ok(handle)
}

/// When `job` last ran (its last entry), read backwards from the end of the log.
pub fn last_run(home: &Home, job: Job) -> Option<chrono::DateTime<Utc>> {
    let filter = log::Filter {
        kind: Some(job.entry_kind().into()),
        session: None,
    };
    log::tail(&home.log_path(), 1, &filter)
        .ok()?
        .entries
        .pop()
        .map(|e| e.ts)
}
