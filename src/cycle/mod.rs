//! One Ralph cycle — read, analyze, plan, hack, evaluate — on a fresh branch of the target repo,
//! in the session's own worktree. The outcome decision is [`crate::outcome::evaluate`]; this module
//! does the IO around it and leaves nothing half-done: every cycle ends with its branch either in the
//! review queue or deleted, and exactly one `ralph_cycle` entry in the log.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use serde_json::Value;

mod blocked;
mod finish;
mod judge;
mod name;
mod recover;
mod reported;
mod spec;

pub use name::new_cycle_id;
use name::reserve_branch;
pub use spec::{PrepareFn, Report, Start, TaskSpec};

/// The cycle cannot be judged (a configured check cannot run at baseline): the session is
/// blocked with these words and the agent does not run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Blocked(String);

use crate::agent;
use crate::agents::AgentResult;
use crate::checks::{self, CheckError, MeasureCtx};
use crate::config::Config;
use crate::git::Target;
use crate::home::Home;
use crate::inflight::{self, Inflight};
use crate::outcome::{AgentExit, Measure, Outcome};
use crate::prompt;
use crate::scheduler::limits::AgentLimit;
use crate::store::atomic::{LockGuard, lock_owner};
use crate::store::log::{self, Entry, Filter};

/// Called with a phase's name and the cycle's branch.
pub type PhaseFn<'a> = dyn Fn(&str, &str) + 'a;

#[derive(Default)]
pub struct Options<'a> {
    /// A task for the agent; without one it picks its own small task.
    pub task: Option<TaskSpec>,
    /// Stream the agent's output to our stdout.
    pub echo: bool,
    /// Set by SIGINT/SIGTERM: stop the agent and discard the branch.
    pub cancel: Option<&'a AtomicBool>,
    /// Told each phase as it starts — `read`, `analyze`, `hack`, `evaluate` — with the cycle's
    /// branch (the worker reports them to the control room).
    pub on_phase: Option<&'a PhaseFn<'a>>,
    /// A cycle that starts from prepared work (the fixer's repair cycles); `None`: a ralph cycle.
    pub start: Option<Start<'a>>,
}

/// Run one cycle of `session`. `Err` only when the cycle could not start (bad config, missing
/// repo, the session busy or blocked); once it has started, every failure is the outcome `error`,
/// logged.
pub fn run(home: &Home, config: &Config, session: &str, opts: &Options) -> anyhow::Result<Report> {
    config.check_local_session(session)?;
    let repo_path = config.repo_path(home.root());
    let target = Target::open(&repo_path, &config.main).with_context(|| {
        format!(
            "cannot use the target repository `repo` = {} from {}",
            config.repo.display(),
            home.config_path().display()
        )
    })?;
    let lock_path = home.locks_dir().join(format!("session-{session}.lock"));
    let Some(mut lock) = LockGuard::try_exclusive(&lock_path)? else {
        let who = lock_owner(&lock_path)
            .map(|p| format!(" (pid {p})"))
            .unwrap_or_default();
        anyhow::bail!(
            "session {session} is already running a cycle{who}; wait for it, or stop that worker"
        );
    };
    lock.write_owner()?;
    match recover::before_cycle(home, &target, session) {
        Ok(notes) => {
            for n in notes {
                crate::say_err!("{session}: an earlier cycle did not finish: {n}");
            }
        }
        Err(e) => {
            let reason = format!("cannot repair what an earlier cycle left: {e:#}");
            blocked::set(home, session, &reason);
            anyhow::bail!("session {session} is blocked: {reason}");
        }
    }

    let started = Utc::now();
    let id = new_cycle_id(started);
    let base = target.main_commit()?;
    let (branch, stamp) = reserve_branch(home, &target, session, started)?;
    inflight::mark(
        home,
        session,
        &Inflight::new(
            &id,
            &branch,
            &base.to_string(),
            started,
            opts.task.as_ref().and_then(|t| t.id),
        ),
    )?;
    if let Err(e) = target.create_branch(&branch, base) {
        // Nothing of this cycle exists but its marker and its reserved name.
        inflight::clear(home, session)?;
        return Err(e.into());
    }
    crate::chaos::point("cycle:after-branch");

    let mut c = Cycle {
        home,
        config,
        session,
        target: &target,
        id,
        branch: branch.clone(),
        base: base.to_string(),
        worktree: home.worktree(session),
        prefix: home.session_logs_dir(session).join(&stamp),
        opts,
        data: Data {
            flaky: checks::flaky::known(home),
            ..Data::default()
        },
    };
    let (outcome, reason) = match c.run() {
        Ok(decided) => decided,
        Err(e) => match e.downcast::<Blocked>() {
            Ok(Blocked(why)) => return c.abandon(why),
            Err(e) => (Outcome::Error, format!("{e:#}")),
        },
    };
    let (outcome, reason) = match (outcome, crate::proc::received_signal()) {
        (Outcome::Interrupted, Some(sig)) => (
            outcome,
            format!(
                "{}; the agent was killed and the branch discarded",
                crate::proc::interrupted_by(sig)
            ),
        ),
        _ => (outcome, reason),
    };
    let (outcome, reason) = c.dispose(outcome, reason);
    c.settle_task(outcome, &reason);
    let entry = Entry::new(
        "ralph_cycle",
        Some(session),
        c.entry_data(outcome, &reason, started),
    );
    crate::chaos::point("cycle:before-log");
    log::append(&home.log_path(), &entry)
        .with_context(|| format!("cannot append to {}", home.log_path().display()))?;
    crate::chaos::point("cycle:after-log");
    c.log_limit();
    inflight::clear(home, session)?;
    match &c.data.blocked {
        Some(why) => blocked::set(home, session, why),
        None if c.data.worktree_ready => blocked::clear(home, session),
        None => {}
    }
    Ok(Report {
        outcome,
        branch,
        reason,
        entry,
    })
}

