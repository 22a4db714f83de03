//! Codex (`codex exec`), against the fake OpenAI Responses API through a custom
//! `model_providers` entry in a CODEX_HOME config.toml (`FakeModel::codex_env`).

use std::time::Duration;

use serde_json::json;

use crate::capture::save;
use crate::fake_model::{FakeModel, Script, Turn};
use crate::support::{Place, Run, assert_offline, bodies, cli, run};

const TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) fn codex(place: &Place, server: &FakeModel, args: &[&str]) -> Run {
    codex_with(place, server, "", args)
}

/// `extra_config` is appended to config.toml (e.g. hooks).
pub(crate) fn codex_with(
    place: &Place,
    server: &FakeModel,
    extra_config: &str,
    args: &[&str],
) -> Run {
    let env = server.codex_env(&place.home, extra_config);
    run(
        &cli("codex"),
        args,
        &place.repo,
        &place.home,
        &env,
        None,
        TIMEOUT,
    )
}

/// The model's patch: add hello.txt, update greeting.txt (Codex's apply_patch format).
const PATCH: &str = "*** Begin Patch
*** Add File: hello.txt
+hi from codex
*** Update File: greeting.txt
@@
-hello world
+hello codex
*** End Patch";

/// The patch through Codex's freeform `apply_patch` tool (a custom tool call whose input is the
/// patch text), as OpenAI's models send it.
pub(crate) fn patch_turn() -> Turn {
    Turn::call(
        "apply_patch",
        serde_json::Value::String(format!("{PATCH}\n")),
    )
}

/// The same patch as a shell command (`apply_patch <<'EOF' … EOF`), which Codex intercepts and
/// applies itself: the other way models send it.
pub(crate) fn shell_patch_turn(patch: &str) -> Turn {
    Turn::call(
        "exec_command",
        json!({"cmd": format!("apply_patch <<'EOF'\n{patch}\nEOF\n")}),
    )
}

