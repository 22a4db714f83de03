//! Reading the home's files into the dashboard's [`Part`]s and [`Document`]s. Runs on the
//! loader thread (`loader.rs`), never on the draw path. A file that cannot be read becomes an
//! error shown in its place, never zeros.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use crate::config::Config;
use crate::git::Target;
use crate::home::Home;
use crate::scheduler::MemoryReader;
use crate::status::{control_lock_path, control_room_pid};
use crate::store::atomic::{LockGuard, lock_note};
use crate::store::log::Entry;
use crate::store::queue::Queue;
use crate::store::tasks::Tasks;

pub use super::controls::ControlCache;
use super::data::{Document, Meeting, Memory, ReviewRow, Room, SessionRow, SessionState, Today};

/// The most of a session's pane log the output reader shows.
const OUTPUT_TAIL_BYTES: u64 = 256 * 1024;
/// Diffs longer than this many lines are cut (the reader says so).
const MAX_DIFF_LINES: usize = 20_000;
/// Transcripts larger than this are cut (the reader says so).
const MAX_TRANSCRIPT_BYTES: u64 = 4 << 20;

/// Today's `ralph_cycle` entries (UTC day), read backwards from the end of the log.
pub fn today_cycles(home: &Home, now: DateTime<Utc>) -> Result<Vec<Entry>, String> {
    crate::scheduler::budget::today_cycles(&home.log_path(), now)
        .map_err(|e| format!("cannot read {}: {e}", home.log_path().display()))
}

/// Kept, discarded and no-change cycles and cost, in total and per session. A cycle that
/// changed nothing is not a discard: nothing was thrown away.
pub fn today(cycles: &[Entry]) -> Today {
    let mut t = Today::default();
    for e in cycles {
        let s = t
            .by_session
            .entry(e.session.clone().unwrap_or_default())
            .or_default();
        match e.data["outcome"].as_str() {
            Some("kept") => {
                t.kept += 1;
                s.0 += 1;
            }
            Some("no_change") => {
                t.no_change += 1;
                s.2 += 1;
            }
            _ => {
                t.discarded += 1;
                s.1 += 1;
            }
        }
        t.cost_usd += e.data["cost_usd"].as_f64().unwrap_or(0.0);
    }
    t
}

/// "err 3→1 fail 2→0 pass 10→12" from a `ralph_cycle` entry's before/after counts.
pub fn figures(before: &Value, after: &Value) -> Option<String> {
    if !after.is_object() {
        return None; // not measured after (no change, the agent failed…)
    }
    crate::outcome::figures_text(before, after, ["err", "fail", "pass"], " ")
}

/// A row per configured session, from its control file and life lock.
pub fn sessions(
    home: &Home,
    config: &Config,
    now: DateTime<Utc>,
    cycles: &[Entry],
    health: &BTreeMap<String, String>,
    controls: &mut ControlCache,
) -> Vec<SessionRow> {
    // The newest cycle's figures per session (none when it was not measured after: no change…).
    let mut last_fig: BTreeMap<&str, Option<String>> = BTreeMap::new();
    for e in cycles {
        if let Some(s) = e.session.as_deref() {
            last_fig.insert(s, figures(&e.data["before"], &e.data["after"]));
        }
    }
    let t = today(cycles);
    config
        .session_names()
        .into_iter()
        .map(|name| {
            let (alive, control) = controls.get(home, &name);
            let (kept_today, discarded_today, no_change_today) =
                t.by_session.get(&name).copied().unwrap_or_default();
            let mut row = SessionRow {
                name: name.clone(),
                host: None,
                state: SessionState::Dead,
                phase: None,
                since: None,
                branch: None,
                task: None,
                last: None,
                last_figures: last_fig.get(name.as_str()).cloned().flatten(),
                kept_today,
                discarded_today,
                no_change_today,
                health: health.get(&name).cloned(),
            };
            match control {
                Err(e) => row.state = SessionState::Error(e),
                Ok(c) => fill_row(&mut row, crate::why::shown_state(&c, alive, now), c),
            }
            row
        })
        .chain(super::load_hosts::host_rows(
            home, config, &t, &last_fig, health,
        ))
        .collect()
}

