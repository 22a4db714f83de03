//! The command line. Every doc comment here is `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::agents::PresetKind;
use crate::defaults::Preset;

/// brl — a control room for AI coding agents that work unattended.
///
/// Each session loops read → analyze → plan → hack → evaluate on its own branch
/// `brl/<session>/<timestamp>`, keeps only changes that do not make the type checker or the tests
/// worse, and puts them in a review queue for you to approve or reject.
#[derive(Debug, Parser)]
#[command(name = "brl", version, propagate_version = true)]
pub struct Cli {
    /// The home directory (holds brl.toml, prompts/, skills/, logs/, worktrees/). Default: $BRL_HOME, else the current directory.
    #[arg(long, global = true, env = "BRL_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented brl.toml and the default prompts/, skills/ and layouts/ into the home.
    Init {
        /// The target git repository (stored as an absolute path). Without it, brl.toml gets a placeholder to edit.
        #[arg(long, value_name = "PATH")]
        repo: Option<PathBuf>,
        /// Which checks to configure.
        #[arg(long, value_enum, default_value = "typescript")]
        preset: Preset,
        /// Which agent CLI the sessions run: claude, codex, gemini, opencode, aider or custom.
        /// Writes that preset's command line (one that really edits headless, keeps brl's gate
        /// loaded where the agent has hooks, and may run the configured checks) and
        /// `preset = "<name>"` under [agent], with a comment on what it allows and forbids.
        #[arg(long, value_name = "AGENT", default_value = "claude", value_parser = parse_agent)]
        agent: PresetKind,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
        /// Also write ecosystem.config.js, a PM2 ecosystem file that runs `brl up --no-tui` for this home.
        #[arg(long)]
        pm2: bool,
    },
    /// Run exactly one cycle of a session in the foreground and print a one-line summary. Exits 0 whatever the outcome; non-zero only when the cycle could not run.
    Cycle {
        /// The session (s1..sN).
        session: String,
        /// A one-off task for the agent; without one it picks its own small task.
        #[arg(long, value_name = "TEXT", conflicts_with = "from_queue")]
        task: Option<String>,
        /// Take the oldest ready task from the task queue (`brl task list`).
        #[arg(long)]
        from_queue: bool,
        /// Do not stream the agent's output (it is still saved under logs/sessions/).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Start the control room: one tmux pane per session running `brl worker`, the scheduler that grants them cycles, and the HTTP triggers. A running tmux session of this home is adopted, never duplicated.
    Up {
        /// Run this many sessions (overrides `sessions` in brl.toml for this control room and its workers).
        #[arg(long, value_name = "N")]
        sessions: Option<std::num::NonZeroU32>,
        /// No dashboard: the control room logs to stdout (readable lines on a terminal, JSON lines when piped — PM2, systemd, nohup) and to logs/brl.log.
        #[arg(long)]
        no_tui: bool,
        /// With --no-tui: JSON lines on stdout even on a terminal.
        #[arg(long, requires = "no_tui")]
        json: bool,
    },
    /// Stop everything of this home: the control room, the workers (a cycle in flight is interrupted and recorded), and the tmux session brl created.
    Down {
        /// How long to wait for the workers to finish stopping before their panes are closed.
        #[arg(long, default_value_t = 60, value_name = "SECS")]
        wait_secs: u64,
        /// Stop only this `[[hosts]]` host's workers (its tmux session there is closed); the control room and the other hosts keep running, and grants to it stop until the next `brl up`.
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
    },
    /// Attach this terminal to the home's tmux session, or to one session's pane (detach with the tmux prefix + d).
    Attach {
        /// The session (s1..sN) whose pane to show.
        session: Option<String>,
    },
    /// Pause one session, or the whole fleet without a session: no new cycle is granted (a cycle in flight finishes; `brl stop` interrupts it). Kept across restarts of the control room until `brl resume`.
    Pause {
        /// The session (s1..sN); without one, the whole fleet.
        session: Option<String>,
    },
    /// Resume a session paused with `brl pause <session>`, or without a session the fleet paused with `brl pause`.
    Resume {
        /// The session (s1..sN); without one, the whole fleet.
        session: Option<String>,
    },
    /// Stop the cycle a session runs now: the agent is killed, the branch discarded, the cycle recorded as interrupted, and the worker waits for its next grant.
    Stop {
        /// The session (s1..sN).
        session: String,
    },
    /// Restart a session's worker: it stops (a cycle in flight is recorded as interrupted) and the control room starts a new one in its pane.
    Restart {
        /// The session (s1..sN).
        session: String,
    },
    /// Show the sessions, queues, memory and whether a control room schedules this home.
    Status {
        /// Print JSON (the same as GET /status).
        #[arg(long)]
        json: bool,
    },
    /// Run the configured checks once on main, in a scratch worktree, and print what each found (its parser's counts and the names of failing tests and errors), its time, and the known flaky tests. Run it after `brl init`: a check that cannot run blocks every session. Exit 1 when a check cannot run.
    Checks {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Ask the control room over HTTP (its `[server] listen`, the token from `[server] token_env`).
    #[command(subcommand)]
    Trigger(crate::cmd::trigger::TriggerCommand),
    /// The machines that run more sessions over SSH (`[[hosts]]` in brl.toml): list them, check what each lacks, set them up.
    #[command(subcommand)]
    Hosts(HostsCommand),
    /// Copy stdin to a bounded log file (what `tmux pipe-pane` runs for each session's pane.log).
    #[command(hide = true)]
    PaneLog {
        path: PathBuf,
        #[arg(long, default_value_t = 2 * 1024 * 1024)]
        max_bytes: u64,
    },
    /// Run cycles of a session as the control room grants them, until SIGINT/SIGTERM (what a tmux pane runs).
    #[command(hide = true)]
    Worker {
        /// The session (s1..sN).
        session: String,
    },
    /// Show the experiment log (the last entries; --follow for new ones).
    Log {
        /// How many entries to show.
        #[arg(short = 'n', long = "lines", default_value_t = 20, value_name = "N")]
        lines: usize,
        /// Only entries of this type (e.g. ralph_cycle, review_decision).
        #[arg(long = "type", value_name = "TYPE")]
        kind: Option<String>,
        /// Only entries of this session.
        #[arg(long, value_name = "SESSION")]
        session: Option<String>,
        /// Print the raw JSON lines.
        #[arg(long)]
        json: bool,
        /// Keep printing new entries as they are appended (Ctrl-C to stop).
        #[arg(long, short)]
        follow: bool,
    },
    /// Append an entry to the experiment log (for scripts and hooks).
    Emit {
        /// The entry's type.
        #[arg(value_name = "TYPE")]
        kind: String,
        /// The session it concerns.
        #[arg(long, value_name = "SESSION")]
        session: Option<String>,
        /// The entry's data, a JSON object.
        #[arg(long, value_name = "JSON", default_value = "{}")]
        data: String,
    },
    /// The review queue: list, diff, approve, reject.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// The task queue: add, list, approve, drop. Each grant of the control room takes the oldest ready task.
    #[command(subcommand)]
    Task(TaskCommand),
    /// The demo, no API key needed: creates a demo target repository and home in a fresh directory (printed), starts 3 sessions in tmux running the deterministic demo agent, and opens the dashboard. `brl --home <dir>/home down` stops it.
    Demo {
        /// Where to create the demo (must not exist or be empty). Default: a new directory under the system's temp dir.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// No dashboard: run the control room in this terminal (JSON lines on stdout) until Ctrl-C; the workers keep running.
        #[arg(long)]
        no_tui: bool,
        /// No tmux and no control room: run N rounds of cycles in this process (one cycle in each of the 3 sessions at once per round), print the outcomes and the queue, and exit.
        #[arg(long, value_name = "N", conflicts_with = "no_tui")]
        rounds: Option<u32>,
    },
    /// The automated review, now, in the foreground: re-check each pending branch against the current main, then ask the agent (role `review`) for a verdict; `[review] mode` says what happens with it. Exit 0 when it ran.
    Review {
        /// Print the log entry's data as JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// A standup meeting, now, in the foreground: three rounds with every live session, then a summary; the transcript goes to logs/meetings/. Exit 0 when it ran.
    Standup {
        /// Print the log entry's data as JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// The session doctor, now, in the foreground: classifies each session (productive, stuck, idle, error_looping) and writes skill notes from the kept cycles. Exit 0 when it ran.
    Doctor {
        /// Print the log entry's data as JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// The fixer, one repair, in the foreground: merges a `conflict` or `stale` review branch onto the current main in a session's worktree, lets the agent (role `fix`, prompts/fix.md) resolve it, and judges the result against main. Kept: it replaces the entry and the old branch is deleted. Runs in a session with no live worker; when every session has one, a waiting worker runs it and this waits for its `fix_result`. Exit 0 repaired, 1 not repaired or refused.
    Fix {
        /// The review-queue branch to repair (default: the first the fixer would take: fewest attempts, then oldest).
        branch: Option<String>,
        /// Run it in this session's worktree (default: the first session with no live worker).
        #[arg(long, value_name = "SESSION")]
        session: Option<String>,
    },
    /// The safety hook: a Claude Code PreToolUse hook that brl installs in each session's worktree (.claude/settings.json). Reads the tool call as JSON on stdin; exits 0 to allow it, 2 to block it with the reason on stderr (which the agent sees), and logs a gate_block entry.
    #[command(hide = true)]
    Gate {
        /// The session whose worktree bounds file edits and `rm -r` (default: $BRL_SESSION, else the worktree holding the call's cwd).
        #[arg(long, env = "BRL_SESSION", value_name = "SESSION")]
        session: Option<String>,
    },
    /// The demo agent (a real, deterministic program, not an AI): reads a prompt on stdin and, in the current directory of a demo repository, fixes one error, introduces one, or changes nothing, and commits.
    #[command(hide = true)]
    DemoAgent,
    /// Operations the control room runs on a host over ssh, in the host's home; each prints one JSON document.
    #[command(hide = true, subcommand)]
    Remote(RemoteCommand),
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// List the entries (all statuses, oldest first).
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Print what approving a branch would bring NOW: current main against the branch merged into it (in memory); for a discarded cycle (its branch name or cycle id), what it tried (kept under refs/brl/discarded/ for [checks] keep_discarded_days).
    Diff {
        /// The branch, e.g. brl/s1/20260101-120000, or a discarded cycle's branch name or cycle id.
        branch: String,
    },
    /// Merge a branch into main and delete it. No working tree is touched, except that a clean checked-out main is updated (a dirty one makes the approval refuse). Several branches (or --verdict approve) make a merge train: in order, each re-checked with the checks against the main that already holds the previous ones; it stops at the first that conflicts or makes a count worse.
    Approve {
        /// The branches, e.g. brl/s1/20260101-120000 (one or more; none with --verdict).
        #[arg(required_unless_present = "verdict")]
        branches: Vec<String>,
        /// Approve an entry the latest re-check marked `stale` or `conflict` anyway (logged `forced: true`).
        #[arg(long)]
        force: bool,
        /// A train of every open entry whose automated review gave this verdict (only `approve`), oldest first.
        #[arg(long, value_name = "VERDICT", conflicts_with = "branches", value_parser = ["approve"])]
        verdict: Option<String>,
    },
    /// Delete a branch and record why.
    Reject {
        /// The branch, e.g. brl/s1/20260101-120000.
        branch: String,
        /// Why it was rejected (kept in the queue and the log).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// List the hosts: name, SSH destination, sessions, brl's directory there.
    List,
    /// Say for each host what is missing or wrong (ssh, tmux ≥ 3.2, git, brl of this version, free disk, the clone, the home, the agent's program), each with its fix. Changes nothing. Exit 1 when a host is not ready.
    Check {
        /// Only this host.
        name: Option<String>,
    },
    /// One collection pass over every host (what the control room does every `[tmux] check_secs`): new log entries, kept branches and task results come home exactly once, and main is pushed to each host. Exit 1 when a host could not be collected.
    #[command(hide = true)]
    Collect {
        /// Only this host.
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
    },
    /// Fix what can be fixed, idempotently: copy this brl to the host, make the clone of the target repository over git+ssh (main pushed from here), write the host's home. Installs no system packages (it says which are missing). Exit 1 when a host is not ready afterwards.
    Setup {
        /// Only this host.
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Queue a task; each grant takes the oldest ready one. Refused past `[tasks] max_pending` pending tasks, or when a pending task has the same title.
    Add {
        /// A short title: what to do.
        title: String,
        /// More detail for the agent.
        #[arg(long, value_name = "TEXT")]
        body: Option<String>,
        /// auto_safe (docs, tests, refactors) runs without approval; proposed (features, fixes) waits for `brl task approve`.
        #[arg(long, value_enum, default_value = "auto_safe")]
        tier: TierArg,
        /// Reserve it for this session (s1..sN): only it takes the task, as its next cycle, before the queue's order.
        #[arg(long, value_name = "SESSION")]
        session: Option<String>,
    },
    /// List the tasks (all states, oldest first).
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Approve a proposed task so workers may take it.
    Approve {
        /// The task's id (from `brl task list`).
        id: u64,
    },
    /// Drop a pending or failed task.
    Drop {
        /// The task's id (from `brl task list`).
        id: u64,
    },
}

/// A task's governance tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TierArg {
    #[value(name = "auto_safe")]
    AutoSafe,
    #[value(name = "proposed")]
    Proposed,
}

fn parse_agent(name: &str) -> Result<PresetKind, String> {
    PresetKind::parse(name)
}

/// `brl remote …`: run on a host by the control room (see `crate::hosts::remote_ops`).
#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Print a JSON header line, then this home's experiment log from byte `--from` up to the end of the last complete line within `--max-bytes` (a torn last line is never sent).
    Log {
        #[arg(long, value_name = "OFFSET")]
        from: u64,
        #[arg(long, value_name = "N", default_value_t = crate::hosts::chunk::DEFAULT_MAX_BYTES)]
        max_bytes: u64,
    },
    /// Every session's control file, whether its worker lives, and this host's memory.
    Snapshot {
        /// Leave the sessions out (`"unchanged": true`) when their digest is still this one.
        #[arg(long, value_name = "DIGEST")]
        unless_digest: Option<String>,
    },
    /// Give a session one cycle (with a task claimed by the control room), unless it holds one.
    Grant {
        /// The session (<host>-sN).
        session: String,
        /// The task, as the JSON of a grant's task ({"id":…,"title":…,"body":…}).
        #[arg(long, value_name = "JSON")]
        task: Option<String>,
        /// A repair cycle of this review-queue branch instead.
        #[arg(long, value_name = "BRANCH", conflicts_with = "task")]
        fix: Option<String>,
    },
    /// Take back the grant of a session whose worker is dead.
    TakeBack {
        /// The session (<host>-sN).
        session: String,
    },
    /// Pause a session of this host (`brl pause <host>-sN` on the control host).
    Pause(RemoteOpArgs),
    /// Resume a session of this host.
    Resume(RemoteOpArgs),
    /// Stop the cycle in flight of a session of this host.
    Stop(RemoteOpArgs),
    /// Restart the worker of a session of this host.
    Restart(RemoteOpArgs),
}

/// The session and who asked, for `brl remote pause|resume|stop|restart`.
#[derive(Debug, clap::Args)]
pub struct RemoteOpArgs {
    /// The session (<host>-sN).
    pub session: String,
    /// Who asked on the control host, logged as `by`.
    #[arg(long, value_name = "WHO", value_parser = ["cli", "http", "dashboard", "telegram"])]
    pub by: String,
}
