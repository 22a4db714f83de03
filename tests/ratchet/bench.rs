//! A home whose target repository is a small real project (copied from
//! `tests/fixtures/projects/<kind>/`), checked by real tools: the toolchain's PATH goes to every
//! `brl` this bench runs (the checks inherit it), and cargo builds into a target dir shared by the
//! bench's cycles, outside the repository.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{World, git};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

pub struct Bench {
    pub w: World,
    /// PATH for `brl` and everything it starts.
    pub path: String,
    checks: String,
}

/// Copy the files of `from` into `to`, recursively.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read fixture dir").flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy fixture file");
        }
    }
}

impl Bench {
    /// A target repo holding the fixture project `kind` (one commit on main) and a home with
    /// one session checked by `checks` (the `[checks.typecheck]` / `[checks.test]` tables).
    pub fn new(kind: &str, checks: &str, path: String) -> Bench {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("app");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("mkdir");
        copy_tree(
            &Path::new(ROOT).join("tests/fixtures/projects").join(kind),
            &repo,
        );
        Self::commit_initial(&repo);
        let b = Bench {
            w: World { dir, repo, home },
            path,
            checks: checks.to_string(),
        };
        b.set_agent("true");
        b
    }

    /// A bench over a project whose files the test wrote into `repo` itself.
    pub fn over(w: World, checks: &str, path: String) -> Bench {
        Self::commit_initial(&w.repo);
        let b = Bench {
            w,
            path,
            checks: checks.to_string(),
        };
        b.set_agent("true");
        b
    }

    fn commit_initial(repo: &Path) {
        git(repo, &["init", "-q", "-b", "main"]);
        git(repo, &["config", "user.name", "Test"]);
        git(repo, &["config", "user.email", "test@example.invalid"]);
        git(repo, &["add", "-A"]);
        git(repo, &["commit", "-q", "-m", "initial"]);
    }

    /// The shared cargo target dir (outside the repository).
    pub fn cargo_target(&self) -> PathBuf {
        self.w.dir.path().join("cargo-target")
    }

    /// Write brl.toml with `agent` as `[agent] command`. The checks (and so the cached baseline)
    /// stay the same from one agent to the next.
    pub fn set_agent(&self, agent: &str) {
        let text = format!(
            r#"repo = "{repo}"
main = "main"
sessions = 1

[agent]
command = "{agent}"
timeout_secs = 120

[checks]
max_parallel_typechecks = 1
timeout_secs = 300

{checks}

[worker]
pause_secs = 1
max_backoff_secs = 2
"#,
            repo = self.w.repo.display(),
            agent = agent.replace('\\', "\\\\").replace('"', "\\\""),
            checks = self.checks,
        );
        std::fs::write(self.w.home.join("brl.toml"), text).expect("write brl.toml");
    }

    /// `brl --home <home> args…` with this bench's PATH and cargo target dir.
    pub fn brl(&self) -> assert_cmd::Command {
        let mut c = self.w.brl();
        c.env("PATH", &self.path)
            .env("CARGO_TARGET_DIR", self.cargo_target())
            .env_remove("RUST_BACKTRACE");
        c
    }

    /// `brl worker s1` in the background with `path` as its PATH, its output in `worker.log`.
    pub fn spawn_worker(&self, path: &str) -> std::process::Child {
        let log = std::fs::File::create(self.w.dir.path().join("worker.log")).expect("log");
        self.w
            .spawnable()
            .args(["worker", "s1"])
            .env("PATH", path)
            .env("CARGO_TARGET_DIR", self.cargo_target())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn brl worker")
    }

    /// The worker's output so far.
    pub fn worker_log(&self) -> String {
        std::fs::read_to_string(self.w.dir.path().join("worker.log")).unwrap_or_default()
    }

    /// Run `brl args…`: (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_with_path(&self.path, args)
    }

    /// [`Bench::run`] with `path` as PATH.
    pub fn run_with_path(&self, path: &str, args: &[&str]) -> (i32, String, String) {
        use std::os::unix::process::ExitStatusExt;
        let out = self
            .brl()
            .env("PATH", path)
            .args(args)
            .output()
            .expect("brl runs");
        (
            out.status.code().unwrap_or_else(|| {
                eprintln!(
                    "brl {args:?} was killed by signal {:?}",
                    out.status.signal()
                );
                -1
            }),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// One `brl cycle s1` with `agent`; its `ralph_cycle` entry.
    pub fn cycle(&self, agent: &str) -> Value {
        self.set_agent(agent);
        let n = self.w.cycles().len();
        let (code, out, err) = self.run(&["cycle", "s1", "--quiet"]);
        assert_eq!(code, 0, "brl cycle with `{agent}` failed:\n{out}\n{err}");
        let all = self.w.cycles();
        assert_eq!(all.len(), n + 1, "one new ralph_cycle entry:\n{out}\n{err}");
        all.last().cloned().expect("an entry")
    }

    /// The files the judged commit of `entry` changes against its base, sorted.
    pub fn judged_files(&self, entry: &Value) -> Vec<String> {
        let d = &entry["data"];
        let (Some(base), Some(head)) = (d["base"].as_str(), d["head"].as_str()) else {
            return vec![];
        };
        let mut v: Vec<String> = git(&self.w.repo, &["diff", "--name-only", base, head])
            .lines()
            .map(String::from)
            .collect();
        v.sort();
        v
    }

    /// Every path in the tree of commit `rev`.
    pub fn tree(&self, rev: &str) -> Vec<String> {
        git(&self.w.repo, &["ls-tree", "-r", "--name-only", rev])
            .lines()
            .map(String::from)
            .collect()
    }

    /// A path relative to the script directory `tests/agents/ratchet/`, as an agent command.
    pub fn agent(rel: &str) -> String {
        let p = Path::new(ROOT).join("tests/agents/ratchet").join(rel);
        format!("sh '{}'", p.display())
    }
}
