//! One hook call: read the JSON on stdin, build the [`Context`], ask [`check`], print the reason
//! and log a `gate_block` entry when blocked. Every failure blocks (exit 2): Claude Code treats
//! any other non-zero exit as a harmless hook error and would run the call.

use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};

use super::HookInput;
use super::paths::{canonicalize_prefix, normalize};
use super::rules::{Block, Context, Verdict, check};
use super::tools;
use crate::config::GateConfig;
use crate::home::Home;
use crate::store::log::{self, Entry};

/// Exit code that blocks the tool call.
pub const BLOCK: i32 = 2;

/// Only what the gate needs from brl.toml; every other key is ignored (and not validated).
/// `[gate]` is read as a table first so that `allow_tools` is understood whether or not the
/// config's own `GateConfig` knows that key yet.
#[derive(Deserialize)]
struct RawGateFile {
    #[serde(default = "default_main")]
    main: String,
    #[serde(default)]
    repo: Option<PathBuf>,
    #[serde(default)]
    gate: toml::Table,
}

struct GateFile {
    main: String,
    /// The user's checkout (brl.toml's `repo`, resolved against the home).
    repo: Option<PathBuf>,
    gate: GateConfig,
    allow_tools: Vec<String>,
}

fn default_main() -> String {
    "main".into()
}

/// `brl gate`: the exit code (0 allow, 2 block). Never fails and never panics outward.
pub fn main(home: &Home, session: Option<&str>) -> i32 {
    let mut raw = Vec::new();
    let stdin = std::io::stdin().lock().read_to_end(&mut raw);
    let home_dir = std::env::var_os("HOME").map(PathBuf::from);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| match stdin {
        Ok(_) => decide(home, session, &raw, home_dir),
        Err(e) => Decision::bad_input(format!("cannot read the hook input on stdin: {e}")),
    }));
    let d = result.unwrap_or_else(|_| {
        Decision::bad_input("brl gate failed on this input (a bug); blocked to be safe".into())
    });
    let Verdict::Block(b) = &d.verdict else {
        return 0;
    };
    eprintln!("{}", message(b));
    if let Err(e) = record(home, &d, b) {
        eprintln!("(brl gate could not record this block in the experiment log: {e})");
    }
    BLOCK
}

/// What is printed for the agent.
pub fn message(b: &Block) -> String {
    let subject = if b.subject.is_empty() {
        String::new()
    } else {
        format!(" `{}`", b.subject.chars().take(300).collect::<String>())
    };
    format!("brl gate blocked{subject}: {} [rule: {}]", b.reason, b.rule)
}

/// A decision and what the log entry says about it.
pub struct Decision {
    pub verdict: Verdict,
    pub session: Option<String>,
    pub input: Option<HookInput>,
}

impl Decision {
    fn bad_input(reason: String) -> Decision {
        Decision {
            verdict: Verdict::Block(Block::new("bad-input", reason, "")),
            session: None,
            input: None,
        }
    }
}

/// The decision on raw hook input `raw` (no output, no log).
pub fn decide(
    home: &Home,
    session: Option<&str>,
    raw: &[u8],
    home_dir: Option<PathBuf>,
) -> Decision {
    let input: HookInput = match serde_json::from_slice(raw) {
        Ok(i) => i,
        Err(e) => {
            return Decision::bad_input(format!(
                "the hook input is not the JSON of an agent's tool-call hook (Claude Code PreToolUse, Codex PreToolUse, Gemini CLI BeforeTool) ({e})"
            ));
        }
    };
    let session = session
        .map(str::to_string)
        .or_else(|| session_of(home, input.cwd.as_deref()))
        .filter(|s| usable_name(s));
    let worktree = session.as_deref().map(|s| {
        let wt = home.worktree(s);
        wt.canonicalize().unwrap_or_else(|_| normalize(&wt))
    });
    let mut ctx = Context::new(worktree, home_dir, "main");
    ctx.resolve = canonicalize_prefix;
    if matches!(
        tools::kind(&input.tool_name),
        tools::Kind::Shell | tools::Kind::Unknown
    ) {
        // Only shell calls and unknown tools read brl.toml: the main branch, the user's
        // patterns and the tools the user lets through.
        match load(home) {
            Ok(f) => {
                ctx.main = f.main;
                ctx.protected.extend(f.repo);
                ctx.deny = f.gate.deny.into_iter().map(|p| p.0).collect();
                ctx.allow = f.gate.allow.into_iter().map(|p| p.0).collect();
                ctx.allow_tools = f.allow_tools;
            }
            Err(reason) => {
                return Decision {
                    verdict: Verdict::Block(Block::new("gate-config", reason, "")),
                    session,
                    input: Some(input),
                };
            }
        }
    }
    Decision {
        verdict: check(&input, &ctx),
        session,
        input: Some(input),
    }
}