/// Where the running agent's or check's process group id is kept during a cycle.
pub fn running_pgid(home: &Home, session: &str) -> PathBuf {
    home.session_logs_dir(session).join("running.pgid")
}

/// What a cycle learns as it goes, for its log entry.
#[derive(Default)]
struct Data {
    durations: Vec<(&'static str, u128)>,
    before: Option<Measure>,
    after: Option<Measure>,
    baseline_cached: bool,
    agent: Option<Value>,
    /// What the agent reported, read by its preset.
    result: Option<AgentResult>,
    /// The agent's limit as kept for the scheduler, and whether this cycle was the first to
    /// hit it (then it logs `agent_limited`).
    limited: Option<(AgentLimit, bool)>,
    /// The commit that was judged (the branch tip after the agent), kept or not.
    head: Option<String>,
    commits: usize,
    /// Tests known to be flaky when the cycle started.
    flaky: Vec<String>,
    subject: String,
    committed_by_brl: bool,
    branch_deleted: bool,
    /// The ref a discarded or errored cycle's commits were kept under.
    kept_as: Option<String>,
    notes: Vec<String>,
    task_state: Option<&'static str>,
    /// The worktree could not be made ready: why (the session is blocked).
    blocked: Option<String>,
    /// The worktree was made ready for this cycle (a block, if any, is lifted).
    worktree_ready: bool,
}

struct Cycle<'a> {
    home: &'a Home,
    config: &'a Config,
    session: &'a str,
    target: &'a Target,
    /// Never reused; in the in-flight marker, the log entry and the queue entry.
    id: String,
    branch: String,
    base: String,
    worktree: PathBuf,
    prefix: PathBuf,
    opts: &'a Options<'a>,
    data: Data,
}

