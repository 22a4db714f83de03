//! Shared by `tests/approve.rs` and `tests/approve_disk.rs`: a world with a kept branch waiting,
//! killing brl at a crash point, and the checks that main, the queue, the branch, the log and the
//! user's repository agree.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{World, git};

/// A world with one kept branch waiting, main checked out and clean in the user's repo, and an
/// untracked file of the user's. With `moved`, main gained a commit since (a merge commit then).
pub fn setup(moved: bool) -> (World, String) {
    setup_with(moved, |_| {})
}

/// [`setup`], running `first` on the fresh world before the cycle writes anything in the home.
pub fn setup_with(moved: bool, first: impl FnOnce(&World)) -> (World, String) {
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

pub fn decisions(w: &World, branch: &str) -> Vec<serde_json::Value> {
    w.entries("review_decision")
        .into_iter()
        .filter(|d| d["data"]["branch"] == branch)
        .collect()
}

/// The process state letter from /proc/<pid>/stat (None once it is gone).
pub fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim().chars().next()
}

/// Run `brl queue <args>` stopped at `point`, then SIGKILL it there.
pub fn kill_at(w: &World, point: &str, args: &[&str]) {
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

pub fn lock_files(dir: &Path) -> Vec<PathBuf> {
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
pub fn assert_user_repo_intact(w: &World, ctx: &str) {
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
pub fn assert_approve_consistent(w: &World, branch: &str, old: &str, tip: &str, ctx: &str) -> bool {
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
