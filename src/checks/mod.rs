//! Running the configured checks in a worktree and counting their output: the type check behind a
//! cross-process semaphore, baselines cached by main's commit.

pub mod parse;
pub mod setup;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::{CheckConfig, Config};
use crate::home::{Home, short_hash};
use crate::outcome::{CheckState, Counts, Measure};
use crate::proc;
use crate::store::atomic::{LockGuard, write_atomic};

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("stopped by a signal while running checks")]
    Cancelled,
    #[error("running checks: {0}")]
    Io(#[from] std::io::Error),
}

/// Where a measurement's outputs go, and what may stop it.
pub struct MeasureCtx<'a> {
    pub home: &'a Home,
    pub config: &'a Config,
    pub worktree: &'a Path,
    /// Each check's output is saved as `<prefix>.<label>-<check>.log`.
    pub output_prefix: PathBuf,
    pub cancel: Option<&'a AtomicBool>,
    /// See [`proc::Spec::pgid_file`].
    pub pgid_file: Option<PathBuf>,
}

/// Run both checks (those configured) in the worktree as it is now.
pub fn measure(ctx: &MeasureCtx, label: &str) -> Result<Measure, CheckError> {
    let mut m = Measure {
        counts: Counts::default(),
        typecheck: CheckState::NotConfigured,
        test: CheckState::NotConfigured,
    };
    if let Some(tc) = &ctx.config.checks.typecheck {
        let _slot = typecheck_slot(ctx)?;
        let (state, parsed) = run_check(ctx, tc.get_ref(), &format!("{label}-typecheck"))?;
        m.typecheck = state;
        m.counts.errors = parsed.and_then(|p| p.errors);
    }
    if let Some(test) = &ctx.config.checks.test {
        let (state, parsed) = run_check(ctx, test.get_ref(), &format!("{label}-test"))?;
        m.test = state;
        if let Some(p) = parsed {
            m.counts.failures = p.failures;
            m.counts.passed = p.passed;
        }
    }
    Ok(m)
}

/// The baseline for `base` (main's commit): from the cache when a session already measured it with
/// the same checks, else measured now in `ctx.worktree` (which must be at `base`) and cached.
/// Returns the measure and whether it came from the cache.
pub fn baseline(ctx: &MeasureCtx, base: &str) -> Result<(Measure, bool), CheckError> {
    let key = format!("{base}-{:08x}", checks_fingerprint(ctx.config));
    let path = ctx.home.baseline_dir().join(format!("{key}.json"));
    let lock = ctx.home.locks_dir().join(format!("baseline-{key}.lock"));
    // Sessions starting from the same commit wait here for the first one's result.
    let _guard = LockGuard::exclusive(&lock)?;
    if let Ok(text) = std::fs::read_to_string(&path) {
        match serde_json::from_str::<Measure>(&text) {
            Ok(m) => return Ok((m, true)),
            Err(e) => tracing::warn!(
                "baseline cache {} is unreadable ({e}); measuring again",
                path.display()
            ),
        }
    }
    let m = measure(ctx, "baseline")?;
    // A check that failed to run may be a passing fault: do not make it permanent.
    let all_ran = ![&m.typecheck, &m.test]
        .iter()
        .any(|s| matches!(s, CheckState::Failed(_)));
    if all_ran {
        let json = serde_json::to_vec_pretty(&m).map_err(std::io::Error::other)?;
        write_atomic(&path, &json)?;
    }
    Ok((m, false))
}

/// Changes whenever a check's command or parser changes, so a new config re-measures.
fn checks_fingerprint(config: &Config) -> u32 {
    let mut s = String::new();
    for c in [&config.checks.typecheck, &config.checks.test] {
        match c {
            Some(c) => {
                let c = c.get_ref();
                s.push_str(&format!(
                    "{}\u{0}{}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{1}",
                    c.command,
                    c.parser.name(),
                    c.errors.as_ref().map(|p| p.0.as_str()),
                    c.failures.as_ref().map(|p| p.0.as_str()),
                    c.passed.as_ref().map(|p| p.0.as_str()),
                ));
            }
            None => s.push('\u{2}'),
        }
    }
    short_hash(s.as_bytes())
}

fn run_check(
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

fn typecheck_slot(ctx: &MeasureCtx) -> Result<LockGuard, CheckError> {
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
