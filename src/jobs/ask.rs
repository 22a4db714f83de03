//! Asking the agent for a job: the command runs with stdout and stderr apart
//! ([`proc::run_split`]); both go to the call's log file, only stdout is the answer — read through
//! the agent's preset ([`Preset::parse_result`]: Claude's `result`, Codex's `agent_message`,
//! Gemini's `response`, opencode's text events, aider's and a custom agent's plain stdout), with
//! an echo of the prompt cut off. So a `VERDICT:` line that was only part of the prompt (a diff
//! under review that adds one) never counts as the agent's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::agents::{AgentResult, Preset};
use crate::config::Config;
use crate::outcome::AgentExit;
use crate::proc::{self, Stream};
use crate::prompt;

use super::{Ctx, JobError};

/// An agent's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The reply: the preset's unwrapped answer from stdout, without an echo of the prompt.
    pub text: String,
    pub cost_usd: f64,
    /// What the agent reported (cost, tokens, errors).
    pub result: AgentResult,
    /// Where the whole output (stdout and stderr) is saved.
    pub output: PathBuf,
}

/// The preset the jobs read answers with: `[agent] preset` (else detected from `[agent]
/// command`) with the `[prices]` table, the command checked as at config load.
pub fn preset(config: &Config) -> Result<Preset, JobError> {
    let preset = config.preset();
    preset
        .check_command(&config.agent.command)
        .map_err(JobError::Failed)?;
    Ok(preset)
}

impl Ctx<'_> {
    /// Ask the agent in `role`: the prompt from `prompts/<role>.md` rendered with `vars`, run
    /// with `BRL_ROLE=<role>` (and `BRL_SESSION` when given) in `cwd` (else the job's scratch
    /// repository), within the job's time. An agent that fails or times out is an error naming
    /// the role and its saved output.
    pub fn ask(
        &mut self,
        role: &str,
        session: Option<&str>,
        vars: &[(&str, String)],
        cwd: Option<&Path>,
    ) -> Result<Answer, JobError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.timed_out());
        }
        let preset = preset(self.config)?;
        let (template, source) = prompt::template(self.home, role)?;
        let text = prompt::render(&template, &source, vars)?;
        let stamp = self.started.format("%Y%m%d-%H%M%S");
        self.calls += 1;
        let output = self.home.logs_dir().join("jobs").join(format!(
            "{stamp}-{}-{:02}-{role}{}.log",
            self.job.name(),
            self.calls,
            session.map(|s| format!("-{s}")).unwrap_or_default()
        ));
        let cwd = match cwd {
            Some(c) => c.to_path_buf(),
            None => super::scratch::prepare(&self.scratch)?,
        };
        if let Some(dir) = output.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::File::create(&output)?;
        let mut env = vec![
            (
                "BRL_HOME".to_string(),
                self.home.root().display().to_string(),
            ),
            ("BRL_ROLE".to_string(), role.to_string()),
        ];
        if let Some(s) = session {
            env.push(("BRL_SESSION".into(), s.into()));
        }
        let spec = proc::Spec {
            command: &self.config.agent.command,
            cwd: &cwd,
            env,
            stdin: Some(text.clone().into_bytes()),
            timeout: left,
            cancel: self.cancel,
            pgid_file: None,
        };
        let echo = self.echo;
        let run = proc::run_split(
            spec,
            &mut |stream, chunk| {
                let _ = file.write_all(chunk);
                if echo {
                    match stream {
                        Stream::Stdout => {
                            let mut o = std::io::stdout();
                            let _ = o.write_all(chunk);
                            let _ = o.flush();
                        }
                        Stream::Stderr => {
                            let _ = std::io::stderr().write_all(chunk);
                        }
                    }
                }
            },
            proc::Hooks::NONE,
        )?;
        let result = preset.parse_result(&run.output, &run.stderr);
        let cost = result.cost_usd.unwrap_or(0.0);
        self.cost_usd += cost;
        self.tally.add(&result);
        let exit = match run.end {
            proc::End::Exited(c) => AgentExit::Exited(c),
            proc::End::Signaled(s) => AgentExit::Signaled(s),
            proc::End::TimedOut => AgentExit::TimedOut,
            proc::End::Cancelled => AgentExit::Interrupted,
        };
        // A custom agent's "error" is a guess from plain text (which may be the answer itself,
        // quoting a limit message); a preset's is what the agent itself reported.
        let failed = result.is_error && preset.kind() != crate::agents::PresetKind::Custom;
        match exit {
            AgentExit::Exited(0) if !failed => Ok(Answer {
                text: strip_echo(result.answer.as_deref().unwrap_or(""), &text),
                cost_usd: cost,
                result,
                output,
            }),
            AgentExit::TimedOut => Err(self.timed_out()),
            other => Err(JobError::Failed(format!(
                "the agent as `{role}`{} ended with {}; its output is in {}",
                session.map(|s| format!(" for {s}")).unwrap_or_default(),
                describe_end(&other, &result),
                output.display()
            ))),
        }
    }
}

