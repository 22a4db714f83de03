//! A chat message → a [`Command`] (pure), and the help text.

/// What a message asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Status,
    /// The open branches, this page of them (1-based).
    Queue {
        page: usize,
    },
    Diff(u64),
    Approve(u64),
    Reject(u64, Option<String>),
    Task(String),
    Review,
    Standup,
    Doctor,
    Pause(Option<String>),
    Resume(Option<String>),
    Help,
    /// The one-word confirmation of a pending `/approve` or `/reject`.
    Yes,
    /// Cancels a pending confirmation.
    No,
    /// A known command with missing or bad arguments: its usage line.
    Usage(&'static str),
    /// Anything else (the text, cut short).
    Unknown(String),
}

impl Command {
    /// The command's name, as logged.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Status => "status",
            Command::Queue { .. } => "queue",
            Command::Diff(_) => "diff",
            Command::Approve(_) => "approve",
            Command::Reject(..) => "reject",
            Command::Task(_) => "task",
            Command::Review => "review",
            Command::Standup => "standup",
            Command::Doctor => "doctor",
            Command::Pause(_) => "pause",
            Command::Resume(_) => "resume",
            Command::Help => "help",
            Command::Yes => "yes",
            Command::No => "no",
            Command::Usage(_) => "usage",
            Command::Unknown(_) => "unknown",
        }
    }
}

/// The help: one line per command.
pub const HELP: &[&str] = &[
    "/status — what runs, and why nothing happens",
    "/queue [page] — branches waiting for a decision, numbered",
    "/diff <n> — files and line counts branch n would bring to main",
    "/approve <n> — merge branch n (asks for a yes)",
    "/reject <n> [reason] — delete branch n (asks for a yes)",
    "/task <title> — queue a task",
    "/review, /standup, /doctor — start that job now",
    "/pause [session], /resume [session] — the whole fleet, or one session",
    "/help — this list",
];

const USAGE_DIFF: &str = "/diff <n>: n is a branch number from /queue, e.g. /diff 3";
const USAGE_APPROVE: &str = "/approve <n>: n is a branch number from /queue, e.g. /approve 3";
const USAGE_REJECT: &str =
    "/reject <n> [reason]: n is a branch number from /queue, e.g. /reject 3 too broad";
const USAGE_TASK: &str = "/task <title>: e.g. /task Document the config keys";
const USAGE_QUEUE: &str = "/queue [page]: e.g. /queue 2";

/// Parse one message. Commands may carry the bot's name (`/status@mybot`); case is ignored.
pub fn parse(text: &str) -> Command {
    let text = text.trim();
    let (head, rest) = match text.split_once(char::is_whitespace) {
        Some((h, r)) => (h, r.trim()),
        None => (text, ""),
    };
    let word = head.split('@').next().unwrap_or("").to_lowercase();
    let arg = (!rest.is_empty()).then(|| rest.to_string());
    match word.as_str() {
        "yes" | "/yes" | "y" if rest.is_empty() => Command::Yes,
        "no" | "/no" | "n" if rest.is_empty() => Command::No,
        "/status" | "/start" => Command::Status,
        "/queue" => match arg {
            None => Command::Queue { page: 1 },
            Some(a) => match a.parse::<usize>() {
                Ok(p) if p >= 1 => Command::Queue { page: p },
                _ => Command::Usage(USAGE_QUEUE),
            },
        },
        "/diff" => number(rest).map_or(Command::Usage(USAGE_DIFF), Command::Diff),
        "/approve" => number(rest).map_or(Command::Usage(USAGE_APPROVE), Command::Approve),
        "/reject" => {
            let (n, reason) = match rest.split_once(char::is_whitespace) {
                Some((n, r)) => (n, Some(r.trim().to_string()).filter(|r| !r.is_empty())),
                None => (rest, None),
            };
            number(n).map_or(Command::Usage(USAGE_REJECT), |n| Command::Reject(n, reason))
        }
        "/task" => arg.map_or(Command::Usage(USAGE_TASK), Command::Task),
        "/review" => Command::Review,
        "/standup" => Command::Standup,
        "/doctor" => Command::Doctor,
        "/pause" => Command::Pause(arg),
        "/resume" => Command::Resume(arg),
        "/help" => Command::Help,
        _ => Command::Unknown(text.chars().take(60).collect()),
    }
}

/// `3`, `b3` or `#3`.
fn number(s: &str) -> Option<u64> {
    let s = s.trim();
    let s = s.strip_prefix(['b', 'B', '#']).unwrap_or(s);
    s.parse().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_their_arguments() {
        assert_eq!(parse("/status"), Command::Status);
        assert_eq!(parse("/status@brl_bot"), Command::Status);
        assert_eq!(parse(" /QUEUE "), Command::Queue { page: 1 });
        assert_eq!(parse("/queue 2"), Command::Queue { page: 2 });
        assert_eq!(parse("/queue x"), Command::Usage(USAGE_QUEUE));
        assert_eq!(parse("/diff 3"), Command::Diff(3));
        assert_eq!(parse("/diff b3"), Command::Diff(3));
        assert_eq!(parse("/diff"), Command::Usage(USAGE_DIFF));
        assert_eq!(parse("/approve #12"), Command::Approve(12));
        assert_eq!(parse("/approve 0"), Command::Usage(USAGE_APPROVE));
        assert_eq!(parse("/reject 4"), Command::Reject(4, None));
        assert_eq!(
            parse("/reject 4  too broad "),
            Command::Reject(4, Some("too broad".into()))
        );
        assert_eq!(
            parse("/task  Fix the README "),
            Command::Task("Fix the README".into())
        );
        assert_eq!(parse("/task"), Command::Usage(USAGE_TASK));
        assert_eq!(parse("/pause"), Command::Pause(None));
        assert_eq!(parse("/resume s2"), Command::Resume(Some("s2".into())));
        assert_eq!(parse("Yes"), Command::Yes);
        assert_eq!(parse("yes please"), Command::Unknown("yes please".into()));
        assert_eq!(parse("no"), Command::No);
        assert_eq!(parse("/frobnicate"), Command::Unknown("/frobnicate".into()));
        assert_eq!(parse("/review").name(), "review");
    }
}
