//! The loader thread: all the dashboard's reading of files and git, off the draw path. It owns
//! the file watcher (the home's `logs/`, `logs/control/`, `logs/meetings/`, and a session's
//! output directory while its output is open), coalesces requests (a burst of changes is one
//! reload; of several diff or transcript requests only the latest is served) and sends the
//! results to the dashboard's channel.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use chrono::Utc;

use crate::config::Config;
use crate::home::Home;
use crate::scheduler::MemoryReader;
use crate::store::watch::Watch;

use super::load::{self, ControlCache, DiffCache};
use super::update::{Msg, Part};

/// What can be reloaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum What {
    Sessions,
    Queue,
    Tasks,
    Meetings,
    Room,
    Memory,
    Typecheck,
    Today,
    Fleet,
    Flaky,
    Jobs,
    /// The `[[hosts]]` hosts' memory, from their status files.
    Hosts,
}

impl What {
    pub const ALL: [What; 12] = [
        What::Sessions,
        What::Queue,
        What::Tasks,
        What::Meetings,
        What::Room,
        What::Memory,
        What::Typecheck,
        What::Today,
        What::Fleet,
        What::Flaky,
        What::Jobs,
        What::Hosts,
    ];
}

#[derive(Debug)]
pub enum Request {
    Reload(Vec<What>),
    Diff {
        request: u64,
        branch: String,
    },
    Transcript {
        request: u64,
        path: PathBuf,
    },
    /// Follow this session's output for the Sessions view's preview (`None`: stop).
    Preview(Option<String>),
    /// Follow this session's output for the reader with this request number (`None`: stop).
    Output {
        request: u64,
        session: Option<String>,
    },
    /// A file changed (from the watcher).
    Changed(Vec<PathBuf>),
    /// The newest `doctor_analysis` entry's data (the sessions' health marks).
    Health(serde_json::Value),
    /// A host session's preview, read over ssh by its poller ([`super::preview_remote`]).
    RemotePreview(super::data::Preview),
}

/// A handle on the loader thread.
#[derive(Clone)]
pub struct Loader {
    tx: Sender<Request>,
}

impl Loader {
    pub fn spawn(home: &Home, config: &Config, out: Sender<Msg>) -> Loader {
        let (tx, rx) = mpsc::channel();
        let state = State::new(home, config, out, tx.clone());
        thread::Builder::new()
            .name("brl-tui-loader".into())
            .spawn(move || state.run(rx))
            .expect("spawning a thread");
        Loader { tx }
    }

    pub fn send(&self, r: Request) {
        // The loader only stops when the dashboard does.
        let _ = self.tx.send(r);
    }

    /// [`Self::send`], saying whether the loader still runs.
    pub fn send_checked(&self, r: Request) -> bool {
        self.tx.send(r).is_ok()
    }
}

struct State {
    home: Home,
    config: Config,
    out: Sender<Msg>,
    memory: MemoryReader,
    diffs: DiffCache,
    /// The sessions' control files and locks as last read: only changed ones are read again.
    controls: ControlCache,
    watcher: Option<Arc<Watch>>,
    output: Option<(u64, String, PathBuf)>,
    /// The session whose output the Sessions view previews, and its output directory.
    preview: Option<(String, PathBuf)>,
    /// The `[[hosts]]` session previewed instead, and its poller's stop flag.
    remote_preview: Option<(String, Arc<std::sync::atomic::AtomicBool>)>,
    /// This loader's own requests (a host preview's poller sends here).
    me: Sender<Request>,
    /// The preview last sent (so a write that changes no shown line wakes nobody).
    preview_sent: Option<super::data::Preview>,
    /// What [`crate::why::explain`] needs, kept from the last read of each part.
    facts: crate::why::Facts,
    /// The reasons last sent.
    why_sent: Option<Vec<crate::why::Why>>,
    /// Where the watcher failed, reported once in the log view.
    watch_error: Option<String>,
    /// Today's `ralph_cycle` entries, re-read when `Today` is reloaded.
    cycles: Vec<crate::store::log::Entry>,
    /// The doctor's class per session.
    health: std::collections::BTreeMap<String, String>,
    /// What was last sent of each part (its debug text): an unchanged part is not sent again,
    /// so the dashboard neither wakes nor draws for it.
    sent: BTreeMap<What, String>,
}