/// A row's state and cycle fields from its control file and its state in `brl status`'s words
/// (unknown/stopped workers show as waiting).
pub(super) fn fill_row(row: &mut SessionRow, shown: &str, c: crate::store::control::Control) {
    row.state = match shown {
        "dead" => SessionState::Dead,
        "stopped" => SessionState::Stopped,
        "stale" => SessionState::Stale,
        "blocked" => SessionState::Blocked(
            c.blocked
                .as_ref()
                .map(|b| b.reason.clone())
                .unwrap_or_default(),
        ),
        "paused" => {
            SessionState::Paused(c.paused.as_ref().map(|p| p.by.clone()).unwrap_or_default())
        }
        "cycle" => SessionState::Cycle,
        "granted" => SessionState::Granted,
        "pausing" => SessionState::Pausing,
        _ => SessionState::Waiting,
    };
    let in_cycle = row.state == SessionState::Cycle;
    row.phase = c.phase.clone().filter(|_| in_cycle);
    row.since = if in_cycle {
        c.phase_since.or(c.since)
    } else {
        c.since
    };
    row.branch = c.branch.clone().filter(|_| in_cycle);
    row.task = c
        .grant
        .as_ref()
        .and_then(|g| g.task.as_ref())
        .map(|t| format!("#{} {}", t.id, t.title));
    row.last = c.last;
}

/// Each session's class from a `doctor_analysis` entry's data (`sessions.<s>.class`).
pub fn health(doctor: &Value) -> BTreeMap<String, String> {
    doctor["sessions"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(s, v)| Some((s.clone(), v["class"].as_str()?.to_string())))
        .collect()
}

/// Diff sizes by (branch, head): branches do not change once queued.
pub type DiffCache = BTreeMap<(String, String), (usize, usize, usize)>;

/// The review queue with each open entry's diff size.
pub fn queue(
    home: &Home,
    config: &Config,
    cache: &mut DiffCache,
) -> Result<Vec<ReviewRow>, String> {
    let entries = Queue::new(&home.queue_path())
        .load()
        .map_err(|e| e.to_string())?;
    let target = Target::open(&config.repo_path(home.root()), &config.main);
    let rows = entries
        .into_iter()
        .map(|entry| {
            let open = entry.status.is_open();
            let key = (entry.branch.clone(), entry.head.clone());
            let diff = match (&target, cache.get(&key)) {
                (_, Some(d)) => Ok(*d),
                _ if !open => Ok((0, 0, 0)),
                (Ok(t), None) => match t.diff_stat(&entry.branch) {
                    Ok(d) => {
                        cache.insert(key, d);
                        Ok(d)
                    }
                    Err(e) => Err(e.to_string()),
                },
                (Err(e), None) => Err(e.to_string()),
            };
            ReviewRow {
                verdict: entry.review.as_ref().map(|r| r.verdict.clone()),
                entry,
                diff,
            }
        })
        .collect();
    Ok(rows)
}

pub fn tasks(home: &Home) -> Result<Vec<crate::store::tasks::Task>, String> {
    Tasks::new(&home.tasks_path())
        .load()
        .map_err(|e| e.to_string())
}

/// Transcripts in `logs/meetings/`, newest first.
pub fn meetings(home: &Home) -> Result<Vec<Meeting>, String> {
    let dir = home.logs_dir().join("meetings");
    let read = match std::fs::read_dir(&dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(format!("cannot list {}: {e}", dir.display())),
    };
    let mut out: Vec<Meeting> = read
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let at = name
                .get(..15)
                .and_then(|s| NaiveDateTime::parse_from_str(s, "%Y%m%d-%H%M%S").ok())
                .map(|t| t.and_utc());
            Meeting {
                bytes: e.metadata().map(|m| m.len()).unwrap_or(0),
                path: e.path(),
                name,
                at,
            }
        })
        .collect();
    out.sort_by(|a, b| b.name.cmp(&a.name));
    Ok(out)
}

/// Who paused the whole fleet, if it is paused (an unreadable file reads as paused: the
/// scheduler keeps what it last read, and the status names the error).
pub fn fleet_paused(home: &Home) -> Option<String> {
    match crate::store::control::FleetControl::new(home).load() {
        Ok(f) => f.paused.map(|p| p.by),
        Err(e) => Some(format!("? ({e})")),
    }
}

/// Who schedules the home: the holder of its control lock and what supervises it.
pub fn room(home: &Home, config: &Config) -> Room {
    let pid = control_room_pid(home);
    Room {
        pid,
        supervisor: pid.and_then(|_| lock_note(&control_lock_path(home))),
        agent_limits: crate::scheduler::limits::lines(home, Utc::now()),
        ungated_agent: crate::gate::install::configured_agent(home)
            .ok()
            .filter(|k| !k.hooks().has_gate())
            .map(|k| k.name().to_string()),
        max_pending: config.review.max_pending,
    }
}

pub fn memory(reader: &mut MemoryReader, config: &Config) -> Option<Memory> {
    reader.read().map(|m| Memory {
        used_percent: m.used_percent(),
        gate_percent: config.scheduler.max_ram_percent,
    })
}

