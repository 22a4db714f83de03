//! The sources of the dashboard's one channel: the terminal's input, the experiment log as it
//! grows, and a slow clock. File changes and loaded data come from the loader (`loader.rs`).

use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use chrono::Utc;
use ratatui::crossterm::event::{self, Event, KeyEventKind, KeyModifiers};

use crate::config::keys::{Action, Key, KeyCode};
use crate::store::follow::Follower;
use crate::store::log::{self, Filter};

use super::data::LOG_CAPACITY;
use super::loader::{Loader, Request, What};
use super::update::{Msg, Part};

/// How long the input thread waits for a key before looking whether it must pause.
const INPUT_POLL: Duration = Duration::from_millis(250);
/// Every this many clock ticks the loader re-reads what changes without a file event (a
/// process dying releases its lock silently; memory moves).
const SLOW_EVERY: u64 = 5;

/// Lets the runtime hand the terminal to another program (`tmux attach`) and take it back.
#[derive(Clone, Default)]
pub struct InputPause {
    state: Arc<(Mutex<(bool, bool)>, Condvar)>,
}

impl InputPause {
    /// Ask the input thread to stop reading and wait until it has.
    pub fn pause(&self) {
        let (m, cv) = &*self.state;
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        g.0 = true;
        while !g.1 {
            g = cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    pub fn resume(&self) {
        let (m, cv) = &*self.state;
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        g.0 = false;
        cv.notify_all();
    }

    /// Called by the input thread between reads: parks while a pause is asked.
    fn checkpoint(&self) {
        let (m, cv) = &*self.state;
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        if !g.0 {
            return;
        }
        g.1 = true;
        cv.notify_all();
        while g.0 {
            g = cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        g.1 = false;
    }
}

/// Read the terminal's keys and resizes into the channel.
pub fn spawn_input(tx: Sender<Msg>, pause: InputPause) {
    thread::Builder::new()
        .name("brl-tui-input".into())
        .spawn(move || {
            loop {
                pause.checkpoint();
                match event::poll(INPUT_POLL) {
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(_) => return,
                }
                let msg = match event::read() {
                    Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => {
                        match convert(k.code, k.modifiers) {
                            Some(key) => Msg::Key(key),
                            None => continue,
                        }
                    }
                    Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                    Ok(Event::Mouse(m)) => match m.kind {
                        event::MouseEventKind::ScrollUp => Msg::Action(Action::Up),
                        event::MouseEventKind::ScrollDown => Msg::Action(Action::Down),
                        _ => continue,
                    },
                    Ok(_) => continue,
                    Err(_) => return,
                };
                if tx.send(msg).is_err() {
                    return;
                }
            }
        })
        .expect("spawning a thread");
}

/// A crossterm key as the keymap's [`Key`].
pub fn convert(code: event::KeyCode, mods: KeyModifiers) -> Option<Key> {
    use event::KeyCode as C;
    let code = match code {
        C::Char(c) => KeyCode::Char(c),
        C::Enter => KeyCode::Enter,
        C::Esc => KeyCode::Esc,
        C::Tab if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
        C::Tab => KeyCode::Tab,
        C::BackTab => KeyCode::BackTab,
        C::Backspace => KeyCode::Backspace,
        C::Delete => KeyCode::Delete,
        C::Up => KeyCode::Up,
        C::Down => KeyCode::Down,
        C::Left => KeyCode::Left,
        C::Right => KeyCode::Right,
        C::PageUp => KeyCode::PageUp,
        C::PageDown => KeyCode::PageDown,
        C::Home => KeyCode::Home,
        C::End => KeyCode::End,
        C::F(n) => KeyCode::F(n),
        _ => return None,
    };
    let ctrl = mods.contains(KeyModifiers::CONTROL);
    let code = match code {
        KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
        c => c,
    };
    Some(Key {
        code,
        ctrl,
        alt: mods.contains(KeyModifiers::ALT),
    })
}

/// The experiment log: its last entries first, then each batch as it is appended. A finished
/// cycle also asks the loader for today's figures and the sessions again.
pub fn spawn_log(home: &crate::home::Home, tx: Sender<Msg>, loader: Loader) {
    let path = home.log_path();
    thread::Builder::new()
        .name("brl-tui-log".into())
        .spawn(move || {
            // Follow first, then read the tail: an entry written between the two shows twice
            // rather than never.
            let follower = Follower::from_end(&path);
            let first = match log::tail(&path, LOG_CAPACITY, &Filter::default()) {
                Ok(t) => {
                    if let Some(d) = t.entries.iter().rev().find(|e| e.kind == "doctor_analysis") {
                        loader.send(Request::Health(d.data.clone()));
                    }
                    Part::Log {
                        notices: t.warning(&path).into_iter().collect(),
                        malformed: t.malformed,
                        entries: t.entries,
                    }
                }
                Err(e) => Part::Log {
                    entries: vec![],
                    malformed: 0,
                    notices: vec![format!("cannot read {}: {e}", path.display())],
                },
            };
            if tx.send(Msg::Part(first)).is_err() {
                return;
            }
            let mut follower = match follower {
                Ok(f) => f,
                Err(e) => {
                    let _ = tx.send(Msg::Part(Part::Log {
                        entries: vec![],
                        malformed: 0,
                        notices: vec![format!(
                            "cannot follow {}: {e}; reopen the dashboard",
                            path.display()
                        )],
                    }));
                    return;
                }
            };
            loop {
                let batch = match follower.next_batch(Duration::from_secs(3600)) {
                    Ok(b) => b,
                    Err(e) => {
                        let _ = tx.send(Msg::Part(Part::Log {
                            entries: vec![],
                            malformed: 0,
                            notices: vec![format!(
                                "stopped following {}: {e}; reopen the dashboard",
                                path.display()
                            )],
                        }));
                        return;
                    }
                };
                if batch.entries.is_empty() && batch.malformed == 0 && batch.notices.is_empty() {
                    continue;
                }
                if let Some(d) = batch
                    .entries
                    .iter()
                    .rev()
                    .find(|e| e.kind == "doctor_analysis")
                {
                    loader.send(Request::Health(d.data.clone()));
                }
                if batch.entries.iter().any(|e| e.kind == "ralph_cycle") {
                    loader.send(Request::Reload(vec![What::Today, What::Sessions]));
                }
                let part = Part::Log {
                    entries: batch.entries,
                    malformed: batch.malformed,
                    notices: batch.notices,
                };
                if tx.send(Msg::Part(part)).is_err() {
                    return;
                }
            }
        })
        .expect("spawning a thread");
}

/// One tick a second (ages and durations); every few seconds the loader re-reads what changes
/// without a file event.
pub fn spawn_clock(tx: Sender<Msg>, loader: Loader) {
    thread::Builder::new()
        .name("brl-tui-clock".into())
        .spawn(move || {
            let mut n: u64 = 0;
            loop {
                thread::sleep(Duration::from_secs(1));
                n += 1;
                if tx.send(Msg::Tick(Utc::now())).is_err() {
                    return;
                }
                if n.is_multiple_of(SLOW_EVERY) {
                    let mut what = vec![What::Room, What::Memory, What::Typecheck, What::Sessions];
                    if n.is_multiple_of(60) {
                        what.push(What::Today); // a new UTC day starts from zero
                    }
                    loader.send(Request::Reload(what));
                }
            }
        })
        .expect("spawning a thread");
}
