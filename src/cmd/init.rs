//! `brl init`: a commented brl.toml (with the `--agent` preset's command) and the default
//! prompts/, skills/, layouts/ in the home; with `--pm2` also `ecosystem.config.js`. Existing files are kept unless `--force`, so `init --pm2`
//! on a home that is already set up adds only the ecosystem file.

use std::path::Path;

use anyhow::Context;

use crate::agents::{HookSupport, Preset as AgentPreset, PresetKind};
use crate::defaults::{self, Preset};
use crate::home::Home;

pub fn run(
    home: &Home,
    repo: &Option<std::path::PathBuf>,
    preset: Preset,
    agent: PresetKind,
    force: bool,
    pm2: bool,
) -> anyhow::Result<i32> {
    std::fs::create_dir_all(home.root())
        .with_context(|| format!("cannot create the home {}", home.root().display()))?;
    let repo_text = match repo {
        Some(r) => std::path::absolute(r)
            .with_context(|| format!("cannot resolve --repo {}", r.display()))?
            .display()
            .to_string(),
        None => "../app".to_string(),
    };
    let exe = std::env::current_exe().context("cannot find the brl executable")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let brl = exe.to_string_lossy().into_owned();
    let mut toml = defaults::config_toml(&repo_text, preset, agent, &brl);
    // Approvals merge into the repository's own default branch (`master` in many repos).
    let main = repo.as_deref().and_then(default_branch);
    if let Some(m) = main.as_deref().filter(|m| *m != "main") {
        toml = toml.replacen("main = \"main\"", &format!("main = {}", toml_quote(m)), 1);
    }
    let bwrap = crate::agents::sandbox::on_path();
    if bwrap {
        toml = offer_sandbox(&toml);
    }
    let mut files: Vec<(String, String)> = vec![("brl.toml".into(), toml)];
    files.extend(
        defaults::FILES
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string())),
    );
    files.push(("logs/.gitkeep".into(), String::new()));
    if pm2 {
        files.push((PM2_FILE.into(), defaults::pm2_ecosystem(home.root(), &exe)));
    }
    let mut skipped = 0;
    let mut wrote_defaults = 0;
    let mut wrote_config = false;
    let mut wrote_pm2 = false;
    for (rel, contents) in &files {
        let path = home.root().join(rel);
        if path.exists() && !force {
            if rel == PM2_FILE {
                // --force would overwrite brl.toml and the prompts too: say how to redo only this.
                println!(
                    "kept     {} (exists; delete it and run `brl init --pm2` again to regenerate it)",
                    path.display()
                );
            } else {
                println!("kept     {} (exists; --force overwrites)", path.display());
            }
            skipped += 1;
            continue;
        }
        write(&path, contents)?;
        if rel == "brl.toml" || rel == PM2_FILE {
            println!("wrote    {}", path.display());
        } else {
            wrote_defaults += 1;
        }
        wrote_config |= rel == "brl.toml";
        wrote_pm2 |= rel == PM2_FILE;
    }
    if wrote_defaults > 0 {
        println!(
            "wrote    {wrote_defaults} default files under {} (prompts/, skills/, layouts/, logs/)",
            home.root().display()
        );
    }
    if skipped > 0 {
        println!("{skipped} existing file(s) left as they were");
    }
    if wrote_config {
        let [(typecheck, _), (test, _)] = defaults::check_commands(preset);
        for line in agent_lines(agent, &agent.default_command(&[typecheck, test], &brl)) {
            println!("{line}");
        }
        if bwrap {
            println!(
                "bwrap is installed: uncomment `sandbox = \"bwrap\"` under [agent] in brl.toml to \
                 run the agent with the file system read-only but for its worktree ({})",
                agent.sandbox_note()
            );
        }
    }
    let mut loaded = None;
    match home.load_config() {
        Ok(config) => {
            for line in super::control::where_lines(&config) {
                println!("{line}");
            }
            for line in tool_warnings(home, &config) {
                println!("{line}");
            }
            loaded = Some(config);
        }
        Err(e) => println!("warning: {e}"),
    }
    match repo {
        None if wrote_config => println!(
            "next: set `repo` in {} to your target git repository",
            home.config_path().display()
        ),
        None => {}
        Some(r) => check_repo(home, r),
    }
    if let Some(m) = main.as_deref().filter(|_| wrote_config) {
        println!("main:  `{m}` (the branch approvals merge into; `main` in brl.toml)");
    }
    if loaded.is_some() && repo.is_some() {
        let h = crate::agents::cmdline::quote(&home.root().display().to_string());
        println!("next:");
        println!(
            "  brl --home {h} checks   # the checks once on main: what they find (one that cannot run blocks every session)"
        );
        println!(
            "  brl --home {h} up       # the control room and the dashboard (--no-tui: without the dashboard)"
        );
        println!("  brl --home {h} status   # what runs, what waits for you");
    }
    if wrote_pm2 {
        let name = defaults::pm2_app_name(home.root());
        println!(
            "PM2: `pm2 start {}` runs the control room as `{name}`; `pm2 stop {name}` stops it (the workers keep running in tmux); `brl --home {} down` stops everything",
            home.root().join(PM2_FILE).display(),
            home.root().display()
        );
    }
    Ok(0)
}

