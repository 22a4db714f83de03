//! `brl review` with each real agent CLI (Claude Code, Codex — JSON and plain mode —, Gemini CLI,
//! opencode, aider), installed by `tests/agent-clis.sh` under `target/`, driven offline by the
//! scripted fake model API (`tests/common/fake_model/`). The branch under review carries
//! `VERDICT: reject` lines in its diff (so in the reviewer's prompt, which also ends with the
//! template's own `VERDICT: REJECT` line) while the model answers approve: the verdict must come
//! from the agent's answer, never from an echo of its prompt. Codex in plain mode echoes the
//! whole prompt on stderr; a fake plain-text agent echoes it on stdout.

#[path = "jobs_agents/case.rs"]
mod case;
mod common;
#[path = "common/fake_model/mod.rs"]
mod fake_model;
#[allow(dead_code)]
#[path = "real_agents/support.rs"]
mod support;

use brl::agents::{PresetKind, codex};
use case::{Case, brl_bin};
use common::{agent, git};
use fake_model::{FakeModel, Script, Turn};
use serde_json::Value;

const CHECKS: &[&str] = &["cat f*.txt", "cat tests.txt"];

const APPROVE: &str = "The change fixes one ERR line and does one thing.\nVERDICT: APPROVE";

/// The reviewer's prompt reached the model and held the diff's `VERDICT: reject` lines.
fn assert_prompt_held_reject(server: &FakeModel) {
    let bodies: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.body.to_string())
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("+VERDICT: reject") && b.contains("VERDICT: REJECT")),
        "the prompt with the diff's reject lines reached the model:\n{}",
        server.dump()
    );
}

fn assert_approved(entry: &Value, q: &Value, server: &FakeModel) {
    assert_eq!(
        q["review"]["verdict"],
        "approve",
        "{q}\n{entry}\n{}",
        server.dump()
    );
    assert!(
        entry["data"]["verdicts"].to_string().contains("approve"),
        "the run's verdicts: {entry}"
    );
    let reasons = q["review"]["reasons"].as_str().unwrap_or("");
    assert!(reasons.contains("does one thing"), "{q}");
    assert!(
        !reasons.contains("Criteria") && !reasons.contains("diff"),
        "the reasons are the answer, not the prompt: {q}"
    );
    assert_prompt_held_reject(server);
}

#[test]
fn claude_review_reads_the_verdict_from_its_json_result() {
    let c = Case::new("claude");
    c.agent(&PresetKind::Claude.default_command(CHECKS, &brl_bin()));
    let server = FakeModel::start(Script::new(vec![Turn::text(APPROVE)]));
    let (entry, q) = c.review(&server.claude_env());
    assert_approved(&entry, &q, &server);
    // Claude reports its cost: the job entry carries it for the budget.
    let cost = entry["data"]["cost_usd"].as_f64().unwrap_or(0.0);
    assert!(cost > 0.0, "cost_usd from Claude's result: {entry}");
    assert!(
        entry["data"]["input_tokens"].as_u64().unwrap_or(0) > 0,
        "{entry}"
    );
}

/// The default Codex command with the fake API's model (the price table has no price for it).
fn codex_command(json: bool) -> String {
    let cmd = codex::default_command(&brl_bin()).replace(
        &format!("-m {}", codex::DEFAULT_MODEL),
        &format!("-m {}", fake_model::clients::CODEX_MODEL),
    );
    if json {
        cmd
    } else {
        cmd.replace("exec --json -s workspace-write", "exec -s read-only")
    }
}

#[test]
fn codex_json_review_reads_the_agent_message() {
    let c = Case::new("codex-json");
    c.agent(&codex_command(true));
    let server = FakeModel::start(Script::new(vec![Turn::text(APPROVE)]));
    let (entry, q) = c.review(&server.codex_env(&c.agent_home, ""));
    assert_approved(&entry, &q, &server);
    // Tokens from the JSONL; no price for the fake model, so the call is counted as unpriced.
    assert!(
        entry["data"]["input_tokens"].as_u64().unwrap_or(0) > 0,
        "{entry}"
    );
    assert_eq!(entry["data"]["unpriced_calls"], 1, "{entry}");
}