impl Cycle<'_> {
    fn phase(&self, name: &str) {
        if let Some(f) = self.opts.on_phase {
            f(name, &self.branch);
        }
    }

    fn run(&mut self) -> anyhow::Result<(Outcome, String)> {
        // Read.
        self.phase("read");
        let t = Instant::now();
        {
            // libgit2 races when two processes add worktrees to one repository at once (one can
            // see the other's half-written record): creating one is serialized across the home.
            let _creating = match self.worktree.exists() {
                true => None,
                false => Some(LockGuard::exclusive(
                    &self.home.locks_dir().join("worktree-add.lock"),
                )?),
            };
            let ready = self.target.ensure_worktree(
                &self.home.worktree_name(self.session),
                &self.worktree,
                &self.branch,
            );
            if let Err(e) = ready {
                let why = format!(
                    "cannot make the worktree {} ready: {e}",
                    self.worktree.display()
                );
                self.data.blocked = Some(why.clone());
                anyhow::bail!(why);
            }
            self.data.worktree_ready = true;
        }
        // `[worktree] setup` (the project's dependencies), once per worktree and inputs' version.
        match self.setup() {
            Ok(()) => {}
            Err(crate::checks::setup::SetupError::Cancelled) => {
                return Ok(self.decide(AgentExit::Interrupted, false));
            }
            Err(e) => return Err(Blocked(e.to_string()).into()),
        }
        let recent = log::tail(
            &self.home.log_path(),
            200,
            &Filter {
                kind: Some("ralph_cycle".into()),
                session: None,
            },
        )?;
        let recent = prompt::recent_others(
            &recent.entries,
            self.session,
            self.config.prompt.recent_entries,
        );
        let context = prompt::context(
            &self.worktree,
            self.config.context_file.as_deref(),
            self.config.prompt.context_max_bytes,
        );
        let skills = prompt::skills(
            &self.home.skills_dir(),
            self.config.prompt.skills_max_bytes,
            &self.opts.task.as_ref().map_or(String::new(), |t| {
                format!("{}\n{}", t.title, t.body.as_deref().unwrap_or(""))
            }),
        );
        self.data.durations.push(("read", t.elapsed().as_millis()));

        // Analyze: the baseline of main's commit, shared by every session starting from it.
        self.phase("analyze");
        let t = Instant::now();
        let ctx = self.measure_ctx();
        let (before, cached) = match checks::baseline(&ctx, &self.base) {
            Ok(b) => b,
            Err(CheckError::Cancelled) => return Ok(self.decide(AgentExit::Interrupted, false)),
            Err(e) => return Err(e.into()),
        };
        self.data.baseline_cached = cached;
        self.data
            .durations
            .push(("analyze", t.elapsed().as_millis()));
        // Nothing the checks wrote may pass for the agent's work.
        self.restore("the baseline checks")?;
        // A check that cannot run proves nothing: stop the line before the agent spends anything.
        if let Some(why) = judge::unusable(&before) {
            return Err(Blocked(why).into());
        }
        // The safety hook (`brl gate`); without it the agent runs unguarded, but the cycle goes on.
        let gate =
            crate::gate::install::install_for_session(self.home, self.session, &self.worktree);
        if let Err(e) = gate {
            let note = format!("brl gate not installed: {e:#}");
            self.data.notes.push(note);
        }

        // A repair cycle's starting point, on top of main (whose baseline is measured).
        let role = self.opts.start.as_ref().map_or("ralph", |s| s.role);
        let extra = match &self.opts.start {
            Some(s) => (s.prepare)(&self.worktree, &self.branch)?,
            None => Vec::new(),
        };
        // Plan and hack: the agent does both.
        let (template, source) = prompt::template(self.home, role)?;
        let task = self.opts.task.as_ref().map(TaskSpec::prompt_text).unwrap_or_else(|| {
            "No task was assigned: pick ONE small, useful task yourself (one error, one failing test, one missing test).".into()
        });
        let vars = [
            ("session", self.session.to_string()),
            ("branch", self.branch.clone()),
            ("base", self.base.clone()),
            ("baseline", prompt::describe_measure(&before)),
            ("task", task),
            ("recent", recent),
            (
                "context_file",
                self.config
                    .context_file
                    .clone()
                    .unwrap_or_else(|| "none".into()),
            ),
            ("context", context),
            ("skills", skills),
            (
                "pending",
                crate::prompt_pending::pending(self.home, self.config),
            ),
        ];
        let vars: Vec<(&str, String)> = vars.into_iter().chain(extra).collect();
        let text = prompt::render(&template, &source, &vars)?;
        self.data.before = Some(before);
        self.phase("hack");
        let t = Instant::now();
        let output_path = self.output_path();
        if self.opts.echo {
            crate::say!(
                "── {} {}: agent running (output saved to {})",
                self.session,
                self.branch,
                output_path.display()
            );
        }
        let preset = self.config.preset();
        let run = agent::run(agent::Call {
            command: &self.config.agent.command,
            preset: &preset,
            timeout: Duration::from_secs(self.config.agent.timeout_secs.get()),
            home: self.home.root(),
            session: Some(self.session),
            branch: Some(&self.branch),
            cycle_id: Some(&self.id),
            role,
            cwd: &self.worktree,
            prompt: text,
            output_path,
            echo: self.opts.echo,
            cancel: self.opts.cancel,
            pgid_file: Some(running_pgid(self.home, self.session)),
        })
        .with_context(|| format!("cannot start the agent `{}`", self.config.agent.command))?;
        self.data.durations.push(("hack", t.elapsed().as_millis()));
        self.data.agent = Some(reported::agent_block(&run.exit, preset.name(), &run.result));
        self.note_limit(preset.name(), &run.result);
        self.data.result = Some(run.result);
        if matches!(run.exit, AgentExit::TimedOut | AgentExit::Interrupted) {
            return Ok(self.decide(run.exit, true));
        }

        self.evaluate(run.exit)
    }

    fn setup(&self) -> Result<(), crate::checks::setup::SetupError> {
        crate::checks::setup::ensure(&crate::checks::setup::SetupCtx {
            home: self.home,
            config: self.config,
            worktree: &self.worktree,
            session: Some(self.session),
            log_prefix: &self.prefix,
            cancel: self.opts.cancel,
            pgid_file: Some(running_pgid(self.home, self.session)),
        })
        .map(|_| ())
    }

    fn measure_ctx(&self) -> MeasureCtx<'_> {
        MeasureCtx {
            home: self.home,
            config: self.config,
            worktree: &self.worktree,
            output_prefix: self.prefix.clone(),
            cancel: self.opts.cancel,
            pgid_file: Some(running_pgid(self.home, self.session)),
        }
    }

    fn output_path(&self) -> PathBuf {
        PathBuf::from(format!("{}.log", self.prefix.display()))
    }
}

pub(super) fn describe_exit(e: AgentExit) -> String {
    match e {
        AgentExit::Exited(c) => format!("exit code {c}"),
        AgentExit::Signaled(s) => format!("killed by signal {s}"),
        AgentExit::TimedOut => "timed out".into(),
        AgentExit::Interrupted => "interrupted".into(),
    }
}
