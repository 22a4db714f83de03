//! The review queue from the chat: `/queue`, `/diff <n>`, and `/approve`/`/reject` with their
//! `yes` — the decisions through `decision::approve_with` / `decision::reject`, journaled, logged
//! `by: "telegram:<user>"`.

use chrono::Utc;

use super::answer::{Answer, Block};
use super::confirm::{self, Pending};
use super::diffsum::summarize;
use super::numbers::Numbers;
use super::run::{Policy, Source};
use crate::config::Config;
use crate::decision;
use crate::git::{Effect, Target};
use crate::home::Home;
use crate::outcome::Counts;
use crate::store::queue::{Queue, QueueEntry};

/// Branches per `/queue` page.
const PER_PAGE: usize = 8;
/// Files `/diff` lists.
const DIFF_FILES: usize = 15;

/// The open entries (waiting for a decision), in queue order, with their numbers.
pub fn open_numbered(home: &Home) -> anyhow::Result<Vec<(u64, QueueEntry)>> {
    let open: Vec<QueueEntry> = Queue::new(&home.queue_path())
        .load()?
        .into_iter()
        .filter(|e| e.status.is_open())
        .collect();
    let names: Vec<&str> = open.iter().map(|e| e.branch.as_str()).collect();
    let numbers = Numbers::new(home).assign(&names)?;
    Ok(numbers.into_iter().zip(open).collect())
}

/// `e3→2 f0→0 p5→5`.
fn figures(before: &Counts, after: &Counts) -> String {
    let s = |n: Option<u64>| n.map_or_else(|| "?".to_string(), |n| n.to_string());
    format!(
        "e{}→{} f{}→{} p{}→{}",
        s(before.errors),
        s(after.errors),
        s(before.failures),
        s(after.failures),
        s(before.passed),
        s(after.passed)
    )
}

pub(super) fn queue(home: &Home, config: &Config, page: usize) -> Answer {
    // As `brl queue list`: main may have moved; close what would merge to nothing first.
    let mut notes = Vec::new();
    if let Err(e) = decision::sweep(home, config) {
        notes.push(format!(
            "(checking the queue against {} failed: {e:#})",
            config.main
        ));
    }
    let open = match open_numbered(home) {
        Ok(o) => o,
        Err(e) => return Answer::line("error", format!("cannot read the review queue: {e:#}")),
    };
    if open.is_empty() {
        return Answer::line(
            "ok",
            "nothing waits for a decision: the review queue has no open branch",
        );
    }
    let pages = open.len().div_ceil(PER_PAGE);
    if page > pages {
        return Answer::line(
            "refused",
            format!(
                "there is no page {page}: {} open branch(es) make {pages} page(s)",
                open.len()
            ),
        );
    }
    let title = if pages > 1 {
        format!(
            "{} waiting for a decision (page {page}/{pages})",
            open.len()
        )
    } else {
        format!("{} waiting for a decision", open.len())
    };
    let mut a = Answer::new("ok").with(Block::Title(title));
    // Twins (the same change made by several sessions) point at their group's first number:
    // approving one supersedes the others.
    let mut first_of_group: std::collections::BTreeMap<&str, u64> = Default::default();
    for (n, e) in &open {
        if let Some(g) = e.group.as_deref() {
            first_of_group.entry(g).or_insert(*n);
        }
    }
    for (n, e) in open.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE) {
        let verdict = e
            .review
            .as_ref()
            .map(|r| format!(" · review: {}", r.verdict))
            .unwrap_or_default();
        let twin = e
            .group
            .as_deref()
            .and_then(|g| first_of_group.get(g))
            .filter(|first| *first != n)
            .map(|first| format!(" · twin of b{first}"))
            .unwrap_or_default();
        a.push(Block::Line(format!(
            "b{n} {} {} · {}{verdict}{twin}",
            e.status.as_str(),
            e.session,
            figures(&e.before, &e.after)
        )));
        a.push(Block::Code(format!("  {}", e.branch)));
        if !e.subject.is_empty() {
            a.push(Block::Line(format!("  \"{}\"", cut(&e.subject, 80))));
        }
    }
    if page < pages {
        a.push(Block::Line(format!("/queue {} for more", page + 1)));
    }
    a.push(Block::Line(
        "/diff <n> · /approve <n> · /reject <n> [reason]".into(),
    ));
    for n in notes {
        a.push(Block::Line(n));
    }
    a
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

