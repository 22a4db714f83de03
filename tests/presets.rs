//! Each agent preset end to end: `brl cycle s1` runs the preset's OWN default command
//! (`PresetKind::default_command`) with the REAL CLI (installed by `tests/agent-clis.sh`),
//! pointed at the scripted fake model API by environment and config only. The agent really edits
//! a file in the session's worktree; the cycle is `kept` with the right counts, and the entry
//! carries the agent's figures (cost, tokens, turns) read by the preset. A Claude command without
//! a permission mode is denied its edit, and the reason names the denied tool.

#![allow(dead_code)]

mod common;
#[path = "common/fake_model/mod.rs"]
mod fake_model;
#[path = "real_agents/support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use brl::agents::PresetKind;
use common::{World, git};
use fake_model::clients::{AIDER_MODEL, CODEX_MODEL, OPENCODE_MODEL};
use fake_model::{FakeModel, Script, Turn};

const CHECKS: [&str; 2] = ["cat f*.txt", "cat tests.txt"];

/// A [`World`] (f1.txt with two `ERR` lines; the type check counts them) under the cargo target
/// dir — Codex will not put its helpers under /tmp — with a HOME and TMPDIR for the agent.
struct Bench {
    w: World,
    agent_home: PathBuf,
    tmp: PathBuf,
}

