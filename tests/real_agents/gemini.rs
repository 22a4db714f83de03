//! Gemini CLI (`gemini -p`), against the fake Gemini API via `GOOGLE_GEMINI_BASE_URL`, with an
//! API-key auth selected in `~/.gemini/settings.json` and telemetry, usage statistics and update
//! checks off (`FakeModel::gemini_env`).

use std::time::Duration;

use serde_json::json;

use crate::capture::save;
use crate::fake_model::{FakeModel, Script, Turn};
use crate::support::{Place, Run, assert_offline, bodies, cli, run};

const TIMEOUT: Duration = Duration::from_secs(150);

pub(crate) fn gemini(place: &Place, server: &FakeModel, args: &[&str]) -> Run {
    let env = server.gemini_env(&place.home);
    run(
        &cli("gemini"),
        args,
        &place.repo,
        &place.home,
        &env,
        None,
        TIMEOUT,
    )
}

pub(crate) fn edit_script(repo: &str) -> Script {
    Script::new(vec![
        Turn::call(
            "write_file",
            json!({"file_path": format!("{repo}/hello.txt"), "content": "hi from gemini\n"}),
        ),
        Turn::call(
            "replace",
            json!({"file_path": format!("{repo}/greeting.txt"),
                   "old_string": "hello world", "new_string": "hello gemini",
                   "instruction": "Change the greeting"}),
        ),
        Turn::text("I created hello.txt and edited greeting.txt."),
    ])
}

#[test]
fn gemini_edits_files_with_auto_edit() {
    let place = Place::new("gemini");
    let server = FakeModel::start(edit_script(&place.repo_abs()));
    let r = gemini(
        &place,
        &server,
        &[
            "--approval-mode",
            "auto_edit",
            "-o",
            "json",
            "-p",
            "Create hello.txt and fix the greeting (prompt-marker-gemini-1)",
        ],
    );
    save("gemini", "edit", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(
        place.read("hello.txt").as_deref(),
        Some("hi from gemini\n"),
        "{diag}"
    );
    assert_eq!(
        place.read("greeting.txt").as_deref(),
        Some("hello gemini\n"),
        "{diag}"
    );
    let v = r.json();
    assert!(
        v["response"]
            .as_str()
            .unwrap_or("")
            .contains("I created hello.txt"),
        "{diag}"
    );
    assert!(v["stats"].is_object(), "{diag}");
    assert!(
        v["stats"].to_string().contains("totalTokens") || v["stats"].to_string().contains("tokens"),
        "{diag}"
    );
    assert_eq!(server.turns_taken(), 3, "{diag}");
    // The model named in settings.json is used for every call (no routing calls to others).
    assert!(
        server
            .requests()
            .iter()
            .all(|q| q.path.contains(crate::fake_model::clients::GEMINI_MODEL)),
        "{diag}"
    );
    assert!(
        bodies(&server.requests()).contains("prompt-marker-gemini-1"),
        "{diag}"
    );
}

#[test]
fn gemini_default_approval_denies_the_write() {
    let place = Place::new("gemini-deny");
    let server = FakeModel::start(edit_script(&place.repo_abs()));
    let r = gemini(&place, &server, &["-o", "json", "-p", "Create hello.txt"]);
    save("gemini", "denied", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(place.read("hello.txt"), None, "{diag}");
    assert_eq!(
        place.read("greeting.txt").as_deref(),
        Some("hello world\n"),
        "{diag}"
    );
    assert_eq!(r.code, Some(0), "a denied run still exits 0: {diag}");
    // Without an approval mode the write tools are not offered: the calls fail as unknown tools.
    let v = r.json();
    assert_eq!(
        v["stats"]["tools"]["byName"]["write_file"]["fail"], 1,
        "{diag}"
    );
    assert_eq!(
        v["stats"]["tools"]["byName"]["replace"]["fail"], 1,
        "{diag}"
    );
    assert!(r.stderr.contains("Tool \"write_file\" not found"), "{diag}");
}

#[test]
fn gemini_rate_limited_gives_up_with_an_error() {
    let place = Place::new("gemini-429");
    let reset = chrono::Utc::now().timestamp() + 3600;
    let server = FakeModel::start(Script::new(vec![Turn::rate_limited(3600, reset)]));
    let r = gemini(&place, &server, &["-o", "json", "-p", "Create hello.txt"]);
    save("gemini", "rate_limited", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert!(!r.timed_out, "{diag}");
    assert_eq!(r.code, Some(173), "{diag}");
    assert!(r.stderr.contains("TerminalQuotaError"), "{diag}");
    assert_eq!(
        server.turns_taken(),
        1,
        "a daily quota is not retried: {diag}"
    );
}

#[test]
fn gemini_runs_project_before_tool_hooks() {
    let place = Place::new("gemini-hook");
    let hook = crate::capture::hook_script(&place);
    let project = place.repo.join(".gemini");
    std::fs::create_dir_all(&project).expect("mkdir .gemini");
    let settings = json!({"hooks": {"BeforeTool": [{"matcher": "*", "hooks": [
        {"type": "command", "command": hook.display().to_string(), "name": "test-gate"}]}]}});
    std::fs::write(project.join("settings.json"), settings.to_string()).expect("settings");
    let repo = place.repo_abs();
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "run_shell_command",
            json!({"command": "touch blocked.txt # BLOCKME", "description": "touch"}),
        ),
        Turn::call(
            "write_file",
            json!({"file_path": format!("{repo}/hello.txt"), "content": "hi\n"}),
        ),
        Turn::text("Done."),
    ]));
    let r = gemini(
        &place,
        &server,
        &["--yolo", "-o", "json", "-p", "Create hello.txt"],
    );
    save("gemini", "hook_block", &place, server.addr.port(), &r);
    let inputs = crate::capture::hook_inputs(&place);
    let text = inputs
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    crate::capture::save_text(
        "gemini",
        "hook_inputs.jsonl",
        &place,
        server.addr.port(),
        &text,
    );
    let diag = format!("{r:#?}\nhook inputs:\n{text}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(
        place.read("blocked.txt"),
        None,
        "the hook blocked the shell call: {diag}"
    );
    assert_eq!(place.read("hello.txt").as_deref(), Some("hi\n"), "{diag}");
    let tools: Vec<&str> = inputs
        .iter()
        .filter_map(|v| v["tool_name"].as_str())
        .collect();
    assert_eq!(tools, ["run_shell_command", "write_file"], "{diag}");
    assert!(
        bodies(&server.requests()).contains("blocked by the test gate"),
        "the block reason reached the model: {diag}"
    );
}

