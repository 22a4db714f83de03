//! What an approval came to, in words for the person who asked.

use crate::store::journal::Record;
use crate::store::queue::QueueEntry;

/// What an approval came to. Only `Merged` changed main.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    Merged {
        new_main: String,
        fast_forward: bool,
    },
    /// The branch was already part of main; the entry is closed as approved.
    AlreadyMerged,
    /// Nothing changed; the entry is now `conflict`.
    Conflict { files: Vec<String> },
    /// Nothing changed (e.g. main is checked out with uncommitted changes, or a `stale` entry
    /// without `force`).
    Refused { reason: String },
    /// Merging it would change nothing on main now (a twin was approved, or main got the change
    /// otherwise): no empty merge commit; the entry is `superseded` and the branch deleted.
    Superseded { why: String },
}

impl Approval {
    pub fn succeeded(&self) -> bool {
        matches!(
            self,
            Approval::Merged { .. } | Approval::AlreadyMerged | Approval::Superseded { .. }
        )
    }

    pub fn describe(&self, branch: &str, main: &str) -> String {
        match self {
            Approval::Merged {
                new_main,
                fast_forward,
            } => format!(
                "approved {branch}: merged into {main} ({}), {main} is now {}",
                if *fast_forward {
                    "fast-forward"
                } else {
                    "merge commit"
                },
                &new_main[..new_main.len().min(12)]
            ),
            Approval::AlreadyMerged => {
                format!("approved {branch}: it was already part of {main}")
            }
            Approval::Conflict { files } => format!(
                "not merged: {branch} conflicts with {main} in {}; nothing changed, the entry is now `conflict` (reject it, or merge it by hand)",
                files.join(", ")
            ),
            Approval::Refused { reason } => format!("not merged: {reason}"),
            Approval::Superseded { why } => format!(
                "nothing to merge: {why}; {branch} is now `superseded` and its branch deleted ({main} unchanged)"
            ),
        }
    }

    pub(super) fn of(rec: &Record) -> Approval {
        match (rec.result.as_str(), &rec.new_main) {
            ("conflict", _) => Approval::Conflict {
                files: rec.conflict_files.clone(),
            },
            (r, Some(new_main)) => Approval::Merged {
                new_main: new_main.clone(),
                fast_forward: r == "fast_forward",
            },
            _ => Approval::AlreadyMerged,
        }
    }
}

/// Why an entry the latest re-check marked `stale`/`conflict` is not approved without force.
pub(super) fn blind(e: &QueueEntry, main: &str) -> String {
    let figures = e
        .review
        .as_ref()
        .and_then(|r| r.figures.clone())
        .map(|f| format!(" (re-check: {f})"))
        .unwrap_or_default();
    format!(
        "{} is `{}`: {}{figures}; approving it would put that into {main} — look at it          (`brl queue diff {}`), then approve with --force (CLI), the force key in the dashboard          or \"force\": true over HTTP to merge it anyway",
        e.branch,
        e.status.as_str(),
        e.decision_reason
            .as_deref()
            .unwrap_or("the latest re-check marked it so"),
        e.branch
    )
}
