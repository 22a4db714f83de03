//! The periodic jobs' sections of `brl.toml`: `[review]`, `[standup]` and `[doctor]`.

use serde::Deserialize;

/// What the automated review does with its verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReviewMode {
    /// Verdict and reasons are stored on the queue entry and shown; a person decides.
    #[default]
    Advisory,
    /// An approve verdict merges and a reject verdict deletes, exactly as the keys do.
    Auto,
    /// No automated review (the re-check against main is skipped too).
    Off,
}

/// How many calls a branch's review takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStyle {
    /// One reviewer.
    #[default]
    Single,
    /// An enthusiast lists every possible bug, an adversary tries to disprove each, a referee
    /// rules per item and gives the verdict.
    Adversarial,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewConfig {
    /// How often the control room runs the review; 0 = only on demand (`brl review`, HTTP).
    #[serde(default = "two_hours")]
    pub interval_secs: u64,
    #[serde(default)]
    pub mode: ReviewMode,
    #[serde(default)]
    pub style: ReviewStyle,
    /// The whole job's time limit (every re-check and agent call within it).
    #[serde(default = "default_job_timeout")]
    pub timeout_secs: u64,
    /// The diff shown to the reviewer is cut at this size (and says so).
    #[serde(default = "default_max_diff_bytes")]
    pub max_diff_bytes: usize,
    /// Back-pressure: while this many entries are open (pending, conflict or stale), no
    /// self-planned cycle is granted; 0 = no cap.
    #[serde(default = "default_max_pending_reviews")]
    pub max_pending: u32,
    /// With the backlog full, queued tasks wait too (by default they still run).
    #[serde(default)]
    pub backlog_blocks_tasks: bool,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            interval_secs: two_hours(),
            mode: ReviewMode::default(),
            style: ReviewStyle::default(),
            timeout_secs: default_job_timeout(),
            max_diff_bytes: default_max_diff_bytes(),
            max_pending: default_max_pending_reviews(),
            backlog_blocks_tasks: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandupConfig {
    /// How often the control room holds a standup; 0 = only on demand.
    #[serde(default = "two_hours")]
    pub interval_secs: u64,
    /// The whole meeting's time limit.
    #[serde(default = "default_job_timeout")]
    pub timeout_secs: u64,
    /// How much of each session's pane output its round-1 prompt shows.
    #[serde(default = "default_pane_tail")]
    pub pane_tail_bytes: usize,
}

impl Default for StandupConfig {
    fn default() -> Self {
        StandupConfig {
            interval_secs: two_hours(),
            timeout_secs: default_job_timeout(),
            pane_tail_bytes: default_pane_tail(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoctorConfig {
    /// How often the control room runs the doctor; 0 = only on demand.
    #[serde(default = "three_hours")]
    pub interval_secs: u64,
    /// The agent (role `doctor`) also proposes prompt improvements per session.
    #[serde(default)]
    pub advise: bool,
    /// The whole job's time limit (advice and skill notes included).
    #[serde(default = "default_job_timeout")]
    pub timeout_secs: u64,
    /// The same error in this many last cycles in a row is `error_looping`.
    #[serde(default = "default_loop_cycles")]
    pub loop_cycles: usize,
    /// Granted or in a cycle this long without a cycle finishing is `stuck`.
    #[serde(default = "default_stuck_secs")]
    pub stuck_secs: u64,
    /// How many recent cycles per session the doctor looks at.
    #[serde(default = "default_window")]
    pub window_cycles: usize,
}

impl Default for DoctorConfig {
    fn default() -> Self {
        DoctorConfig {
            interval_secs: three_hours(),
            advise: false,
            timeout_secs: default_job_timeout(),
            loop_cycles: default_loop_cycles(),
            stuck_secs: default_stuck_secs(),
            window_cycles: default_window(),
        }
    }
}

fn default_max_pending_reviews() -> u32 {
    20
}
fn two_hours() -> u64 {
    7200
}
fn three_hours() -> u64 {
    10800
}
fn default_job_timeout() -> u64 {
    1800
}
fn default_max_diff_bytes() -> usize {
    60_000
}
fn default_pane_tail() -> usize {
    2000
}
fn default_loop_cycles() -> usize {
    3
}
fn default_stuck_secs() -> u64 {
    3600
}
fn default_window() -> usize {
    10
}
