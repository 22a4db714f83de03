//! `brl task add|list|approve|drop`.

use crate::cli::{TaskCommand, TierArg};
use crate::home::Home;
use crate::store::tasks::{Tasks, Tier};
use crate::term::safe_line;

pub fn run(home: &Home, cmd: TaskCommand) -> anyhow::Result<i32> {
    let tasks = Tasks::new(&home.tasks_path());
    match cmd {
        TaskCommand::Add {
            title,
            body,
            tier,
            session,
        } => {
            let config = home.load_config()?;
            if let Some(s) = &session {
                config.check_session(s)?;
            }
            let tier = match tier {
                TierArg::AutoSafe => Tier::AutoSafe,
                TierArg::Proposed => Tier::Proposed,
            };
            let t = tasks.add_for(
                &title,
                body.as_deref(),
                tier,
                "cli",
                config.tasks.max_pending,
                session.as_deref(),
            )?;
            let next = match &t.for_session {
                Some(s) => format!("session {s} takes it next"),
                None => "ready for the next idle session".into(),
            };
            let wait = if t.ready() {
                next.as_str()
            } else {
                "waits for `brl task approve`"
            };
            println!(
                "task #{} added ({}, {wait}): {}",
                t.id,
                t.tier.as_str(),
                safe_line(&t.title)
            );
        }
        TaskCommand::List { json } => {
            let all = tasks.load()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(0);
            }
            if all.is_empty() {
                println!("the task queue is empty");
            }
            for t in &all {
                let state = if t.state.as_str() == "pending" && !t.ready() {
                    "awaiting approval".to_string()
                } else {
                    t.state.as_str().to_string()
                };
                let mut line = format!(
                    "#{:<4} {:<9} {:<18} {}",
                    t.id,
                    t.tier.as_str(),
                    state,
                    safe_line(&t.title)
                );
                if let Some(s) = &t.for_session {
                    line.push_str(&format!("  (for {s})"));
                }
                if let Some(b) = &t.branch {
                    line.push_str(&format!("  → {}", safe_line(b)));
                }
                if t.attempts > 0 {
                    line.push_str(&format!(
                        "  ({} failed attempt(s): {})",
                        t.attempts,
                        safe_line(t.last_reason.as_deref().unwrap_or(""))
                    ));
                }
                println!("{line}");
            }
        }
        TaskCommand::Approve { id } => {
            let t = tasks.approve(id)?;
            println!("task #{} approved: {}", t.id, safe_line(&t.title));
        }
        TaskCommand::Drop { id } => {
            let t = tasks.drop_task(id)?;
            println!("task #{} dropped: {}", t.id, safe_line(&t.title));
        }
    }
    Ok(0)
}
