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
            if target.branch_exists(&branch) {
                print!("{}", target.diff_patch(&branch)?);
                return Ok(0);
            }
            // A discarded (or never judged) cycle: what it tried, kept under refs/brl/.
            match kept_ref(home, &target, &branch) {
                Some(refname) => {
                    eprintln!(
                        "{branch} is not in the queue; showing what it tried, kept as {refname}"
                    );
                    print!("{}", target.ref_patch(&refname)?);
                    Ok(0)
                }
                None => anyhow::bail!(
                    "no branch {branch} in {}, and no discarded cycle of that name or id is kept (they are pruned after [checks] keep_discarded_days); `brl queue list` shows the queue, `brl log --type ralph_cycle` the cycles",
                    target.path().display()
                ),
            }
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

/// The ref keeping the commits of the cycle named `what` (its cycle id, or its branch name as
/// the log shows it), if it is still kept.
fn kept_ref(home: &Home, target: &Target, what: &str) -> Option<String> {
    for r in [
        crate::git::discarded_ref(what),
        crate::git::unjudged_ref(what),
    ] {
        if target.ref_target(&r).is_some() {
            return Some(r);
        }
    }
    let filter = crate::store::log::Filter {
        kind: Some("ralph_cycle".into()),
        session: None,
    };
    let tail = crate::store::log::tail(&home.log_path(), 5000, &filter).ok()?;
    tail.entries.iter().rev().find_map(|e| {
        let d = &e.data;
        if d.get("branch").and_then(|b| b.as_str()) != Some(what) {
            return None;
        }
        d.get("kept_as")
            .and_then(|k| k.as_str())
            .filter(|r| target.ref_target(r).is_some())
            .map(str::to_string)
    })
}

/// `e12 f3 p40` — errors, failures, passed (`?` when unknown).
pub fn counts(c: &Counts) -> String {
    let s = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
    format!("e{} f{} p{}", s(c.errors), s(c.failures), s(c.passed))
}
