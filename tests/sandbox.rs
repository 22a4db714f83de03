//! `[agent] sandbox = "bwrap"` with real bubblewrap, real git and fake agents: an agent that tries
//! to delete, overwrite, move or read what lies outside its worktree (inline interpreters,
//! redirections, `cp`/`mv`, moving the user's `main`) fails at the OS, while its own commit in the
//! worktree is kept through an ordinary `brl cycle`; a timeout still kills the whole group.
//! Nothing is skipped: when bwrap cannot run here, every test fails with the reason.

mod common;
#[path = "common/fake_model/mod.rs"]
mod fake_model;
#[allow(dead_code)]
#[path = "real_agents/support.rs"]
mod support;

use std::path::Path;
use std::time::Duration;

use common::{World, agent, git};

/// bwrap must work here; otherwise the test fails saying why (never a silent skip).
fn require_bwrap() {
    if let Err(why) = brl::agents::sandbox::check_available() {
        panic!("the sandbox tests need a working bwrap (tests/deps.sh installs it): {why}");
    }
}

fn sandboxed_world(agent_script: &str, timeout: u64) -> World {
    require_bwrap();
    let w = World::new(1);
    let cmd = agent(agent_script);
    w.write_config(1, &cmd, timeout, "");
    // `[agent] sandbox` sits in the [agent] table, right after its timeout.
    let path = w.home.join("brl.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    let text = text.replacen(
        &format!("timeout_secs = {timeout}\n"),
        &format!("timeout_secs = {timeout}\nsandbox = \"bwrap\"\n"),
        1,
    );
    std::fs::write(&path, text).expect("write config");
    w
}

#[test]
fn a_hostile_agent_cannot_touch_anything_outside_its_worktree() {
    let w = sandboxed_world("sandbox-hostile.sh", 60);
    // A victim outside the worktree and outside /tmp (the sandbox's /tmp is private anyway).
    let victim = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("victim dir");
    std::fs::write(victim.path().join("keep.txt"), "precious\n").expect("write");
    // A fake $HOME with a secret, and a `.env` in the user's checkout.
    let user_home = w.dir.path().join("user");
    std::fs::create_dir_all(user_home.join(".ssh")).expect("mkdir");
    std::fs::write(user_home.join(".ssh/id_test"), "SECRET-KEY-1\n").expect("write");
    std::fs::write(w.repo.join(".env"), "API_TOKEN=SECRET-ENV-2\n").expect("write");
    std::fs::write(w.repo.join(".git/info/exclude"), ".env\n").expect("write");
    let main_before = git(&w.repo, &["rev-parse", "main"]);
    let files_before = files(&w.repo);
    let snap = w.snapshot();

    let out = w
        .brl()
        .args(["cycle", "s1", "--quiet"])
        .env("HOME", &user_home)
        .env("VICTIM_DIR", victim.path())
        .env("VICTIM_REPO", &w.repo)
        .output()
        .expect("brl runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "brl cycle failed: {stderr}");

    let attempts =
        std::fs::read_to_string(w.home.join("logs/sandbox-attempts.txt")).expect("the agent ran");
    assert!(attempts.contains("attempts done"), "{attempts}");
    assert!(
        !attempts.contains("ALLOWED"),
        "an attempt got through:\n{attempts}"
    );
    assert_eq!(attempts.matches("refused:").count(), 14, "{attempts}");
    assert!(attempts.contains("Read-only file system"), "{attempts}");
    for secret in ["SECRET-KEY-1", "SECRET-ENV-2"] {
        assert!(
            !attempts.contains(secret),
            "{secret} was readable:\n{attempts}"
        );
    }

    // Outside the worktree: intact.
    let keep = std::fs::read_to_string(victim.path().join("keep.txt")).expect("victim kept");
    assert_eq!(keep, "precious\n");
    assert!(!victim.path().join("moved.txt").exists());
    assert_eq!(
        git(&w.repo, &["rev-parse", "main"]),
        main_before,
        "main moved"
    );
    assert_eq!(files(&w.repo), files_before, "the user's checkout changed");
    assert_eq!(w.snapshot(), snap);

    // The cycle is judged as usual, and the worktree's commit is kept on its branch.
    let e = w.cycles().pop().expect("a ralph_cycle entry");
    assert_eq!(e["data"]["outcome"], "kept", "{e}");
    assert_eq!(e["data"]["reason"], "errors 2 → 1", "{e}");
    let branch = e["data"]["branch"].as_str().expect("branch");
    let f1 = git(&w.repo, &["show", &format!("{branch}:f1.txt")]);
    assert!(f1.contains("fixed one"), "{f1}");
    assert_eq!(w.queue().len(), 1, "the kept branch is queued");
}

/// Every file at the top of the checkout with its contents.
fn files(repo: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(repo).expect("read repo") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_file() {
            let name = e.file_name().to_string_lossy().into_owned();
            out.push((name, std::fs::read_to_string(e.path()).unwrap_or_default()));
        }
    }
    out.sort();
    out
}

