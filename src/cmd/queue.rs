//! `brl queue list|diff|approve|reject`.

use crate::cli::QueueCommand;
use crate::decision;
use crate::git::{Effect, Target};
use crate::home::Home;
use crate::jobs::review::train;
use crate::outcome::Counts;
use crate::store::queue::{Queue, QueueEntry};
use crate::term::{safe_line, safe_text};

pub fn run(home: &Home, cmd: QueueCommand) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    match cmd {
        QueueCommand::List { json } => {
            // Main may have moved (an approve, a push): close what would merge to nothing first.
            match decision::sweep(home, &config) {
                Ok(gone) => {
                    for s in gone {
                        eprintln!("superseded {}: {}", safe_line(&s.branch), safe_line(&s.why));
                    }
                }
                Err(e) => eprintln!(
                    "brl: the queue is listed as it is; checking it against {} failed: {e:#}",
                    config.main
                ),
            }
            let entries = Queue::new(&home.queue_path()).load()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
                return Ok(0);
            }
            if entries.is_empty() {
                println!("the review queue is empty");
            }
            print!("{}", safe_text(&list_text(&entries)));
            Ok(0)
        }
        QueueCommand::Diff { branch } => {
            let target = Target::open(&config.repo_path(home.root()), &config.main)?;
            if target.branch_exists(&branch) {
                let tip = target.branch_tip(&branch)?;
                match target.merge_effect(tip, target.main_commit()?)? {
                    Effect::Changes { tree } => {
                        print!("{}", safe_text(&target.patch_from_main(&branch, tree)?))
                    }
                    Effect::Contained | Effect::Nothing => eprintln!(
                        "{branch} would bring nothing to {} now: its change is already there (`brl queue list` marks it superseded)",
                        config.main
                    ),
                    Effect::Conflict { files } => {
                        eprintln!(
                            "{branch} conflicts with {} now in {}; showing its own change (from where it left {}) instead",
                            config.main,
                            files.join(", "),
                            config.main
                        );
                        print!("{}", safe_text(&target.diff_patch(&branch)?));
                    }
                }
                return Ok(0);
            }
            // A discarded (or never judged) cycle: what it tried, kept under refs/brl/.
            match kept_ref(home, &target, &branch) {
                Some(refname) => {
                    eprintln!(
                        "{branch} is not in the queue; showing what it tried, kept as {refname}"
                    );
                    print!("{}", safe_text(&target.ref_patch(&refname)?));
                    Ok(0)
                }
                None => anyhow::bail!(
                    "no branch {branch} in {}, and no discarded cycle of that name or id is kept (they are pruned after [checks] keep_discarded_days); `brl queue list` shows the queue, `brl log --type ralph_cycle` the cycles",
                    target.path().display()
                ),
            }
        }
        QueueCommand::Approve {
            branches,
            force,
            verdict,
        } => {
            if let [branch] = branches.as_slice() {
                let approval = decision::approve_with(home, &config, branch, "cli", force)?;
                let text = approval.describe(branch, &config.main);
                return Ok(if approval.succeeded() {
                    println!("{}", safe_text(&text));
                    0
                } else {
                    eprintln!("{}", safe_text(&text));
                    1
                });
            }
            let branches = match verdict {
                Some(v) => {
                    let b = train::by_verdict(home, &v)?;
                    if b.is_empty() {
                        println!("no open entry has the review verdict `{v}`; nothing to merge");
                        return Ok(0);
                    }
                    b
                }
                None => branches,
            };
            let report = train::run(home, &config, &branches, "cli", force)?;
            for l in report.lines() {
                println!("{}", safe_line(&l));
            }
            if report.complete() {
                println!("merge train: all {} merged", branches.len());
                Ok(0)
            } else {
                eprintln!(
                    "merge train stopped: the branches after the one that stopped were not merged \
                     (a train stops rather than skips: later branches were ordered after it and may \
                     build on it); fix or reject it, then run the train again with the rest"
                );
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

/// The queue, one line per entry; twins (same `group`) as one line + their members.
pub fn list_text(entries: &[QueueEntry]) -> String {
    let mut out = String::new();
    let mut shown = std::collections::BTreeSet::new();
    for e in entries {
        if !shown.insert(e.branch.as_str()) {
            continue;
        }
        let Some(g) = e.group.as_deref() else {
            out.push_str(&line(e, ""));
            continue;
        };
        let members: Vec<&QueueEntry> = entries
            .iter()
            .filter(|m| m.group.as_deref() == Some(g))
            .collect();
        out.push_str(&format!(
            "group     {g}: {} open entries make the same change (\"{}\"); approving one supersedes its twins\n",
            members.len(),
            e.subject
        ));
        for m in members {
            shown.insert(m.branch.as_str());
            out.push_str(&line(m, "  "));
        }
    }
    out
}

fn line(e: &QueueEntry, indent: &str) -> String {
    let note = e
        .twin_of
        .as_deref()
        .map(|t| format!(" [near-twin of approved {t}]"))
        .unwrap_or_default();
    format!(
        "{indent}{:<10} {:<28} {:<4} {}  {} → {}  {}{note}\n",
        e.status.as_str(),
        e.branch,
        e.session,
        e.created.format("%Y-%m-%d %H:%M"),
        counts(&e.before),
        counts(&e.after),
        e.decision_reason.as_deref().unwrap_or(&e.reason)
    )
}