/// Warnings for the commands of `config` (checks and agent) whose programs cannot be found.
fn tool_warnings(home: &Home, config: &crate::config::Config) -> Vec<String> {
    let repo = config.repo_path(home.root());
    let mut out = Vec::new();
    for (key, check) in [
        ("checks.typecheck", &config.checks.typecheck),
        ("checks.test", &config.checks.test),
    ] {
        let Some(check) = check else { continue };
        let cmd = &check.get_ref().command;
        if let Some(why) = crate::checks::probe::missing_tools(cmd, &repo) {
            out.push(format!(
                "warning: [{key}] `{cmd}`: {why} — sessions stay blocked until this check runs"
            ));
        }
    }
    let agent = &config.agent.command;
    if let Some(why) = crate::checks::probe::missing_tools(agent, &repo) {
        out.push(format!(
            "warning: [agent] command: {why} — every cycle would end `agent_failed` (command not found)"
        ));
    }
    out
}

/// What `brl init` says about the agent it configured: which preset, whether the gate applies,
/// and the preset's warnings about the command.
/// The config with a commented `sandbox = "bwrap"` line after `[agent] timeout_secs`.
fn offer_sandbox(toml: &str) -> String {
    const LINE: &str = "# Run the agent under bubblewrap: the file system read-only but for its worktree, the\n\
        # user's main branch and secrets (~/.ssh, .env, ...) out of reach; processes, network and\n\
        # resources are not limited (README: \"The sandbox\").\n\
        # sandbox = \"bwrap\"\n";
    let Some(agent) = toml.find("[agent]") else {
        return toml.to_string();
    };
    let Some(rel) = toml[agent..].find("timeout_secs = ") else {
        return toml.to_string();
    };
    let at = agent + rel;
    let end = toml[at..].find('\n').map_or(toml.len(), |i| at + i + 1);
    format!("{}{LINE}{}", &toml[..end], &toml[end..])
}

pub fn agent_lines(agent: PresetKind, command: &str) -> Vec<String> {
    let gate = match agent.hooks() {
        HookSupport::ProjectSettings { path, event } => {
            format!("brl gate is installed in each worktree as its {event} hook ({path})")
        }
        HookSupport::CommandLine { .. } => {
            "brl gate runs as its PreToolUse hook, given on the command line above".to_string()
        }
        HookSupport::None { own_deny } => format!(
            "no safety gate for this agent{}",
            own_deny
                .map(|d| format!("; brl relies on {d} instead"))
                .unwrap_or_default()
        ),
    };
    let mut out = vec![format!("agent: {} — {gate}", agent.name())];
    let preset = AgentPreset::unchecked(agent, command);
    out.extend(
        preset
            .warnings(command)
            .into_iter()
            .filter(|w| !w.starts_with("no safety gate"))
            .map(|w| format!("warning: {w}")),
    );
    if let Err(e) = preset.check_command(command) {
        out.push(format!("warning: {e}"));
    }
    out
}