impl Bench {
    fn new(tag: &str) -> Bench {
        let dir = tempfile::Builder::new()
            .prefix(&format!("preset-{tag}-"))
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("tempdir");
        let base = std::fs::canonicalize(dir.path()).expect("canonical");
        let repo = base.join("app");
        let home = base.join("home");
        for d in [&repo, &home, &base.join("agent-home"), &base.join("tmp")] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["config", "user.name", "Test"]);
        git(&repo, &["config", "user.email", "test@example.invalid"]);
        std::fs::write(repo.join("f1.txt"), "ok line\nERR one\nERR two\n").expect("write");
        std::fs::write(repo.join("tests.txt"), "PASS a\nPASS b\nFAIL c\n").expect("write");
        std::fs::write(repo.join("AGENTS.md"), "Context: fix ERR lines.\n").expect("write");
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "initial"]);
        Bench {
            agent_home: base.join("agent-home"),
            tmp: base.join("tmp"),
            w: World { dir, repo, home },
        }
    }

    /// The session's worktree, where the agent runs (absolute, canonical).
    fn worktree(&self) -> String {
        self.w.home.join("worktrees/s1").display().to_string()
    }

    /// `brl cycle s1` with `command` as the agent; the CLI's directory first on PATH.
    fn cycle(&self, cli: &str, command: &str, env: &[(String, String)], extra: &str) -> Value {
        self.w.write_config(1, command, 240, extra);
        let bin = support::cli(cli);
        let dir = bin.parent().expect("the CLI's directory");
        let path = format!(
            "{}:{}",
            dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = self.w.brl();
        c.args(["cycle", "s1"])
            .env("PATH", path)
            .env("HOME", &self.agent_home)
            .env("TMPDIR", &self.tmp)
            .timeout(Duration::from_secs(300));
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("brl cycle runs");
        let cycles = self.w.cycles();
        assert_eq!(
            cycles.len(),
            1,
            "one cycle:\n{}\n{}\nlog: {cycles:#?}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut e = cycles[0].clone();
        e["brl_stdout"] = json!(String::from_utf8_lossy(&out.stdout));
        e["brl_stderr"] = json!(String::from_utf8_lossy(&out.stderr));
        e
    }
}

fn diag(e: &Value, server: &FakeModel) -> String {
    let output = e["data"]["output"]
        .as_str()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    format!(
        "entry: {e:#}\nagent output:\n{output}\nrequests:\n{}",
        server.dump()
    )
}

/// Kept, errors 2 → 1, the fix on the branch, the agent's preset named in the entry.
fn assert_kept(b: &Bench, e: &Value, preset: &str, d: &str) {
    let data = &e["data"];
    assert_eq!(data["outcome"], "kept", "{d}");
    assert_eq!(data["before"]["errors"], 2, "{d}");
    assert_eq!(data["after"]["errors"], 1, "{d}");
    assert!(data["commits"].as_u64().unwrap_or(0) >= 1, "{d}");
    assert_eq!(data["agent"]["preset"], preset, "{d}");
    let branch = data["branch"].as_str().expect("branch");
    let f1 = git(&b.w.repo, &["show", &format!("{branch}:f1.txt")]);
    assert!(
        f1.contains("fixed one") && !f1.contains("ERR one"),
        "{f1}\n{d}"
    );
    let files = git(&b.w.repo, &["ls-tree", "-r", "--name-only", branch]);
    for state in [".aider", ".claude", ".gemini", ".codex", ".opencode"] {
        assert!(
            !files.contains(state),
            "agent state {state} committed: {files}"
        );
    }
}

fn cost(e: &Value) -> f64 {
    e["data"]["cost_usd"].as_f64().unwrap_or(0.0)
}

#[test]
fn claude_preset_edits_and_is_kept_with_its_reported_cost() {
    let b = Bench::new("claude");
    let wt = b.worktree();
    let server = FakeModel::start(Script::new(vec![
        Turn::call("Read", json!({"file_path": format!("{wt}/f1.txt")})),
        Turn::call(
            "Edit",
            json!({"file_path": format!("{wt}/f1.txt"),
                   "old_string": "ERR one", "new_string": "fixed one"}),
        ),
        Turn::text("Fixed one ERR line in f1.txt."),
    ]));
    let command = PresetKind::Claude.default_command(&CHECKS, "brl");
    let e = b.cycle("claude", &command, &server.claude_env(), "");
    let d = diag(&e, &server);
    assert_kept(&b, &e, "claude", &d);
    assert!(cost(&e) > 0.0, "{d}");
    assert_eq!(e["data"]["cost_source"], "reported", "{d}");
    assert!(e["data"]["num_turns"].as_u64().unwrap_or(0) >= 3, "{d}");
    assert!(e["data"]["agent"]["session_id"].is_string(), "{d}");
    assert!(
        e["data"]["agent"]["output_tokens"].as_u64().unwrap_or(0) > 0,
        "{d}"
    );
}

#[test]
fn claude_without_a_permission_mode_is_denied_and_the_reason_says_so() {
    let b = Bench::new("claude-denied");
    let wt = b.worktree();
    let server = FakeModel::start(Script::new(vec![
        Turn::call("Read", json!({"file_path": format!("{wt}/f1.txt")})),
        Turn::call(
            "Edit",
            json!({"file_path": format!("{wt}/f1.txt"),
                   "old_string": "ERR one", "new_string": "fixed one"}),
        ),
        Turn::text("I could not edit the file."),
    ]));
    let e = b.cycle(
        "claude",
        "claude -p --model sonnet --output-format json",
        &server.claude_env(),
        "",
    );
    let d = diag(&e, &server);
    let data = &e["data"];
    assert_eq!(data["outcome"], "no_change", "{d}");
    let reason = data["reason"].as_str().unwrap_or("");
    assert!(reason.contains("Edit ×1"), "{reason}\n{d}");
    assert!(reason.contains("denied"), "{reason}\n{d}");
    assert!(reason.contains("permission mode"), "{reason}\n{d}");
    assert_eq!(data["denials"][0]["tool"], "Edit", "{d}");
    assert!(cost(&e) > 0.0, "the denied run still cost money: {d}");
}

#[test]
fn codex_preset_edits_and_its_tokens_are_priced() {
    let b = Bench::new("codex");
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "apply_patch",
            Value::String(
                "*** Begin Patch\n*** Update File: f1.txt\n@@\n ok line\n-ERR one\n+fixed one\n*** End Patch\n"
                    .into(),
            ),
        ),
        Turn::text("Fixed one ERR line in f1.txt."),
    ]));
    let brl_bin = assert_cmd::cargo::cargo_bin("brl");
    let command = PresetKind::Codex
        .default_command(&CHECKS, &brl_bin.display().to_string())
        .replace("gpt-5-codex", CODEX_MODEL);
    let prices = format!(
        "[prices.\"{CODEX_MODEL}\"]\ninput_usd_per_mtok = 1.25\noutput_usd_per_mtok = 10.0\n"
    );
    let env = server.codex_env(&b.agent_home, "");
    let e = b.cycle("codex", &command, &env, &prices);
    let d = diag(&e, &server);
    assert_kept(&b, &e, "codex", &d);
    assert_priced_from_tokens(&e, &d);
}

