//! The system `ssh`, multiplexed: one master connection per host (OpenSSH's ControlMaster), which
//! every command, tmux call and `git fetch` to that host rides, however many sessions it runs.
//!
//! The master is started on its own (`ssh -f -N -o ControlMaster=yes`, its stdio on /dev/null and
//! a log file) rather than by the first command with `ControlPersist`: a master forked by a command
//! keeps that command's stderr open, so whoever reads the command's output would wait for the
//! master to exit. Commands use `ControlMaster=auto`: with the master gone they still work, as a
//! connection of their own, until the next [`Ssh::ensure_master`].

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::HostConfig;
use crate::home::{Home, short_hash};

/// How long a master with no client lingers (the control room talks to each host far more often).
const PERSIST_SECS: u32 = 300;

/// One host's `ssh`.
#[derive(Debug, Clone)]
pub struct Ssh {
    pub host: String,
    dest: String,
    port: Option<u16>,
    identity: Option<PathBuf>,
    options: Vec<String>,
    control_path: PathBuf,
    master_log: PathBuf,
}

/// What running a command on a host gave.
#[derive(Debug)]
pub struct Output {
    pub status: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.status == Some(0)
    }
}

/// A command that could not reach its host, or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error(
        "cannot run ssh for host `{host}`: {source}\n  fix: install the OpenSSH client (`apt-get install openssh-client`)"
    )]
    Spawn {
        host: String,
        source: std::io::Error,
    },
    #[error(
        "host `{host}` is unreachable ({dest}): {reason}\n  fix: check that `ssh {dest}` works from this machine without a password prompt (a key in ssh-agent or `identity` in [[hosts]]), and that the host is up"
    )]
    Unreachable {
        host: String,
        dest: String,
        reason: String,
    },
    #[error(
        "`{what}` on host `{host}` did not finish within {secs} s and was stopped\n  fix: check the host's load and network (`ssh {dest} uptime`)"
    )]
    TimedOut {
        host: String,
        dest: String,
        what: String,
        secs: u64,
    },
}

/// Quote one word for the remote user's POSIX shell.
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

impl Ssh {
    pub fn new(home: &Home, host: &HostConfig) -> Ssh {
        // A unix socket path holds at most 107 bytes: the socket goes under the temp dir, named
        // by the home's hash and the host, not under a home of any depth.
        let tag = short_hash(home.root().as_os_str().as_encoded_bytes());
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        let control_path = std::env::temp_dir()
            .join(format!("brl-ssh-{uid}"))
            .join(format!("{tag:08x}-{}", host.name));
        Ssh {
            host: host.name.clone(),
            dest: host.ssh.clone(),
            port: host.port,
            identity: host.identity.clone(),
            options: host.options.clone(),
            control_path,
            master_log: home
                .logs_dir()
                .join("hosts")
                .join(format!("{}.ssh.log", host.name)),
        }
    }

    pub fn dest(&self) -> &str {
        &self.dest
    }

    pub fn control_path(&self) -> &Path {
        &self.control_path
    }

