//! The probe: one ssh command per host (a POSIX `sh` script) that prints what is there as
//! `key=value` lines — tools, brl's binary, free disk, the clone, the home, the agent's program —
//! and what the control host expects to find. `brl hosts check` judges the one against the other;
//! `brl hosts setup` does only what the difference asks for.

use std::time::Duration;

use crate::config::{Config, HostConfig};
use crate::home::Home;
use crate::hosts::layout::Layout;
use crate::hosts::ssh::Ssh;

const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// What the probe prints, one `key=value` a line. Positional arguments: D, the main branch, the
/// agent's program, `1` to create `D/bin` and `D/home` first (setup) or `0` (check), then the
/// other programs the sessions run (checks, worktree setup, sandbox).
const PROBE: &str = r#"D="$1"; MAIN="$2"; AGENT="$3"
if [ "$4" = 1 ]; then mkdir -p "$D/bin" "$D/home" || exit 3; fi
echo "abs_dir=$(cd "$D" 2>/dev/null && pwd -P)"
echo "platform=$(uname -s) $(uname -m)"
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
if [ -f "$D/home/brl.toml" ]; then echo "home_toml=1"; echo "home_cksum=$(cksum < "$D/home/brl.toml")"; fi
if [ -n "$AGENT" ]; then echo "agent=$(command -v "$AGENT" 2>/dev/null)"; fi
shift 4
for t in "$@"; do echo "tool=$t=$(command -v "$t" 2>/dev/null)"; done
echo "end=1"
"#;

/// The facts the probe found on a host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probe {
    /// D as an absolute path on the host (empty when D does not exist).
    pub abs_dir: Option<String>,
    /// `uname -s` and `uname -m`, e.g. `Linux x86_64`.
    pub platform: Option<String>,
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
    /// `cksum` of `D/home/brl.toml`: its CRC and length.
    pub home_cksum: Option<String>,
    /// Where the agent's program is on the host's PATH.
    pub agent: Option<String>,
    /// Each other program asked about, and where it is on the host's PATH (none: not there).
    pub tools: Vec<(String, Option<String>)>,
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
                "platform" => p.platform = some(),
                "home_cksum" => {
                    p.home_cksum =
                        some().map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
                }
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
                "tool" => {
                    let (name, path) = v.split_once('=').unwrap_or((v, ""));
                    let path = path.trim();
                    p.tools.push((
                        name.to_string(),
                        (!path.is_empty()).then(|| path.to_string()),
                    ));
                }
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
    /// The other programs the sessions run on the host, each with where it is configured
    /// (`checks.test.command`, …).
    pub tools: Vec<(String, String)>,
    /// The control home's brl.toml, from which each host's is derived.
    pub control_toml: Option<String>,
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
            tools: tools(config),
            control_toml: std::fs::read_to_string(home.config_path()).ok(),
        }
    }
}

/// The programs, other than the agent's, that the sessions run: the checks' and the worktree
/// setup's first words, and `bwrap` for `[agent] sandbox = "bwrap"`; each with its key.
pub fn tools(config: &Config) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, check) in [
        ("checks.typecheck.command", &config.checks.typecheck),
        ("checks.test.command", &config.checks.test),
    ] {
        if let Some(p) = check
            .as_ref()
            .and_then(|c| agent_program(&c.get_ref().command))
        {
            out.push((key.to_string(), p));
        }
    }
    if let Some(p) = config.worktree.setup_command().and_then(agent_program) {
        out.push(("worktree.setup".to_string(), p));
    }
    if config.preset().sandbox() == crate::agents::sandbox::Sandbox::Bwrap {
        out.push(("agent.sandbox".to_string(), "bwrap".to_string()));
    }
    out
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

/// Run the probe on a host; `mkdir` creates `D/bin` and `D/home` first.
pub fn probe(ssh: &Ssh, host: &HostConfig, expect: &Expect, mkdir: bool) -> anyhow::Result<Probe> {
    let layout = Layout::of(host);
    let agent = expect.agent_program.clone().unwrap_or_default();
    let mut argv = vec![
        "sh",
        "-c",
        PROBE,
        "brl-probe",
        &layout.dir,
        &expect.main,
        &agent,
        if mkdir { "1" } else { "0" },
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (_, program) in &expect.tools {
        if seen.insert(program.as_str()) {
            argv.push(program);
        }
    }
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

pub(super) fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether a host's `uname -s` `uname -m` is the platform this brl was built for; `None` when the
/// words are not known (then nothing is concluded).
pub fn same_platform(uname: &str) -> Option<bool> {
    let mut words = uname.split_whitespace();
    let os = match words.next()?.to_ascii_lowercase().as_str() {
        "linux" => "linux",
        "darwin" => "macos",
        "freebsd" => "freebsd",
        "openbsd" => "openbsd",
        "netbsd" => "netbsd",
        _ => return None,
    };
    let arch = match words.next()?.to_ascii_lowercase().as_str() {
        "x86_64" | "amd64" => "x86_64",
        "aarch64" | "arm64" => "aarch64",
        "i386" | "i486" | "i586" | "i686" => "x86",
        "riscv64" => "riscv64",
        "armv7l" | "armv6l" => "arm",
        _ => return None,
    };
    Some(os == std::env::consts::OS && arch == std::env::consts::ARCH)
}
