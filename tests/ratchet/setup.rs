//! A TypeScript project whose checks are the typescript preset's (`npx tsc --noEmit`, `npx
//! vitest run`) and whose `[worktree] setup` is `npm ci --prefer-offline`: the tools come only
//! from the worktree's `node_modules` (nothing on PATH), the install runs once per worktree and
//! lockfile version — not per check, not per cycle — and the checks see the dependencies.

use std::path::Path;

use serde_json::Value;

use brl::defaults::{Preset, check_commands};

use super::bench::{Bench, ROOT};
use super::toolchains;

/// package.json and package-lock.json of the toolchains' own install (typescript + vitest at
/// their pinned versions, every package already in npm's cache), renamed for this project.
fn write_package(repo: &Path) {
    let node = toolchains::node_dir();
    let read = |f: &str| -> Value {
        let text = std::fs::read_to_string(node.join(f)).expect("the toolchains' npm files");
        serde_json::from_str(&text).expect("JSON")
    };
    let mut package = read("package.json");
    package["name"] = "ratchet-ts".into();
    package["type"] = "module".into();
    let mut lock = read("package-lock.json");
    lock["name"] = "ratchet-ts".into();
    lock["packages"][""]["name"] = "ratchet-ts".into();
    for (f, v) in [("package.json", package), ("package-lock.json", lock)] {
        let text = serde_json::to_string_pretty(&v).expect("JSON") + "\n";
        std::fs::write(repo.join(f), text).expect("write");
    }
    std::fs::write(repo.join(".gitignore"), "node_modules/\n").expect("write");
}

fn setups(b: &Bench) -> Vec<Value> {
    b.w.entries("worktree_setup")
}

#[test]
fn npm_ci_runs_once_per_worktree_and_lockfile_and_the_checks_see_node_modules() {
    let [(tc, tc_parser), (test, test_parser)] = check_commands(Preset::Typescript);
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("app");
    super::bench::copy_tree(&Path::new(ROOT).join("tests/fixtures/projects/ts"), &repo);
    write_package(&repo);
    std::fs::create_dir_all(dir.path().join("home")).expect("mkdir");
    // npm's cache in the cargo target dir, beside the toolchains (shared with worktree_setup.rs).
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("npm-cache");
    let checks = format!(
        r#"[checks.typecheck]
command = "{tc}"
parser = "{tc_parser}"

[checks.test]
command = "{test}"
parser = "{test_parser}"

[worktree]
setup = "npm_config_cache='{cache}' npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false npm ci --prefer-offline"
setup_inputs = ["package-lock.json"]
setup_timeout_secs = 600
"#,
        cache = cache.display()
    );
    let home = dir.path().join("home");
    let b = Bench::over(
        crate::common::World { dir, repo, home },
        &checks,
        toolchains::path_with_node_only(),
    );

    let first = b.cycle(&Bench::agent("ts/fix_error.sh"));
    let d = &first["data"];
    assert_eq!(d["outcome"], "kept", "{first}\n{:#?}", setups(&b));
    assert_eq!(d["before"]["errors"], 2, "tsc from node_modules ran: {d}");
    assert_eq!(
        d["before"]["failures"], 1,
        "vitest from node_modules ran: {d}"
    );
    assert_eq!(d["after"]["errors"], 1, "{d}");
    let runs = setups(&b);
    assert_eq!(runs.len(), 1, "one install for a new worktree: {runs:#?}");
    assert_eq!(runs[0]["data"]["ok"], true, "{runs:#?}");
    assert_eq!(runs[0]["session"], "s1");
    let wt = b.w.home.join("worktrees/s1");
    assert!(
        wt.join("node_modules/.bin/tsc").exists(),
        "the checks' tools are in the worktree"
    );

    // Same worktree, same lockfile: no install, whatever the agent does.
    for agent in ["ts/add_test.sh", "ts/break_test.sh"] {
        b.cycle(&Bench::agent(agent));
    }
    assert_eq!(setups(&b).len(), 1, "{:#?}", setups(&b));
    assert_eq!(b.w.cycles()[1]["data"]["outcome"], "kept");
    assert_eq!(b.w.cycles()[2]["data"]["outcome"], "discarded");

    // A change to the lockfile: installed again before the after-checks, once.
    let e = b.cycle(&Bench::agent("ts/rename_package.sh"));
    assert_eq!(e["data"]["outcome"], "kept", "{e}");
    assert_eq!(b.judged_files(&e), ["package-lock.json", "package.json"]);
    let runs = setups(&b);
    assert_eq!(runs.len(), 2, "one install for the new lockfile: {runs:#?}");
    assert_ne!(runs[0]["data"]["key"], runs[1]["data"]["key"]);
    // No judged commit holds node_modules.
    for c in b.w.cycles() {
        let files = b.judged_files(&c);
        assert!(
            files.iter().all(|f| !f.starts_with("node_modules")),
            "{files:?}"
        );
    }
}
