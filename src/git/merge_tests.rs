//! Merging a branch into main: fast-forward, merge commit, conflicts, refusals, concurrency.

use super::tests::{Fx, git, read, rev, status, write};
use super::*;

#[test]
fn merge_fast_forward_and_already_merged() {
    let fx = Fx::new();
    let repo = fx.repo();
    git(&repo, &["switch", "-q", "-c", "dev"]); // main not checked out anywhere
    let t = fx.target();
    let (branch, _) = fx.session(&t, "ff", &[("ff.txt", "ff\n")]);
    let tip = t.branch_tip(&branch).unwrap();
    assert_eq!(
        t.merge_into_main(&branch).unwrap(),
        MergeOutcome::FastForward { new_main: tip }
    );
    assert_eq!(t.main_commit().unwrap(), tip);
    assert!(t.branch_exists(&branch), "caller deletes the branch");
    assert_eq!(
        t.merge_into_main(&branch).unwrap(),
        MergeOutcome::AlreadyMerged
    );
    // The user's tree on `dev` is untouched.
    assert!(!repo.join("ff.txt").exists());
    assert_eq!(status(&repo), "");
    assert_eq!(rev(&repo, "HEAD"), rev(&repo, "dev"));
    assert!(t.merge_into_main("main").is_err());
    assert!(t.merge_into_main("no/such").is_err());
}

#[test]
fn merge_commit_when_main_moved() {
    let fx = Fx::new();
    let repo = fx.repo();
    let t = fx.target();
    let (branch, _) = fx.session(&t, "mc", &[("mc.txt", "mc\n")]);
    // Meanwhile the user commits on main (in their clean checked-out tree).
    write(&repo, "user.txt", "user\n");
    git(&repo, &["add", "user.txt"]);
    git(&repo, &["commit", "-q", "-m", "user work"]);
    let old = t.main_commit().unwrap();
    let tip = t.branch_tip(&branch).unwrap();
    let MergeOutcome::MergeCommit { new_main } = t.merge_into_main(&branch).unwrap() else {
        panic!("expected a merge commit")
    };
    assert_eq!(t.main_commit().unwrap(), new_main);
    let parents = git(&repo, &["log", "-1", "--format=%P", "main"]);
    assert_eq!(parents.trim(), format!("{old} {tip}"));
    let subject = git(&repo, &["log", "-1", "--format=%s", "main"]);
    assert_eq!(
        subject.trim(),
        format!("Merge branch '{branch}' (approved in brl)")
    );
    // main was checked out and clean: the tree follows, status clean.
    assert_eq!(read(&repo, "mc.txt"), "mc\n");
    assert_eq!(read(&repo, "user.txt"), "user\n");
    assert_eq!(status(&repo), "");
    assert_eq!(
        t.merge_into_main(&branch).unwrap(),
        MergeOutcome::AlreadyMerged
    );
}

#[test]
fn merge_conflict_changes_nothing() {
    let fx = Fx::new();
    let repo = fx.repo();
    let t = fx.target();
    let (branch, _) = fx.session(&t, "cf", &[("a.txt", "agent\n"), ("ok.txt", "ok\n")]);
    write(&repo, "a.txt", "user\n");
    git(&repo, &["commit", "-q", "-am", "user edit"]);
    let old = t.main_commit().unwrap();
    let out = t.merge_into_main(&branch).unwrap();
    assert_eq!(
        out,
        MergeOutcome::Conflict {
            files: vec!["a.txt".to_string()]
        }
    );
    assert_eq!(t.main_commit().unwrap(), old);
    assert_eq!(read(&repo, "a.txt"), "user\n");
    assert!(!repo.join("ok.txt").exists());
    assert_eq!(status(&repo), "");
}

#[test]
fn merge_into_clean_checked_out_main_updates_tree() {
    let fx = Fx::new();
    let repo = fx.repo();
    let t = fx.target();
    let (branch, _) = fx.session(
        &t,
        "cl",
        &[("a.txt", "one\ntwo\nthree\nfour\n"), ("new/n.txt", "n\n")],
    );
    write(&repo, "scratch.txt", "untracked, unrelated\n");
    write(&repo, "x.log", "ignored\n");
    let tip = t.branch_tip(&branch).unwrap();
    assert_eq!(
        t.merge_into_main(&branch).unwrap(),
        MergeOutcome::FastForward { new_main: tip }
    );
    assert_eq!(rev(&repo, "HEAD"), tip.to_string());
    assert_eq!(read(&repo, "a.txt"), "one\ntwo\nthree\nfour\n");
    assert_eq!(read(&repo, "new/n.txt"), "n\n");
    assert_eq!(read(&repo, "scratch.txt"), "untracked, unrelated\n");
    assert_eq!(read(&repo, "x.log"), "ignored\n");
    assert_eq!(status(&repo), "?? scratch.txt\n");
    assert_eq!(git(&repo, &["diff", "--cached", "--name-only"]), "");
}

