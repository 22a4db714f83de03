//! Where a path points, relative to the session's worktree: lexical normalisation, `~` and
//! `$HOME`, globs and variables, and symlinks (through the context's resolver).

use std::path::{Component, Path, PathBuf};

use super::rules::Context;

/// Where a target lies.
#[derive(Debug, PartialEq)]
pub enum Place {
    /// Strictly inside the worktree (not the worktree itself, not its `.git`).
    Inside,
    /// Somewhere else; the text says where.
    Outside(String),
    /// Cannot be told from the command alone (a variable, an unknown directory).
    Unknown(String),
}

/// Remove `.` and resolve `..` without touching the file system (`..` above `/` stays at `/`).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => out.push(c.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
        }
    }
    if out.as_os_str().is_empty() {
        out.push("/");
    }
    out
}

/// Resolve symlinks in the longest prefix of `p` that exists, then append the rest
/// (`p` absolute and normalised). What the real file system says a path will be.
pub fn canonicalize_prefix(p: &Path) -> PathBuf {
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return normalize(&out);
        }
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return p.to_path_buf(),
        }
    }
}

/// Expand a leading `~`, `~/`, `$HOME`, `${HOME}`, `$PWD`, `${PWD}`, `$(pwd)`, `` `pwd` ``.
/// `None` when it needs a directory we do not know.
fn expand_known(arg: &str, cwd: Option<&Path>, home: Option<&Path>) -> Option<String> {
    let homes = ["~", "$HOME", "${HOME}"];
    let pwds = ["$PWD", "${PWD}", "$(pwd)", "`pwd`"];
    for (prefixes, dir) in [(&homes[..], home), (&pwds[..], cwd)] {
        for p in prefixes {
            if let Some(rest) = arg.strip_prefix(p)
                && (rest.is_empty() || rest.starts_with('/'))
            {
                return dir.map(|d| format!("{}{rest}", d.display()));
            }
        }
    }
    if arg.starts_with('~') {
        return None; // ~user
    }
    Some(arg.to_string())
}

/// Where `arg` (a word of a command, quotes removed, expansions as written) points when run in
/// `cwd` (`None`: unknown, after a `cd` we could not follow). With `wild`, `$VAR`, `$(…)` and
/// glob characters are understood: `build/*` is a child of `build/`, `$X/y` is unknown.
pub fn place(arg: &str, cwd: Option<&Path>, ctx: &Context, wild: bool) -> Place {
    place_in(arg, cwd, ctx, wild, false)
}

/// Where what lies below the directory `arg` is (`find`'s start paths).
pub fn place_below(arg: &str, cwd: Option<&Path>, ctx: &Context) -> Place {
    place_in(arg, cwd, ctx, true, true)
}

fn place_in(arg: &str, cwd: Option<&Path>, ctx: &Context, wild: bool, below: bool) -> Place {
    let Some(wt) = ctx.worktree.as_deref() else {
        return Place::Unknown(
            "the session's worktree is unknown (run `brl gate --session <s>` or set BRL_SESSION)"
                .into(),
        );
    };
    match locate(arg, cwd, ctx, wild) {
        Ok((p, child)) => judge(&p, child || below, arg, wt, ctx),
        Err(why) => Place::Unknown(why),
    }
}

/// The absolute, normalised, symlink-resolved path `arg` names, and whether only a directory
/// above the real target is known (`wild` patterns and variables); `Err`: cannot be told.
pub fn locate(
    arg: &str,
    cwd: Option<&Path>,
    ctx: &Context,
    wild: bool,
) -> Result<(PathBuf, bool), String> {
    let unknown = || format!("cannot tell where `{arg}` points");
    let expanded = expand_known(arg, cwd, ctx.home_dir.as_deref()).ok_or_else(unknown)?;
    // A variable or pattern part: only the literal directory before it is known.
    let wild_at = if wild {
        expanded.find(['$', '`', '*', '?', '[', '{'])
    } else {
        None
    };
    let (literal, child) = match wild_at {
        None => (expanded.as_str(), false),
        Some(at) => match expanded[..at].rfind('/') {
            Some(0) => ("/", true),
            Some(slash) => (&expanded[..slash], true),
            None if at == 0 && matches!(expanded.as_bytes()[0], b'$' | b'`') => {
                return Err(unknown());
            }
            None => ("", true),
        },
    };
    let joined = if literal.starts_with('/') {
        PathBuf::from(literal)
    } else {
        match cwd {
            Some(c) => c.join(literal),
            None => {
                return Err(format!(
                    "`{arg}` is relative to a directory the command changed into that cannot be told"
                ));
            }
        }
    };
    // Resolved before `..` is taken lexically: the kernel takes `..` from the real folder.
    Ok((normalize(&(ctx.resolve)(&joined)), child))
}

