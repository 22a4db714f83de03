//! One notifier's queue and thread: events wait in a bounded queue (the oldest dropped when it
//! is full) and are sent one at a time, retried with back-off; what could not be delivered is
//! a `notify_failed` entry in the experiment log. A slow or failing notifier delays only its own
//! notifications.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Event;
use super::send::{Limits, Target, describe};
use crate::store::log::{self, Entry};

/// How long a waiting thread sleeps at most before looking at the stop flag again (closing a
/// sink wakes it at once; this is a safety net, so an idle sink wakes once a second).
const SLICE: Duration = Duration::from_secs(1);

/// What a sink needs besides its target.
#[derive(Clone)]
pub(super) struct Ctx {
    pub home: PathBuf,
    pub log: PathBuf,
    pub limits: Limits,
    /// Waits before each retry: an event is tried `backoff.len() + 1` times.
    pub backoff: Vec<Duration>,
    pub capacity: usize,
    /// The whole notifier stops.
    pub stop: Arc<AtomicBool>,
}

#[derive(Default)]
struct State {
    events: VecDeque<Event>,
    /// Dropped since the last report.
    dropped: usize,
    /// This sink alone stops (its notifier was removed from brl.toml).
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running notifier.
pub(super) struct Sink {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
    capacity: usize,
}

impl Sink {
    pub fn start(target: Target, ctx: Ctx) -> Sink {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            ready: Condvar::new(),
        });
        let capacity = ctx.capacity.max(1);
        let s = Arc::clone(&shared);
        let name = format!("brl-notify-{}", target.kind());
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || deliver_all(&target, &ctx, &s))
            .map_err(|e| tracing::error!("cannot start a notifier thread: {e}"))
            .ok();
        Sink {
            shared,
            handle,
            capacity,
        }
    }

    /// Queue `event`; when the queue is full the oldest waiting event is dropped (and counted).
    pub fn push(&self, event: Event) {
        let mut st = self.shared.lock();
        while st.events.len() >= self.capacity {
            st.events.pop_front();
            st.dropped += 1;
        }
        st.events.push_back(event);
        drop(st);
        self.shared.ready.notify_all();
    }

    /// Ask the thread to finish: what waits is abandoned, a send in flight ends on its own.
    pub fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
    }

    /// Close, then wait for the thread until `deadline`; past it the thread is left to finish
    /// on its own (a send in flight is abandoned).
    pub fn join_until(mut self, deadline: Instant) {
        self.close();
        let Some(h) = self.handle.take() else { return };
        while !h.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if h.is_finished() {
            let _ = h.join();
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.close();
    }
}

fn deliver_all(target: &Target, ctx: &Ctx, shared: &Shared) {
    loop {
        let (event, dropped) = {
            let mut st = shared.lock();
            loop {
                if st.closed || ctx.stop.load(Ordering::SeqCst) {
                    return;
                }
                if let Some(e) = st.events.pop_front() {
                    break (e, std::mem::take(&mut st.dropped));
                }
                st = shared
                    .ready
                    .wait_timeout(st, SLICE)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        };
        if dropped > 0 {
            let error = format!(
                "the queue was full ({} waiting while a send was slow or failing): the {dropped} oldest notifications were dropped",
                ctx.capacity
            );
            tracing::warn!(notifier = target.kind(), dropped, "{error}");
            failed(
                ctx,
                target,
                None,
                json!({"event": "(dropped)", "dropped": dropped,
                                             "error": error, "attempts": 0}),
            );
        }
        if !deliver(target, ctx, shared, &event) {
            return;
        }
    }
}

/// Send `event`, retrying with back-off. Returns false when the sink must stop.
fn deliver(target: &Target, ctx: &Ctx, shared: &Shared, event: &Event) -> bool {
    let attempts = ctx.backoff.len() + 1;
    for attempt in 1..=attempts {
        let err = match target.send(event, &ctx.home, ctx.limits, &ctx.stop) {
            Ok(()) => return true,
            Err(f) => f,
        };
        if ctx.stop.load(Ordering::SeqCst) {
            // Shutting down: the event is abandoned, as documented.
            return false;
        }
        let last = err.permanent || attempt == attempts;
        tracing::warn!(
            notifier = target.kind(),
            event = %event.event,
            attempt,
            "{}: {}{}",
            describe(target),
            err.error,
            if last { "; giving up" } else { "; will retry" }
        );
        if last {
            failed(
                ctx,
                target,
                event.session.as_deref(),
                json!({"event": event.event, "error": err.error, "attempts": attempt,
                       "permanent": err.permanent}),
            );
            return true;
        }
        if !pause(ctx, shared, ctx.backoff[attempt - 1]) {
            return false;
        }
    }
    true
}

/// Sleep `d` unless the sink is closed or the notifier stops (then false).
fn pause(ctx: &Ctx, shared: &Shared, d: Duration) -> bool {
    let deadline = Instant::now() + d;
    let mut st = shared.lock();
    loop {
        if st.closed || ctx.stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        st = shared
            .ready
            .wait_timeout(st, (deadline - now).min(SLICE))
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// A `notify_failed` entry; `data` gets the notifier's kind.
fn failed(ctx: &Ctx, target: &Target, session: Option<&str>, mut data: serde_json::Value) {
    data["notifier"] = json!(target.kind());
    log::append_or_report(&ctx.log, &Entry::new("notify_failed", session, data));
}
