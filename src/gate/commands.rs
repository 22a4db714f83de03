//! The built-in rules for one simple command: recursive removal outside the worktree, git,
//! deploys, SQL that destroys data, and printing secrets.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::argv::{Argv, SHELLS};
use super::paths::{self, Place};
use super::rules::Context;
use super::secrets::{self, is_secret_file, read_secret};
use super::shell::Simple;
use super::{deploy, effects, git, git_outside, interp, system};

/// A rule's name and the reason given to the agent.
pub type Hit = (&'static str, String);

/// One simple command and what the rules know around it.
pub struct Cmd<'a> {
    pub simple: &'a Simple,
    /// Every simple command of the script `simple` is part of (for pipelines).
    pub cmds: &'a [Simple],
    pub argv: &'a Argv<'a>,
    /// Where it runs (`None`: after a `cd` that could not be followed).
    pub cwd: Option<&'a Path>,
    /// Its output is piped into the next command.
    pub feeds_pipe: bool,
    pub ctx: &'a Context,
}

/// The first built-in rule `c` trips.
pub fn builtin(c: &Cmd) -> Option<Hit> {
    redirects(c)
        .or_else(|| removal(c))
        .or_else(|| git::check(c.argv, c.ctx))
        .or_else(|| git_outside::check(c))
        .or_else(|| effects::check(c))
        .or_else(|| system::check(c))
        .or_else(|| interp::check(c))
        .or_else(|| deploy::check(c.argv))
        .or_else(|| secrets::check(c))
        .or_else(|| sql(c))
}

/// The hook's own settings in the worktree: the agent must not switch the gate off.
pub fn hook_settings(p: &Path, ctx: &Context) -> Option<String> {
    let wt = ctx.worktree.as_deref()?;
    // Claude Code's and Gemini CLI's project settings hold the hook; Codex's project config
    // could switch its hooks off.
    [
        ".claude/settings.json",
        ".claude/settings.local.json",
        ".gemini/settings.json",
        ".codex/config.toml",
    ]
    .iter()
    .any(|rel| wt.join(rel) == p)
    .then(|| {
        format!(
            "{} holds brl's safety hook for this session; it is not to be changed by the agent",
            p.display()
        )
    })
}

fn redirects(c: &Cmd) -> Option<Hit> {
    for r in &c.simple.redirects {
        if r.reads() && is_secret_file(&r.target) {
            return Some(read_secret(&r.target));
        }
        if r.writes()
            && let Ok((p, _)) = paths::locate(&r.target, c.cwd, c.ctx, false)
            && let Some(why) = hook_settings(&p, c.ctx)
        {
            return Some(("hook-settings", why));
        }
    }
    None
}

/// `rm -r…` (any spelling, also under `xargs`) and `find … -delete` / `-exec rm` must stay
/// strictly inside the worktree.
fn removal(c: &Cmd) -> Option<Hit> {
    let a = c.argv;
    let (targets, below): (Vec<&String>, bool) = match a.program() {
        "rm" => {
            let mut recursive = false;
            let mut targets = Vec::new();
            let mut opts = true;
            for w in a.args() {
                if opts && w == "--" {
                    opts = false;
                } else if opts && w.starts_with("--") {
                    recursive |= w == "--recursive";
                } else if opts && w.starts_with('-') && w.len() > 1 {
                    recursive |= w.contains(['r', 'R']);
                } else {
                    targets.push(w);
                }
            }
            if !recursive {
                return None;
            }
            if a.via_xargs {
                return Some((
                    "rm-outside-worktree",
                    "`xargs rm -r` removes paths read from stdin, which cannot be checked; use \
                     `rm -rf <path>` with explicit paths inside the worktree, or `find <dir> … \
                     -delete`"
                        .into(),
                ));
            }
            (targets, false)
        }
        "find" => {
            let w = a.args();
            let destructive = w.iter().enumerate().any(|(k, x)| {
                x == "-delete"
                    || (matches!(x.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir")
                        && w.get(k + 1).is_some_and(|n| super::argv::base(n) == "rm"))
            });
            if !destructive {
                return None;
            }
            let start: Vec<&String> = w
                .iter()
                .skip_while(|x| matches!(x.as_str(), "-H" | "-L" | "-P"))
                .take_while(|x| !x.starts_with('-') && !matches!(x.as_str(), "(" | "!"))
                .collect();
            if start.is_empty() {
                return None; // find's default: `.`
            }
            (start, true)
        }
        _ => return None,
    };
    for t in targets {
        let place = if below {
            paths::place_below(t, c.cwd, c.ctx)
        } else {
            paths::place(t, c.cwd, c.ctx, true)
        };
        match place {
            Place::Inside => {}
            Place::Outside(why) | Place::Unknown(why) => {
                return Some((
                    "rm-outside-worktree",
                    format!(
                        "{why}: a recursive removal may only delete folders strictly inside this \
                         session's worktree{}; remove only what you created there, by a literal \
                         relative path",
                        c.ctx
                            .worktree
                            .as_deref()
                            .map(|w| format!(" ({})", w.display()))
                            .unwrap_or_default()
                    ),
                ));
            }
        }
    }
    None
}

static DROP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bdrop\s+(table|database|schema)\b").expect("a valid regex"));
static TRUNCATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?im)\btruncate\s+(table\b|(only\s+)?[\w."`\[\]]+\s*(;|,|$|\bcascade\b|\brestart\b|\bcontinue\b))"#,
    )
    .expect("a valid regex")
});

/// Programs whose arguments mention SQL without running it (searching, committing, editing),
/// and the shells whose scripts are checked on their own.
fn sql_exempt(c: &Cmd) -> bool {
    let p = c.argv.program();
    ["git", "grep", "egrep", "fgrep", "rg", "ag", "ack", "sed", "eval"].contains(&p)
        || SHELLS.contains(&p)
        // Writing text to a file or the terminal runs nothing; piping it somewhere might.
        || (["echo", "printf", "cat"].contains(&p) && !c.feeds_pipe)
}

/// `DROP TABLE`, `DROP DATABASE`, `DROP SCHEMA`, `TRUNCATE` given to whatever runs them.
fn sql(c: &Cmd) -> Option<Hit> {
    if sql_exempt(c) {
        return None;
    }
    let texts = c.argv.args().iter().chain(c.simple.stdin_text.iter());
    for t in texts {
        let what = if DROP.is_match(t) {
            "DROP"
        } else if TRUNCATE.is_match(t) {
            "TRUNCATE"
        } else {
            continue;
        };
        return Some((
            "sql-destructive",
            format!(
                "it sends SQL `{what}`, which destroys data; change the schema through a \
                 migration file in the worktree and leave running it to a person"
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_patterns() {
        for s in [
            "DROP TABLE users",
            "drop   database prod",
            "TRUNCATE users;",
            "truncate table x",
        ] {
            assert!(DROP.is_match(s) || TRUNCATE.is_match(s), "{s}");
        }
        for s in [
            "truncate -s 0 log",
            "truncate long lines in the output",
            "drop tables later",
        ] {
            assert!(!DROP.is_match(s) && !TRUNCATE.is_match(s), "{s}");
        }
    }
}
