//! The default files a home starts with, embedded in the binary so an installed `brl` needs no
//! source tree: the commented `brl.toml` for each preset, the prompts, skills and layouts.

/// `(path relative to the home, contents)` of every default file but `brl.toml`.
pub const FILES: &[(&str, &str)] = &[
    ("prompts/ralph.md", include_str!("../prompts/ralph.md")),
    ("prompts/doctor.md", include_str!("../prompts/doctor.md")),
    ("prompts/skill.md", include_str!("../prompts/skill.md")),
    (
        "prompts/standup-report.md",
        include_str!("../prompts/standup-report.md"),
    ),
    (
        "prompts/standup-respond.md",
        include_str!("../prompts/standup-respond.md"),
    ),
    (
        "prompts/standup-commit.md",
        include_str!("../prompts/standup-commit.md"),
    ),
    ("prompts/standup.md", include_str!("../prompts/standup.md")),
    ("prompts/review.md", include_str!("../prompts/review.md")),
    ("prompts/fix.md", include_str!("../prompts/fix.md")),
    (
        "prompts/review-enthusiast.md",
        include_str!("../prompts/review-enthusiast.md"),
    ),
    (
        "prompts/review-adversary.md",
        include_str!("../prompts/review-adversary.md"),
    ),
    (
        "prompts/review-referee.md",
        include_str!("../prompts/review-referee.md"),
    ),
    (
        "skills/one-small-change.md",
        include_str!("../skills/one-small-change.md"),
    ),
    (
        "skills/read-before-editing.md",
        include_str!("../skills/read-before-editing.md"),
    ),
    ("layouts/tiled.toml", include_str!("../layouts/tiled.toml")),
    (
        "layouts/windows.toml",
        include_str!("../layouts/windows.toml"),
    ),
];

/// The embedded default of `prompts/<role>.md`, if there is one.
/// An embedded file by its path in the home, e.g. `layouts/tiled.toml`.
pub fn file(path: &str) -> Option<&'static str> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, c)| *c)
}

pub fn prompt(role: &str) -> Option<&'static str> {
    let want = format!("prompts/{role}.md");
    FILES.iter().find(|(p, _)| *p == want).map(|(_, c)| *c)
}

use crate::agents::PresetKind;

/// Which kind of project the checks are set up for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    Typescript,
    Rust,
    Python,
    Custom,
}

/// The type check and test commands of `preset`, each with its parser.
pub fn check_commands(preset: Preset) -> [(&'static str, &'static str); 2] {
    match preset {
        Preset::Typescript => [("npx tsc --noEmit", "tsc"), ("npx vitest run", "vitest")],
        Preset::Rust => [
            ("cargo check --keep-going", "cargo"),
            ("cargo test --no-fail-fast", "cargo-test"),
        ],
        Preset::Python => [("mypy .", "mypy"), ("python -m pytest -q", "pytest")],
        Preset::Custom => [("make typecheck", "exit-code"), ("make test", "exit-code")],
    }
}

