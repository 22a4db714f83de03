//! `brl hosts setup`: makes a host ready, idempotently, and says what it did. Per host, in order:
//! `D/bin/brl` (this executable, copied when missing or another version or build), the clone
//! `D/repo` (`git init` on the host, then `git push` of main from the control host over the
//! host's ssh master; later runs push main again only when it moved), and the home `D/home`
//! (brl.toml derived from the control home's, prompts/, skills/, layouts/, each file written only
//! when it differs). It never installs system packages and never overwrites a `D/repo` that is not
//! a git repository. Each host gets one `host_setup` log entry.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use crate::config::{Config, HostConfig};
use crate::home::Home;
use crate::hosts::check::{self, Expect, HostReport, Probe};
use crate::hosts::layout::Layout;
use crate::hosts::ssh::{Ssh, quote};
use crate::store::log::{self, Entry};

const COPY_TIMEOUT: Duration = Duration::from_secs(600);
const STEP_TIMEOUT: Duration = Duration::from_secs(120);

/// The directories of the control home copied to the host's home.
pub const COPIED_DIRS: [&str; 3] = ["prompts", "skills", "layouts"];

/// What setup did on one host.
#[derive(Debug, Clone)]
pub struct SetupReport {
    pub host: String,
    /// What changed, one phrase each (empty: it was already set up).
    pub did: Vec<String>,
    /// What setup could not do, each with its fix.
    pub failed: Vec<String>,
    /// The host as `brl hosts check` sees it afterwards.
    pub after: HostReport,
}

impl SetupReport {
    pub fn ready(&self) -> bool {
        self.failed.is_empty() && self.after.ready()
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        if self.did.is_empty() && self.failed.is_empty() {
            s.push_str(&format!(
                "host {}: already set up, nothing changed\n",
                self.host
            ));
        }
        for d in &self.did {
            s.push_str(&format!("host {}: {d}\n", self.host));
        }
        for f in &self.failed {
            s.push_str(&format!("host {}: FAILED {f}\n", self.host));
        }
        s.push_str(&self.after.render());
        s
    }
}

/// Set up one host and log a `host_setup` entry.
pub fn setup_host(home: &Home, config: &Config, host: &HostConfig) -> SetupReport {
    let expect = Expect::here(home, config);
    let ssh = Ssh::new(home, host);
    let mut did = Vec::new();
    let mut failed = Vec::new();
    let after = match ssh.ensure_master() {
        Err(e) => {
            let r = HostReport::unreachable(host, &e);
            failed.push(format!(
                "{} (nothing was done)",
                r.items.first().map(|i| i.detail.as_str()).unwrap_or("")
            ));
            r
        }
        Ok(()) => match run_steps(home, config, host, &ssh, &expect, &mut did, &mut failed) {
            Ok(after) => after,
            Err(e) => {
                failed.push(format!("{e:#}"));
                check::check_host(home, host, &expect)
            }
        },
    };
    let report = SetupReport {
        host: host.name.clone(),
        did,
        failed,
        after,
    };
    log::append_or_report(
        &home.log_path(),
        &Entry::new(
            "host_setup",
            None,
            json!({
                "host": host.name,
                "dest": check::destination(host),
                "dir": host.dir,
                "did": report.did,
                "failed": report.failed,
                "ready": report.ready(),
            }),
        ),
    );
    report
}

fn run_steps(
    home: &Home,
    config: &Config,
    host: &HostConfig,
    ssh: &Ssh,
    expect: &Expect,
    did: &mut Vec<String>,
    failed: &mut Vec<String>,
) -> anyhow::Result<HostReport> {
    let layout = Layout::of(host);
    let before = check::probe(ssh, host, expect, true)?;
    let Some(abs_dir) = before.abs_dir().map(str::to_string) else {
        anyhow::bail!(
            "{} could not be created on the host\n  fix: check that {} may write there",
            layout.dir,
            host.ssh
        );
    };
    match copy_binary(ssh, &layout, &before, expect) {
        Ok(Some(d)) => did.push(d),
        Ok(None) => {}
        Err(e) => failed.push(format!("{e:#}")),
    }
    match make_clone(home, config, ssh, &layout, &before, expect) {
        Ok(mut d) => did.append(&mut d),
        Err(e) => failed.push(format!("{e:#}")),
    }
    match write_home(home, host, ssh, &layout, &abs_dir) {
        Ok(mut d) => did.append(&mut d),
        Err(e) => failed.push(format!("{e:#}")),
    }
    let after = check::probe(ssh, host, expect, false)?;
    Ok(check::report(host, &after, expect))
}