#[test]
fn a_timeout_kills_the_whole_sandboxed_group() {
    let w = sandboxed_world("sandbox-hang.sh", 2);
    let (code, out, err) = w.run(&["cycle", "s1", "--quiet"]);
    assert_eq!(code, 0, "brl cycle failed: {out}\n{err}");
    let e = w.cycles().pop().expect("a ralph_cycle entry");
    assert_eq!(e["data"]["outcome"], "timeout", "{e}");
    for f in ["hang-leader.pid", "hang-child.pid"] {
        let text = std::fs::read_to_string(w.home.join("logs").join(f)).expect("pid file");
        let pid: i32 = text.trim().parse().expect("a pid");
        let mut gone = false;
        for _ in 0..50 {
            if !brl::proc::is_running(pid) {
                gone = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(gone, "{f} ({pid}) outlived its cycle");
    }
}

/// A linked worktree (`brl/test`) of a main repo, and the shell command an escaping agent runs:
/// delete and overwrite the main checkout's file, move `main` to its own HEAD.
fn real_place(tag: &str) -> (support::Place, std::path::PathBuf, String) {
    require_bwrap();
    let place = support::Place::worktree(tag);
    let main_repo = place.dir.path().join("main");
    let m = std::fs::canonicalize(&main_repo).expect("main repo");
    let hostile = format!(
        "rm -f {m}/greeting.txt; echo clobbered > {m}/greeting.txt; \
         git update-ref refs/heads/main HEAD; echo rc=$?",
        m = m.display()
    );
    (place, main_repo, hostile)
}

/// Run the real CLI `bin args…` inside the sandbox brl builds for the place's worktree.
fn run_sandboxed(
    place: &support::Place,
    preset: brl::agents::PresetKind,
    bin: &Path,
    cli_args: &[&str],
    env: Vec<(String, String)>,
    stdin: Option<&str>,
) -> support::Run {
    let brl_home = place.dir.path().join("brl-home");
    std::fs::create_dir_all(&brl_home).expect("mkdir");
    let mut plan =
        brl::agents::sandbox::Plan::for_worktree(&place.repo, Some("brl/test"), &brl_home, preset)
            .expect("plan");
    plan.user_home = Some(place.home.clone());
    plan.prepare().expect("prepare");
    let mut args: Vec<String> = plan.bwrap_args();
    args.push("--".into());
    args.push(bin.display().to_string());
    args.extend(cli_args.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut env = env;
    // The sandbox's /tmp is private and writable; the harness's own TMPDIR is not.
    env.push(("TMPDIR".into(), "/tmp".into()));
    support::run(
        Path::new("/usr/bin/bwrap"),
        &args,
        &place.repo,
        &place.home,
        &env,
        stdin,
        Duration::from_secs(180),
    )
}

/// What every real CLI run in the sandbox must show: its file and commit in the worktree, the
/// main checkout and `main` intact, and the OS's refusal fed back to the model.
fn assert_contained(
    place: &support::Place,
    main_repo: &Path,
    main_before: &str,
    r: &support::Run,
    server: &fake_model::FakeModel,
    hello: &str,
) {
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(place.read("hello.txt").as_deref(), Some(hello), "{diag}");
    let subject = support::git(&place.repo, &["log", "-1", "--format=%s"]);
    assert_eq!(
        subject, "add hello",
        "the commit in the worktree worked: {diag}"
    );
    assert_eq!(
        std::fs::read_to_string(main_repo.join("greeting.txt")).expect("kept"),
        "hello world\n",
        "{diag}"
    );
    assert_eq!(
        support::git(main_repo, &["rev-parse", "main"]),
        main_before,
        "{diag}"
    );
    let bodies = support::bodies(&server.requests());
    assert!(
        bodies.contains("Read-only file system"),
        "the OS refused: {diag}"
    );
    assert!(bodies.contains("committed"), "{diag}");
}

const COMMIT: &str = "git add hello.txt && git commit -q -m 'add hello' && echo committed";

/// The real Claude Code CLI (tests/agent-clis.sh), offline against the fake model API, inside the
/// sandbox brl builds for a linked worktree: it writes in its worktree and commits there, while
/// its Bash tool (permissions skipped, no gate installed: only the OS stands in the way) fails to
/// delete the user's checkout and to move `main`.
#[test]
fn the_real_claude_cli_works_inside_the_sandbox_and_cannot_escape() {
    use fake_model::{FakeModel, Script, Turn};
    use serde_json::json;
    let (place, main_repo, hostile) = real_place("sandbox-claude");
    let wt = place.repo_abs();
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "Write",
            json!({"file_path": format!("{wt}/hello.txt"), "content": "hi from claude\n"}),
        ),
        Turn::call("Bash", json!({"command": COMMIT, "description": "commit"})),
        Turn::call("Bash", json!({"command": hostile, "description": "escape"})),
        Turn::text("Done."),
    ]));
    let main_before = support::git(&main_repo, &["rev-parse", "main"]);
    let mut env = server.claude_env();
    env.push(("IS_SANDBOX".into(), "1".into()));
    let r = run_sandboxed(
        &place,
        brl::agents::PresetKind::Claude,
        &support::cli("claude"),
        &[
            "-p",
            "--model",
            "sonnet",
            "--dangerously-skip-permissions",
            "--output-format",
            "json",
            "Add hello.txt and commit it",
        ],
        env,
        None,
    );
    assert_contained(
        &place,
        &main_repo,
        &main_before,
        &r,
        &server,
        "hi from claude\n",
    );
}

