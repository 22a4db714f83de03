//! git aimed at a checkout other than this worktree (the user's own, another session's):
//! only reading verbs may go there.

use std::path::PathBuf;

use super::commands::{Cmd, Hit};
use super::git::GLOBAL_WITH_ARG;
use super::paths::{self, Place};

/// git verbs that only read a repository: fine against any checkout.
const READ_ONLY: &[&str] = &[
    "status",
    "log",
    "diff",
    "show",
    "blame",
    "annotate",
    "rev-parse",
    "rev-list",
    "ls-files",
    "ls-tree",
    "ls-remote",
    "grep",
    "cat-file",
    "describe",
    "shortlog",
    "reflog",
    "for-each-ref",
    "name-rev",
    "merge-base",
    "show-ref",
    "show-branch",
    "count-objects",
    "fsck",
    "help",
    "version",
    "whatchanged",
    "diff-tree",
    "diff-files",
    "diff-index",
    "check-ignore",
    "check-attr",
    "verify-commit",
    "verify-tag",
    "var",
    "fetch",
    "archive",
    "bundle",
    // Make a new repository (clone refuses a folder that is not empty; init keeps work).
    "clone",
    "init",
];

/// Whether `sub args` only reads (listing forms of branch, tag, remote, stash, worktree, config).
fn reads_only(sub: &str, args: &[String]) -> bool {
    let listing = |words: &[&str]| {
        args.iter().all(|x| {
            x.starts_with('-')
                && !matches!(
                    x.as_str(),
                    "-d" | "-D"
                        | "-m"
                        | "-M"
                        | "-f"
                        | "-c"
                        | "-C"
                        | "--delete"
                        | "--move"
                        | "--force"
                        | "--copy"
                        | "--unset"
                        | "--add"
                        | "--replace-all"
                        | "--unset-all"
                        | "--remove-section"
                        | "--rename-section"
                        | "--edit"
                        | "-e"
                        | "--set-upstream-to"
                        | "-u"
                )
        }) || args.first().is_some_and(|v| words.contains(&v.as_str()))
    };
    READ_ONLY.contains(&sub)
        || match sub {
            "branch" | "tag" => listing(&["--list", "-l"]),
            "remote" => listing(&["show", "get-url", "-v"]),
            "stash" => args.first().is_some_and(|v| v == "list" || v == "show"),
            "worktree" => args.first().is_some_and(|v| v == "list"),
            "config" => args
                .iter()
                .any(|x| x.starts_with("--get") || x == "--list" || x == "-l"),
            "notes" => args.first().is_none_or(|v| v == "list" || v == "show"),
            _ => false,
        }
}

/// A git command that changes a repository or checkout other than this worktree: through
/// `-C`, `--git-dir`, `--work-tree` (or `GIT_DIR=`/`GIT_WORK_TREE=`), or run in a directory
/// outside the worktree (`cd ~/code/app && git checkout .`). Only reading verbs may go there.
pub fn check(c: &Cmd) -> Option<Hit> {
    let a = c.argv;
    if a.program() != "git" {
        return None;
    }
    let w = a.args();
    let mut dir: Option<PathBuf> = c.cwd.map(PathBuf::from);
    // Where git will act, and the word that said so.
    let mut places: Vec<(String, Option<PathBuf>)> = Vec::new();
    for word in &c.simple.words {
        for var in ["GIT_DIR=", "GIT_WORK_TREE="] {
            if let Some(v) = word.strip_prefix(var) {
                places.push((v.to_string(), None));
            }
        }
    }
    let mut i = 0;
    while let Some(x) = w.get(i) {
        let (opt, value, step) = match x.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o, Some(v.to_string()), 1),
            _ => (x.as_str(), w.get(i + 1).cloned(), 2),
        };
        match opt {
            "-C" => {
                let v = value.unwrap_or_default();
                dir = paths::locate(&v, dir.as_deref(), c.ctx, false)
                    .ok()
                    .map(|(p, _)| p);
                places.push((v, dir.clone()));
                i += 2;
            }
            "--git-dir" | "--work-tree" => {
                places.push((value.unwrap_or_default(), None));
                i += step;
            }
            _ if GLOBAL_WITH_ARG.contains(&opt) => i += 2,
            _ if x.starts_with('-') => i += 1,
            _ => break,
        }
    }
    let sub = w.get(i).map(String::as_str).unwrap_or("");
    let args = w.get(i + 1..).unwrap_or(&[]);
    if sub == "config"
        && let Some(hit) = config(args)
    {
        return Some(hit);
    }
    if sub.is_empty() || reads_only(sub, args) {
        return None;
    }
    let wt = c.ctx.worktree.as_deref()?;
    let mut checked: Vec<(String, Place)> = places
        .into_iter()
        .map(|(word, resolved)| {
            let place = match resolved {
                Some(p) if p.as_path() == wt => Place::Inside,
                _ => paths::place(&word, c.cwd, c.ctx, true),
            };
            (word, place)
        })
        .collect();
    if checked.is_empty() {
        match c.cwd {
            // The worktree itself, however the cwd spells it (symlinks resolved), is fine.
            Some(d) if d != wt && (c.ctx.resolve)(d) != wt => {
                let word = d.display().to_string();
                let place = paths::place(&word, None, c.ctx, false);
                checked.push((word, place));
            }
            _ => {}
        }
    }
    checked.into_iter().find_map(|(word, place)| match place {
        Place::Inside => None,
        Place::Outside(why) | Place::Unknown(why) => Some((
            "git-outside-worktree",
            format!(
                "`git {sub}` would change the repository or checkout at `{word}` ({why}), which \
                 is not this session's worktree{}: that may be the user's own checkout with \
                 uncommitted work, or another session's. Only reading commands (status, log, \
                 diff, show) may look there; make your changes in this worktree",
                c.ctx
                    .worktree
                    .as_deref()
                    .map(|w| format!(" ({})", w.display()))
                    .unwrap_or_default()
            ),
        )),
    })
}

