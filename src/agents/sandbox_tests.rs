use super::*;

fn plan() -> Plan {
    Plan {
        worktree: "/h/worktrees/s1".into(),
        git_dir: "/r/.git/worktrees/brl-s1".into(),
        common_dir: "/r/.git".into(),
        branch: Some("brl/s1/20261204-2300".into()),
        home: "/h".into(),
        user_home: None,
        preset: PresetKind::Custom,
    }
}

#[test]
fn the_argv_binds_only_what_a_cycle_writes() {
    let a = plan().bwrap_args().join(" ");
    assert!(
        a.starts_with("--ro-bind / / --dev /dev --proc /proc --tmpfs /tmp"),
        "{a}"
    );
    for w in [
        "--bind /h/worktrees/s1 /h/worktrees/s1",
        "--bind /r/.git/worktrees/brl-s1 /r/.git/worktrees/brl-s1",
        "--bind /r/.git/objects /r/.git/objects",
        "--bind /r/.git/refs/heads/brl/s1 /r/.git/refs/heads/brl/s1",
        "--bind /r/.git/logs/refs/heads/brl/s1 /r/.git/logs/refs/heads/brl/s1",
        "--bind /h/logs /h/logs",
        "--ro-bind /r /r",
        "--share-net --cap-drop ALL --unshare-pid --new-session --die-with-parent --chdir /h/worktrees/s1",
    ] {
        assert!(a.contains(w), "missing `{w}` in {a}");
    }
    assert!(!a.contains("refs/heads/main"), "{a}");
    assert!(!a.contains("--bind /r/.git /r/.git"), "{a}");
    // the new session and PID namespace are for the child: bwrap itself is not made a group
    // leader (brl's timeout kills bwrap's group), so `--new-session` comes with
    // `--die-with-parent` and `--unshare-pid`
    assert!(
        a.contains("--unshare-pid --new-session --die-with-parent"),
        "{a}"
    );
}

#[test]
fn the_wrapped_command_quotes_everything() {
    let w = plan().wrap("echo 'it''s' && x");
    assert!(w.starts_with("exec bwrap --ro-bind / /"), "{w}");
    assert!(
        w.ends_with(r#"-- sh -c 'echo '\''it'\'''\''s'\'' && x'"#),
        "{w}"
    );
    assert_eq!(shell_quote("a b"), "'a b'");
    assert_eq!(shell_quote("/x/y.z"), "/x/y.z");
}

#[test]
fn a_plain_checkout_is_refused_and_a_linked_worktree_planned() {
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = tmp.path().join("r");
    let git = |dir: &Path, args: &[&str]| {
        let ok = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs")
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    git(
        &repo,
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@e.invalid",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "i",
        ],
    );
    let e = Plan::for_worktree(&repo, None, tmp.path(), PresetKind::Custom)
        .expect_err("the main checkout");
    assert!(
        e.contains("not a linked worktree") && e.contains("sandbox = \"none\""),
        "{e}"
    );
    let wt = tmp.path().join("wt");
    git(
        &repo,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "brl/s1/x",
            &wt.display().to_string(),
        ],
    );
    let p = Plan::for_worktree(&wt, Some("brl/s1/x"), tmp.path(), PresetKind::Custom)
        .expect("a linked worktree");
    assert!(
        p.git_dir.starts_with(&p.common_dir) && p.git_dir != p.common_dir,
        "{p:?}"
    );
    let e =
        Plan::for_worktree(tmp.path(), None, tmp.path(), PresetKind::Custom).expect_err("no repo");
    assert!(e.contains("not a git worktree"), "{e}");
}

#[test]
fn secrets_and_env_files_are_hidden_when_present() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("u");
    std::fs::create_dir_all(home.join(".ssh")).expect("mkdir");
    std::fs::write(home.join(".netrc"), "machine x").expect("write");
    let repo = tmp.path().join("r");
    std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
    std::fs::create_dir_all(repo.join("svc")).expect("mkdir");
    std::fs::write(repo.join(".env"), "K=v").expect("write");
    std::fs::write(repo.join("svc/.env.local"), "K=v").expect("write");
    let mut p = plan();
    p.user_home = Some(home.clone());
    p.common_dir = repo.join(".git");
    let a = p.bwrap_args().join(" ");
    let s = |p: PathBuf| p.display().to_string();
    assert!(
        a.contains(&format!("--tmpfs {}", s(home.join(".ssh")))),
        "{a}"
    );
    assert!(
        a.contains(&format!("--ro-bind /dev/null {}", s(home.join(".netrc")))),
        "{a}"
    );
    assert!(
        a.contains(&format!("--ro-bind /dev/null {}", s(repo.join(".env")))),
        "{a}"
    );
    assert!(a.contains(&s(repo.join("svc/.env.local"))), "{a}");
    assert!(!a.contains(".aws"), "absent secrets are not named: {a}");
}
