//! Moving main and bringing a checked-out main along: resumable, the user's files left alone,
//! leftover lock files removed only when they are provably brl's.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

use super::tests::{Fx, git, read, rev, status, write};
use super::*;

#[test]
fn follow_main_resumes_a_half_done_update_and_leaves_the_users_files() {
    let fx = Fx::new();
    let repo = fx.repo();
    write(&repo, "run.sh", "echo hi\n");
    write(&repo, "d/x.txt", "x\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "more"]);
    let t = fx.target();
    let (branch, wt) = fx.session(
        &t,
        "fm",
        &[
            ("a.txt", "one\nTWO\nthree\n"),
            ("new/n.txt", "n\n"),
            ("new/m.txt", "m\n"),
        ],
    );
    fs::remove_file(wt.join("src/lib.txt")).unwrap();
    fs::remove_dir_all(wt.join("d")).unwrap();
    write(&wt, "d", "d is a file now\n");
    fs::set_permissions(wt.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("a.txt", wt.join("link")).unwrap();
    commit_all(&wt, "more work").unwrap().unwrap();
    let old = t.main_commit().unwrap();
    let new = t.branch_tip(&branch).unwrap();
    write(&repo, "mine.txt", "untracked, mine\n");
    // An untracked file inside the directory that becomes a file is in the way.
    write(&repo, "d/notes.txt", "mine too\n");
    let why = t.check_main_trees(old, new).unwrap().unwrap();
    assert!(why.contains("in the way (d)"), "{why}");
    fs::remove_file(repo.join("d/notes.txt")).unwrap();
    assert_eq!(t.check_main_trees(old, new).unwrap(), None);

    t.move_main(old, new, "test").unwrap();
    // Killed half-way: a.txt already new; and then the user put their own new/m.txt there.
    write(&repo, "a.txt", "one\nTWO\nthree\n");
    write(&repo, "new/m.txt", "the user's m\n");
    let mut calls = 0;
    let notes = t.follow_main(old, new, None, &mut || calls += 1).unwrap();
    assert_eq!(calls, 1, "called once, after the first file written");
    assert!(
        notes.len() == 1 && notes[0].contains("new/m.txt") && !notes[0].contains("a.txt"),
        "{notes:?}"
    );
    assert_eq!(read(&repo, "a.txt"), "one\nTWO\nthree\n");
    assert_eq!(read(&repo, "new/n.txt"), "n\n");
    assert_eq!(
        read(&repo, "new/m.txt"),
        "the user's m\n",
        "the user's file is left"
    );
    assert_eq!(
        read(&repo, "d"),
        "d is a file now\n",
        "a directory became a file"
    );
    assert!(!repo.join("src").exists(), "emptied directories go");
    assert_eq!(
        fs::read_link(repo.join("link")).unwrap(),
        Path::new("a.txt")
    );
    let mode = fs::metadata(repo.join("run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "{mode:o}");
    assert_eq!(read(&repo, "mine.txt"), "untracked, mine\n");
    assert_eq!(status(&repo), " M new/m.txt\n?? mine.txt\n");
    assert_eq!(rev(&repo, "HEAD"), new.to_string());

    // Again: nothing to do, nothing written.
    fs::write(repo.join("new/m.txt"), "m\n").unwrap();
    let mut calls = 0;
    let notes = t.follow_main(old, new, None, &mut || calls += 1).unwrap();
    assert_eq!((calls, notes.len()), (0, 0), "{notes:?}");
    assert_eq!(status(&repo), "?? mine.txt\n");
    let leftovers: Vec<_> = walk(&repo)
        .into_iter()
        .filter(|p| p.contains(".brl-new"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() && !p.ends_with(".git") {
            out.extend(walk(&p));
        }
        out.push(p.display().to_string());
    }
    out
}

#[test]
fn a_tree_whose_index_changed_since_is_left_alone() {
    let fx = Fx::new();
    let repo = fx.repo();
    let t = fx.target();
    let (branch, _) = fx.session(&t, "ix", &[("a.txt", "agent\n")]);
    let old = t.main_commit().unwrap();
    let new = t.branch_tip(&branch).unwrap();
    // Checked clean (the check keeps its handle on the index for the update)...
    assert_eq!(t.check_main_trees(old, new).unwrap(), None);
    t.move_main(old, new, "test").unwrap();
    // ...then the user stages something: the update reads the index again and sees it.
    write(&repo, "staged.txt", "the user staged this\n");
    git(&repo, &["add", "staged.txt"]);
    let notes = t.follow_main(old, new, None, &mut || {}).unwrap();
    assert!(notes[0].contains("index changed"), "{notes:?}");
    assert_eq!(read(&repo, "a.txt"), "one\ntwo\nthree\n", "untouched");
}

#[test]
fn leftover_locks_are_removed_only_when_provably_ours() {
    let fx = Fx::new();
    let repo = fx.repo();
    let t = fx.target();
    let (branch, _) = fx.session(&t, "lk", &[("a.txt", "agent\n")]);
    let old = t.main_commit().unwrap();
    let new = t.branch_tip(&branch).unwrap();

    let ref_lock = repo.join(".git/refs/heads/main.lock");
    let began = SystemTime::now() - Duration::from_secs(60);
    assert_eq!(
        t.clear_main_ref_lock(new, began),
        None,
        "no lock, nothing to say"
    );
    fs::write(&ref_lock, format!("{old}\n")).unwrap();
    let note = t.clear_main_ref_lock(new, began).unwrap();
    assert!(note.contains("not brl's") && note.contains("rm "), "{note}");
    assert!(ref_lock.exists());
    fs::write(&ref_lock, format!("{new}\n")).unwrap();
    let future = SystemTime::now() + Duration::from_secs(60);
    let note = t.clear_main_ref_lock(new, future).unwrap();
    assert!(
        note.contains("not brl's"),
        "older than the decision: {note}"
    );
    let note = t.clear_main_ref_lock(new, began).unwrap();
    assert!(note.contains("removed"), "{note}");
    assert!(!ref_lock.exists());
    fs::write(&ref_lock, "").unwrap();
    let note = t.clear_main_ref_lock(new, began).unwrap();
    assert!(
        note.contains("removed"),
        "killed before libgit2 wrote it: {note}"
    );
    assert!(!ref_lock.exists());

    t.move_main(old, new, "test").unwrap();
    let index_lock = repo.join(".git/index.lock");
    fs::write(&index_lock, "").unwrap();
    let e = t
        .follow_main(old, new, None, &mut || {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("index.lock") && e.contains("rm "), "{e}");
    assert!(index_lock.exists(), "not known to be ours: kept");
    let later = Some(SystemTime::now() + Duration::from_secs(60));
    assert!(
        t.follow_main(old, new, later, &mut || {}).is_err(),
        "older than our step: kept"
    );
    assert!(index_lock.exists());
    let before = Some(SystemTime::now() - Duration::from_secs(60));
    let notes = t.follow_main(old, new, before, &mut || {}).unwrap();
    assert!(notes.iter().any(|n| n.contains("removed")), "{notes:?}");
    assert!(!index_lock.exists());
    assert_eq!(read(&repo, "a.txt"), "agent\n");
    assert_eq!(status(&repo), "");
}
