//! The standup meeting (`team_standup`): every live session (its worker holds its life lock; all
//! configured sessions when none does) speaks in three rounds — a report built on its real record
//! since the last meeting (role `standup-report`), a response to the others' reports
//! (`standup-respond`), a commitment of one task and one proposal (`standup-commit`) — then the CTO
//! (role `standup`, no session) writes the priorities and blockers. The transcript is rewritten in
//! `logs/meetings/<YYYYMMDD-HHMMSS>-standup.md` after every answer, so whatever was said survives
//! a failure; each `TASK:` line becomes a proposed task with source `meeting:<file name>`.

mod record;
#[cfg(test)]
mod tests;
pub mod transcript;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{Ctx, JobError};
use crate::git::Target;
use crate::home::Home;
use crate::store::atomic::write_atomic;
use crate::store::control::SessionControl;
use crate::store::log::{self, Filter};
use crate::store::queue::Queue;
use crate::store::tasks::{TaskState, Tasks, Tier};
use transcript::{Meeting, bounded, parse_commitment, render, round_text, when};

/// Each speaker's words are cut to this size in the later rounds' prompts (never in the
/// transcript).
const MAX_WORDS_IN_PROMPT: usize = 6000;
/// A proposal is cut to this size in a task's body.
const MAX_PROPOSAL_BYTES: usize = 4000;
/// How far back the first meeting looks.
const FIRST_WINDOW_HOURS: i64 = 24;

/// What became of the round-3 `TASK:` lines.
#[derive(Debug, Default)]
struct Tally {
    added: Vec<u64>,
    refused: Vec<String>,
    missing: Vec<String>,
}

pub fn run(ctx: &mut Ctx) -> Result<Value, JobError> {
    let (since, since_what) = window(ctx.home, ctx.started);
    let mut m = Meeting::new(ctx.started, since, since_what);
    let (participants, note) = participants(ctx);
    m.participants = participants;
    m.note = note;
    let dir = ctx.home.logs_dir().join("meetings");
    let path = transcript_path(&dir, ctx.started);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let held = match save(&path, &mut m, ctx) {
        Ok(()) => hold(ctx, &mut m, &path, &name),
        Err(e) => Err(e),
    };
    match held {
        Ok(tally) => {
            m.finished = true;
            save(&path, &mut m, ctx)?;
            let mut data = json!({
                "participants": m.participants,
                "rounds": 3,
                "file": path.display().to_string(),
                "summary": m.summary.clone().unwrap_or_default(),
                "tasks_added": tally.added,
                "tasks_refused": tally.refused,
                "since": since,
            });
            if !tally.missing.is_empty() {
                data["no_task"] = json!(tally.missing);
            }
            if let Some(note) = &m.note {
                data["note"] = json!(note);
            }
            Ok(data)
        }
        Err(e) => {
            m.error = Some(e.to_string());
            let kept = match save(&path, &mut m, ctx) {
                Ok(()) => format!("what was said is in {}", path.display()),
                Err(w) => format!("and the transcript could not be written either: {w}"),
            };
            Err(match e {
                JobError::Failed(msg) => {
                    JobError::Failed(format!("the standup stopped: {msg}; {kept}"))
                }
                other => other,
            })
        }
    }
}

/// The three rounds, the tasks and the summary; the transcript is saved after every answer.
fn hold(ctx: &mut Ctx, m: &mut Meeting, path: &Path, name: &str) -> Result<Tally, JobError> {
    let home = ctx.home;
    let config = ctx.config;
    let since = when(m.since);
    let who = who_text(m);
    let speakers = m.participants.clone();

    let cycles = record::cycles_since(&home.log_path(), m.since)
        .map_err(|e| JobError::Failed(format!("cannot read {}: {e}", home.log_path().display())))?;
    let queue = Queue::new(&home.queue_path())
        .load()
        .map_err(|e| e.to_string());
    let target =
        Target::open(&config.repo_path(home.root()), &config.main).map_err(|e| e.to_string());
    for s in &speakers {
        let rec = record::gather(
            home,
            s,
            m.since,
            &cycles,
            &queue,
            &target,
            config.standup.pane_tail_bytes,
        );
        let vars = [
            ("session", s.clone()),
            ("participants", who.clone()),
            ("since", since.clone()),
            ("record", record::record_text(m.since, &rec)),
        ];
        ctx.progress(format!("round 1 of 3 · {s} speaks · {name}"));
        let a = ctx.ask("standup-report", Some(s), &vars, None)?;
        m.rounds[0].push((s.clone(), a.text));
        save(path, m, ctx)?;
    }

    let reports = round_text(&m.rounds[0], MAX_WORDS_IN_PROMPT);
    for s in &speakers {
        let vars = [
            ("session", s.clone()),
            ("participants", who.clone()),
            ("reports", reports.clone()),
        ];
        ctx.progress(format!("round 2 of 3 · {s} speaks · {name}"));
        let a = ctx.ask("standup-respond", Some(s), &vars, None)?;
        m.rounds[1].push((s.clone(), a.text));
        save(path, m, ctx)?;
    }

    let responses = round_text(&m.rounds[1], MAX_WORDS_IN_PROMPT);
    let open = open_tasks(home);
    for s in &speakers {
        let vars = [
            ("session", s.clone()),
            ("participants", who.clone()),
            ("reports", reports.clone()),
            ("responses", responses.clone()),
            ("open_tasks", open.clone()),
        ];
        ctx.progress(format!("round 3 of 3 · {s} speaks · {name}"));
        let a = ctx.ask("standup-commit", Some(s), &vars, None)?;
        m.rounds[2].push((s.clone(), a.text));
        save(path, m, ctx)?;
    }

    let tally = propose_tasks(ctx, m, name);
    save(path, m, ctx)?;

    let tasks = if m.tasks.is_empty() {
        "(none)".to_string()
    } else {
        m.tasks.iter().map(|l| format!("- {l}\n")).collect()
    };
    let vars = [
        ("participants", who),
        ("since", since),
        ("reports", reports),
        ("responses", responses),
        ("commitments", round_text(&m.rounds[2], MAX_WORDS_IN_PROMPT)),
        ("tasks", tasks),
    ];
    let a = ctx.ask("standup", None, &vars, None)?;
    m.summary = Some(a.text);
    Ok(tally)
}

