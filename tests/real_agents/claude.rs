//! Claude Code (`claude -p`), against the fake Anthropic Messages API via `ANTHROPIC_BASE_URL`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::capture::save;
use crate::fake_model::{FakeModel, Script, Turn};
use crate::support::{Place, Run, assert_offline, bodies, cli, run};

const TIMEOUT: Duration = Duration::from_secs(120);

fn claude(place: &Place, server: &FakeModel, args: &[&str], extra: &[(&str, String)]) -> Run {
    let mut env = vec![
        ("ANTHROPIC_BASE_URL", server.url()),
        ("ANTHROPIC_API_KEY", "sk-ant-fake-key".to_string()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".to_string()),
        ("DISABLE_TELEMETRY", "1".to_string()),
        ("DISABLE_AUTOUPDATER", "1".to_string()),
        ("DISABLE_ERROR_REPORTING", "1".to_string()),
    ];
    env.extend(extra.iter().cloned());
    run(
        &cli("claude"),
        args,
        &place.repo,
        &place.home,
        &env,
        None,
        TIMEOUT,
    )
}

/// Write a new file, then Read and Edit an existing one, then say done.
fn edit_script(repo: &str) -> Script {
    Script::new(vec![
        Turn::call(
            "Write",
            json!({"file_path": format!("{repo}/hello.txt"), "content": "hi from claude\n"}),
        ),
        Turn::call("Read", json!({"file_path": format!("{repo}/greeting.txt")})),
        Turn::call(
            "Edit",
            json!({"file_path": format!("{repo}/greeting.txt"),
                   "old_string": "hello world", "new_string": "hello claude"}),
        ),
        Turn::text("I created hello.txt and edited greeting.txt."),
    ])
}

#[test]
fn claude_edits_files_with_accept_edits() {
    let place = Place::new("claude");
    let server = FakeModel::start(edit_script(&place.repo_abs()));
    let r = claude(
        &place,
        &server,
        &[
            "-p",
            "--model",
            "sonnet",
            "--permission-mode",
            "acceptEdits",
            "--output-format",
            "json",
            "Create hello.txt and fix the greeting (prompt-marker-claude-1)",
        ],
        &[],
    );
    save("claude", "edit", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(
        place.read("hello.txt").as_deref(),
        Some("hi from claude\n"),
        "{diag}"
    );
    assert_eq!(
        place.read("greeting.txt").as_deref(),
        Some("hello claude\n"),
        "{diag}"
    );
    let v = r.json();
    assert_eq!(v["type"], "result", "{diag}");
    assert_eq!(v["subtype"], "success", "{diag}");
    assert_eq!(v["is_error"], false, "{diag}");
    assert!(v["total_cost_usd"].as_f64().is_some(), "{diag}");
    assert!(v["num_turns"].as_u64().unwrap_or(0) >= 4, "{diag}");
    assert!(v["session_id"].as_str().is_some(), "{diag}");
    assert_eq!(
        v["permission_denials"].as_array().map(Vec::len),
        Some(0),
        "{diag}"
    );
    assert!(
        v["usage"]["output_tokens"].as_u64().unwrap_or(0) > 0,
        "{diag}"
    );
    assert_eq!(server.turns_taken(), 4, "{diag}");
    let reqs = server.requests();
    assert!(bodies(&reqs).contains("prompt-marker-claude-1"), "{diag}");
    assert!(
        reqs.iter()
            .all(|r| r.path.starts_with("/v1/messages") || r.method == "HEAD"),
        "only the Messages API (and a HEAD of the base URL) was called: {diag}"
    );
}

#[test]
fn claude_without_permission_mode_reports_denials() {
    let place = Place::new("claude-deny");
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "Write",
            json!({"file_path": format!("{}/hello.txt", place.repo_abs()),
                   "content": "hi\n"}),
        ),
        Turn::call(
            "Bash",
            json!({"command": "git commit -am wip", "description": "commit"}),
        ),
        Turn::text("I could not write the file."),
    ]));
    let r = claude(
        &place,
        &server,
        &["-p", "--output-format", "json", "Create hello.txt"],
        &[],
    );
    save("claude", "denied", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(
        place.read("hello.txt"),
        None,
        "the write was denied: {diag}"
    );
    let v = r.json();
    assert_eq!(r.code, Some(0), "denied runs still exit 0: {diag}");
    assert_eq!(v["subtype"], "success", "{diag}");
    let denials = v["permission_denials"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = denials
        .iter()
        .filter_map(|d| d["tool_name"].as_str())
        .collect();
    assert!(names.contains(&"Write"), "{names:?}: {diag}");
    assert!(names.contains(&"Bash"), "{names:?}: {diag}");
}

#[test]
fn claude_rate_limited_is_an_error_result() {
    let place = Place::new("claude-429");
    let reset = chrono::Utc::now().timestamp() + 3600;
    let server = FakeModel::start(Script::new(vec![Turn::rate_limited(1, reset)]));
    let r = claude(
        &place,
        &server,
        &["-p", "--output-format", "json", "Create hello.txt"],
        &[("CLAUDE_CODE_MAX_RETRIES", "1".to_string())],
    );
    save("claude", "rate_limited", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert!(!r.timed_out, "{diag}");
    let v: Value = r.json();
    assert_eq!(v["is_error"], true, "{diag}");
    assert_eq!(v["api_error_status"], 429, "{diag}");
    assert_eq!(r.code, Some(1), "{diag}");
    assert!(
        v.to_string().contains("429") || v.to_string().to_lowercase().contains("rate limit"),
        "{diag}"
    );
    assert!(server.turns_taken() >= 1, "{diag}");
}

#[test]
fn claude_runs_project_pre_tool_use_hooks_offline() {
    let place = Place::new("claude-hook");
    let hook = crate::capture::hook_script(&place);
    let settings_dir = place.repo.join(".claude");
    std::fs::create_dir_all(&settings_dir).expect("mkdir .claude");
    let settings = json!({"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [
        {"type": "command", "command": hook.display().to_string()}]}]}});
    std::fs::write(settings_dir.join("settings.json"), settings.to_string()).expect("settings");
    let outside = place.dir.path().join("outside.txt");
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "Bash",
            json!({"command": format!("touch {} # BLOCKME", outside.display()),
                   "description": "touch a file outside"}),
        ),
        Turn::call(
            "Write",
            json!({"file_path": format!("{}/hello.txt", place.repo_abs()),
                   "content": "hi\n"}),
        ),
        Turn::text("Done."),
    ]));
    let r = claude(
        &place,
        &server,
        &[
            "-p",
            "--permission-mode",
            "acceptEdits",
            "--allowedTools",
            "Bash(touch:*)",
            "--output-format",
            "json",
            "Create hello.txt",
        ],
        &[],
    );
    save("claude", "hook_block", &place, server.addr.port(), &r);
    let inputs = crate::capture::hook_inputs(&place);
    let text = inputs
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    crate::capture::save_text(
        "claude",
        "hook_inputs.jsonl",
        &place,
        server.addr.port(),
        &text,
    );
    let diag = format!("{r:#?}\nhook inputs:\n{text}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert!(!outside.exists(), "the hook blocked the Bash call: {diag}");
    assert_eq!(place.read("hello.txt").as_deref(), Some("hi\n"), "{diag}");
    let tools: Vec<&str> = inputs
        .iter()
        .filter_map(|v| v["tool_name"].as_str())
        .collect();
    assert_eq!(tools, ["Bash", "Write"], "{diag}");
    assert_eq!(inputs[0]["hook_event_name"], "PreToolUse", "{diag}");
    assert!(
        inputs[0]["tool_input"]["command"].as_str().is_some(),
        "{diag}"
    );
    // The block reason went back to the model as the tool's result.
    let second = server
        .requests()
        .into_iter()
        .filter(|q| q.turn.is_some())
        .nth(1)
        .unwrap_or_else(|| panic!("no second model request: {diag}"));
    assert!(
        second.body.to_string().contains("blocked by the test gate"),
        "{diag}"
    );
}

