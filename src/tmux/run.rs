//! Running `tmux` (the binary on PATH, through `tmux_interface`) and its errors.

use std::borrow::Cow;
use std::process::{Command, Stdio};

use tmux_interface as ti;

use super::Tmux;

/// A tmux command that could not run or failed. Each message names the command and the fix.
#[derive(Debug, thiserror::Error)]
pub enum TmuxError {
    #[error(
        "tmux is not installed or not on PATH (needed to run `{command}`)\n  fix: install tmux 3.2 or newer, e.g. `apt-get install tmux` or `brew install tmux`"
    )]
    NotInstalled { command: String },
    #[error("cannot run `{command}`: {source}\n  fix: check that `tmux` on PATH is executable")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed on {server}: {stderr}\n  fix: {fix}")]
    Failed {
        command: String,
        /// Which server: "the tmux server on socket `x`" or "your default tmux server".
        server: String,
        stderr: String,
        fix: String,
    },
    #[error(
        "`{command}` printed {output:?}, expected a pane id like %3\n  fix: check that `tmux` on PATH is tmux 3.2 or newer (`tmux -V`)"
    )]
    Unexpected { command: String, output: String },
    #[error(
        "`{command}` printed a line brl cannot read: {line:?} (its fields are separated by \\x1f)\n  fix: check that `tmux` on PATH is tmux 3.2 or newer (`tmux -V`) and that no window or session name contains the character \\x1f"
    )]
    Unreadable { command: String, line: String },
    #[error("{message}")]
    InvalidInput { message: String },
    #[error(
        "cannot reach host `{host}` ({dest}) to run `{command}`: {stderr}\n  fix: check that `ssh {dest}` works from this machine and that the host is up"
    )]
    Unreachable {
        host: String,
        dest: String,
        command: String,
        stderr: String,
    },
}

impl Tmux {
    /// `tmux [-L socket] <cmds joined by ;>`, not yet run; full command names (`list-panes`,
    /// not tmux_interface's default `lsp`) so messages and logs read plainly.
    pub(super) fn builder<'a>(&'a self, mut cmds: ti::TmuxCommands<'a>) -> ti::Tmux<'a> {
        for cmd in &mut cmds.commands {
            cmd.not_use_alias();
        }
        let tmux = ti::Tmux::with_commands(cmds);
        self.on_socket(tmux)
    }

    /// [`Tmux::builder`] for the commands whose output brl reads: with `-u`. A tmux client whose
    /// `LC_ALL`/`LC_CTYPE`/`LANG` does not say UTF-8 (unset or `C`: PM2, cron, systemd, ssh without
    /// locale forwarding) prints every control character and non-ASCII byte of a format as `_`
    /// (tmux 3.3a), brl's field separator and any non-ASCII home path included; `-u` makes the
    /// client print them as they are, whatever the locale. Attaching a terminal is left to the
    /// user's locale (see [`Tmux::attach_command`]).
    pub(super) fn reading<'a>(&'a self, mut cmds: ti::TmuxCommands<'a>) -> ti::Tmux<'a> {
        for cmd in &mut cmds.commands {
            cmd.not_use_alias();
        }
        self.on_socket(ti::Tmux::with_commands(cmds).force_utf8())
    }

    /// The `Command` that runs a built tmux command line: on this machine as it is, on a host
    /// through its `ssh` — the one place every tmux call passes.
    pub(super) fn command(&self, mut cmd: Command) -> Command {
        // Inside a tmux pane `$TMUX_PANE` makes the caller's pane the default target (tmux 3.3a,
        // even with `$TMUX` unset): the commands chained after `new-session`, meant for the new
        // pane, would tag the pane brl itself runs in (a dashboard, a control room started by
        // hand in tmux).
        cmd.env_remove("TMUX").env_remove("TMUX_PANE");
        match &self.remote {
            Some(ssh) => ssh.wrap(&cmd),
            None => cmd,
        }
    }

    fn on_socket<'a>(&'a self, tmux: ti::Tmux<'a>) -> ti::Tmux<'a> {
        match &self.socket {
            Some(socket) => tmux.socket_name(socket.as_str()),
            None => tmux,
        }
    }

    /// Runs `tmux [-L socket] <cmds joined by ;>` with stdin closed; returns the command line
    /// (for messages) and stdout.
    pub(super) fn run(&self, cmds: ti::TmuxCommands) -> Result<(String, String), TmuxError> {
        let mut cmd = self.command(self.reading(cmds).into_command());
        cmd.stdin(Stdio::null());
        let command = describe(&cmd);
        let out = match cmd.output() {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(TmuxError::NotInstalled { command });
            }
            Err(source) => return Err(TmuxError::Spawn { command, source }),
        };
        if out.status.success() {
            return Ok((command, String::from_utf8_lossy(&out.stdout).into_owned()));
        }
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        // ssh's own failure (tmux never exits 255): the host, not tmux, is the problem.
        if let Some(ssh) = &self.remote
            && out.status.code() == Some(255)
        {
            return Err(TmuxError::Unreachable {
                host: ssh.host.clone(),
                dest: ssh.dest().to_string(),
                command,
                stderr,
            });
        }
        let mut server = match &self.socket {
            Some(s) => format!("the tmux server on socket `{s}`"),
            None => "your default tmux server".to_string(),
        };
        if let Some(ssh) = &self.remote {
            server.push_str(&format!(" of host `{}`", ssh.host));
        }
        let fix = if stderr.contains("no space for new pane") {
            "the sessions window is full: set `[tmux] layout = \"windows\"` in brl.toml (one window per session)".to_string()
        } else {
            let mut ls = match &self.socket {
                Some(s) => format!("tmux -L {s} ls"),
                None => "tmux ls".to_string(),
            };
            if let Some(ssh) = &self.remote {
                ls = format!("ssh {} {ls}", ssh.dest());
            }
            format!("run the command by hand to see what tmux needs; `{ls}` lists its sessions")
        };
        Err(TmuxError::Failed {
            command,
            server,
            stderr,
            fix,
        })
    }
}

/// tmux reads an argument ending in `;` as a command separator; `\;` keeps it literal.
pub(super) fn esc(arg: &str) -> Cow<'_, str> {
    match arg.strip_suffix(';') {
        Some(rest) => Cow::Owned(format!("{rest}\\;")),
        None => Cow::Borrowed(arg),
    }
}

/// Whether tmux said there is no server on the socket (it exits when its last session ends;
/// a client that connected while it was exiting says "server exited unexpectedly").
pub(super) fn no_server(stderr: &str) -> bool {
    stderr.contains("no server running")
        || stderr.contains("server exited unexpectedly")
        || (stderr.contains("error connecting to") && stderr.contains("No such file"))
}

/// The command line, shell-quoted where needed and with control characters escaped (the
/// `list-panes` format's `\x1f` shows as `\u{1f}`), for messages.
pub(super) fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        let plain = !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_=:%@/.,;".contains(c));
        parts.push(if plain {
            arg.into_owned()
        } else {
            let quoted: String = arg
                .chars()
                .map(|c| match c {
                    '\'' => r"'\''".to_string(),
                    c if c.is_control() => c.escape_default().to_string(),
                    c => c.to_string(),
                })
                .collect();
            format!("'{quoted}'")
        });
    }
    parts.join(" ")
}
