//! Codex hooks, measured: what a PreToolUse hook gets for shell calls and for apply_patch, that
//! exit 2 blocks, and that hooks given on the command line run only with the trust bypass.

use serde_json::json;

use crate::capture::save;
use crate::codex::{codex, codex_with, patch_turn, shell_patch_turn};
use crate::fake_model::{FakeModel, Script, Turn};
use crate::support::{Place, Run, assert_offline};

#[test]
fn codex_runs_pre_tool_use_hooks_for_shell_and_apply_patch() {
    let place = Place::new("codex-hook");
    let hook = crate::capture::hook_script(&place);
    let hooks = format!(
        "\n[[hooks.PreToolUse]]\nmatcher = \"*\"\n[[hooks.PreToolUse.hooks]]\ntype = \"command\"\ncommand = \"{}\"\n",
        hook.display()
    );
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "exec_command",
            json!({"cmd": "touch blocked.txt # BLOCKME"}),
        ),
        patch_turn(),
        shell_patch_turn("*** Begin Patch\n*** Add File: second.txt\n+two\n*** End Patch"),
        Turn::text("Done."),
    ]));
    let r = codex_with(
        &place,
        &server,
        &hooks,
        &[
            "exec",
            "-s",
            "workspace-write",
            "--skip-git-repo-check",
            "--dangerously-bypass-hook-trust",
            "--json",
            "Create hello.txt",
        ],
    );
    save("codex", "hook_block", &place, server.addr.port(), &r);
    let inputs = crate::capture::hook_inputs(&place);
    let text = inputs
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    crate::capture::save_text(
        "codex",
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
    assert_eq!(
        place.read("hello.txt").as_deref(),
        Some("hi from codex\n"),
        "{diag}"
    );
    assert_eq!(place.read("second.txt").as_deref(), Some("two\n"), "{diag}");
    let tools: Vec<&str> = inputs
        .iter()
        .filter_map(|v| v["tool_name"].as_str())
        .collect();
    assert_eq!(tools, ["Bash", "apply_patch", "Bash"], "{diag}");
    assert!(text.contains("BLOCKME"), "{diag}");
    assert!(
        text.contains("*** Add File: hello.txt"),
        "the patch reached the hook: {diag}"
    );
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

/// A shell call the test hook blocks, with the hook given on the command line
/// (`-c hooks.PreToolUse=[…]`, as brl passes it) and `flags` added: whether the hook ran and
/// whether the file was made.
fn cli_hook_with_flags(tag: &str, flags: &[&str]) -> (bool, bool, Run) {
    let place = Place::new(tag);
    let hook = crate::capture::hook_script(&place);
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "exec_command",
            json!({"cmd": "touch blocked.txt # BLOCKME"}),
        ),
        Turn::text("Done."),
    ]));
    let hooks = format!(
        "hooks.PreToolUse=[{{matcher=\"*\",hooks=[{{type=\"command\",command=\"{}\"}}]}}]",
        hook.display()
    );
    let mut args = vec![
        "exec",
        "-s",
        "workspace-write",
        "--skip-git-repo-check",
        "--json",
        "-c",
        hooks.as_str(),
    ];
    args.extend_from_slice(flags);
    args.push("Touch a file");
    let r = codex(&place, &server, &args);
    save("codex", tag, &place, server.addr.port(), &r);
    assert_offline(&r);
    assert!(!r.timed_out, "{r:#?}");
    let ran = !crate::capture::hook_inputs(&place).is_empty();
    let made = place.read("blocked.txt").is_some();
    (ran, made, r)
}

#[test]
fn codex_command_line_hooks_need_the_trust_bypass() {
    let (ran, made, r) =
        cli_hook_with_flags("hooks_cli_trusted", &["--dangerously-bypass-hook-trust"]);
    assert!(
        ran && !made,
        "with the bypass the hook runs and blocks: {r:#?}"
    );
    let (ran, made, r) = cli_hook_with_flags("hooks_cli_untrusted", &[]);
    assert!(!ran && made, "without it the hook is skipped: {r:#?}");
}
