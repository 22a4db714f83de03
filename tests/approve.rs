//! Approve and reject killed at every crash point (SIGKILL while stopped there), and approve on a
//! full disk: after the next brl command, main, the queue, the branch, the log and the user's
//! checked-out repository all agree. Real git repos, the real `brl` binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{World, git};

/// A world with one kept branch waiting, main checked out and clean in the user's repo, and an
/// untracked file of the user's. With `moved`, main gained a commit since (a merge commit then).
fn setup(moved: bool) -> (World, String) {
    setup_with(moved, |_| {})
}

/// [`setup`], running `first` on the fresh world before the cycle writes anything in the home.
fn setup_with(moved: bool, first: impl FnOnce(&World)) -> (World, String) {
    let w = World::new(1);
    first(&w);
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    let q = w.queue();
    assert_eq!(q.len(), 1, "{out}");
    let branch = q[0]["branch"].as_str().expect("branch").to_string();
    if moved {
        std::fs::write(w.repo.join("other.txt"), "someone else's work\n").expect("write");
        git(&w.repo, &["add", "other.txt"]);
        git(&w.repo, &["commit", "-q", "-m", "meanwhile on main"]);
    }
    std::fs::write(w.repo.join("mine.txt"), "the user's own notes\n").expect("write");
    (w, branch)
}

fn decisions(w: &World, branch: &str) -> Vec<serde_json::Value> {
    w.entries("review_decision")
        .into_iter()
        .filter(|d| d["data"]["branch"] == branch)
        .collect()
}

/// The process state letter from /proc/<pid>/stat (None once it is gone).
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim().chars().next()
}

/// Run `brl queue <args>` stopped at `point`, then SIGKILL it there.
fn kill_at(w: &World, point: &str, args: &[&str]) {
    let mut child = w
        .spawnable()
        .arg("queue")
        .args(args)
        .env("BRL_CHAOS_STOP", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn brl");
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if proc_state(pid) == Some('T') {
            break;
        }
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            use std::io::Read;
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("brl never stopped at {point}: it exited with {status}: {err}");
        }
        assert!(
            Instant::now() < deadline,
            "brl did not reach {point} in time"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: kill sends a signal to the child this test spawned.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    child.wait().expect("reap");
}

fn lock_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(lock_files(&p));
        } else if p.extension().is_some_and(|x| x == "lock") {
            out.push(p);
        }
    }
    out
}

/// The user's repository is clean apart from their untracked file, on main, with no lock file.
fn assert_user_repo_intact(w: &World, ctx: &str) {
    assert_eq!(
        git(&w.repo, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "main",
        "{ctx}"
    );
    assert_eq!(
        git(&w.repo, &["status", "--porcelain", "--untracked-files=all"]),
        "?? mine.txt",
        "{ctx}"
    );
    assert_eq!(
        std::fs::read_to_string(w.repo.join("mine.txt")).expect("mine.txt"),
        "the user's own notes\n",
        "{ctx}"
    );
    let locks = lock_files(&w.repo.join(".git"));
    assert!(locks.is_empty(), "{ctx}: lock files left: {locks:?}");
    assert!(
        w.home
            .join("logs/journal")
            .read_dir()
            .map_or(true, |mut d| d.next().is_none()),
        "{ctx}: the journal is not empty"
    );
}

/// After an approve died somewhere and a command ran: old main (pending, branch kept, no
/// decision) or merged (approved, branch gone, exactly one decision). Returns whether merged.
fn assert_approve_consistent(w: &World, branch: &str, old: &str, tip: &str, ctx: &str) -> bool {
    let main = git(&w.repo, &["rev-parse", "main"]);
    let q = w.queue();
    let d = decisions(w, branch);
    let merged = main != old;
    if merged {
        let parents = git(&w.repo, &["log", "-1", "--format=%P", "main"]);
        assert!(
            main == tip || parents == format!("{old} {tip}"),
            "{ctx}: main {main} is neither old, the tip, nor their merge ({parents})"
        );
        assert_eq!(q[0]["status"], "approved", "{ctx}");
        assert_eq!(q[0]["merged_as"], main.as_str(), "{ctx}");
        assert!(w.branches().is_empty(), "{ctx}: the branch stayed");
        assert_eq!(d.len(), 1, "{ctx}: {d:?}");
        assert_eq!(d[0]["data"]["decision"], "approve", "{ctx}");
        assert_eq!(d[0]["data"]["merged_as"], main.as_str(), "{ctx}");
        assert!(d[0]["data"]["decision_id"].is_string(), "{ctx}");
    } else {
        assert_eq!(q[0]["status"], "pending", "{ctx}");
        assert_eq!(w.branches(), vec![branch.to_string()], "{ctx}");
        assert!(d.is_empty(), "{ctx}: {d:?}");
    }
    assert_user_repo_intact(w, ctx);
    merged
}

fn approve_killed_at(point: &str, moved: bool, expect_merged: bool) {
    let (w, branch) = setup(moved);
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    kill_at(&w, point, &["approve", &branch]);
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0, "{err}");
    let ctx = format!("killed at {point} (main moved: {moved}); recovery said: {err}");
    let verb = if expect_merged { "finished" } else { "undid" };
    assert!(err.contains(verb) && err.contains(&branch), "{ctx}");
    assert_eq!(w.entries("decision_recovered").len(), 1, "{ctx}");
    let merged = assert_approve_consistent(&w, &branch, &old, &tip, &ctx);
    assert_eq!(merged, expect_merged, "{ctx}");
    // The working tree is exactly main's.
    assert_eq!(
        std::fs::read_to_string(w.repo.join("f1.txt")).expect("f1"),
        git(&w.repo, &["show", "main:f1.txt"]) + "\n",
        "{ctx}"
    );
    let (code, out, err) = w.run(&["queue", "approve", &branch]);
    if merged {
        assert_ne!(code, 0, "{ctx}: approved twice: {out}");
        assert!(err.contains("already approved"), "{ctx}: {err}");
    } else {
        assert_eq!(code, 0, "{ctx}: {out}{err}");
        assert!(assert_approve_consistent(&w, &branch, &old, &tip, &ctx));
    }
    // Nothing new for recovery, nothing logged twice.
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0);
    assert!(!err.contains("interrupted"), "{ctx}: {err}");
    assert_eq!(decisions(&w, &branch).len(), 1, "{ctx}");
}

