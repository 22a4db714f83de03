//! What the review view lists: the queue's entries through the person's filter (open, decided,
//! by verdict, by status), session filter and sort. Pure: the view, the keys and the motion all
//! list through here, so the selected row is the same entry everywhere.

use std::collections::BTreeSet;

use crate::store::queue::Status;

use super::app::App;
use super::data::ReviewRow;

/// Which entries the review view lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReviewFilter {
    /// Waiting for a decision (the default).
    #[default]
    Open,
    /// Open, and the automated review said approve.
    VerdictApprove,
    /// Open, and the automated review said reject.
    VerdictReject,
    /// Open, and no automated review ran on it yet.
    NoVerdict,
    /// Open, and `stale` or `conflict` (an approval needs force or a fix).
    NeedsFix,
    /// Open, and waiting for more than a day.
    OlderThanADay,
    /// Decided: approved, rejected, superseded… with who, when and why.
    Decided,
}

impl ReviewFilter {
    const ORDER: [ReviewFilter; 7] = [
        ReviewFilter::Open,
        ReviewFilter::VerdictApprove,
        ReviewFilter::VerdictReject,
        ReviewFilter::NoVerdict,
        ReviewFilter::NeedsFix,
        ReviewFilter::OlderThanADay,
        ReviewFilter::Decided,
    ];

    pub fn next(self) -> ReviewFilter {
        let i = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        Self::ORDER[(i + 1) % Self::ORDER.len()]
    }

    pub fn label(self) -> &'static str {
        match self {
            ReviewFilter::Open => "open",
            ReviewFilter::VerdictApprove => "open · verdict approve",
            ReviewFilter::VerdictReject => "open · verdict reject",
            ReviewFilter::NoVerdict => "open · no verdict yet",
            ReviewFilter::NeedsFix => "open · stale or conflict",
            ReviewFilter::OlderThanADay => "open · waiting over a day",
            ReviewFilter::Decided => "decided",
        }
    }

    fn admits(self, r: &ReviewRow, now: chrono::DateTime<chrono::Utc>) -> bool {
        let open = r.entry.status.is_open();
        let verdict = r.verdict.as_deref();
        match self {
            ReviewFilter::Open => open,
            ReviewFilter::VerdictApprove => open && verdict == Some("approve"),
            ReviewFilter::VerdictReject => open && verdict == Some("reject"),
            ReviewFilter::NoVerdict => open && verdict.is_none(),
            ReviewFilter::NeedsFix => {
                matches!(r.entry.status, Status::Stale | Status::Conflict)
            }
            ReviewFilter::OlderThanADay => {
                open && now - r.entry.created > chrono::Duration::days(1)
            }
            ReviewFilter::Decided => !open,
        }
    }
}

/// The order of the review view's rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReviewSort {
    /// Oldest first (the queue's order; decided: most recently decided first).
    #[default]
    Oldest,
    Newest,
    Session,
    Verdict,
    Status,
}

impl ReviewSort {
    const ORDER: [ReviewSort; 5] = [
        ReviewSort::Oldest,
        ReviewSort::Newest,
        ReviewSort::Session,
        ReviewSort::Verdict,
        ReviewSort::Status,
    ];

    pub fn next(self) -> ReviewSort {
        let i = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        Self::ORDER[(i + 1) % Self::ORDER.len()]
    }

    pub fn label(self) -> &'static str {
        match self {
            ReviewSort::Oldest => "oldest first",
            ReviewSort::Newest => "newest first",
            ReviewSort::Session => "by session",
            ReviewSort::Verdict => "by verdict",
            ReviewSort::Status => "by status",
        }
    }
}

/// The review view's filters, sort and marked branches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewView {
    pub filter: ReviewFilter,
    pub session: Option<String>,
    pub sort: ReviewSort,
    /// Branches marked for a bulk approve/reject (open entries only).
    pub marked: BTreeSet<String>,
}

/// The rows the review view lists, in order.
pub fn listed(app: &App) -> Vec<&ReviewRow> {
    let Ok(rows) = &app.data.queue else {
        return vec![];
    };
    let v = &app.review;
    let mut out: Vec<&ReviewRow> = rows
        .iter()
        .filter(|r| v.filter.admits(r, app.now))
        .filter(|r| v.session.as_deref().is_none_or(|s| s == r.entry.session))
        .collect();
    let verdict_rank = |r: &ReviewRow| match r.verdict.as_deref() {
        Some("approve") => 0,
        Some("unclear") => 1,
        None => 2,
        Some(_) => 3,
    };
    match v.sort {
        ReviewSort::Oldest if v.filter == ReviewFilter::Decided => {
            out.sort_by_key(|r| std::cmp::Reverse(r.entry.decided.unwrap_or(r.entry.created)))
        }
        ReviewSort::Oldest => out.sort_by_key(|r| r.entry.created),
        ReviewSort::Newest => out.sort_by_key(|r| std::cmp::Reverse(r.entry.created)),
        ReviewSort::Session => out.sort_by(|a, b| {
            (a.entry.session.as_str(), a.entry.created)
                .cmp(&(b.entry.session.as_str(), b.entry.created))
        }),
        ReviewSort::Verdict => out.sort_by_key(|r| (verdict_rank(r), r.entry.created)),
        ReviewSort::Status => out.sort_by(|a, b| {
            (a.entry.status.as_str(), a.entry.created)
                .cmp(&(b.entry.status.as_str(), b.entry.created))
        }),
    }
    group_twins(out)
}

/// Twins (open entries sharing a `group`) listed together, at the place of the group's first.
fn group_twins(rows: Vec<&ReviewRow>) -> Vec<&ReviewRow> {
    let mut out: Vec<&ReviewRow> = Vec::with_capacity(rows.len());
    let mut done = vec![false; rows.len()];
    for i in 0..rows.len() {
        if done[i] {
            continue;
        }
        done[i] = true;
        out.push(rows[i]);
        let Some(g) = &rows[i].entry.group else {
            continue;
        };
        for j in i + 1..rows.len() {
            if !done[j] && rows[j].entry.group.as_ref() == Some(g) {
                done[j] = true;
                out.push(rows[j]);
            }
        }
    }
    out
}

/// The marked branches still open, in the order the view lists them (the train's order).
pub fn marked_in_order(app: &App) -> Vec<String> {
    let Ok(rows) = &app.data.queue else {
        return vec![];
    };
    let open = |b: &str| {
        rows.iter()
            .any(|r| r.entry.branch == b && r.entry.status.is_open())
    };
    let mut v: Vec<String> = listed(app)
        .iter()
        .map(|r| r.entry.branch.clone())
        .filter(|b| app.review.marked.contains(b))
        .collect();
    // Marked rows a filter hides now still count: after the listed ones, by name.
    for b in &app.review.marked {
        if !v.contains(b) && open(b) {
            v.push(b.clone());
        }
    }
    v.retain(|b| open(b));
    v
}
