//! A [`Fleet`] whose panes live on a `[[hosts]]` host: the same checks, made through a `Tmux`
//! whose commands run over the host's ssh, with the host's brl binary and home in the panes'
//! commands and its log entries (tagged with the host) in the control room's home.

use std::collections::BTreeMap;

use super::Fleet;
use crate::home::Home;
use crate::tmux::{Layout, Tmux};

/// Where a host's workers live: its name, brl's binary and the home there.
#[derive(Debug, Clone, Copy)]
pub struct OnHost<'a> {
    pub host: &'a str,
    pub brl_bin: &'a str,
    pub worker_home: &'a std::path::Path,
}

impl Fleet {
    /// The panes of host `host`, on `tmux` (whose commands run through the host's ssh):
    /// workers run `brl_bin --home worker_home worker <host>-sN` there; what the fleet does is
    /// logged in `log_home`, the control room's home.
    pub fn on_host(
        log_home: &Home,
        on: &OnHost,
        tmux: Tmux,
        tmux_session: &str,
        layout: Layout,
        pane_log_max: u64,
    ) -> Fleet {
        let OnHost {
            host,
            brl_bin,
            worker_home,
        } = *on;
        Fleet {
            tmux,
            tmux_session: tmux_session.to_string(),
            layout,
            home: Home::new(worker_home),
            log_home: log_home.clone(),
            host: Some(host.to_string()),
            home_tag: worker_home.display().to_string(),
            brl: super::shell_quote(brl_bin),
            sessions_override: None,
            pane_log_max,
            respawns: BTreeMap::new(),
            reported_strays: 0,
            last_seen: 0,
            old_workers: BTreeMap::new(),
            elsewhere: BTreeMap::new(),
        }
    }
}
