//! opencode (`opencode run`), against the fake Chat Completions API through a custom
//! `@ai-sdk/openai-compatible` provider in an `OPENCODE_CONFIG` file, with the model list fetch,
//! auto-update, LSP downloads and default plugins off.

use std::time::Duration;

use serde_json::{Value, json};

use crate::capture::save;
use crate::fake_model::{FakeModel, Script, Turn};
use crate::support::{Place, Run, assert_offline, bodies, cli, run};

const TIMEOUT: Duration = Duration::from_secs(40);

pub(crate) fn opencode(
    place: &Place,
    server: &FakeModel,
    permission: Option<Value>,
    args: &[&str],
) -> Run {
    let env = server.opencode_env(&place.home, &cli("opencode-config"), permission);
    run(
        &cli("opencode"),
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
            "write",
            json!({"filePath": format!("{repo}/hello.txt"), "content": "hi from opencode\n"}),
        ),
        Turn::call("read", json!({"filePath": format!("{repo}/greeting.txt")})),
        Turn::call(
            "edit",
            json!({"filePath": format!("{repo}/greeting.txt"),
                   "oldString": "hello world", "newString": "hello opencode"}),
        ),
        Turn::text("I created hello.txt and edited greeting.txt."),
    ])
}

#[test]
fn opencode_run_edits_files() {
    let place = Place::new("opencode");
    let server = FakeModel::start(edit_script(&place.repo_abs()));
    let r = opencode(
        &place,
        &server,
        None,
        &[
            "run",
            "--format",
            "json",
            "Create hello.txt and fix the greeting (prompt-marker-opencode-1)",
        ],
    );
    save("opencode", "edit", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(
        place.read("hello.txt").as_deref(),
        Some("hi from opencode\n"),
        "{diag}"
    );
    assert_eq!(
        place.read("greeting.txt").as_deref(),
        Some("hello opencode\n"),
        "{diag}"
    );
    let events = r.jsonl();
    assert!(!events.is_empty(), "{diag}");
    let steps: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "step_finish")
        .collect();
    assert_eq!(steps.len(), 4, "one step_finish per model turn: {diag}");
    let cost: f64 = steps
        .iter()
        .filter_map(|e| e["part"]["cost"].as_f64())
        .sum();
    assert!(cost > 0.0, "per-step cost from the model's price: {diag}");
    assert!(
        steps
            .iter()
            .all(|e| e["part"]["tokens"]["input"].as_u64().unwrap_or(0) > 0),
        "{diag}"
    );
    assert_eq!(server.turns_taken(), 4, "{diag}");
    assert!(
        bodies(&server.requests()).contains("prompt-marker-opencode-1"),
        "{diag}"
    );
}

#[test]
fn opencode_denied_edits_change_nothing() {
    let place = Place::new("opencode-deny");
    let server = FakeModel::start(edit_script(&place.repo_abs()));
    let r = opencode(
        &place,
        &server,
        Some(json!({"edit": "deny", "bash": "deny"})),
        &["run", "--format", "json", "Create hello.txt"],
    );
    save("opencode", "denied", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "a denied run still exits 0: {diag}");
    assert_eq!(place.read("hello.txt"), None, "{diag}");
    // Denied tools are not offered: the call comes back as an "invalid" tool.
    assert!(r.stdout.contains("unavailable tool 'write'"), "{diag}");
    assert_eq!(
        place.read("greeting.txt").as_deref(),
        Some("hello world\n"),
        "{diag}"
    );
}

#[test]
fn opencode_rate_limited_reports_an_error() {
    let place = Place::new("opencode-429");
    let reset = chrono::Utc::now().timestamp() + 3600;
    let server = FakeModel::start(Script::new(vec![Turn::rate_limited(2, reset)]));
    let r = opencode(
        &place,
        &server,
        None,
        &["run", "--format", "json", "Create hello.txt"],
    );
    save("opencode", "rate_limited", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    // opencode waits out `retry-after` (silently: with an hour it sleeps an hour), retries a
    // few times, then ends with an error event naming the status.
    assert!(!r.timed_out, "{diag}");
    assert_eq!(r.code, Some(1), "{diag}");
    let error = r
        .jsonl()
        .into_iter()
        .find(|e| e["type"] == "error")
        .unwrap_or_else(|| panic!("no error event: {diag}"));
    assert_eq!(error["error"]["data"]["statusCode"], 429, "{diag}");
    assert!(server.turns_taken() >= 1, "{diag}");
}