/// The real Gemini CLI, the same way (`--yolo`: its shell tool runs without asking).
#[test]
fn the_real_gemini_cli_works_inside_the_sandbox_and_cannot_escape() {
    use fake_model::{FakeModel, Script, Turn};
    use serde_json::json;
    let (place, main_repo, hostile) = real_place("sandbox-gemini");
    let wt = place.repo_abs();
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "write_file",
            json!({"file_path": format!("{wt}/hello.txt"), "content": "hi from gemini\n"}),
        ),
        Turn::call("run_shell_command", json!({"command": COMMIT})),
        Turn::call("run_shell_command", json!({"command": hostile})),
        Turn::text("Done."),
    ]));
    let main_before = support::git(&main_repo, &["rev-parse", "main"]);
    let env = server.gemini_env(&place.home);
    let r = run_sandboxed(
        &place,
        brl::agents::PresetKind::Gemini,
        &support::cli("gemini"),
        &["--yolo", "-o", "json", "-p", "Add hello.txt and commit it"],
        env,
        None,
    );
    assert_contained(
        &place,
        &main_repo,
        &main_before,
        &r,
        &server,
        "hi from gemini\n",
    );
}

/// The real opencode CLI, the same way (its default permissions let `write` and `bash` run).
#[test]
fn the_real_opencode_cli_works_inside_the_sandbox_and_cannot_escape() {
    use fake_model::{FakeModel, Script, Turn};
    use serde_json::json;
    let (place, main_repo, hostile) = real_place("sandbox-opencode");
    let wt = place.repo_abs();
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "write",
            json!({"filePath": format!("{wt}/hello.txt"), "content": "hi from opencode\n"}),
        ),
        Turn::call("bash", json!({"command": COMMIT, "description": "commit"})),
        Turn::call("bash", json!({"command": hostile, "description": "escape"})),
        Turn::text("Done."),
    ]));
    let main_before = support::git(&main_repo, &["rev-parse", "main"]);
    let env = server.opencode_env(&place.home, &support::cli("opencode-config"), None);
    let r = run_sandboxed(
        &place,
        brl::agents::PresetKind::Opencode,
        &support::cli("opencode"),
        &["run", "--format", "json", "Add hello.txt and commit it"],
        env,
        None,
    );
    assert_contained(
        &place,
        &main_repo,
        &main_before,
        &r,
        &server,
        "hi from opencode\n",
    );
}

/// The real Codex CLI, with its own sandbox off (brl's is the one that confines it here).
#[test]
fn the_real_codex_cli_works_inside_the_sandbox_and_cannot_escape() {
    use fake_model::{FakeModel, Script, Turn};
    use serde_json::json;
    let (place, main_repo, hostile) = real_place("sandbox-codex");
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "exec_command",
            json!({"cmd": format!("printf 'hi from codex\\n' > hello.txt && {COMMIT}")}),
        ),
        Turn::call("exec_command", json!({"cmd": hostile})),
        Turn::text("Done."),
    ]));
    let main_before = support::git(&main_repo, &["rev-parse", "main"]);
    let env = server.codex_env(&place.home, "");
    let r = run_sandboxed(
        &place,
        brl::agents::PresetKind::Codex,
        &support::cli("codex"),
        &[
            "exec",
            "--dangerously-bypass-approvals-and-sandbox",
            "--skip-git-repo-check",
            "--json",
            "Add hello.txt and commit it",
        ],
        env,
        None,
    );
    assert_contained(
        &place,
        &main_repo,
        &main_before,
        &r,
        &server,
        "hi from codex\n",
    );
}

