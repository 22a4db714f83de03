//! Approve on a full disk (the home's `logs/` on a small tmpfs) and with injected write errors:
//! the error names the file, nothing is half-done, and after freeing space any brl command makes
//! main, the queue, the branch and the log agree.

mod approve_support;
mod common;

use std::path::{Path, PathBuf};

use approve_support::*;
use common::git;

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
