//! Commands whose harm is not a path in the worktree: killing every process (or brl's tmux
//! server), reading other processes' environment through `/proc`, forge CLIs' destructive verbs
//! and database flushes.

use super::argv::Argv;
use super::commands::{Cmd, Hit};
use super::effects::operands;

/// The first of these rules `c` trips.
pub fn check(c: &Cmd) -> Option<Hit> {
    let a = c.argv;
    proc_environ(c)
        .or_else(|| kill(a))
        .or_else(|| machine(a))
        .or_else(|| tmux(a))
        .or_else(|| forge(a))
        .or_else(|| database(c))
}

/// `/proc/<pid>/environ`: every variable of a process, secrets included.
fn proc_environ(c: &Cmd) -> Option<Hit> {
    let reads = |w: &str| w.contains("/environ") && (w.contains("/proc") || w.starts_with('$'));
    let words = c.simple.words.iter();
    let targets = c.simple.redirects.iter().map(|r| &r.target);
    let stdin = c.simple.stdin_text.iter();
    words
        .chain(targets)
        .chain(stdin)
        .any(|w| reads(w))
        .then(|| {
            (
                "proc-environ",
                "it reads a process's environment from /proc (tokens and keys included) into the \
             transcript; print only the variable you need, never a secret"
                    .to_string(),
            )
        })
}

fn kill(a: &Argv) -> Option<Hit> {
    let p = a.program();
    let args = a.args();
    let everything = match p {
        "kill" => {
            let mut targets = Vec::new();
            let mut k = 0;
            let mut signal_seen = false;
            while let Some(x) = args.get(k) {
                k += 1;
                match x.as_str() {
                    "--" => {
                        targets.extend(args[k..].iter());
                        break;
                    }
                    "-s" | "-n" | "--signal" => {
                        signal_seen = true;
                        k += 1
                    }
                    "-l" | "-L" | "--list" | "--table" => return None,
                    x if x.starts_with('-') && !signal_seen && targets.is_empty() => {
                        signal_seen = true
                    }
                    _ => targets.push(x),
                }
            }
            targets
                .iter()
                .any(|t| matches!(t.as_str(), "-1" | "0" | "1"))
        }
        "pkill" => !args
            .iter()
            .any(|x| x == "-P" || x.starts_with("--parent") || x.starts_with("-P")),
        "killall" | "killall5" => true,
        _ => false,
    };
    everything.then(|| {
        (
            "kill-broad",
            format!(
                "`{p}` here signals every process (or every one with a name), brl's and other \
                 sessions' included; stop only what you started, by its process id \
                 (`kill <pid>`, `kill %1`)"
            ),
        )
    })
}

/// Switching the machine off, or wiping the user's crontab.
fn machine(a: &Argv) -> Option<Hit> {
    let p = a.program();
    let args = a.args();
    let power = [
        "poweroff",
        "reboot",
        "halt",
        "suspend",
        "hibernate",
        "kexec",
    ];
    let hit = match p {
        "shutdown" | "reboot" | "halt" | "poweroff" => true,
        "systemctl" | "loginctl" => args.iter().any(|x| power.contains(&x.as_str())),
        "init" | "telinit" => args.iter().any(|x| x == "0" || x == "6"),
        "crontab" => args
            .iter()
            .any(|x| x == "-r" || (x.starts_with('-') && x.contains('r'))),
        _ => false,
    };
    hit.then(|| {
        (
            "machine",
            format!(
                "`{p}` here switches the machine off or restarts it, or wipes the crontab: that \
                 ends every session's work and is for a person to do"
            ),
        )
    })
}

