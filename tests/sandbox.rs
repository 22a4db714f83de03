//! `[agent] sandbox = "bwrap"` with real bubblewrap, real git and fake agents: an agent that tries
//! to delete, overwrite, move or read what lies outside its worktree (inline interpreters,
//! redirections, `cp`/`mv`, moving the user's `main`) fails at the OS, while its own commit in the
//! worktree is kept through an ordinary `brl cycle`; a timeout still kills the whole group.
//! Nothing is skipped: when bwrap cannot run here, every test fails with the reason.

mod common;
#[path = "common/fake_model/mod.rs"]
mod fake_model;
#[path = "sandbox/real_clis.rs"]
mod real_clis;
#[allow(dead_code)]
#[path = "real_agents/support.rs"]
mod support;

use std::path::Path;
use std::time::Duration;

use common::{World, agent, git};

/// bwrap must work here; otherwise the test fails saying why (never a silent skip).
fn require_bwrap() {
    if let Err(why) = brl::agents::sandbox::check_available() {
        panic!("the sandbox tests need a working bwrap (tests/deps.sh installs it): {why}");
    }
}

fn sandboxed_world(agent_script: &str, timeout: u64) -> World {
    require_bwrap();
    let w = World::new(1);
    let cmd = agent(agent_script);
    w.write_config(1, &cmd, timeout, "");
    // `[agent] sandbox` sits in the [agent] table, right after its timeout.
    let path = w.home.join("brl.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    let text = text.replacen(
        &format!("timeout_secs = {timeout}\n"),
        &format!("timeout_secs = {timeout}\nsandbox = \"bwrap\"\n"),
        1,
    );
    std::fs::write(&path, text).expect("write config");
    w
}

#[test]
fn a_hostile_agent_cannot_touch_anything_outside_its_worktree() {
    let w = sandboxed_world("sandbox-hostile.sh", 60);
    // A victim outside the worktree and outside /tmp (the sandbox's /tmp is private anyway).
    // /var/tmp: outside /tmp wherever the clone and its target dir are (CI may clone into /tmp).
    let victim = tempfile::Builder::new()
        .prefix("brl-sandbox-victim")
        .tempdir_in("/var/tmp")
        .expect("victim dir in /var/tmp");
    std::fs::write(victim.path().join("keep.txt"), "precious\n").expect("write");
    // A fake $HOME with a secret, and a `.env` in the user's checkout.
    let user_home = w.dir.path().join("user");
    std::fs::create_dir_all(user_home.join(".ssh")).expect("mkdir");
    std::fs::write(user_home.join(".ssh/id_test"), "SECRET-KEY-1\n").expect("write");
    std::fs::write(w.repo.join(".env"), "API_TOKEN=SECRET-ENV-2\n").expect("write");
    std::fs::write(w.repo.join(".git/info/exclude"), ".env\n").expect("write");
    let main_before = git(&w.repo, &["rev-parse", "main"]);
    let files_before = files(&w.repo);
    let snap = w.snapshot();

    let out = w
        .brl()
        .args(["cycle", "s1", "--quiet"])
        .env("HOME", &user_home)
        .env("VICTIM_DIR", victim.path())
        .env("VICTIM_REPO", &w.repo)
        .output()
        .expect("brl runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "brl cycle failed: {stderr}");

    let attempts =
        std::fs::read_to_string(w.home.join("logs/sandbox-attempts.txt")).expect("the agent ran");
    assert!(attempts.contains("attempts done"), "{attempts}");
    assert!(
        !attempts.contains("ALLOWED"),
        "an attempt got through:\n{attempts}"
    );
    assert_eq!(attempts.matches("refused:").count(), 16, "{attempts}");
    assert!(attempts.contains("Read-only file system"), "{attempts}");
    for secret in ["SECRET-KEY-1", "SECRET-ENV-2"] {
        assert!(
            !attempts.contains(secret),
            "{secret} was readable:\n{attempts}"
        );
    }

    // Outside the worktree: intact.
    let keep = std::fs::read_to_string(victim.path().join("keep.txt")).expect("victim kept");
    assert_eq!(keep, "precious\n");
    assert!(!victim.path().join("moved.txt").exists());
    assert_eq!(
        git(&w.repo, &["rev-parse", "main"]),
        main_before,
        "main moved"
    );
    assert_eq!(files(&w.repo), files_before, "the user's checkout changed");
    assert_eq!(w.snapshot(), snap);

    // The cycle is judged as usual, and the worktree's commit is kept on its branch.
    let e = w.cycles().pop().expect("a ralph_cycle entry");
    assert_eq!(e["data"]["outcome"], "kept", "{e}");
    assert_eq!(e["data"]["reason"], "errors 2 → 1", "{e}");
    let branch = e["data"]["branch"].as_str().expect("branch");
    let f1 = git(&w.repo, &["show", &format!("{branch}:f1.txt")]);
    assert!(f1.contains("fixed one"), "{f1}");
    assert_eq!(w.queue().len(), 1, "the kept branch is queued");
}

/// Every file at the top of the checkout with its contents.
fn files(repo: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(repo).expect("read repo") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_file() {
            let name = e.file_name().to_string_lossy().into_owned();
            out.push((name, std::fs::read_to_string(e.path()).unwrap_or_default()));
        }
    }
    out.sort();
    out
}

