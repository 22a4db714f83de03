//! `[worktree] setup`: the command that makes a worktree brl owns ready for the checks (installing
//! the project's dependencies), run only when needed.
//!
//! **When it runs.** The setup is keyed by the command's text and the contents of each
//! `[worktree] setup_inputs` file as the worktree holds them (a missing file counts as
//! "missing"). The key of the last successful setup of a worktree is recorded in a stamp file
//! OUTSIDE the worktree, `<home>/logs/worktrees/<dir name>-<hash of its path>.setup.json`, together
//! with the identity of the worktree's `.git` file (device, inode, modification time), so a
//! worktree that was deleted and made afresh runs the setup again. Same key and same worktree:
//! nothing runs ([`SetupRun::UpToDate`]). Otherwise the stamp is removed, the command runs with
//! `sh -c` in the worktree as its own process group (timeout `[worktree] setup_timeout_secs`,
//! cancel flag, env `BRL_HOME`), its output goes to `<log_prefix>.setup.log`, and a
//! `worktree_setup` entry is appended to the experiment log whether it succeeded or not.
//!
//! **What it may leave.** Whatever the setup writes must be ignored by git (`node_modules/`,
//! `.venv/`, `target/`): an untracked file it leaves that git does not ignore, or a tracked file it
//! changes, would be taken as the agent's work. Either is a [`SetupError`] naming the files, and
//! the stamp is not written.
//!
//! **Concurrency.** Two processes ensuring the same worktree serialize on
//! `<home>/logs/locks/worktree-setup-<dir name>-<hash>.lock`; the second then finds the stamp.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::Config;
use crate::home::{Home, short_hash};
use crate::proc;
use crate::store::atomic::{LockGuard, write_atomic};
use crate::store::log::{self, Entry};

/// The output tail kept in the log entry and in the error text.
const TAIL_BYTES: usize = 2048;
/// How many offending files an error names.
const NAMED_FILES: usize = 5;
const STAMP_VERSION: u32 = 1;

mod report;
#[cfg(test)]
mod tests;

use report::{check_left, describe_end, status, tail};

/// One worktree to make ready, and where the setup's traces go.
pub struct SetupCtx<'a> {
    pub home: &'a Home,
    pub config: &'a Config,
    /// The worktree, already at the commit to work on or measure.
    pub worktree: &'a Path,
    /// The `session` of the log entry: the session whose worktree this is (`None` for a job's).
    pub session: Option<&'a str>,
    /// The output is saved as `<log_prefix>.setup.log`.
    pub log_prefix: &'a Path,
    pub cancel: Option<&'a AtomicBool>,
    /// See [`proc::Spec::pgid_file`].
    pub pgid_file: Option<PathBuf>,
}

/// What [`ensure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupRun {
    /// No `[worktree] setup` in brl.toml.
    NotConfigured,
    /// The last successful setup of this worktree had the same key: nothing ran.
    UpToDate { key: String },
    /// The setup ran and succeeded.
    Ran {
        key: String,
        duration: Duration,
        output: PathBuf,
    },
}

/// Why a worktree could not be made ready. The text names the command, the worktree and what to
/// do; a failed run carries its exit and the tail of its output.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "worktree setup `{command}` failed ({end}) in {worktree}: {tail}\n  (whole output: {output}; `[worktree] setup` in brl.toml)",
        worktree = .worktree.display(), output = .output.display()
    )]
    Failed {
        command: String,
        worktree: PathBuf,
        /// "exit 1", "killed by signal 9", "ran past [worktree] setup_timeout_secs = 900".
        end: String,
        tail: String,
        output: PathBuf,
    },
    #[error(
        "worktree setup `{command}` left files in {worktree} that git does not ignore: {files}; they would be taken as the agent's work\n  fix: add them to .gitignore in the target repository (and commit it), or make the setup write elsewhere",
        worktree = .worktree.display()
    )]
    NotIgnored {
        command: String,
        worktree: PathBuf,
        files: String,
    },
    #[error(
        "worktree setup `{command}` changed files git tracks in {worktree}: {files}; they would be taken as the agent's work\n  fix: use a setup that leaves committed files as they are (e.g. `npm ci`, not `npm install`), or commit what it writes"
    , worktree = .worktree.display())]
    ChangedTracked {
        command: String,
        worktree: PathBuf,
        files: String,
    },
    #[error(
        "worktree setup: cannot read `{input}` of [worktree] setup_inputs in {worktree}: {why}\n  fix: list files (not directories) of the repository, e.g. [\"package-lock.json\"]",
        worktree = .worktree.display()
    )]
    Input {
        input: String,
        worktree: PathBuf,
        why: String,
    },
    #[error("worktree setup: {0}")]
    Git(String),
    #[error("worktree setup stopped by a signal")]
    Cancelled,
    #[error("worktree setup: {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SetupError {
    let what = what.into();
    move |source| SetupError::Io { what, source }
}

