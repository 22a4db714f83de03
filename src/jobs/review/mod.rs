//! The automated review, `cto_review`. For each branch waiting in the review queue:
//!
//! 1. Re-check against the CURRENT main (it may have moved since the branch's cycle): merge main
//!    and the branch (in memory), check the result out in a worktree brl owns, run the checks
//!    and compare with main's own counts. A branch that no longer merges becomes `conflict`; one
//!    that now makes a check worse becomes `stale` with the figures. Neither goes to the reviewer.
//! 2. Ask the agent (role `review`; or, with `[review] style = "adversarial"`, an enthusiast, an
//!    adversary and a referee) for a verdict on the diff (bounded, marked when cut), the figures
//!    and the criteria. A line `VERDICT: APPROVE` or `VERDICT: REJECT` decides; anything else is
//!    `unclear`, never guessed.
//! 3. `[review] mode = "advisory"` stores verdict and reasons on the queue entry; `"auto"` also
//!    approves or rejects exactly as the keys do (`decision::approve`/`reject`).

use chrono::Utc;
use serde_json::{Value, json};

use crate::config::{ReviewMode, ReviewStyle};
use crate::decision::{self, Approval};
use crate::git::{Target, Trial};
use crate::outcome::{self, AgentExit, Facts, Outcome};
use crate::store::queue::{Queue, QueueEntry, Review, ReviewText, Status};

use super::{Ctx, JobError};

mod recheck;
pub mod train;
use recheck::Recheck;

/// The scratch branch and worktree the re-checks use (never a session's).
const SCRATCH: &str = "brl-review-recheck";
/// Who the log's `review_decision` entries name in auto mode.
const BY: &str = "cto_review";

pub fn run(ctx: &mut Ctx) -> Result<Value, JobError> {
    let cfg = ctx.config.review.clone();
    if cfg.mode == ReviewMode::Off {
        return Ok(json!({
            "mode": "off",
            "note": "[review] mode = \"off\" in brl.toml: nothing was re-checked or reviewed",
        }));
    }
    let target = Target::open(&ctx.config.repo_path(ctx.home.root()), &ctx.config.main)
        .map_err(|e| JobError::Failed(e.to_string()))?;
    // Entries that would merge to nothing are closed before anything is re-checked.
    if let Err(e) = decision::sweep(ctx.home, ctx.config) {
        tracing::warn!("review queue sweep: {e:#}");
    }
    let queue = Queue::new(&ctx.home.queue_path());
    let pending: Vec<QueueEntry> = queue
        .load()
        .map_err(|e| JobError::Failed(e.to_string()))?
        .into_iter()
        .filter(|e| e.status == Status::Pending)
        .collect();
    let main = target
        .main_commit()
        .map_err(|e| JobError::Failed(e.to_string()))?;
    let mut data = json!({
        "mode": mode_name(cfg.mode),
        "style": match cfg.style { ReviewStyle::Single => "single", ReviewStyle::Adversarial => "adversarial" },
        "main": main.to_string(),
        "pending": pending.len(),
        "stale": [], "conflict": [], "verdicts": {}, "decisions": [], "skipped": [],
    });
    let mut recheck = Recheck::new(ctx.home);
    let result = (|| -> Result<(), JobError> {
        let n = pending.len();
        for (i, entry) in pending.iter().enumerate() {
            ctx.progress(format!("branch {} of {n}: {}", i + 1, entry.branch));
            review_one(ctx, &target, &queue, &mut recheck, entry, &mut data)?;
        }
        Ok(())
    })();
    recheck.finish(&target);
    // Main may have moved meanwhile: entries that now merge to nothing close.
    match decision::sweep(ctx.home, ctx.config) {
        Ok(gone) => {
            data["superseded"] = json!(
                gone.iter()
                    .map(|s| json!({"branch": s.branch, "why": s.why}))
                    .collect::<Vec<_>>()
            );
        }
        Err(e) => data["sweep_error"] = json!(format!("{e:#}")),
    }
    result.map(|_| data)
}

fn mode_name(m: ReviewMode) -> &'static str {
    match m {
        ReviewMode::Advisory => "advisory",
        ReviewMode::Auto => "auto",
        ReviewMode::Off => "off",
    }
}

fn push(data: &mut Value, key: &str, v: Value) {
    if let Some(a) = data[key].as_array_mut() {
        a.push(v);
    }
}