/// A resolved path (or, with `child`, anything directly or deeply below it) against the worktree.
fn judge(p: &Path, child: bool, arg: &str, wt: &Path, ctx: &Context) -> Place {
    let git = wt.join(".git");
    if p == git || p.starts_with(&git) {
        return Place::Outside(format!(
            "`{arg}` is the worktree's .git link (removing it breaks the worktree)"
        ));
    }
    if p.starts_with(wt) && (p != wt || child) {
        return Place::Inside;
    }
    let what = if p == Path::new("/") {
        "the root directory".to_string()
    } else if ctx.home_dir.as_deref() == Some(p) {
        "your home directory".to_string()
    } else if p == wt {
        "the whole worktree".to_string()
    } else if wt.starts_with(p) {
        format!("{}, which contains the worktree", p.display())
    } else {
        p.display().to_string()
    };
    let is = if child { "reaches into" } else { "is" };
    Place::Outside(format!("`{arg}` {is} {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::for_tests("/w/worktrees/s1")
    }

    fn at(arg: &str, cwd: &str) -> Place {
        place(arg, Some(Path::new(cwd)), &ctx(), true)
    }

    #[test]
    fn normalize_resolves_dots() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("/../..")), PathBuf::from("/"));
    }

    #[test]
    fn places() {
        let wt = "/w/worktrees/s1";
        assert_eq!(at("build", wt), Place::Inside);
        assert_eq!(at("./target/debug", wt), Place::Inside);
        assert_eq!(at("*", wt), Place::Inside);
        assert_eq!(at("dist/*", wt), Place::Inside);
        assert_eq!(at("build/$NAME", wt), Place::Inside);
        assert_eq!(at("$(pwd)/build", wt), Place::Inside);
        assert_eq!(at("/w/worktrees/s1/node_modules", "/tmp"), Place::Inside);
        for bad in [
            "/",
            "..",
            "~",
            "$HOME",
            "${HOME}/x",
            ".",
            "../s2",
            "/*",
            ".git",
            "~/",
        ] {
            assert!(
                matches!(at(bad, wt), Place::Outside(_)),
                "{bad}: {:?}",
                at(bad, wt)
            );
        }
        for unknown in ["$X", "$DIR/x", "`echo /`", "~bob"] {
            assert!(matches!(at(unknown, wt), Place::Unknown(_)), "{unknown}");
        }
        assert!(matches!(place("x", None, &ctx(), true), Place::Unknown(_)));
    }

    #[test]
    fn canonicalize_prefix_follows_symlinks() {
        let d = tempfile::tempdir().expect("tempdir");
        let root = d.path().canonicalize().expect("canon");
        std::fs::create_dir(root.join("real")).expect("mkdir");
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).expect("symlink");
        assert_eq!(
            canonicalize_prefix(&root.join("link/new/file.txt")),
            root.join("real/new/file.txt")
        );
        assert_eq!(
            canonicalize_prefix(Path::new("/nope/x")),
            PathBuf::from("/nope/x")
        );
        // `..` after a symlink is the real folder's parent, as the kernel has it.
        std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
        std::os::unix::fs::symlink(root.join("a/b"), root.join("jump")).expect("symlink");
        assert_eq!(
            canonicalize_prefix(&root.join("jump/../new/file")),
            root.join("a/new/file")
        );
        let mut ctx = Context::for_tests(&root.join("real").display().to_string());
        ctx.resolve = canonicalize_prefix;
        let (p, _) = locate("jump/../x", Some(&root), &ctx, false).expect("locate");
        assert_eq!(p, root.join("a/x"));
    }
}
