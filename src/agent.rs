//! Invoking the agent: `[agent] command` through `sh -c` in the session's worktree, the prompt on
//! stdin, `BRL_*` variables set, output streamed to the terminal and saved, a timeout that kills the
//! whole process group. Claude Code's JSON result is understood; plain text from other agents is fine.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde::Serialize;

use crate::outcome::AgentExit;
use crate::proc;

/// What the agent is asked to do: one of `ralph`, `review`, `standup`, `doctor`, `skill`.
pub struct Call<'a> {
    pub command: &'a str,
    pub timeout: Duration,
    pub home: &'a Path,
    pub session: Option<&'a str>,
    pub branch: Option<&'a str>,
    /// The cycle's id (`BRL_CYCLE_ID`), never reused; `None` for jobs.
    pub cycle_id: Option<&'a str>,
    pub role: &'a str,
    pub cwd: &'a Path,
    pub prompt: String,
    /// The agent's output is saved here.
    pub output_path: PathBuf,
    /// Also copy the output to our stdout as it arrives.
    pub echo: bool,
    pub cancel: Option<&'a AtomicBool>,
    /// See [`proc::Spec::pgid_file`].
    pub pgid_file: Option<PathBuf>,
}

/// The figures of Claude Code's `--output-format json` result.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClaudeResult {
    pub cost_usd: Option<f64>,
    pub num_turns: Option<u64>,
    pub is_error: Option<bool>,
    pub session_id: Option<String>,
    /// The final text, cut to a few hundred characters.
    pub result: Option<String>,
}

pub struct AgentRun {
    pub exit: AgentExit,
    pub output: String,
    pub claude: Option<ClaudeResult>,
    pub duration: Duration,
}

pub fn run(call: Call) -> std::io::Result<AgentRun> {
    if let Some(dir) = call.output_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::File::create(&call.output_path)?;
    let mut env = vec![
        ("BRL_HOME".to_string(), call.home.display().to_string()),
        ("BRL_ROLE".to_string(), call.role.to_string()),
    ];
    if let Some(s) = call.session {
        env.push(("BRL_SESSION".into(), s.into()));
    }
    if let Some(b) = call.branch {
        env.push(("BRL_BRANCH".into(), b.into()));
    }
    if let Some(id) = call.cycle_id {
        env.push(("BRL_CYCLE_ID".into(), id.into()));
    }
    let spec = proc::Spec {
        command: call.command,
        cwd: call.cwd,
        env,
        stdin: Some(call.prompt.into_bytes()),
        timeout: call.timeout,
        cancel: call.cancel,
        pgid_file: call.pgid_file,
    };
    let echo = call.echo;
    let mut stdout = std::io::stdout();
    // A cycle's agent: the chaos harness may stop brl around its spawn.
    let hooks = if call.role == "ralph" {
        proc::Hooks {
            after_spawn: || crate::chaos::point("cycle:after-agent-spawn"),
            after_recorded: || crate::chaos::point("cycle:after-agent-recorded"),
        }
    } else {
        proc::Hooks::NONE
    };
    let run = proc::run_with(
        spec,
        &mut |chunk| {
            let _ = file.write_all(chunk);
            if echo {
                let _ = stdout.write_all(chunk);
                let _ = stdout.flush();
            }
        },
        hooks,
    )?;
    let exit = match run.end {
        proc::End::Exited(c) => AgentExit::Exited(c),
        proc::End::Signaled(s) => AgentExit::Signaled(s),
        proc::End::TimedOut => AgentExit::TimedOut,
        proc::End::Cancelled => AgentExit::Interrupted,
    };
    let claude = parse_claude_result(&run.output);
    Ok(AgentRun {
        exit,
        output: run.output,
        claude,
        duration: run.duration,
    })
}

/// Claude Code's `{"type": "result", …}` object: the whole output, or its last such line.
pub fn result_json(output: &str) -> Option<serde_json::Value> {
    let whole = std::iter::once(output.trim());
    let lines = output.lines().rev().map(str::trim);
    whole
        .chain(lines)
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("type").and_then(|t| t.as_str()) == Some("result"))
}

/// Claude Code's result object, when the output holds one (the whole output, or one line of it).
pub fn parse_claude_result(output: &str) -> Option<ClaudeResult> {
    result_json(output).map(|v| ClaudeResult {
        cost_usd: v.get("total_cost_usd").and_then(|x| x.as_f64()),
        num_turns: v.get("num_turns").and_then(|x| x.as_u64()),
        is_error: v.get("is_error").and_then(|x| x.as_bool()),
        session_id: v
            .get("session_id")
            .and_then(|x| x.as_str())
            .map(String::from),
        result: v
            .get("result")
            .and_then(|x| x.as_str())
            .map(|s| s.chars().take(400).collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_json_result_is_read() {
        let out = r#"{"type":"result","subtype":"success","is_error":false,"duration_ms":1234,"num_turns":7,"result":"Fixed the bug.","session_id":"abc","total_cost_usd":0.0421}"#;
        let r = parse_claude_result(out).expect("result");
        assert_eq!(r.cost_usd, Some(0.0421));
        assert_eq!(r.num_turns, Some(7));
        assert_eq!(r.is_error, Some(false));
        assert_eq!(r.session_id.as_deref(), Some("abc"));
        let mixed = format!("some noise\n{out}\n");
        assert!(parse_claude_result(&mixed).is_some());
        assert!(parse_claude_result("plain text agent output\n{not json").is_none());
        assert!(parse_claude_result(r#"{"type":"assistant"}"#).is_none());
    }
}
