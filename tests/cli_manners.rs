//! The command line behaves like a Unix tool: a mistyped home is an error naming it, and a
//! reader that closes the pipe early (`| head -1`) ends brl quietly, never with a panic.

mod common;

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use common::World;

#[test]
fn a_home_without_brl_toml_is_an_error_naming_it() {
    let w = World::new(1);
    let missing = w.dir.path().join("no-such-home");
    for args in [
        &["log"][..],
        &["task", "list"],
        &["queue", "list"],
        &["status"],
    ] {
        let out = assert_cmd::Command::cargo_bin("brl")
            .expect("binary")
            .arg("--home")
            .arg(&missing)
            .args(args)
            .env_remove("BRL_HOME")
            .output()
            .expect("run brl");
        assert!(!out.status.success(), "{args:?} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("no brl.toml in {}", missing.display())),
            "{args:?}: {err}"
        );
        assert!(!missing.exists(), "{args:?} created the mistyped home");
    }
}

#[test]
fn a_closed_pipe_ends_brl_quietly() {
    let w = World::new(1);
    for i in 0..400 {
        w.brl()
            .args(["emit", "note", "--data", &format!("{{\"n\":{i}}}")])
            .assert()
            .success();
    }
    for args in [
        &["log", "-n", "400"][..],
        &["log", "-n", "400", "--json"],
        &["status", "--json"],
        &["queue", "list"],
    ] {
        let mut child = w
            .spawnable()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn brl");
        // The reader goes away before brl writes: every write hits a closed pipe.
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("read stderr");
        let status = child.wait().expect("wait");
        assert!(
            status.success() || status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {status:?} {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn init_finds_the_default_branch_warns_of_missing_tools_and_says_what_next() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).expect("mkdir");
    common::git(&repo, &["init", "-q", "-b", "master"]);
    std::fs::write(repo.join("a.py"), "x = 1\n").expect("write");
    common::git(&repo, &["add", "-A"]);
    common::git(&repo, &["commit", "-q", "-m", "initial"]);
    let home = dir.path().join("home");
    // A PATH with the shell and git but not mypy.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    for tool in ["sh", "git"] {
        let found = std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .expect("command -v");
        let path = String::from_utf8_lossy(&found.stdout).trim().to_string();
        std::os::unix::fs::symlink(path, bin.join(tool)).expect("link");
    }
    let out = assert_cmd::Command::cargo_bin("brl")
        .expect("binary")
        .arg("--home")
        .arg(&home)
        .args(["init", "--preset", "python", "--agent", "custom", "--repo"])
        .arg(&repo)
        .env("PATH", &bin)
        .env_remove("BRL_HOME")
        .output()
        .expect("run init");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let toml = std::fs::read_to_string(home.join("brl.toml")).expect("brl.toml");
    assert!(toml.contains("main = \"master\""), "{toml}");
    assert!(
        text.contains("warning: [checks.typecheck] `mypy .`: `mypy` is not on PATH"),
        "{text}"
    );
    assert!(
        text.contains("checks   # the checks once on main"),
        "{text}"
    );
    assert_eq!(
        text.matches("\nwrote ").count() + usize::from(text.starts_with("wrote ")),
        2,
        "{text}"
    );
}

#[test]
fn a_task_title_with_an_escape_sequence_is_refused() {
    let w = World::new(1);
    let out = w
        .brl()
        .args(["task", "add", "\u{1b}[2J\u{1b}]0;pwned\u{7}hello"])
        .output()
        .expect("run brl");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("an escape character (ESC) at character 1"),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "the error itself is safe to print: {err:?}"
    );
}