/// Copy this executable to `D/bin/brl` unless the same version of the same size is there.
fn copy_binary(
    ssh: &Ssh,
    layout: &Layout,
    probe: &Probe,
    expect: &Expect,
) -> anyhow::Result<Option<String>> {
    if probe.brl_version.as_deref() == Some(expect.version.as_str())
        && probe.brl_size.is_some()
        && probe.brl_size == expect.exe_size
    {
        return Ok(None);
    }
    let exe = std::env::current_exe().context("cannot find this brl's own executable")?;
    let bytes = std::fs::read(&exe).with_context(|| format!("cannot read {}", exe.display()))?;
    let script = r#"mkdir -p "$(dirname "$1")" && cat > "$1.tmp" && chmod +x "$1.tmp" && mv -f "$1.tmp" "$1""#;
    let out = ssh.run(
        &["sh", "-c", script, "brl-copy", &layout.bin],
        Some(&bytes),
        COPY_TIMEOUT,
    )?;
    if !out.ok() {
        anyhow::bail!(
            "copying brl to {} failed: {}\n  fix: check the free space and permissions of {} on the host",
            layout.bin,
            out.stderr,
            layout.dir
        );
    }
    Ok(Some(format!(
        "copied {} ({}, {} bytes) to {}",
        exe.display(),
        expect.version,
        bytes.len(),
        layout.bin
    )))
}

/// Make `D/repo` a clone of the control repository's main, or bring its main up to date.
fn make_clone(
    home: &Home,
    config: &Config,
    ssh: &Ssh,
    layout: &Layout,
    probe: &Probe,
    expect: &Expect,
) -> anyhow::Result<Vec<String>> {
    let mut did = Vec::new();
    if probe.repo_exists && !probe.repo_git {
        anyhow::bail!(
            "{} exists on the host and is not a git repository; brl does not overwrite it\n  fix: move it aside on the host, then run `brl hosts setup` again",
            layout.repo
        );
    }
    let main = &config.main;
    if !probe.repo_exists || probe.repo_deny.as_deref() != Some("updateInstead") {
        let script = r#"R="$1"; if [ ! -e "$R" ]; then git init -q "$R" && git -C "$R" symbolic-ref HEAD "refs/heads/$2" || exit 1; fi
git -C "$R" config receive.denyCurrentBranch updateInstead"#;
        let out = ssh.run(
            &["sh", "-c", script, "brl-init", &layout.repo, main],
            None,
            STEP_TIMEOUT,
        )?;
        if !out.ok() {
            anyhow::bail!(
                "`git init {}` on the host failed: {}\n  fix: check that git works on the host and {} is writable",
                layout.repo,
                out.stderr,
                layout.dir
            );
        }
        did.push(if probe.repo_exists {
            format!(
                "let {} take pushes to its checked-out `{main}`",
                layout.repo
            )
        } else {
            format!("made an empty repository at {}", layout.repo)
        });
    }
    let Some(control_main) = &expect.control_main else {
        anyhow::bail!(
            "the control repository {} has no branch `{main}` to push\n  fix: check `repo` and `main` in {}",
            config.repo_path(home.root()).display(),
            home.config_path().display()
        );
    };
    if probe.repo_main.as_deref() == Some(control_main.as_str()) {
        return Ok(did);
    }
    let repo = config.repo_path(home.root());
    let url = ssh.git_url(&layout.repo);
    let refspec = format!("refs/heads/{main}:refs/heads/{main}");
    let out = Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["push", "--quiet", &url, &refspec])
        .env("GIT_SSH_COMMAND", ssh.git_ssh_command())
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        anyhow::bail!(
            "`git push {url} {main}` from {} failed: {}\n  fix: a `{main}` on the host that is not behind the control host's, or uncommitted changes in {} on the host, refuse the push; look there, then run `brl hosts setup` again",
            repo.display(),
            String::from_utf8_lossy(&out.stderr).trim(),
            layout.repo
        );
    }
    did.push(format!(
        "pushed `{main}` ({}) to {}",
        control_main.get(..10).unwrap_or(control_main),
        layout.repo
    ));
    Ok(did)
}

