//! Invoking the agent: `[agent] command` through `sh -c` in the session's worktree, the prompt on
//! stdin, `BRL_*` variables set, output streamed to the terminal and saved, a timeout that kills the
//! whole process group. What the agent reported (cost, tokens, turns, denials, limits) is read by
//! its preset ([`Preset::parse_result`]); plain text from a custom agent is fine.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::agents::sandbox::{self, Sandbox};
use crate::agents::{AgentResult, Preset};
use crate::outcome::AgentExit;
use crate::proc;

/// What the agent is asked to do: one of `ralph`, `review`, `standup`, `doctor`, `skill`.
pub struct Call<'a> {
    pub command: &'a str,
    /// The agent's preset: how its output reads.
    pub preset: &'a Preset,
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

pub struct AgentRun {
    pub exit: AgentExit,
    /// Everything the agent printed (stdout and stderr merged, as saved).
    pub output: String,
    /// What the agent reported, read by its preset from the output.
    pub result: AgentResult,
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
    // `[agent] sandbox = "bwrap"`: the same command, run by bwrap (see agents::sandbox).
    let sandboxed = match call.preset.sandbox() {
        Sandbox::None => None,
        Sandbox::Bwrap => Some(sandboxed(&call)?),
    };
    let spec = proc::Spec {
        command: sandboxed.as_deref().unwrap_or(call.command),
        cwd: call.cwd,
        env,
        stdin: Some(call.prompt.into_bytes()),
        timeout: call.timeout,
        cancel: call.cancel,
        pgid_file: call.pgid_file,
    };
    let echo = call.echo;
    let call_preset = call.preset;
    let mut stdout = std::io::stdout();
    // The echo to our terminal keeps colours but never cursor movement, titles or clearing.
    let mut filter = crate::term::OutputFilter::default();
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
                let _ = stdout.write_all(&filter.push(chunk));
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
    // stdout and stderr arrive merged; every preset's parser copes with that.
    let result = call_preset.parse_result(&run.output, "");
    Ok(AgentRun {
        exit,
        output: run.output,
        result,
        duration: run.duration,
    })
}

/// `call.command` wrapped in bwrap; a clear error when bwrap is missing or the worktree's git
/// dirs cannot be found.
fn sandboxed(call: &Call) -> std::io::Result<String> {
    let fail = |e: String| std::io::Error::other(e);
    sandbox::check_available().map_err(fail)?;
    let plan = sandbox::Plan::for_worktree(call.cwd, call.branch, call.home, call.preset.kind())
        .map_err(fail)?;
    plan.prepare()?;
    Ok(plan.wrap(call.command))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::PresetKind;

    #[test]
    fn claude_result_line_is_found_in_noise() {
        let out = r#"{"type":"result","subtype":"success","result":"Fixed."}"#;
        assert!(result_json(&format!("noise\n{out}\n")).is_some());
        assert!(result_json("plain text agent output\n{not json").is_none());
        assert!(result_json(r#"{"type":"assistant"}"#).is_none());
    }

    #[test]
    fn the_run_reads_the_result_with_the_preset() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = r#"{"type":"result","subtype":"success","is_error":false,"num_turns":7,"session_id":"abc","total_cost_usd":0.0421,"permission_denials":[{"tool_name":"Edit","tool_use_id":"t1","tool_input":{}}]}"#;
        let command = format!("cat >/dev/null; echo '{out}'");
        let preset = Preset::unchecked(PresetKind::Claude, "claude -p");
        let run = run(Call {
            command: &command,
            preset: &preset,
            timeout: Duration::from_secs(20),
            home: tmp.path(),
            session: None,
            branch: None,
            cycle_id: None,
            role: "review",
            cwd: tmp.path(),
            prompt: "hi".into(),
            output_path: tmp.path().join("out.log"),
            echo: false,
            cancel: None,
            pgid_file: None,
        })
        .expect("ran");
        assert_eq!(run.exit, AgentExit::Exited(0));
        assert_eq!(run.result.cost_usd, Some(0.0421));
        assert_eq!(run.result.turns, Some(7));
        assert_eq!(run.result.session_id.as_deref(), Some("abc"));
        assert_eq!(run.result.denials.len(), 1, "{:?}", run.result);
        assert_eq!(run.result.denials[0].tool, "Edit");
    }
}