/// The open entry numbered `n`, or the answer saying why there is none.
fn entry(home: &Home, n: u64) -> Result<QueueEntry, Answer> {
    let branch = match Numbers::new(home).branch(n) {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Err(Answer::line(
                "refused",
                format!("there is no branch b{n}; /queue lists the open ones with their numbers"),
            ));
        }
        Err(e) => return Err(Answer::line("error", format!("{e}"))),
    };
    match Queue::new(&home.queue_path()).find(&branch) {
        Ok(Some(e)) if e.status.is_open() => Ok(e),
        Ok(Some(e)) => Err(Answer::line(
            "refused",
            format!(
                "b{n} ({branch}) is {} already: nothing to decide",
                e.status.as_str()
            ),
        )),
        Ok(None) => Err(Answer::line(
            "refused",
            format!("b{n} ({branch}) is no longer in the review queue; /queue lists the open ones"),
        )),
        Err(e) => Err(Answer::line(
            "error",
            format!("cannot read the review queue: {e}"),
        )),
    }
}

/// `/diff n`: what approving would bring to main now (as `brl queue diff`), as files and counts.
pub(super) fn diff(home: &Home, config: &Config, n: u64) -> Answer {
    let e = match entry(home, n) {
        Ok(e) => e,
        Err(a) => return a,
    };
    let branch = &e.branch;
    let patch = || -> anyhow::Result<Result<String, String>> {
        let target = Target::open(&config.repo_path(home.root()), &config.main)?;
        let tip = target.branch_tip(branch)?;
        Ok(match target.merge_effect(tip, target.main_commit()?)? {
            Effect::Changes { tree } => Ok(target.patch_from_main(branch, tree)?),
            Effect::Contained | Effect::Nothing => Err(format!(
                "b{n} would bring nothing to {} now: its change is already there",
                config.main
            )),
            Effect::Conflict { files } => Err(format!(
                "b{n} conflicts with {} now in {}; approving it would not merge",
                config.main,
                files.join(", ")
            )),
        })
    };
    let patch = match patch() {
        Ok(Ok(p)) => p,
        Ok(Err(why)) => return Answer::line("ok", why).with(Block::Code(branch.clone())),
        Err(e) => return Answer::line("error", format!("cannot diff b{n} ({branch}): {e:#}")),
    };
    let files = summarize(&patch);
    let (add, del) = files.iter().fold((0, 0), |(a, d), f| (a + f.1, d + f.2));
    let mut a = Answer::new("ok")
        .with(Block::Title(format!(
            "b{n}: {} file(s), +{add} −{del} onto {}",
            files.len(),
            config.main
        )))
        .with(Block::Code(branch.clone()));
    for (path, plus, minus) in files.iter().take(DIFF_FILES) {
        a.push(Block::Code(format!("+{plus} −{minus} {path}")));
    }
    if files.len() > DIFF_FILES {
        a.push(Block::Line(format!(
            "… and {} more file(s)",
            files.len() - DIFF_FILES
        )));
    }
    a.push(Block::Line(format!(
        "{} · the whole diff: `brl queue diff {branch}`",
        figures(&e.before, &e.after)
    )));
    a
}

fn refuse_decisions() -> Answer {
    Answer::line(
        "refused",
        "decisions from the chat are off ([notify.telegram] allow_decisions = false in brl.toml); decide with `brl queue approve` on the machine, or the dashboard",
    )
}

/// `/approve n` or `/reject n [reason]` (`reason` is `Some` for a reject): store the pending
/// decision and ask for a `yes`.
pub(super) fn ask(
    home: &Home,
    _config: &Config,
    source: &Source,
    policy: Policy,
    n: u64,
    reject: Option<Option<String>>,
) -> Answer {
    if !policy.allow_decisions {
        return refuse_decisions();
    }
    let e = match entry(home, n) {
        Ok(e) => e,
        Err(a) => return a,
    };
    let op = if reject.is_some() {
        "reject"
    } else {
        "approve"
    };
    let pending = Pending {
        who: source.asker.clone(),
        op: op.into(),
        number: n,
        branch: e.branch.clone(),
        reason: reject.flatten(),
        expires: Utc::now() + chrono::Duration::from_std(super::CONFIRM_FOR).unwrap_or_default(),
    };
    if let Err(e) = confirm::ask(home, pending) {
        return Answer::line("error", format!("nothing was asked: {e}"));
    }
    let mins = super::CONFIRM_FOR.as_secs() / 60;
    let warn = match e.status.as_str() {
        "pending" => String::new(),
        s => format!(" — it is `{s}`: an approve will be refused, see `brl queue list`"),
    };
    Answer::new("asked")
        .with(Block::Line(format!(
            "reply yes to {op} b{n} ({} \"{}\", {}) within {mins} minutes{warn}",
            e.session,
            cut(&e.subject, 60),
            figures(&e.before, &e.after)
        )))
        .with(Block::Code(e.branch))
}

