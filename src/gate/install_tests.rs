use super::*;

const CLAUDE_GITIGNORE: &str = ".claude/.gitignore";
use std::fs;
use std::process::Command;
use tempfile::TempDir;

/// The real git CLI in `dir`, isolated from the user's config; `(success, stdout + stderr)`.
fn git_out(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("run git");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn git(dir: &Path, args: &[&str]) -> String {
    let (ok, text) = git_out(dir, args);
    assert!(ok, "git {args:?} in {}: {text}", dir.display());
    text
}

/// A repository `repo/` with `files` committed on main, and a linked worktree `wt/` on a
/// brl-style branch.
fn fixture(files: &[(&str, &str)]) -> (TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    fs::create_dir(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    fs::write(repo.join("README.md"), "hello\n").expect("write");
    for (p, c) in files {
        let f = repo.join(p);
        fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
        fs::write(f, c).expect("write");
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "init"]);
    let wt = tmp.path().join("wt");
    git(
        &repo,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "brl/s1/1",
            wt.to_str().expect("utf8"),
        ],
    );
    (tmp, repo, wt)
}

const CMD: &str = "'/opt/brl' gate --home '/h' --session 's1'";

fn settings(wt: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(wt.join(SETTINGS)).expect("read")).expect("json")
}

fn our_groups(v: &Value) -> usize {
    v["hooks"]["PreToolUse"]
        .as_array()
        .map(|a| a.iter().filter(|g| is_ours(g)).count())
        .unwrap_or(0)
}

/// `git add -A && git commit` in the worktree commits nothing of the hook, and neither does brl.
fn assert_not_committed(wt: &Path) {
    git(wt, &["add", "-A"]);
    let staged = git(wt, &["diff", "--cached", "--name-only"]);
    assert!(!staged.contains(".claude"), "staged: {staged}");
    let (_, out) = git_out(wt, &["commit", "-m", "agent work"]);
    assert!(!out.contains(".claude"), "{out}");
    for f in [SETTINGS, ".claude/.gitignore"] {
        let (_, committed) = git_out(wt, &["show", &format!("HEAD:{f}")]);
        assert!(!committed.contains("gate --home"), "{committed}");
        assert!(!committed.contains("Written by brl"), "{committed}");
    }
    assert_eq!(crate::git::commit_all(wt, "brl").expect("commit_all"), None);
}

#[test]
fn fresh_worktree_gets_the_hook_and_a_self_ignoring_gitignore() {
    let (_tmp, repo, wt) = fixture(&[]);
    let r = install(&wt, CMD).expect("install");
    assert_eq!(
        r,
        Installed {
            settings: Change::Added,
            kept_out: KeptOut::ClaudeGitignore
        }
    );
    let v = settings(&wt);
    assert_eq!(v["hooks"]["PreToolUse"][0]["matcher"], MATCHER);
    assert_eq!(v["hooks"]["PreToolUse"][0]["hooks"][0]["command"], CMD);
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    assert_not_committed(&wt);
    // The operator's checkout is untouched: no shared exclude line, nothing new there.
    let exclude = fs::read_to_string(repo.join(".git/info/exclude")).unwrap_or_default();
    assert!(!exclude.contains(".claude"), "{exclude}");
    assert!(!repo.join(".claude").exists());
    // Idempotent.
    let before = fs::read(wt.join(SETTINGS)).expect("read");
    let r = install(&wt, CMD).expect("again");
    assert_eq!(r.settings, Change::Unchanged);
    assert_eq!(fs::read(wt.join(SETTINGS)).expect("read"), before);
}

const EXISTING: &str = r#"{
  "permissions": { "allow": ["Bash(npm test)"] },
  "env": { "FOO": "1" },
  "hooks": {
    "PreToolUse": [ { "matcher": "Bash", "hooks": [ { "type": "command", "command": "./lint.sh" } ] } ],
    "PostToolUse": [ { "matcher": "Write", "hooks": [ { "type": "command", "command": "fmt" } ] } ]
  }
}
"#;

