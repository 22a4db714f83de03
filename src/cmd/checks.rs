//! `brl checks`: the configured checks, run once on main in a scratch worktree, each with what it
//! found, its parser's counts and its time; then the flaky tests. The first command to run after
//! `brl init`: a check that cannot run here blocks every session.

use crate::term::{safe_line, safe_text};
use anyhow::Context;
use serde_json::json;

use crate::checks::{self, MeasureCtx, probe};
use crate::git::{self, Target};
use crate::home::Home;
use crate::outcome::CheckState;

/// The scratch branch the checks worktree holds while it runs (never a `brl/*` branch).
const SCRATCH: &str = "brl-checks-scratch";
/// How many names of failing tests / errors to print per check.
const SHOWN: usize = 10;

pub fn run(home: &Home, json: bool) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    let repo = config.repo_path(home.root());
    let target = Target::open(&repo, &config.main).with_context(|| {
        format!(
            "cannot use `repo` = {} from {}",
            repo.display(),
            home.config_path().display()
        )
    })?;
    let main = target.main_commit()?;
    let path = home.worktrees_dir().join("_checks");
    let name = home.worktree_name("checks");
    let _lock =
        crate::store::atomic::LockGuard::try_exclusive(&home.locks_dir().join("checks-cmd.lock"))?
            .context("another `brl checks` is running for this home; wait for it")?;
    if path.exists() {
        git::detach_worktree(&path)?;
    }
    target.set_scratch_branch(SCRATCH, main)?;
    target.ensure_worktree(&name, &path, SCRATCH)?;
    let out = home
        .logs_dir()
        .join("checks")
        .join(chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string());
    let ctx = MeasureCtx {
        home,
        config: &config,
        worktree: &path,
        output_prefix: out,
        cancel: None,
        pgid_file: None,
    };
    let setup = checks::setup::ensure(&checks::setup::SetupCtx {
        home,
        config: &config,
        worktree: &path,
        session: None,
        log_prefix: &ctx.output_prefix,
        cancel: None,
        pgid_file: None,
    });
    if let Err(e) = &setup {
        println!("worktree setup FAILED: {}", safe_text(&e.to_string()));
    }
    let setup_failed = setup.is_err();
    let probes = match setup {
        Ok(_) => checks::probe::run_all(&ctx),
        Err(_) => Ok(vec![]),
    };
    // Leave nothing behind: the worktree detached and clean, no scratch branch.
    let _ = git::restore_worktree(&path);
    let _ = git::detach_worktree(&path);
    let _ = target.delete_branch(SCRATCH);
    let probes = probes?;
    let flaky = checks::flaky::load(home);
    let broken = setup_failed
        || probes
            .iter()
            .any(|p| matches!(p.state, CheckState::Failed(_)));
    if json {
        let list: Vec<_> = probes.iter().map(probe_json).collect();
        println!(
            "{}",
            json!({ "main": main.to_string(), "checks": list, "flaky": flaky })
        );
        return Ok(i32::from(broken));
    }
    let short = &main.to_string()[..10];
    println!(
        "checks on {} ({short}), in {}:",
        config.main,
        path.display()
    );
    if probes.is_empty() && !setup_failed {
        println!(
            "  none configured: every change is kept unjudged; add [checks.typecheck] and [checks.test] to {}",
            home.config_path().display()
        );
    }
    for p in &probes {
        for line in describe(p) {
            // check names, commands and failure reasons come from the config and the checks'
            // output
            println!("{}", safe_text(&line));
        }
    }
    if flaky.is_empty() {
        println!("flaky tests: none known");
    } else {
        println!(
            "flaky tests ({}; they never decide a cycle — delete an entry once the test is fixed):",
            home.flaky_path().display()
        );
        for (name, f) in &flaky {
            println!(
                "  `{}` — flipped on {} commit(s), last {} on {}",
                safe_line(name),
                f.times,
                f.last_seen.format("%Y-%m-%d %H:%M UTC"),
                &f.commit[..f.commit.len().min(10)]
            );
        }
    }
    if broken {
        println!(
            "a check cannot run: every session stays blocked (nothing is judged or kept) until it does; fix the command under [checks] in {} or install the tool, then run `brl checks` again",
            home.config_path().display()
        );
    }
    Ok(i32::from(broken))
}

fn describe(p: &probe::Probe) -> Vec<String> {
    let secs = p.took.as_secs_f64();
    let head = format!("  {:<9} `{}` (parser {})", p.name, p.command, p.parser);
    let mut lines = Vec::new();
    match (&p.state, &p.parsed) {
        (CheckState::Ran, Some(parsed)) => {
            let counts = [
                ("errors", parsed.errors),
                ("failures", parsed.failures),
                ("passed", parsed.passed),
            ]
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
            .collect::<Vec<_>>()
            .join(", ");
            lines.push(format!("{head}: ran in {secs:.1} s — {counts}"));
            for (label, names) in [("failing", &parsed.failing), ("error", &parsed.error_ids)] {
                let Some(names) = names else { continue };
                for n in names.iter().take(SHOWN) {
                    lines.push(format!("      {label}: {n}"));
                }
                if names.len() > SHOWN {
                    lines.push(format!("      … and {} more", names.len() - SHOWN));
                }
            }
            if parsed.failing.is_none() && parsed.error_ids.is_none() {
                lines.push(
                    "      (this parser counts but does not name: swaps are judged by counts)"
                        .into(),
                );
            }
        }
        (CheckState::Failed(why), _) => {
            // The reason names the output file already.
            lines.push(format!("{head}: CANNOT RUN after {secs:.1} s — {why}"));
            return lines;
        }
        _ => lines.push(format!("{head}: not run")),
    }
    lines.push(format!("      output: {}", p.output.display()));
    lines
}

fn probe_json(p: &probe::Probe) -> serde_json::Value {
    json!({
        "name": p.name,
        "command": p.command,
        "parser": p.parser,
        "state": p.state,
        "parsed": p.parsed,
        "took_ms": p.took.as_millis() as u64,
        "output": p.output.display().to_string(),
    })
}
