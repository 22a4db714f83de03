//! `brl remote …`: the operations the control room runs on a host, in the host's home
//! (`<dir>/bin/brl --home <dir>/home remote <op>`), over ssh. Each prints one document on stdout
//! for the control room to read (see [`crate::hosts::remote_ops`], [`crate::hosts::chunk`]);
//! errors go to stderr with exit 1 like any command.

use std::io::Write;

use crate::cli::{RemoteCommand, RemoteOpArgs};
use crate::control::ops::{self, By, Op};
use crate::home::Home;
use crate::hosts::remote_ops;
use crate::scheduler::MemoryReader;
use crate::store::control::GrantTask;

/// `log`, `snapshot`, `grant`, `take-back`, `pause`, `resume`, `stop`, `restart`.
pub fn run_host_op(home: &Home, op: RemoteCommand) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    let doc = match op {
        RemoteCommand::Log { from, max_bytes } => return log(home, from, max_bytes),
        RemoteCommand::Snapshot { unless_digest } => serde_json::to_value(remote_ops::snapshot(
            home,
            &config,
            &mut MemoryReader::default(),
            unless_digest.as_deref(),
        ))?,
        RemoteCommand::Grant { session, task, fix } => {
            let task = match task {
                None => None,
                Some(t) => Some(serde_json::from_str::<GrantTask>(&t).map_err(|e| {
                    anyhow::anyhow!(
                        "--task is not a grant's task ({e}): {t}\n  fix: pass {{\"id\":N,\"title\":\"…\",\"body\":\"…\"}} (the control room does)"
                    )
                })?),
            };
            serde_json::to_value(remote_ops::grant(
                home,
                &config,
                &session,
                task,
                fix.as_deref(),
            )?)?
        }
        RemoteCommand::TakeBack { session } => {
            serde_json::to_value(remote_ops::take_back(home, &config, &session)?)?
        }
        RemoteCommand::Pause(a) => session_op(home, Op::Pause, a)?,
        RemoteCommand::Resume(a) => session_op(home, Op::Resume, a)?,
        RemoteCommand::Stop(a) => session_op(home, Op::Stop, a)?,
        RemoteCommand::Restart(a) => session_op(home, Op::Restart, a)?,
    };
    println!("{doc}");
    Ok(0)
}

/// The operator's control of one of this host's sessions ([`ops::here`]).
fn session_op(home: &Home, op: Op, a: RemoteOpArgs) -> anyhow::Result<serde_json::Value> {
    let by = By::parse(&a.by).ok_or_else(|| {
        anyhow::anyhow!(
            "--by {:?} is not one of cli, http, dashboard, telegram\n  fix: the control room passes one of them",
            a.by
        )
    })?;
    Ok(serde_json::to_value(ops::here(home, op, &a.session, by)?)?)
}

/// The host's experiment log from `from`: a header line, then whole lines only.
fn log(home: &Home, from: u64, max_bytes: u64) -> anyhow::Result<i32> {
    let (header, bytes) = crate::hosts::chunk::read(&home.log_path(), from, max_bytes)?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &header)?;
    out.write_all(b"\n")?;
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(0)
}
