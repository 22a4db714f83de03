//! `brl worker <session>`, what each tmux pane runs: wait for a grant from the control room, run
//! that one cycle, report, pause, and wait again — until SIGINT/SIGTERM. A signal mid-cycle kills
//! the agent, discards the branch and logs the cycle as `interrupted`: nothing is left half-done.
//! SIGUSR1 (`brl stop <session>`) does the same to the cycle in flight, and the worker goes on
//! waiting for its next grant.
//!
//! The worker holds `logs/locks/worker-<session>.lock` for its whole life: that is how the control
//! room knows it lives (and takes back its grant when it dies), and why a session never has two.
//! So it writes no periodic heartbeat: the lock tells whether it lives, `/proc` whether it is
//! frozen (see [`crate::store::control::Control::shown_state`]), and an idle worker sleeps until
//! its own control file changes or a stop signal arrives.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;

use crate::cycle::{self, Options, TaskSpec};
use crate::home::Home;
use crate::outcome::Outcome;
use crate::store::atomic::{LockGuard, lock_owner};
use crate::store::control::{
    Grant, LastCycle, OwnWatch, SessionControl, WorkerState, worker_lock_path,
};
use crate::store::tasks::Tasks;

/// Run until `stop` is set. The config is read again before every cycle, so edits take effect
/// without a restart; an invalid config is reported, the grant handed back, and retried later.
/// `cut` cancels the cycle in flight: set with `stop` by the stop signals, and alone by SIGUSR1.
pub fn run(home: &Home, session: &str, stop: &AtomicBool, cut: &AtomicBool) -> anyhow::Result<()> {
    let first = home.load_config()?;
    first.check_local_session(session)?;
    let _life = life_lock(home, session)?;
    let sc = SessionControl::new(home, session);
    let pid = std::process::id();
    let mut grants = OwnWatch::new(&sc);
    let fallback = (first.worker.pause_secs, first.worker.max_backoff_secs);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        serve(home, session, (stop, cut), &sc, &mut grants, pid, fallback)
    }))
    .unwrap_or_else(|_| Err(anyhow::anyhow!("worker {session}: stopped after a panic")));
    if let Err(e) = sc.set_state(pid, WorkerState::Stopped, None) {
        crate::say_err!("worker {session}: {e}");
    }
    crate::say!("worker {session}: stopped");
    result
}

fn serve(
    home: &Home,
    session: &str,
    (stop, cut): (&AtomicBool, &AtomicBool),
    sc: &SessionControl,
    grants: &mut OwnWatch,
    pid: u32,
    fallback: (u64, u64),
) -> anyhow::Result<()> {
    let mut failures: u32 = 0;
    crate::say!(
        "worker {session}: waiting for the control room (`brl up`) to grant a cycle; Ctrl-C or SIGTERM stops"
    );
    while !stop.load(Ordering::SeqCst) {
        // A stop (SIGUSR1) that came between cycles has no cycle to cut: not the next one's.
        if cut.load(Ordering::SeqCst) {
            uncut(cut);
            if stop.load(Ordering::SeqCst) {
                break;
            }
        }
        sc.set_state(pid, WorkerState::Waiting, None)?;
        let Some(grant) = wait_for_grant(sc, grants, stop, pid)? else {
            break;
        };
        let (outcome, pause) = run_granted(home, session, cut, sc, &grant);
        let pause = pause.unwrap_or(fallback);
        match outcome {
            Some(Outcome::Interrupted) if stop.load(Ordering::SeqCst) => break,
            Some(Outcome::Interrupted) => {
                crate::say!(
                    "worker {session}: the operator stopped the cycle (recorded as interrupted); waiting for the next grant"
                );
                uncut(cut);
            }
            Some(Outcome::RateLimited) => {
                // Not a failure of this worker: the control room waits for the reset.
                crate::say!(
                    "worker {session}: the agent hit a limit; no cycle is granted until it resets (the dashboard header says until when)"
                );
                failures = 0;
            }
            Some(Outcome::Error | Outcome::AgentFailed | Outcome::Timeout) | None => failures += 1,
            Some(_) => failures = 0,
        }
        let (pause, max) = pause;
        let wait = backoff(pause, max, failures);
        if failures > 0 {
            crate::say!(
                "worker {session}: {failures} failed cycle(s) in a row; ready again in {wait}s"
            );
        }
        let until = Utc::now() + chrono::Duration::seconds(wait as i64);
        sc.set_state(pid, WorkerState::Pausing, Some(until))?;
        sleep_unless(stop, Duration::from_secs(wait));
    }
    Ok(())
}

