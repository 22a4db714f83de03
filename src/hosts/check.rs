//! `brl hosts check`: what each host lacks, found with one ssh command per host (a probe script
//! that prints `key=value` lines), judged by a pure function ([`judge`]) into lines of
//! `ok` / `missing` / `wrong` / `warn`, each with its fix. Nothing is changed on the host.

use crate::config::HostConfig;
use crate::home::Home;
use crate::hosts::layout::Layout;
use crate::hosts::probe::{Expect, Probe, one_line, probe, same_platform};
use crate::hosts::remote_home::{cksum, derive_toml};
pub use crate::hosts::report::{HostReport, Item, State, destination};
use crate::hosts::ssh::{Ssh, SshError};

/// Below this much free disk in D a host gets a warning.
pub const LOW_DISK_KB: u64 = 1024 * 1024;
/// The oldest tmux whose features the workers use.
pub const MIN_TMUX: (u32, u32) = (3, 2);

/// `(major, minor)` of `tmux 3.3a`, `tmux next-3.4`, `tmux 3.2`.
pub fn tmux_version(line: &str) -> Option<(u32, u32)> {
    let start = line.find(|c: char| c.is_ascii_digit())?;
    let rest = &line[start..];
    let mut parts = rest.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

const SETUP: &str = "brl hosts setup";
const NO_SYSTEM: &str = "`brl hosts setup` installs no system packages";

/// How each thing stands, from what the probe found and what the control host expects.
pub fn judge(host: &HostConfig, probe: &Probe, expect: &Expect) -> Vec<Item> {
    let layout = Layout::of(host);
    let mut items = vec![Item::new(
        "ssh",
        State::Ok,
        format!("reachable as {}", destination(host)),
        None,
    )];
    items.push(match probe.tmux.as_deref().map(|t| (t, tmux_version(t))) {
        None => Item::new(
            "tmux",
            State::Missing,
            "tmux is not on the host's PATH".into(),
            Some(format!(
                "install tmux ≥ {}.{} on the host (`sudo apt-get install tmux`, or `brew install tmux`); {NO_SYSTEM}",
                MIN_TMUX.0, MIN_TMUX.1
            )),
        ),
        Some((line, Some(v))) if v >= MIN_TMUX => Item::new("tmux", State::Ok, line.into(), None),
        Some((line, _)) => Item::new(
            "tmux",
            State::Wrong,
            format!("`{line}` is older than {}.{}", MIN_TMUX.0, MIN_TMUX.1),
            Some(format!(
                "upgrade tmux on the host (`sudo apt-get install tmux` from a newer release, or `brew upgrade tmux`); {NO_SYSTEM}"
            )),
        ),
    });
    items.push(match &probe.git {
        Some(line) => Item::new("git", State::Ok, line.clone(), None),
        None => Item::new(
            "git",
            State::Missing,
            "git is not on the host's PATH".into(),
            Some(format!(
                "install git on the host (`sudo apt-get install git`, or `brew install git`); {NO_SYSTEM}"
            )),
        ),
    });
    items.push(judge_brl(&layout, probe, expect));
    items.push(match probe.disk_kb {
        Some(kb) if kb >= LOW_DISK_KB => Item::new(
            "disk",
            State::Ok,
            format!("{} free in {}", human_kb(kb), layout.dir),
            None,
        ),
        Some(kb) => Item::new(
            "disk",
            State::Warn,
            format!("only {} free in {}", human_kb(kb), layout.dir),
            Some("free some space on the host: worktrees and checks need at least 1 GB".into()),
        ),
        None => Item::new(
            "disk",
            State::Warn,
            format!("could not read the free space in {} (`df -Pk`)", layout.dir),
            None,
        ),
    });
    items.push(judge_repo(&layout, probe, expect));
    items.push(judge_home(host, &layout, probe, expect));
    if !expect.tools.is_empty() {
        items.push(judge_tools(probe, expect));
    }
    if let Some(program) = &expect.agent_program {
        items.push(match &probe.agent {
            Some(path) => Item::new("agent", State::Ok, format!("{program} is {path}"), None),
            None => Item::new(
                "agent",
                State::Missing,
                format!("`{program}` ([agent] command) is not on the host's PATH for ssh commands"),
                Some(format!(
                    "install `{program}` on the host and log it in, or put it on the PATH that `ssh {} command -v {program}` sees; {SETUP} installs no agent",
                    host.ssh
                )),
            ),
        });
    }
    items
}

fn judge_brl(layout: &Layout, probe: &Probe, expect: &Expect) -> Item {
    // A binary for another platform cannot be copied: the fix is a build on the host.
    let foreign = probe
        .platform
        .as_deref()
        .filter(|p| same_platform(p) == Some(false));
    let bad = |state: State, detail: String| match foreign {
        Some(p) => Item::new(
            "brl",
            state,
            format!(
                "{detail}; the host is `{p}`, this brl is built for {}/{}",
                std::env::consts::OS,
                std::env::consts::ARCH
            ),
            Some(format!(
                "build brl {} on the host (`cargo install --locked --path <brl's source>`) and put it at {}; {SETUP} copies only a binary of the host's platform",
                env!("CARGO_PKG_VERSION"),
                layout.bin
            )),
        ),
        None => Item::new("brl", state, detail, Some(SETUP.into())),
    };
    match (&probe.brl_version, probe.brl_size) {
        (None, _) => bad(State::Missing, format!("{} is not there", layout.bin)),
        (Some(v), _) if *v != expect.version => bad(
            State::Wrong,
            format!(
                "{} says `{}`, this is `{}`",
                layout.bin,
                one_line(v),
                expect.version
            ),
        ),
        (Some(v), size)
            if foreign.is_none()
                && size.is_some()
                && expect.exe_size.is_some()
                && size != expect.exe_size =>
        {
            Item::new(
                "brl",
                State::Warn,
                format!(
                    "{v}, but another build ({} bytes, this one {} bytes)",
                    size.unwrap_or(0),
                    expect.exe_size.unwrap_or(0)
                ),
                Some(format!("{SETUP} copies this build")),
            )
        }
        (Some(v), _) => Item::new("brl", State::Ok, format!("{} ({v})", layout.bin), None),
    }
}

fn judge_home(host: &HostConfig, layout: &Layout, probe: &Probe, expect: &Expect) -> Item {
    let path = format!("{}/brl.toml", layout.home);
    if !probe.home_toml {
        return Item::new(
            "home",
            State::Missing,
            format!("{path} is not there"),
            Some(SETUP.into()),
        );
    }
    let want = match (&expect.control_toml, probe.abs_dir()) {
        (Some(text), Some(dir)) => derive_toml(text, host, dir).ok(),
        _ => None,
    };
    match (want, &probe.home_cksum) {
        (Some(want), Some(have)) if cksum(want.as_bytes()) != *have => Item::new(
            "home",
            State::Wrong,
            format!(
                "{path} is not what the control home's brl.toml gives now (that changed since the last setup, or the host's was edited)"
            ),
            Some(format!("{SETUP} (it overwrites the host's brl.toml)")),
        ),
        _ => Item::new("home", State::Ok, path, None),
    }
}

/// The checks', the worktree setup's and the sandbox's programs on the host's PATH.
fn judge_tools(probe: &Probe, expect: &Expect) -> Item {
    let found = |program: &str| {
        probe
            .tools
            .iter()
            .find(|(name, _)| name == program)
            .and_then(|(_, path)| path.clone())
    };
    let missing: Vec<String> = expect
        .tools
        .iter()
        .filter(|(_, program)| found(program).is_none())
        .map(|(key, program)| format!("`{program}` ({key})"))
        .collect();
    if missing.is_empty() {
        let mut names: Vec<&str> = Vec::new();
        for (_, p) in &expect.tools {
            if !names.contains(&p.as_str()) {
                names.push(p);
            }
        }
        return Item::new("tools", State::Ok, names.join(", "), None);
    }
    Item::new(
        "tools",
        State::Missing,
        format!(
            "not on the host's PATH for ssh commands: {}",
            missing.join(", ")
        ),
        Some(format!(
            "install them on the host (e.g. `sudo apt-get install …` or `brew install …`); {NO_SYSTEM}"
        )),
    )
}

fn judge_repo(layout: &Layout, probe: &Probe, expect: &Expect) -> Item {
    let repo = &layout.repo;
    if !probe.repo_exists {
        return Item::new(
            "repo",
            State::Missing,
            format!("no clone at {repo}"),
            Some(SETUP.into()),
        );
    }
    if !probe.repo_git {
        return Item::new(
            "repo",
            State::Wrong,
            format!("{repo} exists but is not a git repository of its own"),
            Some(format!(
                "move {repo} aside on the host (brl never overwrites it), then {SETUP}"
            )),
        );
    }
    let Some(main) = &probe.repo_main else {
        return Item::new(
            "repo",
            State::Wrong,
            format!("{repo} has no branch `{}`", expect.main),
            Some(SETUP.into()),
        );
    };
    if probe.repo_deny.as_deref() != Some("updateInstead") {
        return Item::new(
            "repo",
            State::Wrong,
            format!(
                "{repo} does not accept pushes to its checked-out `{}` (receive.denyCurrentBranch is not updateInstead)",
                expect.main
            ),
            Some(SETUP.into()),
        );
    }
    let short = |s: &str| s.get(..10).unwrap_or(s).to_string();
    match &expect.control_main {
        Some(c) if c != main => Item::new(
            "repo",
            State::Warn,
            format!(
                "{repo}: `{}` at {}, the control host's at {}",
                expect.main,
                short(main),
                short(c)
            ),
            Some(format!("{SETUP} brings it up to date")),
        ),
        _ => Item::new(
            "repo",
            State::Ok,
            format!("{repo} (`{}` at {})", expect.main, short(main)),
            None,
        ),
    }
}

fn human_kb(kb: u64) -> String {
    if kb >= 1024 * 1024 {
        format!("{:.1} GB", kb as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} MB", kb / 1024)
    }
}

/// Check one host: reach it, probe it, judge it.
pub fn check_host(home: &Home, host: &HostConfig, expect: &Expect) -> HostReport {
    let ssh = Ssh::new(home, host);
    if let Err(e) = ssh.ensure_master() {
        return HostReport::unreachable(host, &e);
    }
    match probe(&ssh, host, expect, false) {
        Ok(p) => report(host, &p, expect),
        Err(e) => match e.downcast::<SshError>() {
            Ok(se) => HostReport::unreachable(host, &se),
            Err(e) => HostReport {
                host: host.name.clone(),
                dest: destination(host),
                dir: host.dir.clone(),
                items: vec![Item::new(
                    "ssh",
                    State::Wrong,
                    one_line(&e.to_string()),
                    None,
                )],
            },
        },
    }
}

/// The report of a probed host.
pub fn report(host: &HostConfig, probe: &Probe, expect: &Expect) -> HostReport {
    HostReport {
        host: host.name.clone(),
        dest: destination(host),
        dir: host.dir.clone(),
        items: judge(host, probe, expect),
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