#[test]
fn gemini_auto_edit_does_not_run_shell_commands() {
    let place = Place::new("gemini-shell");
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "run_shell_command",
            json!({"command": "touch ran.txt", "description": "touch"}),
        ),
        Turn::text("Done."),
    ]));
    let r = gemini(
        &place,
        &server,
        &[
            "--approval-mode",
            "auto_edit",
            "-o",
            "json",
            "-p",
            "Touch a file",
        ],
    );
    save("gemini", "auto_edit_shell", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(
        place.read("ran.txt"),
        None,
        "auto_edit ran no shell command: {diag}"
    );
    let v = r.json();
    assert_eq!(
        v["stats"]["tools"]["byName"]["run_shell_command"]["fail"], 1,
        "{diag}"
    );
}

#[test]
fn gemini_auto_edit_runs_shell_commands_it_is_allowed() {
    let place = Place::new("gemini-allowed");
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "run_shell_command",
            json!({"command": "git add greeting.txt", "description": "stage"}),
        ),
        Turn::call(
            "run_shell_command",
            json!({"command": "touch ran.txt", "description": "touch"}),
        ),
        Turn::text("Done."),
    ]));
    std::fs::write(place.repo.join("greeting.txt"), "hello gemini\n").expect("write");
    let r = gemini(
        &place,
        &server,
        &[
            "--approval-mode",
            "auto_edit",
            "--allowed-tools",
            "run_shell_command(git add)",
            "-o",
            "json",
            "-p",
            "Stage the greeting",
        ],
    );
    save(
        "gemini",
        "auto_edit_allowed_shell",
        &place,
        server.addr.port(),
        &r,
    );
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    let staged = crate::support::git(&place.repo, &["diff", "--cached", "--name-only"]);
    assert_eq!(staged, "greeting.txt", "the allowed command ran: {diag}");
    assert_eq!(place.read("ran.txt"), None, "the other one did not: {diag}");
}
