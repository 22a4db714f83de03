//! The targets a command changes by its own arguments: which operand of `cp`, `mv`, `rm`,
//! `tee`, `sed -i`, `chmod`, `rsync`, `dd`, `tar`, … is written, removed or re-permissioned.

use super::argv::Argv;

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
    pub fn verb(self) -> &'static str {
        match self {
            Effect::Write => "writes to",
            Effect::Remove => "removes or moves",
            Effect::Perm => "changes the permissions of",
        }
    }
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
pub fn has_flag(args: &[String], short: char, long: &str) -> bool {
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
