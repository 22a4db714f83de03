//! The host's home `D/home`: its brl.toml, derived from the control home's ([`derive_toml`]),
//! and prompts/, skills/, layouts/ copied over tar; [`write_home`] writes each file only where it
//! differs, so a second `brl hosts setup` changes nothing. [`cksum`] is POSIX `cksum`'s CRC, so
//! `brl hosts check` can tell a host's brl.toml that no longer matches the control home's with one
//! line of the probe's output.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::config::{Config, HostConfig};
use crate::home::Home;
use crate::hosts::layout::Layout;
use crate::hosts::ssh::{Ssh, quote};

const STEP_TIMEOUT: Duration = Duration::from_secs(120);

/// The directories of the control home copied to the host's home.
pub const COPIED_DIRS: [&str; 3] = ["prompts", "skills", "layouts"];
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
pub fn write_home(
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

/// POSIX `cksum` of `data`: its CRC and its length, as `cksum < file` prints them.
pub fn cksum(data: &[u8]) -> String {
    fn step(crc: u32, byte: u8) -> u32 {
        let mut c = crc ^ (u32::from(byte) << 24);
        for _ in 0..8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04C1_1DB7
            } else {
                c << 1
            };
        }
        c
    }
    let mut crc = data.iter().fold(0u32, |c, &b| step(c, b));
    let mut len = data.len();
    while len > 0 {
        crc = step(crc, (len & 0xff) as u8);
        len >>= 8;
    }
    format!("{} {}", !crc, data.len())
}

#[cfg(test)]
mod tests {
    use super::{cksum, derive_toml};
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

    #[test]
    fn cksum_is_posix_cksum() {
        assert_eq!(cksum(b"hello\n"), "3015617425 6");
        assert_eq!(cksum(b""), "4294967295 0");
        assert_eq!(cksum(b"a"), "1220704766 1");
        // And the system's own on a longer text (its length takes two bytes).
        let text = "brl.toml line\n".repeat(40);
        let mut child = std::process::Command::new("cksum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("cksum runs");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("cksum ends");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            cksum(text.as_bytes())
        );
    }
}
