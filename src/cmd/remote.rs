//! `brl remote <op>`: what the control room runs on a host of the fleet over ssh, in that host's
//! home (`<dir>/bin/brl --home <dir>/home remote <op>`). Each op prints one document on stdout for
//! the control room to read; errors go to stderr with exit 1 like any command.

use std::io::Write;

use crate::cli::RemoteCommand;
use crate::home::Home;

pub fn run(home: &Home, op: RemoteCommand) -> anyhow::Result<i32> {
    match op {
        RemoteCommand::Log { from, max_bytes } => log(home, from, max_bytes),
    }
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
