//! What a setup run left and said: the worktree as git sees it before and after (files git would
//! take as the agent's work), how the run ended, and the tail of its output.

use std::collections::BTreeSet;
use std::path::Path;

use super::{NAMED_FILES, SetupError, TAIL_BYTES};
use crate::proc;

/// What git sees in the worktree: untracked paths it does not ignore, and changed tracked paths.
#[derive(Debug, Default)]
pub(super) struct Seen {
    untracked: BTreeSet<String>,
    changed: BTreeSet<String>,
}

pub(super) fn status(worktree: &Path) -> Result<Seen, SetupError> {
    let what = |e: git2::Error| {
        SetupError::Git(format!(
            "cannot read the status of {}: {}",
            worktree.display(),
            e.message()
        ))
    };
    let repo = git2::Repository::open(worktree).map_err(what)?;
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(false)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo.statuses(Some(&mut opts)).map_err(what)?;
    let mut seen = Seen::default();
    for s in statuses.iter() {
        let path = String::from_utf8_lossy(s.path_bytes()).into_owned();
        if s.status().contains(git2::Status::WT_NEW) {
            seen.untracked.insert(path);
        } else if !s.status().is_empty() && !s.status().contains(git2::Status::IGNORED) {
            seen.changed.insert(path);
        }
    }
    Ok(seen)
}

/// An error when the setup left what git would take as the agent's work.
pub(super) fn check_left(
    command: &str,
    worktree: &Path,
    before: &Seen,
    after: &Seen,
) -> Result<(), SetupError> {
    let new: Vec<&String> = after.untracked.difference(&before.untracked).collect();
    if !new.is_empty() {
        return Err(SetupError::NotIgnored {
            command: command.to_string(),
            worktree: worktree.to_path_buf(),
            files: name_some(&new),
        });
    }
    let changed: Vec<&String> = after.changed.difference(&before.changed).collect();
    if !changed.is_empty() {
        return Err(SetupError::ChangedTracked {
            command: command.to_string(),
            worktree: worktree.to_path_buf(),
            files: name_some(&changed),
        });
    }
    Ok(())
}

fn name_some(files: &[&String]) -> String {
    let mut s = files
        .iter()
        .take(NAMED_FILES)
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > NAMED_FILES {
        s.push_str(&format!(" and {} more", files.len() - NAMED_FILES));
    }
    s
}

pub(super) fn describe_end(end: proc::End, timeout: u64) -> String {
    match end {
        proc::End::Exited(c) => format!("exit {c}"),
        proc::End::Signaled(s) => format!("killed by signal {s}"),
        proc::End::TimedOut => format!("ran past [worktree] setup_timeout_secs = {timeout}"),
        proc::End::Cancelled => "stopped by a signal".into(),
    }
}

/// The last `TAIL_BYTES` of `output`, from a line start when there is one.
pub(super) fn tail(output: &str) -> String {
    let trimmed = output.trim_end();
    if trimmed.len() <= TAIL_BYTES {
        return trimmed.to_string();
    }
    let mut start = trimmed.len() - TAIL_BYTES;
    while !trimmed.is_char_boundary(start) {
        start += 1;
    }
    let cut = &trimmed[start..];
    match cut.find('\n') {
        Some(i) if i + 1 < cut.len() => cut[i + 1..].to_string(),
        _ => cut.to_string(),
    }
}
