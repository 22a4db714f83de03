//! `brl hosts check`: what each host lacks, found with one ssh command per host (a probe script
//! that prints `key=value` lines), judged by a pure function ([`judge`]) into lines of
//! `ok` / `missing` / `wrong` / `warn`, each with its fix. Nothing is changed on the host.

use std::fmt::Write as _;
use std::time::Duration;

use crate::config::{Config, HostConfig};
use crate::home::Home;
use crate::hosts::layout::Layout;
use crate::hosts::ssh::{Ssh, SshError};

/// Below this much free disk in D a host gets a warning.
pub const LOW_DISK_KB: u64 = 1024 * 1024;
/// The oldest tmux whose features the workers use.
pub const MIN_TMUX: (u32, u32) = (3, 2);
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// What the probe prints, one `key=value` a line. Positional arguments: D, the main branch, the
/// agent's program, and `1` to create `D/bin` and `D/home` first (setup) or `0` (check).
const PROBE: &str = r#"D="$1"; MAIN="$2"; AGENT="$3"
if [ "$4" = 1 ]; then mkdir -p "$D/bin" "$D/home" || exit 3; fi
echo "abs_dir=$(cd "$D" 2>/dev/null && pwd -P)"
echo "tmux=$(tmux -V 2>/dev/null | head -n 1)"
echo "git=$(git --version 2>/dev/null | head -n 1)"
if [ -f "$D/bin/brl" ]; then
  echo "brl_size=$(wc -c < "$D/bin/brl" | tr -d ' ')"
  echo "brl_version=$("$D/bin/brl" --version 2>&1 | head -n 1)"
fi
p="$D"; while [ ! -d "$p" ]; do p=$(dirname "$p"); done
echo "disk_kb=$(df -Pk "$p" 2>/dev/null | awk 'NR==2 {print $4}')"
if [ -e "$D/repo" ]; then
  echo "repo_exists=1"
  top=$(git -C "$D/repo" rev-parse --show-toplevel 2>/dev/null)
  if [ -n "$top" ] && [ "$top" = "$(cd "$D/repo" && pwd -P)" ]; then
    echo "repo_git=1"
    echo "repo_main=$(git -C "$D/repo" rev-parse --verify -q "refs/heads/$MAIN^{commit}")"
    echo "repo_deny=$(git -C "$D/repo" config receive.denyCurrentBranch)"
  fi
fi
if [ -f "$D/home/brl.toml" ]; then echo "home_toml=1"; fi
if [ -n "$AGENT" ]; then echo "agent=$(command -v "$AGENT" 2>/dev/null)"; fi
echo "end=1"
"#;

/// The facts the probe found on a host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probe {
    /// D as an absolute path on the host (empty when D does not exist).
    pub abs_dir: Option<String>,
    /// `tmux -V`'s line.
    pub tmux: Option<String>,
    /// `git --version`'s line.
    pub git: Option<String>,
    /// `D/bin/brl --version`'s line, when the file exists.
    pub brl_version: Option<String>,
    pub brl_size: Option<u64>,
    /// Free space where D is (or would be), in KiB.
    pub disk_kb: Option<u64>,
    pub repo_exists: bool,
    /// `D/repo` is the top of a git work tree of its own.
    pub repo_git: bool,
    /// The main branch's commit in `D/repo`.
    pub repo_main: Option<String>,
    /// `receive.denyCurrentBranch` of `D/repo`.
    pub repo_deny: Option<String>,
    pub home_toml: bool,
    /// Where the agent's program is on the host's PATH.
    pub agent: Option<String>,
}

impl Probe {
    /// Parse the probe's output; `None` when it did not run to its end.
    pub fn parse(text: &str) -> Option<Probe> {
        let mut p = Probe::default();
        let mut end = false;
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim();
            let some = || (!v.is_empty()).then(|| v.to_string());
            match k {
                "abs_dir" => p.abs_dir = some(),
                "tmux" => p.tmux = some(),
                "git" => p.git = some(),
                "brl_version" => p.brl_version = some(),
                "brl_size" => p.brl_size = v.parse().ok(),
                "disk_kb" => p.disk_kb = v.parse().ok(),
                "repo_exists" => p.repo_exists = v == "1",
                "repo_git" => p.repo_git = v == "1",
                "repo_main" => p.repo_main = some(),
                "repo_deny" => p.repo_deny = some(),
                "home_toml" => p.home_toml = v == "1",
                "agent" => p.agent = some(),
                "end" => end = true,
                _ => {}
            }
        }
        end.then_some(p)
    }

    /// D, absolute, as the host sees it.
    pub fn abs_dir(&self) -> Option<&str> {
        self.abs_dir.as_deref()
    }
}

/// What the control host expects to find.
#[derive(Debug, Clone)]
pub struct Expect {
    /// This brl's `--version` line, e.g. `brl 0.1.0`.
    pub version: String,
    /// The size of this brl's executable (another build of the same version differs in size).
    pub exe_size: Option<u64>,
    /// The main branch's name.
    pub main: String,
    /// The main branch's commit in the control host's repository.
    pub control_main: Option<String>,
    /// The first word of `[agent] command`.
    pub agent_program: Option<String>,
}

