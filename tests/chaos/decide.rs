//! Target 2: `brl queue approve <branch>` and `brl queue reject <branch>`, SIGKILLed at a random
//! instant or at an `approve:*` / `reject:*` crash point, while the user's repository has `main`
//! checked out and clean plus an untracked file of the user's. Then `brl queue list` runs, and a
//! decision left open is taken again (it must succeed: a killed approve must not block the branch).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::checks::{self, git, of_kind};
use crate::harness::{self, Stop, Trial};
use crate::{Ctx, Instant as At};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    pub fn verb(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }
}

/// The state before the decision, to judge what it left.
pub struct Before {
    pub branch: String,
    pub main: String,
    pub head: String,
}

pub fn trial(ctx: &mut Ctx, d: Decision, at: &At, round: usize) -> Trial {
    let mut t = Trial::default();
    let w = crate::cycle::world("chaos_commit.sh");
    let setup = ctx.tag("setup");
    let dead = ctx.tag("decide-killed");
    let next = ctx.tag("decide-next");

    let mut c = harness::brl(&w.home, &setup);
    c.args(["cycle", "s1", "--quiet"])
        .env("BRL_CHAOS_AGENT_SECS", "0");
    let ran = harness::run_limited(c, Duration::from_secs(90));
    let q = checks::queue(&w.home, &setup, &mut t).unwrap_or_default();
    let Some(branch) = q
        .iter()
        .find(|e| e["status"] == "pending")
        .and_then(|e| e["branch"].as_str())
        .map(String::from)
    else {
        t.violation(
            "harness",
            format!(
                "the set-up cycle left no pending branch: {}",
                ran.describe()
            ),
        );
        return t;
    };
    // Every other approve trial: the user committed on main meanwhile, so approve makes a merge
    // commit (the `approve:after-merge-commit` point needs it).
    let merge = d == Decision::Approve
        && match at {
            At::Point(p) => p.contains("merge") || round % 2 == 1,
            At::Random => round % 2 == 1,
        };
    if merge {
        let made = std::fs::write(w.repo.join("other.txt"), "the user's work on main\n")
            .map_err(|e| e.to_string())
            .and_then(|_| git(&w.repo, &["add", "other.txt"]))
            .and_then(|_| {
                git(
                    &w.repo,
                    &["commit", "-q", "-m", "the user's commit on main"],
                )
            });
        if let Err(e) = made {
            t.violation("harness", format!("cannot commit on main: {e}"));
            return t;
        }
        t.notes.push("main moved (merge commit)".into());
    }
    let before = match (
        git(&w.repo, &["rev-parse", "main"]),
        git(&w.repo, &["rev-parse", &branch]),
    ) {
        (Ok(main), Ok(head)) => Before {
            branch: branch.clone(),
            main,
            head,
        },
        (Err(e), _) | (_, Err(e)) => {
            t.violation("harness", e);
            return t;
        }
    };

    let mut c = harness::brl(&w.home, &dead);
    c.args(["queue", d.verb(), &branch])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if d == Decision::Reject {
        c.args(["--reason", "chaos trial"]);
    }
    if let At::Point(p) = at {
        c.env(brl::chaos::ENV, p);
    }
    let mut child = match c.spawn() {
        Ok(c) => c,
        Err(e) => {
            t.violation(
                "harness",
                format!("cannot start brl queue {}: {e}", d.verb()),
            );
            return t;
        }
    };
    match at {
        At::Point(p) => match harness::kill_at_point(&mut child, Duration::from_secs(30)) {
            Stop::Hit => t.killed = true,
            Stop::Exited => t.violation(
                "point_reached",
                format!(
                    "brl queue {} ran to its end without stopping at {p}",
                    d.verb()
                ),
            ),
            Stop::TimedOut => t.violation(
                "point_reached",
                format!(
                    "brl queue {} neither stopped at {p} nor ended within 30 s",
                    d.verb()
                ),
            ),
        },
        At::Random => {
            let after = Duration::from_secs_f64(ctx.rng.unit() * ctx.decide_secs * 1.2);
            let start = std::time::Instant::now();
            t.killed = harness::kill_after(&mut child, after);
            if !t.killed {
                let took = start.elapsed().as_secs_f64();
                ctx.decide_secs = 0.7 * ctx.decide_secs + 0.3 * took;
            }
            t.notes
                .push(format!("kill at {:.3} s", after.as_secs_f64()));
        }
    }

    // The next brl command, then the promises.
    let Some(q) = checks::queue(&w.home, &next, &mut t) else {
        return finish(t, &w.home, &w.repo, &[&setup, &dead, &next]);
    };
    let entries = checks::log_entries(&w.home, &mut t);
    let open = decision_state(&w.repo, d, &before, &entries, &q, false, &mut t);
    if open {
        // Deciding again must work and close it.
        let retry = ctx.tag("decide-retry");
        let mut c = harness::brl(&w.home, &retry);
        c.args(["queue", d.verb(), &branch]);
        if d == Decision::Reject {
            c.args(["--reason", "chaos trial, again"]);
        }
        let ran = harness::run_limited(c, Duration::from_secs(60));
        if !ran.ok() {
            t.violation(
                "decision_retry_works",
                format!(
                    "brl queue {} {branch} after the kill: {}",
                    d.verb(),
                    ran.describe()
                ),
            );
        }
        if let Some(q) = checks::queue(&w.home, &retry, &mut t) {
            let entries = checks::log_entries(&w.home, &mut Trial::default());
            decision_state(&w.repo, d, &before, &entries, &q, ran.ok(), &mut t);
        }
        harness::kill_tagged(&retry);
    }
    finish(t, &w.home, &w.repo, &[&setup, &dead, &next])
}