fn review_one(
    ctx: &mut Ctx,
    target: &Target,
    queue: &Queue,
    recheck: &mut Recheck,
    entry: &QueueEntry,
    data: &mut Value,
) -> Result<(), JobError> {
    let branch = &entry.branch;
    if !target.branch_exists(branch) {
        push(
            data,
            "skipped",
            json!({"branch": branch, "why": "the branch no longer exists"}),
        );
        return Ok(());
    }
    let fail = |e: crate::git::GitError| JobError::Failed(e.to_string());
    let (commit, main) = match target.trial_merge(branch).map_err(fail)? {
        Trial::AlreadyMerged => {
            push(
                data,
                "skipped",
                json!({"branch": branch, "why": "already part of main"}),
            );
            return Ok(());
        }
        Trial::Conflict { files } => {
            let why = format!(
                "no longer merges into {}: conflicts in {}",
                ctx.config.main,
                files.join(", ")
            );
            set_status(queue, branch, Status::Conflict, &why, files.clone())?;
            push(data, "conflict", json!({"branch": branch, "files": files}));
            return Ok(());
        }
        Trial::Clean { commit, main } => (commit, main),
    };
    // Main merged with the branch, against main alone.
    let (before, after) = recheck.measure(recheck::Env::of(ctx), target, main, commit)?;
    let (verdict_of_checks, why) = outcome::evaluate(&Facts {
        agent: AgentExit::Exited(0),
        changed: true,
        before: &before,
        after: Some(&after),
        timeout_secs: 0,
        flaky: &crate::checks::flaky::known(ctx.home),
    });
    let figures = format!(
        "{} on {} → {} merged",
        counts_text(&before),
        ctx.config.main,
        counts_text(&after)
    );
    if verdict_of_checks == Outcome::Discarded {
        let text = format!(
            "regresses against {} at {}: {why}",
            ctx.config.main,
            short(&main.to_string())
        );
        set_status(queue, branch, Status::Stale, &text, vec![])?;
        push(data, "stale", json!({"branch": branch, "why": why}));
        return Ok(());
    }
    // The reviewer.
    let (diff, truncated) = bounded_diff(target, branch, ctx.config.review.max_diff_bytes)?;
    let vars = vec![
        ("branch", branch.clone()),
        ("session", entry.session.clone()),
        ("main", ctx.config.main.clone()),
        ("subject", entry.subject.clone()),
        ("cycle_figures", entry.reason.clone()),
        ("recheck_figures", format!("{figures} ({why})")),
        ("diff", diff),
    ];
    let cwd = recheck.path.clone();
    let texts = match ctx.config.review.style {
        ReviewStyle::Single => {
            vec![("review", ctx.ask("review", None, &vars, Some(&cwd))?.text)]
        }
        ReviewStyle::Adversarial => {
            let list = ctx.ask("review-enthusiast", None, &vars, Some(&cwd))?.text;
            let mut v2 = vars.clone();
            v2.push(("enthusiast", list.clone()));
            let rebuttal = ctx.ask("review-adversary", None, &v2, Some(&cwd))?.text;
            let mut v3 = v2.clone();
            v3.push(("adversary", rebuttal.clone()));
            let ruling = ctx.ask("review-referee", None, &v3, Some(&cwd))?.text;
            vec![
                ("review-enthusiast", list),
                ("review-adversary", rebuttal),
                ("review-referee", ruling),
            ]
        }
    };
    let last = texts.last().map(|(_, t)| t.as_str()).unwrap_or("");
    let (verdict, reasons) = parse_verdict(last);
    let review = Review {
        verdict: verdict.to_string(),
        reasons: reasons.clone(),
        texts: texts
            .iter()
            .map(|(role, text)| ReviewText {
                role: role.to_string(),
                text: text.clone(),
            })
            .collect(),
        at: Utc::now(),
        main: main.to_string(),
        figures: Some(figures),
        truncated,
    };
    queue
        .update(|entries| {
            if let Some(e) = entries.iter_mut().find(|e| e.branch == *branch) {
                e.review = Some(review.clone());
            }
            Ok(())
        })
        .map_err(|e| JobError::Failed(e.to_string()))?;
    data["verdicts"][branch.as_str()] = json!(verdict);
    if ctx.config.review.mode == ReviewMode::Auto {
        let home = ctx.home;
        let decided = match verdict {
            "approve" => match decision::approve(home, ctx.config, branch, BY) {
                Ok(a) => {
                    json!({"branch": branch, "decision": "approve", "ok": a.succeeded(), "result": a.describe(branch, &ctx.config.main), "conflict": matches!(a, Approval::Conflict { .. })})
                }
                Err(e) => {
                    json!({"branch": branch, "decision": "approve", "ok": false, "result": format!("{e:#}")})
                }
            },
            "reject" => {
                let reason = format!("automated review: {}", first_line(&reasons));
                match decision::reject(home, ctx.config, branch, Some(&reason), BY) {
                    Ok(()) => json!({"branch": branch, "decision": "reject", "ok": true}),
                    Err(e) => {
                        json!({"branch": branch, "decision": "reject", "ok": false, "result": format!("{e:#}")})
                    }
                }
            }
            _ => {
                json!({"branch": branch, "decision": "none", "why": "the verdict is unclear; a person decides"})
            }
        };
        push(data, "decisions", decided);
    }
    Ok(())
}

