//! What the real-agent tests share: the CLIs (installed once per run by `tests/agent-clis.sh`
//! under a lock file), a temp git repo, a private HOME, a bounded run of a CLI with its output
//! captured, and the saving of captured outputs as fixtures.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Where each CLI is: `claude`, `codex`, `gemini`, `opencode`, `aider` → its binary (and
/// `opencode-config` → the plugin dir opencode wants in its config dir).
pub fn clis() -> &'static HashMap<String, PathBuf> {
    static CLIS: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    CLIS.get_or_init(install)
}

pub fn cli(name: &str) -> PathBuf {
    clis()
        .get(name)
        .unwrap_or_else(|| {
            panic!(
                "tests/agent-clis.sh printed no `{name}=` line: {:?}",
                clis()
            )
        })
        .clone()
}

/// Runs `tests/agent-clis.sh` once for this test run: other test processes wait on an exclusive
/// lock of `target/agent-clis.lock` (the script is idempotent, so a second run only checks).
fn install() -> HashMap<String, PathBuf> {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .to_path_buf();
    let lock_path = target.join("agent-clis.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("open {}: {e}", lock_path.display()));
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor we own; released when `lock` is dropped.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock {}", lock_path.display());
    let cache = target.join("agent-clis");
    let out = Command::new("bash")
        .arg(Path::new(ROOT).join("tests/agent-clis.sh"))
        .arg(&cache)
        .stderr(Stdio::inherit())
        .output()
        .expect("bash runs tests/agent-clis.sh");
    drop(lock);
    assert!(
        out.status.success(),
        "tests/agent-clis.sh failed ({}); its stderr is above",
        out.status
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let map: HashMap<String, PathBuf> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), PathBuf::from(v.trim())))
        .collect();
    assert_eq!(
        map.len(),
        6,
        "five CLIs and opencode-config expected from tests/agent-clis.sh: {text}"
    );
    map
}

/// A temp dir (under the cargo target dir, not /tmp: Codex refuses to put its helper binaries
/// under /tmp) with a git repo `repo/` holding `greeting.txt`, and an empty `home/`.
pub struct Place {
    pub dir: tempfile::TempDir,
    pub repo: PathBuf,
    pub home: PathBuf,
}

impl Place {
    pub fn new(tag: &str) -> Place {
        let dir = tempfile::Builder::new()
            .prefix(&format!("real-{tag}-"))
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("tempdir");
        let repo = dir.path().join("repo");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&repo).expect("mkdir repo");
        std::fs::create_dir_all(&home).expect("mkdir home");
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["config", "user.name", "Test"]);
        git(&repo, &["config", "user.email", "test@example.invalid"]);
        std::fs::write(repo.join("greeting.txt"), "hello world\n").expect("write");
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "init"]);
        Place { dir, repo, home }
    }

    /// Like [`Place::new`], but `repo` is a linked worktree (on branch `brl/test`) of a main
    /// repo beside it — where brl runs its agents.
    pub fn worktree(tag: &str) -> Place {
        let mut place = Place::new(tag);
        let main = place.dir.path().join("main");
        std::fs::rename(&place.repo, &main).expect("move the main repo");
        let wt = place.repo.display().to_string();
        git(&main, &["worktree", "add", "-q", "-b", "brl/test", &wt]);
        place.repo = PathBuf::from(wt);
        place
    }

    pub fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.repo.join(rel)).ok()
    }

    /// The repo path as the CLIs see it (canonical: no symlinks).
    pub fn repo_abs(&self) -> String {
        std::fs::canonicalize(&self.repo)
            .expect("canonical repo")
            .display()
            .to_string()
    }
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// What a CLI run gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    /// Whether the run was watched with strace, and every connection it tried to an address
    /// that is not loopback (an IP and port, e.g. a DNS server or a telemetry host).
    pub traced: bool,
    pub outside: Vec<String>,
    #[allow(dead_code)]
    pub secs: f64,
}

