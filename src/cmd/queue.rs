//! `brl queue list|diff|approve|reject`.

use crate::cli::QueueCommand;
use crate::decision;
use crate::git::Target;
use crate::home::Home;
use crate::outcome::Counts;
use crate::store::queue::Queue;

pub fn run(home: &Home, cmd: QueueCommand) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    match cmd {
        QueueCommand::List { json } => {
            let entries = Queue::new(&home.queue_path()).load()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
                return Ok(0);
            }
            if entries.is_empty() {
                println!("the review queue is empty");
            }
            for e in &entries {
                println!(
                    "{:<9} {:<28} {:<4} {}  {} → {}  {}",
                    e.status.as_str(),
                    e.branch,
                    e.session,
                    e.created.format("%Y-%m-%d %H:%M"),
                    counts(&e.before),
                    counts(&e.after),
                    e.decision_reason.as_deref().unwrap_or(&e.reason)
                );
            }
            Ok(0)
        }
        QueueCommand::Diff { branch } => {
            let target = Target::open(&config.repo_path(home.root()), &config.main)?;
            if !target.branch_exists(&branch) {
                anyhow::bail!(
                    "no branch {branch} in {}; `brl queue list` shows the queue",
                    target.path().display()
                );
            }
            print!("{}", target.diff_patch(&branch)?);
            Ok(0)
        }
        QueueCommand::Approve { branch } => {
            let approval = decision::approve(home, &config, &branch, "cli")?;
            let text = approval.describe(&branch, &config.main);
            if approval.succeeded() {
                println!("{text}");
                Ok(0)
            } else {
                eprintln!("{text}");
                Ok(1)
            }
        }
        QueueCommand::Reject { branch, reason } => {
            decision::reject(home, &config, &branch, reason.as_deref(), "cli")?;
            println!("rejected {branch}: branch deleted");
            Ok(0)
        }
    }
}

/// `e12 f3 p40` — errors, failures, passed (`?` when unknown).
pub fn counts(c: &Counts) -> String {
    let s = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
    format!("e{} f{} p{}", s(c.errors), s(c.failures), s(c.passed))
}
