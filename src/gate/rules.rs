//! The verdict: a pure function from the hook's input and a [`Context`] to allow or block.
//!
//! Precedence for each simple command of a Bash call (nested ones included): a `[gate] deny`
//! pattern blocks; else an `[gate] allow` pattern lets that simple command through the built-in
//! rules; else the built-in rules decide. An allow never lifts a user deny, and never covers the
//! commands nested inside the allowed one (`bash -c '…'`'s script is checked on its own).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use regex::Regex;

use super::HookInput;
use super::argv::{self, Argv};
use super::commands::{self, Cmd};
use super::paths::{self, Place};
use super::shell::{self, Simple};
use super::tools::{self, Kind};

/// Scripts nested deeper than this (`bash -c "sh -c '…'"`) are blocked unread.
const MAX_DEPTH: usize = 12;

/// What the verdict needs besides the hook's input. Built by `run` with a little IO (the
/// worktree canonicalized, `$HOME`, brl.toml's `main` and `[gate]`); pure from then on, except
/// `resolve`, which the real hook points at the file system.
#[derive(Clone)]
pub struct Context {
    /// The session's worktree (absolute, symlinks resolved); `None` when unknown: then nothing
    /// can be shown to be inside it.
    pub worktree: Option<PathBuf>,
    /// `$HOME`, for `~` and `$HOME` in commands.
    pub home_dir: Option<PathBuf>,
    /// The main branch (brl.toml's `main`).
    pub main: String,
    /// `[gate] deny` patterns.
    pub deny: Vec<Regex>,
    /// `[gate] allow` patterns.
    pub allow: Vec<Regex>,
    /// `[gate] allow_tools`: tool names the gate does not know that may run anyway.
    pub allow_tools: Vec<String>,
    /// Folders that are never scratch space, even under `/tmp`: the user's checkout (brl.toml's
    /// `repo`). Other sessions' worktrees (siblings of `worktree` in `worktrees/`) never are
    /// either.
    pub protected: Vec<PathBuf>,
    /// Resolves symlinks in an absolute, normalised path ([`paths::canonicalize_prefix`] for
    /// real; the identity in pure tests).
    pub resolve: fn(&Path) -> PathBuf,
}

impl Context {
    /// A context with no patterns, `main` as the main branch and no symlink resolution.
    pub fn new(worktree: Option<PathBuf>, home_dir: Option<PathBuf>, main: &str) -> Context {
        Context {
            worktree,
            home_dir,
            main: main.to_string(),
            deny: Vec::new(),
            allow: Vec::new(),
            allow_tools: Vec::new(),
            protected: Vec::new(),
            resolve: |p| p.to_path_buf(),
        }
    }

    /// The worktree `wt`, `$HOME` = /home/agent, main = "main".
    pub fn for_tests(wt: &str) -> Context {
        Context::new(
            Some(PathBuf::from(wt)),
            Some(PathBuf::from("/home/agent")),
            "main",
        )
    }
}

/// Allow the tool call, or block it.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Allow,
    Block(Block),
}

/// Why a tool call is blocked.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// A short name of the rule (`git-push-force`, `deny`, …), for the log.
    pub rule: String,
    /// What the agent is told: what is wrong and what to do instead.
    pub reason: String,
    /// The simple command or path that tripped it.
    pub subject: String,
}

impl Block {
    pub fn new(rule: &str, reason: impl Into<String>, subject: impl Into<String>) -> Block {
        Block {
            rule: rule.to_string(),
            reason: reason.into(),
            subject: subject.into(),
        }
    }
}

const ASK: &str = "nobody is there to answer: brl runs this session unattended. Decide \
yourself, pick the smallest safe option, write down the choice and why (in the commit message \
or a code comment), and go on.";

