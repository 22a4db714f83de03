//! The live preview of a `[[hosts]]` host's session: its pane log lives on its host
//! (`D/home/logs/sessions/<s>/pane.log`, the same place as in a local home), so its end is read
//! over the host's multiplexed ssh (`tail -c`), at most once per second while the preview is
//! shown, on a thread of its own: a slow or unreachable host holds up neither the dashboard nor
//! the loader. A host that does not answer shows "(host a unreachable)".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::config::HostConfig;
use crate::home::Home;
use crate::hosts::place::host_paths;
use crate::hosts::ssh::{Ssh, SshError, quote};

use super::data::Preview;
use super::preview::{TAIL_BYTES, from_tail, shown};

/// The longest one read may take (ssh's own connect timeout is 10 s).
const TIMEOUT: Duration = Duration::from_secs(15);
/// At most one read per this long.
const EVERY: Duration = Duration::from_secs(1);

/// Where `session`'s pane log is on host `h`, as the remote shell reads it (a relative `dir`
/// is relative to the remote user's home).
pub fn pane_log(h: &HostConfig, session: &str) -> String {
    format!(
        "{}/logs/sessions/{session}/pane.log",
        host_paths(h).home.display()
    )
}

/// The end of `session`'s pane log on `host`, SGR kept and other control sequences removed, as
/// for a local session.
pub fn read(ssh: &Ssh, log: &str, session: &str) -> Preview {
    let host = &ssh.host;
    let n = TAIL_BYTES.to_string();
    // A missing log is "no output yet", told apart from a host that does not answer.
    let line = format!("test -e {p} || exit 3; tail -c {n} {p}", p = quote(log));
    let ran = ssh
        .ensure_master()
        .and_then(|()| ssh.run_command(ssh.shell(&line), "tail -c", None, TIMEOUT));
    let text = match ran {
        Ok(out) if out.ok() => Ok(from_tail(
            &out.stdout,
            out.stdout.len() as u64 >= TAIL_BYTES,
        )),
        Ok(out) if out.status == Some(3) => Err(format!(
            "(no output yet: {log} does not exist on host {host})"
        )),
        Ok(out) => Err(format!(
            "cannot read {log} on host {host}: {}",
            out.stderr.lines().next().unwrap_or("tail failed")
        )),
        Err(SshError::Unreachable { .. } | SshError::TimedOut { .. }) => {
            Err(format!("(host {host} unreachable)"))
        }
        Err(e) => Err(e.to_string().lines().next().unwrap_or_default().to_string()),
    };
    shown(session, text)
}

/// Read `session`'s preview on host `h` now and then at most once per [`EVERY`], each handed
/// to `send`, on a thread of its own, until the returned flag is set or `send` says false.
pub fn spawn(
    home: &Home,
    h: &HostConfig,
    session: &str,
    send: impl Fn(Preview) -> bool + Send + 'static,
) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let ssh = Ssh::new(home, h);
    let log = pane_log(h, session);
    let session = session.to_string();
    let spawned = std::thread::Builder::new()
        .name("brl-tui-preview".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let start = Instant::now();
                let p = read(&ssh, &log, &session);
                if flag.load(Ordering::Relaxed) || !send(p) {
                    return;
                }
                while !flag.load(Ordering::Relaxed) && start.elapsed() < EVERY {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the host preview's thread: {e}");
    }
    stop
}