    /// The options every ssh of this host gets (before the destination).
    fn base_args(&self, master: &str) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        let mut o = |s: String| {
            a.push("-o".into());
            a.push(s.into());
        };
        o("BatchMode=yes".into());
        o("ConnectTimeout=10".into());
        o("ServerAliveInterval=5".into());
        o("ServerAliveCountMax=3".into());
        o(format!("ControlMaster={master}"));
        o(format!("ControlPath={}", self.control_path.display()));
        for opt in &self.options {
            o(opt.clone());
        }
        if let Some(p) = self.port {
            a.push("-p".into());
            a.push(p.to_string().into());
        }
        if let Some(i) = &self.identity {
            a.push("-i".into());
            a.push(i.clone().into());
        }
        a
    }

    /// `ssh <options> <dest> -- <argv, quoted for the remote shell>`, not yet run.
    pub fn command(&self, argv: &[&str]) -> Command {
        let line: Vec<String> = argv.iter().map(|w| quote(w)).collect();
        self.shell(&line.join(" "))
    }

    /// `ssh <options> <dest> -- <line>`: `line` is run by the remote user's shell as it is.
    pub fn shell(&self, line: &str) -> Command {
        let mut c = Command::new("ssh");
        c.args(self.base_args("auto"));
        c.arg("-T").arg(&self.dest).arg("--").arg(line);
        c
    }

    /// The same command run on the host: `cmd`'s program, arguments, environment and directory
    /// (the latter two as `cd <dir> && env K=V …` on the host).
    pub fn wrap(&self, cmd: &Command) -> Command {
        let mut line = String::new();
        if let Some(dir) = cmd.get_current_dir() {
            line.push_str(&format!("cd {} && ", quote(&dir.to_string_lossy())));
        }
        let envs: Vec<String> = cmd
            .get_envs()
            .filter_map(|(k, v)| {
                v.map(|v| format!("{}={}", k.to_string_lossy(), quote(&v.to_string_lossy())))
            })
            .collect();
        if !envs.is_empty() {
            line.push_str("env ");
            line.push_str(&envs.join(" "));
            line.push(' ');
        }
        line.push_str(&quote(&cmd.get_program().to_string_lossy()));
        for a in cmd.get_args() {
            line.push(' ');
            line.push_str(&quote(&a.to_string_lossy()));
        }
        self.shell(&line)
    }

    /// `GIT_SSH_COMMAND` for git to reach this host through the master (git appends the
    /// destination and its own command).
    pub fn git_ssh_command(&self) -> String {
        let mut words = vec!["ssh".to_string()];
        words.extend(
            self.base_args("auto")
                .iter()
                .map(|a| quote(&a.to_string_lossy())),
        );
        words.join(" ")
    }

    /// A git remote URL for `path` on the host (scp-like: relative paths are relative to the
    /// remote user's home; the port rides in [`Ssh::git_ssh_command`]).
    pub fn git_url(&self, path: &str) -> String {
        format!("{}:{}", self.dest, path)
    }

    /// Whether the master connection is up (`ssh -O check`).
    pub fn master_running(&self) -> bool {
        Command::new("ssh")
            .args(self.base_args("no"))
            .args(["-O", "check"])
            .arg(&self.dest)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// Start the master connection unless it runs: `ssh -f -N` returns once it is connected and
    /// authenticated, so a failure is known here, in ssh's own words.
    pub fn ensure_master(&self) -> Result<(), SshError> {
        if self.master_running() {
            return Ok(());
        }
        if let Some(dir) = self.control_path.parent() {
            let _ = std::fs::create_dir_all(dir);
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
        // A master that no longer answers `-O check` is asked to exit (else it would linger
        // beside the new one until its idle timeout); a socket left by a master that was killed
        // makes ssh refuse to listen there.
        if self.control_path.exists() {
            self.close();
        }
        let _ = std::fs::remove_file(&self.control_path);
        if let Some(dir) = self.master_log.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.master_log)
            .ok();
        let mut c = Command::new("ssh");
        c.args(self.base_args("yes"))
            .args(["-o", &format!("ControlPersist={PERSIST_SECS}")])
            .args(["-f", "-N"])
            .arg(&self.dest)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let before = log
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map(|m| m.len())
            .unwrap_or(0);
        match log {
            Some(f) => c.stderr(f),
            None => c.stderr(Stdio::null()),
        };
        let status = c.status().map_err(|source| SshError::Spawn {
            host: self.host.clone(),
            source,
        })?;
        if status.success() {
            return Ok(());
        }
        let reason = std::fs::read(&self.master_log)
            .ok()
            .map(|b| {
                let tail = b.get(before as usize..).unwrap_or(&[]);
                String::from_utf8_lossy(tail).trim().to_string()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("ssh exited with {status}"));
        Err(SshError::Unreachable {
            host: self.host.clone(),
            dest: self.dest.clone(),
            reason,
        })
    }

    /// Stop the master connection (`ssh -O exit`); commands in flight end with it.
    pub fn close(&self) {
        let _ = Command::new("ssh")
            .args(self.base_args("no"))
            .args(["-O", "exit"])
            .arg(&self.dest)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Run `argv` on the host, `stdin` written to it, stopped after `timeout`. Exit 255 is ssh's
    /// own failure (unreachable, refused, dropped): an error, not the command's status.
    pub fn run(
        &self,
        argv: &[&str],
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Output, SshError> {
        let what = argv.join(" ");
        self.run_command(self.command(argv), &what, stdin, timeout)
    }

    /// [`Ssh::run`] for a command made by [`Ssh::command`], [`Ssh::shell`] or [`Ssh::wrap`].
    pub fn run_command(
        &self,
        mut cmd: Command,
        what: &str,
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Output, SshError> {
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|source| SshError::Spawn {
            host: self.host.clone(),
            source,
        })?;
        let input = stdin.map(<[u8]>::to_vec);
        let mut pipe_in = child.stdin.take();
        let writer = std::thread::spawn(move || {
            if let (Some(p), Some(bytes)) = (pipe_in.as_mut(), input) {
                let _ = p.write_all(&bytes);
            }
        });
        // Through the master the host's end holds these pipes (ssh passes them over the control
        // socket): after a timeout they close only when the remote command ends, so the readers
        // are waited for a moment and then left behind, never joined blindly.
        let (out_tx, out_rx) = std::sync::mpsc::channel();
        let (err_tx, err_rx) = std::sync::mpsc::channel();
        if let Some(mut p) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut b = Vec::new();
                let _ = p.read_to_end(&mut b);
                let _ = out_tx.send(b);
            });
        }
        if let Some(mut p) = child.stderr.take() {
            std::thread::spawn(move || {
                let mut b = Vec::new();
                let _ = p.read_to_end(&mut b);
                let _ = err_tx.send(b);
            });
        }
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if start.elapsed() >= timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => break None,
            }
        };
        // The writer is not joined: a host that never reads its stdin must not hold this up.
        drop(writer);
        let linger = if status.is_some() {
            Duration::from_secs(5)
        } else {
            Duration::from_millis(200)
        };
        let stdout = out_rx.recv_timeout(linger).unwrap_or_default();
        let stderr = String::from_utf8_lossy(&err_rx.recv_timeout(linger).unwrap_or_default())
            .trim()
            .to_string();
        let Some(status) = status else {
            return Err(SshError::TimedOut {
                host: self.host.clone(),
                dest: self.dest.clone(),
                what: what.to_string(),
                secs: timeout.as_secs(),
            });
        };
        if status.code() == Some(255) {
            return Err(SshError::Unreachable {
                host: self.host.clone(),
                dest: self.dest.clone(),
                reason: if stderr.is_empty() {
                    "ssh exited with status 255".into()
                } else {
                    stderr
                },
            });
        }
        Ok(Output {
            status: status.code(),
            stdout,
            stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_keeps_words_whole() {
        assert_eq!(quote("plain/path-1.txt"), "plain/path-1.txt");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }
}