impl Run {
    /// The last line of stdout that is a JSON object (Claude's result, Gemini's `-o json`).
    pub fn json(&self) -> serde_json::Value {
        let trimmed = self.stdout.trim();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(trimmed) {
            return v;
        }
        self.jsonl()
            .into_iter()
            .last()
            .unwrap_or_else(|| panic!("no JSON on stdout: {self:#?}"))
    }

    /// Every stdout line that is JSON (Codex `--json`, opencode `--format json`).
    pub fn jsonl(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l.trim()).ok())
            .filter(|v: &serde_json::Value| v.is_object())
            .collect()
    }
}

/// A CLI run: a clean environment (PATH, HOME in the place, no keys of the machine) plus `env`,
/// in `cwd`, `stdin` fed when given, killed with its process group after `timeout`.
pub fn run(
    bin: &Path,
    args: &[&str],
    cwd: &Path,
    home: &Path,
    env: &[(String, String)],
    stdin: Option<&str>,
    timeout: Duration,
) -> Run {
    let out_path = home.join(format!("run-{}.stdout", unique()));
    let err_path = home.join(format!("run-{}.stderr", unique()));
    let stdout = std::fs::File::create(&out_path).expect("stdout file");
    let stderr = std::fs::File::create(&err_path).expect("stderr file");
    // A TMPDIR of its own, beside HOME (not above it: Codex will not put helpers in a temp dir).
    let tmp = home.with_file_name("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir tmp");
    // Under strace when the machine has it, to see every connection the CLI opens.
    let trace_path = home.join(format!("run-{}.connects", unique()));
    let traced = strace_works();
    let mut cmd = if traced {
        let mut c = Command::new("strace");
        c.args(["-f", "-qq", "-e", "trace=connect", "-o"])
            .arg(&trace_path)
            .arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("LANG", "C.UTF-8")
        .env("TERM", "dumb")
        .env("NO_COLOR", "1")
        .env("TMPDIR", &tmp)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let _ = pipe.write_all(text.as_bytes());
    }
    let pid = child.id() as i32;
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if start.elapsed() > timeout {
            timed_out = true;
            // SAFETY: signals the process group this test started (pgid = the child's pid).
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // The CLI may have left helpers behind in its group: end them too (ours, by group id).
    // SAFETY: as above; ESRCH when the group is already gone is fine.
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    let outside = if traced {
        outside_connects(&std::fs::read_to_string(&trace_path).unwrap_or_default())
    } else {
        Vec::new()
    };
    Run {
        traced,
        outside,
        code: status.and_then(|s| s.code()),
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        timed_out,
        secs: start.elapsed().as_secs_f64(),
    }
}

/// The run reached nothing but loopback (checked when strace is there to watch it).
pub fn assert_offline(run: &Run) {
    assert!(
        run.outside.is_empty(),
        "the CLI tried to connect beyond loopback: {:?}\n{run:#?}",
        run.outside
    );
    if !run.traced {
        eprintln!("(strace is missing or not allowed here: connections were not watched)");
    }
}

fn strace_works() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        Command::new("strace")
            .args([
                "-f",
                "-qq",
                "-e",
                "trace=connect",
                "-o",
                "/dev/null",
                "true",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// The non-loopback `connect()` targets in an strace log (AF_INET / AF_INET6).
fn outside_connects(trace: &str) -> Vec<String> {
    let re = regex::Regex::new(
        r#"sin_port=htons\((\d+)\), (?:sin_addr=inet_addr\("([^"]+)"\)|sin6_flowinfo=[^,]*, inet_pton\(AF_INET6, "([^"]+)")"#,
    )
    .expect("regex");
    let mut out: Vec<String> = re
        .captures_iter(trace)
        .filter_map(|c| {
            let port = c.get(1)?.as_str();
            let ip = c.get(2).or(c.get(3))?.as_str();
            let loopback = ip.starts_with("127.") || ip == "::1" || ip == "::ffff:127.0.0.1";
            (!loopback).then(|| format!("{ip}:{port}"))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// The text of every request body the fake model got, for "the prompt reached the model".
pub fn bodies(reqs: &[crate::fake_model::Recorded]) -> String {
    reqs.iter()
        .map(|r| r.body.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