/// A commented `brl.toml` for `repo` with the checks of `preset` and the agent `agent` (its
/// preset's command, which may name `brl`, the path of the brl executable: Codex runs the gate
/// from its command line).
pub fn config_toml(repo: &str, preset: Preset, agent: PresetKind, brl: &str) -> String {
    let [(typecheck, tc_parser), (test, test_parser)] = check_commands(preset);
    let custom_note = if preset == Preset::Custom {
        r#"# Edit these: any command works. `exit-code` counts 0 errors on exit 0, else 1;
# `regex` counts matching output lines (errors = "<regex>" for a type check;
# failures = "<regex>" and passed = "<regex>" for tests).
"#
    } else {
        ""
    };
    let checks = format!(
        "{custom_note}[checks.typecheck]\ncommand = {}\nparser = {}\n\n[checks.test]\ncommand = {}\nparser = {}",
        toml_string(typecheck),
        toml_string(tc_parser),
        toml_string(test),
        toml_string(test_parser)
    );
    let agent_section = agent_section(agent, &[typecheck, test], brl);
    let worktree = worktree_section(preset);
    let repo = toml_string(repo);
    format!(
        r#"# brl.toml — the configuration of this brl home. Unknown keys are errors.

# The target git repository, relative to this file's directory or absolute.
repo = {repo}
# The branch that approvals merge into.
main = "main"
# Number of agent sessions; they are named s1..sN.
sessions = 3
# A file in the target repo that every cycle's prompt includes (optional).
context_file = "AGENTS.md"

{agent_section}
[checks]
# At most this many type checks run at once, across all sessions.
max_parallel_typechecks = 2
# Each check is killed past this, and counts as "failed to run".
timeout_secs = 600

# parser: tsc | vitest | jest | cargo | cargo-test | pytest | mypy | regex | exit-code
{checks}

{worktree}
[worker]
# Pause between two cycles of `brl worker`; doubled after each failed cycle, up to max_backoff_secs.
pause_secs = 10
max_backoff_secs = 600

[scheduler]
# With no ready task, the agent picks its own small task (false: the session waits for a task).
self_plan = true
# A task whose cycles end without a kept branch this many times becomes `failed`.
max_attempts = 3
# Idle sessions are reconsidered this often (and at once whenever a worker becomes idle).
interval_secs = 300
# No cycle is granted while used memory is above this percentage (the cgroup's, when tighter).
max_ram_percent = 85
# At most this many cycles at once; 0 = one per session.
max_running = 0

[tmux]
# The tmux server (`tmux -L <socket>`); remove the line to use your default server.
# socket = "brl"
# The tmux session that holds one pane per agent session. Left out, it is derived from this
# home's path (`brl-<directory>-<hash>`, shown by `brl init` and `brl status`), so two homes on
# one tmux server never share a session. Set it only to pick a name of your own.
# session = "brl"
# A file in layouts/: "tiled" (all panes in one window) or "windows" (one window per session).
layout = "tiled"
# The control room checks the panes this often (one tmux call, whatever the number of sessions).
check_secs = 10
# Each session's terminal output goes to logs/sessions/<s>/pane.log, rotated past this size.
pane_log_max_bytes = 2097152

[server]
# HTTP triggers, served by the control room (`brl up`): GET /healthz, /status; POST /trigger/...
enabled = true
# The address to listen on. Left out, it is 127.0.0.1 with a port derived from this home's path
# (20000-29999, shown by `brl init` and `brl status`), so two homes never ask for the same port.
# listen = "127.0.0.1:7878"
# POSTs need `Authorization: Bearer <token>`, the token read from this environment variable.
# Listening beyond loopback without a token is refused.
token_env = "BRL_TOKEN"

[budget]
# Daily limits (UTC): once reached, no more cycles are granted until midnight UTC. Cost is what
# the agent reports (Claude Code's total_cost_usd). Remove a key for no limit.
# daily_usd = 20.0
# max_cycles_per_day = 200

[tasks]
# At most this many pending tasks (done, failed and dropped ones do not count).
max_pending = 20

[prompt]
# How many recent cycles of the other sessions each prompt shows.
recent_entries = 12
# Bounds on what the prompt includes from skills/ and from the context file.
skills_max_bytes = 8192
context_max_bytes = 16384

[gate]
# `brl gate`, the safety hook brl installs where the agent loads hooks (Claude Code:
# .claude/settings.json; Gemini CLI: .gemini/settings.json; Codex: its command line; opencode,
# aider and custom commands have none), blocks the agent's rm -rf outside its worktree,
# git reset --hard, forced pushes and pushes to main, git clean -f, DROP/TRUNCATE, deploys,
# printing secrets, edits and patches outside the worktree, tools it does not know, and
# questions nobody is there to answer. Your additions: regexes matched against each simple
# command, quotes removed and spaces collapsed, as written and without `VAR=x` prefixes and
# wrappers (sudo, env, command, timeout, npx, ...).
# Always blocked, whatever `allow` says:
# deny = ["^docker system prune", "^aws "]
# Exempt from the built-in rules (never from `deny`):
# allow = ["^rm -rf /tmp/myapp-"]
# Tools the gate does not know (an MCP server's, say) that may run anyway:
# allow_tools = ["mcp__db__query"]

[notify]
# Notifications from the control room (`brl up`): a branch kept and waiting for review, a review
# decision, a budget reached, a worker or the control room that died, and a heartbeat. Each event
# is one JSON object {{"event", "ts", "home", "session", "text", "data"}}. A failing notifier is
# retried (after 2 s, 8 s, 30 s), then recorded as `notify_failed` in the experiment log; it never
# holds up the sessions. Any of these, each on its own:
# The command runs with `sh -c` in the home, the event on its stdin:
# command = "cat >> $HOME/brl-events.jsonl"
# The event is POSTed as JSON (http:// or https://; https uses the system's certificate authorities):
# webhook = "http://127.0.0.1:9000/brl"
# A summary of the period this often ("3 sessions alive, 7 kept, 4 discarded, 2 waiting for
# review"), so that silence never leaves you guessing; 0 = none, else at least 60.
heartbeat_secs = 3600

# Telegram: the Bot API's sendMessage with the event's text; the token stays in the environment.
# [notify.telegram]
# bot_token_env = "BRL_TELEGRAM_TOKEN"
# chat_id = "-1001234567890"
# api_base = "https://api.telegram.org"
# The chat is also a remote: /status /queue /diff 3 /approve 3 /reject 3 why /task … /review
# /standup /doctor /pause [s1] /resume [s1] /help, from `chat_id` only; /approve and /reject ask
# for a `yes` first. Every command is a `command` entry in the experiment log.
# commands = true
# allow_decisions = true          # false: /approve and /reject are refused
# allowed_users = [123456789]     # Telegram user ids; empty: anyone in the chat
# task_tier = "proposed"          # or "auto_safe"
# max_commands_per_minute = 20

[review]
# The automated review (`cto_review`): each pending branch is re-checked against the current main
# (conflicting → `conflict`, now regressing → `stale`), then the agent (role `review`,
# prompts/review.md) answers `VERDICT: APPROVE` or `VERDICT: REJECT` with its reasons.
# mode: "advisory" (the verdict is shown; you decide), "auto" (approve merges, reject deletes,
# exactly as the keys do) or "off".
mode = "advisory"
# "single" (one reviewer) or "adversarial" (an enthusiast lists every possible bug, an adversary
# disputes each, a referee rules and gives the verdict: three calls per branch).
style = "single"
# How often the control room runs it (seconds; 0 = only `brl review` / POST /trigger/review).
interval_secs = 7200
# Back-pressure: while this many branches wait (pending, conflict, stale), no self-planned cycle
# is granted — queued tasks still are, unless backlog_blocks_tasks = true. 0 = no cap.
max_pending = 20
backlog_blocks_tasks = false
# The whole run's time limit, and how much of a diff the reviewer sees.
timeout_secs = 1800
max_diff_bytes = 60000

[standup]
# Standup meetings (`team_standup`): three rounds with every live session, then a summary; the
# transcript goes to logs/meetings/ and the tasks the sessions commit to into the task queue as
# `proposed`. 0 = only on demand.
interval_secs = 7200
timeout_secs = 1800
pane_tail_bytes = 2000

[doctor]
# The session doctor (`doctor_analysis`): classifies each session (productive, stuck, idle,
# error_looping) and writes skill notes (skills/*.md) from the kept cycles. 0 = only on demand.
interval_secs = 10800
timeout_secs = 1800
# Also ask the agent (role `doctor`) for prompt improvements per session.
advise = false
# The same error in this many last cycles is `error_looping`; granted this long without a cycle
# finishing is `stuck`; this many recent cycles are looked at.
loop_cycles = 3
stuck_secs = 3600
window_cycles = 10

[fixer]
# Repair cycles (role `fix`, prompts/fix.md) for review-queue branches that conflict with the
# current main or that the re-check found worse (`stale`): the branch is merged onto main in an idle
# session's worktree (conflicts committed with their markers), the agent repairs it, and the
# result is judged against main like any cycle. Kept: it replaces the entry (`fixes`), the old
# branch is deleted. Granted by the scheduler like any cycle (RAM gate, budget, max_running).
enabled = true
# Repairs per branch before the fixer gives up (the entry stays, with a note).
max_attempts = 2
# Seconds between two attempts on one branch; 0 = only `brl fix`, POST /trigger/fix, key F.
interval_secs = 300

[keys]
# The dashboard's keys (`?` in the dashboard lists every action). An entry replaces that action's
# default keys; a key bound to two actions that are active at once is an error. For example:
# approve = "a"
# reject = ["r", "ctrl-r"]
# quit = "q"
"#
    )
}

