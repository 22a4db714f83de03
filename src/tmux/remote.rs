//! A tmux server on a `[[hosts]]` host: the same [`Tmux`] API, every command run through the
//! host's multiplexed ssh ([`Tmux::command`] wraps them in one place), attaching with `ssh -t`.

use std::process::Command;

use super::Tmux;

impl PartialEq for Tmux {
    fn eq(&self, other: &Tmux) -> bool {
        self.socket == other.socket
            && self.remote.as_ref().map(|s| s.control_path())
                == other.remote.as_ref().map(|s| s.control_path())
    }
}

impl Eq for Tmux {}

impl Tmux {
    /// A handle on `tmux -L <socket>` on a host, reached through `ssh` (its master connection).
    pub fn remote(socket: &str, ssh: crate::hosts::Ssh) -> Tmux {
        Tmux {
            socket: Some(socket.to_string()),
            remote: Some(ssh),
        }
    }

    /// The host this server runs on, when not this machine.
    pub fn host(&self) -> Option<&crate::hosts::Ssh> {
        self.remote.as_ref()
    }

    /// The tmux socket name (`None`: the user's default server).
    pub fn socket(&self) -> Option<&str> {
        self.socket.as_deref()
    }

    /// The attach command as given on this machine; on a host, over `ssh -t` (the remote tmux
    /// needs a terminal).
    pub(super) fn attaching(&self, cmd: Command) -> Command {
        let Some(ssh) = &self.remote else {
            return cmd;
        };
        let wrapped = ssh.wrap(&cmd);
        let mut t = Command::new(wrapped.get_program());
        t.args(
            wrapped
                .get_args()
                .map(|a| if a == "-T" { "-t".as_ref() } else { a }),
        );
        t
    }
}