impl State {
    fn new(home: &Home, config: &Config, out: Sender<Msg>, me: Sender<Request>) -> State {
        let own = me.clone();
        let mut watch_error = None;
        let watcher = match Watch::new() {
            Ok(w) => {
                for dir in [
                    home.logs_dir(),
                    home.control_dir(),
                    home.logs_dir().join("meetings"),
                    crate::jobs::progress::dir(home),
                ] {
                    let _ = std::fs::create_dir_all(&dir);
                    if let Err(e) = w.dir(&dir) {
                        watch_error = Some(format!(
                            "{e}; the dashboard refreshes every few seconds instead"
                        ));
                    }
                }
                let w = Arc::new(w);
                spawn_watch(Arc::clone(&w), me);
                Some(w)
            }
            Err(e) => {
                watch_error = Some(format!(
                    "cannot watch the home's files ({e}); the dashboard refreshes every few seconds instead"
                ));
                None
            }
        };
        State {
            home: Home::new(home.root()),
            config: config.clone(),
            out,
            memory: MemoryReader::default(),
            diffs: DiffCache::new(),
            controls: ControlCache::default(),
            watcher,
            output: None,
            preview: None,
            remote_preview: None,
            me: own,
            preview_sent: None,
            facts: crate::why::with_config(config, crate::why::Facts::default()),
            why_sent: None,
            watch_error,
            cycles: vec![],
            health: Default::default(),
            sent: BTreeMap::new(),
        }
    }

