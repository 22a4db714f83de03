//! Where brl lives on a host: under the host's `dir` (D), its own binary `D/bin/brl`, a clone of
//! the target repository `D/repo` and the host's brl home `D/home`. A command on the host is
//! always `D/bin/brl --home D/home <subcommand>`.
//!
//! A relative `dir` stays relative: every ssh command starts in the remote user's home directory,
//! and git's scp-like URLs (`dest:path`) resolve relative paths there too, so `brl` means
//! `~/brl` for all of them without asking the host first. A leading `~/` is the same as no
//! prefix (the remote shell would not expand a quoted `~`). The one place that needs an absolute
//! path, `repo` in the host's brl.toml (resolved against `D/home`, not the remote home), gets it
//! from the host itself ([`crate::hosts::check::Probe::abs_dir`]).

use crate::config::HostConfig;

/// The three paths of one host, as the remote shell reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// D itself.
    pub dir: String,
    /// `D/bin/brl`: brl's own binary, the same version as the control host's.
    pub bin: String,
    /// `D/repo`: a clone of the control host's target repository.
    pub repo: String,
    /// `D/home`: the host's brl home.
    pub home: String,
}

impl Layout {
    pub fn of(host: &HostConfig) -> Layout {
        Layout::at(&host.dir)
    }

    /// The layout under `dir` (a host's `dir` as written in brl.toml).
    pub fn at(dir: &str) -> Layout {
        let mut d = dir.trim();
        while let Some(rest) = d.strip_prefix("~/") {
            d = rest.trim_start_matches('/');
        }
        if d == "~" {
            d = ".";
        }
        let d = match d.trim_end_matches('/') {
            "" if d.starts_with('/') => "/",
            "" => ".",
            t => t,
        };
        let join = |leaf: &str| {
            if d == "/" {
                format!("/{leaf}")
            } else {
                format!("{d}/{leaf}")
            }
        };
        Layout {
            dir: d.to_string(),
            bin: join("bin/brl"),
            repo: join("repo"),
            home: join("home"),
        }
    }

    /// `D/bin/brl --home D/home`: the start of every brl command run on the host.
    pub fn brl_argv(&self) -> Vec<String> {
        vec![self.bin.clone(), "--home".into(), self.home.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::Layout;

    #[test]
    fn paths_under_dir() {
        let l = Layout::at("/srv/brl/");
        assert_eq!(l.dir, "/srv/brl");
        assert_eq!(l.bin, "/srv/brl/bin/brl");
        assert_eq!(l.repo, "/srv/brl/repo");
        assert_eq!(l.home, "/srv/brl/home");
        assert_eq!(
            l.brl_argv(),
            ["/srv/brl/bin/brl", "--home", "/srv/brl/home"]
        );
        // Relative to the remote home, with or without `~/`.
        assert_eq!(Layout::at("brl"), Layout::at("~/brl"));
        assert_eq!(Layout::at("~/work/brl").repo, "work/brl/repo");
        assert_eq!(Layout::at("~").home, "./home");
        assert_eq!(Layout::at("/").bin, "/bin/brl");
    }
}