/// The verdict on one tool call, whichever agent (Claude Code, Codex, Gemini CLI) made it.
pub fn check(input: &HookInput, ctx: &Context) -> Verdict {
    let cwd = input
        .cwd
        .clone()
        .or_else(|| ctx.worktree.clone())
        // Symlinks in the cwd resolved first: the kernel takes `..` from the real folder.
        .map(|c| (ctx.resolve)(&paths::normalize(&c)));
    let tool = input.tool_name.as_str();
    let result = match tools::kind(tool) {
        Kind::Shell => match tools::shell_script(tool, &input.tool_input) {
            Ok(cmd) => {
                let cwd = match tools::workdir(&input.tool_input) {
                    Some(dir) => paths::locate(dir, cwd.as_deref(), ctx, false)
                        .ok()
                        .map(|(p, _)| p),
                    None => cwd,
                };
                bash(&cmd, cwd.clone(), ctx).and_then(|()| patch(&cmd, cwd, ctx, false))
            }
            Err(why) => Err(Block::new("bad-input", why, "")),
        },
        Kind::File => {
            let (path, key) = tools::file_target(tool, &input.tool_input);
            file(path, key, cwd, ctx)
        }
        Kind::Patch => match tools::patch_text(&input.tool_input) {
            Some(text) => patch(text, cwd, ctx, true),
            None => Err(Block::new(
                "bad-input",
                format!("the {tool} call has no patch text in `command`"),
                "",
            )),
        },
        Kind::Ask => Err(Block::new("ask-user", ASK, tool)),
        Kind::OwnWorktree => Err(Block::new(
            "own-worktree",
            "brl gave this session its own git worktree and reviews the work done there; do \
             not make or switch to another worktree: work in the current directory",
            tool,
        )),
        Kind::Pass => Ok(()),
        Kind::Unknown if ctx.allow_tools.iter().any(|t| t == tool) => Ok(()),
        Kind::Unknown => Err(Block::new(
            "unknown-tool",
            format!(
                "`{tool}` is a tool brl's gate does not know, so it cannot tell whether the \
                 call writes outside the worktree or runs commands; blocked to be safe. Use the \
                 shell or file tools instead. (A person who trusts it can let it through: \
                 `allow_tools = [\"{tool}\"]` under [gate] in brl.toml.)"
            ),
            tool,
        )),
    };
    match result {
        Ok(()) => Verdict::Allow,
        Err(b) => Verdict::Block(b),
    }
}

/// Every path a patch names must lie inside the worktree (and not be the hook's settings).
/// `required`: the text is an `apply_patch` call's own, so a patch naming no path at all is
/// malformed (blocked: what it would touch cannot be checked); in a shell script, a script
/// without a patch is just a script.
fn patch(text: &str, cwd: Option<PathBuf>, ctx: &Context, required: bool) -> Result<(), Block> {
    let found = tools::patch_paths(text);
    if found.is_empty() && required {
        return Err(Block::new(
            "bad-input",
            "the patch names no file (`*** Add File:`, `*** Update File:`, `*** Delete File:` \
             between `*** Begin Patch` and `*** End Patch`), so what it changes cannot be checked",
            text.chars().take(200).collect::<String>(),
        ));
    }
    for (_, path) in &found {
        file(Some(path), "patch path", cwd.clone(), ctx)?;
    }
    Ok(())
}

/// A file tool's target must lie inside the worktree, and not be the hook's own settings.
fn file(path: Option<&str>, key: &str, cwd: Option<PathBuf>, ctx: &Context) -> Result<(), Block> {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return Err(Block::new(
            "bad-input",
            format!("the call has no `{key}`"),
            "",
        ));
    };
    if let Ok((p, _)) = paths::locate(path, cwd.as_deref(), ctx, false)
        && let Some(hit) = commands::hook_settings(&p, ctx)
    {
        return Err(Block::new("hook-settings", hit, path));
    }
    match paths::place(path, cwd.as_deref(), ctx, false) {
        Place::Inside => Ok(()),
        Place::Outside(why) | Place::Unknown(why) => Err(Block::new(
            "write-outside-worktree",
            format!(
                "{why}: this session may only change files inside its worktree{}; work there \
                 (put scratch files in a git-ignored folder of the worktree)",
                ctx.worktree
                    .as_deref()
                    .map(|w| format!(" {}", w.display()))
                    .unwrap_or_default()
            ),
            path,
        )),
    }
}

/// Every simple command of a Bash script, nested ones included.
fn bash(cmd: &str, cwd: Option<PathBuf>, ctx: &Context) -> Result<(), Block> {
    Walk { ctx, cwd }.script(cmd, 0)
}

