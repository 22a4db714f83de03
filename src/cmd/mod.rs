//! The command-line face: one function per subcommand, each a thin driver over the engine.

mod checks;
mod control;
mod dashboard;
mod demo;
mod fix;
mod hosts;
mod hosts_collect;
mod init;
mod jobs;
mod log;
mod queue;
mod remote;
mod session;
mod task;
pub mod trigger;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use crate::cli::{Cli, Command};
use crate::cycle::{self, TaskSpec};
use crate::home::Home;
use crate::store::tasks::Tasks;

/// Run the command; the exit code on success.
pub fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    // The control room and the dashboard set up their own logging (a file, and JSON lines with
    // --no-tui); the demo becomes one of them unless it runs rounds.
    if !matches!(
        cli.command,
        Command::Up { .. } | Command::Demo { rounds: None, .. }
    ) {
        crate::headless::init_cli();
    }
    let home = match &cli.home {
        Some(dir) => Home::new(dir),
        None => Home::new(&std::env::current_dir().context("cannot read the current directory")?),
    };
    // A mistyped --home must not read as an empty home (`log` printing nothing, "the task queue
    // is empty"): every command that works on a home needs its brl.toml.
    if !matches!(
        cli.command,
        Command::Init { .. }
            | Command::Demo { .. }
            | Command::DemoAgent
            | Command::PaneLog { .. }
            | Command::Gate { .. }
    ) && !home.config_path().is_file()
    {
        anyhow::bail!(
            "no brl.toml in {} — is the home right? Pass the directory `brl init` wrote (--home <dir>, or run brl there); `brl --home {} init --repo <your repo>` makes a new one",
            home.root().display(),
            home.root().display()
        );
    }
    // An approve/reject killed mid-way is finished (or undone) before anything else reads the
    // queue, the log or the repository; cheap when the journal is empty.
    if !matches!(
        cli.command,
        Command::Init { .. } | Command::Demo { .. } | Command::DemoAgent | Command::PaneLog { .. }
    ) {
        crate::decision::recover_pending(&home);
    }
    match cli.command {
        Command::Init {
            repo,
            preset,
            agent,
            force,
            pm2,
        } => init::run(&home, &repo, preset, agent, force, pm2),
        Command::Cycle {
            session,
            task,
            from_queue,
            quiet,
        } => {
            let config = home.load_config()?;
            config.check_local_session(&session)?;
            let stop = stop_flag()?;
            let task = match (task, from_queue) {
                (Some(t), _) => Some(TaskSpec::one_off(&t)),
                (None, true) => match Tasks::new(&home.tasks_path()).claim(&session)? {
                    Some(t) => Some(TaskSpec::from_task(&t)),
                    None => {
                        crate::say!("no ready task in {}", home.tasks_path().display());
                        return Ok(0);
                    }
                },
                (None, false) => None,
            };
            let opts = cycle::Options {
                task: task.clone(),
                echo: !quiet,
                cancel: Some(&stop),
                on_phase: None,
                start: None,
            };
            match cycle::run(&home, &config, &session, &opts) {
                Ok(report) => {
                    crate::say!("{}", crate::term::safe_line(&report.summary()));
                    Ok(0)
                }
                Err(e) => {
                    if let Some(id) = task.and_then(|t| t.id) {
                        Tasks::new(&home.tasks_path()).release(id, "the cycle could not start")?;
                    }
                    Err(e)
                }
            }
        }
        Command::Up {
            sessions,
            no_tui,
            json,
        } => control::up(&home, sessions, no_tui, json),
        Command::Down { wait_secs, host } => control::down(&home, wait_secs, host.as_deref()),
        Command::Attach { session } => control::attach(&home, session.as_deref()),
        Command::Status { json } => control::status(&home, json),
        Command::Pause { session } => session::pause(&home, session.as_deref()),
        Command::Resume { session } => session::resume(&home, session.as_deref()),
        Command::Stop { session } => session::stop(&home, &session),
        Command::Restart { session } => session::restart(&home, &session),
        Command::Checks { json } => checks::run(&home, json),
        Command::Trigger(t) => trigger::run(&home, t),
        Command::Remote(op) => remote::run_host_op(&home, op),
        Command::Hosts(h) => hosts::run(&home, h),
        Command::PaneLog { path, max_bytes } => {
            crate::tmux::pane_log::copy_bounded(std::io::stdin().lock(), &path, max_bytes)?;
            Ok(0)
        }
        Command::Worker { session } => {
            let stop = stop_flag()?;
            let cut = cut_flag()?;
            crate::worker::run(&home, &session, &stop, &cut)?;
            Ok(0)
        }
        Command::Log {
            lines,
            kind,
            session,
            json,
            follow,
        } => log::run(&home, lines, kind, session, json, follow),
        Command::Emit {
            kind,
            session,
            data,
        } => log::emit(&home, &kind, session.as_deref(), &data),
        Command::Queue(q) => queue::run(&home, q),
        Command::Task(t) => task::run(&home, t),
        Command::Demo {
            dir,
            no_tui,
            rounds,
        } => demo::run(dir, no_tui, rounds),
        Command::DemoAgent => demo::agent(),
        Command::Review { json } => jobs::run(&home, crate::jobs::Job::Review, json),
        Command::Standup { json } => jobs::run(&home, crate::jobs::Job::Standup, json),
        Command::Doctor { json } => jobs::run(&home, crate::jobs::Job::Doctor, json),
        Command::Fix { branch, session } => fix::run(&home, branch.as_deref(), session.as_deref()),
        Command::Gate { session } => Ok(crate::gate::run::main(&home, session.as_deref())),
    }
}

/// A flag set by SIGINT, SIGTERM or SIGHUP; which one arrived is kept for the cycle's reason
/// ([`crate::proc::received_signal`]).
pub(crate) fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    // SIGHUP: the terminal or tmux pane went away.
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        // The signal's number first, so whoever sees the flag can read which one it was.
        signal_hook::flag::register_usize(sig, crate::proc::signal_slot(), sig as usize)
            .context("cannot install a signal handler")?;
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install a signal handler")?;
        // And a byte into the self-pipe that waiting threads sleep on, so they need no timer.
        crate::proc::wait::wake_on_signal(sig).context("cannot install a signal handler")?;
    }
    Ok(stop)
}

/// The worker's flag that cuts the cycle in flight: set by every stop signal and by SIGUSR1
/// (`brl stop <session>`), which stops the cycle but not the worker. SIGUSR1 rings the cancel
/// bell (not the stop signals' pipe, which stays readable for good) and is recorded as the
/// signal, so the cycle's reason says the operator stopped it.
pub(crate) fn cut_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let cut = Arc::new(AtomicBool::new(false));
    let usr1 = signal_hook::consts::SIGUSR1;
    signal_hook::flag::register_usize(usr1, crate::proc::signal_slot(), usr1 as usize)
        .context("cannot install a signal handler")?;
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        usr1,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&cut))
            .context("cannot install a signal handler")?;
    }
    crate::proc::wait::ring_on_signal(usr1).context("cannot install a signal handler")?;
    Ok(cut)
}