#[test]
fn claude_overloaded_529_is_an_error_result() {
    let place = Place::new("claude-529");
    let server = FakeModel::start(Script::new(vec![Turn::overloaded()]));
    let r = claude(
        &place,
        &server,
        &["-p", "--output-format", "json", "Create hello.txt"],
        &[("CLAUDE_CODE_MAX_RETRIES", "1".to_string())],
    );
    save("claude", "overloaded", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert!(!r.timed_out, "{diag}");
    let v = r.json();
    assert_eq!(v["is_error"], true, "{diag}");
    assert_eq!(v["api_error_status"], 529, "{diag}");
}

#[test]
fn claude_commits_with_allowed_git_tools() {
    let place = Place::new("claude-commit");
    let repo = place.repo_abs();
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "Write",
            json!({"file_path": format!("{repo}/hello.txt"), "content": "hi\n"}),
        ),
        Turn::call(
            "Bash",
            json!({"command": "git add hello.txt", "description": "stage"}),
        ),
        Turn::call(
            "Bash",
            json!({"command": "git commit -m 'Add hello.txt'", "description": "commit"}),
        ),
        Turn::text("Committed."),
    ]));
    let r = claude(
        &place,
        &server,
        &[
            "-p",
            "Create and commit hello.txt",
            "--permission-mode",
            "acceptEdits",
            "--output-format",
            "json",
            "--allowedTools",
            "Bash(git add:*)",
            "Bash(git commit:*)",
        ],
        &[],
    );
    save("claude", "commit", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    let v = r.json();
    assert_eq!(
        v["permission_denials"].as_array().map(Vec::len),
        Some(0),
        "{diag}"
    );
    let log = crate::support::git(&place.repo, &["log", "--format=%s", "-n", "1"]);
    assert_eq!(log, "Add hello.txt", "{diag}");
}

