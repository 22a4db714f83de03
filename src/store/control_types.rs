//! The records inside a session's control file (see [`super::control`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One cycle granted to a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// Increasing per session.
    pub id: u64,
    pub at: DateTime<Utc>,
    /// The task the cycle works on (claimed from the task queue for this grant), if any.
    #[serde(default)]
    pub task: Option<GrantTask>,
    /// A repair cycle (role `fix`) of this review-queue branch instead of a ralph cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The worker process that took it.
    #[serde(default)]
    pub taken_by: Option<u32>,
    #[serde(default)]
    pub taken_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantTask {
    pub id: u64,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
}

/// The last cycle the worker finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastCycle {
    pub outcome: String,
    pub branch: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Why a session cannot run cycles until something is repaired (its worktree, a git lock…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blocked {
    pub reason: String,
    pub since: DateTime<Utc>,
}
