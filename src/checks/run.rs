//! Running one check command in a worktree (its process group, timeout and cancel), and the
//! type-check semaphore shared by every process of the home.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{CheckError, MeasureCtx, parse};
use crate::config::CheckConfig;
use crate::home::Home;
use crate::outcome::CheckState;
use crate::proc;
use crate::store::atomic::LockGuard;

pub(super) fn run_check(
    ctx: &MeasureCtx,
    check: &CheckConfig,
    name: &str,
) -> Result<(CheckState, Option<parse::Parsed>), CheckError> {
    let out_path = PathBuf::from(format!("{}.{name}.log", ctx.output_prefix.display()));
    if let Some(dir) = out_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut out = std::fs::File::create(&out_path)?;
    let timeout = ctx.config.checks.timeout_secs.get();
    let spec = proc::Spec {
        command: &check.command,
        cwd: ctx.worktree,
        env: vec![("BRL_HOME".into(), ctx.home.root().display().to_string())],
        stdin: None,
        timeout: Duration::from_secs(timeout),
        cancel: ctx.cancel,
        pgid_file: ctx.pgid_file.clone(),
    };
    let run = proc::run(spec, &mut |chunk| {
        let _ = out.write_all(chunk);
    })?;
    let exit = match run.end {
        proc::End::Cancelled => return Err(CheckError::Cancelled),
        proc::End::TimedOut => {
            return Ok((
                CheckState::Failed(format!(
                    "`{}` ran past [checks] timeout_secs = {timeout} (output: {})",
                    check.command,
                    out_path.display()
                )),
                None,
            ));
        }
        proc::End::Exited(code) => Some(code),
        proc::End::Signaled(_) => None,
    };
    if exit == Some(127) {
        // The shell's own words name the missing program (`sh: 1: mypy: not found`).
        let said = run
            .output
            .lines()
            .rev()
            .find(|l| l.contains("not found"))
            .unwrap_or("")
            .trim();
        return Ok((
            CheckState::Failed(format!(
                "`{}`: command not found (exit code 127{}) (output: {})",
                check.command,
                if said.is_empty() {
                    String::new()
                } else {
                    format!(": `{said}`")
                },
                out_path.display()
            )),
            None,
        ));
    }
    match parse::parse(check.parser, &check.rules(), &run.output, exit) {
        Ok(p) => Ok((CheckState::Ran, Some(p))),
        Err(why) => Ok((
            CheckState::Failed(format!("{why} (output: {})", out_path.display())),
            None,
        )),
    }
}

/// One of `max_parallel_typechecks` slots, shared by every process using the home: a `flock`ed
/// slot file each. A process that dies frees its slot.
/// The lock of type-check slot `i` (held while a type check runs).
pub fn typecheck_slot_path(home: &Home, i: u32) -> PathBuf {
    home.locks_dir().join(format!("typecheck-slot-{i}.lock"))
}

pub(super) fn typecheck_slot(ctx: &MeasureCtx) -> Result<LockGuard, CheckError> {
    let n = ctx.config.checks.max_parallel_typechecks.get();
    loop {
        for i in 0..n {
            let path = typecheck_slot_path(ctx.home, i);
            if let Some(guard) = LockGuard::try_exclusive(&path)? {
                return Ok(guard);
            }
        }
        if ctx.cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
            return Err(CheckError::Cancelled);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
