//! `brl init`: a commented brl.toml and the default prompts/, skills/, layouts/ in the home; with
//! `--pm2` also `ecosystem.config.js`. Existing files are kept unless `--force`, so `init --pm2`
//! on a home that is already set up adds only the ecosystem file.

use std::path::Path;

use anyhow::Context;

use crate::defaults::{self, Preset};
use crate::home::Home;

pub fn run(
    home: &Home,
    repo: &Option<std::path::PathBuf>,
    preset: Preset,
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
    let mut files: Vec<(String, String)> =
        vec![("brl.toml".into(), defaults::config_toml(&repo_text, preset))];
    files.extend(
        defaults::FILES
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string())),
    );
    files.push(("logs/.gitkeep".into(), String::new()));
    if pm2 {
        let exe = std::env::current_exe()
            .context("cannot find the brl executable for the PM2 ecosystem file")?;
        files.push((PM2_FILE.into(), defaults::pm2_ecosystem(home.root(), &exe)));
    }
    let mut skipped = 0;
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
        println!("wrote    {}", path.display());
        wrote_config |= rel == "brl.toml";
        wrote_pm2 |= rel == PM2_FILE;
    }
    if skipped > 0 {
        println!("{skipped} existing file(s) left as they were");
    }
    match home.load_config() {
        Ok(config) => {
            for line in super::control::where_lines(&config) {
                println!("{line}");
            }
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

/// The PM2 ecosystem file `--pm2` writes, relative to the home.
const PM2_FILE: &str = "ecosystem.config.js";

fn write(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// Warnings about the target repo that do not stop init (the repo may be set up later).
fn check_repo(home: &Home, repo: &Path) {
    match git2::Repository::open(repo) {
        Err(e) => println!(
            "warning: {} is not a git repository yet ({})",
            repo.display(),
            e.message()
        ),
        Ok(r) => {
            if r.find_branch("main", git2::BranchType::Local).is_err() {
                println!(
                    "warning: {} has no branch `main`; set `main` in brl.toml to the branch approvals merge into",
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
