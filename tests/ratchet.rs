//! The honest ratchet on real projects and real toolchains (issue 13): a TypeScript library
//! checked by `tsc` and `vitest`, a Python package by `mypy` and `pytest`, a Rust crate by `cargo
//! check` and `cargo test` — the tools installed by `tests/toolchains.sh` into `target/`. Fake
//! agents (`tests/agents/ratchet/<kind>/*.sh`) make real edits; every cycle's outcome, counts and
//! reason are what a person would say, and no check byproduct reaches any branch. Also: a preset
//! whose tools are missing blocks the session until they are installed (`missing`), a test that
//! fails every second run is recorded as flaky and decides nothing (`flaky`), `npm ci` as
//! `[worktree] setup` runs once per worktree and lockfile (`setup`), the worktree restore removes
//! what tools leave (`restore`), and an agent that ignores its prompt cannot kill brl (`stdin`).

#[path = "ratchet/bench.rs"]
mod bench;
#[path = "ratchet/cases.rs"]
mod cases;
mod common;
#[path = "ratchet/flaky.rs"]
mod flaky;
#[path = "ratchet/missing.rs"]
mod missing;
#[path = "ratchet/restore.rs"]
mod restore;
#[path = "ratchet/setup.rs"]
mod setup;
#[path = "ratchet/stdin.rs"]
mod stdin;
#[path = "ratchet/toolchains.rs"]
mod toolchains;

use bench::Bench;
use cases::{Case, run_all};

/// The cases every project shares: an agent that does nothing, and one that is not installed.
fn idle_cases() -> Vec<Case> {
    vec![
        Case::new("true".into(), "no_change").reason(&["changed nothing"]),
        Case::new("claude-not-installed -p".into(), "agent_failed")
            .reason(&["code 127", "command not found"]),
    ]
}

/// Last, after every after-check: an agent that does nothing still changed nothing (nothing
/// the checks wrote in the cycles before is left to pass for its work).
fn idle_again() -> Case {
    Case::new("true".into(), "no_change").reason(&["changed nothing"])
}