fn describe_end(e: &AgentExit, r: &AgentResult) -> String {
    match e {
        AgentExit::Exited(0) => match (&r.limit, &r.error_kind) {
            (Some(l), _) => format!("an error it reported ({})", l.message),
            (None, Some(k)) => format!("an error it reported ({k})"),
            (None, None) => "an error it reported".into(),
        },
        AgentExit::Exited(c) => format!("exit code {c}"),
        AgentExit::Signaled(s) => format!("signal {s}"),
        AgentExit::TimedOut => "a timeout".into(),
        AgentExit::Interrupted => "an interruption".into(),
    }
}

/// The agent's reply without an echo of its prompt: when the answer holds the whole prompt (a
/// plain-text agent that prints its input before replying), only what follows its last copy;
/// else the answer, trimmed.
pub fn strip_echo(answer: &str, prompt: &str) -> String {
    let prompt = prompt.trim();
    if prompt.is_empty() {
        return answer.trim().to_string();
    }
    match answer.rfind(prompt) {
        Some(at) => answer[at + prompt.len()..].trim().to_string(),
        None => answer.trim().to_string(),
    }
}

/// Tokens over all of a run's agent calls (cost is summed in [`Ctx::cost_usd`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub input_tokens: Option<u64>,
    pub cached_input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// Calls whose agent reported no cost (and had no price to compute it from).
    pub unpriced_calls: u32,
}

impl Tally {
    fn add(&mut self, r: &AgentResult) {
        let sum = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.input_tokens = sum(self.input_tokens, r.input_tokens);
        self.cached_input_tokens = sum(self.cached_input_tokens, r.cached_input_tokens);
        self.output_tokens = sum(self.output_tokens, r.output_tokens);
        if r.cost_usd.is_none() {
            self.unpriced_calls += 1;
        }
    }

    /// Into a job entry's data: the token fields known (beside `cost_usd`, which the runner sets).
    pub fn write(&self, data: &mut serde_json::Value) {
        let fields = [
            ("input_tokens", self.input_tokens),
            ("cached_input_tokens", self.cached_input_tokens),
            ("output_tokens", self.output_tokens),
        ];
        for (key, v) in fields {
            if let Some(v) = v {
                data[key] = serde_json::json!(v);
            }
        }
        if self.unpriced_calls > 0 {
            data["unpriced_calls"] = serde_json::json!(self.unpriced_calls);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echoed_prompt_is_cut_off() {
        let prompt = "Review this diff:\n+VERDICT: reject\n";
        let echoed = format!("{prompt}\nLooks good.\nVERDICT: approve\n");
        assert_eq!(strip_echo(&echoed, prompt), "Looks good.\nVERDICT: approve");
        assert_eq!(
            strip_echo("  VERDICT: approve\n", prompt),
            "VERDICT: approve"
        );
        assert_eq!(strip_echo("", prompt), "");
    }

    #[test]
    fn tokens_add_up_and_unknowns_stay_unknown() {
        let mut t = Tally::default();
        t.add(&AgentResult {
            input_tokens: Some(10),
            output_tokens: Some(3),
            cost_usd: Some(0.1),
            ..Default::default()
        });
        t.add(&AgentResult {
            input_tokens: Some(5),
            ..Default::default()
        });
        let mut data = serde_json::json!({});
        t.write(&mut data);
        assert_eq!(
            data,
            serde_json::json!({"input_tokens": 15, "output_tokens": 3, "unpriced_calls": 1})
        );
    }
}
