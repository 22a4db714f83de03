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
fn commit_all_leaves_agent_state_out() {
    let fx = Fx::new();
    let t = fx.target();
    t.create_branch("brl/st/1", t.main_commit().unwrap())
        .unwrap();
    let wt = fx.wt("st");
    t.ensure_worktree("st", &wt, "brl/st/1").unwrap();
    write(&wt, ".aider.chat.history.md", "# aider chat\n");
    write(&wt, ".aider.tags.cache.v4/cache.db", "x");
    write(&wt, ".claude/settings.local.json", "{}\n");
    // Only agent state: nothing to commit.
    assert_eq!(commit_all(&wt, "state only").unwrap(), None);
    write(&wt, "a.txt", "real work\n");
    let id = commit_all(&wt, "work").unwrap().expect("a commit");
    let files = git(&wt, &["ls-tree", "-r", "--name-only", &id.to_string()]);
    assert!(files.contains("a.txt"), "{files}");
    assert!(
        !files.contains(".aider") && !files.contains(".claude"),
        "{files}"
    );
    // Still there, untracked, for the agent's next run.
    assert!(wt.join(".aider.chat.history.md").exists());
}