struct Walk<'a> {
    ctx: &'a Context,
    /// The directory the next command runs in, as far as `cd`s can be followed.
    cwd: Option<PathBuf>,
}

impl Walk<'_> {
    fn script(&mut self, src: &str, depth: usize) -> Result<(), Block> {
        if depth > MAX_DEPTH {
            return Err(Block::new(
                "too-nested",
                format!(
                    "scripts nested more than {MAX_DEPTH} levels deep are not run unread; flatten the command"
                ),
                src.chars().take(200).collect::<String>(),
            ));
        }
        let cmds = shell::parse(src).map_err(|why| {
            Block::new(
                "unparsable",
                format!(
                    "bash would not run this as written ({why}), so what it does cannot be \
                     checked; fix the quoting or split it into simpler commands"
                ),
                src.chars().take(200).collect::<String>(),
            )
        })?;
        // The directory in each subshell scope (a `cd` lasts to the end of its subshell).
        let mut cwds: HashMap<&[u32], Option<PathBuf>> = HashMap::new();
        let outer = self.cwd.clone();
        for i in 0..cmds.len() {
            let scope = cmds[i].scope.as_slice();
            self.cwd = (0..=scope.len())
                .rev()
                .find_map(|n| cwds.get(&scope[..n]).cloned())
                .unwrap_or_else(|| outer.clone());
            for sub in &cmds[i].subs {
                // A substitution runs in a subshell too.
                let saved = self.cwd.clone();
                self.script(sub, depth + 1)?;
                self.cwd = saved;
            }
            self.simple(&cmds, i, depth)?;
            cwds.insert(scope, self.cwd.clone());
        }
        self.cwd = cwds.remove(&[][..]).unwrap_or(outer);
        Ok(())
    }

    fn simple(&mut self, cmds: &[Simple], i: usize, depth: usize) -> Result<(), Block> {
        let c = &cmds[i];
        let argv = argv::effective(&c.words);
        let text = c.words.join(" ");
        let effective = argv.words.join(" ");
        let matches = |p: &Regex| p.is_match(&text) || p.is_match(&effective);
        if let Some(p) = self.ctx.deny.iter().find(|p| matches(p)) {
            return Err(Block::new(
                "deny",
                format!("it matches `{p}` of [gate] deny in brl.toml"),
                text,
            ));
        }
        if !self.ctx.allow.iter().any(matches) {
            // `env -C dir cmd`: the command runs there (and only it).
            let own_cwd = match argv::wrapper_chdir(&c.words, &argv) {
                Some(dir) => paths::locate(&dir, self.cwd.as_deref(), self.ctx, false)
                    .ok()
                    .map(|(p, _)| p),
                None => self.cwd.clone(),
            };
            let cmd = Cmd {
                simple: c,
                cmds,
                argv: &argv,
                cwd: own_cwd.as_deref(),
                feeds_pipe: cmds.iter().any(|o| o.piped_from == Some(i)),
                ctx: self.ctx,
            };
            if let Some((rule, reason)) = commands::builtin(&cmd) {
                return Err(Block::new(rule, reason, text));
            }
        }
        self.follow_cd(&argv);
        for s in argv::scripts(&argv, cmds, i) {
            // `sh -c` runs in a child process (its `cd` does not last); `eval` does not.
            let saved = self.cwd.clone();
            self.script(&s, depth + 1)?;
            if argv.program() != "eval" {
                self.cwd = saved;
            }
        }
        Ok(())
    }

    /// `cd dir` / `pushd dir`: later relative paths are relative to it.
    fn follow_cd(&mut self, argv: &Argv) {
        if !matches!(argv.program(), "cd" | "pushd" | "popd" | "chdir") {
            return;
        }
        let target = argv
            .args()
            .iter()
            .find(|a| !(a.starts_with('-') && a.len() > 1));
        self.cwd = match (argv.program(), target) {
            ("popd", _) => None,
            (_, None) => self.ctx.home_dir.clone(),
            (_, Some(t)) if t == "-" => None,
            (_, Some(t)) if t.contains(['$', '`', '*', '?']) && !t.starts_with("$HOME") => None,
            (_, Some(t)) => paths::locate(t, self.cwd.as_deref(), self.ctx, false)
                .ok()
                .map(|(p, _)| p),
        };
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