/// The record of the last successful setup of one worktree.
#[derive(Debug, Serialize, Deserialize)]
struct Stamp {
    version: u32,
    key: String,
    worktree: PathBuf,
    /// The worktree's `.git` (device, inode, mtime): changes when the worktree is made afresh.
    identity: String,
    at: chrono::DateTime<chrono::Utc>,
}

/// Where the stamp of `worktree` lives (outside the worktree, so no checkout removes it and no
/// branch ever holds it).
pub fn stamp_path(home: &Home, worktree: &Path) -> PathBuf {
    home.logs_dir()
        .join("worktrees")
        .join(format!("{}.setup.json", file_key(worktree)))
}

fn lock_path(home: &Home, worktree: &Path) -> PathBuf {
    home.locks_dir()
        .join(format!("worktree-setup-{}.lock", file_key(worktree)))
}

/// `<dir name>-<hash of the absolute path>`: readable, and unique per worktree.
fn file_key(worktree: &Path) -> String {
    let abs = std::path::absolute(worktree).unwrap_or_else(|_| worktree.to_path_buf());
    let name: String = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let h = short_hash(abs.as_os_str().as_encoded_bytes());
    format!("{name}-{h:08x}")
}

/// Make `ctx.worktree` ready: run `[worktree] setup` there unless its last successful run had the
/// same key. See the module's documentation for the key, the stamp, the log entry and the errors.
pub fn ensure(ctx: &SetupCtx) -> Result<SetupRun, SetupError> {
    let wt = &ctx.config.worktree;
    let Some(command) = wt.setup_command() else {
        return Ok(SetupRun::NotConfigured);
    };
    let identity = identity(ctx.worktree)?;
    let key = setup_key(command, &wt.setup_inputs, ctx.worktree)?;
    let stamp_file = stamp_path(ctx.home, ctx.worktree);
    let lock = lock_path(ctx.home, ctx.worktree);
    std::fs::create_dir_all(ctx.home.locks_dir())
        .map_err(io(format!("creating {}", ctx.home.locks_dir().display())))?;
    let _guard = LockGuard::exclusive(&lock).map_err(io(format!("locking {}", lock.display())))?;
    if let Some(s) = read_stamp(&stamp_file)
        && s.key == key
        && s.identity == identity
    {
        return Ok(SetupRun::UpToDate { key });
    }
    // A half-done run must not look done later, whatever the key was.
    match std::fs::remove_file(&stamp_file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(format!("removing {}", stamp_file.display()))(e)),
    }
    let before = status(ctx.worktree)?;
    let output = PathBuf::from(format!("{}.setup.log", ctx.log_prefix.display()));
    let run = run_setup(ctx, command, &output)?;
    let tail = tail(&run.output);
    let mut result = match run.end {
        proc::End::Exited(0) => Ok(()),
        proc::End::Cancelled => Err(SetupError::Cancelled),
        end => Err(SetupError::Failed {
            command: command.to_string(),
            worktree: ctx.worktree.to_path_buf(),
            end: describe_end(end, wt.setup_timeout_secs.get()),
            tail: if tail.trim().is_empty() {
                "(no output)".into()
            } else {
                tail.clone()
            },
            output: output.clone(),
        }),
    };
    if result.is_ok() {
        result = check_left(command, ctx.worktree, &before, &status(ctx.worktree)?);
    }
    let (exit, end) = match run.end {
        proc::End::Exited(c) => (Some(c), "exited"),
        proc::End::Signaled(_) => (None, "signaled"),
        proc::End::TimedOut => (None, "timed_out"),
        proc::End::Cancelled => (None, "cancelled"),
    };
    let entry = Entry::new(
        "worktree_setup",
        ctx.session,
        json!({
            "worktree": ctx.worktree.display().to_string(),
            "command": command,
            "inputs": wt.setup_inputs,
            "key": key,
            "ok": result.is_ok(),
            "exit": exit,
            "end": end,
            "duration_ms": run.duration.as_millis() as u64,
            "output_tail": tail,
            "output": output.display().to_string(),
            "error": result.as_ref().err().map(|e| e.to_string()),
        }),
    );
    log::append_or_report(&ctx.home.log_path(), &entry);
    result?;
    let stamp = Stamp {
        version: STAMP_VERSION,
        key: key.clone(),
        worktree: ctx.worktree.to_path_buf(),
        identity,
        at: chrono::Utc::now(),
    };
    let bytes = serde_json::to_vec_pretty(&stamp).map_err(|e| SetupError::Io {
        what: "encoding the setup stamp".into(),
        source: std::io::Error::other(e),
    })?;
    if let Some(dir) = stamp_file.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    }
    write_atomic(&stamp_file, &bytes).map_err(io(format!("writing {}", stamp_file.display())))?;
    Ok(SetupRun::Ran {
        key,
        duration: run.duration,
        output,
    })
}