/// The host's brl.toml, derived from the control home's text: the same agent, checks, worktree
/// setup, worker, prompt, gate, prices, scheduler and tmux (without its session name, which each
/// home derives from its path); `repo`, `sessions` and `host` of the host; no server, no notify,
/// no budgets, no jobs and no `[[hosts]]` (those stay with the control room).
pub fn derive_toml(control_text: &str, host: &HostConfig, abs_dir: &str) -> anyhow::Result<String> {
    let control: toml::Table = control_text
        .parse()
        .context("the control home's brl.toml does not parse")?;
    let mut t = toml::Table::new();
    t.insert(
        "repo".into(),
        toml::Value::String(format!("{}/repo", abs_dir.trim_end_matches('/'))),
    );
    for key in ["main", "context_file"] {
        if let Some(v) = control.get(key) {
            t.insert(key.into(), v.clone());
        }
    }
    t.insert(
        "sessions".into(),
        toml::Value::Integer(host.sessions.into()),
    );
    t.insert("host".into(), toml::Value::String(host.name.clone()));
    for key in [
        "agent", "checks", "worktree", "worker", "prompt", "gate", "prices",
    ] {
        if let Some(v) = control.get(key) {
            t.insert(key.into(), v.clone());
        }
    }
    let mut scheduler = control
        .get("scheduler")
        .and_then(|v| v.as_table().cloned())
        .unwrap_or_default();
    if let Some(p) = host.max_ram_percent {
        scheduler.insert("max_ram_percent".into(), toml::Value::Integer(p.into()));
    }
    if !scheduler.is_empty() {
        t.insert("scheduler".into(), toml::Value::Table(scheduler));
    }
    if let Some(mut tmux) = control.get("tmux").and_then(|v| v.as_table().cloned()) {
        tmux.remove("session");
        if !tmux.is_empty() {
            t.insert("tmux".into(), toml::Value::Table(tmux));
        }
    }
    let mut server = toml::Table::new();
    server.insert("enabled".into(), toml::Value::Boolean(false));
    t.insert("server".into(), toml::Value::Table(server));
    let body = toml::to_string(&t).context("cannot write the host's brl.toml")?;
    Ok(format!(
        "# Written by `brl hosts setup` on the control host for host `{}`, from the control home's\n\
         # brl.toml; the next `brl hosts setup` overwrites it: change the control home's instead.\n\
         # This home runs the sessions {}-s1..{}-s{}; the control room grants their cycles, and\n\
         # their branches and log entries are collected by it.\n\n{body}",
        host.name, host.name, host.name, host.sessions
    ))
}

