//! The control room's collector thread: one [`super::collect`] pass over every host every
//! `[tmux] check_secs`, off the control room's own loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::collect::collect_all;
use crate::config::Config;
use crate::home::Home;

/// The control room's collector: a thread that runs a pass over every host every
/// `[tmux] check_secs` (brl.toml read again each time), so a slow or unreachable host never holds
/// up the control room's own loop.
pub struct Collector {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Collector {
    /// Start it (the control room does only when brl.toml has `[[hosts]]`).
    pub fn spawn(home: &Home, first: &Config) -> Collector {
        let stop = Arc::new(AtomicBool::new(false));
        let (home, flag, mut config) = (home.clone(), Arc::clone(&stop), first.clone());
        let handle = std::thread::Builder::new()
            .name("brl-collect".into())
            .spawn(move || {
                let mut failing: std::collections::HashMap<String, String> = Default::default();
                while !flag.load(Ordering::SeqCst) {
                    if let Ok(c) = home.load_config() {
                        config = c;
                    }
                    for (host, r) in collect_all(&home, &config) {
                        match r {
                            Ok(rep) => {
                                if failing.remove(&host).is_some() {
                                    tracing::info!("host `{host}` is collected again");
                                }
                                if rep.collected > 0 || rep.pushed_main {
                                    tracing::info!("{}", rep.summary());
                                }
                            }
                            Err(e) => {
                                let m = format!("{e:#}");
                                if failing.get(&host) != Some(&m) {
                                    tracing::warn!("collecting host `{host}`: {m}");
                                    failing.insert(host, m);
                                }
                            }
                        }
                    }
                    // Asleep until the next pass; `stop` unparks (a spurious wake-up just loops).
                    let until = Instant::now() + Duration::from_secs(config.tmux.check_secs.get());
                    while !flag.load(Ordering::SeqCst) {
                        let now = Instant::now();
                        if now >= until {
                            break;
                        }
                        std::thread::park_timeout(until - now);
                    }
                }
            })
            .ok();
        Collector { stop, handle }
    }

    /// Stop it; a pass in flight is waited for up to `wait`, then left to end with the process
    /// (every step of a pass is safe to cut).
    pub fn stop(mut self, wait: Duration) {
        self.stop.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + wait;
        if let Some(h) = self.handle.take() {
            h.thread().unpark();
            while !h.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }
}
