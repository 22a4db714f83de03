//! tmux manners: what a polite guest does in someone's tmux.
//!
//! - Each pane brl creates is titled with its session (`select-pane -T`) and its window shows
//!   the titles in the pane borders (`pane-border-status top`, the format reading the pane's
//!   `@brl_session` tag, so an agent that sets the terminal title cannot rename it);
//! - the tmux session's status line shows which brl home it is (`status-right`);
//! - the dashboard's `t`, inside tmux, never nests a client: on the same server it switches the
//!   user's client to the pane (`switch-client`; prefix + L comes back); on another server it
//!   opens a popup (`display-popup -E`) attached to the pane (prefix + d closes it).

use std::process::Command;

use tmux_interface as ti;

use super::run::esc;
use super::{SESSION_OPTION, Tmux, TmuxError};

/// The commands that title a new pane and its window's borders and label its tmux session;
/// chained after the command that made the pane (they target it).
pub(super) fn dress<'a>(session: &'a str, home: &'a str) -> Vec<ti::TmuxCommand<'a>> {
    let border = format!(" #{{{SESSION_OPTION}}} ");
    let right = status_right(home);
    let length = (right.chars().count() + 2).min(200).to_string();
    vec![
        ti::SelectPane::new().title(esc(session)).build(),
        ti::SetOption::new()
            .window()
            .option("pane-border-status")
            .value("top")
            .build(),
        ti::SetOption::new()
            .window()
            .option("pane-border-format")
            .value(border)
            .build(),
        ti::SetOption::new()
            .option("status-right")
            .value(right)
            .build(),
        ti::SetOption::new()
            .option("status-right-length")
            .value(length)
            .build(),
    ]
}

/// ` brl · <home> `, with tmux's format character `#` doubled so a path shows as it is.
pub fn status_right(home: &str) -> String {
    format!(" brl · {} ", home.replace('#', "##"))
}

/// Where the caller's terminal is, as `$TMUX` says: inside a client of the server listening on
/// `socket_path` (`$TMUX` is `<socket path>,<server pid>,<session index>`).
pub fn client_socket(tmux_env: Option<&str>) -> Option<&str> {
    let path = tmux_env?.split(',').next()?;
    (!path.is_empty()).then_some(path)
}

/// How the dashboard's `t` reaches a pane from inside tmux.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// The same server: switch this client (named by its tty) to the pane.
    Switch { client: String },
    /// Another server (brl's own socket): a popup on the user's server attached to the pane.
    Popup,
}

impl Tmux {
    /// The path of this server's socket (one `display-message`).
    pub fn socket_path(&self) -> Result<String, TmuxError> {
        let (_, out) = self.run(
            ti::TmuxCommands::new().cmd(
                ti::DisplayMessage::new()
                    .print()
                    .message("#{socket_path}")
                    .build(),
            ),
        )?;
        Ok(out.trim().to_string())
    }

    /// Inside tmux (`$TMUX`), how to reach this server's panes without nesting a client;
    /// `None` outside tmux (attach as usual).
    pub fn reach(&self) -> Option<Reach> {
        // A host's server is never the user's client's: attach over `ssh -t` instead.
        if self.remote.is_some() {
            return None;
        }
        let env = std::env::var("TMUX").ok();
        let theirs = client_socket(env.as_deref())?;
        let ours = self.socket_path().ok();
        match (ours.as_deref() == Some(theirs), tty()) {
            (true, Some(client)) => Some(Reach::Switch { client }),
            _ => Some(Reach::Popup),
        }
    }

    /// Switch the user's tmux client `client` to `pane_id` (its window and pane selected).
    pub fn switch_client(&self, client: &str, pane_id: &str) -> Result<(), TmuxError> {
        let mut cmds = ti::TmuxCommands::new();
        cmds.push(ti::SelectWindow::new().target_window(pane_id.to_string()));
        cmds.push(ti::SelectPane::new().target_pane(pane_id.to_string()));
        cmds.push(
            ti::SwitchClient::new()
                .target_client(client.to_string())
                .target_session(pane_id.to_string()),
        );
        self.run(cmds).map(|_| ())
    }

    /// `tmux display-popup -E` on the user's own server (from `$TMUX`), running a client of
    /// this server attached to `pane_id` in `tmux_session`. Not yet run; its stdio is inherited.
    pub fn popup_command(&self, tmux_session: &str, pane_id: &str, title: &str) -> Command {
        let mut inner = vec!["env".to_string(), "-u".into(), "TMUX".into(), "tmux".into()];
        if let Some(s) = &self.socket {
            inner.extend(["-L".into(), s.clone()]);
        }
        inner.extend(
            [
                "select-window",
                "-t",
                pane_id,
                ";",
                "select-pane",
                "-t",
                pane_id,
                ";",
                "attach-session",
                "-t",
            ]
            .map(str::to_string),
        );
        inner.push(format!("={tmux_session}"));
        let line = inner
            .iter()
            .map(|a| shell_word(a))
            .collect::<Vec<_>>()
            .join(" ");
        let mut cmd = Command::new("tmux");
        cmd.args([
            "display-popup",
            "-E",
            "-w",
            "90%",
            "-h",
            "90%",
            "-T",
            title,
            &line,
        ]);
        cmd
    }
}

/// `arg` as one shell word.
fn shell_word(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=:%@/.,".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The terminal on stdin, as tmux names its clients (`/dev/pts/3`).
fn tty() -> Option<String> {
    let p = std::fs::read_link("/proc/self/fd/0").ok()?;
    let s = p.to_str()?.to_string();
    s.starts_with("/dev/").then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_socket_is_the_first_field_of_tmux() {
        assert_eq!(
            client_socket(Some("/tmp/tmux-1000/default,4242,0")),
            Some("/tmp/tmux-1000/default")
        );
        assert_eq!(client_socket(Some("")), None);
        assert_eq!(client_socket(None), None);
    }

    #[test]
    fn the_status_line_shows_the_home_with_hashes_kept() {
        assert_eq!(status_right("/srv/a#b"), " brl · /srv/a##b ");
    }

    #[test]
    fn the_popup_attaches_a_client_of_brls_server_with_tmux_unset() {
        let t = Tmux::new(Some("brl sock"));
        let c = t.popup_command("brl-home", "%3", " s2 ");
        let args: Vec<String> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            &args[..6],
            ["display-popup", "-E", "-w", "90%", "-h", "90%"]
        );
        assert_eq!(
            args.last().map(String::as_str),
            Some(
                "env -u TMUX tmux -L 'brl sock' select-window -t %3 ';' select-pane -t %3 ';' attach-session -t =brl-home"
            )
        );
    }
}
