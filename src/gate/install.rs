//! Installing the gate where the session's agent loads hooks: Claude Code reads a `PreToolUse`
//! hook from the worktree's `.claude/settings.json`, Gemini CLI a `BeforeTool` hook from
//! `.gemini/settings.json` (each merged in: every existing key and hook kept, ours added once),
//! Codex takes it on its command line (the preset's command carries it: nothing to install),
//! opencode and aider have no hooks (no gate); a custom command gets Claude Code's file in case
//! it wraps Claude Code. The matcher is `*`: every tool call reaches the
//! gate, so a tool it does not know is blocked rather than never seen.
//!
//! Keeping the settings file out of the agent's commits, per worktree (a linked worktree has its
//! own index but shares `info/exclude` with the repository, so that file would hide the path in
//! the operator's own checkout too):
//! - the repository tracks the settings file: its index entry in this worktree gets the
//!   skip-worktree bit, so `git add -A`, `git commit -a` and brl's own commit leave it alone
//!   (ignore files never apply to tracked paths);
//! - already ignored (by the repository's `.gitignore`, say): nothing to do;
//! - else: a `.gitignore` beside it (`.claude/.gitignore`, `.gemini/.gitignore`) that ignores
//!   `settings.json` and itself (nested ignore files are per worktree); only when the repository
//!   tracks that `.gitignore` of its own does the pattern go to the shared `info/exclude`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::agents::{HookSupport, PresetKind};
use crate::home::Home;
use crate::store::atomic::write_atomic;

/// The tools the hook is called for: all of them (the gate passes the reading ones).
pub const MATCHER: &str = "*";
/// What marks a hook command as brl's gate (whatever the executable's path or the home).
const MARKER: &str = " gate --home ";
/// Claude Code's project settings and hook event.
const SETTINGS: &str = ".claude/settings.json";
const EVENT: &str = "PreToolUse";
/// `GIT_INDEX_ENTRY_SKIP_WORKTREE`, in an index entry's extended flags.
const SKIP_WORKTREE: u16 = 1 << 14;

/// What [`install`] did.
#[derive(Debug, PartialEq)]
pub struct Installed {
    pub settings: Change,
    pub kept_out: KeptOut,
}

impl Installed {
    /// Nothing written: the agent gets the gate another way, or has no hooks.
    fn nothing(settings: Change) -> Installed {
        Installed {
            settings,
            kept_out: KeptOut::NothingWritten,
        }
    }
}

#[derive(Debug, PartialEq)]
pub enum Change {
    Added,
    Updated,
    Unchanged,
    /// The agent takes the hook on its command line (Codex): the preset's command carries it.
    OnCommandLine,
    /// The agent has no hook mechanism (opencode, aider, a custom command): no safety gate.
    NoHooks,
}

/// How the settings file is kept out of the agent's commits.
#[derive(Debug, PartialEq)]
pub enum KeptOut {
    /// The repository tracks it: skip-worktree in this worktree's index.
    SkipWorktree,
    /// The repository already ignores it.
    AlreadyIgnored,
    /// A `.gitignore` beside it (`.claude/.gitignore`, …) ignoring it and itself.
    ClaudeGitignore,
    /// A line in the repository's shared `info/exclude`.
    InfoExclude,
    /// No settings file was written.
    NothingWritten,
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

/// Install the gate of `session` (run by this very executable) into `worktree`, the way the
/// home's agent (brl.toml's `[agent] preset`, else detected from `[agent] command`) loads hooks.
pub fn install_for_session(
    home: &Home,
    session: &str,
    worktree: &Path,
) -> anyhow::Result<Installed> {
    let kind = configured_agent(home)?;
    let exe = std::env::current_exe().context("cannot tell where the brl executable is")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    install_for(kind, worktree, &hook_command(&exe, home.root(), session))
}

/// Install the hook `command` for agent `kind` into `worktree`.
pub fn install_for(kind: PresetKind, worktree: &Path, command: &str) -> anyhow::Result<Installed> {
    match kind.hooks() {
        HookSupport::ProjectSettings { path, event } => {
            install_settings(worktree, path, event, command)
        }
        HookSupport::CommandLine { .. } => Ok(Installed::nothing(Change::OnCommandLine)),
        // A custom command is often a wrapper around Claude Code: its project hook costs nothing
        // when it is not, and guards it when it is (brl still says "no safety gate", since it
        // cannot know).
        HookSupport::None { .. } if kind == PresetKind::Custom => install(worktree, command),
        HookSupport::None { .. } => Ok(Installed::nothing(Change::NoHooks)),
    }
}

/// The agent the home's brl.toml configures, read defensively (only `[agent] preset` and
/// `[agent] command`); Claude Code when the file says neither.
pub fn configured_agent(home: &Home) -> anyhow::Result<PresetKind> {
    let path = home.config_path();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PresetKind::Claude),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is invalid: {}", path.display(), e.to_string().trim()))?;
    let agent = table.get("agent").and_then(toml::Value::as_table);
    let field = |k: &str| agent.and_then(|a| a.get(k)).and_then(toml::Value::as_str);
    match (field("preset"), field("command")) {
        (Some(name), _) => PresetKind::parse(name)
            .map_err(|e| anyhow::anyhow!("{}: [agent] preset: {e}", path.display())),
        (None, Some(command)) => Ok(PresetKind::detect(command)),
        (None, None) => Ok(PresetKind::Claude),
    }
}

