//! Usage and rate limits, with the REAL agent CLIs against the scripted fake model API: a 429 the
//! agent reports makes the cycle `rate_limited` (not a discard), one `agent_limited` entry is
//! logged however many sessions hit it, and the control room (real tmux on a private socket)
//! grants nothing to any session until the reset time — then resumes by itself.

#![allow(dead_code)]

mod common;
#[path = "common/fake_model/mod.rs"]
mod fake_model;
#[path = "real_agents/support.rs"]
mod support;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use brl::agents::PresetKind;
use common::room::{Room, wait_for};
use common::{World, git};
use fake_model::{FakeModel, Script, Turn};

/// When a cycle started: its entry's time less its total duration.
fn started(e: &Value) -> DateTime<Utc> {
    let ts: DateTime<Utc> = e["ts"].as_str().expect("ts").parse().expect("a time");
    let ms = e["data"]["duration_ms"]["total"].as_i64().unwrap_or(0);
    ts - chrono::Duration::milliseconds(ms)
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

/// Claude Code's plan limit, as Anthropic words it: "Claude AI usage limit reached|<reset epoch>".
fn usage_limit(reset: i64) -> Turn {
    Turn::Error {
        status: 429,
        headers: vec![],
        message: format!("Claude AI usage limit reached|{reset}"),
        body: None,
        sticky: true,
    }
}

/// The Claude preset's own command, by the installed CLI's path.
fn claude_command() -> String {
    let claude = support::cli("claude");
    PresetKind::Claude
        .default_command(&["cat f*.txt", "cat tests.txt"], "brl")
        .replacen("claude", &format!("'{}'", claude.display()), 1)
}

#[test]
fn a_usage_limit_pauses_every_session_until_the_reset_then_the_fleet_resumes() {
    let reset = Utc::now().timestamp() + 25;
    let server = FakeModel::start(Script::new(vec![usage_limit(reset)]));
    let mut r = Room::new(2, &claude_command(), "");
    let agent_home = r.w.dir.path().join("agent-home");
    std::fs::create_dir_all(&agent_home).expect("mkdir");
    let mut env = server.claude_env();
    env.push(("CLAUDE_CODE_MAX_RETRIES".into(), "0".into()));
    env.push(("HOME".into(), agent_home.display().to_string()));
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(r.w.run(&["task", "add", "fix f1"]).0, 0);
    r.up_with_env(&[], &env_ref);

    wait_for(120, "a rate_limited cycle and agent_limited", || {
        !r.entries("agent_limited").is_empty()
            && r.entries("ralph_cycle")
                .iter()
                .any(|c| c["data"]["outcome"] == "rate_limited")
    });
    let limited = r.entries("agent_limited");
    let first = &limited[0];
    assert_eq!(first["data"]["preset"], "claude", "{first}");
    assert_eq!(first["data"]["kind"], "usage_limit", "{first}");
    assert_eq!(first["data"]["resume_source"], "agent", "{first}");
    let resume_at = time(&first["data"]["resume_at"]);
    assert_eq!(resume_at.timestamp(), reset, "{first}");
    let limited_at = time(&first["ts"]);
    let cycle = r
        .entries("ralph_cycle")
        .into_iter()
        .find(|c| c["data"]["outcome"] == "rate_limited")
        .expect("a rate_limited cycle");
    let reason = cycle["data"]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("agent claude limited (usage limit)"),
        "{reason}"
    );
    assert_eq!(cycle["data"]["agent"]["preset"], "claude");
    assert_eq!(cycle["data"]["agent"]["limit"]["kind"], "usage_limit");
    assert_eq!(
        cycle["data"]["branch_deleted"], true,
        "an empty branch goes"
    );

    // The task came back uncounted: a limit is no judgement of it. (Its cycle may end a moment
    // after the other session's.)
    wait_for(60, "the task's cycle", || {
        r.entries("ralph_cycle")
            .iter()
            .any(|c| c["data"]["task"] == "fix f1")
    });
    let with_task = r
        .entries("ralph_cycle")
        .into_iter()
        .find(|c| c["data"]["task"] == "fix f1")
        .expect("the task's cycle");
    assert_eq!(with_task["data"]["outcome"], "rate_limited", "{with_task}");
    assert_eq!(with_task["data"]["task_state"], "pending", "{with_task}");
    let (_, out, _) = r.w.run(&["task", "list", "--json"]);
    let tasks: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(tasks[0]["attempts"], 0, "{tasks}");

    // Until the reset: no grant to any session, and the reason is logged.
    wait_for(60, "assignment_skipped (agent_limited)", || {
        r.entries("assignment_skipped")
            .iter()
            .any(|e| e["data"]["reason"] == "agent_limited")
    });
    let skipped = r.entries("assignment_skipped");
    let skip = skipped
        .iter()
        .find(|e| e["data"]["reason"] == "agent_limited")
        .expect("skip");
    assert_eq!(skip["data"]["preset"], "claude", "{skip}");

    // After it: the fleet resumes by itself (the fake still answers 429: it is limited again).
    wait_for(120, "a cycle started after the reset", || {
        r.entries("ralph_cycle")
            .iter()
            .any(|c| started(c) >= resume_at)
    });
    let cycles = r.entries("ralph_cycle");
    // A grant given just before the limit was recorded may start its cycle a moment later.
    let slack = limited_at + chrono::Duration::seconds(3);
    for c in &cycles {
        let s = started(c);
        assert!(
            s <= slack || s >= resume_at,
            "a cycle started while the agent was limited ({limited_at} .. {resume_at}): {c}"
        );
    }
    // One entry for the first limit, however many sessions hit it.
    let before_reset: Vec<_> = r
        .entries("agent_limited")
        .into_iter()
        .filter(|e| time(&e["ts"]) < resume_at)
        .collect();
    assert_eq!(before_reset.len(), 1, "{before_reset:?}");
    r.stop();
}

