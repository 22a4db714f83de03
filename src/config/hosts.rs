//! `[[hosts]]` of `brl.toml`: machines that run sessions for this control room over SSH. The
//! local machine keeps `sessions` (s1..sN); each host adds its own, named `<host>-s1..<host>-sN`,
//! so a session's name says where it lives and names stay unique across the fleet.

use std::path::PathBuf;

use serde::Deserialize;

/// One remote host.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// Short name: lower-case letters, digits and `-`; prefixes its sessions' names.
    pub name: String,
    /// The SSH destination given to the system `ssh`: `host`, `user@host` or an alias of
    /// `~/.ssh/config`.
    pub ssh: String,
    /// `ssh -p`.
    #[serde(default)]
    pub port: Option<u16>,
    /// `ssh -i` (a private key file on the control host).
    #[serde(default)]
    pub identity: Option<PathBuf>,
    /// More `ssh -o` options, e.g. `["StrictHostKeyChecking=accept-new"]`.
    #[serde(default)]
    pub options: Vec<String>,
    /// How many sessions this host runs.
    pub sessions: u32,
    /// No grant to this host while its used memory is above this percentage; default: the
    /// `[scheduler]`'s.
    #[serde(default)]
    pub max_ram_percent: Option<u8>,
    /// brl's working directory on the host (its binary, home and clone live there); relative
    /// paths are relative to the remote user's home directory.
    #[serde(default = "default_dir")]
    pub dir: String,
}

fn default_dir() -> String {
    "brl".into()
}

impl HostConfig {
    /// This host's session names: `<name>-s1..<name>-sN`.
    pub fn session_names(&self) -> Vec<String> {
        (1..=self.sessions)
            .map(|i| format!("{}-s{i}", self.name))
            .collect()
    }

    /// What is wrong with this host's keys, as (key, message, fix).
    pub(super) fn problem(&self) -> Option<(&'static str, String, String)> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 32
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !self.name.starts_with('-');
        if !name_ok {
            return Some((
                "name",
                format!("`{}` is not a usable host name", self.name),
                "use 1–32 lower-case letters, digits and `-`, e.g. name = \"box1\"".into(),
            ));
        }
        if self.ssh.trim().is_empty() || self.ssh.starts_with('-') || self.ssh.contains(' ') {
            return Some((
                "ssh",
                format!("`{}` is not an SSH destination", self.ssh),
                "set it to what you would type after `ssh`, e.g. ssh = \"me@box1.lan\"".into(),
            ));
        }
        if self.sessions == 0 {
            return Some((
                "sessions",
                "a host with 0 sessions runs nothing".into(),
                "set sessions = 1 or more, or remove this [[hosts]] table".into(),
            ));
        }
        if let Some(p) = self.max_ram_percent
            && !(1..=100).contains(&p)
        {
            return Some((
                "max_ram_percent",
                format!("{p} is not a percentage"),
                "set it between 1 and 100, e.g. max_ram_percent = 85".into(),
            ));
        }
        if let Some(o) = self
            .options
            .iter()
            .find(|o| !o.contains('=') || o.starts_with('-'))
        {
            return Some((
                "options",
                format!("`{o}` is not an ssh option of the form Key=value"),
                "write each option as for `ssh -o`, e.g. options = [\"ServerAliveInterval=15\"]"
                    .into(),
            ));
        }
        if self.dir.trim().is_empty() || self.dir.contains('\n') {
            return Some((
                "dir",
                "the host's working directory is empty".into(),
                "set it to a directory on the host, e.g. dir = \"brl\" (in the remote home)".into(),
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::HostConfig;

    fn host(extra: &str) -> HostConfig {
        toml::from_str(&format!(
            "name = \"box1\"\nssh = \"me@box1\"\nsessions = 2\n{extra}"
        ))
        .expect("parses")
    }

    #[test]
    fn names_defaults_and_problems() {
        let h = host("");
        assert_eq!(h.session_names(), vec!["box1-s1", "box1-s2"]);
        assert_eq!(h.dir, "brl");
        assert!(h.problem().is_none());
        for (extra, key) in [
            ("max_ram_percent = 0", "max_ram_percent"),
            ("options = [\"-oProxyCommand\"]", "options"),
            ("dir = \"\"", "dir"),
        ] {
            assert_eq!(host(extra).problem().map(|p| p.0), Some(key), "{extra}");
        }
        let mut bad = host("");
        bad.name = "Box 1".into();
        assert_eq!(bad.problem().map(|p| p.0), Some("name"));
        bad = host("");
        bad.ssh = "-oProxyCommand=x".into();
        assert_eq!(bad.problem().map(|p| p.0), Some("ssh"));
        bad = host("");
        bad.sessions = 0;
        assert_eq!(bad.problem().map(|p| p.0), Some("sessions"));
        assert!(
            toml::from_str::<HostConfig>("name = \"a\"\nssh = \"a\"\nsessions = 1\nbogus = 1")
                .is_err()
        );
    }
}
