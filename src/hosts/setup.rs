//! `brl hosts setup`: makes a host ready, idempotently, and says what it did. Per host, in order:
//! `D/bin/brl` (this executable, copied when missing or another version or build), the clone
//! `D/repo` (`git init` on the host, then `git push` of main from the control host over the
//! host's ssh master; later runs push main again only when it moved), and the home `D/home`
//! (brl.toml derived from the control home's, prompts/, skills/, layouts/, each file written only
//! when it differs). It never installs system packages and never overwrites a `D/repo` that is not
//! a git repository. Each host gets one `host_setup` log entry.

use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use crate::config::{Config, HostConfig};
use crate::home::Home;
use crate::hosts::check::{self, HostReport};
use crate::hosts::layout::Layout;
use crate::hosts::probe::{self, Expect, Probe};
use crate::hosts::remote_home::write_home;
use crate::hosts::ssh::Ssh;
use crate::store::log::{self, Entry};

/// The least time a copy of brl's executable gets; more for a large one (at 256 KiB/s).
const COPY_TIMEOUT: Duration = Duration::from_secs(600);
const STEP_TIMEOUT: Duration = Duration::from_secs(120);

/// Copies stdin to `$1`, a file of `$2` bytes. Written beside the old one and renamed only once
/// all of it arrived: a dropped connection (stdin closed early) or a concurrent setup never leaves
/// a cut or mixed `D/bin/brl`.
const COPY_SCRIPT: &str = r#"T="$1.tmp.$$"; mkdir -p "$(dirname "$1")" && cat > "$T" || { rm -f "$T"; exit 1; }
got=$(wc -c < "$T" | tr -d ' ')
if [ "$got" != "$2" ]; then rm -f "$T"; echo "only $got of $2 bytes arrived" >&2; exit 1; fi
chmod +x "$T" && mv -f "$T" "$1""#;

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
    let before = probe::probe(ssh, host, expect, true)?;
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
    let after = probe::probe(ssh, host, expect, false)?;
    Ok(check::report(host, &after, expect))
}

/// Copy this executable to `D/bin/brl` unless the same version of the same size is there.
fn copy_binary(
    ssh: &Ssh,
    layout: &Layout,
    probe: &Probe,
    expect: &Expect,
) -> anyhow::Result<Option<String>> {
    let foreign = probe
        .platform
        .as_deref()
        .filter(|p| probe::same_platform(p) == Some(false));
    let same_version = probe.brl_version.as_deref() == Some(expect.version.as_str());
    // On another platform a same-version binary is one built there: kept whatever its size.
    if same_version
        && (foreign.is_some() || (probe.brl_size.is_some() && probe.brl_size == expect.exe_size))
    {
        return Ok(None);
    }
    if let Some(p) = foreign {
        anyhow::bail!(
            "the host is `{p}` and this brl is built for {}/{}: it is not copied
  fix: build brl {} on the host (`cargo install --locked --path <brl's source>`) and put it at {}",
            std::env::consts::OS,
            std::env::consts::ARCH,
            env!("CARGO_PKG_VERSION"),
            layout.bin
        );
    }
    let exe = std::env::current_exe().context("cannot find this brl's own executable")?;
    let bytes = std::fs::read(&exe).with_context(|| format!("cannot read {}", exe.display()))?;
    let size = bytes.len().to_string();
    let timeout = COPY_TIMEOUT.max(Duration::from_secs(bytes.len() as u64 / (256 * 1024)));
    let out = ssh.run(
        &["sh", "-c", COPY_SCRIPT, "brl-copy", &layout.bin, &size],
        Some(&bytes),
        timeout,
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

#[cfg(test)]
mod tests {
    use super::COPY_SCRIPT;
    use std::io::Write;
    use std::process::{Command, Stdio};

    fn copy(dest: &std::path::Path, bytes: &[u8], size: usize) -> bool {
        let mut child = Command::new("sh")
            .args(["-c", COPY_SCRIPT, "brl-copy"])
            .arg(dest)
            .arg(size.to_string())
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh runs");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(bytes).expect("write");
        drop(stdin);
        child.wait().expect("sh ends").success()
    }

    #[test]
    fn a_cut_copy_leaves_the_old_binary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("bin/brl");
        assert!(copy(&bin, b"new binary", 10));
        assert_eq!(std::fs::read(&bin).expect("read"), b"new binary");
        // Only part of it arrives: the old one stays, and no temp file is left.
        assert!(!copy(&bin, b"newer", 12));
        assert_eq!(std::fs::read(&bin).expect("read"), b"new binary");
        let left: Vec<_> = std::fs::read_dir(dir.path().join("bin"))
            .expect("dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("brl")]);
    }
}
