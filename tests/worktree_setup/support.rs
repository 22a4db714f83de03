//! What the `[worktree] setup` tests share: a world with a lockfile, the counting setup, brl's own
//! worktrees, and `ensure` called as a cycle would.

use std::path::{Path, PathBuf};

use brl::checks::setup::{self, SetupCtx, SetupError, SetupRun};
use brl::config::Config;
use brl::defaults::toml_string;
use brl::git::Target;
use brl::home::Home;

use crate::common::{World, git};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A world (tests/common) plus a lockfile `deps.lock` committed on main, and the file the setup
/// counts its runs in.
pub struct Bed {
    pub w: World,
    pub count: PathBuf,
}

impl Bed {
    pub fn new() -> Bed {
        let w = World::new(2);
        std::fs::write(w.repo.join("deps.lock"), "left-pad 1.0.0\n").expect("write");
        git(&w.repo, &["add", "deps.lock"]);
        git(&w.repo, &["commit", "-q", "-m", "a lockfile"]);
        let count = w.dir.path().join("setup-count");
        Bed { w, count }
    }

    /// The command that runs the counting setup in `mode`.
    pub fn command(&self, mode: &str) -> String {
        let script = Path::new(ROOT).join("tests/fixtures/setup/counting_setup.sh");
        format!(
            "sh '{}' '{}' {mode}",
            script.display(),
            self.count.display()
        )
    }

    /// A config whose `[worktree]` section is `section`.
    pub fn config(&self, section: &str) -> Config {
        config_for(&self.w.repo, &self.w.home, section)
    }

    /// A `[worktree]` section running the setup in `mode`, keyed by deps.lock.
    pub fn section(&self, mode: &str) -> String {
        format!(
            "setup = {}\nsetup_inputs = [\"deps.lock\"]\n",
            toml_string(&self.command(mode))
        )
    }

    pub fn runs(&self) -> usize {
        std::fs::read_to_string(&self.count)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    pub fn home(&self) -> Home {
        Home::new(&self.w.home)
    }

    pub fn target(&self) -> Target {
        Target::open(&self.w.repo, "main").expect("open target")
    }

    /// Session `session`'s worktree at its branch's tip, as a cycle's Read phase makes it.
    pub fn worktree(&self, session: &str) -> PathBuf {
        worktree_of(&self.home(), &self.target(), session)
    }

    pub fn ensure(&self, config: &Config, session: &str) -> Result<SetupRun, SetupError> {
        ensure_in(
            &self.home(),
            config,
            &self.home().worktree(session),
            session,
        )
    }
}

pub fn config_for(repo: &Path, home: &Path, section: &str) -> Config {
    let text = format!(
        "repo = {}\n\n[agent]\ncommand = \"claude -p\"\n\n[worktree]\n{section}",
        toml_string(&repo.display().to_string())
    );
    Config::parse(&home.join("brl.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

pub fn worktree_of(home: &Home, target: &Target, session: &str) -> PathBuf {
    let branch = format!("brl/{session}/work");
    if !target.branch_exists(&branch) {
        let main = target.main_commit().expect("main");
        target.create_branch(&branch, main).expect("branch");
    }
    let path = home.worktree(session);
    target
        .ensure_worktree(&home.worktree_name(session), &path, &branch)
        .expect("worktree");
    path
}

pub fn ensure_in(
    home: &Home,
    config: &Config,
    worktree: &Path,
    session: &str,
) -> Result<SetupRun, SetupError> {
    let prefix = home.session_logs_dir(session).join("cycle");
    setup::ensure(&SetupCtx {
        home,
        config,
        worktree,
        session: Some(session),
        log_prefix: &prefix,
        cancel: None,
        pgid_file: None,
    })
}

pub fn is_ran(r: &SetupRun) -> bool {
    matches!(r, SetupRun::Ran { .. })
}
