//! The evaluate decision: a pure function from what happened in a cycle to its outcome.
//! No git, no processes, no clock — tested on its own.

mod compare;

use serde::{Deserialize, Serialize};

pub use compare::{Diff, compare};

/// The figures the checks report. `None` where a check is not configured or did not run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub errors: Option<u64>,
    pub failures: Option<u64>,
    pub passed: Option<u64>,
}

/// A log entry's before→after counts in words, e.g. `err 3→1 fail 2→0` with `labels` for
/// errors, failures and passed; a count missing on one side shows as `?`, one missing on both is
/// left out. `None` when there is none.
pub fn figures_text(
    before: &serde_json::Value,
    after: &serde_json::Value,
    labels: [&str; 3],
    sep: &str,
) -> Option<String> {
    let parts: Vec<String> = ["errors", "failures", "passed"]
        .iter()
        .zip(labels)
        .filter_map(|(key, label)| {
            let b = before.get(key).and_then(serde_json::Value::as_u64);
            let a = after.get(key).and_then(serde_json::Value::as_u64);
            if b.is_none() && a.is_none() {
                return None;
            }
            let show = |n: Option<u64>| n.map_or("?".to_string(), |n| n.to_string());
            Some(format!("{label} {}→{}", show(b), show(a)))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(sep))
}

/// How one check went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum CheckState {
    NotConfigured,
    Ran,
    /// It could not run or its output could not be read (timeout, crash, no summary…).
    Failed(String),
}

/// Both checks at one moment (baseline or after the change).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    pub counts: Counts,
    pub typecheck: CheckState,
    pub test: CheckState,
    /// What the checks named, where their parsers can name things.
    #[serde(default, skip_serializing_if = "Names::is_empty")]
    pub names: Names,
}

impl Measure {
    /// Nothing measured: neither check configured.
    pub fn none() -> Measure {
        Measure {
            counts: Counts::default(),
            typecheck: CheckState::NotConfigured,
            test: CheckState::NotConfigured,
            names: Names::default(),
        }
    }
}

/// The identities behind the counts: which tests fail, which errors exist (file + code +
/// message, no line numbers; a multiset), and which tests gave different results between runs of
/// the same commit. `None` where the parser cannot name them: then counts decide.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flaky: Vec<String>,
}

impl Names {
    pub fn is_empty(&self) -> bool {
        self.failing.is_none() && self.errors.is_none() && self.flaky.is_empty()
    }
}

/// How the agent's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentExit {
    Exited(i32),
    /// Killed by a signal it did not get from us.
    Signaled(i32),
    TimedOut,
    Interrupted,
}

/// What a cycle came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Kept,
    Discarded,
    NoChange,
    AgentFailed,
    Timeout,
    Interrupted,
    /// The agent hit a usage or rate limit (or the API was overloaded) and changed nothing: not
    /// a judgement of the work; its task returns uncounted and the scheduler waits for the reset.
    RateLimited,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Kept => "kept",
            Outcome::Discarded => "discarded",
            Outcome::NoChange => "no_change",
            Outcome::AgentFailed => "agent_failed",
            Outcome::Timeout => "timeout",
            Outcome::Interrupted => "interrupted",
            Outcome::RateLimited => "rate_limited",
            Outcome::Error => "error",
        }
    }
    /// Does this outcome keep the branch for review?
    pub fn keeps_branch(self) -> bool {
        self == Outcome::Kept
    }
}

/// The facts the decision is made from.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    pub agent: AgentExit,
    /// The branch's tree differs from the base commit's.
    pub changed: bool,
    pub before: &'a Measure,
    /// The checks after the change; `None` when they were not run.
    pub after: Option<&'a Measure>,
    pub timeout_secs: u64,
    /// Tests known to be flaky: they never decide a cycle by themselves.
    pub flaky: &'a [String],
}

/// What the agent itself reported that bears on the outcome.
#[derive(Clone, Debug, Default)]
pub struct Signals {
    /// The agent said it hit a limit: the limit in words (`usage limit, resets 23:03: …`).
    pub limit: Option<String>,
    /// The agent was denied tools: the reason naming them ([`crate::agents::denial_reason`]).
    pub denied: Option<String>,
}

/// The outcome and the reason in words (`"errors 12 → 14"`), with nothing reported by the agent.
pub fn evaluate(f: &Facts) -> (Outcome, String) {
    evaluate_run(f, &Signals::default())
}

/// [`evaluate`] with what the agent reported: a limit hit without a change is `rate_limited`; a
/// denial without a change is named in the reason (never a silent `no_change`).
pub fn evaluate_run(f: &Facts, sig: &Signals) -> (Outcome, String) {
    match f.agent {
        AgentExit::Interrupted => {
            return (
                Outcome::Interrupted,
                "the worker was stopped (SIGINT/SIGTERM); the agent was killed and the branch discarded".into(),
            );
        }
        AgentExit::TimedOut => {
            return (
                Outcome::Timeout,
                format!(
                    "the agent ran past [agent] timeout_secs = {}; its process group was killed",
                    f.timeout_secs
                ),
            );
        }
        _ => {}
    }
    if !f.changed {
        // A limit, not the agent's judgement: whatever the exit code, the cycle did not happen.
        if let Some(limit) = &sig.limit {
            return (
                Outcome::RateLimited,
                format!("the agent hit a limit and changed nothing: {limit}"),
            );
        }
        if let (Some(denied), AgentExit::Exited(_)) = (&sig.denied, f.agent) {
            // Not a silent no_change: the agent was not allowed to work.
            let outcome = match f.agent {
                AgentExit::Exited(0) => Outcome::NoChange,
                _ => Outcome::AgentFailed,
            };
            return (outcome, format!("the agent changed nothing: {denied}"));
        }
        return match f.agent {
            AgentExit::Exited(0) => (Outcome::NoChange, "the agent changed nothing".into()),
            AgentExit::Exited(127) => (
                Outcome::AgentFailed,
                "the agent exited with code 127 and changed nothing: command not found (the shell did not find the agent's command); check [agent] command in brl.toml and that the agent is installed".into(),
            ),
            AgentExit::Exited(code) => (
                Outcome::AgentFailed,
                format!("the agent exited with code {code} and changed nothing"),
            ),
            AgentExit::Signaled(sig) => (
                Outcome::AgentFailed,
                format!("the agent was killed by signal {sig} and changed nothing"),
            ),
            AgentExit::TimedOut | AgentExit::Interrupted => unreachable!("handled above"),
        };
    }
    let Some(after) = f.after else {
        return (
            Outcome::Error,
            "the checks were not run after the change".into(),
        );
    };
    // A check that cannot run at baseline proves nothing: nothing of this configuration is kept
    // (the cycle blocks the session before the agent runs; this guards every other caller).
    for (name, state) in [("typecheck", &f.before.typecheck), ("test", &f.before.test)] {
        if let CheckState::Failed(why) = state {
            return (
                Outcome::Error,
                format!("{name} cannot run at baseline, so nothing can be judged: {why}"),
            );
        }
    }
    let Diff { worse, better, .. } = compare(f.before, after, f.flaky);
    if !worse.is_empty() {
        return (Outcome::Discarded, worse.join(", "));
    }
    let mut reason = if better.is_empty() {
        "no check got worse".to_string()
    } else {
        better.join(", ")
    };
    if let AgentExit::Exited(code) = f.agent
        && code != 0
    {
        reason.push_str(&format!(" (the agent exited with code {code})"));
    }
    (Outcome::Kept, reason)
}

#[cfg(test)]
mod tests;
