//! `brl init` and config errors as a user meets them.

mod common;

use common::World;

#[test]
fn init_writes_defaults_and_never_overwrites_without_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let repo = dir.path().join("app");
    std::fs::create_dir_all(&repo).expect("mkdir");
    common::git(&repo, &["init", "-q", "-b", "main"]);
    let run = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("brl")
            .expect("bin")
            .arg("--home")
            .arg(&home)
            .args(args)
            .env_remove("BRL_HOME")
            .output()
            .expect("runs")
    };
    let out = run(&[
        "init",
        "--repo",
        &repo.display().to_string(),
        "--preset",
        "rust",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "brl.toml",
        "prompts/ralph.md",
        "skills/one-small-change.md",
        "layouts/tiled.toml",
        "layouts/windows.toml",
    ] {
        assert!(home.join(f).is_file(), "{f} missing");
    }
    let toml = std::fs::read_to_string(home.join("brl.toml")).expect("toml");
    assert!(toml.contains("cargo-test") && toml.contains(&repo.display().to_string()));
    brl::config::Config::load(&home.join("brl.toml")).expect("init writes a valid config");
    std::fs::write(home.join("prompts/ralph.md"), "mine {{branch}}").expect("write");
    let out = run(&["init", "--repo", &repo.display().to_string()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(home.join("prompts/ralph.md")).expect("read"),
        "mine {{branch}}"
    );
    assert!(
        run(&["init", "--repo", &repo.display().to_string(), "--force"])
            .status
            .success()
    );
    assert_ne!(
        std::fs::read_to_string(home.join("prompts/ralph.md")).expect("read"),
        "mine {{branch}}"
    );
}

/// Each kind of mistake names the file, the line, the key and a fix — and nothing runs.
#[test]
fn config_mistakes_give_clear_errors() {
    let w = World::new(1);
    let good = std::fs::read_to_string(w.home.join("brl.toml")).expect("config");
    let cfg = w.home.join("brl.toml").display().to_string();
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "timeout_secs = 20",
            "timout_secs = 20",
            "agent.timout_secs",
            "unknown field",
        ),
        (
            "sessions = 1",
            "sessions = \"one\"",
            "sessions",
            "invalid type",
        ),
        ("sessions = 1", "sessions = 0", "sessions", "nonzero"),
        (
            "parser = \"regex\"\nerrors",
            "parser = \"tsx\"\nerrors",
            "checks.typecheck.parser",
            "unknown variant",
        ),
        (
            "errors = \"^ERR\"",
            "errors = \"(^ERR\"",
            "checks.typecheck.errors",
            "regular expression",
        ),
        (
            "passed = \"^PASS\"\n",
            "",
            "checks.test.passed",
            "needs `passed`",
        ),
        ("[worker]", "[wrker]", "wrker", "unknown field"),
        (
            "main = \"main\"",
            "main = \"bad..name\"",
            "main",
            "not a valid branch name",
        ),
    ];
    for (from, to, key, what) in cases {
        assert!(good.contains(from), "fixture lacks {from}");
        std::fs::write(w.home.join("brl.toml"), good.replacen(from, to, 1)).expect("write");
        let (code, _, err) = w.run(&["cycle", "s1"]);
        assert_ne!(code, 0, "{to}: accepted");
        assert!(err.contains(&cfg), "{to}: no file in {err}");
        assert!(err.contains("line "), "{to}: no line in {err}");
        assert!(
            err.contains(&format!("`{key}`")),
            "{to}: no key {key} in {err}"
        );
        assert!(err.contains(what), "{to}: no '{what}' in {err}");
        assert!(err.contains("fix:"), "{to}: no fix in {err}");
    }
    assert!(
        w.branches().is_empty() && w.cycles().is_empty(),
        "nothing ran"
    );
    std::fs::remove_file(w.home.join("brl.toml")).expect("rm");
    let (code, _, err) = w.run(&["cycle", "s1"]);
    assert_ne!(code, 0);
    assert!(err.contains("brl init"), "{err}");
}