#[test]
fn tracked_settings_are_merged_and_skip_worktree() {
    let (_tmp, _repo, wt) = fixture(&[(SETTINGS, EXISTING)]);
    let r = install(&wt, CMD).expect("install");
    assert_eq!(
        r,
        Installed {
            settings: Change::Updated,
            kept_out: KeptOut::SkipWorktree
        }
    );
    let v = settings(&wt);
    assert_eq!(v["permissions"]["allow"][0], "Bash(npm test)");
    assert_eq!(v["env"]["FOO"], "1");
    assert_eq!(
        v["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "./lint.sh"
    );
    assert_eq!(v["hooks"]["PostToolUse"][0]["hooks"][0]["command"], "fmt");
    assert_eq!(v["hooks"]["PreToolUse"][1]["hooks"][0]["command"], CMD);
    assert!(git(&wt, &["ls-files", "-v", SETTINGS]).starts_with("S "));
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    assert_not_committed(&wt);
    git(&wt, &["commit", "-q", "-a", "--allow-empty", "-m", "all"]);
    let committed = git(&wt, &["show", &format!("HEAD:{SETTINGS}")]);
    assert!(!committed.contains("gate --home"), "{committed}");
    // Idempotent, and a new executable path replaces our entry instead of adding one.
    assert_eq!(
        install(&wt, CMD).expect("again").settings,
        Change::Unchanged
    );
    let moved = "'/new/brl' gate --home '/h' --session 's1'";
    assert_eq!(
        install(&wt, moved).expect("moved").settings,
        Change::Updated
    );
    let v = settings(&wt);
    assert_eq!(our_groups(&v), 1);
    assert_eq!(v["hooks"]["PreToolUse"].as_array().map(Vec::len), Some(2));
}

#[test]
fn malformed_settings_are_left_untouched() {
    for bad in [
        "{ not json",
        "[1, 2]",
        r#"{"hooks": []}"#,
        r#"{"hooks": {"PreToolUse": {}}}"#,
    ] {
        let (_tmp, _repo, wt) = fixture(&[(SETTINGS, bad)]);
        let e = install(&wt, CMD).expect_err("must refuse");
        assert!(e.to_string().contains("left untouched"), "{e}");
        assert_eq!(fs::read_to_string(wt.join(SETTINGS)).expect("read"), bad);
        assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    }
}

#[test]
fn repository_ignore_rules_are_used_and_a_tracked_claude_gitignore_falls_back() {
    let (_tmp, _repo, wt) = fixture(&[(".gitignore", ".claude/\n")]);
    let r = install(&wt, CMD).expect("install");
    assert_eq!(r.kept_out, KeptOut::AlreadyIgnored);
    assert!(!wt.join(CLAUDE_GITIGNORE).exists());
    assert_not_committed(&wt);

    let (_tmp, repo, wt) = fixture(&[(CLAUDE_GITIGNORE, "/local/\n")]);
    let r = install(&wt, CMD).expect("install");
    assert_eq!(r.kept_out, KeptOut::InfoExclude);
    assert_eq!(
        fs::read_to_string(wt.join(CLAUDE_GITIGNORE)).expect("read"),
        "/local/\n"
    );
    assert!(
        fs::read_to_string(repo.join(".git/info/exclude"))
            .expect("read")
            .contains("/.claude/settings.json")
    );
    assert_not_committed(&wt);
}

#[test]
fn merge_is_pure_and_idempotent() {
    let once = merge(None, CMD).expect("merge").expect("changed");
    assert_eq!(merge(Some(&once), CMD).expect("merge"), None);
    assert_eq!(merge(Some("  \n"), CMD).expect("merge"), Some(once));
    assert!(merge(Some("{"), CMD).is_err());
    assert!(
        hook_command(Path::new("/a b/brl"), Path::new("/it's"), "s1")
            .starts_with("'/a b/brl' gate --home '/it'\\''s' --session 's1'")
    );
}

/// brl reuses a session's worktree: the next cycle's checkout brings the repository's current
/// settings back (and clears the skip-worktree bit); installing again merges into those.
#[test]
fn a_reused_worktree_follows_the_repositorys_settings() {
    let (_tmp, repo, _wt) = fixture(&[(SETTINGS, EXISTING)]);
    let wt = repo.parent().expect("parent").join("wt2");
    let target = crate::git::Target::open(&repo, "main").expect("target");
    let tip = target.main_commit().expect("tip");
    target.create_branch("brl/s1/a", tip).expect("branch");
    target
        .ensure_worktree("w2", &wt, "brl/s1/a")
        .expect("worktree");
    install(&wt, CMD).expect("install");
    fs::write(
        repo.join(SETTINGS),
        EXISTING.replace("\"FOO\": \"1\"", "\"FOO\": \"2\""),
    )
    .expect("write");
    git(&repo, &["commit", "-qam", "settings"]);
    let tip = target.main_commit().expect("tip");
    target.create_branch("brl/s1/b", tip).expect("branch");
    target
        .ensure_worktree("w2", &wt, "brl/s1/b")
        .expect("worktree again");
    assert_eq!(
        install(&wt, CMD).expect("install again").kept_out,
        KeptOut::SkipWorktree
    );
    let v = settings(&wt);
    assert_eq!(v["env"]["FOO"], "2");
    assert_eq!(our_groups(&v), 1);
    assert_not_committed(&wt);
}

#[test]
fn each_agent_gets_the_gate_its_own_way() {
    let (_tmp, _repo, wt) = fixture(&[(".gemini/settings.json", "")]);
    // Gemini CLI: a BeforeTool hook in .gemini/settings.json (here tracked, empty).
    let r = install_for(PresetKind::Gemini, &wt, CMD).expect("gemini");
    assert_eq!(r.kept_out, KeptOut::SkipWorktree);
    let v: Value =
        serde_json::from_str(&fs::read_to_string(wt.join(".gemini/settings.json")).expect("read"))
            .expect("json");
    assert_eq!(v["hooks"]["BeforeTool"][0]["matcher"], "*");
    assert_eq!(v["hooks"]["BeforeTool"][0]["hooks"][0]["command"], CMD);
    assert!(v["hooks"].get("PreToolUse").is_none(), "{v}");
    // Codex takes it on its command line; opencode and aider have none.
    assert_eq!(
        install_for(PresetKind::Codex, &wt, CMD)
            .expect("codex")
            .settings,
        Change::OnCommandLine
    );
    for k in [PresetKind::Opencode, PresetKind::Aider] {
        assert_eq!(
            install_for(k, &wt, CMD).expect("none").settings,
            Change::NoHooks
        );
    }
    assert!(!wt.join(".claude").exists());
    // A custom command may wrap Claude Code: it gets Claude's hook file.
    let r = install_for(PresetKind::Custom, &wt, CMD).expect("custom");
    assert_eq!(r.settings, Change::Added);
    assert_eq!(our_groups(&settings(&wt)), 1);
    // Untracked Gemini settings: a self-ignoring .gemini/.gitignore, nothing committed.
    let (_tmp2, _repo2, wt2) = fixture(&[]);
    let r = install_for(PresetKind::Gemini, &wt2, CMD).expect("gemini");
    assert_eq!(r.kept_out, KeptOut::ClaudeGitignore);
    git(&wt2, &["add", "-A"]);
    let staged = git(&wt2, &["diff", "--cached", "--name-only"]);
    assert!(!staged.contains(".gemini"), "staged: {staged}");
    assert_eq!(git(&wt2, &["status", "--porcelain"]), "");
}

#[test]
fn the_configured_agent_is_read_from_brl_toml() {
    let d = tempfile::tempdir().expect("tempdir");
    let home = Home::new(d.path());
    assert_eq!(configured_agent(&home).expect("none"), PresetKind::Claude);
    let cases = [
        (
            "[agent]\npreset = \"gemini\"\ncommand = \"x\"\n",
            PresetKind::Gemini,
        ),
        (
            "[agent]\ncommand = \"codex exec --json\"\n",
            PresetKind::Codex,
        ),
        (
            "[agent]\ncommand = \"aider --yes-always\"\n",
            PresetKind::Aider,
        ),
        ("repo = \"r\"\n", PresetKind::Claude),
    ];
    for (text, want) in cases {
        fs::write(home.config_path(), text).expect("write");
        assert_eq!(configured_agent(&home).expect(text), want, "{text}");
    }
    fs::write(home.config_path(), "[agent]\npreset = \"vim\"\n").expect("write");
    let e = configured_agent(&home)
        .expect_err("unknown preset")
        .to_string();
    assert!(e.contains("[agent] preset") && e.contains("vim"), "{e}");
}
