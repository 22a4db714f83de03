//! The lines above a branch's diff: what a person decides by, before the code. The commit
//! messages, why the cycle kept it and its figures, the decision so far, and the automated
//! review's verdict with the reviewer's reasons and every text of the review.

use crate::store::queue::QueueEntry;

/// The header for `e`; `commits` are its commits' first lines, newest first (empty when they
/// could not be listed: `commits_note` then says why).
pub fn lines(e: &QueueEntry, commits: &[String], commits_note: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let n = e.commits.max(commits.len());
    out.push(format!(
        "── {} · {} · {n} commit{} · {}",
        e.branch,
        e.session,
        if n == 1 { "" } else { "s" },
        e.status.as_str()
    ));
    for c in commits {
        out.push(format!("   • {c}"));
    }
    if let Some(why) = commits_note {
        out.push(format!("   (commits not listed: {why})"));
    }
    let before = serde_json::to_value(e.before).unwrap_or_default();
    let after = serde_json::to_value(e.after).unwrap_or_default();
    let figures =
        crate::outcome::figures_text(&before, &after, ["errors", "failures", "passed"], ", ");
    out.push(format!(
        "── kept because: {}{}",
        e.reason,
        figures.map(|f| format!(" ({f})")).unwrap_or_default()
    ));
    if let Some(why) = &e.decision_reason {
        out.push(format!("── {}: {why}", e.status.as_str()));
    }
    if let Some(r) = &e.review {
        out.push(format!(
            "── automated review: {} ({}{})",
            r.verdict.to_uppercase(),
            r.at.format("%Y-%m-%d %H:%M UTC"),
            if r.truncated { ", on a cut diff" } else { "" }
        ));
        if let Some(f) = &r.figures {
            out.push(format!("   re-checked: {f}"));
        }
        if !r.reasons.trim().is_empty() {
            out.push("   reasons:".into());
            out.extend(
                r.reasons
                    .lines()
                    .map(|l| format!("     {}", l.replace('\t', "    "))),
            );
        }
        for t in &r.texts {
            out.push(format!("── {}:", t.role));
            out.extend(
                t.text
                    .lines()
                    .map(|l| format!("   {}", l.replace('\t', "    "))),
            );
        }
    }
    out.push(String::new());
    out
}
