//! Running the configured checks in a worktree and counting their output: the type check behind a
//! cross-process semaphore, baselines cached by main's commit.

pub mod confirm;
pub mod flaky;
pub mod parse;
pub mod probe;
mod run;
pub mod setup;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::config::Config;
use crate::home::{Home, short_hash};
use crate::outcome::{CheckState, Measure};
use crate::store::atomic::{LockGuard, write_atomic};

pub use run::typecheck_slot_path;
use run::{run_check, typecheck_slot};

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
    let mut m = Measure::none();
    if let Some(tc) = &ctx.config.checks.typecheck {
        let _slot = typecheck_slot(ctx)?;
        let (state, parsed) = run_check(ctx, tc.get_ref(), &format!("{label}-typecheck"))?;
        m.typecheck = state;
        if let Some(p) = parsed {
            m.counts.errors = p.errors;
            // Identities only when they account for every counted error; else counts decide.
            m.names.errors = if p.complete() { p.error_ids } else { None };
        }
    }
    measure_tests(ctx, &format!("{label}-test"), &mut m)?;
    Ok(m)
}

/// Run the test check (if configured) and put what it found into `m`.
pub(crate) fn measure_tests(
    ctx: &MeasureCtx,
    name: &str,
    m: &mut Measure,
) -> Result<(), CheckError> {
    if let Some(test) = &ctx.config.checks.test {
        let (state, parsed) = run_check(ctx, test.get_ref(), name)?;
        m.test = state;
        let p = parsed.unwrap_or_default();
        let complete = p.complete();
        m.counts.failures = p.failures;
        m.counts.passed = p.passed;
        m.names.failing = if complete { p.failing } else { None };
    }
    Ok(())
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
    let first = measure(ctx, "baseline")?;
    // Failing tests at baseline are confirmed by re-runs: one that passes on a re-run is flaky,
    // and is neither counted as failing nor allowed to decide a later cycle.
    let m = if first.counts.failures.is_some_and(|n| n > 0) {
        confirm::rerun(ctx, "baseline", first, base, |_| true)?
    } else {
        first
    };
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

/// Changes whenever a check's command or parser changes, so a new config re-measures (and
/// whenever the cached measure's format gains what older brl versions did not record).
fn checks_fingerprint(config: &Config) -> u32 {
    let mut s = format!("v2 confirm={}\u{1}", config.checks.confirm_runs);
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
