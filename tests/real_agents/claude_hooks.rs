//! Claude Code's project PreToolUse hooks, measured: what the hook gets, that exit 2 blocks, and
//! which flags drop project hooks silently (the gate would then be off).

use serde_json::json;

use crate::capture::save;
use crate::claude::claude;
use crate::fake_model::{FakeModel, Script, Turn};
use crate::support::{Place, Run, assert_offline};

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
