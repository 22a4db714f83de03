//! The tmux adapter: the panes brl's workers live in, found by tags, never by guesswork.
//!
//! Every pane brl creates carries two pane user options, `@brl_home` (which home it belongs to)
//! and `@brl_session` (which brl session runs in it), plus `remain-on-exit on` so a crashed
//! worker leaves a dead pane to read and respawn. Panes without our tag are never touched.
//!
//! Commands are built with `tmux_interface` and run as the `tmux` found on PATH. Verified on
//! tmux 3.3a (pane options need tmux 3.0a or newer):
//! - `#{@brl_home}` in a `list-panes -F` format reads a pane user option;
//! - in a `;`-chained invocation, the commands after `new-session`, `new-window` or
//!   `split-window` target the new pane — but NOT when those are given `-d`, so we never pass
//!   `-d` to `new-window`/`split-window`. [`Tmux::create`] is therefore one atomic invocation:
//!   the pane is tagged, kept on exit and piped before the server reads any of its output;
//! - a `pipe-pane` survives the pane's death and `respawn-pane`, and `pipe-pane -o` on a pane
//!   that still has a pipe CLOSES it (it toggles), so [`Tmux::respawn`] closes and reopens it;
//! - session targets are prefix-matched (`-t brl` finds `brl-other`), so we use `-t =name`;
//! - an argument ending in `;` is read as a command separator, so such arguments are escaped;
//! - a pane is `dead` as soon as its pty closes; the exit status can come later (see
//!   [`Pane::dead_status`]).
//!
//! `tmux_interface` covers every command used here; `run.rs` runs them and shapes the errors.

use std::path::Path;
use std::process::Command;

use tmux_interface as ti;

pub mod control;
pub mod layout;
pub mod manners;
pub mod pane_log;
mod remote;
mod run;
#[cfg(test)]
mod tests;

pub use layout::{Layout, LayoutError, LayoutMode};
pub use run::TmuxError;
use run::{esc, no_server};

/// The pane option naming the brl home a pane belongs to.
pub const HOME_OPTION: &str = "@brl_home";
/// The pane option naming the brl session that runs in a pane.
pub const SESSION_OPTION: &str = "@brl_session";
/// The window holding all session panes in "panes" layouts.
pub const PANES_WINDOW: &str = "sessions";

/// Separates the fields of one `list-panes` line; it cannot appear in the tags brl writes. tmux
/// prints it verbatim only to a UTF-8 client (else as `_`), so every command brl reads runs as
/// `tmux -u` (see `run.rs`), whatever the locale.
const SEP: char = '\x1f';
const PANE_FORMAT: &str = "#{pane_id}\x1f#{session_name}\x1f#{window_id}\x1f#{@brl_home}\x1f#{@brl_session}\x1f#{pane_dead}\x1f#{pane_dead_status}\x1f#{pane_pid}\x1f#{window_name}\x1f#{pane_pipe}";

/// A handle on one tmux server: the user's default one, or `tmux -L <socket>` — on this machine,
/// or on a `[[hosts]]` host, where every command runs through that host's multiplexed `ssh`.
#[derive(Debug, Clone)]
pub struct Tmux {
    socket: Option<String>,
    /// The host the server runs on (`None`: this machine). Every command tmux_interface builds
    /// is wrapped by [`crate::hosts::Ssh::wrap`] in one place ([`Tmux::command`]).
    remote: Option<crate::hosts::Ssh>,
}

/// What [`Tmux::create`] needs to know about the pane to make.
#[derive(Debug, Clone, Copy)]
pub struct NewPane<'a> {
    /// The tmux session holding brl's panes (created when missing).
    pub tmux_session: &'a str,
    /// The value of `@brl_home`: which home owns the pane.
    pub home_tag: &'a str,
    /// The brl session, e.g. "s1" (the value of `@brl_session`).
    pub session: &'a str,
    /// The shell command the pane runs (via tmux's `default-shell -c`).
    pub command: &'a str,
    /// A shell command fed with the pane's output by `pipe-pane -o`.
    pub pipe_command: Option<&'a str>,
    pub layout: &'a Layout,
    /// The pane's working directory; tmux's default when `None`.
    pub cwd: Option<&'a Path>,
}

