//! The scheduler's driver for `[[hosts]]` sessions: their states come from one `brl remote
//! snapshot` per host per due pass, a dead worker's grant there is taken back over ssh, a task
//! claimed centrally rides in the grant, and a task a host's cycle ran is settled here, in the
//! central task queue, from the session's last cycle as the host reports it.

use chrono::Utc;
use serde_json::json;

use super::schedule::{Pass, Scheduler, append};
use crate::config::Config;
use crate::home::Home;
use crate::hosts::fleet::HostRoom;
use crate::hosts::remote_ops::Snapshot;
use crate::scheduler::{self, HostGate, SessionView};
use crate::store::tasks::{TaskState, Tasks};

impl Scheduler {
    /// The hosts' sessions as views (appended to `views`), and each reachable host's RAM gate.
    /// On a due pass each host is asked once (`brl remote snapshot`; the control room also asks
    /// at each tmux check); for each new snapshot, a dead worker's grant there is taken back (its
    /// task returns to the central queue) and the tasks its cycles ran are settled.
    pub(super) fn host_views(
        &mut self,
        home: &Home,
        hosts: &mut [HostRoom],
        due: bool,
        now: chrono::DateTime<Utc>,
        views: &mut Vec<SessionView>,
        out: &mut Pass,
    ) -> Vec<HostGate> {
        let mut gates = Vec::new();
        for room in hosts.iter_mut() {
            if due {
                room.refresh();
            }
            // Taken at this pass or at the last tmux check: looked at once each.
            let fresh = room.take_fresh();
            let Some(snap) = room.snapshot().cloned() else {
                continue;
            };
            if fresh {
                settle_tasks(home, room.name(), &snap);
            }
            let names = room.config.session_names();
            for rs in &snap.sessions {
                if !names.contains(&rs.name) {
                    continue;
                }
                let Some(mut c) = rs.control.clone() else {
                    if let Some(e) = &rs.error
                        && self.warned.insert(rs.name.clone())
                    {
                        tracing::error!(host = %room.name(), "{e}");
                        append(
                            home,
                            "control_error",
                            Some(&rs.name),
                            json!({"host": room.name(), "error": e}),
                        );
                    }
                    continue;
                };
                self.warned.remove(&rs.name);
                if fresh && c.grant.is_some() && !rs.alive {
                    match room.take_back(&rs.name) {
                        Ok(Some(g)) => {
                            self.give_back_task(home, &rs.name, g.task.as_ref());
                            out.taken_back.push(rs.name.clone());
                            c.grant = None;
                            append(
                                home,
                                "grant_taken_back",
                                Some(&rs.name),
                                json!({"grant": g.id, "task": g.task.as_ref().map(|t| t.id),
                                       "host": room.name(),
                                       "note": "the worker holding this grant died; its task (if any) is back in the queue"}),
                            );
                        }
                        Ok(None) => {}
                        Err(e) => tracing::error!(host = %room.name(), "{e:#}"),
                    }
                }
                views.push(SessionView {
                    paused: c.paused.is_some(),
                    reserved_task: false,
                    idle: c.idle(),
                    granted: c.grant.is_some(),
                    waiting_secs: c.since.map(|s| (now - s).num_seconds()).unwrap_or(0),
                    name: rs.name.clone(),
                    alive: rs.alive,
                });
            }
            gates.push(HostGate {
                host: room.name().to_string(),
                sessions: names,
                memory: snap.memory.map(|m| m.memory()),
                max_ram_percent: room.max_ram_percent(),
            });
        }
        gates
    }

    /// A grant to a host's session: the task is claimed here (task claims are fleet-wide and
    /// central) and rides in the grant; a grant the host refuses or cannot take gives it back.
    pub(super) fn grant_on_host(
        &mut self,
        home: &Home,
        config: &Config,
        tasks: &Tasks,
        room: &mut HostRoom,
        g: &scheduler::GrantTo,
        out: &mut Pass,
    ) {
        let Some(task) = super::schedule::task_for(tasks, config, g) else {
            return;
        };
        match room.grant(&g.session, task.as_ref(), g.fix.as_deref()) {
            Ok(Some(grant)) => {
                tracing::info!(host = %room.name(), session = %g.session, grant = grant.id,
                    task = task.as_ref().map(|t| t.id), "cycle granted on host");
                out.granted.push(g.session.clone());
            }
            Ok(None) => self.give_back_task(home, &g.session, task.as_ref()),
            Err(e) => {
                tracing::error!(host = %room.name(), "{e:#}");
                self.give_back_task(home, &g.session, task.as_ref());
            }
        }
    }
}

/// The central tasks running on this host's sessions whose grant never reached the host (it holds
/// no grant with the task and ran no cycle since the claim): back to the queue. A task whose cycle
/// ran is settled by the collector from the cycle's record. Times compare the host's clock with
/// this one's: keep them in sync (NTP).
pub fn settle_tasks(home: &Home, host: &str, snap: &Snapshot) {
    let tasks = Tasks::new(&home.tasks_path());
    let Ok(list) = tasks.load() else { return };
    for t in list.iter().filter(|t| t.state == TaskState::Running) {
        let Some(rs) = t
            .session
            .as_deref()
            .and_then(|s| snap.sessions.iter().find(|r| r.name == s))
        else {
            continue;
        };
        let Some(c) = &rs.control else { continue };
        let holds = c
            .grant
            .as_ref()
            .and_then(|g| g.task.as_ref())
            .is_some_and(|g| g.id == t.id);
        if holds {
            continue;
        }
        // A cycle ran with it: the collector settles the task from that cycle's own record when
        // it comes home (hosts::arrive::settle_task), exactly once. What is left here is a grant
        // that never reached the host.
        if c.last.as_ref().is_some_and(|l| l.at >= t.updated) {
            continue;
        }
        let (what, result) = (
            "released",
            tasks.release(
                t.id,
                &format!("host {host} holds no grant for it and ran no cycle with it"),
            ),
        );
        match result {
            Ok(done) => append(
                home,
                "task_settled",
                Some(&rs.name),
                json!({"task": t.id, "host": host, "how": what, "state": done.state.as_str(),
                       "last": c.last}),
            ),
            Err(e) => tracing::error!(host, "{e}"),
        }
    }
}
