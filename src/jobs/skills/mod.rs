//! Skill notes: the doctor's second half. From the cycles kept since the doctor's last run (else
//! in the last 24 hours) — branch, reason, figures, commit subject — one agent call (role
//! `skill`, `prompts/skill.md`) asks for short notes in a fixed format ([`note`]); each is saved
//! as `<home>/skills/<slug>.md` with the cycles it came from ([`file`]), updating the file of a
//! skill it duplicates. Every cycle's prompt then shows the skills most relevant to its task
//! (`prompt::skills`).

pub mod file;
pub mod note;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::{Ctx, Job};
use crate::store::log::{self, Entry, Filter};
use crate::store::queue::Queue;
use file::Saved;

/// How many of the latest `ralph_cycle` entries are searched for kept cycles.
const LOOK_BACK: usize = 500;
/// How many kept cycles (the most recent) the agent is shown at most.
const MAX_KEPT: usize = 30;
/// How many existing skill files the agent is shown by name at most.
const MAX_LISTED: usize = 100;

/// The skill step of the doctor: its fields of the `doctor_analysis` entry — `skills_written`
/// and `skills_updated` (paths), and when there is something to say `skills_note`,
/// `skills_unparsed` (what could not be read of the agent's answer) and `skills_errors`.
/// `stopped` is why no more agent calls may be made (the job's time is up), if so.
pub fn run(ctx: &mut Ctx, stopped: &mut Option<String>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("skills_written".into(), json!([]));
    out.insert("skills_updated".into(), json!([]));
    let since = super::last_run(ctx.home, Job::Doctor).unwrap_or(ctx.started - Duration::hours(24));
    let (kept, cut) = match kept_since(ctx, since) {
        Ok(k) => k,
        Err(e) => {
            out.insert("skills_errors".into(), json!([e]));
            return out;
        }
    };
    if kept.is_empty() {
        out.insert(
            "skills_note".into(),
            json!(format!(
                "no kept cycles since {}: no skill notes asked for",
                stamp(since)
            )),
        );
        return out;
    }
    if let Some(why) = stopped.as_ref() {
        out.insert(
            "skills_note".into(),
            json!(format!("no skill notes asked for: {why}")),
        );
        return out;
    }
    let subjects = subjects(ctx);
    let mut lines: Vec<String> = kept.iter().map(|e| describe(e, &subjects)).collect();
    if cut > 0 {
        lines.insert(0, format!("({cut} older kept cycles left out)"));
    }
    let all = file::load_all(&ctx.home.skills_dir());
    let mut existing: Vec<String> = all
        .iter()
        .take(MAX_LISTED)
        .map(|f| {
            let name = f.path.file_name().map(|n| n.to_string_lossy().into_owned());
            format!(
                "- {}: {}",
                name.unwrap_or_default(),
                if f.title.is_empty() {
                    "(no title)"
                } else {
                    &f.title
                }
            )
        })
        .collect();
    if all.len() > MAX_LISTED {
        existing.push(format!("({} more not listed)", all.len() - MAX_LISTED));
    }
    let vars = [
        ("since", stamp(since)),
        ("cycles", lines.join("\n")),
        (
            "skills",
            if existing.is_empty() {
                "(none yet)".into()
            } else {
                existing.join("\n")
            },
        ),
    ];
    let answer = match ctx.ask("skill", None, &vars, None) {
        Ok(a) => a,
        Err(e) => {
            if matches!(e, super::JobError::TimedOut { .. }) {
                *stopped = Some(e.to_string());
            }
            out.insert("skills_errors".into(), json!([e.to_string()]));
            return out;
        }
    };
    let parsed = note::parse(&answer.text);
    if !parsed.problems.is_empty() {
        out.insert("skills_unparsed".into(), json!(parsed.problems));
        out.insert(
            "skills_output".into(),
            json!(answer.output.display().to_string()),
        );
    }
    if parsed.notes.is_empty() && parsed.problems.is_empty() {
        out.insert(
            "skills_note".into(),
            json!("the agent proposed no skill notes"),
        );
    }
    let branches: Vec<String> = kept
        .iter()
        .map(|e| field(e, "branch").to_string())
        .collect();
    let (mut written, mut updated, mut errors) = (vec![], vec![], vec![]);
    for n in &parsed.notes {
        match file::save(&ctx.home.skills_dir(), n, &branches, ctx.started) {
            Ok(Saved::Written(p)) => written.push(p.display().to_string()),
            Ok(Saved::Updated(p)) => {
                let p = p.display().to_string();
                if !written.contains(&p) && !updated.contains(&p) {
                    updated.push(p);
                }
            }
            Err(e) => errors.push(format!(
                "cannot save the skill \"{}\" in {}: {e}",
                n.title,
                ctx.home.skills_dir().display()
            )),
        }
    }
    out.insert("skills_written".into(), json!(written));
    out.insert("skills_updated".into(), json!(updated));
    if !errors.is_empty() {
        out.insert("skills_errors".into(), json!(errors));
    }
    out
}

/// The kept cycles after `since`, oldest first, at most [`MAX_KEPT`]; and how many were cut.
fn kept_since(ctx: &Ctx, since: DateTime<Utc>) -> Result<(Vec<Entry>, usize), String> {
    let filter = Filter {
        kind: Some("ralph_cycle".into()),
        session: None,
    };
    let tail = log::tail(&ctx.home.log_path(), LOOK_BACK, &filter)
        .map_err(|e| format!("cannot read {}: {e}", ctx.home.log_path().display()))?;
    let kept: Vec<Entry> = tail
        .entries
        .into_iter()
        .filter(|e| e.ts > since && field(e, "outcome") == "kept")
        .collect();
    let cut = kept.len().saturating_sub(MAX_KEPT);
    Ok((kept.into_iter().skip(cut).collect(), cut))
}

/// Commit subjects by branch, from the review queue (empty when it cannot be read).
fn subjects(ctx: &Ctx) -> HashMap<String, String> {
    Queue::new(&ctx.home.queue_path())
        .load()
        .unwrap_or_default()
        .into_iter()
        .map(|q| (q.branch, q.subject))
        .collect()
}

fn field<'a>(e: &'a Entry, k: &str) -> &'a str {
    e.data.get(k).and_then(Value::as_str).unwrap_or("")
}

/// `- brl/s1/x (s1): errors 2 → 1 [errors 2 → 1, failures 1 → 1] — "subject" (task: …)`.
pub fn describe(e: &Entry, subjects: &HashMap<String, String>) -> String {
    let branch = field(e, "branch");
    let mut line = format!(
        "- {branch} ({}): {}",
        e.session.as_deref().unwrap_or("?"),
        field(e, "reason")
    );
    let figures: Vec<String> = ["errors", "failures", "passed"]
        .iter()
        .filter_map(|k| {
            let n = |side: &str| e.data.get(side)?.get(*k)?.as_u64();
            match (n("before"), n("after")) {
                (None, None) => None,
                (b, a) => Some(format!(
                    "{k} {} → {}",
                    b.map_or("?".into(), |v| v.to_string()),
                    a.map_or("?".into(), |v| v.to_string())
                )),
            }
        })
        .collect();
    if !figures.is_empty() {
        line.push_str(&format!(" [{}]", figures.join(", ")));
    }
    let subject = subjects
        .get(branch)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(field(e, "subject"));
    if !subject.is_empty() {
        line.push_str(&format!(" — \"{subject}\""));
    }
    if !field(e, "task").is_empty() {
        line.push_str(&format!(" (task: {})", field(e, "task")));
    }
    line
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}
