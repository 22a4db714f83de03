//! The `[[hosts]]` sessions' rows for the dashboard, from what the control room last knew of each
//! host (`logs/hosts/<name>.json`): the dashboard never talks to a host itself.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::home::Home;
use crate::hosts::status_file;

use super::data::{HostMemory, Memory, SessionRow, SessionState, Today};
use super::load::fill_row;

/// One row per host session, after the local ones; an unreachable host's sessions say since
/// when, a stopped host's (`brl down --host`) are stopped.
pub fn host_rows(
    home: &Home,
    config: &Config,
    today: &Today,
    last_fig: &BTreeMap<&str, Option<String>>,
    health: &BTreeMap<String, String>,
) -> Vec<SessionRow> {
    let mut rows = Vec::new();
    for h in &config.hosts {
        let st = status_file::load(home, &h.name);
        let stopped = status_file::is_stopped(home, &h.name);
        for name in h.session_names() {
            let (kept_today, discarded_today, no_change_today) =
                today.by_session.get(&name).copied().unwrap_or_default();
            let mut row = SessionRow {
                name: name.clone(),
                host: Some(h.name.clone()),
                state: SessionState::Stopped,
                phase: None,
                since: None,
                branch: None,
                task: None,
                last: None,
                last_figures: last_fig.get(name.as_str()).cloned().flatten(),
                kept_today,
                discarded_today,
                no_change_today,
                health: health.get(&name).cloned(),
            };
            match &st {
                Err(e) => row.state = SessionState::Error(format!("{e:#}")),
                // Not checked yet (no control room since the host was added), or stopped.
                Ok(None) => {}
                Ok(Some(_)) if stopped => {}
                Ok(Some(s)) => {
                    let rs = s
                        .snapshot
                        .as_ref()
                        .and_then(|snap| snap.sessions.iter().find(|x| x.name == name));
                    if let Some(rs) = rs {
                        match (&rs.control, &rs.error) {
                            (Some(c), _) => fill_row(&mut row, &rs.shown, c.clone()),
                            (None, Some(e)) => row.state = SessionState::Error(e.clone()),
                            (None, None) => {}
                        }
                    }
                    if !s.reachable {
                        row.state = SessionState::Unreachable(format!(
                            "host {} unreachable since {}{}",
                            h.name,
                            s.since.format("%Y-%m-%d %H:%M:%S UTC"),
                            s.error
                                .as_deref()
                                .and_then(|e| e.lines().next())
                                .map(|e| format!(" — {e}"))
                                .unwrap_or_default()
                        ));
                        row.phase = None;
                        row.branch = None;
                    }
                }
            }
            rows.push(row);
        }
    }
    rows
}

/// Each host's memory for the header, from its status file: its figure, or unreachable for how
/// long, or stopped.
pub fn host_memory(
    home: &Home,
    config: &Config,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<HostMemory> {
    config
        .hosts
        .iter()
        .map(|h| {
            let st = status_file::load(home, &h.name).ok().flatten();
            let gate = h
                .max_ram_percent
                .unwrap_or(config.scheduler.max_ram_percent);
            let reachable = st.as_ref().is_none_or(|s| s.reachable);
            HostMemory {
                name: h.name.clone(),
                memory: st
                    .as_ref()
                    .filter(|_| reachable)
                    .and_then(|s| s.snapshot.as_ref())
                    .and_then(|snap| snap.memory)
                    .map(|m| Memory {
                        used_percent: m.memory().used_percent(),
                        gate_percent: gate,
                    }),
                unreachable_for: st
                    .as_ref()
                    .filter(|_| !reachable)
                    .map(|s| age((now - s.since).num_seconds())),
                stopped: status_file::is_stopped(home, &h.name),
            }
        })
        .collect()
}

/// `45s`, `3m`, `2h`, `4d`: the largest unit only.
pub fn age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hosts::remote_ops::{HostMemory as Wire, Snapshot, VERSION};

    #[test]
    fn host_memory_comes_from_each_hosts_status_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        let config: Config = toml::from_str(
            "repo = \"/nowhere\"\nsessions = 1\n[agent]\ncommand = \"true\"\n\
             [[hosts]]\nname = \"a\"\nssh = \"a\"\nsessions = 1\nmax_ram_percent = 70\n\
             [[hosts]]\nname = \"b\"\nssh = \"b\"\nsessions = 1\n\
             [[hosts]]\nname = \"c\"\nssh = \"c\"\nsessions = 1\n",
        )
        .expect("config");
        let now = chrono::Utc::now();
        let mut a = status_file::new("a", 70);
        a.snapshot = Some(Snapshot {
            version: VERSION,
            host: Some("a".into()),
            at: now,
            memory: Some(Wire {
                used: 41,
                total: 100,
                cgroup: false,
            }),
            sessions: vec![],
            digest: None,
            unchanged: false,
        });
        status_file::save(&home, &a).expect("save a");
        let mut b = status_file::new("b", 80);
        b.reachable = false;
        b.since = now - chrono::Duration::seconds(200);
        b.snapshot = a.snapshot.clone();
        status_file::save(&home, &b).expect("save b");
        let m = host_memory(&home, &config, now);
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0].memory,
            Some(Memory {
                used_percent: 41.0,
                gate_percent: 70
            })
        );
        // Unreachable: since when, and no stale figure.
        assert_eq!(m[1].unreachable_for.as_deref(), Some("3m"));
        assert_eq!(m[1].memory, None);
        // No status file yet: nothing known, not unreachable.
        assert_eq!((m[2].memory, m[2].unreachable_for.as_deref()), (None, None));
        assert_eq!(
            [age(5), age(61), age(7300), age(90000)],
            ["5s", "1m", "2h", "1d"]
        );
    }
}
