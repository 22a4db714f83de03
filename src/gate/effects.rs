//! What a command changes on disk, and where: the targets of writes, moves, deletes,
//! truncations, permission changes and redirections, resolved against the worktree (after the
//! `cd`s the walk followed). A target outside the worktree is blocked unless it is scratch space
//! (`/tmp`, `/var/tmp`, `/dev/shm`) or a harmless device (`/dev/null`, the terminal); a raw
//! device is blocked with a reason of its own, and so are the tools that make file systems.

use std::path::Path;

use super::argv::Argv;
use super::commands::{Cmd, Hit};
use super::paths;
pub use super::targets::{Effect, has_flag, operands, option_value, targets};

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

/// Scratch space every process may use (macOS: `/tmp` is `/private/tmp` once symlinks are
/// resolved, and each user's temp folder is under `/var/folders`).
const SCRATCH: &[&str] = &[
    "/tmp",
    "/var/tmp",
    "/dev/shm",
    "/private/tmp",
    "/private/var/tmp",
    "/private/var/folders",
];

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
    // A program named at run time (`$(echo rm) -rf x`, `$TOOL x`) may be any of them: its
    // operands are judged as things it may delete.
    if a.words.first().is_some_and(|w| w.contains(['$', '`'])) {
        all.extend(
            operands(a.args(), &[])
                .into_iter()
                .filter(|o| !o.contains("://"))
                .map(|o| (Effect::Remove, o.clone())),
        );
    }
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
/// `below`: the target is something inside `p` (a glob or variable follows it).
fn harmless(p: &Path, below: bool, e: Effect) -> bool {
    SCRATCH
        .iter()
        .any(|s| p.starts_with(s) && (p != Path::new(s) || below || e == Effect::Write))
        || HARMLESS_DEVICES.iter().any(|d| p == Path::new(d))
        || p.starts_with("/dev/fd")
        || p.starts_with("/proc/self/fd")
}

fn judge(e: Effect, target: &str, c: &Cmd) -> Option<Hit> {
    let ctx = c.ctx;
    let wt = ctx.worktree.as_deref();
    let located = paths::locate(target, c.cwd, ctx, true);
    // The user's checkout and other sessions' worktrees are never scratch, even under /tmp.
    // (`below`: a pattern under `p` may reach into them.)
    let protected = |p: &Path, below: bool| {
        other_session(p, wt).is_some()
            || ctx
                .protected
                .iter()
                .any(|d| p.starts_with(d) || (below && d.starts_with(p)))
    };
    if let Ok((p, below)) = &located {
        let harmless =
            |p: &Path, below: bool, e: Effect| harmless(p, below, e) && !protected(p, below);
        if p.starts_with("/dev") && !harmless(p, *below, e) {
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
        if harmless(p, *below, e) {
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

#[cfg(test)]
#[path = "effects_tests.rs"]
pub(crate) mod tests;
