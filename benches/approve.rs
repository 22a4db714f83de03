//! Approve at git's speed: a non-fast-forward approve of one branch in a 10,000-file repository
//! (main checked out and clean, so both tools also update the working tree) against
//! `git merge --no-ff` of the same branch. Each run works on a fresh copy of the same repository
//! (the copy is not timed).
//!
//! Timed: `brl::decision::approve` in-process (journal, merge commit, compare-and-swap of main,
//! queue, log, branch delete, the checked-out main brought along); `brl queue approve` as a user
//! runs it (process start and config load included); `git merge --no-ff -q`.
//!
//! A train: five branches (each changing 5 files of its own directory, main moved meanwhile)
//! approved one by one with `decision::approve`, against `train::run` of the same five in one go
//! (it also merges each into the current main in memory and runs the configured checks — here
//! none — in its own re-check worktree). Both bring the user's checked-out main along per merge,
//! only the files that merge changes; the merges computed are counted (`brl::git::merges_made`).
//!
//! `cargo bench --bench approve`; `BRL_BENCH_RUNS=N` changes the number of runs (default 10).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use brl::home::Home;
use brl::outcome::Counts;
use brl::store::queue::{Queue, QueueEntry, Status};

const FILES: usize = 10_000;
const DIRS: usize = 100;
const BRANCH: &str = "brl/s1/bench";
/// The train's length.
const TRAIN: usize = 5;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// 10,000 files in 100 directories, committed on `main` (checked out).
fn files(repo: &Path) {
    for d in 0..DIRS {
        let sub = repo.join(format!("src/m{d:03}"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        for f in 0..FILES / DIRS {
            std::fs::write(
                sub.join(format!("f{f:03}.rs")),
                format!("// module {d} file {f}\npub fn f{f}() -> u32 {{ {f} }}\n"),
            )
            .expect("write");
        }
    }
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["config", "user.name", "Bench"]);
    git(repo, &["config", "user.email", "bench@example.invalid"]);
    // No background gc racing the copies; packed at the end, like a real repository.
    git(repo, &["config", "gc.auto", "0"]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "initial"]);
}

/// Main moves (5 files of `src/m050`) after the branches left; then packed like a real repository.
fn move_main(repo: &Path) {
    for f in 0..5 {
        let p = repo.join(format!("src/m050/f{f:03}.rs"));
        std::fs::write(&p, format!("pub fn f{f}() -> u32 {{ {f} * 2 }}\n")).expect("write");
    }
    git(repo, &["commit", "-q", "-am", "main moved"]);
    git(repo, &["gc", "-q"]);
}

/// `<dir>/app` (10,000 files, main checked out, a branch and a moved main) and `<dir>/home`.
fn template(dir: &Path) {
    let repo = dir.join("app");
    files(&repo);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    git(&repo, &["checkout", "-q", "-b", BRANCH]);
    for f in 0..5 {
        let p = repo.join(format!("src/m001/f{f:03}.rs"));
        std::fs::write(&p, format!("pub fn f{f}() -> u32 {{ {f} + 1 }}\n")).expect("write");
    }
    git(&repo, &["commit", "-q", "-am", "the branch's change"]);
    let head = git(&repo, &["rev-parse", "HEAD"]);
    git(&repo, &["checkout", "-q", "main"]);
    move_main(&repo);
    home_with(dir, &[(BRANCH.to_string(), base, head)]);
}

/// The same repository with [`TRAIN`] branches, branch k changing 5 files of `src/m00k`.
fn train_template(dir: &Path) -> Vec<String> {
    let repo = dir.join("app");
    files(&repo);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    let mut pending = Vec::new();
    for k in 1..=TRAIN {
        let branch = format!("brl/s{k}/bench");
        git(&repo, &["checkout", "-q", "-b", &branch, "main"]);
        for f in 0..5 {
            let p = repo.join(format!("src/m{k:03}/f{f:03}.rs"));
            std::fs::write(&p, format!("pub fn f{f}() -> u32 {{ {f} + {k} }}\n")).expect("write");
        }
        git(&repo, &["commit", "-q", "-am", "a branch's change"]);
        pending.push((
            branch.clone(),
            base.clone(),
            git(&repo, &["rev-parse", "HEAD"]),
        ));
    }
    git(&repo, &["checkout", "-q", "main"]);
    move_main(&repo);
    home_with(dir, &pending);
    pending.into_iter().map(|(b, _, _)| b).collect()
}

/// `<dir>/home` with its config and one pending entry per (branch, base, head).
fn home_with(dir: &Path, pending: &[(String, String, String)]) {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    std::fs::write(
        home.join("brl.toml"),
        "repo = \"../app\"\nmain = \"main\"\nsessions = 1\n\n[agent]\ncommand = \"true\"\n",
    )
    .expect("config");
    let queue = Queue::new(&Home::new(&home).queue_path());
    for (branch, base, head) in pending {
        add(&queue, branch, base, head);
    }
}

