//! Claude Code (`claude -p`), against the fake Anthropic Messages API via `ANTHROPIC_BASE_URL`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::capture::save;
use crate::fake_model::{FakeModel, Script, Turn};
use crate::support::{Place, Run, assert_offline, bodies, cli, run};

const TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) fn claude(
    place: &Place,
    server: &FakeModel,
    args: &[&str],
    extra: &[(&str, String)],
) -> Run {
    let mut env = server.claude_env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
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
pub(crate) fn edit_script(repo: &str) -> Script {
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

#[test]
fn claude_stream_json_ends_with_the_result() {
    let place = Place::new("claude-stream");
    let server = FakeModel::start(edit_script(&place.repo_abs()));
    let r = claude(
        &place,
        &server,
        &[
            "-p",
            "--permission-mode",
            "acceptEdits",
            "--output-format",
            "stream-json",
            "--verbose",
            "Create hello.txt and fix the greeting",
        ],
        &[],
    );
    save("claude", "stream_json", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    let events = r.jsonl();
    assert_eq!(
        events.first().map(|e| e["type"].clone()),
        Some(json!("system")),
        "{diag}"
    );
    let last = events.last().unwrap_or_else(|| panic!("no events: {diag}"));
    assert_eq!(last["type"], "result", "{diag}");
    assert!(last["total_cost_usd"].as_f64().is_some(), "{diag}");
    let tool_uses = events
        .iter()
        .filter(|e| e["type"] == "assistant")
        .flat_map(|e| {
            e["message"]["content"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|c| c["type"] == "tool_use")
        .count();
    assert_eq!(tool_uses, 3, "{diag}");
    assert_eq!(
        place.read("greeting.txt").as_deref(),
        Some("hello claude\n"),
        "{diag}"
    );
}

/// Claude Code signed in to a subscription (an OAuth token instead of an API key).
fn claude_subscribed(place: &Place, server: &FakeModel) -> Run {
    let mut env: Vec<(String, String)> = server
        .claude_env()
        .into_iter()
        .filter(|(k, _)| k != "ANTHROPIC_API_KEY")
        .collect();
    env.push(("CLAUDE_CODE_OAUTH_TOKEN".into(), "sk-ant-oat01-fake".into()));
    run(
        &cli("claude"),
        &["-p", "--output-format", "json", "Create hello.txt"],
        &place.repo,
        &place.home,
        &env,
        None,
        TIMEOUT,
    )
}

#[test]
fn claude_subscription_session_limit_names_the_reset() {
    let place = Place::new("claude-session-limit");
    let reset = chrono::Utc::now().timestamp() + 3 * 3600;
    let server = FakeModel::start(Script::new(vec![Turn::rate_limited(3 * 3600, reset)]));
    let r = claude_subscribed(&place, &server);
    save("claude", "session_limit", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(1), "{diag}");
    let v = r.json();
    assert_eq!(v["is_error"], true, "{diag}");
    assert_eq!(v["api_error_status"], 429, "{diag}");
    let result = v["result"].as_str().unwrap_or("");
    assert!(
        result.starts_with("You've hit your session limit · resets "),
        "{diag}"
    );
    assert!(
        result.ends_with("(UTC)"),
        "the reset as a local time: {diag}"
    );
    assert_eq!(
        server.turns_taken(),
        1,
        "a usage limit is not retried: {diag}"
    );
}

/// A 429 whose headers do not name the subscription window that ran out: Claude says it is not
/// the usage limit (captured as `usage_limit`, the name the presets' tests read it by).
#[test]
fn claude_subscription_429_without_a_window_is_not_the_usage_limit() {
    let place = Place::new("claude-usage-limit");
    let reset = chrono::Utc::now().timestamp() + 3 * 3600;
    let server = FakeModel::start(Script::new(vec![Turn::Error {
        status: 429,
        headers: vec![
            ("retry-after".into(), (3 * 3600).to_string()),
            (
                "anthropic-ratelimit-unified-status".into(),
                "rejected".into(),
            ),
            (
                "anthropic-ratelimit-unified-reset".into(),
                reset.to_string(),
            ),
        ],
        message: "Rate limit reached: usage limit exceeded for this key".into(),
        body: None,
        sticky: true,
    }]));
    let r = claude_subscribed(&place, &server);
    save("claude", "usage_limit", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(1), "{diag}");
    let v = r.json();
    assert_eq!(v["api_error_status"], 429, "{diag}");
    assert!(
        v["result"].as_str().unwrap_or("").starts_with(
            "API Error: Server is temporarily limiting requests (not your usage limit)"
        ),
        "{diag}"
    );
}