fn assert_all_right(kind: &str, wrong: Vec<String>) {
    assert!(
        wrong.is_empty(),
        "{kind}: {} finding(s):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn typescript_tsc_and_vitest_judge_each_change_as_a_person_would() {
    let b = Bench::new(
        "ts",
        "[checks.typecheck]\ncommand = \"tsc --noEmit\"\nparser = \"tsc\"\n\n[checks.test]\ncommand = \"vitest run\"\nparser = \"vitest\"\n",
        toolchains::path(),
    );
    let a = |s: &str| Bench::agent(&format!("ts/{s}.sh"));
    let mut cases = idle_cases();
    cases.extend([
        Case::new(a("fix_error"), "kept")
            .after(1, 1, 3)
            .reason(&["errors 2 → 1"])
            .files(&["src/math.ts"]),
        Case::new(a("add_error"), "discarded")
            .after(3, 1, 3)
            .reason(&["new error", "'boolean'"])
            .files(&["src/math.ts"]),
        Case::new(a("break_test"), "discarded")
            .after(2, 2, 2)
            .reason(&["keeps inside", "now fails"])
            .files(&["src/math.ts"]),
        Case::new(a("add_test"), "kept")
            .after(2, 1, 4)
            .reason(&["passed 3 → 4"])
            .files(&["test/parse.test.ts"]),
        Case::new(a("delete_test_file"), "discarded")
            .after(2, 1, 2)
            .reason(&["fewer tests ran"])
            .files(&["test/parse.test.ts"]),
        Case::new(a("swap_test"), "discarded")
            .after(2, 1, 3)
            .reason(&["sum > adds` now fails"])
            .files(&["test/math.test.ts"]),
        Case::new(a("swap_error"), "discarded")
            .after(2, 1, 3)
            .reason(&["new error", "'boolean'"])
            .files(&["src/math.ts"]),
        // The syntax error hides both type errors: tsc's count drops 2 → 1, yet it is worse.
        Case::new(a("syntax_error"), "discarded")
            .after(1, 1, 3)
            .reason(&["new error", "Expression expected"])
            .files(&["src/extra.ts"]),
        idle_again(),
    ]);
    assert_all_right("typescript", run_all(&b, [2, 1, 3], &cases));
    // The entry of the swap names both sides: which tests failed before and after.
    let swap =
        b.w.cycles()
            .into_iter()
            .find(|e| e["data"]["subject"] == "tests: fix sum of empty, tweak adds")
            .expect("the swap cycle");
    let failing = |side: &str| swap["data"]["names"][side]["failing"].to_string();
    assert!(failing("before").contains("sum > empty"), "{swap}");
    assert!(
        failing("after").contains("sum > adds") && !failing("after").contains("sum > empty"),
        "{swap}"
    );
}

#[test]
fn python_mypy_and_pytest_judge_each_change_and_no_pycache_reaches_a_branch() {
    let b = Bench::new(
        "py",
        "[checks.typecheck]\ncommand = \"mypy .\"\nparser = \"mypy\"\n\n[checks.test]\ncommand = \"python -m pytest -q\"\nparser = \"pytest\"\n",
        toolchains::path(),
    );
    assert!(
        !b.w.repo.join(".gitignore").exists(),
        "the Python project has no .gitignore (the issue's case)"
    );
    let a = |s: &str| Bench::agent(&format!("py/{s}.sh"));
    let mut cases = idle_cases();
    cases.extend([
        Case::new(a("fix_error"), "kept")
            .after(1, 1, 3)
            .reason(&["errors 2 → 1"])
            .files(&["calc/ops.py"]),
        Case::new(a("add_error"), "discarded")
            .after(3, 1, 3)
            .reason(&["new error", r#"got "str", expected "int""#])
            .files(&["calc/ops.py"]),
        Case::new(a("break_test"), "discarded")
            .after(2, 2, 2)
            .reason(&["test_shout` now fails"])
            .files(&["calc/ops.py"]),
        Case::new(a("add_test"), "kept")
            .after(2, 1, 4)
            .reason(&["passed 3 → 4"])
            .files(&["tests/test_ops.py"]),
        Case::new(a("delete_test_file"), "discarded")
            .after(2, 1, 2)
            .reason(&["fewer tests ran"])
            .files(&["tests/test_text.py"]),
        Case::new(a("swap_test"), "discarded")
            .after(2, 1, 3)
            .reason(&["test_shout` now fails"])
            .files(&["calc/ops.py"]),
        Case::new(a("swap_error"), "discarded")
            .after(2, 1, 3)
            .reason(&["new error", r#"got "str", expected "int""#])
            .files(&["calc/ops.py"]),
        // mypy stops at the syntax error: its two syntax diagnostics replace the two type errors.
        Case::new(a("syntax_error"), "discarded")
            .after(2, 1, 3)
            .reason(&["new error", "calc/extra.py"])
            .files(&["calc/extra.py"]),
        idle_again(),
    ]);
    let wrong = run_all(&b, [2, 1, 3], &cases);
    // Beyond the diffs: no judged commit's tree holds anything Python writes when it runs.
    let mut byproducts = Vec::new();
    for e in b.w.cycles() {
        if let Some(head) = e["data"]["head"].as_str() {
            byproducts.extend(
                b.tree(head)
                    .into_iter()
                    .filter(|p| p.contains("__pycache__") || p.contains("_cache/")),
            );
        }
    }
    assert!(
        byproducts.is_empty(),
        "check byproducts in judged commits: {byproducts:?}"
    );
    assert_all_right("python", wrong);
}

#[test]
fn rust_cargo_check_and_cargo_test_judge_each_change_as_a_person_would() {
    let b = Bench::new(
        "rust",
        "[checks.typecheck]\ncommand = \"cargo check --keep-going --all-targets\"\nparser = \"cargo\"\n\n[checks.test]\ncommand = \"cargo test --tests --no-fail-fast\"\nparser = \"cargo-test\"\n",
        std::env::var("PATH").unwrap_or_default(),
    );
    let a = |s: &str| Bench::agent(&format!("rust/{s}.sh"));
    let mut cases = idle_cases();
    cases.extend([
        Case::new(a("fix_error"), "kept")
            .after(0, 1, 3)
            .reason(&["errors 1 → 0"])
            .files(&["examples/demo.rs"]),
        Case::new(a("add_error"), "discarded")
            .after(2, 1, 3)
            .reason(&["errors 1 → 2"])
            .files(&["examples/demo.rs"]),
        Case::new(a("break_test"), "discarded")
            .after(1, 2, 2)
            .reason(&["clamp_keeps_inside` now fails"])
            .files(&["src/lib.rs"]),
        Case::new(a("add_test"), "kept")
            .after(1, 1, 4)
            .reason(&["passed 3 → 4"])
            .files(&["tests/extra.rs"]),
        Case::new(a("delete_test_file"), "discarded")
            .after(1, 1, 2)
            .reason(&["fewer tests ran"])
            .files(&["tests/extra.rs"]),
        Case::new(a("swap_test"), "discarded")
            .after(1, 1, 3)
            .reason(&["clamp_keeps_inside` now fails"])
            .files(&["src/lib.rs"]),
        Case::new(a("swap_error"), "discarded")
            .after(1, 1, 3)
            .reason(&["new error", "cannot find value"])
            .files(&["examples/demo.rs"]),
        idle_again(),
    ]);
    let wrong = run_all(&b, [1, 1, 3], &cases);
    // cargo writes Cargo.lock into the worktree on every check: never into a branch.
    let locks: Vec<String> =
        b.w.cycles()
            .iter()
            .filter_map(|e| e["data"]["head"].as_str().map(|h| b.tree(h)))
            .flatten()
            .filter(|p| p == "Cargo.lock")
            .collect();
    assert!(locks.is_empty(), "Cargo.lock in judged commits: {locks:?}");
    assert_all_right("rust", wrong);
}