/// The real aider, the same way: it offers the model no tools (its edits come out of the
/// answer's text, and it refuses paths outside its repo itself), so this shows it works inside:
/// it writes its file and commits it in the worktree, and the user's checkout and `main` stay.
#[test]
fn the_real_aider_works_inside_the_sandbox() {
    use fake_model::{FakeModel, Script, Turn};
    let (place, main_repo, _) = real_place("sandbox-aider");
    let answer = "I will create hello.txt.\n\nhello.txt\n```\nhi from aider\n```\n";
    let server = FakeModel::start(Script::new(vec![Turn::text(answer)]).every_request());
    let main_before = support::git(&main_repo, &["rev-parse", "main"]);
    let env = server.aider_env(&place.home);
    let r = run_sandboxed(
        &place,
        brl::agents::PresetKind::Aider,
        &support::cli("aider"),
        &[
            "--yes-always",
            "--no-pretty",
            "--message-file",
            "/dev/stdin",
        ],
        env,
        Some("Create hello.txt"),
    );
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_eq!(
        place.read("hello.txt").as_deref(),
        Some("hi from aider\n"),
        "{diag}"
    );
    let log = support::git(&place.repo, &["log", "--format=%s", "-n", "3"]);
    assert!(
        log.lines().count() >= 2,
        "aider committed in the worktree: {log}\n{diag}"
    );
    assert_eq!(
        std::fs::read_to_string(main_repo.join("greeting.txt")).expect("kept"),
        "hello world\n",
        "{diag}"
    );
    assert_eq!(
        support::git(&main_repo, &["rev-parse", "main"]),
        main_before,
        "{diag}"
    );
}

/// `sandbox = "bwrap"` on a machine without bwrap: the cycle stops with an error naming the
/// package and the fix (in its summary and its log entry), and the agent never runs unconfined.
#[test]
fn without_bwrap_the_cycle_says_which_package_to_install() {
    let w = sandboxed_world("fix_one.sh", 20);
    // A PATH with what brl and the checks need, but no bwrap.
    let bin = w.dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    for tool in ["git", "sh", "cat", "sed", "env", "grep", "sort"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").expect("PATH"))
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{tool} on PATH"));
        std::os::unix::fs::symlink(found, bin.join(tool)).expect("symlink");
    }
    let main_before = git(&w.repo, &["rev-parse", "main"]);
    let out = w
        .brl()
        .args(["cycle", "s1", "--quiet"])
        .env("PATH", &bin)
        .output()
        .expect("brl runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "a cycle that errs is recorded: {stderr}"
    );
    let e = w.cycles().pop().expect("a ralph_cycle entry");
    assert_eq!(e["data"]["outcome"], "error", "{e}");
    let reason = e["data"]["reason"].as_str().unwrap_or_default();
    for said in [reason, &stdout] {
        assert!(
            said.contains("`bubblewrap` package"),
            "names the package: {said}"
        );
        assert!(
            said.contains("sandbox = \"none\""),
            "and the other fix: {said}"
        );
    }
    assert!(
        !w.home.join("prompt-s1.txt").exists(),
        "the agent never ran unconfined"
    );
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main_before);
}

/// Codex as its preset runs it (`-s workspace-write`: its own Landlock/seccomp sandbox) nested
/// inside brl's: it still writes in its worktree.
#[test]
fn the_real_codex_cli_with_its_own_sandbox_nests_inside_bwrap() {
    use fake_model::{FakeModel, Script, Turn};
    use serde_json::json;
    let (place, main_repo, _) = real_place("sandbox-codex-nested");
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "exec_command",
            json!({"cmd": "printf 'hi from codex\\n' > hello.txt && echo wrote"}),
        ),
        Turn::text("Done."),
    ]));
    let main_before = support::git(&main_repo, &["rev-parse", "main"]);
    let env = server.codex_env(&place.home, "");
    let r = run_sandboxed(
        &place,
        brl::agents::PresetKind::Codex,
        &support::cli("codex"),
        &[
            "exec",
            "-s",
            "workspace-write",
            "--skip-git-repo-check",
            "--json",
            "Add hello.txt",
        ],
        env,
        None,
    );
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(
        place.read("hello.txt").as_deref(),
        Some("hi from codex\n"),
        "{diag}"
    );
    assert_eq!(
        support::git(&main_repo, &["rev-parse", "main"]),
        main_before
    );
}