#[test]
fn gemini_preset_edits_and_its_tokens_are_priced() {
    let b = Bench::new("gemini");
    let wt = b.worktree();
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "write_file",
            json!({"file_path": format!("{wt}/f1.txt"),
                   "content": "ok line\nfixed one\nERR two\n"}),
        ),
        Turn::text("Fixed one ERR line in f1.txt."),
    ]));
    let command = PresetKind::Gemini.default_command(&CHECKS, "brl");
    let env = server.gemini_env(&b.agent_home);
    let e = b.cycle("gemini", &command, &env, "");
    let d = diag(&e, &server);
    assert_kept(&b, &e, "gemini", &d);
    assert_priced_from_tokens(&e, &d);
}

#[test]
fn opencode_preset_edits_and_reports_its_cost() {
    let b = Bench::new("opencode");
    let wt = b.worktree();
    let server = FakeModel::start(Script::new(vec![
        Turn::call("read", json!({"filePath": format!("{wt}/f1.txt")})),
        Turn::call(
            "edit",
            json!({"filePath": format!("{wt}/f1.txt"),
                   "oldString": "ERR one", "newString": "fixed one"}),
        ),
        Turn::text("Fixed one ERR line in f1.txt."),
    ]));
    let command = PresetKind::Opencode
        .default_command(&CHECKS, "brl")
        .replace(brl::agents::opencode::DEFAULT_MODEL, OPENCODE_MODEL);
    let env = server.opencode_env(&b.agent_home, &support::cli("opencode-config"), None);
    let e = b.cycle("opencode", &command, &env, "");
    let d = diag(&e, &server);
    assert_kept(&b, &e, "opencode", &d);
    assert!(cost(&e) > 0.0, "{d}");
    assert!(e["data"]["cost_source"].is_string(), "{d}");
}

#[test]
fn aider_preset_edits_and_its_caches_stay_out_of_the_branch() {
    let b = Bench::new("aider");
    // The file is not in aider's chat yet: it asks to add it (yes, always) and asks the model
    // again, so the same whole-file edit is the answer twice.
    let edit = "I will fix one ERR line.\n\nf1.txt\n```\nok line\nfixed one\nERR two\n```\n";
    let server =
        FakeModel::start(Script::new(vec![Turn::text(edit), Turn::text(edit)]).every_request());
    let command = PresetKind::Aider.default_command(&CHECKS, "brl").replace(
        &format!("--model {}", brl::agents::aider::DEFAULT_MODEL),
        &format!("--model {AIDER_MODEL}"),
    );
    let env = server.aider_env(&b.agent_home);
    let e = b.cycle("aider", &command, &env, "");
    let d = diag(&e, &server);
    assert_kept(&b, &e, "aider", &d);
    assert!(cost(&e) > 0.0, "{d}");
    // aider left its chat history in the worktree; brl's leftover commit did not take it.
    let wt = Path::new(&b.worktree()).to_path_buf();
    let left: Vec<String> = std::fs::read_dir(&wt)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".aider"))
                .collect()
        })
        .unwrap_or_default();
    assert!(!left.is_empty(), "aider leaves its caches: {d}");
}

/// A token-only agent: tokens in the entry and dollars computed from the price table.
fn assert_priced_from_tokens(e: &serde_json::Value, d: &str) {
    assert!(
        e["data"]["agent"]["input_tokens"].as_u64().unwrap_or(0) > 0,
        "{d}"
    );
    assert_eq!(e["data"]["cost_source"], "computed", "{d}");
    assert!(cost(e) > 0.0, "{d}");
}