#[test]
fn codex_edits_files_with_apply_patch() {
    let place = Place::new("codex");
    let server = FakeModel::start(Script::new(vec![
        patch_turn(),
        Turn::text("Added hello.txt and updated greeting.txt."),
    ]));
    let r = codex(
        &place,
        &server,
        &[
            "exec",
            "-s",
            "workspace-write",
            "--skip-git-repo-check",
            "--json",
            "Create hello.txt and fix the greeting (prompt-marker-codex-1)",
        ],
    );
    save("codex", "edit", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(
        place.read("hello.txt").as_deref(),
        Some("hi from codex\n"),
        "{diag}"
    );
    assert_eq!(
        place.read("greeting.txt").as_deref(),
        Some("hello codex\n"),
        "{diag}"
    );
    let events = r.jsonl();
    let completed = events
        .iter()
        .find(|e| e["type"] == "turn.completed")
        .unwrap_or_else(|| panic!("no turn.completed: {diag}"));
    assert!(
        completed["usage"]["input_tokens"].as_u64().unwrap_or(0) > 0,
        "{diag}"
    );
    assert!(
        completed["usage"]["output_tokens"].as_u64().unwrap_or(0) > 0,
        "{diag}"
    );
    assert!(
        events.iter().any(|e| e["type"] == "thread.started"),
        "{diag}"
    );
    assert_eq!(server.turns_taken(), 2, "{diag}");
    assert!(
        bodies(&server.requests()).contains("prompt-marker-codex-1"),
        "{diag}"
    );
}

#[test]
fn codex_read_only_sandbox_denies_the_patch() {
    let place = Place::new("codex-deny");
    let server = FakeModel::start(Script::new(vec![
        patch_turn(),
        Turn::text("I could not apply the patch."),
    ]));
    let r = codex(
        &place,
        &server,
        &[
            "exec",
            "-s",
            "read-only",
            "--skip-git-repo-check",
            "--json",
            "Create hello.txt",
        ],
    );
    save("codex", "denied", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(place.read("hello.txt"), None, "{diag}");
    assert_eq!(
        place.read("greeting.txt").as_deref(),
        Some("hello world\n"),
        "{diag}"
    );
    // The refusal went back to the model as the tool's output.
    let second = server
        .requests()
        .into_iter()
        .filter(|q| q.turn.is_some())
        .nth(1)
        .unwrap_or_else(|| panic!("no second model request: {diag}"));
    assert!(
        second.body.to_string().contains("custom_tool_call_output"),
        "{diag}"
    );
}

#[test]
fn codex_rate_limited_fails_the_turn() {
    let place = Place::new("codex-429");
    let reset = chrono::Utc::now().timestamp() + 3600;
    let server = FakeModel::start(Script::new(vec![Turn::rate_limited(1, reset)]));
    let r = codex(
        &place,
        &server,
        &[
            "exec",
            "-s",
            "workspace-write",
            "--skip-git-repo-check",
            "--json",
            "Create hello.txt",
        ],
    );
    save("codex", "rate_limited", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert!(!r.timed_out, "{diag}");
    assert_ne!(r.code, Some(0), "{diag}");
    assert!(
        r.jsonl().iter().any(|e| e["type"] == "turn.failed"),
        "{diag}"
    );
}

#[test]
fn codex_usage_limit_names_the_reset_time() {
    let place = Place::new("codex-usage-limit");
    let reset = chrono::Utc::now().timestamp() + 3 * 3600;
    let server = FakeModel::start(Script::new(vec![Turn::error_body(
        429,
        &[],
        json!({"error": {"type": "usage_limit_reached", "plan_type": "plus",
                         "resets_at": reset}}),
    )]));
    let r = codex(
        &place,
        &server,
        &[
            "exec",
            "-s",
            "workspace-write",
            "--skip-git-repo-check",
            "--json",
            "Create hello.txt",
        ],
    );
    save("codex", "usage_limit", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert!(!r.timed_out, "{diag}");
    assert_eq!(r.code, Some(1), "{diag}");
    let failed = r
        .jsonl()
        .into_iter()
        .find(|e| e["type"] == "turn.failed")
        .unwrap_or_else(|| panic!("no turn.failed: {diag}"));
    let message = failed["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_lowercase();
    assert!(message.contains("usage limit"), "{diag}");
    // The reset is given as a local time of day (TZ is unset here: UTC), with the date in front
    // when it is not today ("try again at dec 5th, 2026 12:09 am" after 21:00 UTC).
    let reset_at = chrono::DateTime::from_timestamp(reset, 0).expect("reset time");
    let at = reset_at.format("%-I:%M %p").to_string().to_lowercase();
    let said = message
        .split("try again at ")
        .nth(1)
        .unwrap_or_else(|| panic!("no 'try again at': {diag}"));
    assert!(said.contains(&at), "{at}: {diag}");
    if reset_at.date_naive() != chrono::Utc::now().date_naive() {
        let year = reset_at.format("%Y").to_string();
        assert!(
            said.contains(&year),
            "a reset on another day names its date: {diag}"
        );
    }
    assert_eq!(
        server.turns_taken(),
        1,
        "a usage limit is not retried: {diag}"
    );
}

#[test]
fn codex_plain_mode_answer_is_on_stdout_prompt_on_stderr() {
    let place = Place::new("codex-plain");
    let server = FakeModel::start(Script::new(vec![Turn::text(
        "The change is fine.\nVERDICT: approve",
    )]));
    let r = codex(
        &place,
        &server,
        &[
            "exec",
            "-s",
            "read-only",
            "--skip-git-repo-check",
            "Review this. Answer with a line VERDICT: approve or VERDICT: reject (prompt-marker-plain)",
        ],
    );
    save("codex", "plain", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(
        r.stdout.trim(),
        "The change is fine.\nVERDICT: approve",
        "{diag}"
    );
    assert!(
        r.stderr.contains("prompt-marker-plain"),
        "the echoed prompt: {diag}"
    );
    assert!(!r.stdout.contains("prompt-marker-plain"), "{diag}");
}