#[test]
fn merge_into_dirty_checked_out_main_is_refused() {
    let fx = Fx::new();
    let repo = fx.repo();
    let t = fx.target();
    let (branch, _) = fx.session(
        &t,
        "dy",
        &[("a.txt", "one\nTWO\nthree\n"), ("dy.txt", "dy\n")],
    );
    let old = t.main_commit().unwrap();
    // An uncommitted edit of a file the merge changes.
    write(&repo, "a.txt", "uncommitted user edit\n");
    let MergeOutcome::Refused { reason } = t.merge_into_main(&branch).unwrap() else {
        panic!("expected Refused")
    };
    assert!(
        reason.contains("uncommitted changes")
            && reason.contains("(a.txt)")
            && reason.contains("nothing was changed"),
        "{reason}"
    );
    assert!(reason.contains(&repo.display().to_string()), "{reason}");
    assert_eq!(t.main_commit().unwrap(), old);
    assert_eq!(read(&repo, "a.txt"), "uncommitted user edit\n");
    assert!(!repo.join("dy.txt").exists());

    // Staged-only changes count too.
    git(&repo, &["add", "a.txt"]);
    assert!(matches!(
        t.merge_into_main(&branch).unwrap(),
        MergeOutcome::Refused { .. }
    ));
    assert_eq!(t.main_commit().unwrap(), old);
    assert_eq!(status(&repo), "M  a.txt\n");

    // Deleting a file the merge changes is a change of the user's as well.
    git(&repo, &["reset", "-q", "--hard"]);
    std::fs::remove_file(repo.join("a.txt")).unwrap();
    let MergeOutcome::Refused { reason } = t.merge_into_main(&branch).unwrap() else {
        panic!("expected Refused")
    };
    assert!(reason.contains("(a.txt)"), "{reason}");
    assert_eq!(status(&repo), " D a.txt\n");

    // A staged change of a file the merge does not touch refuses as well (like `git merge`):
    // the index is brought along only from the old main's tree.
    git(&repo, &["checkout", "-q", "--", "a.txt"]);
    write(&repo, "src/lib.txt", "staged\n");
    git(&repo, &["add", "src/lib.txt"]);
    let MergeOutcome::Refused { reason } = t.merge_into_main(&branch).unwrap() else {
        panic!("expected Refused")
    };
    assert!(
        reason.contains("staged") && reason.contains("src/lib.txt"),
        "{reason}"
    );
    assert_eq!(t.main_commit().unwrap(), old);
}

#[test]
fn an_unstaged_edit_of_a_file_the_merge_leaves_survives_it() {
    let fx = Fx::new();
    let repo = fx.repo();
    let t = fx.target();
    let (branch, _) = fx.session(
        &t,
        "ue",
        &[("a.txt", "one\nTWO\nthree\n"), ("ue.txt", "ue\n")],
    );
    write(&repo, "user.txt", "user\n");
    git(&repo, &["add", "user.txt"]);
    git(&repo, &["commit", "-q", "-m", "user work"]);
    let old = t.main_commit().unwrap();
    write(&repo, "src/lib.txt", "my unsaved work\n");
    let MergeOutcome::MergeCommit { new_main } = t.merge_into_main(&branch).unwrap() else {
        panic!("expected a merge commit")
    };
    assert_ne!(new_main, old);
    assert_eq!(rev(&repo, "HEAD"), new_main.to_string());
    assert_eq!(read(&repo, "a.txt"), "one\nTWO\nthree\n");
    assert_eq!(read(&repo, "ue.txt"), "ue\n");
    assert_eq!(
        read(&repo, "src/lib.txt"),
        "my unsaved work\n",
        "the edit is kept"
    );
    // Still an uncommitted edit on the new main, the rest clean and the index the new tree.
    assert_eq!(status(&repo), " M src/lib.txt\n");
    assert_eq!(git(&repo, &["diff", "--cached", "--name-only"]), "");
}

#[test]
fn merge_refused_when_untracked_file_in_the_way() {
    let fx = Fx::new();
    let repo = fx.repo();
    let t = fx.target();
    let (branch, _) = fx.session(&t, "uw", &[("clash.txt", "agent\n"), ("b.txt", "b\n")]);
    let old = t.main_commit().unwrap();
    write(&repo, "clash.txt", "user's untracked\n");
    let MergeOutcome::Refused { reason } = t.merge_into_main(&branch).unwrap() else {
        panic!("expected Refused")
    };
    assert!(
        reason.contains("nothing was changed") && reason.contains("(clash.txt)"),
        "{reason}"
    );
    assert_eq!(t.main_commit().unwrap(), old);
    assert_eq!(read(&repo, "clash.txt"), "user's untracked\n");
    assert!(!repo.join("b.txt").exists(), "nothing half-applied");
    assert_eq!(status(&repo), "?? clash.txt\n");
}

