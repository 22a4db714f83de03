//! The verdict: a pure function from the hook's input and a [`Context`] to allow or block.
//!
//! Precedence for each simple command of a Bash call (nested ones included): a `[gate] deny`
//! pattern blocks; else an `[gate] allow` pattern lets that simple command through the built-in
//! rules; else the built-in rules decide. An allow never lifts a user deny, and never covers the
//! commands nested inside the allowed one (`bash -c '…'`'s script is checked on its own).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

use super::HookInput;
use super::argv::{self, Argv};
use super::commands::{self, Cmd};
use super::paths::{self, Place};
use super::shell::{self, Simple};

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

/// The verdict on one tool call.
pub fn check(input: &HookInput, ctx: &Context) -> Verdict {
    let cwd = input
        .cwd
        .clone()
        .or_else(|| ctx.worktree.clone())
        .map(|c| paths::normalize(&c));
    let field = |k: &str| input.tool_input.get(k).and_then(Value::as_str);
    let result = match input.tool_name.as_str() {
        "Bash" => match field("command") {
            Some(cmd) => bash(cmd, cwd, ctx),
            None => Err(Block::new(
                "bad-input",
                "the Bash call has no `command` string",
                "",
            )),
        },
        "Write" | "Edit" | "MultiEdit" => file(field("file_path"), "file_path", cwd, ctx),
        "NotebookEdit" => file(field("notebook_path"), "notebook_path", cwd, ctx),
        "AskUserQuestion" => Err(Block::new("ask-user", ASK, "AskUserQuestion")),
        _ => Ok(()),
    };
    match result {
        Ok(()) => Verdict::Allow,
        Err(b) => Verdict::Block(b),
    }
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
        let cmds = shell::parse(src);
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
            let cmd = Cmd {
                simple: c,
                argv: &argv,
                cwd: self.cwd.as_deref(),
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
mod tests {
    use super::*;
    use serde_json::json;

    fn input(tool: &str, tool_input: Value) -> HookInput {
        HookInput {
            tool_name: tool.into(),
            tool_input,
            cwd: Some(PathBuf::from("/w/worktrees/s1")),
            session_id: None,
            hook_event_name: None,
        }
    }

    fn verdict(tool: &str, tool_input: Value) -> Verdict {
        check(
            &input(tool, tool_input),
            &Context::for_tests("/w/worktrees/s1"),
        )
    }

    fn blocked(cmd: &str) -> bool {
        matches!(
            verdict("Bash", json!({ "command": cmd })),
            Verdict::Block(_)
        )
    }

    #[test]
    fn file_tools_stay_inside_the_worktree() {
        let ok = |tool: &str, key: &str, p: &str| {
            verdict(tool, json!({ key: p, "content": "x" })) == Verdict::Allow
        };
        assert!(ok("Write", "file_path", "/w/worktrees/s1/src/a.rs"));
        assert!(ok("Edit", "file_path", "src/a.rs"));
        assert!(ok("MultiEdit", "file_path", "/w/worktrees/s1/x/../y.rs"));
        assert!(ok(
            "NotebookEdit",
            "notebook_path",
            "/w/worktrees/s1/n.ipynb"
        ));
        assert!(!ok("Write", "file_path", "/etc/passwd"));
        assert!(!ok("Edit", "file_path", "../s2/src/a.rs"));
        assert!(!ok("Write", "file_path", "/w/worktrees/s1/../s2/a"));
        assert!(!ok("Write", "file_path", "~/.bashrc"));
        assert!(!ok("Write", "file_path", "/w/worktrees/s1/.git"));
        assert!(!ok("Write", "file_path", ".claude/settings.json"));
        assert!(!ok("Edit", "file_path", ".claude/settings.local.json"));
        assert!(!ok("NotebookEdit", "file_path", "/w/worktrees/s1/n.ipynb"));
        assert!(ok("Read", "file_path", "/etc/passwd"));
    }

    #[test]
    fn ask_user_is_always_blocked() {
        match verdict("AskUserQuestion", json!({ "questions": [] })) {
            Verdict::Block(b) => assert!(b.reason.contains("nobody is there"), "{b:?}"),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn cd_is_followed() {
        assert!(blocked("cd .. && rm -rf s2"));
        assert!(blocked("cd /tmp; rm -rf build"));
        assert!(!blocked("cd src && rm -rf gen"));
        assert!(blocked("cd \"$X\" && rm -rf build"));
        assert!(!blocked("(cd /tmp && ls) ; rm -rf build"));
    }

    #[test]
    fn deny_beats_allow_and_allow_beats_builtins() {
        let mut ctx = Context::for_tests("/w/worktrees/s1");
        ctx.allow = vec![Regex::new(r"^git push --force origin brl/").expect("re")];
        ctx.deny = vec![Regex::new(r"^cargo publish").expect("re")];
        let v = |cmd: &str, ctx: &Context| check(&input("Bash", json!({ "command": cmd })), ctx);
        assert_eq!(v("git push --force origin brl/s1/x", &ctx), Verdict::Allow);
        assert!(matches!(
            v("git push --force origin main", &ctx),
            Verdict::Block(_)
        ));
        assert!(
            matches!(v("FOO=1 cargo publish --dry-run", &ctx), Verdict::Block(b) if b.rule == "deny")
        );
        ctx.allow.push(Regex::new("cargo").expect("re"));
        assert!(matches!(v("cargo publish", &ctx), Verdict::Block(b) if b.rule == "deny"));
        // An allowed outer command does not cover its nested script.
        ctx.allow = vec![Regex::new("^bash -c").expect("re")];
        assert!(matches!(
            v("bash -c 'git reset --hard'", &ctx),
            Verdict::Block(_)
        ));
    }

    #[test]
    fn random_shell_like_input_never_panics() {
        let pieces = [
            "rm", " -rf ", "/", "~", "..", "$", "(", ")", "`", "'", "\"", "\\", "<<", "EOF", "\n",
            "|", "&&", ";", "{", "}", "$HOME", "git push", " -f", "*", "@", "=", "é", "<(", "#",
            "cd ", "sh -c ", "xargs ", "find ", "-exec", "<<<", ">", "2>&1", "\t", "${", ":+",
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let ctx = Context::for_tests("/w/worktrees/s1");
        for _ in 0..3000 {
            let mut cmd = String::new();
            for _ in 0..(x % 24) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                cmd.push_str(pieces[(x % pieces.len() as u64) as usize]);
            }
            let _ = check(&input("Bash", json!({ "command": cmd })), &ctx);
            let _ = check(&input("Write", json!({ "file_path": cmd })), &ctx);
        }
    }

    #[test]
    fn deep_nesting_is_blocked() {
        let mut cmd = "ls".to_string();
        for _ in 0..20 {
            cmd = format!("echo $({cmd})");
        }
        assert!(blocked(&cmd));
        assert!(!blocked("echo $(echo $(echo $(ls)))"));
    }
}