/// One tagged pane, as `list-panes` reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pane {
    /// The pane id, e.g. `%3`; stable for the pane's life, also across `respawn`.
    pub id: String,
    pub tmux_session: String,
    /// The window id, e.g. `@2`.
    pub window_id: String,
    pub window_name: String,
    /// `@brl_home`.
    pub home: String,
    /// `@brl_session`.
    pub session: String,
    /// The pane's process exited (the pane stays because of `remain-on-exit`).
    pub dead: bool,
    /// The exit status of a dead pane's process, when it exited normally. `None` for a pane
    /// killed by a signal, and also for a while for a newly dead pane: tmux sees the pty close
    /// before it reaps the process, and tmux 3.3a under load sometimes reaps it only when the
    /// next child of the server exits. `dead` is the reliable signal; this is informational.
    pub dead_status: Option<i32>,
    /// The pane's process id; `None` for a dead pane (that process is gone).
    pub pid: Option<u32>,
    /// Its output is piped (`pipe-pane`); a pipe survives the pane's death and a respawn.
    pub piped: bool,
}

impl Tmux {
    /// A handle on the user's default server (`None`) or on `tmux -L <socket>`.
    pub fn new(socket: Option<&str>) -> Tmux {
        Tmux {
            socket: socket.map(str::to_string),
            remote: None,
        }
    }

    /// All panes tagged with `@brl_home == home_tag`, in any tmux session, from ONE
    /// `list-panes -a -F …` call. No server running (or no sessions) → `Ok(empty)`. Untagged
    /// panes are never returned, not even for an empty `home_tag`.
    pub fn panes(&self, home_tag: &str) -> Result<Vec<Pane>, TmuxError> {
        let mut panes = self.all_panes()?;
        panes.retain(|p| !p.home.is_empty() && p.home == home_tag);
        Ok(panes)
    }

