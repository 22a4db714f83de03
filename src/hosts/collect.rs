//! Records and branches come home, exactly once. One pass for one host:
//! 1. the cursor: the larger of the saved one and the end of the last central entry from this
//!    host (see [`super::cursor`]);
//! 2. `brl remote log --from <cursor>` on the host (one ssh command; whole lines only);
//! 3. for each entry in order: a kept branch is fetched into the control repo and queued (both
//!    skipped when the central queue holds it), a task's result applied centrally, then the entry
//!    appended to the central log with `data.host` and `data.origin = {host, offset, end}` — the
//!    commit point — and only then the cursor saved;
//! 4. `main` pushed to the host's clone when it moved since the last push.
//!
//! A host that cannot be reached is marked so in `logs/hosts/<name>.json` (with when and why) and
//! collected again on a later pass: its entries wait in its own log.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use super::cursor::{self, HostState};
use super::ssh::SshError;
use super::{Ssh, arrive, chunk};
use crate::config::{Config, HostConfig};
use crate::home::Home;
use crate::store::atomic::LockGuard;
use crate::store::log::{self, Entry};

/// How long one `brl remote log` may take.
const REMOTE_TIMEOUT: Duration = Duration::from_secs(60);
/// At most this many chunks per pass, so one host with a big backlog does not hold the others.
const CHUNKS_PER_PASS: usize = 8;
/// The saved `central_len` is brought forward when the central log grew this much past it
/// (bounds the scan of [`cursor::last_origin_end`] when a host stays quiet).
const CENTRAL_LAG: u64 = 64 * 1024;

/// What one pass did for one host.
#[derive(Debug, Default, Clone)]
pub struct PassReport {
    pub host: String,
    /// Entries appended to the central log.
    pub collected: usize,
    /// Kept branches fetched and added to the central review queue.
    pub queued: usize,
    /// Tasks whose result was applied to the central task queue.
    pub tasks: usize,
    /// Lines of the host's log that were not entries (skipped).
    pub malformed: usize,
    /// `main` was pushed to the host.
    pub pushed_main: bool,
    /// Another process collects this host right now; this pass did nothing.
    pub busy: bool,
}

impl PassReport {
    pub fn summary(&self) -> String {
        if self.busy {
            return format!("{}: another process is collecting it", self.host);
        }
        let mut s = format!(
            "{}: {} entr{} collected, {} branch{} queued, {} task{} settled",
            self.host,
            self.collected,
            if self.collected == 1 { "y" } else { "ies" },
            self.queued,
            if self.queued == 1 { "" } else { "es" },
            self.tasks,
            if self.tasks == 1 { "" } else { "s" },
        );
        if self.malformed > 0 {
            s.push_str(&format!(", {} malformed line(s) skipped", self.malformed));
        }
        if self.pushed_main {
            s.push_str(", main pushed");
        }
        s
    }
}

/// One pass over every `[[hosts]]`, in brl.toml's order.
pub fn collect_all(home: &Home, config: &Config) -> Vec<(String, anyhow::Result<PassReport>)> {
    config
        .hosts
        .iter()
        .map(|h| (h.name.clone(), collect_host(home, config, h)))
        .collect()
}

/// One pass for one host; its state file says how it went (reachable or not, since when, why).
pub fn collect_host(home: &Home, config: &Config, host: &HostConfig) -> anyhow::Result<PassReport> {
    let mut report = PassReport {
        host: host.name.clone(),
        ..PassReport::default()
    };
    let lock_path = cursor::lock_path(home, &host.name);
    let Some(_lock) = LockGuard::try_exclusive(&lock_path)? else {
        report.busy = true;
        return Ok(report);
    };
    let mut state = cursor::load(home, &host.name)?;
    let before = state.clone();
    let ssh = Ssh::new(home, host);
    let result = pass(home, config, host, &ssh, &mut state, &mut report);
    let now = Utc::now();
    match &result {
        Ok(()) => {
            if !state.reachable || state.since.is_none() {
                state.since = Some(now);
            }
            state.reachable = true;
            state.last_error = None;
            state.last_ok = Some(now);
        }
        Err(e) => {
            let unreachable = e.chain().any(|c| c.downcast_ref::<SshError>().is_some());
            let text = format!("{e:#}");
            // `host_unreachable` / `host_reachable` are the control room's to log, once per
            // change (hosts::fleet); here the collection keeps its own view for `brl hosts collect`.
            if unreachable && (state.reachable || state.since.is_none()) {
                state.reachable = false;
                state.since = Some(now);
            }
            state.last_error = Some(text);
        }
    }
    // `last_ok` alone changing is not worth a write per pass.
    let mut compare = state.clone();
    compare.last_ok = before.last_ok;
    if compare != before {
        cursor::save(home, &state)?;
    }
    result.map(|()| report)
}