const APPROVE_POINTS: &[(&str, bool)] = &[
    ("approve:after-journal", false),
    ("approve:after-merge-commit", false),
    ("approve:after-ref", true),
    ("approve:after-queue", true),
    ("approve:after-log", true),
    ("approve:inside-checkout", true),
    ("approve:after-checkout", true),
];

#[test]
fn approve_killed_at_every_point_fast_forward() {
    for (point, merged) in APPROVE_POINTS {
        approve_killed_at(point, false, *merged);
    }
}

#[test]
fn approve_killed_at_every_point_merge_commit() {
    for (point, merged) in APPROVE_POINTS {
        approve_killed_at(point, true, *merged);
    }
}

#[test]
fn every_approve_and_reject_point_is_a_known_crash_point() {
    for p in APPROVE_POINTS
        .iter()
        .map(|(p, _)| *p)
        .chain(REJECT_POINTS.iter().copied())
    {
        assert!(brl::chaos::POINTS.contains(&p), "{p}");
    }
    let ours = brl::chaos::POINTS
        .iter()
        .filter(|p| p.starts_with("approve:") || p.starts_with("reject:"))
        .count();
    assert_eq!(ours, APPROVE_POINTS.len() + REJECT_POINTS.len());
}

const REJECT_POINTS: &[&str] = &["reject:after-journal", "reject:after-delete"];

#[test]
fn reject_killed_at_every_point() {
    for point in REJECT_POINTS {
        let (w, branch) = setup(false);
        let old = git(&w.repo, &["rev-parse", "main"]);
        kill_at(&w, point, &["reject", &branch, "--reason", "not this"]);
        let (code, _, err) = w.run(&["queue", "list"]);
        assert_eq!(code, 0, "{err}");
        let ctx = format!("killed at {point}; recovery said: {err}");
        assert!(err.contains("finished") && err.contains(&branch), "{ctx}");
        assert_eq!(git(&w.repo, &["rev-parse", "main"]), old, "{ctx}");
        assert!(w.branches().is_empty(), "{ctx}");
        let q = w.queue();
        assert_eq!(q[0]["status"], "rejected", "{ctx}");
        assert_eq!(q[0]["decision_reason"], "not this", "{ctx}");
        let d = decisions(&w, &branch);
        assert_eq!(d.len(), 1, "{ctx}: {d:?}");
        assert_eq!(d[0]["data"]["decision"], "reject", "{ctx}");
        assert_user_repo_intact(&w, &ctx);
        let (code, _, err) = w.run(&["queue", "reject", &branch]);
        assert_ne!(code, 0, "{ctx}");
        assert!(err.contains("already rejected"), "{ctx}: {err}");
        assert_eq!(decisions(&w, &branch).len(), 1, "{ctx}");
    }
}

