use super::*;
use std::fs;
use std::process::Command;
use tempfile::TempDir;

/// Run the real git CLI in `dir`, isolated from the user's global/system config.
pub(super) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(super) fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

pub(super) fn read(dir: &Path, rel: &str) -> String {
    fs::read_to_string(dir.join(rel)).unwrap()
}

/// A temp dir holding `repo/` (the target, on main with one commit) and room for brl's home.
pub(super) struct Fx {
    pub(super) tmp: TempDir,
}

impl Fx {
    pub(super) fn new() -> Fx {
        let tmp = TempDir::new().unwrap();
        let repo = tmp.path().join("repo");
        fs::create_dir(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["config", "user.name", "Test User"]);
        git(&repo, &["config", "user.email", "test@example.com"]);
        write(&repo, ".gitignore", "*.log\nnode_modules/\n");
        write(&repo, "a.txt", "one\ntwo\nthree\n");
        write(&repo, "src/lib.txt", "lib\n");
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "initial"]);
        Fx { tmp }
    }
    pub(super) fn repo(&self) -> PathBuf {
        self.tmp.path().join("repo")
    }
    fn wt(&self, name: &str) -> PathBuf {
        self.tmp.path().join("home").join("wt").join(name)
    }
    pub(super) fn target(&self) -> Target {
        Target::open(&self.repo(), "main").unwrap()
    }
    /// Like a brl session: branch off main, worktree, write files, commit_all.
    pub(super) fn session(
        &self,
        t: &Target,
        name: &str,
        files: &[(&str, &str)],
    ) -> (String, PathBuf) {
        let branch = format!("brl/{name}/1");
        t.create_branch(&branch, t.main_commit().unwrap()).unwrap();
        let wt = self.wt(name);
        t.ensure_worktree(name, &wt, &branch).unwrap();
        for (f, c) in files {
            write(&wt, f, c);
        }
        commit_all(&wt, &format!("work in {name}"))
            .unwrap()
            .unwrap();
        (branch, wt)
    }
}

pub(super) fn status(dir: &Path) -> String {
    git(dir, &["status", "--porcelain"])
}

pub(super) fn rev(dir: &Path, what: &str) -> String {
    git(dir, &["rev-parse", what]).trim().to_string()
}

#[test]
fn open_errors_name_path_and_fix() {
    let fx = Fx::new();
    let plain = fx.tmp.path().join("plain");
    fs::create_dir(&plain).unwrap();
    let e = Target::open(&plain, "main").err().unwrap().to_string();
    assert!(
        e.contains(&plain.display().to_string()) && e.contains("not a git repository"),
        "{e}"
    );

    let e = Target::open(&fx.repo(), "trunk").err().unwrap().to_string();
    assert!(e.contains("'trunk' not found") && e.contains("main"), "{e}");

    let empty = fx.tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    git(&empty, &["init", "-q", "-b", "main"]);
    let e = Target::open(&empty, "main").err().unwrap().to_string();
    assert!(e.contains("no commits yet"), "{e}");

    let bare = fx.tmp.path().join("bare.git");
    git(
        fx.tmp.path(),
        &["clone", "-q", "--bare", "repo", "bare.git"],
    );
    let t = Target::open(&bare, "main").unwrap();
    assert_eq!(t.main_name(), "main");
    assert_eq!(t.path(), bare.as_path());
    assert_eq!(
        t.main_commit().unwrap().to_string(),
        rev(&fx.repo(), "main")
    );
}