/// tmux verbs that end sessions, on the default server (where brl and the user run theirs).
fn tmux(a: &Argv) -> Option<Hit> {
    if a.program() != "tmux" {
        return None;
    }
    let args = a.args();
    let mut private = false;
    let mut k = 0;
    while let Some(x) = args.get(k) {
        match x.as_str() {
            "-L" => private = args.get(k + 1).is_some_and(|n| n != "default"),
            "-S" => {
                private = args
                    .get(k + 1)
                    .is_some_and(|s| super::argv::base(s) != "default")
            }
            _ if x.starts_with("-L") && x.len() > 2 => private = &x[2..] != "default",
            _ => {}
        }
        if matches!(x.as_str(), "-L" | "-S" | "-f" | "-c" | "-T") {
            k += 2;
        } else if x.starts_with('-') {
            k += 1;
        } else {
            break;
        }
    }
    let verb = args.get(k).map(String::as_str).unwrap_or("");
    let ends = matches!(
        verb,
        "kill-server" | "kill-session" | "kill-window" | "kill-pane" | "killw" | "killp"
    ) || verb.starts_with("respawn");
    (ends && !private).then(|| {
        (
            "tmux-kill",
            format!(
                "`tmux {verb}` on the shared tmux server ends sessions that are not yours \
                 (brl's workers and dashboard run there); for your own tests start a private \
                 server with `tmux -L <name>` and end only that one"
            ),
        )
    })
}

const FORGES: &[&str] = &["gh", "glab", "tea", "hub", "gitea", "fj", "berg"];
const FORGE_DESTROY: &[&str] = &["delete", "archive", "transfer", "rm", "remove", "del"];

fn forge(a: &Argv) -> Option<Hit> {
    let p = a.program();
    if !FORGES.contains(&p) {
        return None;
    }
    let args = a.args();
    let ops = operands(
        args,
        &[
            "-R", "--repo", "-X", "--method", "-H", "--header", "-f", "-F",
        ],
    );
    let verb_destroys = ops
        .iter()
        .take(2)
        .any(|o| FORGE_DESTROY.contains(&o.as_str()));
    let method = super::effects::option_value(args, &["-X", "--method"]);
    let api_delete = method.is_some_and(|m| m.eq_ignore_ascii_case("delete"));
    (verb_destroys || api_delete).then(|| {
        (
            "forge-destructive",
            format!(
                "`{p}` here deletes or archives something on the forge (a repository, a \
                 release, a secret, a ref), which cannot be undone from here; leave that to a \
                 person"
            ),
        )
    })
}

fn database(c: &Cmd) -> Option<Hit> {
    let a = c.argv;
    let p = a.program();
    let args = a.args();
    let lower = |s: &String| s.to_ascii_lowercase();
    let piped = super::argv::piped_text(c.cmds, c.simple);
    let said: Vec<String> = args
        .iter()
        .chain(c.simple.stdin_text.iter())
        .chain(piped.iter())
        .map(lower)
        .collect();
    let any = |f: &dyn Fn(&str) -> bool| said.iter().any(|s| f(s));
    let destroys = match p {
        "redis-cli" | "valkey-cli" | "keydb-cli" => {
            any(&|s| s.contains("flushall") || s.contains("flushdb"))
        }
        "dropdb" | "dropuser" => true,
        "mysqladmin" | "mariadb-admin" => any(&|s| s == "drop"),
        "mongo" | "mongosh" => {
            any(&|s| s.contains("dropdatabase") || s.contains(".drop(") || s.contains("deletemany"))
        }
        "rails" | "rake" => any(&|s| {
            ["db:drop", "db:reset", "db:purge", "db:schema:load"]
                .iter()
                .any(|v| s.starts_with(v))
        }),
        "prisma" => any(&|s| s == "reset" || s == "--force-reset"),
        _ => {
            let manage = args
                .iter()
                .position(|x| x.ends_with("manage.py") || x == "django-admin");
            p == "django-admin"
                && args
                    .first()
                    .is_some_and(|x| x == "flush" || x == "reset_db")
                || manage.is_some_and(|m| {
                    args.get(m + 1)
                        .is_some_and(|x| x == "flush" || x == "reset_db")
                })
        }
    };
    destroys.then(|| {
        (
            "db-destructive",
            format!(
                "`{p}` here drops or flushes a database, which destroys data; change the schema \
                 through a migration file in the worktree and leave running it to a person"
            ),
        )
    })
}

#[cfg(test)]
#[path = "system_tests.rs"]
mod tests;