fn set_status(
    queue: &Queue,
    branch: &str,
    status: Status,
    why: &str,
    files: Vec<String>,
) -> Result<(), JobError> {
    queue
        .update(|entries| {
            if let Some(e) = entries
                .iter_mut()
                .find(|e| e.branch == branch && e.status == Status::Pending)
            {
                e.status = status;
                e.decision_reason = Some(why.to_string());
                if !files.is_empty() {
                    e.conflict_files = files;
                }
            }
            Ok(())
        })
        .map_err(|e| JobError::Failed(e.to_string()))
}

/// `VERDICT: APPROVE` / `VERDICT: REJECT` (the last such line, any case, markdown emphasis
/// allowed) and the rest of the text as the reasons; `unclear` without one.
pub fn parse_verdict(text: &str) -> (&'static str, String) {
    let mut verdict = "unclear";
    let mut reasons = Vec::new();
    for line in text.lines() {
        let bare = line
            .trim()
            .trim_matches(|c| c == '*' || c == '_' || c == '#' || c == ' ')
            .to_ascii_uppercase();
        if let Some(rest) = bare.strip_prefix("VERDICT:") {
            match rest
                .trim()
                .trim_matches(|c: char| c == '*' || c == '.' || c.is_whitespace())
            {
                "APPROVE" => verdict = "approve",
                "REJECT" => verdict = "reject",
                _ => verdict = "unclear",
            }
            continue;
        }
        reasons.push(line);
    }
    (verdict, reasons.join("\n").trim().to_string())
}

/// The branch's diff, cut at `max` bytes at a line end, with a note when cut.
fn bounded_diff(target: &Target, branch: &str, max: usize) -> Result<(String, bool), JobError> {
    let patch = target
        .diff_patch(branch)
        .map_err(|e| JobError::Failed(e.to_string()))?;
    if patch.len() <= max {
        return Ok((patch, false));
    }
    let mut cut = max;
    while !patch.is_char_boundary(cut) {
        cut -= 1;
    }
    let end = patch[..cut].rfind('\n').map(|i| i + 1).unwrap_or(cut);
    Ok((
        format!(
            "{}\n[diff truncated: {} of {} bytes shown ([review] max_diff_bytes); `brl queue diff {branch}` has it all]\n",
            &patch[..end],
            end,
            patch.len()
        ),
        true,
    ))
}

/// `errors 12 · failures 3 · passed 40` (the counts that exist; a check that could not run says
/// so).
fn counts_text(m: &crate::outcome::Measure) -> String {
    let c = &m.counts;
    let mut parts: Vec<String> = [
        ("errors", c.errors),
        ("failures", c.failures),
        ("passed", c.passed),
    ]
    .iter()
    .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
    .collect();
    for (name, state) in [("type check", &m.typecheck), ("tests", &m.test)] {
        if let crate::outcome::CheckState::Failed(why) = state {
            parts.push(format!("{name} did not run: {why}"));
        }
    }
    if parts.is_empty() {
        "no checks configured".into()
    } else {
        parts.join(" · ")
    }
}

fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no reasons given")
        .trim()
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::parse_verdict;

    #[test]
    fn verdicts_are_read_never_guessed() {
        assert_eq!(parse_verdict("Looks fine.\nVERDICT: APPROVE").0, "approve");
        assert_eq!(
            parse_verdict("**Verdict: reject**\nit breaks x").0,
            "reject"
        );
        let (v, r) = parse_verdict("VERDICT: REJECT\nbecause y\n");
        assert_eq!((v, r.as_str()), ("reject", "because y"));
        // The last verdict line counts.
        assert_eq!(
            parse_verdict("VERDICT: REJECT\nno wait\nVERDICT: APPROVE").0,
            "approve"
        );
        assert_eq!(parse_verdict("I would approve this.").0, "unclear");
        assert_eq!(parse_verdict("VERDICT: maybe").0, "unclear");
        assert_eq!(parse_verdict("").0, "unclear");
    }
}
