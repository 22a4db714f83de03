//! `[worktree] setup` (`brl::checks::setup::ensure`): real git repositories and worktrees made by
//! brl's own `Target::ensure_worktree`, a setup script that counts its runs in a file outside the
//! worktree (tests/fixtures/setup/counting_setup.sh), the review's re-check worktree through
//! `brl review`, and a real TypeScript project installed with `npm ci` whose `tsc` check then sees
//! the dependency. The shared set-up is in tests/worktree_setup/support.rs.

mod common;
#[path = "worktree_setup/review.rs"]
mod review;
#[path = "worktree_setup/support.rs"]
mod support;
#[path = "worktree_setup/typescript.rs"]
mod typescript;

use std::time::{Duration, Instant};

use brl::checks::setup::{self, SetupError, SetupRun};
use brl::defaults::toml_string;
use common::git;
use support::{Bed, is_ran};

#[test]
fn the_setup_runs_once_per_worktree_and_input_version() {
    let b = Bed::new();
    let config = b.config(&b.section("ok"));
    let wt = b.worktree("s1");

    let first = b.ensure(&config, "s1").expect("setup");
    let SetupRun::Ran { output, key, .. } = &first else {
        panic!("the first setup of a worktree runs: {first:?}");
    };
    assert_eq!(b.runs(), 1);
    assert!(wt.join("ignored/deps/marker").is_file());
    assert_eq!(
        *output,
        b.home().session_logs_dir("s1").join("cycle.setup.log")
    );
    let saved = std::fs::read_to_string(output).expect("setup output");
    assert!(saved.contains("installing into ignored/deps") && saved.contains("setup done"));
    // The stamp lives outside the worktree; the worktree holds nothing git sees.
    let stamp = setup::stamp_path(&b.home(), &wt);
    assert!(stamp.starts_with(b.w.home.join("logs/worktrees")) && stamp.is_file());
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    let entries = b.w.entries("worktree_setup");
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["session"], "s1");
    assert_eq!(e["data"]["ok"], true, "{e}");
    assert_eq!(e["data"]["exit"], 0);
    assert_eq!(e["data"]["key"], key.as_str());
    assert_eq!(e["data"]["command"], b.command("ok"));
    assert!(e["data"]["duration_ms"].is_u64());
    assert!(
        e["data"]["output_tail"]
            .as_str()
            .is_some_and(|t| t.ends_with("setup done")),
        "{e}"
    );

    // Same worktree, same lockfile: nothing runs, also after the next cycle's checkout (which
    // keeps ignored files).
    assert_eq!(
        b.ensure(&config, "s1").expect("setup"),
        SetupRun::UpToDate { key: key.clone() }
    );
    b.worktree("s1");
    assert!(!is_ran(&b.ensure(&config, "s1").expect("setup")));
    assert_eq!(b.runs(), 1);
    assert_eq!(b.w.entries("worktree_setup").len(), 1);

    // The branch changes the lockfile: the setup runs again, once.
    std::fs::write(wt.join("deps.lock"), "left-pad 1.0.1\n").expect("write");
    git(&wt, &["commit", "-q", "-am", "bump left-pad"]);
    b.worktree("s1");
    assert!(is_ran(&b.ensure(&config, "s1").expect("setup")));
    assert!(!is_ran(&b.ensure(&config, "s1").expect("setup")));
    assert_eq!(b.runs(), 2);

    // A changed command runs again too.
    let other = b.config(&format!(
        "setup = {}\nsetup_inputs = [\"deps.lock\"]\n",
        toml_string(&format!("{} # v2", b.command("ok")))
    ));
    assert!(is_ran(&b.ensure(&other, "s1").expect("setup")));
    assert_eq!(b.runs(), 3);

    // Another session's worktree gets its own setup.
    b.worktree("s2");
    assert!(is_ran(&b.ensure(&config, "s2").expect("setup")));
    assert!(!is_ran(&b.ensure(&config, "s2").expect("setup")));
    assert_eq!(b.runs(), 4);

    // A worktree deleted and made afresh (its ignored files gone) is set up again.
    std::fs::remove_dir_all(&wt).expect("remove worktree");
    b.worktree("s1");
    assert!(!wt.join("ignored/deps/marker").exists());
    assert!(is_ran(&b.ensure(&other, "s1").expect("setup")));
    assert!(wt.join("ignored/deps/marker").is_file());
    assert_eq!(b.runs(), 5);
}

#[test]
fn without_inputs_it_runs_once_per_worktree_and_without_setup_nothing_runs() {
    let b = Bed::new();
    b.worktree("s1");
    let none = b.config("");
    assert_eq!(
        b.ensure(&none, "s1").expect("nothing"),
        SetupRun::NotConfigured
    );
    assert_eq!(b.runs(), 0);
    assert!(b.w.entries("worktree_setup").is_empty());

    let once = b.config(&format!("setup = {}\n", toml_string(&b.command("ok"))));
    assert!(is_ran(&b.ensure(&once, "s1").expect("setup")));
    // Any file may change; with no inputs listed the setup stays done.
    let wt = b.home().worktree("s1");
    std::fs::write(wt.join("deps.lock"), "changed\n").expect("write");
    assert!(!is_ran(&b.ensure(&once, "s1").expect("setup")));
    assert_eq!(b.runs(), 1);
}