/// The `[agent]` section for `agent`: which preset, what its command allows and forbids, the
/// command itself (allowing the project's `checks`), and the time limit.
pub fn agent_section(agent: PresetKind, checks: &[&str], brl: &str) -> String {
    format!(
        r#"[agent]
# Which agent CLI runs: claude, codex, gemini, opencode, aider or custom (`brl init --agent`).
# brl reads its result (cost, tokens, turns, denials, limits) and installs its gate by it.
preset = {preset}
{comment}
# Run through `sh -c` in the session's worktree; the prompt arrives on stdin.
command = {command}
# The agent's whole process group is killed past this.
timeout_secs = 1800
"#,
        preset = toml_string(agent.name()),
        comment = agent.comment(),
        command = toml_string(&agent.default_command(checks, brl)),
    )
}

/// The `[worktree]` section for `preset`: the setup that installs the project's dependencies in
/// each worktree brl owns (active for TypeScript, whose checks need `node_modules`; a commented
/// example for the others).
pub fn worktree_section(preset: Preset) -> String {
    let head = r#"[worktree]
# A command run in each worktree brl owns (a session's, and the review's re-check) once it is at
# the commit to work on, before any check: when the worktree is new, when the command changes,
# and when a file in setup_inputs changes (none listed: once per worktree). Its output goes next
# to the checks' output (logs/sessions/<s>/<cycle>.setup.log; the review's under logs/jobs/), and
# a `worktree_setup` entry to the experiment log; a failure is reported with the command's exit
# and output. Whatever it writes must be ignored by git, or it would count as the agent's work:
# brl refuses a setup that leaves files git does not ignore."#;
    let body = match preset {
        Preset::Typescript => {
            r#"# The checks (`npx tsc`, `npx vitest`) need node_modules/ (keep it in .gitignore).
setup = "npm ci --prefer-offline"
setup_inputs = ["package-lock.json"]
# The setup's whole process group is killed past this.
setup_timeout_secs = 900"#
        }
        Preset::Python => {
            r#"# For example, a virtualenv per worktree (add .venv/ to .gitignore, and run the checks with
# `.venv/bin/python -m mypy .` and `.venv/bin/python -m pytest -q`). Not `pip install -e .` into
# a shared Python: every worktree would install itself over the others.
# setup = "python3 -m venv .venv && .venv/bin/pip install -q -r requirements.txt"
# setup_inputs = ["requirements.txt"]
# setup_timeout_secs = 900"#
        }
        Preset::Rust => {
            r#"# Cargo fetches what it needs by itself; to download the crates once per Cargo.lock instead
# of during the first check:
# setup = "cargo fetch --locked"
# setup_inputs = ["Cargo.lock"]
# setup_timeout_secs = 900"#
        }
        Preset::Custom => {
            r#"# For example:
# setup = "make deps"
# setup_inputs = ["deps.lock"]
# setup_timeout_secs = 900"#
        }
    };
    format!("{head}\n{body}\n")
}