#[test]
fn codex_plain_review_never_reads_the_prompt_it_echoes_on_stderr() {
    let c = Case::new("codex-plain");
    c.agent(&codex_command(false));
    // First an answer with a verdict, then one without: the echo (which ends with the
    // template's `VERDICT: REJECT`) must count for neither.
    let server = FakeModel::start(Script::new(vec![Turn::text(APPROVE)]));
    let (entry, q) = c.review(&server.codex_env(&c.agent_home, ""));
    assert_approved(&entry, &q, &server);
    let log = c.job_log();
    assert!(
        log.contains("+VERDICT: reject") && log.contains("VERDICT: REJECT"),
        "Codex echoed the prompt (on stderr, into the job log): {log}"
    );

    let server = FakeModel::start(Script::new(vec![Turn::text(
        "I could not make up my mind about this change.",
    )]));
    let (entry, q) = c.review(&server.codex_env(&c.agent_home, ""));
    assert_eq!(q["review"]["verdict"], "unclear", "{q}\n{entry}");
    assert_eq!(
        q["review"]["reasons"], "I could not make up my mind about this change.",
        "{q}"
    );
}

#[test]
fn gemini_review_reads_the_json_response() {
    let c = Case::new("gemini");
    c.agent(&PresetKind::Gemini.default_command(CHECKS, &brl_bin()));
    let server = FakeModel::start(Script::new(vec![Turn::text(APPROVE)]));
    let (entry, q) = c.review(&server.gemini_env(&c.agent_home));
    assert_approved(&entry, &q, &server);
    assert!(
        entry["data"]["input_tokens"].as_u64().unwrap_or(0) > 0,
        "{entry}"
    );
    let cost = entry["data"]["cost_usd"].as_f64().unwrap_or(0.0);
    assert!(cost > 0.0, "dollars from gemini-2.5-pro's price: {entry}");
}

#[test]
fn opencode_review_reads_its_text_events() {
    let c = Case::new("opencode");
    let cmd = PresetKind::Opencode
        .default_command(CHECKS, &brl_bin())
        .replace(
            &format!("-m {}", brl::agents::opencode::DEFAULT_MODEL),
            &format!("-m {}", fake_model::clients::OPENCODE_MODEL),
        );
    c.agent(&cmd);
    let server = FakeModel::start(Script::new(vec![Turn::text(APPROVE)]));
    let env = server.opencode_env(&c.agent_home, &support::cli("opencode-config"), None);
    let (entry, q) = c.review(&env);
    assert_approved(&entry, &q, &server);
    let cost = entry["data"]["cost_usd"].as_f64().unwrap_or(0.0);
    assert!(cost > 0.0, "opencode's per-step cost: {entry}");
}

#[test]
fn aider_review_reads_its_plain_answer() {
    let c = Case::new("aider");
    let cmd = PresetKind::Aider
        .default_command(CHECKS, &brl_bin())
        .replace(
            &format!("--model {}", brl::agents::aider::DEFAULT_MODEL),
            &format!("--model {}", fake_model::clients::AIDER_MODEL),
        );
    c.agent(&cmd);
    let server = FakeModel::start(Script::new(vec![Turn::text(APPROVE)]).every_request());
    let (entry, q) = c.review(&server.aider_env(&c.agent_home));
    assert_approved(&entry, &q, &server);
}

