//! `brl remote …`: the operations the control room runs on a host, in the host's home, over
//! ssh. Each prints one JSON document on stdout (see [`crate::hosts::remote_ops`]).

use crate::cli::RemoteCommand;
use crate::home::Home;
use crate::hosts::remote_ops;
use crate::scheduler::MemoryReader;
use crate::store::control::GrantTask;

/// `snapshot`, `grant`, `take-back`.
pub fn run_host_op(home: &Home, op: RemoteCommand) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    let doc = match op {
        RemoteCommand::Snapshot => serde_json::to_value(remote_ops::snapshot(
            home,
            &config,
            &mut MemoryReader::default(),
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
    };
    println!("{doc}");
    Ok(0)
}
