//! The five real agent CLIs (tests/agent-clis.sh), offline against the fake model API, inside the
//! sandbox brl builds for a linked worktree: each works there (edits, commits), and the shell
//! tools of those that have one fail at the OS when they reach for the user's checkout or `main`.

use std::path::Path;
use std::time::Duration;

use crate::{fake_model, require_bwrap, support};

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
    // The CLIs are installed under the cargo target dir, which may itself be under /tmp (a
    // clone there): shown again read-only under the sandbox's private /tmp.
    // So may the harness's files under CARGO_TARGET_TMPDIR (the CLIs' configs).
    let clis = bin
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "agent-clis"))
        .map(Path::to_path_buf)
        .into_iter()
        .chain(std::iter::once(std::path::PathBuf::from(env!(
            "CARGO_TARGET_TMPDIR"
        ))))
        .filter(|p| p.exists())
        .collect::<Vec<_>>();
    let mut args: Vec<String> = plan.bwrap_args_showing(&clis);
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

/// Codex as its preset runs it (`-s workspace-write`: its own sandbox) inside brl's, which
/// drops every capability: Codex's sandbox (bwrap itself, mapping uids) cannot be set up there and
/// its commands do not run
/// (measured, so the preset's note and the README can say to use
/// `--dangerously-bypass-approvals-and-sandbox` under `[agent] sandbox = "bwrap"`).
#[test]
fn the_real_codex_cli_with_its_own_sandbox_cannot_run_commands_inside_bwrap() {
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
    let bodies = support::bodies(&server.requests());
    let diag = format!("{r:#?}\nrequests:\n{bodies}");
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(place.read("hello.txt"), None, "{diag}");
    // Codex's Linux sandbox is itself bwrap, which needs to map uids: refused without
    // capabilities, so the command never ran.
    assert!(
        bodies.contains("setting up uid map: Operation not permitted"),
        "{diag}"
    );
    assert_eq!(
        support::git(&main_repo, &["rev-parse", "main"]),
        main_before
    );
}
