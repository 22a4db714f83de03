//! `brl hosts check` and `brl hosts setup` against real OpenSSH servers on loopback (two "hosts",
//! each its own sshd, port, keys and directory), a real control repository and the real `brl`
//! binary: a fresh host is reported with what it lacks, setup makes it ready (the binary, the clone
//! over git+ssh, the home), a second setup changes nothing, and a host whose sshd is down is
//! reported unreachable while the other one is still set up.

mod common;

use std::path::Path;
use std::time::Duration;

use brl::config::Config;
use brl::home::Home;
use brl::hosts::Ssh;
use common::sshd::Sshd;
use common::{World, git};

/// A control home with prompts/ and skills/ to copy, and `hosts` as its [[hosts]].
fn world_with_hosts(hosts: &[&Sshd]) -> World {
    let w = World::new(2);
    let extra: String = hosts.iter().map(|h| h.host_toml(2)).collect();
    w.write_config(2, &common::agent("no_change.sh"), 20, &extra);
    std::fs::create_dir_all(w.home.join("prompts")).expect("mkdir");
    std::fs::write(w.home.join("prompts/cycle.md"), "Fix one ERR line.\n").expect("write");
    std::fs::create_dir_all(w.home.join("skills/git")).expect("mkdir");
    std::fs::write(w.home.join("skills/git/SKILL.md"), "Commit small.\n").expect("write");
    w
}

/// The block of `host` in check/setup output (from its `host <name> (` line to the next).
fn block<'a>(out: &'a str, host: &str) -> &'a str {
    let head = format!("host {host} (");
    let start = out
        .find(&head)
        .unwrap_or_else(|| panic!("no block for {host}:\n{out}"));
    let rest = &out[start..];
    let end = rest[1..].find("\nhost ").map_or(rest.len(), |i| i + 2);
    &rest[..end]
}