/// A TOML basic string for `s`.
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The PM2 app name of the home at `home`: `brl-` and its last path component, each run of
/// characters other than letters, digits, `_` and `.` made one `-` (`brl-home` when nothing is
/// left).
pub fn pm2_app_name(home: &std::path::Path) -> String {
    let last = home
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut clean = String::new();
    for c in last.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.') {
            clean.push(c);
        } else if !clean.is_empty() && !clean.ends_with('-') {
            clean.push('-');
        }
    }
    let clean = clean.trim_matches(|c| c == '-' || c == '.');
    format!("brl-{}", if clean.is_empty() { "home" } else { clean })
}

/// `<home>/ecosystem.config.js`: a PM2 ecosystem file running `exe --home <home> up --no-tui`.
/// Every embedded string is a JSON string literal, hence a valid JS one; the comments name no
/// path (a path could end a comment).
pub fn pm2_ecosystem(home: &std::path::Path, exe: &std::path::Path) -> String {
    let js = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let path = |p: &std::path::Path| js(&p.display().to_string());
    let name = pm2_app_name(home);
    let logs = home.join("logs");
    format!(
        r#"// PM2 ecosystem file of a brl home, written by `brl init --pm2`. The app runs the control
// room headless (`brl up --no-tui`): its JSON log lines go to out_file and logs/brl.log.<date>.
//
//   pm2 start ecosystem.config.js   start the control room (it adopts running workers)
//   pm2 restart {name}   restart it; the workers and their cycles keep running in tmux
//   pm2 stop {name}      stop it; the workers keep running in tmux, no new cycles are granted
//   brl --home <this directory> down   stop everything: control room, workers, tmux session
//
// PM2 stops the app with SIGINT; brl exits 0 within about a second (kill_timeout is a margin).
// An exit 0 means someone stopped it (`brl down`, a signal), so PM2 does not restart it
// (stop_exit_codes); a crash or a failed start is restarted, up to max_restarts quick failures.
module.exports = {{
  apps: [
    {{
      name: {name_js},
      script: {exe},
      args: ["--home", {home}, "up", "--no-tui"],
      interpreter: "none",
      cwd: {home},
      kill_timeout: 10000,
      autorestart: true,
      stop_exit_codes: [0],
      min_uptime: 10000,
      max_restarts: 10,
      restart_delay: 5000,
      out_file: {out},
      error_file: {err},
      merge_logs: true,
      time: false,
      env: {{ BRL_LOG: "info" }},
    }},
  ],
}};
"#,
        name_js = js(&name),
        exe = path(exe),
        home = path(home),
        out = path(&logs.join("pm2-out.log")),
        err = path(&logs.join("pm2-error.log")),
    )
}

#[cfg(test)]
#[path = "defaults_tests.rs"]
mod tests;
