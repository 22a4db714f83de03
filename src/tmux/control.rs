//! The control room's own pane: when `brl up` opens the dashboard and no control room schedules
//! the home, it starts `brl up --no-tui` in a window named `control` of the home's tmux session,
//! so scheduling outlives the dashboard and the SSH connection it runs over. The pane is tagged
//! `@brl_control = <home>` (not `@brl_home`, which marks worker panes) and kept on exit, so a
//! control room that dies leaves its last words to read.

use tmux_interface as ti;

use super::run::{esc, no_server};
use super::{Tmux, TmuxError};

/// The pane option marking a control room's pane with its home.
pub const CONTROL_OPTION: &str = "@brl_control";
/// The window the control room runs in.
pub const CONTROL_WINDOW: &str = "control";

/// A pane tagged with [`CONTROL_OPTION`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPane {
    pub id: String,
    pub tmux_session: String,
    pub dead: bool,
}

impl Tmux {
    /// The control panes of `home_tag`, from one `list-panes -a`. No server → empty.
    pub fn control_panes(&self, home_tag: &str) -> Result<Vec<ControlPane>, TmuxError> {
        let format = "#{pane_id}\x1f#{session_name}\x1f#{@brl_control}\x1f#{pane_dead}";
        let list = ti::ListPanes::new().all().format(format);
        let (command, out) = match self.run(ti::TmuxCommands::new().cmd(list)) {
            Ok(r) => r,
            Err(TmuxError::Failed { stderr, .. }) if no_server(&stderr) => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let mut panes = Vec::new();
        for l in out.lines() {
            let f: Vec<&str> = l.split('\x1f').collect();
            let [id, session, tag, dead] = f[..] else {
                // Never dropped: a control pane read wrong reads as "it died at once".
                return Err(TmuxError::Unreadable {
                    command: command.clone(),
                    line: l.to_string(),
                });
            };
            if !tag.is_empty() && tag == home_tag && id.starts_with('%') {
                panes.push(ControlPane {
                    id: id.to_string(),
                    tmux_session: session.to_string(),
                    dead: dead == "1",
                });
            }
        }
        Ok(panes)
    }

    /// Run `command` as the control room of `home_tag` in `tmux_session`: respawned in a dead
    /// control pane left from before, else in a new `control` window (the session is created
    /// when missing). Returns the pane id.
    pub fn start_control(
        &self,
        tmux_session: &str,
        home_tag: &str,
        command: &str,
    ) -> Result<String, TmuxError> {
        if home_tag.is_empty() || tmux_session.is_empty() {
            return Err(TmuxError::InvalidInput {
                message: "cannot start a control pane without a home tag and a tmux session".into(),
            });
        }
        if let Some(dead) = self
            .control_panes(home_tag)?
            .into_iter()
            .find(|p| p.dead && p.tmux_session == tmux_session)
        {
            self.respawn(&dead.id, command, None, true)?;
            return Ok(dead.id);
        }
        let mut cmds = ti::TmuxCommands::new();
        if self.session_exists(tmux_session)? {
            cmds.push(
                ti::NewWindow::new()
                    .target_window(format!("={tmux_session}:"))
                    .window_name(CONTROL_WINDOW)
                    .print()
                    .format("#{pane_id}")
                    .shell_command(esc(command)),
            );
        } else {
            cmds.push(
                ti::NewSession::new()
                    .detached()
                    .session_name(esc(tmux_session))
                    .window_name(CONTROL_WINDOW)
                    .width(220)
                    .height(60)
                    .print()
                    .format("#{pane_id}")
                    .shell_command(esc(command)),
            );
        }
        // In the same invocation, so a command that exits at once still leaves its pane: these
        // target the new pane (no `-d` on new-window, see the module doc of `tmux`).
        for (option, value) in [("remain-on-exit", "on"), (CONTROL_OPTION, home_tag)] {
            cmds.push(ti::SetOption::new().pane().option(option).value(esc(value)));
        }
        let (cmd, out) = self.run(cmds)?;
        let id = out.lines().next().unwrap_or("").trim().to_string();
        if !(id.len() > 1 && id.starts_with('%')) {
            return Err(TmuxError::Unexpected {
                command: cmd,
                output: out,
            });
        }
        Ok(id)
    }

    /// The last `lines` lines a pane shows (its history included).
    pub fn capture(&self, pane_id: &str, lines: i32) -> Result<String, TmuxError> {
        let cap = ti::CapturePane::new()
            .stdout()
            .target_pane(pane_id)
            .start_line(format!("-{lines}"));
        self.run(ti::TmuxCommands::new().cmd(cap))
            .map(|(_, out)| out)
    }

    /// Kill one pane (a dead control pane that was read).
    pub fn kill_pane(&self, pane_id: &str) -> Result<(), TmuxError> {
        let kill = ti::KillPane::new().target_pane(pane_id);
        self.run(ti::TmuxCommands::new().cmd(kill)).map(|_| ())
    }
}
