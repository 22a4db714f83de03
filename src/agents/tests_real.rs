//! Each parser on REAL captured output: what Claude Code 2.1.197, Codex 0.171.0, Gemini CLI
//! 0.61.0, opencode 1.18.33 and aider 0.86.2 printed against brl's scripted fake model API
//! (`tests/fixtures/agents/<cli>/<case>.{stdout,stderr,exit}`, saved by the real-agent suite; see
//! the README there). The suite may capture them again, so ids and token counts are checked
//! against the fixture's own text, never hard-coded; what the fake model was scripted to say
//! (answers, the tools it called, the errors it returned) is checked exactly.

use std::sync::LazyLock;

use regex::Regex;

use super::tests::{close, now, preset};
use super::*;

struct Case {
    stdout: String,
    stderr: String,
    r: AgentResult,
}

fn case(kind: PresetKind, name: &str) -> Case {
    let dir = format!(
        "{}/tests/fixtures/agents/{}",
        env!("CARGO_MANIFEST_DIR"),
        kind.name()
    );
    let read = |ext: &str| {
        std::fs::read_to_string(format!("{dir}/{name}.{ext}"))
            .unwrap_or_else(|e| panic!("{dir}/{name}.{ext}: {e}"))
    };
    let (stdout, stderr) = (read("stdout"), read("stderr"));
    let r = preset(kind).parse_result_at(&stdout, &stderr, now());
    Case { stdout, stderr, r }
}

