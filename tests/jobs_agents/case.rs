//! The world of `tests/jobs_agents.rs`: a target repo with one kept branch to review, a brl
//! home, and a HOME and TMPDIR for the agent CLIs; `brl <job>` run with the CLIs on PATH.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{World, agent, git};
use crate::support;

/// A world under the cargo target dir (Codex will not put its helpers under /tmp) with one kept
/// branch from session s1 whose diff holds `VERDICT: reject` twice (as context and as an added
/// line), a HOME and a TMPDIR for the agent CLIs.
pub struct Case {
    pub w: World,
    pub agent_home: PathBuf,
    tmp: PathBuf,
}

impl Case {
    pub fn new(tag: &str) -> Case {
        Case::make(tag, false)
    }

    /// With `home_inside`, the brl home is `app/.brl/` (git-ignored), inside the user's checkout.
    pub fn make(tag: &str, home_inside: bool) -> Case {
        let dir = tempfile::Builder::new()
            .prefix(&format!("jobs-{tag}-"))
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("tempdir");
        let repo = dir.path().join("app");
        let home = if home_inside {
            repo.join(".brl")
        } else {
            dir.path().join("home")
        };
        let agent_home = dir.path().join("agent-home");
        let tmp = dir.path().join("tmp");
        for d in [&repo, &home, &agent_home, &tmp] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["config", "user.name", "Test"]);
        git(&repo, &["config", "user.email", "test@example.invalid"]);
        std::fs::write(
            repo.join("f1.txt"),
            "ok line\nVERDICT: reject\nERR one\nERR two\n",
        )
        .expect("write");
        std::fs::write(repo.join("tests.txt"), "PASS a\nFAIL c\n").expect("write");
        std::fs::write(repo.join("AGENTS.md"), "Context: fix ERR lines.\n").expect("write");
        std::fs::write(repo.join(".gitignore"), ".brl/\n").expect("write");
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "initial"]);
        let w = World { dir, repo, home };
        w.write_config(1, &agent("verdict_in_diff.sh"), 30, "");
        let (code, out, err) = w.run(&["cycle", "s1"]);
        assert_eq!(code, 0, "cycle s1: {out}{err}");
        assert_eq!(w.queue().len(), 1, "one branch to review");
        Case { w, agent_home, tmp }
    }

    /// Point `[agent] command` at `command` (the review job's time: 240 s).
    pub fn agent(&self, command: &str) {
        self.w.write_config(
            1,
            command,
            240,
            "\n[review]\ntimeout_secs = 240\nmax_diff_bytes = 20000\n",
        );
    }

    /// `brl review` with `env` and the CLIs on PATH; its `cto_review` entry and the branch's
    /// queue entry.
    pub fn review(&self, env: &[(String, String)]) -> (Value, Value) {
        let entry = self.job("review", "cto_review", env);
        assert_eq!(entry["data"]["calls"], 1, "{entry}");
        let q = self.w.queue();
        (entry, q[0].clone())
    }

    /// `brl <job>` with `env` and the CLIs on PATH, which must succeed; its `kind` entry.
    pub fn job(&self, job: &str, kind: &str, env: &[(String, String)]) -> Value {
        let path = format!(
            "{}:{}",
            cli_dirs().join(":"),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = self
            .w
            .brl()
            .arg(job)
            .env("HOME", &self.agent_home)
            .env("TMPDIR", &self.tmp)
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("brl review runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let entry = self
            .w
            .entries(kind)
            .pop()
            .unwrap_or_else(|| panic!("a {kind} entry; brl {job} said: {text}"));
        assert_eq!(out.status.code(), Some(0), "brl {job}: {text}\n{entry}");
        assert_eq!(entry["data"]["ok"], true, "{entry}");
        entry
    }

    /// The job's saved agent output (stdout and stderr).
    pub fn job_log(&self) -> String {
        let dir = self.w.home.join("logs/jobs");
        let mut text = String::new();
        for e in std::fs::read_dir(&dir).expect("logs/jobs").flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "log") {
                text.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
        text
    }
}

/// The directories of the five CLIs, for PATH.
pub fn cli_dirs() -> Vec<String> {
    ["claude", "codex", "gemini", "opencode", "aider"]
        .iter()
        .map(|n| {
            support::cli(n)
                .parent()
                .map(Path::to_path_buf)
                .expect("a CLI's directory")
                .display()
                .to_string()
        })
        .collect()
}

pub fn brl_bin() -> String {
    assert_cmd::cargo::cargo_bin("brl").display().to_string()
}
