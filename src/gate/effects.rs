//! What a command changes on disk, and where: the targets of writes, moves, deletes,
//! truncations, permission changes and redirections, resolved against the worktree (after the
//! `cd`s the walk followed). A target outside the worktree is blocked unless it is scratch space
//! (`/tmp`, `/var/tmp`, `/dev/shm`) or a harmless device (`/dev/null`, the terminal); a raw
//! device is blocked with a reason of its own, and so are the tools that make file systems.

use std::path::Path;

use super::argv::Argv;
use super::commands::{Cmd, Hit};
use super::paths;

/// What a command does to a target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Effect {
    /// Creates, overwrites, appends to or truncates it.
    Write,
    /// Deletes it (`rm`, `unlink`, `shred`) or moves it away (`mv`'s sources).
    Remove,
    /// Changes its mode or owner.
    Perm,
}

impl Effect {
    fn verb(self) -> &'static str {
        match self {
            Effect::Write => "writes to",
            Effect::Remove => "removes or moves",
            Effect::Perm => "changes the permissions of",
        }
    }
}

/// Devices a command may write to: they hold no data.
const HARMLESS_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/stdout",
    "/dev/stderr",
    "/dev/stdin",
    "/dev/tty",
    "/dev/full",
];

/// Scratch space every process may use.
const SCRATCH: &[&str] = &["/tmp", "/var/tmp", "/dev/shm"];

/// Programs that partition disks or make file systems: they destroy whatever a disk held.
fn disk_tool(p: &str, args: &[String]) -> bool {
    let listing = args
        .iter()
        .any(|a| matches!(a.as_str(), "-l" | "--list" | "print" | "-s" | "--show"));
    p.starts_with("mkfs")
        || matches!(
            p,
            "mke2fs" | "mkswap" | "wipefs" | "blkdiscard" | "sgdisk" | "cryptsetup" | "zpool"
        )
        || (matches!(p, "fdisk" | "sfdisk" | "cfdisk" | "gdisk" | "parted") && !listing)
}

/// The first effect of `c` that reaches outside the worktree.
pub fn check(c: &Cmd) -> Option<Hit> {
    let a = c.argv;
    if disk_tool(a.program(), a.args()) {
        return Some((
            "disk-format",
            format!(
                "`{}` partitions a disk or makes a file system, which destroys what the disk \
                 held; this is for a person to do",
                a.program()
            ),
        ));
    }
    if let Some(hit) = symlink_out(c) {
        return Some(hit);
    }
    let mut all = targets(a);
    if a.via_xargs {
        all.extend(from_xargs(c));
    }
    for r in &c.simple.redirects {
        if r.writes() {
            all.push((Effect::Write, r.target.clone()));
        }
    }
    all.into_iter().find_map(|(e, t)| judge(e, &t, c))
}

/// `ln -s <target> <link>` with a target outside the worktree: the link would be a way out
/// (a later write through it lands outside), so it is judged like a write there.
fn symlink_out(c: &Cmd) -> Option<Hit> {
    let a = c.argv;
    if a.program() != "ln" || !has_flag(a.args(), 's', "--symbolic") {
        return None;
    }
    let args = a.args();
    let ops = operands(args, &["-S", "--suffix", "-t", "--target-directory"]);
    let dir_opt = option_value(args, &["-t", "--target-directory"]);
    let (sources, link): (Vec<&String>, Option<&str>) = match dir_opt {
        Some(d) => (ops.clone(), Some(d)),
        None if ops.len() > 1 => (
            ops[..ops.len() - 1].to_vec(),
            ops.last().map(|s| s.as_str()),
        ),
        None => (ops.clone(), None),
    };
    // A relative target is relative to the directory the link is in.
    let link_dir = link.and_then(|l| {
        let (p, _) = paths::locate(l, c.cwd, c.ctx, true).ok()?;
        let is_dir = dir_opt.is_some() || l.ends_with('/');
        Some(if is_dir {
            p
        } else {
            p.parent().map(Path::to_path_buf).unwrap_or(p)
        })
    });
    let base = link_dir.as_deref().or(c.cwd);
    for s in sources {
        let place = paths::place(s, base, c.ctx, true);
        let inside = matches!(place, paths::Place::Inside)
            || paths::locate(s, base, c.ctx, true)
                .is_ok_and(|(p, _)| c.ctx.worktree.as_deref() == Some(p.as_path()));
        if !inside {
            return Some((
                "symlink-outside",
                format!(
                    "it makes a symbolic link to `{s}`, outside the worktree: writes through it \
                     would land there; copy what you need into the worktree instead"
                ),
            ));
        }
    }
    None
}

