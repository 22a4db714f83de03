//! Each configured check run once, on its own, with its time and what its parser found: what
//! `brl checks` prints, the first thing to run after `brl init`. And the tools a check command
//! needs, looked up before anything runs (`brl init` warns about missing ones).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{CheckError, MeasureCtx, parse, run_check, typecheck_slot};
use crate::config::CheckConfig;
use crate::outcome::CheckState;

/// One check as run by [`run_all`].
#[derive(Debug)]
pub struct Probe {
    /// `typecheck` or `test`.
    pub name: &'static str,
    pub command: String,
    pub parser: &'static str,
    pub state: CheckState,
    pub parsed: Option<parse::Parsed>,
    pub took: Duration,
    pub output: PathBuf,
}

/// Run every configured check once in `ctx.worktree`.
pub fn run_all(ctx: &MeasureCtx) -> Result<Vec<Probe>, CheckError> {
    let mut out = Vec::new();
    let checks = &ctx.config.checks;
    for (name, check) in [("typecheck", &checks.typecheck), ("test", &checks.test)] {
        let Some(check) = check else { continue };
        let check: &CheckConfig = check.get_ref();
        let _slot = match name {
            "typecheck" => Some(typecheck_slot(ctx)?),
            _ => None,
        };
        let t = Instant::now();
        let label = format!("checks-{name}");
        let (state, parsed) = run_check(ctx, check, &label)?;
        out.push(Probe {
            name,
            command: check.command.clone(),
            parser: check.parser.name(),
            state,
            parsed,
            took: t.elapsed(),
            output: PathBuf::from(format!("{}.{label}.log", ctx.output_prefix.display())),
        });
    }
    Ok(out)
}

/// The programs `command` needs that cannot be found, in words (`mypy is not on PATH`), as far
/// as can be told without running it: its first word (after `VAR=value` assignments) on PATH;
/// for `npx X`, X in `<repo>/node_modules/.bin` or on PATH (else npx would try to download it);
/// for `python -m X`, nothing more (importing needs the interpreter). `None` when all are found
/// or the command is not a plain one (a pipeline, a subshell: the shell decides).
pub fn missing_tools(command: &str, repo: &Path) -> Option<String> {
    let words = shlex::split(command)?;
    let mut words = words
        .iter()
        .skip_while(|w| w.contains('=') && !w.starts_with('='));
    let first = words.next()?;
    if first.contains(['|', ';', '&', '(', ')', '$', '`']) {
        return None;
    }
    let found = |prog: &str| prog.contains('/') && repo.join(prog).exists() || on_path(prog);
    if !found(first) {
        return Some(format!("`{first}` is not on PATH"));
    }
    if first == "npx" {
        let tool = words.find(|w| !w.starts_with('-'))?;
        let local = repo.join("node_modules").join(".bin").join(tool);
        if !local.exists() && !on_path(tool) {
            return Some(format!(
                "`{tool}` is neither in {} nor on PATH (npx would try to download it); add it to the project's devDependencies and install them (see [worktree] setup)",
                repo.join("node_modules/.bin").display()
            ));
        }
    }
    None
}

fn on_path(prog: &str) -> bool {
    if prog.contains('/') {
        return Path::new(prog).is_file();
    }
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            let p = dir.join(prog);
            std::fs::metadata(&p).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_a_command_needs() {
        let repo = tempfile::tempdir().unwrap();
        assert_eq!(missing_tools("sh -c true", repo.path()), None);
        assert_eq!(
            missing_tools("no-such-tool-brl --x", repo.path()).as_deref(),
            Some("`no-such-tool-brl` is not on PATH")
        );
        assert_eq!(
            missing_tools("FOO=1 no-such-tool-brl", repo.path()).as_deref(),
            Some("`no-such-tool-brl` is not on PATH")
        );
        if on_path("npx") {
            let m = missing_tools("npx --yes no-such-tool-brl --noEmit", repo.path()).unwrap();
            assert!(m.contains("`no-such-tool-brl` is neither in"), "{m}");
            let bin = repo.path().join("node_modules/.bin");
            std::fs::create_dir_all(&bin).unwrap();
            std::fs::write(bin.join("no-such-tool-brl"), "").unwrap();
            assert_eq!(missing_tools("npx no-such-tool-brl", repo.path()), None);
        }
    }
}
