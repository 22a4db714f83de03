//! What the agent reported, as it bears on the cycle: its figures for the entry, the limit it hit
//! (kept for the scheduler: no cycle for this agent until it resets) and the tools it was denied
//! (named in the reason, never a silent `no_change`).

use chrono::Utc;
use serde_json::{Value, json};

use super::{Cycle, describe_exit};
use crate::agents::AgentResult;
use crate::outcome::{self, AgentExit};
use crate::scheduler::limits;
use crate::store::log::{self, Entry};

impl Cycle<'_> {
    /// `agent_limited`, once per limit (by the first cycle to hit it): the scheduler pauses
    /// every session using this agent until `resume_at`.
    pub(super) fn log_limit(&self) {
        if let Some((limit, true)) = &self.data.limited {
            let data = serde_json::to_value(limit).unwrap_or_else(|_| json!({}));
            let entry = Entry::new("agent_limited", Some(self.session), data);
            if let Err(e) = log::append(&self.home.log_path(), &entry) {
                crate::say_err!("{}: cannot log the agent's limit: {e}", self.session);
            }
        }
    }

    /// The agent hit a limit: keep it for the scheduler (no cycle for this agent until it
    /// resets); a clean run starts the back-off again.
    pub(super) fn note_limit(&mut self, preset: &str, result: &AgentResult) {
        let now = Utc::now();
        let kept = match &result.limit {
            Some(limit) => {
                limits::record(self.home, preset, limit, Some(self.session), now).map(Some)
            }
            None => limits::clear(self.home, preset).map(|()| None),
        };
        match kept {
            Ok(k) => self.data.limited = k,
            Err(e) => self
                .data
                .notes
                .push(format!("could not keep the agent's limit: {e}")),
        }
    }

    /// What the agent reported that bears on the outcome: a limit, tools denied.
    pub(super) fn signals(&self) -> outcome::Signals {
        let Some(r) = &self.data.result else {
            return outcome::Signals::default();
        };
        let now = Utc::now();
        let limit = r.limit.as_ref().map(|l| {
            let resume = match &self.data.limited {
                Some((kept, _)) => limits::describe(kept, now),
                None => limits::kind_name(l.kind).replace('_', " "),
            };
            format!("{resume}: {}", l.message)
        });
        outcome::Signals {
            limit,
            denied: self.config.preset().denial_reason(&r.denials),
        }
    }
}

/// The entry's `agent` block: how it ended, its preset and everything it reported.
pub(super) fn agent_block(exit: &AgentExit, preset: &str, result: &AgentResult) -> Value {
    let mut v = serde_json::to_value(result).unwrap_or_else(|_| json!({}));
    v["exit"] = json!(describe_exit(*exit));
    v["preset"] = json!(preset);
    v
}