    fn run(mut self, rx: Receiver<Request>) {
        if let Some(e) = self.watch_error.take() {
            self.send(Msg::Part(Part::Log {
                entries: vec![],
                malformed: 0,
                notices: vec![e],
            }));
        }
        while let Ok(first) = rx.recv() {
            // Let a burst of changes arrive, then serve it as one.
            let mut batch = vec![first];
            loop {
                match rx.recv_timeout(Duration::from_millis(30)) {
                    Ok(r) => batch.push(r),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            if !self.serve(batch) {
                return;
            }
        }
    }

    /// Serve a batch; false when the dashboard is gone.
    fn serve(&mut self, batch: Vec<Request>) -> bool {
        let mut reload = BTreeSet::new();
        let (mut diff, mut transcript, mut output_changed) = (None, None, false);
        let mut preview_changed = false;
        for r in batch {
            match r {
                Request::Reload(w) => reload.extend(w),
                Request::Diff { request, branch } => diff = Some((request, branch)),
                Request::Transcript { request, path } => transcript = Some((request, path)),
                Request::Preview(session) => {
                    self.follow_preview(session);
                    preview_changed = true;
                }
                Request::Output { request, session } => {
                    self.follow_output(request, session);
                    output_changed = true;
                }
                Request::RemotePreview(p) => {
                    let current = self
                        .remote_preview
                        .as_ref()
                        .is_some_and(|r| r.0 == p.session);
                    if current && self.preview_sent.as_ref() != Some(&p) {
                        self.preview_sent = Some(p.clone());
                        if !self.send(Msg::Part(Part::Preview(Some(p)))) {
                            return false;
                        }
                    }
                }
                Request::Health(data) => {
                    self.health = load::health(&data);
                    reload.insert(What::Sessions);
                }
                Request::Changed(paths) => {
                    for p in paths {
                        output_changed |= self.output.as_ref().is_some_and(|o| p.starts_with(&o.2));
                        preview_changed |=
                            self.preview.as_ref().is_some_and(|o| p.starts_with(&o.1));
                        reload.extend(self.what_changed(&p));
                    }
                }
            }
        }
        if let Some((request, branch)) = diff {
            let doc = load::diff(&self.home, &self.config, &branch);
            if !self.send(Msg::Doc(request, doc)) {
                return false;
            }
        }
        if let Some((request, path)) = transcript
            && !self.send(Msg::Doc(request, load::transcript(&path)))
        {
            return false;
        }
        if output_changed && let Some((request, session, _)) = &self.output {
            let doc = load::output(&self.home, session);
            if !self.send(Msg::Doc(*request, doc)) {
                return false;
            }
        }
        // A host session's preview comes from its poller alone.
        if preview_changed && self.remote_preview.is_none() {
            let preview = self
                .preview
                .as_ref()
                .map(|(s, _)| super::preview::read(&self.home, s));
            if preview != self.preview_sent {
                self.preview_sent = preview.clone();
                if !self.send(Msg::Part(Part::Preview(preview))) {
                    return false;
                }
            }
        }
        let now = Utc::now();
        let mut cycles_error = None;
        let reasons_may_change = !reload.is_empty();
        if reload.contains(&What::Today) {
            match load::today_cycles(&self.home, now) {
                Ok(c) => self.cycles = c,
                Err(e) => cycles_error = Some(e),
            }
            // The budget counts the jobs' cost too: the scheduler's own figure.
            self.facts.today =
                crate::scheduler::budget::today(&self.home.log_path(), now).unwrap_or_default();
        }
        // The hosts' figures come with the local one (the clock asks for it every few seconds).
        if reload.contains(&What::Memory) {
            reload.insert(What::Hosts);
        }
        for w in reload {
            let part = match w {
                What::Hosts => Part::Hosts(super::load_hosts::host_memory(
                    &self.home,
                    &self.config,
                    now,
                )),
                What::Sessions => {
                    let rows = load::sessions(
                        &self.home,
                        &self.config,
                        now,
                        &self.cycles,
                        &self.health,
                        &mut self.controls,
                    );
                    self.facts.sessions = self.controls.facts(&rows);
                    Part::Sessions(rows)
                }
                What::Queue => {
                    let q = load::queue(&self.home, &self.config, &mut self.diffs);
                    self.facts.open_reviews = q
                        .as_ref()
                        .map(|q| q.iter().filter(|r| r.entry.status.is_open()).count())
                        .unwrap_or(0);
                    Part::Queue(q)
                }
                What::Tasks => {
                    let t = load::tasks(&self.home);
                    self.facts.ready_tasks = t
                        .as_ref()
                        .map(|t| t.iter().filter(|t| t.ready()).count())
                        .unwrap_or(0);
                    Part::Tasks(t)
                }
                What::Flaky => Part::Flaky(crate::checks::flaky::known(&self.home)),
                What::Meetings => Part::Meetings(load::meetings(&self.home)),
                What::Room => {
                    let room = load::room(&self.home, &self.config);
                    self.facts.room = room.pid;
                    self.facts.agent_limit = crate::scheduler::limits::active(
                        &self.home,
                        self.config.preset().name(),
                        now,
                    )
                    .ok()
                    .flatten();
                    Part::Room(room)
                }
                What::Fleet => {
                    let by = load::fleet_paused(&self.home);
                    self.facts.fleet_paused = by.clone();
                    Part::Fleet(by)
                }
                What::Memory => {
                    let m = self.memory.read();
                    self.facts.memory = m;
                    Part::Memory(m.map(|m| super::data::Memory {
                        used_percent: m.used_percent(),
                        gate_percent: self.config.scheduler.max_ram_percent,
                    }))
                }
                What::Typecheck => {
                    let (u, m) = load::typecheck(&self.home, &self.config);
                    Part::Typecheck(u, m)
                }
                What::Jobs => Part::Jobs(load::jobs(&self.home)),
                What::Today => match cycles_error.take() {
                    None => Part::Today(load::today(&self.cycles)),
                    Some(e) => Part::Log {
                        entries: vec![],
                        malformed: 0,
                        notices: vec![e],
                    },
                },
            };
            let text = format!("{part:?}");
            if self.sent.get(&w) == Some(&text) {
                continue;
            }
            self.sent.insert(w, text);
            if !self.send(Msg::Part(part)) {
                return false;
            }
        }
        if reasons_may_change {
            let why = crate::why::explain(&self.facts, now);
            if self.why_sent.as_ref() != Some(&why) {
                self.why_sent = Some(why.clone());
                if !self.send(Msg::Part(Part::Why(why))) {
                    return false;
                }
            }
        }
        true
    }

    fn what_changed(&self, p: &Path) -> Vec<What> {
        let logs = self.home.logs_dir();
        if p == crate::store::control::FleetControl::new(&self.home).path() {
            return vec![What::Fleet];
        }
        if p.starts_with(self.home.control_dir()) {
            return vec![What::Sessions];
        }
        if p.starts_with(logs.join("meetings")) {
            return vec![What::Meetings];
        }
        if p == self.home.queue_path() {
            return vec![What::Queue];
        }
        if p == self.home.tasks_path() {
            return vec![What::Tasks];
        }
        if p.file_name().is_some_and(|n| n == "flaky-tests.json") {
            return vec![What::Flaky];
        }
        if p.starts_with(crate::jobs::progress::dir(&self.home))
            && p.to_string_lossy().ends_with(".progress.json")
        {
            return vec![What::Jobs];
        }
        vec![]
    }

    fn send(&self, m: Msg) -> bool {
        self.out.send(m).is_ok()
    }
}

/// The watch thread: asleep in `poll(2)` on the home's directories until a file in them is
/// written, replaced or removed — opening or reading a file wakes nobody — then hands the loader
/// the changed paths.
fn spawn_watch(w: Arc<Watch>, loader: Sender<Request>) {
    let spawned = thread::Builder::new()
        .name("brl-tui-watch".into())
        .spawn(move || {
            loop {
                let changes = match w.wait(&[], None) {
                    Ok((c, _)) => c,
                    Err(_) => return,
                };
                let mut paths: Vec<PathBuf> = changes.paths.into_iter().collect();
                if changes.lost {
                    // A watched directory went away or events were dropped: read it all again.
                    if loader.send(Request::Reload(What::ALL.to_vec())).is_err() {
                        return;
                    }
                }
                // Lock and temp files come and go with every write: only the files themselves.
                paths.retain(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.starts_with('.') && !n.ends_with(".lock"))
                });
                if !paths.is_empty() && loader.send(Request::Changed(paths)).is_err() {
                    return;
                }
            }
        });
    if spawned.is_err() {
        tracing::warn!("cannot start the dashboard's file watch; it refreshes every few seconds");
    }
}

#[path = "loader_follow.rs"]
mod follow;

#[cfg(test)]
#[path = "loader_tests.rs"]
mod tests;