    /// Creates the pane for one brl session and returns its id (`%N`), in one `tmux`
    /// invocation after one `list-panes`. A missing tmux session is created (220×60, detached,
    /// first window named "sessions" or, in windows mode, after the session). Otherwise a
    /// "panes" layout splits the window holding this home's panes in that tmux session (or
    /// opens a "sessions" window) and re-applies `select-layout`; a "windows" layout opens a
    /// window named after the session. The new pane is tagged, set to `remain-on-exit on` and,
    /// given a `pipe_command`, piped with `pipe-pane -o`. The new pane becomes the active one.
    /// Empty names or tags are an `InvalidInput` error (an empty tag reads as "untagged"), and
    /// so is a tmux session name with `:` or `.` (tmux would rename the session).
    pub fn create(&self, req: &NewPane) -> Result<String, TmuxError> {
        for (what, value) in [
            ("tmux session name", req.tmux_session),
            ("home tag", req.home_tag),
            ("session name", req.session),
        ] {
            if value.is_empty() {
                return Err(TmuxError::InvalidInput {
                    message: format!("cannot create a tmux pane with an empty {what}"),
                });
            }
        }
        if req.tmux_session.contains([':', '.']) {
            return Err(TmuxError::InvalidInput {
                message: format!(
                    "tmux session name `{}` contains `:` or `.`, which tmux replaces with `_`\n  fix: pick a tmux session name without them (`[tmux] session` in brl.toml)",
                    req.tmux_session
                ),
            });
        }
        let cwd = match req.cwd {
            None => None,
            Some(dir) => Some(dir.to_str().ok_or_else(|| TmuxError::InvalidInput {
                message: format!(
                    "the working directory {} is not valid UTF-8, which tmux_interface cannot pass\n  fix: use a home and worktree path without such characters",
                    dir.display()
                ),
            })?),
        };
        let existing = self.all_panes()?;
        let session_exists = existing.iter().any(|p| p.tmux_session == req.tmux_session);
        let mut cmds = ti::TmuxCommands::new();
        let mut layout_window = None;
        if !session_exists {
            let window = match req.layout.mode {
                LayoutMode::Panes { .. } => PANES_WINDOW,
                LayoutMode::Windows => req.session,
            };
            let mut new = ti::NewSession::new()
                .detached()
                .session_name(esc(req.tmux_session))
                .window_name(esc(window))
                .width(220)
                .height(60)
                .print()
                .format("#{pane_id}");
            if let Some(cwd) = cwd {
                new = new.start_directory(esc(cwd));
            }
            cmds.push(new.shell_command(esc(req.command)));
        } else if let LayoutMode::Panes { tmux_layout } = &req.layout.mode {
            let ours = existing
                .iter()
                .filter(|p| p.home == req.home_tag && p.tmux_session == req.tmux_session);
            let target = ours.clone().find(|p| p.window_name == PANES_WINDOW);
            match target.or_else(|| ours.clone().next()) {
                Some(pane) => {
                    let mut split = ti::SplitWindow::new()
                        .target_pane(pane.window_id.clone())
                        .print()
                        .format("#{pane_id}");
                    if let Some(cwd) = cwd {
                        split = split.start_directory(esc(cwd));
                    }
                    cmds.push(split.shell_command(esc(req.command)));
                    layout_window = Some((pane.window_id.clone(), tmux_layout));
                }
                None => cmds.push(self.new_window(req, PANES_WINDOW, cwd)),
            }
        } else {
            cmds.push(self.new_window(req, req.session, cwd));
        }
        // The commands below target the new pane (see the module doc).
        for (option, value) in [
            ("remain-on-exit", "on"),
            (HOME_OPTION, req.home_tag),
            (SESSION_OPTION, req.session),
        ] {
            cmds.push(ti::SetOption::new().pane().option(option).value(esc(value)));
        }
        if let Some(pipe) = req.pipe_command {
            cmds.push(ti::PipePane::new().open().shell_command(esc(pipe)));
        }
        // Titled panes and a status line naming the home (see `manners`).
        for c in manners::dress(req.session, req.home_tag) {
            cmds.push(c);
        }
        if let Some((window, tmux_layout)) = layout_window {
            cmds.push(
                ti::SelectLayout::new()
                    .target_pane(window)
                    .layout_name(tmux_layout.as_str()),
            );
        }
        let (command, out) = self.run(cmds)?;
        let id = out.lines().next().unwrap_or("").trim();
        if id.len() > 1 && id.starts_with('%') && id[1..].bytes().all(|b| b.is_ascii_digit()) {
            Ok(id.to_string())
        } else {
            Err(TmuxError::Unexpected {
                command,
                output: out,
            })
        }
    }

