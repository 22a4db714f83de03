//! `brl worker <session>`: cycles in a loop until SIGINT/SIGTERM, pausing between them and backing
//! off after repeated failures. A signal mid-cycle kills the agent, discards the branch and logs the
//! cycle as `interrupted` — nothing is left half-done.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::cycle::{self, Options, TaskSpec};
use crate::home::Home;
use crate::outcome::Outcome;
use crate::store::tasks::Tasks;

/// Run until `stop` is set. The config is read again before every cycle, so edits take effect
/// without a restart; an invalid config is reported and retried after the back-off.
pub fn run(home: &Home, session: &str, stop: &AtomicBool) -> anyhow::Result<()> {
    let mut failures: u32 = 0;
    let mut waiting = false;
    let first = home.load_config()?;
    first.check_session(session)?;
    println!("worker {session}: running cycles until stopped (Ctrl-C or SIGTERM)");
    while !stop.load(Ordering::SeqCst) {
        let (pause, max_backoff) = match home.load_config() {
            Ok(config) => {
                let tasks = Tasks::new(&home.tasks_path());
                let task = match tasks.claim(session) {
                    Ok(t) => t,
                    Err(e) => {
                        // The queue file is broken: say so, and work without it.
                        eprintln!("worker {session}: cannot take a task: {e}");
                        None
                    }
                };
                if task.is_none() && !config.scheduler.self_plan {
                    if !waiting {
                        println!(
                            "worker {session}: waiting for a ready task ([scheduler] self_plan = false; `brl task add`)"
                        );
                        waiting = true;
                    }
                    sleep_unless(stop, Duration::from_secs(config.worker.pause_secs.max(1)));
                    continue;
                }
                waiting = false;
                let opts = Options {
                    task: task.as_ref().map(TaskSpec::from_task),
                    echo: true,
                    cancel: Some(stop),
                };
                if let Some(t) = &task {
                    println!("worker {session}: task #{}: {}", t.id, t.title);
                }
                match cycle::run(home, &config, session, &opts) {
                    Ok(report) => {
                        println!("{}", report.summary());
                        match report.outcome {
                            Outcome::Interrupted => break,
                            Outcome::Error | Outcome::AgentFailed | Outcome::Timeout => {
                                failures += 1
                            }
                            _ => failures = 0,
                        }
                    }
                    Err(e) => {
                        eprintln!("worker {session}: the cycle could not run: {e:#}");
                        if let Some(t) = &task
                            && let Err(e) = tasks.release(t.id, "the cycle could not start")
                        {
                            eprintln!("worker {session}: could not put task #{} back: {e}", t.id);
                        }
                        failures += 1;
                    }
                }
                (config.worker.pause_secs, config.worker.max_backoff_secs)
            }
            Err(e) => {
                eprintln!("worker {session}: {e}");
                failures += 1;
                (first.worker.pause_secs, first.worker.max_backoff_secs)
            }
        };
        let wait = backoff(pause, max_backoff, failures);
        if failures > 0 {
            println!(
                "worker {session}: {failures} failed cycle(s) in a row; next cycle in {wait}s"
            );
        }
        sleep_unless(stop, Duration::from_secs(wait));
    }
    println!("worker {session}: stopped");
    Ok(())
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
    let end = Instant::now() + d;
    while Instant::now() < end && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
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