fn pass(
    home: &Home,
    config: &Config,
    host: &HostConfig,
    ssh: &Ssh,
    state: &mut HostState,
    report: &mut PassReport,
) -> anyhow::Result<()> {
    let central = home.log_path();
    if let Some(end) = cursor::last_origin_end(&central, &host.name, state.central_len)? {
        state.cursor = state.cursor.max(end);
    }
    ssh.ensure_master()?;
    let paths = super::Layout::of(host);
    let repo = config.repo_path(home.root());
    for _ in 0..CHUNKS_PER_PASS {
        let from = state.cursor.to_string();
        let max = chunk::DEFAULT_MAX_BYTES.to_string();
        let argv = [
            paths.bin.as_str(),
            "--home",
            &paths.home,
            "remote",
            "log",
            "--from",
            &from,
            "--max-bytes",
            &max,
        ];
        let out = ssh.run(&argv, None, REMOTE_TIMEOUT)?;
        if !out.ok() {
            anyhow::bail!(
                "`brl remote log` on host `{}` failed ({}): {}",
                host.name,
                out.status
                    .map_or("killed".to_string(), |c| format!("exit {c}")),
                out.stderr
            );
        }
        let (header, body) = chunk::parse(&out.stdout)?;
        match (&state.log_id, &header.log_id) {
            (Some(mine), Some(theirs)) if mine != theirs && state.cursor > 0 => anyhow::bail!(
                "the experiment log of host `{}` is not the one collected so far (its first line changed): its home was set up again, or the log replaced\n  fix: if that is so, move {} aside so collection starts over from the new log's start",
                host.name,
                cursor::state_path(home, &host.name).display()
            ),
            (_, Some(theirs)) => state.log_id = Some(theirs.clone()),
            _ => {}
        }
        if header.from != state.cursor {
            anyhow::bail!(
                "host `{}` sent its log from byte {}, not from {} as asked",
                host.name,
                header.from,
                state.cursor
            );
        }
        apply_chunk(home, config, host, ssh, &paths, &repo, state, report, body)?;
        let central_len = std::fs::metadata(&central).map(|m| m.len()).unwrap_or(0);
        if central_len.saturating_sub(state.central_len) > CENTRAL_LAG || header.len > 0 {
            state.central_len = central_len;
        }
        if header.len > 0 {
            cursor::save(home, state)?;
        }
        if header.len == 0 || header.from + header.len >= header.file_len {
            break;
        }
    }
    let main = arrive::main_oid(&repo, &config.main)?;
    if state.pushed_main.as_deref() != Some(main.as_str()) {
        arrive::push_main(&repo, ssh, &paths.repo, &config.main)?;
        state.pushed_main = Some(main);
        report.pushed_main = true;
    }
    Ok(())
}

/// The entries of one chunk, in order; the cursor advances past each entry once it is appended.
#[allow(clippy::too_many_arguments)]
fn apply_chunk(
    home: &Home,
    config: &Config,
    host: &HostConfig,
    ssh: &Ssh,
    paths: &super::Layout,
    repo: &std::path::Path,
    state: &mut HostState,
    report: &mut PassReport,
    body: &[u8],
) -> anyhow::Result<()> {
    let base = state.cursor;
    let mut lines: Vec<(u64, u64, Option<Entry>)> = Vec::new();
    let mut at = 0usize;
    for line in body.split_inclusive(|&b| b == b'\n') {
        let (start, end) = (base + at as u64, base + (at + line.len()) as u64);
        at += line.len();
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        if text.iter().all(u8::is_ascii_whitespace) {
            lines.push((start, end, None));
            continue;
        }
        match serde_json::from_slice::<Entry>(text) {
            Ok(e) => lines.push((start, end, Some(e))),
            Err(err) => {
                tracing::warn!(
                    "host `{}`: byte {start} of its experiment log is not an entry ({err}); skipped",
                    host.name
                );
                report.malformed += 1;
                state.malformed += 1;
                lines.push((start, end, None));
            }
        }
    }
    // One fetch for every kept branch of the chunk that is not queued yet.
    let kept: Vec<String> = lines
        .iter()
        .filter_map(|(_, _, e)| e.as_ref().and_then(arrive::kept_branch))
        .map(str::to_string)
        .collect();
    let fetch = arrive::not_queued(home, &kept)?;
    let missing = arrive::fetch_each(repo, ssh, &paths.repo, &fetch)?;
    crate::chaos::point("collect:after-fetch");
    let central = home.log_path();
    let max_attempts = config.scheduler.max_attempts.get();
    for (start, end, entry) in lines {
        let Some(mut e) = entry else {
            state.cursor = end;
            continue;
        };
        if let Some(branch) = arrive::kept_branch(&e).map(str::to_string) {
            if missing.contains(&branch) {
                // Said loudly, in the entry itself: the record comes home, the branch cannot.
                let note = format!(
                    "branch {branch} was gone from host `{}` when it was collected: not in the review queue",
                    host.name
                );
                tracing::error!("{note}");
                e.data["collect_note"] = json!(note);
            } else if arrive::enqueue(home, arrive::queue_entry(&e, &branch))? {
                report.queued += 1;
            }
        }
        if let Some(task_state) = arrive::settle_task(home, &e, max_attempts)? {
            e.data["task_state"] = json!(task_state);
            report.tasks += 1;
        }
        let origin = json!({"host": host.name, "offset": start, "end": end});
        match &mut e.data {
            Value::Object(m) => {
                m.insert("host".into(), json!(host.name));
                m.insert("origin".into(), origin);
            }
            Value::Null => e.data = json!({"host": host.name, "origin": origin}),
            other => {
                let value = other.take();
                e.data = json!({"value": value, "host": host.name, "origin": origin});
            }
        }
        log::append(&central, &e)?;
        crate::chaos::point("collect:after-append");
        state.cursor = end;
        state.collected += 1;
        report.collected += 1;
    }
    Ok(())
}