#[test]
fn a_token_only_agent_limited_without_a_reset_time_backs_off_and_logs_once() {
    // Codex reports tokens only, and a plain 429 names no reset time: brl backs off 60 s.
    let base = tempfile::Builder::new()
        .prefix("limits-codex-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("tempdir");
    let w = World::new(1);
    let agent_home = base.path().join("home");
    let tmp = base.path().join("tmp");
    std::fs::create_dir_all(&agent_home).expect("mkdir");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let server = FakeModel::start(Script::new(vec![Turn::rate_limited(1, 0)]));
    let env = server.codex_env(&agent_home, "");
    let brl_bin = assert_cmd::cargo::cargo_bin("brl");
    let command = PresetKind::Codex
        .default_command(&[], &brl_bin.display().to_string())
        .replace("gpt-5-codex", fake_model::clients::CODEX_MODEL)
        .replacen(
            "codex",
            &format!("'{}'", support::cli("codex").display()),
            1,
        );
    w.write_config(1, &command, 120, "");
    let cycle = |w: &World| {
        let mut c = w.brl();
        c.args(["cycle", "s1"])
            .env("HOME", &agent_home)
            .env("TMPDIR", &tmp)
            .timeout(Duration::from_secs(180));
        for (k, v) in &env {
            c.env(k, v);
        }
        c.output().expect("brl cycle runs")
    };
    let out = cycle(&w);
    let diag = || {
        format!(
            "{}\n{}\nlog: {:#?}\nrequests: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            w.cycles(),
            server.dump()
        )
    };
    let cycles = w.cycles();
    assert_eq!(cycles.len(), 1, "{}", diag());
    let e = &cycles[0]["data"];
    assert_eq!(e["outcome"], "rate_limited", "{}", diag());
    assert_eq!(e["agent"]["preset"], "codex", "{}", diag());
    assert_eq!(e["limit"]["resume_source"], "backoff", "{}", diag());
    assert!(
        w.branches().iter().all(|b| !b.starts_with("brl/")),
        "the empty branch is deleted: {:?}",
        w.branches()
    );
    let limited = w.entries("agent_limited");
    assert_eq!(limited.len(), 1, "{}", diag());
    let d = &limited[0]["data"];
    assert_eq!(d["preset"], "codex");
    assert_eq!(d["kind"], "rate_limit");
    let wait = (time(&d["resume_at"]) - time(&limited[0]["ts"])).num_seconds();
    assert!(
        (55..=61).contains(&wait),
        "a first back-off of 60 s: {wait}"
    );
    assert_no_leftover(&w.repo);

    // Limited again while the back-off runs: still one entry, and the back-off doubles.
    let _ = cycle(&w);
    assert_eq!(w.entries("agent_limited").len(), 1, "{}", diag());
    let cycles = w.cycles();
    assert_eq!(cycles.len(), 2);
    assert_eq!(cycles[1]["data"]["outcome"], "rate_limited");
    assert_eq!(cycles[1]["data"]["limit"]["strikes"], 2);
}

fn assert_no_leftover(repo: &Path) {
    let branches = git(repo, &["branch", "--list", "brl/*"]);
    assert!(branches.trim().is_empty(), "{branches}");
}