#[test]
fn ensure_worktree_creates_then_reuses_without_touching_target() {
    let fx = Fx::new();
    let repo = fx.repo();
    // The user is mid-edit in their own tree.
    write(&repo, "a.txt", "user edit\n");
    write(&repo, "notes.txt", "untracked user file\n");
    git(&repo, &["add", "notes.txt"]);
    write(&repo, "notes.txt", "staged then edited\n");
    let before_status = status(&repo);
    let before_head = fs::read_to_string(repo.join(".git/HEAD")).unwrap();
    let before_index = fs::read(repo.join(".git/index")).unwrap();

    let t = fx.target();
    let main = t.main_commit().unwrap();
    t.create_branch("brl/s1/1", main).unwrap();
    let wt = fx.wt("s1");
    t.ensure_worktree("s1", &wt, "brl/s1/1").unwrap();
    assert_eq!(read(&wt, "a.txt"), "one\ntwo\nthree\n");
    assert_eq!(
        worktree_head_branch(&wt).unwrap().as_deref(),
        Some("brl/s1/1")
    );
    assert_eq!(status(&wt), "");

    // Cycle 1 work: a committed file, then leftover junk of every kind.
    write(&wt, "b.txt", "from cycle 1\n");
    let c1 = commit_all(&wt, "cycle 1").unwrap().unwrap();
    write(&wt, "a.txt", "half-done edit\n");
    write(&wt, "junk.txt", "junk\n");
    write(&wt, "junkdir/deep.txt", "junk\n");
    write(&wt, "node_modules/x.js", "kept\n");
    write(&wt, "build.log", "kept\n");
    detach_worktree(&wt).unwrap();
    assert_eq!(worktree_head_branch(&wt).unwrap(), None);

    // Next cycle on a new branch from main: reuse the same worktree.
    t.create_branch("brl/s1/2", main).unwrap();
    t.ensure_worktree("s1", &wt, "brl/s1/2").unwrap();
    assert_eq!(
        worktree_head_branch(&wt).unwrap().as_deref(),
        Some("brl/s1/2")
    );
    assert_eq!(read(&wt, "a.txt"), "one\ntwo\nthree\n");
    assert!(!wt.join("b.txt").exists(), "file of the old branch removed");
    assert!(!wt.join("junk.txt").exists(), "untracked junk removed");
    assert!(
        !wt.join("junkdir/deep.txt").exists(),
        "untracked junk dir removed"
    );
    assert_eq!(read(&wt, "node_modules/x.js"), "kept\n");
    assert_eq!(read(&wt, "build.log"), "kept\n");
    assert_eq!(status(&wt), "");
    assert_eq!(t.branch_tip("brl/s1/1").unwrap(), c1, "old branch intact");

    // Reuse while the branch is already checked out there is a plain reset too.
    write(&wt, "a.txt", "dirty\n");
    t.ensure_worktree("s1", &wt, "brl/s1/2").unwrap();
    assert_eq!(read(&wt, "a.txt"), "one\ntwo\nthree\n");

    // The target repo's tree, index and HEAD are untouched.
    assert_eq!(status(&repo), before_status);
    assert_eq!(
        fs::read_to_string(repo.join(".git/HEAD")).unwrap(),
        before_head
    );
    assert_eq!(fs::read(repo.join(".git/index")).unwrap(), before_index);
    assert_eq!(read(&repo, "a.txt"), "user edit\n");
    assert_eq!(read(&repo, "notes.txt"), "staged then edited\n");
}

#[test]
fn ensure_worktree_stale_and_conflicting_records() {
    let fx = Fx::new();
    let t = fx.target();
    let main = t.main_commit().unwrap();
    t.create_branch("brl/s/1", main).unwrap();
    let wt = fx.wt("s");
    t.ensure_worktree("s", &wt, "brl/s/1").unwrap();

    // Its directory was deleted behind brl's back: prune and recreate.
    fs::remove_dir_all(&wt).unwrap();
    t.ensure_worktree("s", &wt, "brl/s/1").unwrap();
    assert_eq!(read(&wt, "a.txt"), "one\ntwo\nthree\n");
    assert_eq!(
        worktree_head_branch(&wt).unwrap().as_deref(),
        Some("brl/s/1")
    );

    // Same name, different live directory: error naming both.
    let other = fx.wt("elsewhere");
    t.create_branch("brl/s/2", main).unwrap();
    let e = t
        .ensure_worktree("s", &other, "brl/s/2")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains(&other.display().to_string()) && e.contains("wt/s"),
        "{e}"
    );

    // A branch checked out elsewhere (here: main in the user's tree) is refused.
    let e = t
        .ensure_worktree("m", &fx.wt("m"), "main")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("already checked out"), "{e}");

    // A non-empty foreign directory at the path is not clobbered.
    let foreign = fx.wt("foreign");
    write(&foreign, "precious.txt", "x\n");
    let e = t
        .ensure_worktree("foreign", &foreign, "brl/s/2")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("already exists"), "{e}");
    assert_eq!(read(&foreign, "precious.txt"), "x\n");
    assert!(t.ensure_worktree("a/b", &fx.wt("x"), "brl/s/2").is_err());
    assert!(t.ensure_worktree("n", &fx.wt("n"), "no/such").is_err());
}

