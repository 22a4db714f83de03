//! Codex (`codex exec`), against the fake OpenAI Responses API through a custom
//! `model_providers` entry in a CODEX_HOME config.toml.

use std::time::Duration;

use serde_json::json;

use crate::fake_model::{FakeModel, Script, Turn};
use crate::support::{Place, Run, assert_offline, bodies, cli, run, save};

const TIMEOUT: Duration = Duration::from_secs(120);

/// CODEX_HOME with a provider that points at the fake server; no retries (a 429 is reported at
/// once), no update check, no analytics, no plugin or app sync.
fn codex_home(place: &Place, server: &FakeModel) -> std::path::PathBuf {
    let dir = place.home.join(".codex");
    std::fs::create_dir_all(&dir).expect("mkdir codex home");
    let config = format!(
        r#"model = "gpt-5-codex"
model_provider = "fake"
check_for_update_on_startup = false

[analytics]
enabled = false

[model_providers.fake]
name = "fake"
base_url = "{}/v1"
env_key = "FAKE_OPENAI_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

# Off: what would reach the internet (curated plugins from github.com, apps/connectors,
# update checks).
[features]
plugins = false
remote_plugin = false
apps = false
plugin_sharing = false
in_app_updates = false
tool_suggest = false
"#,
        server.url()
    );
    std::fs::write(dir.join("config.toml"), config).expect("write config.toml");
    dir
}

fn codex(place: &Place, server: &FakeModel, args: &[&str]) -> Run {
    let home = codex_home(place, server);
    let env = vec![
        ("CODEX_HOME", home.display().to_string()),
        ("FAKE_OPENAI_KEY", "sk-fake-key".to_string()),
    ];
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

fn patch_turn() -> Turn {
    Turn::call(
        "exec_command",
        json!({"cmd": format!("apply_patch <<'EOF'\n{PATCH}\nEOF\n")}),
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
        second.body.to_string().contains("function_call_output"),
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
