//! Finishing decisions a dead process left in the journal: called before every brl command
//! ([`recover_pending`]) and before every decision. Approve rolls forward once main has moved (or
//! when the result touches no ref: already merged, conflict) and back when it never moved; reject
//! always rolls forward. One line per recovered decision, also logged (`decision_recovered`).

use serde_json::json;

use crate::config::Config;
use crate::git::Target;
use crate::home::Home;
use crate::store::atomic::LockGuard;
use crate::store::journal::{Journal, Op, Record, Step};
use crate::store::log::{self, Entry};

use super::steps;

/// What recovery did with one journal file.
pub(super) struct Recovered {
    /// The decision's branch (None when the file could not be read).
    pub branch: Option<String>,
    pub line: String,
    /// Still in the journal (recovery could not finish it).
    pub pending: bool,
}

/// Before a command: when the journal holds anything and no decision is running (try-lock), finish
/// what it records, printing one line per decision on stderr. Never fails the command: what cannot
/// be done is said and left for the next command.
pub fn recover_pending(home: &Home) {
    let journal = Journal::new(home);
    if journal.is_empty() {
        return;
    }
    let path = super::lock_path(home);
    let _lock = match LockGuard::try_exclusive(&path) {
        Ok(Some(l)) => l,
        Ok(None) => return, // a decision is running; it finishes its own work
        Err(e) => {
            eprintln!(
                "brl: an interrupted approve/reject waits in {}, but the lock {} cannot be taken: {e}",
                journal.dir().display(),
                path.display()
            );
            return;
        }
    };
    let config = match home.load_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "brl: an interrupted approve/reject waits in {}; it is finished once the config loads: {e}",
                journal.dir().display()
            );
            return;
        }
    };
    // Recovery must never take the command down with it.
    let run = std::panic::AssertUnwindSafe(|| recover_locked(home, &config));
    match std::panic::catch_unwind(run) {
        Ok(done) => {
            for r in done {
                eprintln!("brl: {}", r.line);
            }
        }
        Err(_) => eprintln!(
            "brl: finishing the interrupted decisions in {} failed unexpectedly; they are \
             left there for the next command",
            journal.dir().display()
        ),
    }
}

/// Finish or undo every journaled decision. The decision lock must be held.
pub(super) fn recover_locked(home: &Home, config: &Config) -> Vec<Recovered> {
    let journal = Journal::new(home);
    let records = match journal.load_all() {
        Ok(r) => r,
        Err(e) => {
            return vec![Recovered {
                branch: None,
                line: e.to_string(),
                pending: true,
            }];
        }
    };
    let mut out = Vec::new();
    for r in records {
        let mut rec = match r {
            Ok(rec) => rec,
            Err(e) => {
                out.push(Recovered {
                    branch: None,
                    line: e.to_string(),
                    pending: true,
                });
                continue;
            }
        };
        let (line, action) = match recover_one(home, config, &journal, &mut rec) {
            Ok((line, action)) => (line, action),
            Err(e) if !journal.path_of(&rec.id).exists() => (
                format!(
                    "gave up the interrupted {} of {} (decision {}): {e:#}",
                    what(&rec),
                    rec.branch,
                    rec.id
                ),
                "given_up",
            ),
            Err(e) => (
                format!(
                    "could not finish the interrupted {} of {} (decision {}): {e:#}; the next brl \
                     command tries again (journal {})",
                    what(&rec),
                    rec.branch,
                    rec.id,
                    journal.path_of(&rec.id).display()
                ),
                "failed",
            ),
        };
        let pending = action == "failed";
        let entry = Entry::new(
            "decision_recovered",
            rec.branch.split('/').nth(1),
            json!({"branch": rec.branch, "decision_id": rec.id, "op": what(&rec),
                   "action": action, "step": rec.step, "message": line}),
        );
        let line = match log::append(&home.log_path(), &entry) {
            Ok(()) => line,
            Err(e) => format!("{line} (cannot write {}: {e})", home.log_path().display()),
        };
        out.push(Recovered {
            branch: Some(rec.branch.clone()),
            line,
            pending,
        });
    }
    out
}

fn what(rec: &Record) -> &'static str {
    match rec.op {
        Op::Approve => "approval",
        Op::Reject => "rejection",
    }
}

/// (the line for the user, the action logged).
fn recover_one(
    home: &Home,
    config: &Config,
    journal: &Journal,
    rec: &mut Record,
) -> anyhow::Result<(String, &'static str)> {
    let target = Target::open(&config.repo_path(home.root()), &config.main)?;
    let since = std::time::SystemTime::from(rec.started) - std::time::Duration::from_secs(2);
    let mut notes = target.clear_branch_locks(&rec.branch, since);
    if rec.op == Op::Approve && rec.step != Step::Checkout {
        let moved = match (&rec.new_main, rec.step) {
            (_, Step::Started) => Some(false),
            (None, _) => None, // already merged or conflict: no ref to move
            (Some(new), _) => {
                let new = git2::Oid::from_str(new)
                    .map_err(|e| anyhow::anyhow!("bad commit id {new} in the journal: {e}"))?;
                notes.extend(target.clear_main_ref_lock(new, since));
                let main = target.main_commit()?;
                Some(main == new || target.is_ancestor(new, main)?)
            }
        };
        if moved == Some(false) {
            journal.remove(&rec.id)?;
            return Ok((
                with_notes(
                    format!(
                        "undid the interrupted approval of {} (decision {}): {} never moved, \
                         nothing was merged; the entry is still open — approve it again",
                        rec.branch, rec.id, config.main
                    ),
                    &notes,
                ),
                "rolled_back",
            ));
        }
    }
    let step = rec.step;
    notes.extend(steps::finish(home, &target, journal, rec, true)?);
    let done = match (rec.op, &rec.new_main) {
        (Op::Approve, Some(n)) => format!(
            "{} is {}, the entry approved and logged, the branch deleted",
            config.main,
            &n[..n.len().min(12)]
        ),
        (Op::Approve, None) => format!(
            "the entry is {} and logged",
            if rec.result == "conflict" {
                "conflict"
            } else {
                "approved"
            }
        ),
        (Op::Reject, _) => "the branch is deleted, the entry rejected and logged".into(),
    };
    Ok((
        with_notes(
            format!(
                "finished the interrupted {} of {} (decision {}, stopped at {:?}): {done}",
                what(rec),
                rec.branch,
                rec.id,
                step
            ),
            &notes,
        ),
        "rolled_forward",
    ))
}

fn with_notes(line: String, notes: &[String]) -> String {
    if notes.is_empty() {
        line
    } else {
        format!("{line}; {}", notes.join("; "))
    }
}