fn finish(mut t: Trial, home: &Path, repo: &Path, tags: &[&str]) -> Trial {
    let entries = checks::log_entries(home, &mut t);
    let runs = harness::agent_runs(home);
    checks::cycles_once(&entries, &checks::started_by_agents(&runs), &mut t);
    if let Some(q) = checks::queue(home, tags[tags.len() - 1], &mut t) {
        checks::queue_matches_branches(repo, &entries, &q, &BTreeSet::new(), &mut t);
    }
    checks::user_repo(repo, "main", &mut t);
    checks::no_processes(home, tags, "brl queue and its set-up cycle", &mut t);
    for tag in tags {
        harness::kill_tagged(tag);
    }
    t
}

/// Main, the queue entry, the branch and the log agree: either nothing was decided, or the
/// decision is complete and logged once. Returns whether the entry is still open (undecided).
/// `must_be_decided`: after a successful retry, an open entry is itself a violation.
pub fn decision_state(
    repo: &Path,
    d: Decision,
    b: &Before,
    entries: &[Value],
    queue: &[Value],
    must_be_decided: bool,
    t: &mut Trial,
) -> bool {
    let main_now = match git(repo, &["rev-parse", "main"]) {
        Ok(m) => m,
        Err(e) => {
            t.violation("decision_agrees", e);
            return false;
        }
    };
    let exists = git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{}", b.branch),
        ],
    )
    .is_ok();
    let entry = queue.iter().find(|q| q["branch"] == b.branch.as_str());
    let status = entry
        .and_then(|e| e["status"].as_str())
        .unwrap_or("missing");
    // Entries that decided something (a refused attempt, e.g. a retry on a dirty main, is logged
    // too, and is not a decision).
    let decisions: Vec<&Value> = of_kind(entries, "review_decision")
        .into_iter()
        .filter(|e| e["data"]["branch"] == b.branch.as_str())
        .filter(|e| !matches!(e["data"]["result"].as_str(), Some("refused" | "conflict")))
        .collect();
    let mut bad = |check: &'static str, what: String| {
        t.violation(check, format!("{} {}: {what}", d.verb(), b.branch));
    };
    let merged = main_now != b.main;
    if d == Decision::Reject && merged {
        bad(
            "decision_agrees",
            format!("main moved to {main_now} on a reject"),
        );
    }
    let decided = match d {
        Decision::Approve => merged,
        Decision::Reject => !exists || status == "rejected",
    };
    if !decided {
        if status != "pending" {
            bad(
                "decision_agrees",
                format!("nothing was done, but the queue says {status}"),
            );
        }
        if !decisions.is_empty() {
            bad(
                "decided_once",
                format!(
                    "nothing was done, but {} review_decision entr(ies) were logged",
                    decisions.len()
                ),
            );
        }
        if !exists {
            bad(
                "decision_agrees",
                "the branch is gone but main did not move".into(),
            );
        }
        if must_be_decided {
            bad(
                "decision_retry_works",
                format!("still {status} after the retry succeeded"),
            );
        }
        return status == "pending" && exists;
    }
    if d == Decision::Approve {
        let parents = git(repo, &["log", "-1", "--format=%P", &main_now]).unwrap_or_default();
        let ff = main_now == b.head;
        let merge_commit = parents == format!("{} {}", b.main, b.head);
        if !ff && !merge_commit {
            bad(
                "decision_agrees",
                format!(
                    "main is {main_now} (parents {parents}), neither the branch nor a merge of it"
                ),
            );
        }
        let merged_as = entry.and_then(|e| e["merged_as"].as_str()).unwrap_or("");
        if status != "approved" || merged_as != main_now {
            bad(
                "decision_agrees",
                format!("main moved, but the queue says {status} (merged_as {merged_as:?})"),
            );
        }
    } else if status != "rejected" {
        bad(
            "decision_agrees",
            format!("the branch is gone, but the queue says {status}"),
        );
    }
    if exists {
        bad(
            "decision_agrees",
            "decided, but the branch still exists".into(),
        );
    }
    let same: Vec<&&Value> = decisions
        .iter()
        .filter(|e| e["data"]["decision"] == d.verb())
        .collect();
    if same.len() != 1 || decisions.len() != 1 {
        bad(
            "decided_once",
            format!(
                "decided, and {} review_decision entr(ies) say so",
                decisions.len()
            ),
        );
    }
    false
}