/// Stands for the names `xargs` appends.
const XARGS_NAMES: &str = "\u{0}xargs";

/// The targets `xargs <cmd>` gets from its input: below `find`'s start paths, in the current
/// directory for programs that list it (`git ls-files`, `ls`, `grep -l`, …), else unknown.
fn from_xargs(c: &Cmd) -> Vec<(Effect, String)> {
    let mut words = c.argv.words.to_vec();
    words.push(XARGS_NAMES.to_string());
    let argv = Argv {
        words: &words,
        via_xargs: false,
        bare_env: false,
    };
    let effects: Vec<Effect> = targets(&argv)
        .into_iter()
        .filter(|(_, t)| t == XARGS_NAMES)
        .map(|(e, _)| e)
        .collect();
    if effects.is_empty() {
        return Vec::new();
    }
    let upstream = c.simple.piped_from.and_then(|i| c.cmds.get(i));
    let places: Vec<String> = match upstream.map(|u| (u, super::argv::effective(&u.words))) {
        Some((_, up)) if up.program() == "find" => super::argv::find_starts(up.words)
            .into_iter()
            .map(|s| format!("{}/*", s.trim_end_matches('/')))
            .collect(),
        Some((_, up))
            if matches!(up.program(), "ls" | "fd" | "fdfind")
                || (up.program() == "git"
                    && up.args().iter().any(|x| {
                        matches!(x.as_str(), "ls-files" | "diff" | "grep" | "status")
                    }))
                || (matches!(up.program(), "grep" | "rg" | "ag")
                    && has_flag(up.args(), 'l', "--files-with-matches")) =>
        {
            // Relative names; an absolute path operand would make them absolute.
            if up
                .args()
                .iter()
                .any(|x| x.starts_with('/') || x.starts_with('~') || x.contains(".."))
            {
                vec!["$XARGS".to_string()]
            } else {
                vec!["./*".to_string()]
            }
        }
        _ => vec!["$XARGS".to_string()],
    };
    effects
        .into_iter()
        .flat_map(|e| places.iter().map(move |p| (e, p.clone())))
        .collect()
}

/// Whether `p` (absolute, normalised) is scratch space or a harmless device.
fn harmless(p: &Path, e: Effect) -> bool {
    SCRATCH
        .iter()
        .any(|s| p.starts_with(s) && (p != Path::new(s) || e == Effect::Write))
        || HARMLESS_DEVICES.iter().any(|d| p == Path::new(d))
        || p.starts_with("/dev/fd")
        || p.starts_with("/proc/self/fd")
}

fn judge(e: Effect, target: &str, c: &Cmd) -> Option<Hit> {
    let ctx = c.ctx;
    let wt = ctx.worktree.as_deref();
    let located = paths::locate(target, c.cwd, ctx, true);
    if let Ok((p, _)) = &located {
        if p.starts_with("/dev") && !harmless(p, e) {
            return Some((
                "raw-device",
                format!(
                    "it {} the device {}: writing to a disk device destroys its file system; \
                     work with files inside the worktree",
                    e.verb(),
                    p.display()
                ),
            ));
        }
        if harmless(p, e) {
            return None;
        }
        // Writing into (or chmod of) the worktree folder itself is inside; removing it is not.
        if e != Effect::Remove && wt == Some(p.as_path()) {
            return None;
        }
        if let Some(why) = super::commands::hook_settings(p, ctx) {
            return Some(("hook-settings", why));
        }
    }
    let why = match paths::place(target, c.cwd, ctx, true) {
        paths::Place::Inside => return None,
        _ if target == "$XARGS" => "the names `xargs` passes on come from a command whose \
                                    output cannot be told"
            .to_string(),
        paths::Place::Outside(why) | paths::Place::Unknown(why) => why,
    };
    let other = located
        .ok()
        .and_then(|(p, _)| other_session(&p, wt))
        .map(|s| format!(" ({s}'s worktree: another session's work)"))
        .unwrap_or_default();
    Some((
        "write-outside-worktree",
        format!(
            "it {} `{target}`{other}: {why}. This session may only change files inside its \
             worktree{}; work there (scratch files go in /tmp or a git-ignored folder of the \
             worktree)",
            e.verb(),
            wt.map(|w| format!(" {}", w.display())).unwrap_or_default()
        ),
    ))
}

