//! Installing the gate into a session's worktree: our `PreToolUse` hook merged into
//! `.claude/settings.json` (every existing key and hook kept, ours added once), and the file
//! kept out of the agent's commits.
//!
//! Keeping it out of commits, per worktree (a linked worktree has its own index but shares
//! `info/exclude` with the repository, so that file would hide the path in the operator's own
//! checkout too):
//! - the repository tracks `.claude/settings.json`: its index entry in this worktree gets the
//!   skip-worktree bit, so `git add -A`, `git commit -a` and brl's own commit leave it alone
//!   (ignore files never apply to tracked paths);
//! - already ignored (by the repository's `.gitignore`, say): nothing to do;
//! - else: a `.claude/.gitignore` that ignores `settings.json` and itself (nested ignore files
//!   are per worktree); only when the repository tracks a `.claude/.gitignore` of its own does
//!   the pattern go to the shared `info/exclude` instead.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::home::Home;
use crate::store::atomic::write_atomic;

/// The tools the hook is called for (others never start the process).
pub const MATCHER: &str = "Bash|Write|Edit|MultiEdit|NotebookEdit|AskUserQuestion";
/// What marks a hook command as brl's gate (whatever the executable's path or the home).
const MARKER: &str = " gate --home ";
const SETTINGS: &str = ".claude/settings.json";
const CLAUDE_GITIGNORE: &str = ".claude/.gitignore";
/// `GIT_INDEX_ENTRY_SKIP_WORKTREE`, in an index entry's extended flags.
const SKIP_WORKTREE: u16 = 1 << 14;

/// What [`install`] did.
#[derive(Debug, PartialEq)]
pub struct Installed {
    pub settings: Change,
    pub kept_out: KeptOut,
}

#[derive(Debug, PartialEq)]
pub enum Change {
    Added,
    Updated,
    Unchanged,
}

/// How `.claude/settings.json` is kept out of the agent's commits.
#[derive(Debug, PartialEq)]
pub enum KeptOut {
    /// The repository tracks it: skip-worktree in this worktree's index.
    SkipWorktree,
    /// The repository already ignores it.
    AlreadyIgnored,
    /// A `.claude/.gitignore` ignoring it and itself.
    ClaudeGitignore,
    /// A line in the repository's shared `info/exclude`.
    InfoExclude,
}

