//! A test that fails every second run (its run count kept in a file outside the repository), on
//! real pytest: it is recorded as flaky (`flaky_test` entry, `logs/flaky-tests.json`), a good
//! change is kept although the flake hits its after-run, and a real regression elsewhere is still
//! discarded — whether the flake first shows on the baseline or after the change.

use serde_json::Value;

use crate::common::World;

use super::bench::Bench;
use super::toolchains;

/// A Python project with a steady test (`test_inc`) and a flip-flopping one (`test_flip`) whose
/// run counter starts at `start` (the next run is `start + 1`; odd runs pass).
fn flaky_bench(start: u32) -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("app");
    let home = dir.path().join("home");
    let counter = dir.path().join("flip-runs");
    std::fs::create_dir_all(repo.join("flip")).expect("mkdir");
    std::fs::create_dir_all(repo.join("tests")).expect("mkdir");
    std::fs::create_dir_all(&home).expect("mkdir");
    std::fs::write(&counter, start.to_string()).expect("counter");
    std::fs::write(
        repo.join("flip/__init__.py"),
        "def inc(x: int) -> int:\n    return x + 1\n",
    )
    .expect("write");
    std::fs::write(
        repo.join("tests/test_flip.py"),
        format!(
            r#"from flip import inc

COUNTER = {counter:?}


def test_flip() -> None:
    with open(COUNTER) as f:
        n = int(f.read().strip() or "0") + 1
    with open(COUNTER, "w") as f:
        f.write(str(n))
    assert n % 2 == 1, f"run {{n}}: this test fails every second run"


def test_inc() -> None:
    assert inc(1) == 2
"#,
            counter = counter.display().to_string()
        ),
    )
    .expect("write");
    Bench::over(
        World { dir, repo, home },
        "[checks.test]\ncommand = \"python -m pytest -q\"\nparser = \"pytest\"\n",
        toolchains::path(),
    )
}

fn runs(b: &Bench) -> u32 {
    std::fs::read_to_string(b.w.dir.path().join("flip-runs"))
        .expect("counter")
        .trim()
        .parse()
        .expect("a number")
}

fn flaky_file(b: &Bench) -> Value {
    let text = std::fs::read_to_string(b.w.home.join("logs/flaky-tests.json"))
        .expect("logs/flaky-tests.json exists");
    serde_json::from_str(&text).expect("flaky-tests.json is JSON")
}

/// `test_flip` is known flaky: in the file and in exactly one `flaky_test` entry so far.
fn assert_recorded(b: &Bench, during: &str) {
    let f = flaky_file(b);
    let names: Vec<&String> = f.as_object().expect("an object").keys().collect();
    assert!(
        names.len() == 1 && names[0].contains("test_flip"),
        "only test_flip is flaky: {f}"
    );
    // One entry per commit it is seen flipping on; the first says where it was found.
    let entries = b.w.entries("flaky_test");
    assert!(!entries.is_empty(), "a flaky_test entry");
    let d = &entries[0]["data"];
    assert!(
        d["name"].as_str().is_some_and(|n| n.contains("test_flip")),
        "{d}"
    );
    assert_eq!(d["during"], during, "{d}");
    assert!(d["commit"].as_str().is_some_and(|c| c.len() == 40), "{d}");
}

fn assert_regression_discarded(b: &Bench) {
    let e = b.cycle(&Bench::agent("flaky/break_inc.sh"));
    let d = &e["data"];
    let reason = d["reason"].as_str().unwrap_or_default();
    assert_eq!(
        d["outcome"], "discarded",
        "a real regression is never kept: {e}"
    );
    assert!(reason.contains("test_inc` now fails"), "{reason}");
    assert!(
        !reason.contains("::test_flip"),
        "the flaky test decides nothing: {reason}"
    );
}

#[test]
fn a_flake_on_the_after_run_neither_discards_good_work_nor_hides_a_regression() {
    let b = flaky_bench(0);
    let e = b.cycle(&Bench::agent("flaky/add_test.sh"));
    let d = &e["data"];
    // Runs: baseline 1 (passes), after 2 (flip fails), confirming re-run 3 (passes).
    assert_eq!(runs(&b), 3, "baseline, after-run and one re-run: {e}");
    assert_eq!(
        d["outcome"], "kept",
        "the flake did not discard good work: {e}"
    );
    assert!(
        d["reason"]
            .as_str()
            .is_some_and(|r| r.contains("passed 2 → 3")),
        "{e}"
    );
    assert_recorded(&b, "after");
    assert_regression_discarded(&b);
    assert_eq!(flaky_file(&b).as_object().map(|o| o.len()), Some(1));
    // `brl checks` lists it.
    let (_, out, err) = b.run(&["checks", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let flaky = v["flaky"].as_object().expect("a flaky object");
    assert!(flaky.keys().any(|k| k.ends_with("::test_flip")), "{v}");
}

#[test]
fn a_flake_on_the_baseline_lets_no_regression_through() {
    let b = flaky_bench(1);
    // Baseline run 2: flip fails; its confirming re-run 3 passes: flaky, not failing.
    assert_regression_discarded(&b);
    assert_recorded(&b, "baseline");
    let e = b.cycle(&Bench::agent("flaky/add_test.sh"));
    assert_eq!(e["data"]["outcome"], "kept", "{e}");
    assert_eq!(
        e["data"]["before"]["failures"], 0,
        "the flake is not a baseline failure: {e}"
    );
}
