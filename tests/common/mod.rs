//! Shared set-up for the integration tests: a real target repository in a temp dir, a home that
//! points at it, and the `brl` binary. Fake agents are the shell scripts in `tests/agents/`.
#![allow(dead_code)]

pub mod http;
pub mod room;
pub mod sshd;

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct World {
    pub dir: tempfile::TempDir,
    pub repo: PathBuf,
    pub home: PathBuf,
}

/// Run git in `dir`, panicking with its output on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The path of a fake agent script.
pub fn agent(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/agents")
        .join(name);
    format!("sh '{}'", p.display())
}

impl World {
    /// A target repo whose "type check" counts `ERR` lines in f*.txt and whose "tests" count
    /// FAIL/PASS lines in tests.txt; `sessions` files f1..fN with 2 errors each.
    pub fn new(sessions: usize) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("app");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&repo).expect("mkdir");
        std::fs::create_dir_all(&home).expect("mkdir");
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["config", "user.name", "Test"]);
        git(&repo, &["config", "user.email", "test@example.invalid"]);
        for i in 1..=sessions {
            std::fs::write(
                repo.join(format!("f{i}.txt")),
                "ok line\nERR one\nERR two\n",
            )
            .expect("write");
        }
        std::fs::write(repo.join("tests.txt"), "PASS a\nPASS b\nFAIL c\n").expect("write");
        std::fs::write(repo.join("AGENTS.md"), "Context: fix ERR lines.\n").expect("write");
        std::fs::write(repo.join(".gitignore"), "ignored/\n").expect("write");
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "initial"]);
        let w = World { dir, repo, home };
        w.write_config(sessions, &agent("fix_one.sh"), 20, "");
        w
    }

    pub fn write_config(&self, sessions: usize, agent_cmd: &str, timeout: u64, extra: &str) {
        let text = format!(
            r#"repo = "{repo}"
main = "main"
sessions = {sessions}
context_file = "AGENTS.md"

[agent]
command = "{agent}"
timeout_secs = {timeout}

[checks]
max_parallel_typechecks = 2
timeout_secs = 30

[checks.typecheck]
command = "cat f*.txt"
parser = "regex"
errors = "^ERR"

[checks.test]
command = "cat tests.txt"
parser = "regex"
failures = "^FAIL"
passed = "^PASS"

[worker]
pause_secs = 1
max_backoff_secs = 2
{extra}"#,
            repo = self.repo.display(),
            agent = agent_cmd.replace('\\', "\\\\").replace('"', "\\\""),
        );
        std::fs::write(self.home.join("brl.toml"), text).expect("write config");
    }

    pub fn brl(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::cargo_bin("brl").expect("binary");
        c.arg("--home").arg(&self.home).env_remove("BRL_HOME");
        c
    }

    /// `brl --home <home>` as a std Command, for tests that spawn it and keep it running.
    pub fn spawnable(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("brl"));
        c.arg("--home").arg(&self.home).env_remove("BRL_HOME");
        c
    }

    /// `brl worker <session>` running in the background, its output discarded.
    pub fn spawn_worker(&self, session: &str) -> std::process::Child {
        self.spawnable()
            .args(["worker", session])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn worker")
    }

    /// Grant session `session` one cycle, as the control room's scheduler does; with `task`, the
    /// oldest ready task is claimed for it first. Returns the task's id.
    pub fn grant(&self, session: &str, task: bool) -> Option<u64> {
        let home = brl::home::Home::new(&self.home);
        let task = task
            .then(|| {
                brl::store::tasks::Tasks::new(&home.tasks_path())
                    .claim(session)
                    .expect("claim")
            })
            .flatten()
            .map(|t| brl::store::control::GrantTask {
                id: t.id,
                title: t.title,
                body: t.body,
            });
        let id = task.as_ref().map(|t| t.id);
        brl::store::control::SessionControl::new(&home, session)
            .grant(task)
            .expect("grant")
            .expect("the session held no grant");
        id
    }

    /// Neither process of `tests/agents/hang.sh` (the leader and its background child) runs.
    pub fn assert_hang_agent_gone(&self) {
        for f in ["hang-leader.pid", "hang-child.pid"] {
            let text = std::fs::read_to_string(self.home.join(f)).expect("pid file");
            let pid: i32 = text.trim().parse().expect("a pid");
            assert!(
                !brl::proc::is_running(pid),
                "{f} ({pid}) outlived its cycle"
            );
        }
    }

    /// Run `brl args…`, returning (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.brl().args(args).output().expect("brl runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The `ralph_cycle` entries in the log, as JSON values.
    pub fn cycles(&self) -> Vec<serde_json::Value> {
        self.entries("ralph_cycle")
    }

    /// The log's entries of type `kind`, as JSON values.
    pub fn entries(&self, kind: &str) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.home.join("logs/experiment-log.jsonl"))
            .unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["type"] == kind)
            .collect()
    }

    pub fn queue(&self) -> Vec<serde_json::Value> {
        let (code, out, err) = self.run(&["queue", "list", "--json"]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).expect("queue json")
    }

    pub fn branches(&self) -> Vec<String> {
        git(
            &self.repo,
            &["branch", "--list", "brl/*", "--format=%(refname:short)"],
        )
        .lines()
        .map(String::from)
        .collect()
    }

    /// The target repo's state that brl must never touch: HEAD, status, working files.
    pub fn snapshot(&self) -> (String, String, String) {
        (
            git(&self.repo, &["rev-parse", "--abbrev-ref", "HEAD"]),
            git(&self.repo, &["status", "--porcelain"]),
            std::fs::read_to_string(self.repo.join("f1.txt")).unwrap_or_default(),
        )
    }
}
