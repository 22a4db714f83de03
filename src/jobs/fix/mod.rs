//! The fixer: repair cycles (role `fix`, prompts/fix.md) for review-queue branches that conflict
//! with the current main or that the re-check found worse (`stale`). A repair is a cycle like any
//! other — granted by the scheduler to an idle session (RAM gate, budget, `max_running`), run by
//! its worker with [`crate::cycle::run`], judged by the same ratchet against main — that starts
//! from the old branch merged onto main ([`crate::git::merge_for_fix`]). One repair per branch at
//! a time: its lock, `logs/locks/fix-<branch>.lock`, is held for the whole repair.
//!
//! Success: the repaired branch replaces the entry (`fix.fixes` names the old branch, which is
//! deleted). Failure: the entry stays with `fix.attempts` and a `fix.note`; after `[fixer]
//! max_attempts` the scheduler stops trying and the `fix_result` entry says why.

mod run;

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::home::Home;
use crate::scheduler::fix::{self, NotNow};
use crate::store::atomic::LockGuard;
use crate::store::control::{SessionControl, load_all};
use crate::store::queue::{Queue, QueueEntry};

pub use run::{FixReport, run_one};

/// The lock a repair of `branch` holds.
pub fn lock_path(home: &Home, branch: &str) -> PathBuf {
    let safe: String = branch
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    home.locks_dir().join(format!("fix-{safe}.lock"))
}

/// Whether a repair of `branch` runs now (its lock is held).
pub fn running(home: &Home, branch: &str) -> bool {
    LockGuard::is_held(&lock_path(home, branch)).unwrap_or(false)
}

/// Branches being repaired: held in a grant (`granted`), or locked by a running repair.
fn busy(home: &Home, entries: &[QueueEntry], granted: &BTreeSet<String>) -> BTreeSet<String> {
    let mut b = granted.clone();
    b.extend(
        entries
            .iter()
            .filter(|e| e.status.is_open() && running(home, &e.branch))
            .map(|e| e.branch.clone()),
    );
    b
}

/// For the scheduler: how many review entries are open, and the branches to repair now (none
/// when `[fixer]` is off or `interval_secs = 0`). `granted`: branches a session holds a repair
/// grant for. A queue that cannot be read counts as empty (the error is logged).
pub fn queue_state(
    home: &Home,
    config: &Config,
    granted: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> (usize, Vec<String>) {
    let entries = match Queue::new(&home.queue_path()).load() {
        Ok(e) => e,
        Err(e) => {
            tracing::error!("{e}");
            return (0, Vec::new());
        }
    };
    let open = entries.iter().filter(|e| e.status.is_open()).count();
    let fixes = match config.fixer.scheduled() {
        Some(retry) => fix::order(
            &entries,
            config.fixer.max_attempts.get(),
            &busy(home, &entries, granted),
            Some(retry),
            now,
        ),
        None => Vec::new(),
    };
    (open, fixes)
}

/// The branch a repair on demand takes: `branch` if it may be repaired now (else why not), or
/// the first in the fixer's order.
pub fn pick(home: &Home, config: &Config, branch: Option<&str>) -> anyhow::Result<String> {
    let entries = Queue::new(&home.queue_path()).load()?;
    let granted = granted_fixes(home, config);
    let busy = busy(home, &entries, &granted);
    let max = config.fixer.max_attempts.get();
    let now = Utc::now();
    let Some(b) = branch else {
        return fix::order(&entries, max, &busy, None, now)
            .into_iter()
            .next()
            .context("nothing to repair: no branch in the review queue is `conflict` or `stale` with repair attempts left (`brl queue` lists them)");
    };
    let e = entries
        .iter()
        .find(|e| e.branch == b)
        .with_context(|| format!("branch {b} is not in the review queue (`brl queue` lists it)"))?;
    match fix::eligible(e, max, &busy, None, now) {
        Ok(()) => Ok(b.to_string()),
        Err(why) => anyhow::bail!("{}", refusal(b, e, &why, max)),
    }
}

/// Why `branch` is not repaired now, in words for a person.
pub fn refusal(branch: &str, e: &QueueEntry, why: &NotNow, max: u32) -> String {
    match why {
        NotNow::NotBroken => format!(
            "branch {branch} is `{}`: only `conflict` and `stale` branches are repaired",
            e.status.as_str()
        ),
        NotNow::OutOfAttempts { attempts } => format!(
            "branch {branch} had its {attempts} repair attempt(s) (`[fixer] max_attempts` = {max}); it waits for a person (approve with --force, or reject)"
        ),
        NotNow::Busy => format!(
            "branch {branch} is being repaired already; one repair per branch at a time — its `fix_result` entry appears in the log"
        ),
        NotNow::TooSoon { wait_secs } => {
            format!("branch {branch} was tried recently; next attempt in {wait_secs} s")
        }
    }
}

/// Branches some session holds a repair grant for.
fn granted_fixes(home: &Home, config: &Config) -> BTreeSet<String> {
    load_all(home, &config.session_names())
        .into_iter()
        .filter_map(|(_, c)| c.ok()?.grant?.fix)
        .collect()
}

/// Hand one repair to an idle live worker (the control room's way, for `POST /trigger/fix`,
/// the dashboard's key and `brl fix` while workers run): returns (session, branch).
pub fn request(
    home: &Home,
    config: &Config,
    branch: Option<&str>,
) -> anyhow::Result<(String, String)> {
    let branch = pick(home, config, branch)?;
    for s in config.session_names() {
        let sc = SessionControl::new(home, &s);
        let idle = sc.load().map(|c| c.idle()).unwrap_or(false);
        if idle && sc.worker_alive().unwrap_or(false) && sc.grant_fix(&branch)?.is_some() {
            return Ok((s, branch));
        }
    }
    anyhow::bail!(
        "no session is waiting for work now, so the repair of {branch} cannot be handed out; the scheduler grants it when a session is free (`[fixer] interval_secs`), or run `brl fix {branch}` when no worker runs"
    )
}