/// Write brl.toml and the copied directories into `D/home`, each file only where it differs.
fn write_home(
    home: &Home,
    host: &HostConfig,
    ssh: &Ssh,
    layout: &Layout,
    abs_dir: &str,
) -> anyhow::Result<Vec<String>> {
    let control_text = std::fs::read_to_string(home.config_path())
        .with_context(|| format!("cannot read {}", home.config_path().display()))?;
    let text = derive_toml(&control_text, host, abs_dir)?;
    // The result must be a config brl accepts; checked here, not found out on the host.
    let probe_path = Path::new(abs_dir).join("home").join("brl.toml");
    Config::parse(&probe_path, &text).with_context(|| {
        format!(
            "the brl.toml derived for host `{}` is not valid; fix the control home's {}",
            host.name,
            home.config_path().display()
        )
    })?;
    let dirs: Vec<&str> = COPIED_DIRS
        .iter()
        .copied()
        .filter(|d| home.root().join(d).is_dir())
        .collect();
    let tar = if dirs.is_empty() {
        Vec::new()
    } else {
        let out = Command::new("tar")
            .arg("-cf")
            .arg("-")
            .arg("-C")
            .arg(home.root())
            .args(&dirs)
            .stdin(Stdio::null())
            .output()
            .context("cannot run tar")?;
        if !out.status.success() {
            anyhow::bail!(
                "tar of {} in {} failed: {}",
                dirs.join(", "),
                home.root().display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        out.stdout
    };
    let script = r#"H="$1"; mkdir -p "$H" || exit 3
S="$(cd "$H" && pwd -P)/.setup-$$"; rm -rf "$S"; mkdir "$S" || exit 3
trap 'rm -rf "$S"' EXIT
if [ "$3" = 1 ]; then tar -xf - -C "$S" || exit 4; fi
printf '%s' "$2" > "$S/brl.toml" || exit 5
cd "$S" || exit 6
find . -type f | sort | while IFS= read -r f; do
  if ! cmp -s "$f" "../$f"; then
    if mkdir -p "../$(dirname "$f")" && cp "$f" "../$f.setup-tmp" && mv -f "../$f.setup-tmp" "../$f"; then
      echo "changed=${f#./}"
    else
      echo "failed=${f#./}"
    fi
  fi
done
echo end=1"#;
    let has_tar = if tar.is_empty() { "0" } else { "1" };
    let out = ssh.run(
        &["sh", "-c", script, "brl-home", &layout.home, &text, has_tar],
        (!tar.is_empty()).then_some(tar.as_slice()),
        STEP_TIMEOUT,
    )?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.ok() || !stdout.lines().any(|l| l == "end=1") {
        anyhow::bail!(
            "writing the home {} on the host failed: {}\n  fix: check the free space and permissions of {} on the host",
            layout.home,
            out.stderr,
            layout.dir
        );
    }
    let changed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("changed="))
        .collect();
    let bad: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("failed="))
        .collect();
    if !bad.is_empty() {
        anyhow::bail!(
            "could not write {} in {} on the host\n  fix: check the permissions of {}",
            bad.join(", "),
            layout.home,
            layout.home
        );
    }
    let mut did = Vec::new();
    if changed.contains(&"brl.toml") {
        did.push(format!("wrote {}/brl.toml", layout.home));
    }
    let others: Vec<&str> = changed
        .iter()
        .copied()
        .filter(|f| *f != "brl.toml")
        .collect();
    if !others.is_empty() {
        did.push(format!(
            "copied {} file(s) of {} to {}: {}",
            others.len(),
            dirs.join("/, ") + "/",
            layout.home,
            summarize(&others)
        ));
    }
    Ok(did)
}

fn summarize(files: &[&str]) -> String {
    const SHOWN: usize = 6;
    let mut s = files
        .iter()
        .take(SHOWN)
        .map(|f| quote(f))
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > SHOWN {
        s.push_str(&format!(", and {} more", files.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::derive_toml;
    use crate::config::{Config, HostConfig};

    #[test]
    fn the_host_toml_keeps_the_work_and_drops_the_control_room() {
        let control = r#"repo = "/home/me/app"
main = "trunk"
sessions = 4
context_file = "AGENTS.md"

[agent]
command = "claude -p"
timeout_secs = 99

[checks.typecheck]
command = "cat f*.txt"
parser = "regex"
errors = "^ERR"

[tmux]
session = "brl-main"
socket = "brl"

[server]
listen = "127.0.0.1:9000"

[notify]
command = "notify-send brl"

[[hosts]]
name = "box1"
ssh = "me@box1"
sessions = 2
max_ram_percent = 70
"#;
        let host: HostConfig = toml::from_str(
            "name = \"box1\"\nssh = \"me@box1\"\nsessions = 2\nmax_ram_percent = 70",
        )
        .expect("host");
        let text = derive_toml(control, &host, "/srv/brl/").expect("derives");
        assert!(text.starts_with("# Written by `brl hosts setup`"), "{text}");
        let path = std::path::Path::new("/srv/brl/home/brl.toml");
        let c = Config::parse(path, &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(c.repo, std::path::PathBuf::from("/srv/brl/repo"));
        assert_eq!(c.main, "trunk");
        assert_eq!(c.sessions.get(), 2);
        assert_eq!(c.host.as_deref(), Some("box1"));
        assert_eq!(c.session_names(), ["box1-s1", "box1-s2"]);
        assert_eq!(c.agent.command, "claude -p");
        assert_eq!(c.agent.timeout_secs.get(), 99);
        assert!(c.checks.typecheck.is_some());
        assert_eq!(c.scheduler.max_ram_percent, 70);
        assert_eq!(c.tmux.socket.as_deref(), Some("brl"));
        assert_ne!(c.tmux.session, "brl-main", "each home derives its own");
        assert!(!c.server.enabled);
        assert!(c.hosts.is_empty());
        assert!(!text.contains("notify"), "{text}");
    }
}