/// The first number after `"key":` in the text: an oracle independent of the parsers' JSON reading.
fn number_after(text: &str, key: &str) -> f64 {
    let re = Regex::new(&format!(r#""{key}":\s*([0-9.]+)"#)).unwrap();
    re.captures(text)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or_else(|| panic!("no {key} in the fixture"))
}

/// Every number after `"key":` in the text, summed.
fn sum_after(text: &str, key: &str) -> u64 {
    let re = Regex::new(&format!(r#""{key}":\s*([0-9]+)"#)).unwrap();
    re.captures_iter(text)
        .filter_map(|c| c[1].parse::<u64>().ok())
        .sum()
}

fn id_in_text(id: &Option<String>, text: &str) {
    let id = id.as_deref().expect("a session id");
    assert!(!id.is_empty() && text.contains(id), "{id}");
}

fn hook_inputs(kind: PresetKind) -> Vec<serde_json::Value> {
    static OBJECTS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\}\s*\{").unwrap());
    let path = format!(
        "{}/tests/fixtures/agents/{}/hook_inputs.jsonl",
        env!("CARGO_MANIFEST_DIR"),
        kind.name()
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // one JSON per line (a last line may lack its newline)
    let text = OBJECTS.replace_all(&text, "}\n{");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}: {l}")))
        .collect()
}

// ---- Claude Code ----

#[test]
fn claude_edit_and_commit() {
    for name in ["edit", "commit", "stream_json"] {
        let Case { stdout, r, .. } = case(PresetKind::Claude, name);
        assert!(
            close(r.cost_usd, number_after(&stdout, "total_cost_usd")),
            "{name}: {r:?}"
        );
        assert_eq!(r.cost_source, Some(CostSource::Reported));
        assert_eq!(
            r.turns,
            Some(number_after(&stdout, "num_turns") as u64),
            "{name}"
        );
        assert!(
            r.input_tokens.unwrap_or(0) > 0 && r.output_tokens.unwrap_or(0) > 0,
            "{name}"
        );
        id_in_text(&r.session_id, &stdout);
        assert!(
            !r.is_error && r.limit.is_none() && r.denials.is_empty(),
            "{name}: {r:?}"
        );
    }
    let r = case(PresetKind::Claude, "edit").r;
    assert_eq!(
        r.answer.as_deref(),
        Some("I created hello.txt and edited greeting.txt.")
    );
    assert_eq!(
        case(PresetKind::Claude, "commit").r.answer.as_deref(),
        Some("Committed.")
    );
}

#[test]
fn claude_denied_run_names_the_denied_tools() {
    let p = preset(PresetKind::Claude);
    let Case { stdout, r, .. } = case(PresetKind::Claude, "denied");
    assert!(stdout.contains(r#""subtype":"success""#) && !r.is_error);
    assert_eq!(
        p.denial_reason(&r.denials).as_deref(),
        Some(
            "Write ×1, Bash(git commit) ×1 denied — the agent command lacks a permission mode \
             (--permission-mode acceptEdits) or an --allowedTools rule for them"
        )
    );
    assert!(r.cost_usd.unwrap_or(0.0) > 0.0, "a denied run still costs");
}

#[test]
fn claude_limits() {
    let r = case(PresetKind::Claude, "rate_limited").r;
    assert!(r.is_error);
    assert_eq!(r.error_kind.as_deref(), Some("api_error_429"));
    assert!(r.limit.is_some());
    // "Server is temporarily limiting requests (not your usage limit)"
    let r = case(PresetKind::Claude, "usage_limit").r;
    assert_eq!(r.limit.map(|l| l.kind), Some(LimitKind::RateLimit));
    // Signed in to a subscription: "You've hit your session limit · resets 11:13pm (UTC)".
    let c = case(PresetKind::Claude, "session_limit");
    let l = c.r.limit.expect("the session limit is a limit");
    assert_eq!(l.kind, LimitKind::UsageLimit);
    let t = l.resets_at.expect("a reset time");
    assert!(t > now() && t <= now() + chrono::Duration::days(1), "{t}");
    let said = Regex::new(r"resets (\d{1,2}):(\d{2})(am|pm) \(UTC\)")
        .unwrap()
        .captures(&c.stdout)
        .map(|m| {
            let h: u32 = m[1].parse().unwrap();
            format!(
                "{:02}:{}",
                (h % 12) + if &m[3] == "pm" { 12 } else { 0 },
                &m[2]
            )
        })
        .expect("the capture says when it resets");
    assert_eq!(t.format("%H:%M").to_string(), said);
    let r = case(PresetKind::Claude, "overloaded").r;
    assert_eq!(r.error_kind.as_deref(), Some("api_error_529"));
    assert_eq!(r.limit.map(|l| l.kind), Some(LimitKind::Overloaded));
}

#[test]
fn claude_hook_inputs_are_known_tools() {
    for v in hook_inputs(PresetKind::Claude) {
        let tool = v["tool_name"].as_str().unwrap();
        assert!(PresetKind::Claude.tool_class(tool).is_some(), "{tool}");
    }
}

// ---- Codex ----

#[test]
fn codex_runs() {
    let Case { stdout, r, .. } = case(PresetKind::Codex, "edit");
    let (input, output) = (
        sum_after(&stdout, "input_tokens"),
        sum_after(&stdout, "output_tokens"),
    );
    assert!(input > 0 && output > 0);
    assert_eq!(
        (r.input_tokens, r.output_tokens),
        (Some(input), Some(output))
    );
    // the preset's model, gpt-5-codex: $1.25 in, $10 out per million
    let want = (input as f64 * 1.25 + output as f64 * 10.0) / 1e6;
    assert!(close(r.cost_usd, want), "{:?} vs {want}", r.cost_usd);
    assert_eq!(r.cost_source, Some(CostSource::Computed));
    id_in_text(&r.session_id, &stdout);
    assert_eq!(
        r.answer.as_deref(),
        Some("Added hello.txt and updated greeting.txt.")
    );
    assert!(!r.is_error && r.denials.is_empty() && r.limit.is_none());

    // a read-only sandbox: the rejection is only on stderr, and the turn still completes
    let Case { stderr, r, .. } = case(PresetKind::Codex, "denied");
    assert!(stderr.contains("patch rejected"));
    assert_eq!(
        r.denials,
        vec![Denial {
            tool: "apply_patch".into(),
            count: 1
        }]
    );
    assert!(!r.is_error);

    // no --json: the answer alone on stdout, the prompt echoed on stderr, no tokens
    let r = case(PresetKind::Codex, "plain").r;
    assert_eq!(
        r.answer.as_deref(),
        Some("The change is fine.\nVERDICT: approve\n")
    );
    assert_eq!((r.input_tokens, r.cost_usd), (None, None));
}

#[test]
fn codex_limits() {
    let r = case(PresetKind::Codex, "rate_limited").r;
    assert!(r.is_error);
    assert_eq!(r.error_kind.as_deref(), Some("turn_failed"));
    assert_eq!(r.limit.map(|l| l.kind), Some(LimitKind::RateLimit));
    // "try again at 11:03 PM.": the next 23:03 on this machine's clock. The time is read from
    // the capture itself (a recapture says another time), independently of the parser.
    let c = case(PresetKind::Codex, "usage_limit");
    let said = Regex::new(r"try again at (\d{1,2}):(\d{2}) ([AP]M)")
        .unwrap()
        .captures(&c.stdout)
        .map(|m| {
            let h: u32 = m[1].parse().unwrap();
            let h = (h % 12) + if &m[3] == "PM" { 12 } else { 0 };
            format!("{h:02}:{}", &m[2])
        })
        .expect("the capture says when to try again");
    let l = c.r.limit.unwrap();
    assert_eq!(l.kind, LimitKind::UsageLimit);
    let t = l.resets_at.expect("a reset time");
    assert!(t > now() && t <= now() + chrono::Duration::days(1), "{t}");
    assert_eq!(
        t.with_timezone(&chrono::Local).format("%H:%M").to_string(),
        said
    );
}

#[test]
fn codex_hook_inputs_name_every_patched_path() {
    let inputs = hook_inputs(PresetKind::Codex);
    let mut patched = Vec::new();
    for v in &inputs {
        let tool = v["tool_name"].as_str().unwrap();
        assert!(PresetKind::Codex.tool_class(tool).is_some(), "{tool}");
        patched.extend(codex::patch_paths(
            v["tool_input"]["command"].as_str().unwrap(),
        ));
    }
    let tools: Vec<&str> = inputs
        .iter()
        .map(|v| v["tool_name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, vec!["Bash", "apply_patch", "Bash"]);
    assert_eq!(
        patched,
        vec![
            (codex::PatchOp::Add, "hello.txt".to_string()),
            (codex::PatchOp::Update, "greeting.txt".to_string()),
            (codex::PatchOp::Add, "second.txt".to_string()),
        ]
    );
}

// ---- Gemini CLI ----

#[test]
fn gemini_runs() {
    let Case { stdout, r, .. } = case(PresetKind::Gemini, "edit");
    let (input, output) = (
        sum_after(&stdout, "prompt") / 2,
        sum_after(&stdout, "candidates") / 2,
    );
    // (each count appears twice: per model and per role)
    assert_eq!(
        (r.input_tokens, r.output_tokens),
        (Some(input), Some(output))
    );
    let want = (input as f64 * 1.25 + output as f64 * 10.0) / 1e6;
    assert!(close(r.cost_usd, want), "{:?} vs {want}", r.cost_usd);
    assert_eq!(r.model.as_deref(), Some("gemini-2.5-pro"));
    id_in_text(&r.session_id, &stdout);
    assert_eq!(
        r.answer.as_deref(),
        Some("I created hello.txt and edited greeting.txt.")
    );
    assert!(!r.is_error && r.denials.is_empty() && r.limit.is_none());

    // no approval mode: the edit tools are left out, and calls to them fail
    let p = preset(PresetKind::Gemini);
    let r = case(PresetKind::Gemini, "denied").r;
    assert_eq!(
        p.denial_reason(&r.denials).as_deref(),
        Some(
            "write_file ×1, replace ×1 denied — the agent command does not allow them \
             (--approval-mode auto_edit for edits, --allowed-tools \
             'run_shell_command(<prefix>)' for commands)"
        )
    );
    // auto_edit without --allowed-tools: no shell at all; with it, other commands are denied
    for name in ["auto_edit_shell", "auto_edit_allowed_shell"] {
        let r = case(PresetKind::Gemini, name).r;
        assert_eq!(
            r.denials,
            vec![Denial {
                tool: "run_shell_command".into(),
                count: 1
            }],
            "{name}"
        );
    }
}

#[test]
fn gemini_daily_quota_on_stderr() {
    let Case { stdout, stderr, r } = case(PresetKind::Gemini, "rate_limited");
    assert!(stdout.is_empty(), "the error JSON comes on stderr");
    assert!(r.is_error);
    id_in_text(&r.session_id, &stderr);
    assert_eq!(r.limit.map(|l| l.kind), Some(LimitKind::UsageLimit));
}

#[test]
fn gemini_hook_inputs_are_known_tools() {
    for v in hook_inputs(PresetKind::Gemini) {
        assert_eq!(v["hook_event_name"], "BeforeTool");
        let tool = v["tool_name"].as_str().unwrap();
        assert!(PresetKind::Gemini.tool_class(tool).is_some(), "{tool}");
    }
}

// ---- opencode ----

#[test]
fn opencode_runs() {
    let Case { stdout, r, .. } = case(PresetKind::Opencode, "edit");
    let steps = stdout.matches(r#""type":"step_finish""#).count() as u64;
    assert_eq!(r.turns, Some(steps));
    id_in_text(&r.session_id, &stdout);
    assert!(r.input_tokens.unwrap_or(0) > 0);
    assert!(r.cost_usd.is_some() && r.cost_source.is_some(), "{r:?}");
    assert_eq!(
        r.answer.as_deref(),
        Some("I created hello.txt and edited greeting.txt.")
    );
    assert!(r.denials.is_empty() && !r.is_error);

    // denied tools are not offered; the model's calls come back as the `invalid` tool
    let r = case(PresetKind::Opencode, "denied").r;
    assert_eq!(
        r.denials,
        vec![
            Denial {
                tool: "write".into(),
                count: 1
            },
            Denial {
                tool: "edit".into(),
                count: 1
            }
        ]
    );

    let Case { stdout, r, .. } = case(PresetKind::Opencode, "rate_limited");
    assert!(r.is_error);
    let l = r.limit.unwrap();
    if let Some(epoch) = Regex::new(r#"ratelimit-unified-reset":"(\d+)""#)
        .unwrap()
        .captures(&stdout)
    {
        assert_eq!(
            l.resets_at.map(|t| t.timestamp().to_string()),
            Some(epoch[1].to_string())
        );
    } else {
        assert!(
            l.resets_at.is_some() || l.retry_after_secs.is_some(),
            "{l:?}"
        );
    }
}

// ---- aider ----

#[test]
fn aider_runs() {
    let Case { stdout, r, .. } = case(PresetKind::Aider, "edit");
    let cost: f64 = Regex::new(r"\$([0-9.]+) session")
        .unwrap()
        .captures_iter(&stdout)
        .last()
        .map(|c| c[1].parse().unwrap())
        .expect("aider printed its cost");
    assert!(close(r.cost_usd, cost));
    assert_eq!(r.cost_source, Some(CostSource::Reported));
    assert!(r.input_tokens.unwrap_or(0) > 0 && r.output_tokens.unwrap_or(0) > 0);
    assert!(r.limit.is_none() && r.denials.is_empty());

    // --dry-run: the edits are not applied
    let r = case(PresetKind::Aider, "denied").r;
    assert_eq!(
        r.denials,
        vec![Denial {
            tool: "edit".into(),
            count: 2
        }]
    );

    // aider exits 0 after giving up on a rate-limited request
    let r = case(PresetKind::Aider, "rate_limited").r;
    assert!(r.is_error);
    assert_eq!(r.limit.map(|l| l.kind), Some(LimitKind::RateLimit));
}