#[test]
fn a_failing_setup_is_an_error_with_its_exit_and_output_and_runs_again_next_time() {
    let b = Bed::new();
    let config = b.config(&b.section("fail"));
    let wt = b.worktree("s1");
    let err = b.ensure(&config, "s1").expect_err("the setup fails");
    assert!(matches!(err, SetupError::Failed { .. }), "{err:?}");
    let text = err.to_string();
    let head = format!(
        "worktree setup `{}` failed (exit 3) in {}: ",
        b.command("fail"),
        wt.display()
    );
    assert!(text.starts_with(&head), "{text}");
    assert!(
        text.contains("npm ERR! could not resolve left-pad@9.9.9"),
        "{text}"
    );
    assert!(text.contains("cycle.setup.log"), "{text}");
    assert!(!setup::stamp_path(&b.home(), &wt).exists());
    let e = b.w.entries("worktree_setup").pop().expect("an entry");
    assert_eq!(e["data"]["ok"], false, "{e}");
    assert_eq!(e["data"]["exit"], 3);
    assert_eq!(e["data"]["end"], "exited");
    assert!(
        e["data"]["output_tail"]
            .as_str()
            .is_some_and(|t| t.contains("npm ERR! code E404")),
        "{e}"
    );
    assert!(
        e["data"]["error"]
            .as_str()
            .is_some_and(|t| t.contains("failed (exit 3)")),
        "{e}"
    );
    // Not marked done: the next cycle tries again.
    assert!(b.ensure(&config, "s1").is_err());
    assert_eq!(b.runs(), 2);
    // Fixed, it runs and is done.
    let fixed = b.config(&b.section("ok"));
    assert!(is_ran(&b.ensure(&fixed, "s1").expect("setup")));
    assert!(!is_ran(&b.ensure(&fixed, "s1").expect("setup")));
    assert_eq!(b.runs(), 3);
}

#[test]
fn files_the_setup_leaves_that_git_sees_fail_it_by_name() {
    let b = Bed::new();
    let wt = b.worktree("s1");
    let err = b
        .ensure(&b.config(&b.section("stray")), "s1")
        .expect_err("stray files");
    let text = err.to_string();
    assert!(matches!(err, SetupError::NotIgnored { .. }), "{err:?}");
    assert!(text.contains("build-stamp.txt"), "{text}");
    assert!(text.contains("gen/"), "{text}");
    assert!(text.contains("add them to .gitignore"), "{text}");
    assert!(!setup::stamp_path(&b.home(), &wt).exists());
    let e = b.w.entries("worktree_setup").pop().expect("an entry");
    assert_eq!(e["data"]["ok"], false, "{e}");
    assert_eq!(e["data"]["exit"], 0, "{e}");

    // A setup that rewrites a tracked file is refused the same way.
    b.worktree("s1"); // back at the tip: the strays are gone
    let err = b
        .ensure(&b.config(&b.section("modify")), "s1")
        .expect_err("a tracked file changed");
    assert!(matches!(err, SetupError::ChangedTracked { .. }), "{err:?}");
    assert!(err.to_string().contains("f1.txt"), "{err}");
    assert!(!setup::stamp_path(&b.home(), &wt).exists());
}

#[test]
fn a_setup_past_its_time_limit_is_killed_and_reported() {
    let b = Bed::new();
    b.worktree("s1");
    let config = b.config(&format!(
        "setup = {}\nsetup_timeout_secs = 1\n",
        toml_string(&format!("{} 60", b.command("sleep")))
    ));
    let t = Instant::now();
    let err = b.ensure(&config, "s1").expect_err("timed out");
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    let text = err.to_string();
    assert!(
        text.contains("(ran past [worktree] setup_timeout_secs = 1)"),
        "{text}"
    );
    let e = b.w.entries("worktree_setup").pop().expect("an entry");
    assert_eq!(e["data"]["end"], "timed_out", "{e}");
    assert!(e["data"]["exit"].is_null(), "{e}");
}

#[test]
fn two_ensures_at_once_on_one_worktree_run_the_setup_once() {
    let b = Bed::new();
    b.worktree("s1");
    let config = b.config(&format!(
        "setup = {}\n",
        toml_string(&format!("{} 1", b.command("sleep")))
    ));
    let results: Vec<SetupRun> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2)
            .map(|_| s.spawn(|| b.ensure(&config, "s1").expect("setup")))
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert_eq!(
        results.iter().filter(|r| is_ran(r)).count(),
        1,
        "{results:?}"
    );
    assert_eq!(b.runs(), 1);
}