#[test]
fn a_plain_agent_that_echoes_its_prompt_on_stdout_is_read_after_the_echo() {
    let c = Case::new("echo");
    c.agent(&agent("echo_prompt.sh"));
    let answer = c.w.dir.path().join("answer");
    std::fs::write(&answer, "Fine.\nVERDICT: approve\n").expect("write");
    let (entry, q) = c.review(&[]);
    assert_eq!(q["review"]["verdict"], "approve", "{q}\n{entry}");
    assert_eq!(q["review"]["reasons"], "Fine.", "{q}");
    std::fs::write(&answer, "No verdict from me.\n").expect("write");
    let (entry, q) = c.review(&[]);
    assert_eq!(q["review"]["verdict"], "unclear", "{q}\n{entry}");
    assert_eq!(q["review"]["reasons"], "No verdict from me.", "{q}");
}

/// The doctor's agent runs in the job's scratch directory: a git repository brl owns, so aider
/// (which works in a git repository, climbing to a parent one or running `git init`) keeps its
/// files there — never in the user's checkout, even when the brl home lies inside it.
#[test]
fn aider_as_doctor_works_in_brls_scratch_repository_not_the_users_checkout() {
    let c = Case::make("aider-doctor", true);
    let cmd = PresetKind::Aider
        .default_command(CHECKS, &brl_bin())
        .replace(
            &format!("--model {}", brl::agents::aider::DEFAULT_MODEL),
            &format!("--model {}", fake_model::clients::AIDER_MODEL),
        );
    c.w.write_config(
        1,
        &cmd,
        240,
        "\n[doctor]\nadvise = true\ntimeout_secs = 240\n",
    );
    let before_log = git(&c.w.repo, &["log", "--all", "--oneline"]);
    let advice = "Keep to one ERR line per cycle.";
    let server = FakeModel::start(Script::new(vec![Turn::text(advice)]).every_request());
    let entry = c.job(
        "doctor",
        "doctor_analysis",
        &server.aider_env(&c.agent_home),
    );
    let got = entry["data"]["sessions"]["s1"]["advice"]
        .as_str()
        .unwrap_or("");
    assert!(
        got.contains(advice),
        "the advice is aider's answer: {entry}\n{}",
        c.job_log()
    );
    assert!(
        !got.contains("ralph") && !got.contains("Evidence"),
        "never the prompt: {entry}"
    );
    let scratch = c.w.home.join("logs/jobs/scratch/doctor");
    let top = git(&scratch, &["rev-parse", "--show-toplevel"]);
    assert_eq!(
        std::fs::canonicalize(&top).expect("toplevel"),
        std::fs::canonicalize(&scratch).expect("scratch"),
        "the scratch directory is a repository of its own"
    );
    assert_eq!(
        git(&c.w.repo, &["status", "--porcelain", "--ignored=no"]),
        "",
        "nothing of aider's in the user's checkout"
    );
    assert_eq!(git(&c.w.repo, &["log", "--all", "--oneline"]), before_log);
    let aider_files: Vec<String> = std::fs::read_dir(&scratch)
        .expect("scratch")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".aider"))
        .collect();
    assert!(
        !aider_files.is_empty(),
        "aider kept its files in the scratch repository"
    );
}

/// A Codex command that would run without brl's gate is refused when brl.toml is read: the job
/// fails with the config error (naming the flag and the fix) and no agent is started.
#[test]
fn a_preset_command_that_fails_its_check_fails_the_job_with_the_config_error() {
    let c = Case::new("bad-codex");
    c.agent("codex exec --json -s workspace-write --skip-git-repo-check");
    let out = c.w.brl().arg("review").output().expect("brl review runs");
    assert_ne!(out.status.code(), Some(0));
    // Refused when brl.toml is read, before any job or agent runs: the error names the key,
    // the missing flag and the fix.
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(
        error.contains("agent.command") && error.contains("--dangerously-bypass-hook-trust"),
        "{error}"
    );
    assert!(c.w.entries("cto_review").is_empty(), "no job ran: {error}");
    assert!(
        !c.w.home.join("logs/jobs").exists()
            || std::fs::read_dir(c.w.home.join("logs/jobs"))
                .expect("logs/jobs")
                .flatten()
                .all(|e| !e.file_name().to_string_lossy().ends_with("-review.log")),
        "no agent ran, so no agent output was saved"
    );
}
