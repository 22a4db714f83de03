//! The review's re-check worktree gets the same setup.

use brl::checks::setup;

use crate::common::agent;
use crate::support::Bed;

/// The automated review's re-check worktree is set up before its checks run; a failing setup
/// stops the review with the setup's own words, and the branch stays pending.
#[test]
fn the_review_recheck_worktree_is_set_up_and_a_failing_setup_stops_the_review() {
    let b = Bed::new();
    let review_cfg = |mode: &str| {
        format!(
            "\n[review]\nmode = \"advisory\"\n\n[worktree]\n{}",
            b.section(mode)
        )
    };
    b.w.write_config(1, &agent("review_agent.sh"), 20, &review_cfg("ok"));
    let (code, out, err) = b.w.run(&["cycle", "s1"]);
    assert_eq!(code, 0, "cycle: {out}{err}");
    assert_eq!(b.w.queue().len(), 1);
    std::fs::write(b.w.dir.path().join("verdict"), "approve").expect("verdict");
    let before = b.runs();

    let (code, out, err) = b.w.run(&["review"]);
    assert_eq!(code, 0, "review: {out}{err}");
    let e = b.w.entries("cto_review").pop().expect("a cto_review entry");
    assert_eq!(e["data"]["ok"], true, "{e}");
    let recheck = b.w.home.join("worktrees/_review");
    // Once at main; the merge has the same lockfile, so the setup is not run again for it.
    assert_eq!(b.runs(), before + 1);
    assert!(recheck.join("ignored/deps/marker").is_file());
    assert!(setup::stamp_path(&b.home(), &recheck).is_file());
    let s =
        b.w.entries("worktree_setup")
            .pop()
            .expect("the re-check's setup");
    assert!(s["session"].is_null(), "{s}");
    assert_eq!(s["data"]["worktree"], recheck.display().to_string());
    assert!(
        s["data"]["output"]
            .as_str()
            .is_some_and(|p| p.contains("/logs/jobs/") && p.ends_with("-main.setup.log")),
        "{s}"
    );

    // A setup that fails: the review stops before any reviewer, with the command's output.
    b.w.write_config(1, &agent("review_agent.sh"), 20, &review_cfg("fail"));
    let _ = b.w.run(&["review"]);
    let e = b.w.entries("cto_review").pop().expect("a cto_review entry");
    assert_eq!(e["data"]["ok"], false, "{e}");
    let why = e["data"]["error"].as_str().unwrap_or_default();
    assert!(why.contains("re-check worktree: worktree setup `"), "{e}");
    assert!(why.contains("failed (exit 3)"), "{e}");
    assert!(why.contains("could not resolve left-pad@9.9.9"), "{e}");
    assert_eq!(b.w.queue()[0]["status"], "pending");
}