impl Expect {
    /// From this process and the control home's config.
    pub fn here(home: &Home, config: &Config) -> Expect {
        let repo = config.repo_path(home.root());
        Expect {
            version: version_line(),
            exe_size: std::env::current_exe()
                .ok()
                .and_then(|p| std::fs::metadata(p).ok())
                .map(|m| m.len()),
            main: config.main.clone(),
            control_main: crate::git::Target::open(&repo, &config.main)
                .and_then(|t| t.main_commit())
                .ok()
                .map(|o| o.to_string()),
            agent_program: agent_program(&config.agent.command),
        }
    }
}

/// `brl <version>`, as `brl --version` prints it.
pub fn version_line() -> String {
    format!("brl {}", env!("CARGO_PKG_VERSION"))
}

/// The program of a command line: its first word after any `NAME=value` assignments.
pub fn agent_program(command: &str) -> Option<String> {
    let words = shlex::split(command)?;
    words.into_iter().find(|w| {
        !w.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

/// How one thing on a host stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ok,
    Missing,
    Wrong,
    /// Usable, but worth knowing (low disk, a main behind the control host's).
    Warn,
}

impl State {
    pub fn word(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Missing => "missing",
            State::Wrong => "wrong",
            State::Warn => "warn",
        }
    }
}

/// One line of a host's report.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// `ssh`, `tmux`, `git`, `brl`, `disk`, `repo`, `home` or `agent`.
    pub what: &'static str,
    pub state: State,
    pub detail: String,
    /// What to do about it (none when ok).
    pub fix: Option<String>,
}

impl Item {
    fn new(what: &'static str, state: State, detail: String, fix: Option<String>) -> Item {
        Item {
            what,
            state,
            detail,
            fix,
        }
    }
}

/// One host's report.
#[derive(Debug, Clone)]
pub struct HostReport {
    pub host: String,
    pub dest: String,
    pub dir: String,
    pub items: Vec<Item>,
}

impl HostReport {
    /// Nothing missing or wrong (warnings allowed).
    pub fn ready(&self) -> bool {
        self.items
            .iter()
            .all(|i| matches!(i.state, State::Ok | State::Warn))
    }

    /// The block `brl hosts check` prints.
    pub fn render(&self) -> String {
        let mut s = format!(
            "host {} ({}, dir {}): {}\n",
            self.host,
            self.dest,
            self.dir,
            if self.ready() { "ready" } else { "NOT ready" }
        );
        for i in &self.items {
            let _ = write!(s, "  {:<8} {:<6} {}", i.state.word(), i.what, i.detail);
            if let Some(f) = &i.fix {
                let _ = write!(s, " — fix: {f}");
            }
            s.push('\n');
        }
        s
    }

    /// A host that could not be reached: one line, in ssh's own words.
    pub fn unreachable(host: &HostConfig, err: &SshError) -> HostReport {
        let reason = match err {
            SshError::Unreachable { reason, .. } => reason.clone(),
            other => other.to_string(),
        };
        HostReport {
            host: host.name.clone(),
            dest: destination(host),
            dir: host.dir.clone(),
            items: vec![Item::new(
                "ssh",
                State::Missing,
                format!("unreachable: {}", one_line(&reason)),
                Some(format!(
                    "check that `ssh{} {}` works from this machine without a password prompt (a key in ssh-agent or `identity` in [[hosts]]) and that the host is up",
                    host.port.map(|p| format!(" -p {p}")).unwrap_or_default(),
                    host.ssh
                )),
            )],
        }
    }
}

/// `user@host` or `user@host:port`, for messages.
pub fn destination(host: &HostConfig) -> String {
    match host.port {
        Some(p) => format!("{}:{p}", host.ssh),
        None => host.ssh.clone(),
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

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
    items.push(match (&probe.brl_version, probe.brl_size) {
        (None, _) => Item::new(
            "brl",
            State::Missing,
            format!("{} is not there", layout.bin),
            Some(SETUP.into()),
        ),
        (Some(v), _) if *v != expect.version => Item::new(
            "brl",
            State::Wrong,
            format!(
                "{} says `{}`, this is `{}`",
                layout.bin,
                one_line(v),
                expect.version
            ),
            Some(SETUP.into()),
        ),
        (Some(v), size)
            if size.is_some() && expect.exe_size.is_some() && size != expect.exe_size =>
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
    });
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
    items.push(if probe.home_toml {
        Item::new("home", State::Ok, format!("{}/brl.toml", layout.home), None)
    } else {
        Item::new(
            "home",
            State::Missing,
            format!("{}/brl.toml is not there", layout.home),
            Some(SETUP.into()),
        )
    });
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

/// Run the probe on a host; `mkdir` creates `D/bin` and `D/home` first.
pub fn probe(ssh: &Ssh, host: &HostConfig, expect: &Expect, mkdir: bool) -> anyhow::Result<Probe> {
    let layout = Layout::of(host);
    let agent = expect.agent_program.clone().unwrap_or_default();
    let argv = [
        "sh",
        "-c",
        PROBE,
        "brl-probe",
        &layout.dir,
        &expect.main,
        &agent,
        if mkdir { "1" } else { "0" },
    ];
    let out = ssh.run(&argv, None, PROBE_TIMEOUT)?;
    let text = String::from_utf8_lossy(&out.stdout);
    match Probe::parse(&text) {
        Some(p) if out.ok() => Ok(p),
        _ => anyhow::bail!(
            "the probe on host `{}` failed (exit {:?}): {}\n  fix: check that {} can be created and read by {} on the host",
            host.name,
            out.status,
            one_line(&out.stderr),
            layout.dir,
            host.ssh
        ),
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
