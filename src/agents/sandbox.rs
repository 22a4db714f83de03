//! `[agent] sandbox = "bwrap"`: the agent runs under bubblewrap with the whole file system
//! read-only except what its cycle needs, so deleting or writing outside the worktree fails at the
//! OS whatever the command's spelling (defense in depth behind `brl gate`).
//!
//! Writable inside: the session's worktree; of the repository's git directory only what `git
//! commit` in a linked worktree writes — the worktree's private dir (`.git/worktrees/<name>`:
//! index, HEAD, its reflog), `objects/`, and the session's own branch directory
//! `refs/heads/<prefix>` with its reflog dir — never `refs/heads/<main>`, `packed-refs` or
//! `config`; the brl home's `logs/` (the gate logs there); the preset's state dirs under `$HOME`;
//! a private `/tmp`. Hidden: `~/.ssh`, `~/.aws`, `~/.config/gh`, `~/.netrc`, `~/.docker`,
//! `~/.git-credentials`, `~/.gnupg`, `~/.kube` and `.env` files in the user's checkout. The
//! network is shared (the agent needs its API). The agent gets its own PID namespace and session
//! (`--unshare-pid --new-session`): it cannot see or signal the user's processes, nor push
//! keystrokes into the terminal brl runs in (TIOCSTI); bwrap itself stays in brl's process group,
//! so the timeout's group kill ends bwrap, whose death (`--die-with-parent`) kills the namespace's
//! first process and with it every process inside. Every capability is dropped (`--cap-drop ALL`):
//! run as root, bwrap would otherwise leave the agent CAP_SYS_ADMIN, enough to remount `/`
//! read-write.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use super::PresetKind;

/// `[agent] sandbox`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sandbox {
    /// The agent runs with the rights of brl's user.
    #[default]
    None,
    /// The agent runs under bubblewrap (`bwrap`).
    Bwrap,
}

/// Secrets under `$HOME` that are hidden inside the sandbox when they exist.
pub const HOME_SECRETS: &[&str] = &[
    ".ssh",
    ".aws",
    ".config/gh",
    ".netrc",
    ".docker",
    ".git-credentials",
    ".gnupg",
    ".kube",
];

/// What the sandbox needs to know about one agent run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub worktree: PathBuf,
    /// The worktree's own git dir (`<common>/worktrees/<name>`).
    pub git_dir: PathBuf,
    /// The repository's common git dir (`<repo>/.git`).
    pub common_dir: PathBuf,
    /// The cycle's branch (`brl/<session>/<stamp>`): its parent directory under `refs/heads/`
    /// is writable.
    pub branch: Option<String>,
    /// The brl home: readable, its `logs/` writable.
    pub home: PathBuf,
    /// `$HOME`, for state dirs and secrets; `None` when unset.
    pub user_home: Option<PathBuf>,
    pub preset: PresetKind,
}