#[test]
fn merge_updates_a_linked_worktree_on_main() {
    let fx = Fx::new();
    let repo = fx.repo();
    git(&repo, &["switch", "-q", "-c", "dev"]);
    let user_wt = fx.tmp.path().join("user-main");
    git(
        &repo,
        &["worktree", "add", "-q", user_wt.to_str().unwrap(), "main"],
    );
    let t = fx.target();
    let (branch, _) = fx.session(&t, "lw", &[("lw.txt", "lw\n")]);
    let tip = t.branch_tip(&branch).unwrap();
    assert_eq!(
        t.merge_into_main(&branch).unwrap(),
        MergeOutcome::FastForward { new_main: tip }
    );
    assert_eq!(read(&user_wt, "lw.txt"), "lw\n");
    assert_eq!(status(&user_wt), "");
    assert!(!repo.join("lw.txt").exists());
    assert_eq!(status(&repo), "");
}

#[test]
fn concurrent_move_of_main_is_not_clobbered() {
    let fx = Fx::new();
    let repo = fx.repo();
    let t = fx.target();
    let (branch, _) = fx.session(&t, "cas", &[("cas.txt", "cas\n")]);
    let old = t.main_commit().unwrap();
    let tip = t.branch_tip(&branch).unwrap();

    // main moved after brl read it: caught before anything is touched.
    write(&repo, "user.txt", "user\n");
    git(&repo, &["add", "user.txt"]);
    git(&repo, &["commit", "-q", "-m", "concurrent"]);
    let moved = t.main_commit().unwrap();
    let e = t
        .advance_main(old, tip, "test", &mut || {})
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("moved") && e.contains("try again"), "{e}");
    assert_eq!(t.main_commit().unwrap(), moved);
    assert_eq!(status(&repo), "");

    // main moves in the last moment (after the tree was updated): the compare-and-swap
    // refuses, and the checked-out tree is put back in line with the real main.
    let MergeOutcome::MergeCommit { .. } = t.merge_into_main(&branch).unwrap() else {
        panic!("expected a merge commit")
    };
    let (branch2, _) = fx.session(&t, "cas2", &[("cas2.txt", "cas2\n")]);
    let old = t.main_commit().unwrap();
    let tip = t.branch_tip(&branch2).unwrap();
    let mut sneak = || {
        let tree = git(&repo, &["rev-parse", &format!("{old}^{{tree}}")]);
        let c = git(
            &repo,
            &[
                "commit-tree",
                tree.trim(),
                "-p",
                &old.to_string(),
                "-m",
                "sneak",
            ],
        );
        git(&repo, &["update-ref", "refs/heads/main", c.trim()]);
    };
    let e = t
        .advance_main(old, tip, "test", &mut sneak)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("moved"), "{e}");
    let now = t.main_commit().unwrap();
    assert_ne!(now, old);
    assert_ne!(now, tip);
    assert!(!repo.join("cas2.txt").exists(), "tree rolled back");
    assert_eq!(status(&repo), "");
}

#[test]
fn bare_target_works() {
    let fx = Fx::new();
    let bare = fx.tmp.path().join("bare.git");
    git(
        fx.tmp.path(),
        &["clone", "-q", "--bare", "repo", "bare.git"],
    );
    let t = Target::open(&bare, "main").unwrap();
    let (branch, wt) = fx.session(&t, "b1", &[("b.txt", "b\n")]);
    assert_eq!(
        worktree_head_branch(&wt).unwrap().as_deref(),
        Some(branch.as_str())
    );
    let tip = t.branch_tip(&branch).unwrap();
    assert_eq!(
        t.merge_into_main(&branch).unwrap(),
        MergeOutcome::FastForward { new_main: tip }
    );
    detach_worktree(&wt).unwrap();
    t.delete_branch(&branch).unwrap();
}

#[test]
fn diff_patch_and_stat() {
    let fx = Fx::new();
    let repo = fx.repo();
    let t = fx.target();
    let (branch, _) = fx.session(
        &t,
        "df",
        &[("a.txt", "one\nTWO\nthree\n"), ("added.txt", "x\ny\n")],
    );
    // Changes on main after the fork are not part of the branch's diff.
    write(&repo, "main-only.txt", "m\n");
    git(&repo, &["add", "main-only.txt"]);
    git(&repo, &["commit", "-q", "-m", "main moves"]);
    let patch = t.diff_patch(&branch).unwrap();
    assert!(patch.contains("diff --git a/a.txt b/a.txt"), "{patch}");
    assert!(patch.contains("\n-two\n+TWO\n"), "{patch}");
    assert!(
        patch.contains("+++ b/added.txt\n@@ -0,0 +1,2 @@\n+x\n+y\n"),
        "{patch}"
    );
    assert!(!patch.contains("main-only"), "{patch}");
    assert_eq!(t.diff_stat(&branch).unwrap(), (2, 3, 1));
    let cli = git(&repo, &["diff", &format!("main...{branch}")]);
    assert_eq!(patch, cli);
    let main = t.main_commit().unwrap();
    assert!(t.same_tree(main, main).unwrap());
    assert!(!t.same_tree(main, t.branch_tip(&branch).unwrap()).unwrap());
}