fn load(home: &Home) -> Result<GateFile, String> {
    let path = home.config_path();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read {} ({e}), which holds the gate's settings; nothing runs until a person \
             fixes it",
            path.display()
        )
    })?;
    let invalid = |e: String| {
        format!(
            "{} is invalid ({}); nothing runs until a person fixes it",
            path.display(),
            e.trim()
        )
    };
    let mut raw: RawGateFile = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let allow_tools = match raw.gate.remove("allow_tools") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(s),
                other => Err(invalid(format!(
                    "[gate] allow_tools holds {other}, not a tool name in quotes; write e.g. \
                     allow_tools = [\"mcp__db__query\"]"
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(invalid(format!(
                "[gate] allow_tools is {other}, not a list of tool names; write e.g. \
                 allow_tools = [\"mcp__db__query\"]"
            )));
        }
    };
    let gate = GateConfig::deserialize(toml::Value::Table(raw.gate))
        .map_err(|e| invalid(format!("[gate]: {e}")))?;
    let repo = raw.repo.map(|r| {
        let p = if r.is_absolute() {
            r
        } else {
            home.root().join(r)
        };
        p.canonicalize().unwrap_or_else(|_| normalize(&p))
    });
    Ok(GateFile {
        main: raw.main,
        repo,
        gate,
        allow_tools,
    })
}

/// The session whose worktree holds `cwd` (`<home>/worktrees/<session>/…`).
fn session_of(home: &Home, cwd: Option<&Path>) -> Option<String> {
    let cwd = cwd?;
    let dir = home.worktrees_dir();
    let dir = dir.canonicalize().unwrap_or(dir);
    let cwd = cwd.canonicalize().unwrap_or_else(|_| normalize(cwd));
    match cwd.strip_prefix(&dir).ok()?.components().next()? {
        Component::Normal(s) => s.to_str().map(str::to_string),
        _ => None,
    }
}

/// A session name that names a folder of `worktrees/` and nothing else.
fn usable_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

/// Append the `gate_block` entry, in a home that has a brl.toml (never litter another folder).
fn record(home: &Home, d: &Decision, b: &Block) -> std::io::Result<()> {
    if !home.config_path().is_file() {
        return Ok(());
    }
    let mut data = json!({
        "rule": b.rule,
        "reason": b.reason,
        "subject": b.subject,
    });
    if let Some(i) = &d.input {
        data["tool"] = json!(i.tool_name);
        for key in ["command", "cmd", "file_path", "notebook_path"] {
            if let Some(v) = i.tool_input.get(key).filter(|v| v.is_string()) {
                let name = if key == "command" || key == "cmd" {
                    "command"
                } else {
                    "path"
                };
                data[name] = v.clone();
            }
        }
        if let Some(c) = &i.cwd {
            data["cwd"] = json!(c);
        }
        if let Some(s) = &i.session_id {
            data["claude_session"] = Value::String(s.clone());
        }
    }
    log::append(
        &home.log_path(),
        &Entry::new("gate_block", d.session.as_deref(), data),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_from_cwd_and_names() {
        let home = Home::new(Path::new("/h"));
        assert_eq!(
            session_of(&home, Some(Path::new("/h/worktrees/s2/src"))),
            Some("s2".into())
        );
        assert_eq!(session_of(&home, Some(Path::new("/elsewhere"))), None);
        assert!(usable_name("s1") && !usable_name("..") && !usable_name("a/b"));
    }

    #[test]
    fn malformed_input_and_config_block() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        for raw in [&b"not json"[..], b"{}", b"{\"tool_name\": 3}", b"\xff\xfe"] {
            let v = decide(&home, Some("s1"), raw, None).verdict;
            assert!(
                matches!(&v, Verdict::Block(b) if b.rule == "bad-input"),
                "{v:?}"
            );
        }
        let bash = br#"{"tool_name":"Bash","tool_input":{"command":"ls"}}"#;
        let v = decide(&home, Some("s1"), bash, None).verdict;
        assert!(
            matches!(&v, Verdict::Block(b) if b.rule == "gate-config"),
            "{v:?}"
        );
        std::fs::write(home.config_path(), "[gate]\ndeny = [\"(\"]\n").expect("write");
        let v = decide(&home, Some("s1"), bash, None).verdict;
        assert!(
            matches!(&v, Verdict::Block(b) if b.reason.contains("regular expression")),
            "{v:?}"
        );
        std::fs::write(
            home.config_path(),
            "repo = \"x\"\n[agent]\ncommand = \"y\"\n",
        )
        .expect("write");
        assert_eq!(
            decide(&home, Some("s1"), bash, None).verdict,
            Verdict::Allow
        );
    }
}