/// Type-check slots held now, of the maximum.
pub fn typecheck(home: &Home, config: &Config) -> (usize, usize) {
    let max = config.checks.max_parallel_typechecks.get();
    let used = (0..max)
        .filter(|i| {
            LockGuard::is_held(&crate::checks::typecheck_slot_path(home, *i)).unwrap_or(false)
        })
        .count();
    (used, max as usize)
}

/// The jobs' progress files, each with whether its run is still alive (its job's lock is
/// held; a fix or a merge train: its process exists).
pub fn jobs(home: &Home) -> Vec<super::data::JobRow> {
    crate::jobs::progress::read_all(home)
        .into_iter()
        .map(|p| {
            let job = [
                crate::jobs::Job::Review,
                crate::jobs::Job::Standup,
                crate::jobs::Job::Doctor,
            ]
            .into_iter()
            .find(|j| j.name() == p.job);
            let alive = p.done.is_none()
                && match job {
                    Some(j) => j.running(home),
                    // A fix (in a worker) or a merge train (in the dashboard, the CLI, the
                    // server) has no job lock: its process still there is the run going on.
                    None => pid_alive(p.pid),
                };
            super::data::JobRow { progress: p, alive }
        })
        .collect()
}

fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only asks whether the process exists; nothing is sent.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// The branch's diff against where it left main, cut at [`MAX_DIFF_LINES`].
pub fn diff(home: &Home, config: &Config, branch: &str) -> Result<Document, String> {
    let target =
        Target::open(&config.repo_path(home.root()), &config.main).map_err(|e| e.to_string())?;
    let patch = target.diff_patch(branch).map_err(|e| e.to_string())?;
    let mut lines: Vec<String> = Vec::new();
    // What a person decides by first: commits, the cycle's reason and figures, the review.
    if let Ok(Some(e)) = Queue::new(&home.queue_path()).find(branch) {
        let ids = git2::Oid::from_str(&e.base).and_then(|b| Ok((b, git2::Oid::from_str(&e.head)?)));
        let commits = ids
            .map_err(|err| err.to_string())
            .and_then(|(b, h)| target.commits_between(b, h).map_err(|err| err.to_string()));
        let (subjects, note) = match commits {
            Ok(c) => (c.into_iter().map(|(_, s)| s).collect(), None),
            Err(why) => (vec![], Some(why)),
        };
        lines.extend(super::diff_header::lines(&e, &subjects, note.as_deref()));
    }
    let mut files = Vec::new();
    let mut note = None;
    for l in patch.lines() {
        if lines.len() == MAX_DIFF_LINES {
            note = Some(format!(
                "diff cut at {MAX_DIFF_LINES} lines (`brl queue diff {branch}` shows it all)"
            ));
            break;
        }
        if let Some(rest) = l.strip_prefix("diff --git ") {
            let name = rest.rsplit(" b/").next().unwrap_or(rest).to_string();
            files.push((name, lines.len()));
        }
        lines.push(l.replace('\t', "    "));
    }
    if lines.is_empty() {
        lines.push("(no changes)".into());
    }
    Ok(Document {
        title: branch.to_string(),
        lines,
        files,
        note,
    })
}

/// A meeting transcript.
pub fn transcript(path: &Path) -> Result<Document, String> {
    let (text, cut) = read_head(path, MAX_TRANSCRIPT_BYTES)?;
    Ok(Document {
        title: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        lines: text.lines().map(|l| l.replace('\t', "    ")).collect(),
        files: vec![],
        note: cut.then(|| {
            format!(
                "only the first {} MiB are shown",
                MAX_TRANSCRIPT_BYTES >> 20
            )
        }),
    })
}

/// The end of a session's pane log, terminal escapes removed.
pub fn output(home: &Home, session: &str) -> Result<Document, String> {
    let path = home.session_logs_dir(session).join("pane.log");
    let (lines, cut) = match crate::tmux::pane_log::read_tail(&path, OUTPUT_TAIL_BYTES as usize) {
        Ok((text, cut)) => (text.lines().map(str::to_string).collect(), cut),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
            vec![format!(
                "(no output yet: {} does not exist)",
                path.display()
            )],
            false,
        ),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    Ok(Document {
        title: format!("output of {session}"),
        lines,
        files: vec![],
        note: cut.then(|| format!("the last {} KiB", OUTPUT_TAIL_BYTES >> 10)),
    })
}

/// The first `max` bytes of `path`; whether it was cut.
fn read_head(path: &Path, max: u64) -> Result<(String, bool), String> {
    let err = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let f = std::fs::File::open(path).map_err(err)?;
    let len = f.metadata().map_err(err)?.len();
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf).map_err(err)?;
    Ok((String::from_utf8_lossy(&buf).into_owned(), len > max))
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