    /// `new-window -t =<tmux session>: -n <name>` running the request's command.
    fn new_window<'a>(
        &self,
        req: &NewPane<'a>,
        name: &'a str,
        cwd: Option<&'a str>,
    ) -> ti::NewWindow<'a> {
        let mut new = ti::NewWindow::new()
            .target_window(format!("={}:", req.tmux_session))
            .window_name(esc(name))
            .print()
            .format("#{pane_id}");
        if let Some(cwd) = cwd {
            new = new.start_directory(esc(cwd));
        }
        new.shell_command(esc(req.command))
    }

    /// Restarts `command` in the pane (`respawn-pane -k`, which also kills a live process).
    /// The pane keeps its id, tags and working directory. Given a `pipe_command`, a pane not
    /// `piped` (see [`Pane::piped`]) gets its pipe opened; a surviving pipe is kept as it is.
    pub fn respawn(
        &self,
        pane_id: &str,
        command: &str,
        pipe_command: Option<&str>,
        piped: bool,
    ) -> Result<(), TmuxError> {
        // tmux refuses pipe-pane on a pane whose process has exited, so the pipe is opened after
        // the respawn — and only when none survived (`-o` on a piped pane would close it).
        let mut cmds = ti::TmuxCommands::new();
        cmds.push(
            ti::RespawnPane::new()
                .kill()
                .target_pane(pane_id)
                .shell_command(esc(command)),
        );
        if let Some(pipe) = pipe_command
            && !piped
        {
            cmds.push(
                ti::PipePane::new()
                    .open()
                    .target_pane(pane_id)
                    .shell_command(esc(pipe)),
            );
        }
        self.run(cmds).map(|_| ())
    }

    /// Whether the tmux session `name` exists (exact name, not a prefix). No server → false.
    pub fn session_exists(&self, name: &str) -> Result<bool, TmuxError> {
        let has = ti::HasSession::new().target_session(format!("={name}"));
        self.run_unless_missing(has.into())
    }

    /// Whether a tmux server answers on this socket.
    pub fn server_running(&self) -> Result<bool, TmuxError> {
        match self.run(ti::TmuxCommands::new().cmd(ti::ListSessions::new())) {
            Ok(_) => Ok(true),
            Err(TmuxError::Failed { stderr, .. }) if no_server(&stderr) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Kills the tmux session `name` (exact name) and its panes; `Ok(false)` when it did not
    /// exist. Other sessions on the server are untouched; the server is never killed.
    pub fn kill_session(&self, name: &str) -> Result<bool, TmuxError> {
        let kill = ti::KillSession::new().target_session(format!("={name}"));
        self.run_unless_missing(kill.into())
    }

    /// A command (not yet run) that attaches the user's terminal to `tmux_session`, first
    /// making `pane_id` (when given) the current window and pane. Its stdio is inherited.
    /// From inside tmux, attaching nests and tmux refuses unless `$TMUX` is unset.
    pub fn attach_command(&self, tmux_session: &str, pane_id: Option<&str>) -> Command {
        let mut cmds = ti::TmuxCommands::new();
        if let Some(pane) = pane_id {
            cmds.push(ti::SelectWindow::new().target_window(pane.to_string()));
            cmds.push(ti::SelectPane::new().target_pane(pane.to_string()));
        }
        cmds.push(ti::AttachSession::new().target_session(format!("={tmux_session}")));
        let cmd = self.builder(cmds).into_command();
        self.attaching(cmd)
    }

    /// Every pane on the server, tagged or not (`home` empty when untagged).
    fn all_panes(&self) -> Result<Vec<Pane>, TmuxError> {
        let list = ti::ListPanes::new().all().format(PANE_FORMAT);
        match self.run(ti::TmuxCommands::new().cmd(list)) {
            // A line that does not parse is an error, never dropped: a pane list read wrong
            // would make brl create panes (and sessions) that already exist.
            Ok((command, out)) => out
                .lines()
                .map(|line| {
                    parse_pane(line).ok_or_else(|| TmuxError::Unreadable {
                        command: command.clone(),
                        line: line.to_string(),
                    })
                })
                .collect(),
            Err(TmuxError::Failed { stderr, .. }) if no_server(&stderr) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Runs a command that fails when its session is missing: `Ok(false)` in that case.
    fn run_unless_missing(&self, cmd: ti::TmuxCommand) -> Result<bool, TmuxError> {
        match self.run(ti::TmuxCommands::new().cmd(cmd)) {
            Ok(_) => Ok(true),
            // "no current target": a server left with no session at all (it is exiting).
            Err(TmuxError::Failed { stderr, .. })
                if no_server(&stderr)
                    || stderr.contains("can't find session")
                    || stderr.contains("no current target") =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

/// Parses one line of [`PANE_FORMAT`]; `None` for a malformed line.
fn parse_pane(line: &str) -> Option<Pane> {
    let f: Vec<&str> = line.split(SEP).collect();
    let [
        id,
        tmux_session,
        window_id,
        home,
        session,
        dead,
        status,
        pid,
        window_name,
        piped,
    ] = f[..]
    else {
        return None;
    };
    if !id.starts_with('%') || !window_id.starts_with('@') {
        return None;
    }
    let dead = dead == "1";
    Some(Pane {
        id: id.to_string(),
        tmux_session: tmux_session.to_string(),
        window_id: window_id.to_string(),
        window_name: window_name.to_string(),
        home: home.to_string(),
        session: session.to_string(),
        dead,
        dead_status: if dead { status.parse().ok() } else { None },
        pid: if dead { None } else { pid.parse().ok() },
        piped: piped == "1",
    })
}