/// A project PreToolUse hook that blocks `touch blocked.txt # BLOCKME`, and Claude run with
/// `flags` added: returns whether the hook ran and whether the file was made.
fn hook_with_flags(tag: &str, flags: &[&str]) -> (bool, bool, Run) {
    let place = Place::new(tag);
    let hook = crate::capture::hook_script(&place);
    let settings_dir = place.repo.join(".claude");
    std::fs::create_dir_all(&settings_dir).expect("mkdir .claude");
    let settings = json!({"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [
        {"type": "command", "command": hook.display().to_string()}]}]}});
    std::fs::write(settings_dir.join("settings.json"), settings.to_string()).expect("settings");
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "Bash",
            json!({"command": "touch blocked.txt # BLOCKME", "description": "touch"}),
        ),
        Turn::text("Done."),
    ]));
    let mut args = vec!["-p", "Touch a file", "--output-format", "json"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--allowedTools", "Bash(touch:*)"]);
    let r = claude(&place, &server, &args, &[]);
    save("claude", tag, &place, server.addr.port(), &r);
    assert_offline(&r);
    assert!(!r.timed_out, "{r:#?}");
    let ran = !crate::capture::hook_inputs(&place).is_empty();
    let made = place.read("blocked.txt").is_some();
    (ran, made, r)
}

#[test]
fn claude_flags_that_drop_project_hooks() {
    // The project hook runs (and blocks) in a plain run…
    let (ran, made, r) = hook_with_flags("hooks_default", &[]);
    assert!(ran && !made, "the hook ran and blocked: {r:#?}");
    // …and does not with these flags: the gate would be silently off.
    let (ran, made, r) =
        hook_with_flags("hooks_setting_sources_user", &["--setting-sources", "user"]);
    assert!(
        !ran && made,
        "--setting-sources user: no project hooks: {r:#?}"
    );
    let (ran, made, r) = hook_with_flags("hooks_bare", &["--bare"]);
    assert!(!ran && made, "--bare: no hooks: {r:#?}");
    // With `project` among the sources the hook is back.
    let (ran, made, r) = hook_with_flags(
        "hooks_setting_sources_project",
        &["--setting-sources", "user,project"],
    );
    assert!(ran && !made, "--setting-sources user,project: {r:#?}");
}