#[test]
fn a_live_decision_is_not_recovered_under_it() {
    // A stopped (not killed) approve holds the decision lock: other commands leave its journal.
    let (w, branch) = setup(true);
    let mut child = w
        .spawnable()
        .args(["queue", "approve", &branch])
        .env("BRL_CHAOS_STOP", "approve:after-ref")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    while proc_state(pid) != Some('T') {
        assert!(Instant::now() < deadline, "never stopped");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0);
    assert!(!err.contains("interrupted"), "{err}");
    assert_eq!(w.queue()[0]["status"], "pending");
    assert!(
        w.home
            .join("logs/journal")
            .read_dir()
            .expect("dir")
            .next()
            .is_some()
    );
    // Let it go on: it finishes by itself.
    // SAFETY: signals to the child this test spawned.
    unsafe {
        libc::kill(pid as i32, libc::SIGCONT);
    }
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
    let old = git(&w.repo, &["rev-parse", "main^1"]);
    let tip = git(&w.repo, &["rev-parse", "main^2"]);
    assert!(assert_approve_consistent(
        &w,
        &branch,
        &old,
        &tip,
        "continued"
    ));
}

/// A user's stale `refs/heads/main.lock` that is not brl's is left, and said.
#[test]
fn a_foreign_ref_lock_makes_approve_fail_cleanly() {
    let (w, branch) = setup(false);
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    let lock = w.repo.join(".git/refs/heads/main.lock");
    std::fs::write(&lock, "someone else's\n").expect("lock");
    let (code, _, err) = w.run(&["queue", "approve", &branch]);
    assert_ne!(code, 0);
    assert!(
        err.contains("nothing was merged") || err.contains("lock"),
        "{err}"
    );
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), old);
    assert_eq!(
        std::fs::read_to_string(&lock).expect("kept"),
        "someone else's\n"
    );
    std::fs::remove_file(&lock).expect("rm");
    let (code, out, err) = w.run(&["queue", "approve", &branch]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(assert_approve_consistent(
        &w,
        &branch,
        &old,
        &tip,
        "after the user's lock"
    ));
}

/// A tmpfs mounted for the test's lifetime (lazily unmounted on drop).
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Fill the file system under `dir` with 4 KiB files until it is full; returns them.
fn fill(dir: &Path) -> Vec<PathBuf> {
    let fill_dir = dir.join("filler");
    std::fs::create_dir_all(&fill_dir).expect("filler dir");
    let mut files = Vec::new();
    for i in 0.. {
        let p = fill_dir.join(format!("{i}"));
        match std::fs::write(&p, [b'x'; 4096]) {
            Ok(()) => files.push(p),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
                let _ = std::fs::remove_file(&p);
                break;
            }
        }
    }
    files
}

/// Approve with the home's `logs/` on a small tmpfs, full but for 0, 1, 2… pages, until it
/// succeeds: every failure names the file and leaves nothing half-done, and after freeing space
/// any command makes everything agree.
#[test]
fn approve_on_a_full_disk() {
    let mut mounted: Result<Tmpfs, String> = Err("not tried".into());
    let (w, branch) = setup_with(true, |w| {
        let logs = w.home.join("logs");
        std::fs::create_dir_all(&logs).expect("logs");
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&logs)
            .output();
        mounted = match out {
            Ok(o) if o.status.success() => Ok(Tmpfs(logs)),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
            Err(e) => Err(e.to_string()),
        };
    });
    let _tmpfs = match mounted {
        Ok(t) => t,
        Err(why) => {
            eprintln!(
                "SKIPPING approve_on_a_full_disk: cannot mount a tmpfs ({why}); \
                 approve_with_a_write_error_* cover the injected-error variants"
            );
            return;
        }
    };
    let logs = w.home.join("logs");
    // A queue of several pages, so that some amount of free space lets the journal be written
    // but not the queue: a failure after main moved.
    let qpath = logs.join("review-queue.json");
    let mut q: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&qpath).expect("queue")).expect("json");
    let mut pad = q["entries"][0].clone();
    pad["branch"] = "brl/s1/decided-long-ago".into();
    pad["status"] = "rejected".into();
    pad["reason"] = "x".repeat(9000).into();
    q["entries"].as_array_mut().expect("entries").push(pad);
    std::fs::write(&qpath, serde_json::to_vec(&q).expect("json")).expect("pad the queue");
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    let mut failures = 0;
    let mut after_main_moved = 0;
    for free_pages in 0..32 {
        let mut fillers = fill(&logs);
        for _ in 0..free_pages {
            if let Some(p) = fillers.pop() {
                std::fs::remove_file(p).expect("free a page");
            }
        }
        let (code, out, err) = w.run(&["queue", "approve", &branch]);
        for p in &fillers {
            std::fs::remove_file(p).expect("free");
        }
        let ctx = format!("{free_pages} pages free: {out}{err}");
        if code == 0 {
            assert!(failures > 0, "{ctx}: never failed");
            assert!(assert_approve_consistent(&w, &branch, &old, &tip, &ctx));
            break;
        }
        failures += 1;
        eprintln!("full disk, {free_pages} pages free: {}", err.trim());
        assert!(
            err.contains("No space left on device") && err.contains(&logs.display().to_string()),
            "{ctx}"
        );
        if free_pages == 0 {
            assert!(
                err.contains("nothing was merged") && err.contains("logs/journal/"),
                "{ctx}"
            );
        }
        if err.contains("nothing was merged") {
            assert_eq!(git(&w.repo, &["rev-parse", "main"]), old, "{ctx}");
            assert_eq!(w.queue()[0]["status"], "pending", "{ctx}");
        } else {
            assert!(
                err.contains("main moved to") && err.contains("the next brl command finishes it"),
                "{ctx}"
            );
            after_main_moved += 1;
        }
        let (code, _, err2) = w.run(&["queue", "list"]);
        assert_eq!(code, 0, "{ctx}: {err2}");
        if assert_approve_consistent(&w, &branch, &old, &tip, &format!("{ctx}\nthen: {err2}")) {
            break;
        }
    }
    assert!(failures > 0);
    assert!(
        after_main_moved > 0,
        "no amount of free space failed after main moved"
    );
    assert_eq!(
        git(&w.repo, &["rev-parse", "main^2"]),
        tip,
        "merged in the end"
    );
}