/// Keys that make the user's checkout run code or look elsewhere (the worktree shares its
/// repository's config).
const RUNS_CODE: &[&str] = &[
    "core.hookspath",
    "core.fsmonitor",
    "core.worktree",
    "core.sshcommand",
    "core.editor",
    "core.pager",
    "include.path",
    "credential.helper",
];

/// `git config` writing outside the worktree: the user's `~/.gitconfig` or the system's, or a
/// key of the shared repository config that makes git run code or look elsewhere.
fn config(args: &[String]) -> Option<Hit> {
    let reading = args
        .iter()
        .any(|x| x.starts_with("--get") || matches!(x.as_str(), "-l" | "--list" | "get" | "list"));
    if reading {
        return None;
    }
    let operands: Vec<&String> = args.iter().filter(|x| !x.starts_with('-')).collect();
    let scope_outside = args.iter().any(|x| {
        matches!(x.as_str(), "--global" | "--system" | "--file" | "-f") || x.starts_with("--file=")
    });
    // `git config key value` / `git config set key value`: a write (a lone key reads).
    let (key, writes) = match operands.as_slice() {
        [verb, key, ..] if matches!(verb.as_str(), "set" | "unset" | "edit") => {
            (key.as_str(), true)
        }
        [key, _value, ..] => (key.as_str(), true),
        [key] => (
            key.as_str(),
            args.iter()
                .any(|x| x.starts_with("--unset") || x == "--edit" || x == "-e"),
        ),
        [] => ("", args.iter().any(|x| x == "--edit" || x == "-e")),
    };
    let key = key.to_ascii_lowercase();
    let runs_code = RUNS_CODE.contains(&key.as_str())
        || key.starts_with("includeif.")
        || key.starts_with("alias.") && operands.get(1).is_some_and(|v| v.starts_with('!'));
    (writes && (scope_outside || runs_code)).then(|| {
        (
            "git-config-outside",
            format!(
                "this `git config` write reaches beyond the worktree ({}): the user's own git \
                 setup or their checkout, which shares this repository's config; set what you \
                 need for one command with `git -c key=value …`",
                if scope_outside {
                    "a global, system or other file"
                } else {
                    key.as_str()
                }
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::gate::effects::tests::rule_of;

    #[test]
    fn discarding_work_in_another_checkout() {
        for cmd in [
            "git -C /home/agent/app checkout -- .",
            "git -C ~/app restore .",
            "git -C ../../app stash drop",
            "cd /home/agent/app && git checkout .",
            "(cd ~/app; git switch -f x)",
            "git --git-dir=/home/agent/app/.git --work-tree=/home/agent/app checkout -f",
            "git --work-tree /home/agent/app checkout HEAD -- .",
            "GIT_DIR=/home/agent/app/.git git reset --soft HEAD~5",
            "git -C /srv/brl/worktrees/s2 commit -am x",
            "git -C \"$REPO\" checkout .",
        ] {
            assert_eq!(rule_of(cmd), "git-outside-worktree", "{cmd}");
        }
        for cmd in [
            "git -C /home/agent/app status",
            "git -C /home/agent/app log -3",
            "git -C /home/agent/app branch",
            "git -C /home/agent/app stash list",
            "git -C /home/agent/app config --get user.name",
            "cd /home/agent/app && git diff",
            "git -C src checkout -- lib.rs",
            "git -C /srv/brl/worktrees/s1 add -A",
            "cd src && git restore a.rs",
            "git checkout -- .",
        ] {
            assert_eq!(rule_of(cmd), "allow", "{cmd}");
        }
    }

    #[test]
    fn config_that_reaches_beyond_the_worktree() {
        for cmd in [
            "git config --global user.name x",
            "git config --system core.editor vim",
            "git config core.hooksPath /tmp/hooks",
            "git config set core.fsmonitor ./x",
            "git config alias.x '!rm -rf ~'",
            "git config --file ~/.gitconfig a.b c",
        ] {
            assert_eq!(rule_of(cmd), "git-config-outside", "{cmd}");
        }
        for cmd in [
            "git config user.email agent@example.com",
            "git config --get user.name",
            "git config --global --list",
            "git config core.hooksPath",
            "git -c core.hooksPath=/dev/null commit -m x",
        ] {
            assert_eq!(rule_of(cmd), "allow", "{cmd}");
        }
    }

    #[test]
    fn worktrees_are_brls() {
        for cmd in [
            "git worktree remove --force ../s2",
            "git worktree prune",
            "git worktree add ../x",
        ] {
            assert_eq!(rule_of(cmd), "git-worktree", "{cmd}");
        }
        assert_eq!(rule_of("git worktree list"), "allow");
    }
}