impl Plan {
    /// Ask git where the worktree's git dirs are. Errors name the worktree and what failed.
    pub fn for_worktree(
        worktree: &Path,
        branch: Option<&str>,
        home: &Path,
        preset: PresetKind,
    ) -> Result<Plan, String> {
        let out = Command::new("git")
            .args([
                "rev-parse",
                "--path-format=absolute",
                "--git-dir",
                "--git-common-dir",
            ])
            .current_dir(worktree)
            .output()
            .map_err(|e| format!("sandbox: cannot run git in {}: {e}", worktree.display()))?;
        if !out.status.success() {
            return Err(format!(
                "sandbox: {} is not a git worktree ({})",
                worktree.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let (Some(git_dir), Some(common)) = (lines.next(), lines.next()) else {
            return Err(format!(
                "sandbox: git rev-parse in {} printed no git dirs",
                worktree.display()
            ));
        };
        if git_dir == common {
            // Binding the git dir writable would hand over every ref, main's included.
            return Err(format!(
                "sandbox: {} is a repository's own checkout, not a linked worktree; the sandbox \
                 keeps main out of reach only from a linked worktree (brl's sessions always run \
                 in one: fix the worktree, or set [agent] sandbox = \"none\")",
                worktree.display()
            ));
        }
        Ok(Plan {
            worktree: worktree.to_path_buf(),
            git_dir: PathBuf::from(git_dir),
            common_dir: PathBuf::from(common),
            branch: branch.map(str::to_string),
            home: home.to_path_buf(),
            user_home: std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|h| h.is_absolute()),
            preset,
        })
    }

    /// Create what must exist before it can be bound (the branch's reflog dir, the preset's state
    /// dirs); bwrap refuses to bind a missing source.
    pub fn prepare(&self) -> std::io::Result<()> {
        for d in self.branch_dirs() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::create_dir_all(self.home.join("logs"))?;
        if let Some(h) = &self.user_home {
            // Directories only: files such as `.claude.json` are bound when they exist.
            for d in self.preset.state_dirs().iter().filter(|d| !is_file_like(d)) {
                std::fs::create_dir_all(h.join(d))?;
            }
        }
        Ok(())
    }

    /// `refs/heads/<branch's parent>` and `logs/refs/heads/<branch's parent>`.
    fn branch_dirs(&self) -> Vec<PathBuf> {
        let Some(parent) = self.branch.as_deref().and_then(|b| b.rsplit_once('/')) else {
            return Vec::new();
        };
        let parent = parent.0;
        vec![
            self.common_dir.join("refs/heads").join(parent),
            self.common_dir.join("logs/refs/heads").join(parent),
        ]
    }

    /// The bwrap arguments (without the program and without the command after `--`).
    pub fn bwrap_args(&self) -> Vec<String> {
        self.bwrap_args_showing(&[])
    }

    /// [`Self::bwrap_args`], with `extra` directories shown again read-only under the private
    /// `/tmp` (the agent's program and brl's own executable may live there).
    pub fn bwrap_args_showing(&self, extra: &[PathBuf]) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        let mut push = |args: &[&str], p: &Path| {
            a.extend(args.iter().map(|s| s.to_string()));
            let s = p.display().to_string();
            a.push(s.clone());
            if matches!(args, ["--bind"] | ["--ro-bind"]) {
                a.push(s);
            }
        };
        push(&["--ro-bind"], Path::new("/"));
        push(&["--dev"], Path::new("/dev"));
        push(&["--proc"], Path::new("/proc"));
        push(&["--tmpfs"], Path::new("/tmp"));
        // Under the private /tmp, what lived in the real /tmp is gone: show the user's checkout
        // and the brl home again, read-only (a no-op elsewhere).
        let repo = self.repo_root();
        for p in [
            repo.as_deref(),
            Some(self.common_dir.as_path()),
            Some(self.home.as_path()),
        ]
        .into_iter()
        .flatten()
        .chain(extra.iter().map(PathBuf::as_path))
        {
            push(&["--ro-bind"], p);
        }
        // Writable: the worktree, its private git dir, the objects, the session's branch dirs.
        push(&["--bind"], &self.worktree);
        push(&["--bind"], &self.git_dir);
        push(&["--bind"], &self.common_dir.join("objects"));
        for d in self.branch_dirs() {
            push(&["--bind"], &d);
        }
        push(&["--bind"], &self.home.join("logs"));
        if let Some(h) = &self.user_home {
            for d in self.preset.state_dirs() {
                let p = h.join(d);
                if p.exists() {
                    push(&["--bind"], &p);
                }
            }
            for s in HOME_SECRETS {
                hide(&mut a, &h.join(s));
            }
            for f in env_files(h, 0) {
                hide(&mut a, &f);
            }
        }
        if let Some(r) = &repo {
            for f in env_files(r, 3) {
                if !f.starts_with(&self.worktree) {
                    hide(&mut a, &f);
                }
            }
        }
        a.extend(
            [
                "--share-net",
                // As root, bwrap keeps the capabilities: CAP_SYS_ADMIN would let the agent
                // remount `/` read-write and write anywhere. None are needed.
                "--cap-drop",
                "ALL",
                "--unshare-pid",
                "--new-session",
                "--die-with-parent",
                "--chdir",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        a.push(self.worktree.display().to_string());
        a
    }

    /// The user's checkout: the common dir's parent when it is named `.git`.
    fn repo_root(&self) -> Option<PathBuf> {
        (self.common_dir.file_name()? == ".git")
            .then(|| self.common_dir.parent().map(Path::to_path_buf))
            .flatten()
    }

    /// `command` (run by `sh -c`) wrapped so it runs under bwrap, the same way. Programs the
    /// command names by an absolute path under `/tmp`, and brl's own executable (the gate hook
    /// runs it), stay visible under the private `/tmp`.
    pub fn wrap(&self, command: &str) -> String {
        let mut extra: Vec<PathBuf> = shlex::split(command)
            .unwrap_or_default()
            .iter()
            .flat_map(|w| w.split('=').map(str::to_string).collect::<Vec<_>>())
            .map(PathBuf::from)
            .chain(std::env::current_exe().ok())
            .filter(|p| p.is_absolute() && p.starts_with("/tmp") && p.exists())
            .filter_map(|p| {
                if p.is_dir() {
                    Some(p)
                } else {
                    p.parent().map(Path::to_path_buf)
                }
            })
            .filter(|d| d != Path::new("/tmp"))
            .collect();
        extra.sort();
        extra.dedup();
        let mut s = String::from("exec bwrap");
        for arg in self.bwrap_args_showing(&extra) {
            s.push(' ');
            s.push_str(&shell_quote(&arg));
        }
        s.push_str(" -- sh -c ");
        s.push_str(&shell_quote(command));
        s
    }
}

/// Hide `p` when it exists: an empty tmpfs over a directory, an empty file over anything else.
fn hide(a: &mut Vec<String>, p: &Path) {
    let Ok(meta) = std::fs::symlink_metadata(p) else {
        return;
    };
    let s = p.display().to_string();
    if meta.is_dir() {
        a.extend(["--tmpfs".to_string(), s]);
    } else if meta.is_file() {
        a.extend(["--ro-bind".to_string(), "/dev/null".to_string(), s]);
    }
}

/// `.env` and `.env.*` files under `dir`, `depth` levels down, skipping `.git`, `node_modules`
/// and `target`.
fn env_files(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_file() && (name == ".env" || name.starts_with(".env.")) {
            out.push(e.path());
        } else if ft.is_dir()
            && depth > 0
            && !matches!(name.as_str(), ".git" | "node_modules" | "target")
        {
            out.extend(env_files(&e.path(), depth - 1));
        }
    }
    out
}

fn is_file_like(rel: &str) -> bool {
    rel.rsplit('/')
        .next()
        .is_some_and(|last| last.trim_start_matches('.').contains('.'))
}

/// Single-quote `s` for `sh`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-=+:,@%".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Whether `bwrap` is an executable file in a directory of `$PATH` (cheap: no process is run).
pub fn on_path() -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| {
            std::fs::metadata(d.join("bwrap"))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Whether bwrap is installed and can build a sandbox here; the error names the package and the
/// fix.
pub fn check_available() -> Result<(), String> {
    let out = Command::new("bwrap")
        .args([
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "true",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "[agent] sandbox = \"bwrap\" but bwrap cannot build a sandbox here: {} (fix: allow \
             unprivileged user namespaces, run as a user bwrap works for, or set [agent] sandbox \
             = \"none\")",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!(
            "[agent] sandbox = \"bwrap\" but `bwrap` cannot be run ({e}) (fix: install the \
             `bubblewrap` package, e.g. `apt-get install bubblewrap`, or set [agent] sandbox = \
             \"none\")"
        )),
    }
}

#[cfg(test)]
#[path = "sandbox_tests.rs"]
mod tests;
