//! The sources of the dashboard's one channel: the terminal's input, the experiment log as it
//! grows, and a slow clock. File changes and loaded data come from the loader (`loader.rs`).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind, KeyModifiers};

use crate::config::keys::{Action, Key, KeyCode};
use crate::store::follow::Follower;
use crate::store::log::{self, Filter};

use super::data::LOG_CAPACITY;
use super::loader::{Loader, Request, What};
use super::update::{Msg, Part};

/// How often the loader re-reads what changes without a file event (see [`spawn_clock`]).
const SLOW_SECS: u64 = 5;

/// Lets the runtime hand the terminal to another program (`tmux attach`) and take it back.
#[derive(Clone)]
pub struct InputPause {
    state: Arc<(Mutex<(bool, bool)>, Condvar)>,
    /// Written to when a pause is asked, so the input thread, asleep in `poll(2)`, wakes.
    bell: Option<Arc<Bell>>,
}

impl Default for InputPause {
    fn default() -> InputPause {
        InputPause {
            state: Arc::default(),
            bell: Bell::new().ok().map(Arc::new),
        }
    }
}

impl InputPause {
    /// Ask the input thread to stop reading and wait until it has.
    pub fn pause(&self) {
        let (m, cv) = &*self.state;
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        g.0 = true;
        if let Some(b) = &self.bell {
            b.ring();
        }
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
        if let Some(b) = &self.bell {
            b.drain();
        }
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

/// A non-blocking pipe used as a doorbell: a byte written wakes whoever polls its read end.
struct Bell {
    read: OwnedFd,
    write: OwnedFd,
}

impl Bell {
    fn new() -> std::io::Result<Bell> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two descriptors or returns -1.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: both were just created by pipe2 and belong to nobody else.
        Ok(unsafe {
            Bell {
                read: OwnedFd::from_raw_fd(fds[0]),
                write: OwnedFd::from_raw_fd(fds[1]),
            }
        })
    }

    fn ring(&self) {
        // SAFETY: writes one byte from a local buffer; a full pipe (EAGAIN) already rings.
        unsafe {
            libc::write(self.write.as_raw_fd(), [1u8].as_ptr().cast(), 1);
        }
    }

    fn drain(&self) {
        let mut buf = [0u8; 64];
        // SAFETY: reads into a local buffer of its length; non-blocking, so it stops at empty.
        while unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {
        }
    }
}

/// Read the terminal's keys and resizes into the channel. Between events the thread sleeps in
/// `poll(2)` on the terminal, a SIGWINCH doorbell and the pause doorbell: no timer.
pub fn spawn_input(tx: Sender<Msg>, pause: InputPause) {
    thread::Builder::new()
        .name("brl-tui-input".into())
        .spawn(move || {
            let winch = Bell::new().ok().filter(|b| {
                signal_hook::low_level::pipe::register_raw(libc::SIGWINCH, b.write.as_raw_fd())
                    .is_ok()
            });
            let stdin = std::io::stdin().as_raw_fd();
            loop {
                pause.checkpoint();
                // Everything crossterm can read or has buffered, first.
                loop {
                    match event::poll(Duration::ZERO) {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(_) => return,
                    }
                    let Some(msg) = (match event::read() {
                        Ok(e) => to_msg(e),
                        Err(_) => return,
                    }) else {
                        continue;
                    };
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
                match (&winch, &pause.bell) {
                    (Some(w), Some(p)) => {
                        let fds = [stdin, w.read.as_raw_fd(), p.read.as_raw_fd()];
                        if crate::proc::wait::readable(&fds, None).is_err() {
                            return;
                        }
                        // The resize itself is read by crossterm (its own SIGWINCH handler).
                        w.drain();
                    }
                    // No doorbells: look for a pause now and then.
                    _ => match event::poll(Duration::from_millis(250)) {
                        Ok(_) => {}
                        Err(_) => return,
                    },
                }
            }
        })
        .expect("spawning a thread");
}

/// The message for a terminal event (`None`: not one the dashboard uses).
fn to_msg(e: Event) -> Option<Msg> {
    match e {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            convert(k.code, k.modifiers).map(Msg::Key)
        }
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        Event::Mouse(m) => match m.kind {
            event::MouseEventKind::ScrollUp => Some(Msg::Action(Action::Up)),
            event::MouseEventKind::ScrollDown => Some(Msg::Action(Action::Down)),
            event::MouseEventKind::Down(event::MouseButton::Left) => {
                Some(Msg::Click(m.column, m.row))
            }
            _ => None,
        },
        _ => None,
    }
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

/// Every few seconds the loader re-reads what changes without a file event (a process dying
/// releases its lock silently; memory moves). Cheap where nothing changed: control files are only
/// stat-ed, and the loader sends the dashboard only the parts that changed — so this wakes the
/// loader, never the screen. Ages need no tick: the main loop wakes when one's text changes.
pub fn spawn_clock(loader: Loader) {
    thread::Builder::new()
        .name("brl-tui-clock".into())
        .spawn(move || {
            let mut n: u64 = 0;
            loop {
                thread::sleep(Duration::from_secs(SLOW_SECS));
                n += 1;
                let mut what = vec![What::Room, What::Memory, What::Typecheck, What::Sessions];
                if n.is_multiple_of(60 / SLOW_SECS) {
                    what.push(What::Today); // a new UTC day starts from zero
                }
                if !loader.send_checked(Request::Reload(what)) {
                    return;
                }
            }
        })
        .expect("spawning a thread");
}
