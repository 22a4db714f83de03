//! One fake agent's cycle and what a person would say about it: the outcome, the counts after,
//! the words the reason must hold, and exactly which files the judged commit changes (so nothing
//! a check wrote — `__pycache__`, `node_modules/.vite`, `Cargo.lock` — ever reaches a branch).

use serde_json::Value;

use super::bench::Bench;

pub struct Case {
    /// The agent command (`Bench::agent("ts/fix_error.sh")`, `true`, …).
    pub agent: String,
    pub outcome: &'static str,
    /// errors, failures, passed after the change (`None`: no after-check ran).
    pub after: Option<[u64; 3]>,
    /// Each must be in the reason.
    pub reason_has: &'static [&'static str],
    /// The files the judged commit changes, sorted.
    pub files: &'static [&'static str],
}

impl Case {
    pub fn new(agent: String, outcome: &'static str) -> Case {
        Case {
            agent,
            outcome,
            after: None,
            reason_has: &[],
            files: &[],
        }
    }

    pub fn after(mut self, errors: u64, failures: u64, passed: u64) -> Case {
        self.after = Some([errors, failures, passed]);
        self
    }

    pub fn reason(mut self, has: &'static [&'static str]) -> Case {
        self.reason_has = has;
        self
    }

    pub fn files(mut self, files: &'static [&'static str]) -> Case {
        self.files = files;
        self
    }
}

/// What the checks found in the entry's `key` (`before`/`after`).
fn counts(e: &Value, key: &str) -> Option<[u64; 3]> {
    let c = &e["data"][key];
    Some([
        c["errors"].as_u64()?,
        c["failures"].as_u64()?,
        c["passed"].as_u64()?,
    ])
}

/// Run every case in order on `b` (one home, so the baseline of main's commit is measured once);
/// return what did not match, one line per finding, so one run shows every wrong case.
pub fn run_all(b: &Bench, baseline: [u64; 3], cases: &[Case]) -> Vec<String> {
    let mut wrong = Vec::new();
    for case in cases {
        let e = b.cycle(&case.agent);
        let d = &e["data"];
        let reason = d["reason"].as_str().unwrap_or_default().to_string();
        let who = format!("`{}` ({} — {reason})", case.agent, d["outcome"]);
        let mut bad = |what: String| wrong.push(format!("{who}: {what}"));
        if d["outcome"] != case.outcome {
            bad(format!("outcome should be {}", case.outcome));
        }
        if counts(&e, "before") != Some(baseline) {
            bad(format!(
                "baseline should be {baseline:?}, is {}",
                d["before"]
            ));
        }
        if counts(&e, "after") != case.after {
            bad(format!(
                "after should be {:?}, is {}",
                case.after, d["after"]
            ));
        }
        for w in case.reason_has {
            if !reason.contains(w) {
                bad(format!("the reason should say `{w}`"));
            }
        }
        let files = b.judged_files(&e);
        if files != case.files {
            bad(format!(
                "the judged commit should change exactly {:?}, changes {files:?}",
                case.files
            ));
        }
        wrong.extend(where_it_went(b, &e, &who));
    }
    wrong
}

/// A kept cycle's branch and a discarded one's `refs/brl/discarded/<cycle id>` hold the judged
/// commit; a cycle that changed nothing leaves neither.
fn where_it_went(b: &Bench, e: &Value, who: &str) -> Vec<String> {
    let d = &e["data"];
    let head = d["head"].as_str().unwrap_or_default();
    let branch = d["branch"].as_str().unwrap_or_default();
    let rev =
        |r: &str| crate::common::git(&b.w.repo, &["for-each-ref", "--format=%(objectname)", r]);
    let mut wrong = Vec::new();
    match d["outcome"].as_str() {
        Some("kept") => {
            if rev(&format!("refs/heads/{branch}")) != head {
                wrong.push(format!(
                    "{who}: kept, but {branch} is not at the judged {head}"
                ));
            }
        }
        Some("discarded") => {
            let id = d["cycle_id"].as_str().unwrap_or_default();
            let want = format!("refs/brl/discarded/{id}");
            if d["kept_as"] != want.as_str() || rev(&want) != head {
                wrong.push(format!(
                    "{who}: discarded, but {want} does not hold the judged {head} (kept_as {})",
                    d["kept_as"]
                ));
            }
            if !rev(&format!("refs/heads/{branch}")).is_empty() {
                wrong.push(format!("{who}: discarded, but {branch} still exists"));
            }
        }
        _ => {
            if !rev(&format!("refs/heads/{branch}")).is_empty() || !d["kept_as"].is_null() {
                wrong.push(format!(
                    "{who}: nothing to keep, but {branch} or a ref stays"
                ));
            }
        }
    }
    wrong
}