/// The session whose worktree holds `p`, when it is a sibling of ours (`worktrees/<s>/…`).
pub fn other_session(p: &Path, wt: Option<&Path>) -> Option<String> {
    let wt = wt?;
    let dir = wt
        .parent()
        .filter(|d| d.file_name().is_some_and(|n| n == "worktrees"))?;
    let rest = p.strip_prefix(dir).ok()?;
    let name = rest.components().next()?.as_os_str().to_str()?.to_string();
    (dir.join(&name) != wt).then_some(name)
}

/// Operands of `args` (from the first), skipping options and the values of those in `with_arg`;
/// `--` ends the options. Long options' `=value` stays attached.
pub fn operands<'a>(args: &'a [String], with_arg: &[&str]) -> Vec<&'a String> {
    let mut out = Vec::new();
    let mut opts = true;
    let mut k = 0;
    while let Some(x) = args.get(k) {
        k += 1;
        if opts && x == "--" {
            opts = false;
        } else if opts && x.len() > 1 && x.starts_with('-') {
            if with_arg.contains(&x.as_str()) {
                k += 1;
            }
        } else {
            out.push(x);
        }
    }
    out
}

/// The value of option `names` (`-t dir`, `--target-directory=dir`, `-tdir`).
pub fn option_value<'a>(args: &'a [String], names: &[&str]) -> Option<&'a str> {
    for (k, x) in args.iter().enumerate() {
        if x == "--" {
            return None;
        }
        for n in names {
            if x == n {
                return args.get(k + 1).map(String::as_str);
            }
            // `-so file`: a cluster of short flags ending in the option takes the next word.
            if n.len() == 2
                && !x.starts_with("--")
                && x.len() > 2
                && x.starts_with('-')
                && x.ends_with(&n[1..])
                && x[1..].chars().all(|ch| ch.is_ascii_alphabetic())
            {
                return args.get(k + 1).map(String::as_str);
            }
            if let Some(v) = x.strip_prefix(n) {
                if n.starts_with("--") {
                    if let Some(v) = v.strip_prefix('=') {
                        return Some(v);
                    }
                } else if n.len() == 2 && !v.is_empty() && !x.starts_with("--") {
                    return Some(v);
                }
            }
        }
    }
    None
}

/// A short option cluster (`-Ri`) or long option containing `short` / equal to `long`.
fn has_flag(args: &[String], short: char, long: &str) -> bool {
    args.iter().any(|x| {
        x == long
            || x.starts_with(&format!("{long}="))
            || (x.starts_with('-') && !x.starts_with("--") && x[1..].contains(short))
    })
}

