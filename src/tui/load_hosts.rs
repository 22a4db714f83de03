//! The `[[hosts]]` sessions' rows for the dashboard, from what the control room last knew of each
//! host (`logs/hosts/<name>.json`): the dashboard never talks to a host itself.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::home::Home;
use crate::hosts::status_file;

use super::data::{SessionRow, SessionState, Today};
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