#[test]
fn a_timeout_kills_the_whole_sandboxed_group() {
    let w = sandboxed_world("sandbox-hang.sh", 2);
    // A sleep length no other process on the machine uses, to find the agent's in /proc.
    let secs = (3_000_000 + std::process::id() % 1_000_000).to_string();
    let out = w
        .brl()
        .args(["cycle", "s1", "--quiet"])
        .env("HANG_SECS", &secs)
        .output()
        .expect("brl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e = w.cycles().pop().expect("a ralph_cycle entry");
    assert_eq!(e["data"]["outcome"], "timeout", "{e}");
    for f in ["hang-leader.pid", "hang-child.pid"] {
        let text = std::fs::read_to_string(w.home.join("logs").join(f)).expect("pid file");
        // inside its own PID namespace the agent's shell is a low pid (bwrap's init is 1)
        let pid: u32 = text.trim().parse().expect("a pid");
        assert!(
            pid < 100,
            "{f}: {pid} is not a pid of a fresh PID namespace"
        );
    }
    let mut left = Vec::new();
    for _ in 0..50 {
        left = sleepers(&secs);
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        left.is_empty(),
        "the agent's sleeps outlived its cycle: {left:?}"
    );
}

/// Host pids of `sleep <secs>` processes.
fn sleepers(secs: &str) -> Vec<u32> {
    let want = format!("sleep\0{secs}\0");
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c) == want)
        })
        .collect()
}

/// `sandbox = "bwrap"` on a machine without bwrap: the cycle stops with an error naming the
/// package and the fix (in its summary and its log entry), and the agent never runs unconfined.
#[test]
fn without_bwrap_the_cycle_says_which_package_to_install() {
    let w = sandboxed_world("fix_one.sh", 20);
    // A PATH with what brl and the checks need, but no bwrap.
    let bin = w.dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    for tool in ["git", "sh", "cat", "sed", "env", "grep", "sort"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").expect("PATH"))
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{tool} on PATH"));
        std::os::unix::fs::symlink(found, bin.join(tool)).expect("symlink");
    }
    let main_before = git(&w.repo, &["rev-parse", "main"]);
    let out = w
        .brl()
        .args(["cycle", "s1", "--quiet"])
        .env("PATH", &bin)
        .output()
        .expect("brl runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "a cycle that errs is recorded: {stderr}"
    );
    let e = w.cycles().pop().expect("a ralph_cycle entry");
    assert_eq!(e["data"]["outcome"], "error", "{e}");
    let reason = e["data"]["reason"].as_str().unwrap_or_default();
    for said in [reason, &stdout] {
        assert!(
            said.contains("`bubblewrap` package"),
            "names the package: {said}"
        );
        assert!(
            said.contains("sandbox = \"none\""),
            "and the other fix: {said}"
        );
    }
    assert!(
        !w.home.join("prompt-s1.txt").exists(),
        "the agent never ran unconfined"
    );
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main_before);
    // `brl status` warns before any cycle does; with bwrap there, it says the sandbox is on.
    let out = w
        .brl()
        .arg("status")
        .env("PATH", &bin)
        .output()
        .expect("brl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("`bwrap` is not on PATH") && text.contains("bubblewrap"),
        "{text}"
    );
    let (_, text, _) = w.run(&["status"]);
    assert!(text.contains("sandbox: bwrap"), "{text}");
    assert!(!text.contains("not on PATH"), "{text}");
}
