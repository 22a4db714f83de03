//! A real TypeScript toolchain from npm: the setup installs it, brl's type check uses it.

use std::path::Path;

use brl::checks::{self, MeasureCtx};
use brl::defaults::toml_string;
use brl::git::Target;
use brl::home::Home;
use brl::outcome::CheckState;

use crate::common::git;
use crate::support::{ROOT, config_for, ensure_in, is_ran, worktree_of};

/// A real TypeScript project: `npm ci --prefer-offline` as the setup installs `typescript` once
/// per worktree and lockfile, and brl's `npx tsc --noEmit` check then type-checks against it.
#[test]
fn a_typescript_project_gets_node_modules_once_and_its_type_check_sees_them() {
    if std::process::Command::new("npm")
        .arg("--version")
        .output()
        .is_err()
    {
        let ok = std::process::Command::new("bash")
            .arg(Path::new(ROOT).join("tests/common/node.sh"))
            .status()
            .expect("bash runs tests/common/node.sh");
        assert!(
            ok.success(),
            "tests/common/node.sh could not install node and npm"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("app");
    let home_dir = dir.path().join("home");
    std::fs::create_dir_all(repo.join("src")).expect("mkdir");
    std::fs::create_dir_all(&home_dir).expect("mkdir");
    let fixture = Path::new(ROOT).join("tests/fixtures/setup/ts");
    for (from, to) in [
        ("package.json", "package.json"),
        ("package-lock.json", "package-lock.json"),
        ("tsconfig.json", "tsconfig.json"),
        ("gitignore", ".gitignore"),
        ("src/index.ts", "src/index.ts"),
    ] {
        std::fs::copy(fixture.join(from), repo.join(to)).expect("copy fixture");
    }
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Test"]);
    git(&repo, &["config", "user.email", "test@example.invalid"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "a TypeScript project"]);

    // npm's cache under target/, so reruns install from it.
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("npm-cache");
    let command = format!(
        "npm_config_cache='{}' npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false npm ci --prefer-offline",
        cache.display()
    );
    let section = format!(
        "setup = {}\nsetup_inputs = [\"package-lock.json\"]\nsetup_timeout_secs = 600\n\n[checks.typecheck]\ncommand = \"npx tsc --noEmit\"\nparser = \"tsc\"\n",
        toml_string(&command)
    );
    let config = config_for(&repo, &home_dir, &section);
    let home = Home::new(&home_dir);
    let target = Target::open(&repo, "main").expect("target");
    let wt = worktree_of(&home, &target, "s1");
    assert!(!wt.join("node_modules").exists());

    let run = ensure_in(&home, &config, &wt, "s1").unwrap_or_else(|e| panic!("{e}"));
    assert!(is_ran(&run), "{run:?}");
    assert!(wt.join("node_modules/.bin/tsc").exists());
    assert!(wt.join("node_modules/typescript/package.json").is_file());
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    // Checks do not install again: the second ensure of the same lockfile is up to date.
    assert!(!is_ran(
        &ensure_in(&home, &config, &wt, "s1").expect("setup")
    ));
    assert_eq!(
        std::fs::read_to_string(home.log_path())
            .expect("log")
            .lines()
            .filter(|l| l.contains("\"worktree_setup\""))
            .count(),
        1
    );

    // brl's type check runs tsc from node_modules against typescript's own declarations: clean,
    // then one error where a file uses `ts.version` (a string) as a number.
    let measure = |label: &str| {
        checks::measure(
            &MeasureCtx {
                home: &home,
                config: &config,
                worktree: &wt,
                output_prefix: home.session_logs_dir("s1").join("ts"),
                cancel: None,
                pgid_file: None,
            },
            label,
        )
        .expect("measure")
    };
    let m = measure("clean");
    assert_eq!(m.typecheck, CheckState::Ran, "{m:?}");
    assert_eq!(m.counts.errors, Some(0), "{m:?}");
    std::fs::write(
        wt.join("src/bad.ts"),
        "import * as ts from \"typescript\";\nexport const n: number = ts.version;\n",
    )
    .expect("write");
    let m = measure("bad");
    assert_eq!(m.typecheck, CheckState::Ran, "{m:?}");
    assert_eq!(m.counts.errors, Some(1), "{m:?}");
}