/// `yes`: run what this asker has pending.
pub(super) fn confirmed(home: &Home, config: &Config, source: &Source, policy: Policy) -> Answer {
    let p = match confirm::take(home, &source.asker, Utc::now()) {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Answer::line(
                "refused",
                format!(
                    "nothing waits for your yes (a confirmation lasts {} minutes): send /approve <n> or /reject <n> first",
                    super::CONFIRM_FOR.as_secs() / 60
                ),
            );
        }
        Err(e) => return Answer::line("error", format!("nothing was decided: {e}")),
    };
    if !policy.allow_decisions {
        return refuse_decisions();
    }
    let (n, branch, by) = (p.number, p.branch.as_str(), source.by());
    if p.op == "reject" {
        return match decision::reject(home, config, branch, p.reason.as_deref(), &by) {
            Ok(()) => Answer::line("ok", format!("rejected b{n}: branch {branch} deleted")),
            Err(e) => Answer::line("error", format!("b{n} was not rejected: {e:#}")),
        };
    }
    match decision::approve_with(home, config, branch, &by, false) {
        Ok(a) if a.succeeded() => {
            Answer::line("ok", format!("b{n}: {}", a.describe(branch, &config.main)))
        }
        Ok(a) => Answer::line(
            "refused",
            format!("b{n}: {}", a.describe(branch, &config.main)),
        ),
        Err(e) => Answer::line("error", format!("b{n} was not approved: {e:#}")),
    }
}

/// `no`: drop what this asker has pending.
pub(super) fn cancel(home: &Home, source: &Source) -> Answer {
    match confirm::take(home, &source.asker, Utc::now()) {
        Ok(Some(p)) => Answer::line("ok", format!("cancelled: b{} is not {}d", p.number, p.op)),
        Ok(None) => Answer::line("ok", "nothing was waiting for a yes"),
        Err(e) => Answer::line("error", format!("{e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::queue::Status;

    fn entry(i: usize, status: Status) -> QueueEntry {
        QueueEntry {
            branch: format!("brl/s1/{i:02}"),
            session: "s1".into(),
            status,
            created: Utc::now(),
            before: Counts::default(),
            after: Counts::default(),
            reason: "kept".into(),
            base: "0".repeat(40),
            head: "1".repeat(40),
            commits: 1,
            subject: format!("change {i}"),
            decided: None,
            decision_reason: None,
            merged_as: None,
            conflict_files: vec![],
            cycle_id: None,
            review: None,
            group: None,
            twin_of: None,
            superseded_by: None,
            fix: None,
        }
    }

    /// Ten open entries (and a decided one, not listed nor numbered) make two pages; numbers
    /// follow the queue's order and stay.
    #[test]
    fn the_queue_is_numbered_and_paged() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        let config = Config::parse(
            &d.path().join("brl.toml"),
            "repo = \"repo\"\n[agent]\ncommand = \"true\"\n",
        )
        .expect("config");
        let q = Queue::new(&home.queue_path());
        q.add(entry(0, Status::Approved)).expect("add");
        for i in 1..=10 {
            q.add(entry(i, Status::Pending)).expect("add");
        }
        let one = queue(&home, &config, 1).plain();
        assert!(
            one.starts_with("10 waiting for a decision (page 1/2)\nb1 pending s1 · e?→? f?→? p?→?\n  brl/s1/01\n  \"change 1\""),
            "{one}"
        );
        assert!(one.contains("b8 pending") && !one.contains("b9 "), "{one}");
        assert!(one.contains("/queue 2 for more"), "{one}");
        let two = queue(&home, &config, 2).plain();
        assert!(
            two.contains("b9 pending") && two.contains("b10 pending"),
            "{two}"
        );
        assert!(!two.contains("for more"), "{two}");
        let three = queue(&home, &config, 3);
        assert_eq!(three.result, "refused");
        assert_eq!(
            Numbers::new(&home).branch(10).expect("numbers").as_deref(),
            Some("brl/s1/10")
        );
    }

    /// Twins point at the first number of their group, so one approve is seen to settle them.
    #[test]
    fn twins_name_their_groups_first_number() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        let config = Config::parse(
            &d.path().join("brl.toml"),
            "repo = \"repo\"\n[agent]\ncommand = \"true\"\n",
        )
        .expect("config");
        let q = Queue::new(&home.queue_path());
        for i in 1..=3 {
            let mut e = entry(i, Status::Pending);
            e.group = (i != 2).then(|| "g1".to_string());
            q.add(e).expect("add");
        }
        let text = queue(&home, &config, 1).plain();
        let line = |n: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("{n} ")))
                .unwrap_or_default()
                .to_string()
        };
        assert!(!line("b1").contains("twin"), "{text}");
        assert!(!line("b2").contains("twin"), "{text}");
        assert!(line("b3").ends_with(" · twin of b1"), "{text}");
    }
}