fn run_setup(ctx: &SetupCtx, command: &str, output: &Path) -> Result<proc::Run, SetupError> {
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    }
    let mut out =
        std::fs::File::create(output).map_err(io(format!("creating {}", output.display())))?;
    let spec = proc::Spec {
        command,
        cwd: ctx.worktree,
        env: vec![("BRL_HOME".into(), ctx.home.root().display().to_string())],
        stdin: None,
        timeout: Duration::from_secs(ctx.config.worktree.setup_timeout_secs.get()),
        cancel: ctx.cancel,
        pgid_file: ctx.pgid_file.clone(),
    };
    proc::run(spec, &mut |chunk| {
        let _ = out.write_all(chunk);
    })
    .map_err(io(format!(
        "running `{command}` in {}",
        ctx.worktree.display()
    )))
}

/// The setup's key: the command's text and each input's path and contents (SHA-1, as git hashes
/// a blob; a missing input counts as "missing").
pub fn setup_key(command: &str, inputs: &[String], worktree: &Path) -> Result<String, SetupError> {
    let mut material = format!("brl worktree setup v1\0{command}\0");
    for input in inputs {
        let path = worktree.join(input);
        let content = match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "missing".to_string(),
            Err(e) => return Err(input_error(input, worktree, e.to_string())),
            Ok(m) if !m.is_file() => {
                return Err(input_error(input, worktree, "not a file".into()));
            }
            Ok(_) => git2::Oid::hash_file(git2::ObjectType::Blob, &path)
                .map_err(|e| input_error(input, worktree, e.message().to_string()))?
                .to_string(),
        };
        material.push_str(&format!("{input}\0{content}\0"));
    }
    git2::Oid::hash_object(git2::ObjectType::Blob, material.as_bytes())
        .map(|o| o.to_string())
        .map_err(|e| SetupError::Git(format!("hashing the setup key: {}", e.message())))
}

fn input_error(input: &str, worktree: &Path, why: String) -> SetupError {
    SetupError::Input {
        input: input.to_string(),
        worktree: worktree.to_path_buf(),
        why,
    }
}

/// The identity of the worktree's `.git`: a worktree deleted and made afresh gets a new one.
fn identity(worktree: &Path) -> Result<String, SetupError> {
    let dot_git = worktree.join(".git");
    let m = std::fs::symlink_metadata(&dot_git).map_err(|e| {
        SetupError::Git(format!(
            "{} is not a git worktree ({}: {e})",
            worktree.display(),
            dot_git.display()
        ))
    })?;
    Ok(if m.is_file() {
        format!("{}:{}:{}.{}", m.dev(), m.ino(), m.mtime(), m.mtime_nsec())
    } else {
        format!("{}:{}", m.dev(), m.ino())
    })
}

fn read_stamp(path: &Path) -> Option<Stamp> {
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str::<Stamp>(&text) {
        Ok(s) if s.version == STAMP_VERSION => Some(s),
        Ok(s) => {
            tracing::warn!(
                "setup stamp {} has version {} (this brl writes {STAMP_VERSION}); running the setup again",
                path.display(),
                s.version
            );
            None
        }
        Err(e) => {
            tracing::warn!(
                "setup stamp {} is unreadable ({e}); running the setup again",
                path.display()
            );
            None
        }
    }
}