/// Each speaker's `TASK:` line into the task queue as a proposed task; refusals and missing lines
/// are recorded, never guessed around.
fn propose_tasks(ctx: &Ctx, m: &mut Meeting, name: &str) -> Tally {
    let tasks = Tasks::new(&ctx.home.tasks_path());
    let source = format!("meeting:{name}");
    let mut tally = Tally::default();
    for (s, words) in m.rounds[2].clone() {
        let c = parse_commitment(&words);
        let Some(title) = c.task else {
            m.tasks
                .push(format!("{s}: gave no `TASK:` line; nothing was added"));
            tally.missing.push(s);
            continue;
        };
        let proposal = c
            .proposal
            .map(|p| bounded(&p, MAX_PROPOSAL_BYTES))
            .unwrap_or_else(|| "(none given)".into());
        let body = format!(
            "Committed to by {s} at the standup of {} (logs/meetings/{name}).\n\n\
             {s}'s proposal for the team: {proposal}",
            when(m.started)
        );
        let max = ctx.config.tasks.max_pending;
        match tasks.add(&title, Some(&body), Tier::Proposed, &source, max) {
            Ok(t) => {
                m.tasks.push(format!(
                    "{s}: proposed task #{} \"{}\" added; it runs once approved (`brl task approve {}`)",
                    t.id, t.title, t.id
                ));
                tally.added.push(t.id);
            }
            Err(e) => {
                let why = format!("{s}: \"{title}\" not added: {e}");
                m.tasks.push(why.clone());
                tally.refused.push(why);
            }
        }
    }
    tally
}

/// The pending and running tasks' titles, for round 3 (so speakers do not repeat them).
fn open_tasks(home: &Home) -> String {
    match Tasks::new(&home.tasks_path()).load() {
        Ok(list) => {
            let lines: Vec<String> = list
                .iter()
                .filter(|t| matches!(t.state, TaskState::Pending | TaskState::Running))
                .map(|t| format!("- #{} {} ({})", t.id, t.title, t.state.as_str()))
                .collect();
            if lines.is_empty() {
                "(the task queue is empty)".into()
            } else {
                lines.join("\n")
            }
        }
        Err(e) => format!("(the task queue cannot be read: {e})"),
    }
}

/// Who takes part: the sessions whose worker is alive, else all configured sessions (and a note
/// saying so).
fn participants(ctx: &Ctx) -> (Vec<String>, Option<String>) {
    let all = ctx.config.session_names();
    let live: Vec<String> = all
        .iter()
        .filter(|s| {
            SessionControl::new(ctx.home, s)
                .worker_alive()
                .unwrap_or(false)
        })
        .cloned()
        .collect();
    if live.is_empty() {
        let note = "no session's worker was alive, so all configured sessions took part";
        (all, Some(note.to_string()))
    } else {
        (live, None)
    }
}

/// "s1, s2 and s3", with the note when there is one.
fn who_text(m: &Meeting) -> String {
    let names = match m.participants.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => "nobody".into(),
    };
    match &m.note {
        Some(note) => format!("{names} ({note})"),
        None => names,
    }
}

/// The period the meeting covers: since the last standup that finished, else the last 24 hours.
/// (A standup that failed produced no summary, so its period is covered again.)
fn window(home: &Home, now: DateTime<Utc>) -> (DateTime<Utc>, &'static str) {
    let filter = Filter {
        kind: Some(super::Job::Standup.entry_kind().into()),
        session: None,
    };
    let last_ok = log::tail(&home.log_path(), 50, &filter)
        .ok()
        .and_then(|t| {
            t.entries
                .into_iter()
                .rev()
                .find(|e| e.data.get("ok").and_then(Value::as_bool) != Some(false))
        })
        .map(|e| e.ts);
    match last_ok {
        Some(ts) => (ts, "the last standup"),
        None => (
            now - Duration::hours(FIRST_WINDOW_HOURS),
            "the last 24 hours: no earlier standup finished",
        ),
    }
}

/// `<dir>/<YYYYMMDD-HHMMSS>-standup.md` for `started` (UTC); `-standup_2.md`… if taken (names
/// that sort after the first, so the newest stays first by name).
fn transcript_path(dir: &Path, started: DateTime<Utc>) -> PathBuf {
    let stamp = started.format("%Y%m%d-%H%M%S");
    let first = dir.join(format!("{stamp}-standup.md"));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("{stamp}-standup_{n}.md")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Replace the transcript with the meeting as it stands.
fn save(path: &Path, m: &mut Meeting, ctx: &Ctx) -> Result<(), JobError> {
    m.calls = ctx.calls;
    m.cost_usd = ctx.cost_usd;
    write_atomic(path, render(m).as_bytes()).map_err(|e| {
        JobError::Failed(format!(
            "cannot write the meeting's transcript {}: {e}",
            path.display()
        ))
    })
}
