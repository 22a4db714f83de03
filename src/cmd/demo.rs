//! `brl demo` and `brl demo-agent`: brl on a demo repository with a deterministic demo agent,
//! needing no API key and no network.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cycle;
use crate::defaults::{self, toml_string};
use crate::demo;
use crate::home::Home;
use crate::store::queue::Queue;

pub fn run(dir: Option<PathBuf>, no_tui: bool, rounds: Option<u32>) -> anyhow::Result<i32> {
    let root = match dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!(
            "brl-demo-{}",
            chrono::Utc::now().format("%Y%m%d-%H%M%S")
        )),
    };
    if root.exists()
        && std::fs::read_dir(&root)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        anyhow::bail!(
            "{} already exists and is not empty; pass --dir with a new directory",
            root.display()
        );
    }
    let root = std::path::absolute(&root)?;
    let home = create(&root)?;
    println!("demo created in {}", root.display());
    println!("  target repository: {}", root.join("app").display());
    println!("  brl home:          {}", home.root().display());
    let Some(rounds) = rounds else {
        let b = invocation_for(&home);
        println!("  stop it:           {b} down");
        if !no_tui {
            if !crate::tui::has_terminal() {
                anyhow::bail!(
                    "the dashboard needs a terminal; run `brl demo --no-tui` (headless) or `brl demo --rounds 2` (no tmux) instead"
                );
            }
            println!(
                "opening the dashboard: 3 sessions start in tmux; press ? for the keys, q to quit (the demo keeps running)"
            );
        }
        return super::control::up(&home, None, no_tui, false);
    };
    let config = home.load_config()?;
    for round in 1..=rounds {
        println!("round {round}/{rounds}: one cycle in each of s1, s2, s3 at once");
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = config
                .session_names()
                .into_iter()
                .map(|s| {
                    let (home, config) = (&home, &config);
                    scope.spawn(move || cycle::run(home, config, &s, &cycle::Options::default()))
                })
                .collect();
            handles.into_iter().map(|h| h.join()).collect()
        });
        for r in results {
            match r {
                Ok(Ok(report)) => println!("  {}", report.summary()),
                Ok(Err(e)) => println!("  a cycle could not run: {e:#}"),
                Err(_) => println!("  a cycle panicked (a bug in brl; see the output above)"),
            }
        }
    }
    println!();
    println!("review queue:");
    for e in Queue::new(&home.queue_path()).load()? {
        println!("  {:<8} {}  {}", e.status.as_str(), e.branch, e.reason);
    }
    let b = format!("{} --home {}", invocation(), home.root().display());
    println!();
    println!("next:");
    println!("  {b} queue list");
    println!("  {b} queue diff <branch>");
    println!("  {b} queue approve <branch>   (or: queue reject <branch> --reason TEXT)");
    println!("  {b} log");
    println!("  {b} cycle s1                 (one more cycle, showing the agent's output)");
    println!(
        "  {b} up --no-tui              (the control room: 3 workers in tmux, cycles as granted; Ctrl-C, then `down`)"
    );
    Ok(0)
}

/// The demo target repository under `root/app` and a home under `root/home` that uses it.
pub fn create(root: &Path) -> anyhow::Result<Home> {
    let app = root.join("app");
    demo::repo::create_target(&app)
        .with_context(|| format!("cannot create the demo repository {}", app.display()))?;
    let home = Home::new(&root.join("home"));
    let exe =
        std::env::current_exe().context("cannot find the brl executable for the demo agent")?;
    let c = demo::repo::CHECKS;
    let config = format!(
        r#"# The demo home: brl's demo agent (not an AI) works on a small demo repository.
repo = {repo}
main = "main"
sessions = 3
context_file = "AGENTS.md"

[agent]
command = {agent}
timeout_secs = 60

[checks]
max_parallel_typechecks = 2
timeout_secs = 60

[checks.typecheck]
command = {tc}
parser = "regex"
errors = {tce}

[checks.test]
command = {test}
parser = "regex"
failures = {tf}
passed = {tp}

[worker]
pause_secs = 12
max_backoff_secs = 30

[scheduler]
# Short, so that something happens within seconds.
interval_secs = 5

[review]
# Back-pressure: at 6 branches waiting for review, no new self-planned cycle starts — decide
# some (a / x in the dashboard's queue) and the sessions go on.
max_pending = 6

[tmux]
# A tmux server of the demos' own, and a session of this demo's own.
socket = "brl-demo"
session = {session}
"#,
        session = toml_string(&format!(
            "demo-{:08x}",
            crate::home::short_hash(root.display().to_string().as_bytes())
        )),
        repo = toml_string(&app.display().to_string()),
        agent = toml_string(&format!(
            "{} demo-agent",
            shell_quote(&exe.display().to_string())
        )),
        tc = toml_string(c.typecheck_cmd),
        tce = toml_string(c.typecheck_errors_regex),
        test = toml_string(c.test_cmd),
        tf = toml_string(c.test_failures_regex),
        tp = toml_string(c.test_passed_regex),
    );
    std::fs::create_dir_all(home.root())?;
    std::fs::write(home.config_path(), config)?;
    for (rel, contents) in defaults::FILES {
        let p = home.root().join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(p, contents)?;
    }
    Ok(home)
}

/// How the user can run this brl again: `brl` when that is on PATH, else this executable's path.
fn invocation() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|e| e.canonicalize().ok());
    let on_path = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| d.join("brl").canonicalize().ok() == exe)
    });
    match (on_path, exe) {
        (false, Some(e)) => shell_quote(&e.display().to_string()),
        _ => "brl".into(),
    }
}

/// How the user can run brl on `home` again: `brl --home <home>`.
pub fn invocation_for(home: &Home) -> String {
    format!(
        "{} --home {}",
        invocation(),
        shell_quote(&home.root().display().to_string())
    )
}

/// `s` quoted for `sh -c`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `brl demo-agent`: the prompt on stdin, the worktree as the current directory.
pub fn agent() -> anyhow::Result<i32> {
    let mut prompt = String::new();
    std::io::stdin()
        .read_to_string(&mut prompt)
        .context("demo-agent: cannot read the prompt on stdin")?;
    let role = std::env::var("BRL_ROLE").unwrap_or_else(|_| "ralph".into());
    if role != "ralph" {
        let session = std::env::var("BRL_SESSION").ok();
        return match demo::roles::answer(&role, &prompt, session.as_deref()) {
            Some(text) => {
                println!("{text}");
                Ok(0)
            }
            None => anyhow::bail!("demo-agent: no answer for the role `{role}`"),
        };
    }
    let seed = std::env::var("BRL_BRANCH").unwrap_or_else(|_| "demo".into());
    let cwd = std::env::current_dir()?;
    println!(
        "demo-agent (deterministic, not an AI): read a {}-byte prompt",
        prompt.len()
    );
    let action = demo::agent::run(&cwd, &prompt, &seed)?;
    println!("demo-agent: {}", action.describe());
    Ok(0)
}