fn add(queue: &Queue, branch: &str, base: &str, head: &str) {
    queue
        .add(QueueEntry {
            branch: branch.into(),
            session: branch.split('/').nth(1).unwrap_or("s1").into(),
            status: Status::Pending,
            created: chrono::Utc::now(),
            before: Counts::default(),
            after: Counts::default(),
            reason: "bench".into(),
            base: base.into(),
            head: head.into(),
            commits: 1,
            subject: "the branch's change".into(),
            decided: None,
            decision_reason: None,
            merged_as: None,
            conflict_files: vec![],
            cycle_id: None,
            review: None,
            group: None,
            twin_of: None,
            superseded_by: None,
            fix: None,
        })
        .expect("queue");
}

/// A fresh copy of the template (not timed); the page cache is warm for every tool alike.
fn fresh(template: &Path, root: &Path, i: usize) -> PathBuf {
    let to = root.join(format!("run{i}"));
    let ok = Command::new("cp")
        .arg("-a")
        .arg(template)
        .arg(&to)
        .status()
        .expect("cp");
    assert!(ok.success());
    // Refresh the index's stat data as a user's long-lived checkout has it.
    git(&to.join("app"), &["status", "--porcelain"]);
    to
}

fn stats(name: &str, mut t: Vec<Duration>) -> f64 {
    t.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(t[t.len() / 2]);
    println!(
        "{name:<28} median {median:7.1} ms   min {:7.1}   max {:7.1}   ({} runs)",
        ms(t[0]),
        ms(t[t.len() - 1]),
        t.len()
    );
    median
}

fn main() {
    let runs: usize = std::env::var("BRL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let root = tempfile::tempdir().expect("tempdir");
    let tpl = root.path().join("template");
    template(&tpl);
    let brl_bin = PathBuf::from(env!("CARGO_BIN_EXE_brl"));
    let (mut lib, mut cli, mut gitm) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs {
        let d = fresh(&tpl, root.path(), 3 * i);
        let home = Home::new(&d.join("home"));
        let config = home.load_config().expect("config");
        let t = Instant::now();
        let a = brl::decision::approve(&home, &config, BRANCH, "bench").expect("approve");
        lib.push(t.elapsed());
        assert!(
            matches!(
                a,
                brl::decision::Approval::Merged {
                    fast_forward: false,
                    ..
                }
            ),
            "{a:?}"
        );
        assert_eq!(git(&d.join("app"), &["status", "--porcelain"]), "");

        let d = fresh(&tpl, root.path(), 3 * i + 1);
        let t = Instant::now();
        let out = Command::new(&brl_bin)
            .arg("--home")
            .arg(d.join("home"))
            .args(["queue", "approve", BRANCH])
            .env_remove("BRL_HOME")
            .output()
            .expect("brl runs");
        cli.push(t.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );

        let d = fresh(&tpl, root.path(), 3 * i + 2);
        let t = Instant::now();
        git(
            &d.join("app"),
            &["merge", "--no-ff", "-q", "-m", "merge", BRANCH],
        );
        gitm.push(t.elapsed());
        for k in 0..3 {
            let _ = std::fs::remove_dir_all(root.path().join(format!("run{}", 3 * i + k)));
        }
    }
    println!("approve of a non-fast-forward branch, {FILES} files, main checked out:");
    let l = stats("brl decision::approve", lib);
    let c = stats("brl queue approve (process)", cli);
    let g = stats("git merge --no-ff", gitm);
    println!(
        "ratio brl/git: in-process {:.2}x, as a command {:.2}x",
        l / g,
        c / g
    );
    train(root.path(), runs);
}

/// [`TRAIN`] approves one by one against one train of the same branches.
fn train(root: &Path, runs: usize) {
    let tpl = root.join("train-template");
    let branches = train_template(&tpl);
    let (mut singles, mut trains) = (Vec::new(), Vec::new());
    let (mut single_merges, mut train_merges) = (0, 0);
    for i in 0..runs {
        let d = fresh(&tpl, root, 1000 + 2 * i);
        let home = Home::new(&d.join("home"));
        let config = home.load_config().expect("config");
        let made = brl::git::merges_made();
        let t = Instant::now();
        for b in &branches {
            let a = brl::decision::approve(&home, &config, b, "bench").expect("approve");
            assert!(matches!(a, brl::decision::Approval::Merged { .. }), "{a:?}");
        }
        singles.push(t.elapsed());
        single_merges = brl::git::merges_made() - made;
        assert_eq!(git(&d.join("app"), &["status", "--porcelain"]), "");

        let d = fresh(&tpl, root, 1000 + 2 * i + 1);
        let home = Home::new(&d.join("home"));
        let config = home.load_config().expect("config");
        let made = brl::git::merges_made();
        let t = Instant::now();
        let report = brl::jobs::review::train::run(&home, &config, &branches, "bench", false)
            .expect("train");
        trains.push(t.elapsed());
        train_merges = brl::git::merges_made() - made;
        assert!(report.complete(), "{:?}", report.lines());
        assert_eq!(git(&d.join("app"), &["status", "--porcelain"]), "");
        for k in 0..2 {
            let _ = std::fs::remove_dir_all(root.join(format!("run{}", 1000 + 2 * i + k)));
        }
    }
    println!("{TRAIN} non-fast-forward branches, {FILES} files, main checked out:");
    let s = stats(&format!("{TRAIN} x decision::approve"), singles);
    let t = stats("train::run (no checks)", trains);
    println!(
        "train/singles {:.2}x; merges computed: {single_merges} one by one, {train_merges} by the train",
        t / s
    );
}