/// The PM2 ecosystem file `--pm2` writes, relative to the home.
const PM2_FILE: &str = "ecosystem.config.js";

fn write(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// Warnings about the target repo that do not stop init (the repo may be set up later).
/// The branch approvals should merge into: `main` if the repository has one, else the branch
/// its HEAD names (e.g. `master`), else `master` if it exists.
fn default_branch(repo: &Path) -> Option<String> {
    let r = git2::Repository::open(repo).ok()?;
    let has = |b: &str| r.find_branch(b, git2::BranchType::Local).is_ok();
    if has("main") {
        return Some("main".into());
    }
    let head = r.find_reference("HEAD").ok()?;
    if let Some(name) = head
        .symbolic_target()
        .and_then(|t| t.strip_prefix("refs/heads/"))
        .filter(|b| has(b))
    {
        return Some(name.to_string());
    }
    has("master").then(|| "master".to_string())
}

/// `s` as a TOML basic string.
fn toml_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn check_repo(home: &Home, repo: &Path) {
    match git2::Repository::open(repo) {
        Err(e) => println!(
            "warning: {} is not a git repository yet ({})",
            repo.display(),
            e.message()
        ),
        Ok(r) => {
            if default_branch(repo).is_none() {
                println!(
                    "warning: {} has no branch yet (no commit?); set `main` in brl.toml to the branch approvals merge into",
                    repo.display()
                );
            }
            if let Some(wd) = r.workdir()
                && let (Ok(wd), Ok(h)) = (wd.canonicalize(), home.root().canonicalize())
                && h.starts_with(&wd)
            {
                println!(
                    "warning: the home {} is inside the target repository's working tree; its worktrees/ and logs/ will show up there as untracked files. Put the home outside the repository, e.g. next to it.",
                    home.root().display()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_is_offered_as_a_commented_line_in_the_agent_table() {
        let toml = "repo = \"x\"\n[agent]\ncommand = \"c\"\ntimeout_secs = 1800\n\n[checks]\n";
        let out = offer_sandbox(toml);
        let i = out.find("# sandbox = \"bwrap\"\n").expect("offered");
        assert!(i > out.find("timeout_secs").expect("t") && i < out.find("[checks]").expect("c"));
        let c = crate::config::Config::parse(std::path::Path::new("/h/brl.toml"), &out);
        assert!(c.is_ok_and(|c| c.agent.sandbox == crate::agents::sandbox::Sandbox::None));
        let on = out.replace("# sandbox = ", "sandbox = ");
        let c =
            crate::config::Config::parse(std::path::Path::new("/h/brl.toml"), &on).expect("valid");
        assert_eq!(c.agent.sandbox, crate::agents::sandbox::Sandbox::Bwrap);
        assert_eq!(c.preset().sandbox(), crate::agents::sandbox::Sandbox::Bwrap);
    }

    #[test]
    fn agent_lines_say_the_gate_and_the_warnings() {
        let lines = agent_lines(PresetKind::Claude, "claude -p --output-format json");
        assert!(
            lines[0].starts_with("agent: claude — brl gate is installed"),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("warning: no --permission-mode")),
            "{lines:?}"
        );
        let lines = agent_lines(PresetKind::Claude, "claude -p --bare");
        assert!(lines.iter().any(|l| l.contains("`--bare`")), "{lines:?}");
        for k in [PresetKind::Opencode, PresetKind::Aider, PresetKind::Custom] {
            let lines = agent_lines(k, &k.default_command(&["make test"], "/b"));
            assert!(
                lines[0].contains("no safety gate for this agent"),
                "{lines:?}"
            );
            assert_eq!(
                lines.len(),
                1,
                "the preset's own command warns of nothing: {lines:?}"
            );
        }
        for k in [PresetKind::Claude, PresetKind::Codex, PresetKind::Gemini] {
            let lines = agent_lines(k, &k.default_command(&["make test"], "/b"));
            assert_eq!(lines.len(), 1, "{lines:?}");
            assert!(!lines[0].contains("no safety gate"), "{lines:?}");
        }
    }
}