/// Merge the hook `command` into `worktree`'s `.claude/settings.json` and keep that file out of
/// commits (Claude Code's way; [`install_settings`] for any agent's).
pub fn install(worktree: &Path, command: &str) -> anyhow::Result<Installed> {
    install_settings(worktree, SETTINGS, EVENT, command)
}

/// Merge the hook `command` for `event` into the settings file `rel` of `worktree` and keep that
/// file out of commits. A settings file that is not valid JSON (or not shaped like agent
/// settings) is left untouched and reported.
pub fn install_settings(
    worktree: &Path,
    rel: &str,
    event: &str,
    command: &str,
) -> anyhow::Result<Installed> {
    let path = worktree.join(rel);
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
    let merged = merge_event(existing.as_deref(), event, command).map_err(|why| {
        anyhow::anyhow!(
            "{} is left untouched: {why} (fix: make it valid settings JSON in the repository; \
             the agent runs without brl's gate until then)",
            path.display()
        )
    })?;
    let kept_out = keep_out(worktree, rel)?;
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

/// Claude Code's settings text with our hook merged in; `None` when it is already there.
pub fn merge(existing: Option<&str>, command: &str) -> Result<Option<String>, String> {
    merge_event(existing, EVENT, command)
}

/// The settings text with our hook for `event` merged in; `None` when it is already there as
/// wanted.
pub fn merge_event(
    existing: Option<&str>,
    event: &str,
    command: &str,
) -> Result<Option<String>, String> {
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
        .entry(event)
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .ok_or_else(|| format!("`hooks.{event}` is not an array"))?;
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

/// Make sure `git add -A` (and brl's own commit) in `worktree` leaves the settings file `rel`
/// (`<dir>/settings.json`) alone.
fn keep_out(worktree: &Path, rel: &str) -> anyhow::Result<KeptOut> {
    let what = || {
        format!(
            "cannot keep {rel} out of the commits of {}",
            worktree.display()
        )
    };
    let settings = Path::new(rel);
    let dir = settings.parent().unwrap_or(Path::new(""));
    let name = settings
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let gitignore = dir.join(".gitignore");
    let repo = git2::Repository::open(worktree).with_context(what)?;
    let mut index = repo.index().with_context(what)?;
    if let Some(mut entry) = index.get_path(settings, 0) {
        if entry.flags_extended & SKIP_WORKTREE == 0 {
            entry.flags_extended |= SKIP_WORKTREE;
            index.add(&entry).with_context(what)?;
            index.write().with_context(what)?;
        }
        return Ok(KeptOut::SkipWorktree);
    }
    if repo.is_path_ignored(settings).with_context(what)? {
        return Ok(KeptOut::AlreadyIgnored);
    }
    let kept = if index.get_path(&gitignore, 0).is_some() {
        let exclude = repo.commondir().join("info").join("exclude");
        add_lines(&exclude, &[&format!("/{rel}")]).with_context(what)?;
        KeptOut::InfoExclude
    } else {
        add_lines(
            &worktree.join(&gitignore),
            &[
                "# Written by brl: its safety hook, kept out of commits.",
                &format!("/{name}"),
                "/.gitignore",
                "/.*.tmp-*",
            ],
        )
        .with_context(what)?;
        KeptOut::ClaudeGitignore
    };
    // A fresh handle: libgit2 caches ignore rules per repository handle.
    let repo = git2::Repository::open(worktree).with_context(what)?;
    if !repo.is_path_ignored(settings).with_context(what)? {
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