/// Run the granted cycle and clear the grant. Returns the outcome (None: the cycle could not run)
/// and the pause settings of the config it read (None: it could not read one).
fn run_granted(
    home: &Home,
    session: &str,
    stop: &AtomicBool,
    sc: &SessionControl,
    grant: &Grant,
) -> (Option<Outcome>, Option<(u64, u64)>) {
    let task = grant.task.as_ref().map(|t| TaskSpec {
        id: Some(t.id),
        title: t.title.clone(),
        body: t.body.clone(),
    });
    let give_back = |why: &str| {
        if let Some(t) = &grant.task
            && let Err(e) = Tasks::new(&home.tasks_path()).release(t.id, why)
        {
            crate::say_err!("worker {session}: could not put task #{} back: {e}", t.id);
        }
    };
    let config = match home.load_config() {
        Ok(c) => c,
        Err(e) => {
            crate::say_err!("worker {session}: {e}");
            give_back("the worker could not read brl.toml");
            finish(sc, session, grant.id, None);
            return (None, None);
        }
    };
    let pause = Some((config.worker.pause_secs, config.worker.max_backoff_secs));
    let on_phase = |phase: &str, branch: &str| {
        if let Err(e) = sc.set_phase(phase, Some(branch)) {
            crate::say_err!("worker {session}: {e}");
        }
    };
    if let Some(branch) = &grant.fix {
        crate::say!("worker {session}: grant #{}: repair {branch}", grant.id);
        return match crate::jobs::fix::run_one(
            home,
            &config,
            session,
            branch,
            true,
            Some(stop),
            Some(&on_phase),
        ) {
            Ok(r) => {
                crate::say!("{}", r.summary());
                let last = LastCycle {
                    outcome: r.outcome.as_str().to_string(),
                    branch: r.new_branch.clone(),
                    reason: format!("repair of {branch}: {}", r.reason),
                    at: Utc::now(),
                };
                finish(sc, session, grant.id, Some(last));
                (Some(r.outcome), pause)
            }
            Err(e) => {
                crate::say_err!("worker {session}: the repair of {branch} could not run: {e:#}");
                finish(sc, session, grant.id, None);
                (None, pause)
            }
        };
    }
    if let Some(t) = &task {
        crate::say!(
            "worker {session}: grant #{}: task #{}: {}",
            grant.id,
            t.id.unwrap_or(0),
            t.title
        );
    } else {
        crate::say!(
            "worker {session}: grant #{}: the agent picks its own task",
            grant.id
        );
    }
    let opts = Options {
        task,
        echo: true,
        cancel: Some(stop),
        on_phase: Some(&on_phase),
        start: None,
    };
    match cycle::run(home, &config, session, &opts) {
        Ok(report) => {
            crate::say!("{}", report.summary());
            let last = LastCycle {
                outcome: report.outcome.as_str().to_string(),
                branch: report.branch.clone(),
                reason: report.reason.clone(),
                at: Utc::now(),
            };
            finish(sc, session, grant.id, Some(last));
            (Some(report.outcome), pause)
        }
        Err(e) => {
            crate::say_err!("worker {session}: the cycle could not run: {e:#}");
            give_back("the cycle could not start");
            finish(sc, session, grant.id, None);
            (None, pause)
        }
    }
}

/// The operator's stop (SIGUSR1) was served: the next cycle runs uncut, its commands sleep on
/// the cancel bell again, and the signal is no longer the cycle's reason.
fn uncut(cut: &AtomicBool) {
    cut.store(false, Ordering::SeqCst);
    crate::proc::wait::hush();
    let _ = crate::proc::signal_slot().compare_exchange(
        libc::SIGUSR1 as usize,
        0,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
}

fn finish(sc: &SessionControl, session: &str, id: u64, last: Option<LastCycle>) {
    if let Err(e) = sc.finish(id, last) {
        // The control room takes the grant back when this worker exits.
        crate::say_err!("worker {session}: could not clear grant #{id}: {e}");
    }
}

/// Wait until a grant is there and take it; `None` when stopped first. Asleep in between: the
/// watch is on this session's own control file, so only a write to it (a grant, usually) or a
/// stop signal wakes the worker — other sessions' writes and readers opening the file do not.
fn wait_for_grant(
    sc: &SessionControl,
    grants: &mut OwnWatch,
    stop: &AtomicBool,
    pid: u32,
) -> anyhow::Result<Option<Grant>> {
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(None);
        }
        // Armed before the read: a grant written after the read still wakes the wait.
        grants.arm();
        if let Some(g) = sc.take(pid)? {
            return Ok(Some(g));
        }
        grants.wait();
    }
}

/// The session's life lock; refused (naming the holder) when another worker of it runs.
fn life_lock(home: &Home, session: &str) -> anyhow::Result<LockGuard> {
    let path = worker_lock_path(home, session);
    // The control room probes the lock for an instant now and then: retry briefly.
    for _ in 0..20 {
        if let Some(mut g) = LockGuard::try_exclusive(&path)? {
            g.write_owner()?;
            return Ok(g);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let who = lock_owner(&path)
        .map(|p| format!(" (pid {p})"))
        .unwrap_or_default();
    anyhow::bail!(
        "another worker of session {session} is running{who}; a session has one worker. Stop it first (`brl down` stops all of this home's)"
    )
}

/// The pause before the next cycle: `pause` after a success; doubled for each failure in a row,
/// up to `max` (never below `pause`).
pub fn backoff(pause: u64, max: u64, failures: u32) -> u64 {
    if failures == 0 {
        return pause;
    }
    let grown = pause.max(1).saturating_mul(1u64 << failures.min(20));
    grown.min(max.max(pause))
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    crate::proc::wait::sleep_unless(stop, d);
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(10, 600, 0), 10);
        assert_eq!(backoff(10, 600, 1), 20);
        assert_eq!(backoff(10, 600, 3), 80);
        assert_eq!(backoff(10, 600, 30), 600);
        assert_eq!(backoff(0, 600, 2), 4);
        assert_eq!(backoff(900, 600, 2), 900);
    }
}
