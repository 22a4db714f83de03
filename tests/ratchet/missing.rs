//! A Python preset on a machine without `mypy` and `pytest`: the worker's first cycle stops the
//! line — the session is blocked in the check's own words (naming the tool) in `brl status` and
//! its control file, no cycle runs, nothing is kept. Then the tools are installed where the
//! worker's PATH already looks (a venv appears at `<tools>`, as `python3 -m venv` would make it),
//! and the next grant runs a real cycle and lifts the block — without restarting the worker.

use std::time::{Duration, Instant};

use brl::defaults::{Preset, check_commands};
use brl::home::Home;
use brl::store::control::{Control, SessionControl};

use super::bench::Bench;
use super::toolchains;

fn control(b: &Bench) -> Control {
    SessionControl::new(&Home::new(&b.w.home), "s1")
        .load()
        .expect("the control file reads")
}

/// Grant s1 one cycle, as the control room's scheduler does, and wait until its worker has
/// finished it (the grant is cleared).
fn granted_cycle(b: &Bench, worker: &mut std::process::Child) {
    let sc = SessionControl::new(&Home::new(&b.w.home), "s1");
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut granted = false;
    loop {
        if let Ok(Some(status)) = worker.try_wait() {
            panic!("the worker ended ({status}):\n{}", b.worker_log());
        }
        if !granted {
            granted = sc.grant(None).expect("grant").is_some();
        } else if sc.load().expect("control").grant.is_none() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not finish its grant:\n{}",
            b.worker_log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_python_preset_without_its_tools_blocks_until_they_are_installed() {
    let [(tc, tc_parser), (test, test_parser)] = check_commands(Preset::Python);
    let checks = format!(
        "[checks.typecheck]\ncommand = \"{tc}\"\nparser = \"{tc_parser}\"\n\n[checks.test]\ncommand = \"{test}\"\nparser = \"{test_parser}\"\n"
    );
    let b = Bench::new("py", &checks, toolchains::path());
    // An agent that makes things worse: over checks that cannot run, it must not be kept.
    b.set_agent(&Bench::agent("py/add_error.sh"));
    let tools = b.w.dir.path().join("tools");
    let path = format!(
        "{}:{}",
        tools.join("bin").display(),
        toolchains::path_without(&["mypy", "pytest"])
    );
    let mut stop = Stop(b.spawn_worker(&path));
    let worker = &mut stop.0;

    granted_cycle(&b, worker);
    let blocked = b.w.entries("session_blocked");
    assert_eq!(
        blocked.len(),
        1,
        "one session_blocked entry: {blocked:#?}\n{}",
        b.worker_log()
    );
    let reason = blocked[0]["data"]["reason"].as_str().expect("reason");
    assert!(
        reason.contains("typecheck: ") && reason.contains("mypy"),
        "the reason names the check and its tool: {reason}"
    );
    let c = control(&b);
    let held = c
        .blocked
        .as_ref()
        .map(|b| b.reason.clone())
        .unwrap_or_default();
    assert!(
        held.contains("mypy"),
        "the control file holds the block: {c:?}"
    );
    let (code, status, err) = b.run(&["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        status.contains("BLOCKED") && status.contains("mypy"),
        "brl status shows the block and the tool: {status}"
    );
    // `brl init --preset python` on this machine warns about the very tool.
    assert!(
        init_warnings(&b, &path, "init-before").contains("`mypy` is not on PATH"),
        "brl init warns that mypy is missing"
    );
    // `brl checks`, what a person runs next, says the same with the same PATH.
    let (code, out, err) = b.run_with_path(&path, &["checks"]);
    assert_eq!(code, 1, "a check cannot run: {out}{err}");
    assert!(
        out.contains("mypy") && out.contains("cannot run"),
        "{out}{err}"
    );
    assert!(b.w.cycles().is_empty(), "no cycle ran: {:#?}", b.w.cycles());
    assert!(
        b.w.branches().is_empty(),
        "nothing kept: {:?}",
        b.w.branches()
    );

    // Still missing: the retry stays blocked, without a second entry (no notification storm).
    granted_cycle(&b, worker);
    assert_eq!(b.w.entries("session_blocked").len(), 1);
    assert!(b.w.cycles().is_empty() && b.w.branches().is_empty());
    assert!(control(&b).blocked.is_some());

    // Install: the venv appears where the worker's PATH looks. No restart, no config edit.
    std::os::unix::fs::symlink(toolchains::venv(), &tools).expect("install the venv");
    let (code, out, err) = b.run_with_path(&path, &["checks"]);
    assert_eq!(code, 0, "both checks run now: {out}{err}");
    let warned = init_warnings(&b, &path, "init-after");
    assert!(
        !warned.contains("mypy") && !warned.contains("pytest"),
        "{warned}"
    );
    granted_cycle(&b, worker);
    let cycles = b.w.cycles();
    assert_eq!(cycles.len(), 1, "{}", b.worker_log());
    let d = &cycles[0]["data"];
    assert_eq!(d["before"]["errors"], 2, "mypy ran at baseline: {d}");
    assert_eq!(d["before"]["failures"], 1, "pytest ran at baseline: {d}");
    assert_eq!(
        d["outcome"], "discarded",
        "the new error is judged now: {d}"
    );
    assert_eq!(d["after"]["errors"], 3, "{d}");
    assert_eq!(b.w.entries("session_unblocked").len(), 1);
    assert!(control(&b).blocked.is_none());
    let (_, status, _) = b.run(&["status"]);
    assert!(!status.contains("BLOCKED"), "{status}");
}

/// The `warning:` lines of `brl init --preset python` for the bench's repository, run with
/// `path` into a fresh home `name` (the bench's own home is left as it is).
fn init_warnings(b: &Bench, path: &str, name: &str) -> String {
    let home = b.w.dir.path().join(name);
    let out = assert_cmd::Command::cargo_bin("brl")
        .expect("binary")
        .env_remove("BRL_HOME")
        .env("PATH", path)
        .arg("--home")
        .arg(&home)
        .args(["init", "--preset", "python", "--repo"])
        .arg(&b.w.repo)
        .output()
        .expect("brl init runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "brl init failed: {text}");
    text.lines()
        .filter(|l| l.starts_with("warning:"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Stops the worker it holds when dropped (a failing test leaves no worker behind).
struct Stop(std::process::Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