/// The hook command: `'<brl>' gate --home '<home>' --session '<session>'`.
pub fn hook_command(exe: &Path, home: &Path, session: &str) -> String {
    format!(
        "{}{MARKER}{} --session {}",
        sh_quote(&exe.to_string_lossy()),
        sh_quote(&home.to_string_lossy()),
        sh_quote(session)
    )
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Install the gate of `session` (run by this very executable) into `worktree`.
pub fn install_for_session(
    home: &Home,
    session: &str,
    worktree: &Path,
) -> anyhow::Result<Installed> {
    let exe = std::env::current_exe().context("cannot tell where the brl executable is")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    install(worktree, &hook_command(&exe, home.root(), session))
}

/// Merge the hook `command` into `worktree`'s `.claude/settings.json` and keep that file out of
/// commits. A settings file that is not valid JSON (or not shaped like Claude Code settings) is
/// left untouched and reported.
pub fn install(worktree: &Path, command: &str) -> anyhow::Result<Installed> {
    let path = worktree.join(SETTINGS);
    if path.is_symlink() {
        bail!(
            "{} is a symlink; brl does not write through it (fix: make it a regular file)",
            path.display()
        );
    }
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let merged = merge(existing.as_deref(), command).map_err(|why| {
        anyhow::anyhow!(
            "{} is left untouched: {why} (fix: make it valid Claude Code settings JSON in the \
             repository; the agent runs without brl's gate until then)",
            path.display()
        )
    })?;
    let kept_out = keep_out(worktree)?;
    let settings = match merged {
        None => Change::Unchanged,
        Some(text) => {
            write_atomic(&path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            if existing.is_some() {
                Change::Updated
            } else {
                Change::Added
            }
        }
    };
    Ok(Installed { settings, kept_out })
}

fn is_ours(group: &Value) -> bool {
    group["hooks"].as_array().is_some_and(|hs| {
        hs.iter()
            .any(|h| h["command"].as_str().is_some_and(|c| c.contains(MARKER)))
    })
}

/// The settings text with our hook merged in; `None` when it is already there as wanted.
pub fn merge(existing: Option<&str>, command: &str) -> Result<Option<String>, String> {
    let mut root: Value = match existing {
        Some(t) if !t.trim().is_empty() => {
            serde_json::from_str(t).map_err(|e| format!("it is not valid JSON ({e})"))?
        }
        _ => json!({}),
    };
    let obj = root
        .as_object_mut()
        .ok_or("its top level is not a JSON object")?;
    let hooks = obj
        .entry("hooks")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or("`hooks` is not an object")?;
    let pre = hooks
        .entry("PreToolUse")
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .ok_or("`hooks.PreToolUse` is not an array")?;
    let desired = json!({
        "matcher": MATCHER,
        "hooks": [{ "type": "command", "command": command }],
    });
    let ours: Vec<usize> = (0..pre.len()).filter(|&i| is_ours(&pre[i])).collect();
    match ours.first() {
        Some(&first) if ours.len() == 1 && pre[first] == desired => return Ok(None),
        Some(&first) => {
            pre[first] = desired;
            for &i in ours[1..].iter().rev() {
                pre.remove(i);
            }
        }
        None => pre.push(desired),
    }
    let mut text = serde_json::to_string_pretty(&root).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(Some(text))
}

/// Make sure `git add -A` (and brl's own commit) in `worktree` leaves the settings file alone.
fn keep_out(worktree: &Path) -> anyhow::Result<KeptOut> {
    let what = || {
        format!(
            "cannot keep {SETTINGS} out of the commits of {}",
            worktree.display()
        )
    };
    let repo = git2::Repository::open(worktree).with_context(what)?;
    let mut index = repo.index().with_context(what)?;
    let rel = Path::new(SETTINGS);
    if let Some(mut entry) = index.get_path(rel, 0) {
        if entry.flags_extended & SKIP_WORKTREE == 0 {
            entry.flags_extended |= SKIP_WORKTREE;
            index.add(&entry).with_context(what)?;
            index.write().with_context(what)?;
        }
        return Ok(KeptOut::SkipWorktree);
    }
    if repo.is_path_ignored(rel).with_context(what)? {
        return Ok(KeptOut::AlreadyIgnored);
    }
    let kept = if index.get_path(Path::new(CLAUDE_GITIGNORE), 0).is_some() {
        let exclude = repo.commondir().join("info").join("exclude");
        add_lines(&exclude, &["/.claude/settings.json"]).with_context(what)?;
        KeptOut::InfoExclude
    } else {
        let gi = worktree.join(CLAUDE_GITIGNORE);
        add_lines(
            &gi,
            &[
                "# Written by brl: its safety hook, kept out of commits.",
                "/settings.json",
                "/.gitignore",
                "/.*.tmp-*",
            ],
        )
        .with_context(what)?;
        KeptOut::ClaudeGitignore
    };
    // A fresh handle: libgit2 caches ignore rules per repository handle.
    let repo = git2::Repository::open(worktree).with_context(what)?;
    if !repo.is_path_ignored(rel).with_context(what)? {
        bail!(
            "{}: the ignore rule written for it does not take effect",
            what()
        );
    }
    Ok(kept)
}

/// Append each of `lines` that `path` lacks (creating it and its folder).
fn add_lines(path: &PathBuf, lines: &[&str]) -> std::io::Result<()> {
    let mut text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let missing: Vec<&&str> = lines
        .iter()
        .filter(|l| !text.lines().any(|t| t.trim() == **l))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for l in missing {
        text.push_str(l);
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}

#[cfg(test)]
#[path = "install_tests.rs"]
mod tests;
