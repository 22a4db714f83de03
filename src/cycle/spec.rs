//! What a cycle is asked to do, and what it reports.

use crate::outcome::Outcome;
use crate::store::log::Entry;

/// What the agent is asked to do in a cycle.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSpec {
    /// The task's id in the task queue; `None` for a one-off (`brl cycle --task`).
    pub id: Option<u64>,
    pub title: String,
    pub body: Option<String>,
}

impl TaskSpec {
    pub fn one_off(title: &str) -> TaskSpec {
        TaskSpec {
            id: None,
            title: title.into(),
            body: None,
        }
    }
    pub fn from_task(t: &crate::store::tasks::Task) -> TaskSpec {
        TaskSpec {
            id: Some(t.id),
            title: t.title.clone(),
            body: t.body.clone(),
        }
    }
    /// The prompt's task section.
    pub(super) fn prompt_text(&self) -> String {
        let mut s = format!("TASK: {}", self.title);
        if let Some(id) = self.id {
            s.push_str(&format!("\n(task #{id} of the task queue)"));
        }
        if let Some(body) = &self.body {
            s.push_str("\n\n");
            s.push_str(body);
        }
        s
    }
}

pub struct Report {
    pub outcome: Outcome,
    pub branch: String,
    pub reason: String,
    pub entry: Entry,
}

impl Report {
    /// The one-line summary `brl cycle` prints.
    pub fn summary(&self) -> String {
        format!(
            "{} {}: {} — {}",
            self.entry.session.as_deref().unwrap_or("?"),
            self.outcome.as_str(),
            self.branch,
            self.reason
        )
    }
}

/// Prepares a cycle's starting point: see [`Start::prepare`].
pub type PrepareFn<'a> =
    dyn Fn(&std::path::Path, &str) -> anyhow::Result<Vec<(&'static str, String)>> + 'a;

/// How a cycle starts other than from main alone. The baseline is still main's, and the result
/// is judged against it by the same ratchet.
pub struct Start<'a> {
    /// The prompt (`prompts/<role>.md`) and the agent's role; the `ralph_cycle` entry says it.
    pub role: &'static str,
    /// Runs once main's baseline is measured and before the agent, with the worktree (on the
    /// cycle's branch, at main) and the branch: moves the branch to the work to start from and
    /// returns the role's prompt variables (added to the ralph ones). An error ends the cycle
    /// as `error`.
    pub prepare: &'a PrepareFn<'a>,
}