fn mtime(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn setup_makes_fresh_hosts_ready_and_a_second_setup_changes_nothing() {
    let a = Sshd::start("a");
    let b = Sshd::start("b");
    let w = world_with_hosts(&[&a, &b]);

    let (code, out, err) = w.run(&["hosts", "list"]);
    assert_eq!(code, 0, "{err}");
    for h in [&a, &b] {
        assert!(
            out.contains(&format!("127.0.0.1:{}", h.port))
                && out.contains(&h.work_dir().display().to_string()),
            "{out}"
        );
    }

    // Fresh hosts: reachable, tmux and git there, but no brl, clone or home.
    let (code, out, err) = w.run(&["hosts", "check"]);
    assert_eq!(code, 1, "fresh hosts are not ready:\n{out}{err}");
    for h in ["a", "b"] {
        let b = block(&out, h);
        assert!(b.contains("NOT ready"), "{b}");
        for line in [
            "ok       tools  cat",
            "ok       ssh",
            "ok       tmux",
            "ok       git",
            "ok       agent",
        ] {
            assert!(b.contains(line), "{line}: {b}");
        }
        for what in ["brl", "repo", "home"] {
            let line = b
                .lines()
                .find(|l| l.trim_start().starts_with("missing") && l.contains(&format!(" {what} ")))
                .unwrap_or_else(|| panic!("no missing {what}:\n{b}"));
            assert!(line.contains("fix: brl hosts setup"), "{line}");
        }
    }
    assert!(!a.work_dir().join("bin").exists(), "check changes nothing");

    // Setup: everything is made, and check agrees.
    let (code, out, err) = w.run(&["hosts", "setup"]);
    assert_eq!(code, 0, "setup:\n{out}{err}");
    for h in ["a", "b"] {
        let b = block(&out, h);
        assert!(b.contains(": ready"), "{b}");
    }
    assert!(
        out.contains("host a: copied") && out.contains("host b: pushed `main`"),
        "{out}"
    );
    let (code, out, err) = w.run(&["hosts", "check"]);
    assert_eq!(code, 0, "after setup:\n{out}{err}");
    assert!(!out.contains("missing") && !out.contains("wrong"), "{out}");
    assert_eq!(
        out.matches("ok       ").count(),
        18,
        "9 ok lines per host:\n{out}"
    );

    let control_main = git(&w.repo, &["rev-parse", "main"]);
    for h in [&a, &b] {
        let d = h.work_dir();
        // The clone: main equals the control repo's, checked out, and takes pushes.
        assert_eq!(git(&d.join("repo"), &["rev-parse", "main"]), control_main);
        assert_eq!(
            git(&d.join("repo"), &["symbolic-ref", "HEAD"]),
            "refs/heads/main"
        );
        assert!(d.join("repo/f1.txt").is_file() && d.join("repo/tests.txt").is_file());
        assert_eq!(
            git(&d.join("repo"), &["config", "receive.denyCurrentBranch"]),
            "updateInstead"
        );
        // The home: a brl.toml brl accepts, naming the host's sessions, and the copied files.
        let c = Config::load(&d.join("home/brl.toml")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.host.as_deref(), Some(h.name.as_str()));
        assert_eq!(
            c.session_names(),
            [format!("{}-s1", h.name), format!("{}-s2", h.name)]
        );
        assert_eq!(c.repo_path(&d.join("home")), d.join("repo"));
        assert!(!c.server.enabled && c.hosts.is_empty());
        assert_eq!(c.agent.command, common::agent("no_change.sh"));
        assert_eq!(
            std::fs::read_to_string(d.join("home/skills/git/SKILL.md")).expect("skill"),
            "Commit small.\n"
        );
        assert!(d.join("home/prompts/cycle.md").is_file());
    }

    // The host's own brl, run over ssh in its home, reads that home and runs its checks on the
    // clone.
    let home = Home::new(&w.home);
    let ssh = Ssh::new(&home, &a.host_config(2));
    let d = a.work_dir().display().to_string();
    let out = ssh
        .run(
            &[
                &format!("{d}/bin/brl"),
                "--home",
                &format!("{d}/home"),
                "checks",
                "--json",
            ],
            None,
            Duration::from_secs(60),
        )
        .expect("ssh runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.ok(), "remote brl checks: {text}\n{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["main"], control_main.as_str(), "{text}");
    let checks = v["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 2, "{text}");
    assert!(
        checks
            .iter()
            .all(|c| c["output"].as_str().is_some_and(|o| o.starts_with(&d))),
        "the checks ran in the host's home: {text}"
    );
    let version = ssh
        .run(
            &[&format!("{d}/bin/brl"), "--version"],
            None,
            Duration::from_secs(20),
        )
        .expect("ssh runs");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("brl {}", env!("CARGO_PKG_VERSION"))
    );

    // A second setup changes nothing: nothing copied, pushed or written.
    let bin = a.work_dir().join("bin/brl");
    let toml = a.work_dir().join("home/brl.toml");
    let (bin_t, toml_t) = (mtime(&bin), mtime(&toml));
    let (code, out, err) = w.run(&["hosts", "setup"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("host a: already set up, nothing changed")
            && out.contains("host b: already set up, nothing changed"),
        "{out}"
    );
    assert_eq!((mtime(&bin), mtime(&toml)), (bin_t, toml_t));

    // main moves on the control host: check warns, setup pushes it, the clone follows.
    std::fs::write(w.repo.join("f1.txt"), "ok line\nERR one\n").expect("write");
    git(&w.repo, &["commit", "-qam", "fix one"]);
    let (code, out, _) = w.run(&["hosts", "check", "a"]);
    assert_eq!(code, 0, "a stale main is a warning:\n{out}");
    assert!(
        out.contains("warn     repo") && !out.contains("host b"),
        "{out}"
    );
    let (code, out, err) = w.run(&["hosts", "setup", "a"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("host a: pushed `main`"), "{out}");
    assert_eq!(
        git(&a.work_dir().join("repo"), &["rev-parse", "main"]),
        git(&w.repo, &["rev-parse", "main"])
    );
    assert_eq!(
        std::fs::read_to_string(a.work_dir().join("repo/f1.txt")).expect("read"),
        "ok line\nERR one\n",
        "the checked-out tree follows the push"
    );

    // The control home's brl.toml changes: check says the hosts' no longer match, setup rewrites
    // them (and pushes b's stale main), and they carry the change.
    let cfg = w.home.join("brl.toml");
    let text = std::fs::read_to_string(&cfg).expect("read");
    std::fs::write(
        &cfg,
        text.replacen("timeout_secs = 20", "timeout_secs = 25", 1),
    )
    .expect("write");
    let (code, out, _) = w.run(&["hosts", "check"]);
    assert_eq!(code, 1, "{out}");
    for h in ["a", "b"] {
        assert!(block(&out, h).contains("wrong    home"), "{out}");
    }
    let (code, out, err) = w.run(&["hosts", "setup"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("host a: wrote") && out.contains("host b: wrote"),
        "{out}"
    );
    assert!(
        out.contains("host b: pushed `main`") && !out.contains("host a: pushed"),
        "{out}"
    );
    let c = Config::load(&b.work_dir().join("home/brl.toml")).expect("loads");
    assert_eq!(c.agent.timeout_secs.get(), 25);
    assert_eq!(w.run(&["hosts", "check"]).0, 0);

    // Every setup of every host is in the log with what it did.
    let entries = w.entries("host_setup");
    assert_eq!(entries.len(), 7, "{entries:?}");
    assert!(
        entries.iter().all(|e| e["data"]["ready"] == true),
        "{entries:?}"
    );
    assert!(
        entries[0]["data"]["did"]
            .as_array()
            .is_some_and(|d| d.len() >= 3),
        "{entries:?}"
    );
    assert_eq!(entries[2]["data"]["did"], serde_json::json!([]));

    let (code, _, err) = w.run(&["hosts", "check", "nosuch"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("no host `nosuch`") && err.contains("`a`, `b`"),
        "{err}"
    );

    ssh.close();
    Ssh::new(&home, &b.host_config(2)).close();
}

#[test]
fn an_unreachable_host_is_reported_and_the_other_still_set_up() {
    let a = Sshd::start("a");
    let mut c = Sshd::start("c");
    let w = world_with_hosts(&[&a, &c]);
    c.pause();

    let (code, out, err) = w.run(&["hosts", "setup"]);
    assert_eq!(code, 1, "one host is down:\n{out}{err}");
    let cb = block(&out, "c");
    assert!(
        cb.contains("missing  ssh    unreachable:") && cb.contains("fix: check that `ssh -p"),
        "{cb}"
    );
    assert!(out.contains("host c: FAILED unreachable"), "{out}");
    assert!(block(&out, "a").contains(": ready"), "{out}");
    assert!(a.work_dir().join("bin/brl").is_file());
    assert!(!c.work_dir().exists(), "nothing reached c");

    let (code, out, _) = w.run(&["hosts", "check"]);
    assert_eq!(code, 1);
    assert!(block(&out, "a").contains(": ready"), "{out}");
    assert!(block(&out, "c").contains("unreachable"), "{out}");

    let entries = w.entries("host_setup");
    let of = |h: &str| {
        entries
            .iter()
            .find(|e| e["data"]["host"] == h)
            .cloned()
            .unwrap_or_else(|| panic!("no host_setup of {h}: {entries:?}"))
    };
    assert_eq!(of("a")["data"]["ready"], true);
    assert_eq!(of("c")["data"]["ready"], false);
    assert!(
        of("c")["data"]["failed"][0]
            .as_str()
            .is_some_and(|f| f.contains("unreachable")),
        "{entries:?}"
    );

    // Back up: setup finishes the job.
    c.resume();
    let (code, out, err) = w.run(&["hosts", "setup", "c"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(block(&out, "c").contains(": ready"), "{out}");

    let home = Home::new(&w.home);
    Ssh::new(&home, &a.host_config(2)).close();
    Ssh::new(&home, &c.host_config(2)).close();
}

#[test]
fn a_bad_key_in_hosts_names_the_table_and_line() {
    let w = World::new(1);
    w.write_config(
        1,
        &common::agent("no_change.sh"),
        20,
        "\n[[hosts]]\nname = \"a\"\nssh = \"me@a\"\nsessions = 1\n\n[[hosts]]\nname = \"b\"\nssh = \"me@b\"\nsessions = 1\nsesions = 2\n",
    );
    let text = std::fs::read_to_string(w.home.join("brl.toml")).expect("read");
    let line = text
        .lines()
        .position(|l| l.starts_with("sesions"))
        .expect("the typo")
        + 1;
    let (code, _, err) = w.run(&["hosts", "list"]);
    assert_ne!(code, 0);
    assert!(
        err.contains(&format!("line {line}, key `hosts[1].sesions`"))
            && err.contains("unknown field"),
        "{err}"
    );

    // A bad value is named the same way.
    w.write_config(
        1,
        &common::agent("no_change.sh"),
        20,
        "\n[[hosts]]\nname = \"Box 1\"\nssh = \"me@a\"\nsessions = 1\n",
    );
    let (code, _, err) = w.run(&["hosts", "check"]);
    assert_ne!(code, 0);
    assert!(err.contains("key `hosts[0].name`"), "{err}");
}

#[test]
fn setup_never_overwrites_what_is_not_its_own() {
    let a = Sshd::start("a");
    let w = world_with_hosts(&[&a]);
    let repo = a.work_dir().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    std::fs::write(repo.join("notes.txt"), "mine\n").expect("write");

    // A D/repo that is not a git repository: refused and left alone; the rest is still done.
    let (code, out, err) = w.run(&["hosts", "setup"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("is not a git repository; brl does not overwrite it")
            && out.contains("wrong    repo"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("notes.txt")).expect("still there"),
        "mine\n"
    );
    assert!(!repo.join(".git").exists());
    assert!(a.work_dir().join("bin/brl").is_file() && a.work_dir().join("home/brl.toml").is_file());

    // Moved aside: setup makes the clone.
    std::fs::rename(&repo, a.work_dir().join("repo.mine")).expect("rename");
    let (code, out, err) = w.run(&["hosts", "setup"]);
    assert_eq!(code, 0, "{out}{err}");

    // A main on the host that went its own way is not forced over: the push is refused, said so,
    // and the host's commit stays.
    git(
        &repo,
        &[
            "-c",
            "user.name=H",
            "-c",
            "user.email=h@example.invalid",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "on the host",
        ],
    );
    let host_main = git(&repo, &["rev-parse", "main"]);
    std::fs::write(w.repo.join("f2.txt"), "ok line\n").expect("write");
    git(&w.repo, &["commit", "-qam", "control moves on"]);
    let (code, out, err) = w.run(&["hosts", "setup"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("host a: FAILED `git push") && out.contains("refuse the push"),
        "{out}"
    );
    assert_eq!(git(&repo, &["rev-parse", "main"]), host_main);

    Ssh::new(&Home::new(&w.home), &a.host_config(2)).close();
}
