//! Execute a [`Command`] against the home and log it: the same engine calls as the CLI, the keys
//! and HTTP; one `command` entry in the experiment log per command, after its effect.

use serde_json::json;

use super::answer::{Answer, Block};
use super::branches;
use super::commands::{self, Command, HELP};
use crate::config::Config;
use crate::control::ops::{self, By};
use crate::home::Home;
use crate::jobs::{self, Job, JobError};
use crate::scheduler::MemoryReader;
use crate::store::log::{self, Entry};
use crate::store::tasks::{Tasks, Tier};

/// Who sent a command, and through what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// `telegram` or `http`.
    pub channel: &'static str,
    /// The sender as logged: a Telegram @username or user id, an HTTP bridge's `user`.
    pub user: String,
    /// Who may confirm this sender's `/approve`: the channel, chat and user id.
    pub asker: String,
    /// The Telegram update this came in (logged, so a replayed update is recognised).
    pub update_id: Option<i64>,
}

impl Source {
    /// A command from a Telegram chat.
    pub fn telegram(chat: &str, user_id: i64, user: &str, update_id: i64) -> Source {
        Source {
            channel: "telegram",
            user: user.to_string(),
            asker: format!("telegram:{chat}:{user_id}"),
            update_id: Some(update_id),
        }
    }

    /// A command through `POST /command`; `user` names the bridge's sender, if it says.
    pub fn http(user: Option<&str>) -> Source {
        let user = user
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or("http");
        Source {
            channel: "http",
            user: user.to_string(),
            asker: format!("http:{user}"),
            update_id: None,
        }
    }

    /// The `by` of decisions and other entries: `telegram:<user>`, `http` or `http:<user>`.
    pub fn by(&self) -> String {
        if self.channel == "http" && self.user == "http" {
            return "http".into();
        }
        format!("{}:{}", self.channel, self.user)
    }

    fn ops_by(&self) -> By {
        match self.channel {
            "telegram" => By::Telegram,
            _ => By::Http,
        }
    }
}

/// What the channel allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `/approve` and `/reject` may decide (`[notify.telegram] allow_decisions`).
    pub allow_decisions: bool,
    /// The tier of `/task` (`[notify.telegram] task_tier`).
    pub task_tier: Tier,
}

impl Policy {
    /// The Telegram chat's policy from `[notify.telegram]`.
    pub fn telegram(config: &Config) -> Policy {
        let t = config.notify.telegram.as_ref();
        Policy {
            allow_decisions: t.is_none_or(|t| t.allow_decisions),
            task_tier: tier(t.map(|t| t.task_tier.as_str())),
        }
    }

    /// `POST /command`'s: its token already allows `POST /queue/approve`, so decisions are
    /// allowed (each still after a `yes`); tasks take `[notify.telegram] task_tier` (`proposed`
    /// without it).
    pub fn http(config: &Config) -> Policy {
        Policy {
            allow_decisions: true,
            ..Policy::telegram(config)
        }
    }
}

fn tier(name: Option<&str>) -> Tier {
    match name {
        Some("auto_safe") => Tier::AutoSafe,
        _ => Tier::Proposed,
    }
}

/// Run one message from `source` and log it (`command` entry: source, user, text, command,
/// result, the answer's first lines, the update id). `policy`: `None` reads it from brl.toml
/// for the channel.
pub fn handle(home: &Home, source: &Source, text: &str, policy: Option<Policy>) -> Answer {
    let command = commands::parse(text);
    let answer = match home.load_config() {
        Ok(config) => {
            let policy = policy.unwrap_or_else(|| match source.channel {
                "telegram" => Policy::telegram(&config),
                _ => Policy::http(&config),
            });
            execute(home, &config, source, policy, &command)
        }
        Err(e) => Answer::line(
            "error",
            format!("brl.toml cannot be read, so nothing was done: {e}"),
        ),
    };
    record(home, source, text, command.name(), &answer);
    answer
}

