//! The review view's own keys: filter, session filter, sort, mark, and the bulk approve/reject
//! of the marked branches (confirmed like a single one; approved through the merge train).

use crate::config::keys::Action;

use super::app::{self, App, Form, FormKind, Overlay};
use super::msg::Effect;
use super::update::{blind_reason, info};

pub(super) fn filter(app: &mut App, a: Action) {
    let v = &mut app.review;
    match a {
        Action::FilterType => v.filter = v.filter.next(),
        Action::FilterSession => {
            let mut names: Vec<String> = match &app.data.queue {
                Ok(rows) => rows.iter().map(|r| r.entry.session.clone()).collect(),
                Err(_) => vec![],
            };
            names.sort();
            names.dedup();
            v.session = match v.session.take() {
                None => names.first().cloned(),
                Some(c) => names
                    .iter()
                    .position(|n| *n == c)
                    .and_then(|p| names.get(p + 1).cloned()),
            };
        }
        Action::SortReview => v.sort = v.sort.next(),
        _ => {
            v.filter = Default::default();
            v.session = None;
            v.sort = Default::default();
        }
    }
    app.review_sel = 0;
}

/// Mark or unmark the selected branch, then move to the next row (space, space, space…).
pub(super) fn toggle_mark(app: &mut App) {
    if app.reader.is_some() {
        return;
    }
    let listed = app.listed_reviews();
    let n = listed.len();
    let Some(r) = listed.get(app.review_sel) else {
        app.message = Some(info("nothing to mark: the list is empty"));
        return;
    };
    if !r.entry.status.is_open() {
        let text = format!(
            "{} is {}: only open branches can be marked",
            r.entry.branch,
            r.entry.status.as_str()
        );
        app.message = Some(info(&text));
        return;
    }
    let b = r.entry.branch.clone();
    if !app.review.marked.remove(&b) {
        app.review.marked.insert(b);
    }
    app.review_sel = (app.review_sel + 1).min(n.saturating_sub(1));
}

/// Approve or reject every marked branch (asks first, like one).
pub(super) fn bulk(app: &mut App, approve: bool) -> Vec<Effect> {
    let branches = super::review_list::marked_in_order(app);
    if branches.is_empty() {
        app.review.marked.clear();
        app.message = Some(info(
            "the marked branches are decided already; nothing to do",
        ));
        return vec![];
    }
    app.overlay = Some(if approve {
        Overlay::Confirm(app::Confirm::ApproveMany {
            branches,
            force_why: None,
        })
    } else {
        Overlay::Form(Form {
            kind: FormKind::RejectManyReason { branches },
            fields: vec![("reason for all (optional)", String::new())],
            focus: 0,
            tier: None,
            error: None,
        })
    });
    vec![]
}

/// A bulk confirmation answered yes: a stale/conflict branch among those to approve asks the
/// forcing confirmation first (as one alone does); then the train or the rejections start.
pub(super) fn confirmed_many(app: &mut App, c: app::Confirm) -> Vec<Effect> {
    if let app::Confirm::ApproveMany {
        branches,
        force_why: None,
    } = &c
    {
        let why: Vec<String> = branches
            .iter()
            .filter_map(|b| blind_reason(app, b).map(|w| format!("{b}: {w}")))
            .collect();
        if !why.is_empty() {
            app.overlay = Some(Overlay::Confirm(app::Confirm::ApproveMany {
                branches: branches.clone(),
                force_why: Some(why.join("\n")),
            }));
            return vec![];
        }
    }
    // The branches are about to be merged or deleted: an open diff closes.
    app.reader = None;
    app.review.marked.clear();
    match c {
        app::Confirm::ApproveMany {
            branches,
            force_why,
        } => {
            let what = format!("approving {} branches", branches.len());
            app.busy.push(what.clone());
            app.message = Some(info(&format!("{what} through the merge train…")));
            vec![Effect::ApproveMany {
                branches,
                force: force_why.is_some(),
            }]
        }
        app::Confirm::RejectMany { branches, reason } => {
            let what = format!("rejecting {} branches", branches.len());
            app.busy.push(what.clone());
            app.message = Some(info(&format!("{what}…")));
            vec![Effect::RejectMany { branches, reason }]
        }
        _ => vec![],
    }
}
