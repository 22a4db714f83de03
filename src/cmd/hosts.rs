//! `brl hosts list | check [NAME] | setup [NAME]`.

use crate::cli::HostsCommand;
use crate::config::{Config, HostConfig};
use crate::home::Home;
use crate::hosts::check;
use crate::hosts::probe::Expect;
use crate::hosts::setup;

pub fn run(home: &Home, cmd: HostsCommand) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    match cmd {
        HostsCommand::Collect { host } => super::hosts_collect::run(home, host.as_deref()),
        HostsCommand::List => {
            list(home, &config);
            Ok(0)
        }
        HostsCommand::Check { name } => {
            let hosts = chosen(home, &config, name.as_deref())?;
            let expect = Expect::here(home, &config);
            let reports = each(&hosts, |h| check::check_host(home, h, &expect));
            let mut ready = true;
            for r in &reports {
                crate::say!("{}", r.render());
                ready &= r.ready();
            }
            if !ready {
                crate::say!("not every host is ready: `brl hosts setup` fixes what it can");
            }
            Ok(if ready { 0 } else { 1 })
        }
        HostsCommand::Setup { name } => {
            let hosts = chosen(home, &config, name.as_deref())?;
            let reports = each(&hosts, |h| setup::setup_host(home, &config, h));
            let mut ready = true;
            for r in &reports {
                crate::say!("{}", r.render());
                ready &= r.ready();
            }
            Ok(if ready { 0 } else { 1 })
        }
    }
}

fn list(home: &Home, config: &Config) {
    if config.hosts.is_empty() {
        crate::say!("{}", no_hosts(home));
        return;
    }
    crate::say!(
        "{:<16} {:<32} {:>8}  DIR",
        "NAME",
        "DESTINATION",
        "SESSIONS"
    );
    for h in &config.hosts {
        crate::say!(
            "{:<16} {:<32} {:>8}  {}",
            h.name,
            check::destination(h),
            h.sessions,
            h.dir
        );
    }
}

fn no_hosts(home: &Home) -> String {
    format!(
        "no [[hosts]] in {}: every session runs on this machine. To add one:\n\n[[hosts]]\nname = \"box1\"\nssh = \"me@box1.lan\"\nsessions = 2\n",
        home.config_path().display()
    )
}

/// The hosts a command works on: all, or the one named.
fn chosen<'a>(
    home: &Home,
    config: &'a Config,
    name: Option<&str>,
) -> anyhow::Result<Vec<&'a HostConfig>> {
    if config.hosts.is_empty() {
        crate::say!("{}", no_hosts(home));
        return Ok(Vec::new());
    }
    match name {
        None => Ok(config.hosts.iter().collect()),
        Some(n) => match config.hosts.iter().find(|h| h.name == n) {
            Some(h) => Ok(vec![h]),
            None => anyhow::bail!(
                "no host `{n}` in {}: its [[hosts]] are {}\n  fix: use one of those names, or add a [[hosts]] table named `{n}`",
                home.config_path().display(),
                config
                    .hosts
                    .iter()
                    .map(|h| format!("`{}`", h.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

/// `f` on every host at once (each host is its own connection), results in the hosts' order.
fn each<T: Send>(hosts: &[&HostConfig], f: impl Fn(&HostConfig) -> T + Sync) -> Vec<T> {
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = hosts.iter().map(|h| s.spawn(move || f(h))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}