/// The `command` entry of one command.
pub fn record(home: &Home, source: &Source, text: &str, command: &str, answer: &Answer) {
    let said: String = answer.plain().chars().take(1000).collect();
    let text: String = text.chars().take(500).collect();
    log::append_or_report(
        &home.log_path(),
        &Entry::new(
            "command",
            None,
            json!({"source": source.channel, "user": source.user, "by": source.by(),
                   "text": text, "command": command, "result": answer.result,
                   "answer": said, "update_id": source.update_id}),
        ),
    );
}

fn execute(
    home: &Home,
    config: &Config,
    source: &Source,
    policy: Policy,
    command: &Command,
) -> Answer {
    match command {
        Command::Status => status(home, config),
        Command::Queue { page } => branches::queue(home, config, *page),
        Command::Diff(n) => branches::diff(home, config, *n),
        Command::Approve(n) => branches::ask(home, config, source, policy, *n, None),
        Command::Reject(n, reason) => {
            branches::ask(home, config, source, policy, *n, Some(reason.clone()))
        }
        Command::Yes => branches::confirmed(home, config, source, policy),
        Command::No => branches::cancel(home, source),
        Command::Task(title) => task(home, config, source, policy, title),
        Command::Review => job(home, Job::Review),
        Command::Standup => job(home, Job::Standup),
        Command::Doctor => job(home, Job::Doctor),
        Command::Pause(s) | Command::Resume(s) => {
            if let Some(s) = s
                && let Err(e) = config.check_session(s)
            {
                return Answer::line("refused", format!("{e:#}"));
            }
            let by = source.ops_by();
            let done = match command {
                Command::Pause(_) => ops::pause(home, s.as_deref(), by),
                _ => ops::resume(home, s.as_deref(), by),
            };
            match done {
                Ok(text) => Answer::line("ok", text),
                Err(e) => Answer::line("error", e.to_string()),
            }
        }
        Command::Help => help("brl commands:"),
        Command::Usage(u) => help(&format!("usage: {u}")).with_result("refused"),
        Command::Unknown(t) => {
            help(&format!("unknown command `{t}`; brl knows:")).with_result("refused")
        }
    }
}

impl Answer {
    fn with_result(mut self, result: &'static str) -> Answer {
        self.result = result;
        self
    }
}

fn help(first: &str) -> Answer {
    let mut a = Answer::new("ok").with(Block::Title(first.to_string()));
    for l in HELP {
        a.push(Block::Line((*l).to_string()));
    }
    a
}

/// The same truth as `brl status` and the dashboard's header: the status snapshot in words,
/// with why nothing happens.
fn status(home: &Home, config: &Config) -> Answer {
    let v = crate::status::snapshot(home, config, &mut MemoryReader::default());
    let mut a = Answer::new("ok").with(Block::Title("brl status".into()));
    for l in crate::status::describe(&v).lines() {
        a.push(Block::Line(l.to_string()));
    }
    a
}

fn task(home: &Home, config: &Config, source: &Source, policy: Policy, title: &str) -> Answer {
    let tasks = Tasks::new(&home.tasks_path());
    match tasks.add(
        title,
        None,
        policy.task_tier,
        source.channel,
        config.tasks.max_pending,
    ) {
        Ok(t) => {
            let when = match t.tier {
                Tier::Proposed => format!(
                    "tier proposed: it runs once approved (`brl task approve {}`)",
                    t.id
                ),
                Tier::AutoSafe => "tier auto_safe: the next free session takes it".into(),
            };
            Answer::line(
                "ok",
                format!("task #{} queued: \"{}\" — {when}", t.id, t.title),
            )
        }
        Err(e) => Answer::line("refused", format!("task not queued: {e}")),
    }
}

fn job(home: &Home, job: Job) -> Answer {
    match jobs::spawn(home, job, None) {
        Ok(_) => Answer::line(
            "ok",
            format!(
                "the {} job started; its result is a `{}` entry in the experiment log (and a notification)",
                job.name(),
                job.entry_kind()
            ),
        ),
        Err(e @ JobError::Busy { .. }) => Answer::line("refused", e.to_string()),
        Err(e) => Answer::line("error", format!("cannot start the {} job: {e}", job.name())),
    }
}