/// The injected-error variant for a write that fails AFTER main moved: the log is unwritable.
#[test]
fn approve_with_a_write_error_after_main_moved() {
    let (w, branch) = setup(true);
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    let log = w.home.join("logs/experiment-log.jsonl");
    let kept = w.home.join("log.kept");
    std::fs::rename(&log, &kept).expect("move the log aside");
    std::fs::create_dir(&log).expect("a directory where the log should be");
    let (code, _, err) = w.run(&["queue", "approve", &branch]);
    assert_ne!(code, 0);
    assert!(
        err.contains(&format!("cannot write {}", log.display()))
            && err.contains("main moved to")
            && err.contains("the next brl command finishes it"),
        "{err}"
    );
    assert_ne!(git(&w.repo, &["rev-parse", "main"]), old);
    // Still unwritable: the next command says so and goes on.
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("could not finish") && err.contains("tries again"),
        "{err}"
    );
    std::fs::remove_dir(&log).expect("rmdir");
    std::fs::rename(&kept, &log).expect("restore the log");
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("finished"), "{err}");
    assert!(assert_approve_consistent(&w, &branch, &old, &tip, &err));
}

/// The injected-error variant for the very first write: the journal cannot be written.
#[test]
fn approve_with_a_write_error_before_anything() {
    let (w, branch) = setup(false);
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    let journal = w.home.join("logs/journal");
    // A dangling symlink: listing finds nothing, writing fails (root ignores permissions).
    std::os::unix::fs::symlink(w.home.join("nowhere/at/all"), &journal).expect("block");
    let (code, _, err) = w.run(&["queue", "approve", &branch]);
    assert_ne!(code, 0);
    assert!(
        err.contains(&format!("cannot write {}", journal.display()))
            && err.contains("nothing was merged"),
        "{err}"
    );
    assert!(!assert_approve_consistent(&w, &branch, &old, &tip, &err));
    std::fs::remove_file(&journal).expect("unblock");
    let (code, out, err) = w.run(&["queue", "approve", &branch]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(assert_approve_consistent(&w, &branch, &old, &tip, &err));
}

/// Killed inside main's compare-and-swap (the ref's lock file written with the new commit, the
/// rename not done): recovery removes that lock, which is provably brl's, and undoes the approval.
#[test]
fn a_ref_lock_left_inside_the_compare_and_swap_is_removed() {
    let (w, branch) = setup(true);
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    kill_at(&w, "approve:after-ref", &["approve", &branch]);
    // Put the instant back to just before the rename.
    let new = git(&w.repo, &["rev-parse", "main"]);
    git(&w.repo, &["update-ref", "refs/heads/main", &old]);
    let lock = w.repo.join(".git/refs/heads/main.lock");
    std::fs::write(&lock, format!("{new}\n")).expect("lock");
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("undid") && err.contains("removed"), "{err}");
    assert!(!lock.exists());
    assert!(!assert_approve_consistent(&w, &branch, &old, &tip, &err));
}

/// Killed while writing the user's index (libgit2's `index.lock` written after the checkout
/// step began, held by no one): recovery removes it and finishes the update.
#[test]
fn an_index_lock_left_inside_the_checkout_is_removed() {
    let (w, branch) = setup(true);
    let old = git(&w.repo, &["rev-parse", "main"]);
    let tip = git(&w.repo, &["rev-parse", &branch]);
    kill_at(&w, "approve:inside-checkout", &["approve", &branch]);
    let lock = w.repo.join(".git/index.lock");
    std::fs::write(&lock, "half an index").expect("lock");
    let (code, _, err) = w.run(&["queue", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("finished") && err.contains("index.lock"),
        "{err}"
    );
    assert!(assert_approve_consistent(&w, &branch, &old, &tip, &err));
}