#[test]
fn commit_all_commits_changes_but_not_ignored_files() {
    let fx = Fx::new();
    let t = fx.target();
    t.create_branch("brl/c/1", t.main_commit().unwrap())
        .unwrap();
    let wt = fx.wt("c");
    t.ensure_worktree("c", &wt, "brl/c/1").unwrap();
    assert_eq!(commit_all(&wt, "nothing").unwrap(), None);

    write(&wt, "a.txt", "changed\n");
    write(&wt, "new/file.txt", "new\n");
    write(&wt, "debug.log", "ignored\n");
    fs::remove_file(wt.join("src/lib.txt")).unwrap();
    let id = commit_all(&wt, "agent work\n\nmore detail")
        .unwrap()
        .unwrap();
    assert_eq!(t.branch_tip("brl/c/1").unwrap(), id);
    let files = git(&wt, &["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(
        files.contains("new/file.txt") && files.contains("a.txt"),
        "{files}"
    );
    assert!(
        !files.contains("debug.log") && !files.contains("src/lib.txt"),
        "{files}"
    );
    assert_eq!(status(&wt), "");
    let log = t.commits_between(t.main_commit().unwrap(), id).unwrap();
    assert_eq!(log, vec![(id, "agent work".to_string())]);
    let author = git(&wt, &["log", "-1", "--format=%an <%ae>"]);
    assert_eq!(author.trim(), "Test User <test@example.com>");
    assert_eq!(commit_all(&wt, "again").unwrap(), None);
    assert!(commit_all(&fx.wt("missing"), "x").is_err());
}

#[test]
fn create_and_delete_branches() {
    let fx = Fx::new();
    let t = fx.target();
    let main = t.main_commit().unwrap();
    assert!(!t.branch_exists("brl/x/1"));
    t.create_branch("brl/x/1", main).unwrap();
    assert!(t.branch_exists("brl/x/1"));
    assert_eq!(t.branch_tip("brl/x/1").unwrap(), main);
    let e = t.create_branch("brl/x/1", main).err().unwrap().to_string();
    assert!(e.contains("already exists"), "{e}");
    assert!(t.create_branch("bad..name", main).is_err());
    t.delete_branch("brl/x/1").unwrap();
    assert!(!t.branch_exists("brl/x/1"));
    assert!(t.delete_branch("brl/x/1").is_err());
    assert!(t.delete_branch("main").is_err());
    assert!(t.branch_tip("brl/x/1").is_err());

    // Checked out in a worktree: refused until detached.
    let (branch, wt) = fx.session(&t, "d", &[("d.txt", "d\n")]);
    let e = t.delete_branch(&branch).err().unwrap().to_string();
    assert!(e.contains("checked out") && e.contains("wt/d"), "{e}");
    detach_worktree(&wt).unwrap();
    t.delete_branch(&branch).unwrap();
    assert!(!t.branch_exists(&branch));
    assert_eq!(
        read(&wt, "d.txt"),
        "d\n",
        "detached worktree keeps its files"
    );

    // A worktree whose directory vanished does not block deletion.
    let (branch, wt) = fx.session(&t, "gone", &[("g.txt", "g\n")]);
    fs::remove_dir_all(&wt).unwrap();
    t.delete_branch(&branch).unwrap();
}

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
    let (branch, _) = fx.session(&t, "dy", &[("dy.txt", "dy\n")]);
    let old = t.main_commit().unwrap();
    write(&repo, "a.txt", "uncommitted user edit\n");
    let MergeOutcome::Refused { reason } = t.merge_into_main(&branch).unwrap() else {
        panic!("expected Refused")
    };
    assert!(
        reason.contains("a.txt") && reason.contains("nothing was changed"),
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