/// The targets a command changes, by its own arguments (redirections aside).
pub fn targets(a: &Argv) -> Vec<(Effect, String)> {
    let args = a.args();
    let w = |v: Vec<&String>, e: Effect| v.into_iter().map(|t| (e, t.clone())).collect::<Vec<_>>();
    let dest_and_sources = |with: &[&str]| {
        let ops = operands(args, with);
        let dest = option_value(args, &["-t", "--target-directory"])
            .map(str::to_string)
            .or_else(|| (ops.len() > 1).then(|| ops[ops.len() - 1].clone()));
        (ops, dest)
    };
    match a.program() {
        "cp" | "install" | "ln" => {
            let (ops, dest) = dest_and_sources(&["-S", "--suffix", "-m", "-o", "-g", "--mode"]);
            if a.program() == "install" && has_flag(args, 'd', "--directory") {
                return w(ops, Effect::Write);
            }
            dest.map(|d| vec![(Effect::Write, d)]).unwrap_or_default()
        }
        "mv" => {
            let (ops, dest) = dest_and_sources(&["-S", "--suffix"]);
            let mut out = w(ops, Effect::Remove);
            if let Some(d) = dest {
                out.retain(|(_, t)| *t != d);
                out.push((Effect::Write, d));
            }
            out
        }
        "rm" | "rmdir" | "unlink" | "shred" | "srm" => w(
            operands(args, &["-n", "--iterations", "-s", "--size"]),
            Effect::Remove,
        ),
        "tee" | "touch" | "mkdir" | "mkfifo" | "mknod" => w(
            operands(
                args,
                &["-d", "-t", "-r", "-m", "--mode", "--date", "--reference"],
            ),
            Effect::Write,
        ),
        "truncate" => w(
            operands(args, &["-s", "-r", "--size", "--reference"]),
            Effect::Write,
        ),
        "sed" | "gsed" => {
            if !has_flag(args, 'i', "--in-place") {
                return Vec::new();
            }
            let with = ["-e", "-f", "-l", "--expression", "--file", "--line-length"];
            let mut ops = operands(args, &with);
            let scripted = args.iter().any(|x| {
                with[..2].contains(&x.as_str())
                    || x.starts_with("--expression")
                    || x.starts_with("--file")
            });
            if !scripted && !ops.is_empty() {
                ops.remove(0);
            }
            w(ops, Effect::Write)
        }
        "chmod" | "chown" | "chgrp" => {
            let mut ops = operands(args, &[]);
            // `chmod -w file`: a mode that starts with `-` is an operand, not an option.
            let mode_as_option = a.program() == "chmod"
                && args.iter().any(|x| {
                    x.len() > 1
                        && x.starts_with('-')
                        && x[1..].chars().all(|c| "rwxXst".contains(c))
                });
            if !args.iter().any(|x| x.starts_with("--reference"))
                && !ops.is_empty()
                && !mode_as_option
            {
                ops.remove(0);
            }
            w(ops, Effect::Perm)
        }
        "rsync" => {
            let with = [
                "-e",
                "--rsh",
                "-f",
                "--filter",
                "--exclude",
                "--include",
                "--files-from",
                "-T",
                "--temp-dir",
                "--chmod",
            ];
            let ops = operands(args, &with);
            let mut out = Vec::new();
            if let Some(d) = ops.last().filter(|d| ops.len() > 1 && !is_remote(d)) {
                out.push((Effect::Write, (*d).clone()));
            }
            if args.iter().any(|x| x == "--remove-source-files") {
                out.extend(
                    ops[..ops.len().saturating_sub(1)]
                        .iter()
                        .map(|s| (Effect::Remove, (*s).clone())),
                );
            }
            out
        }
        "perl" | "ruby" => super::interp::in_place_targets(a)
            .into_iter()
            .map(|t| (Effect::Write, t))
            .collect(),
        "dd" => args
            .iter()
            .filter_map(|x| x.strip_prefix("of="))
            .map(|t| (Effect::Write, t.to_string()))
            .collect(),
        "tar" | "bsdtar" | "gtar" => {
            let extracting = args.iter().any(|x| x == "--extract" || x == "--get")
                || args.first().is_some_and(|x| {
                    !x.starts_with("--") && x.trim_start_matches('-').contains('x')
                });
            match option_value(args, &["-C", "--directory"]) {
                Some(d) if extracting => vec![(Effect::Write, d.to_string())],
                _ => Vec::new(),
            }
        }
        "unzip" => option_value(args, &["-d"])
            .map(|d| vec![(Effect::Write, d.to_string())])
            .unwrap_or_default(),
        "curl" => option_value(args, &["-o", "--output"])
            .filter(|o| *o != "-")
            .map(|o| vec![(Effect::Write, o.to_string())])
            .unwrap_or_default(),
        "wget" => option_value(args, &["-O", "--output-document"])
            .filter(|o| *o != "-")
            .map(|o| vec![(Effect::Write, o.to_string())])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// An rsync/scp location on another host (`host:path`, `rsync://…`).
fn is_remote(t: &str) -> bool {
    t.contains("://") || t.split('/').next().is_some_and(|first| first.contains(':'))
}

#[cfg(test)]
#[path = "effects_tests.rs"]
pub(crate) mod tests;
