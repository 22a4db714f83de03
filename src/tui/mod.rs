//! The dashboard: a ratatui face over a home. It never schedules: `brl up` makes sure a control
//! room runs (PM2's, or one it starts in the home's tmux session) and this only shows the files
//! and acts on them through the same operations as the CLI.
//!
//! One event channel (input, file changes, loaded data, job results) feeds the pure
//! `update::update`; the screen is drawn only when something changed, at most ~30 times a second,
//! and a draw that changes no cell writes nothing to the terminal (`term::QuietBackend`). There is
//! no clock tick: rendering notes when the next age on screen changes its text (ages are in
//! minutes), and the loop sleeps until then or until a message — an idle dashboard wakes about
//! once a minute, and only to change the text that changed.

pub mod app;
mod controls;
pub mod data;
mod detail;
pub mod diff_header;
mod event;
pub mod fixtures;
mod form;
mod jobs;
pub mod load;
mod load_hosts;
mod loader;
mod motion;
mod mouse;
pub mod msg;
mod open;
pub mod preview;
pub mod preview_remote;
mod reader;
mod review_keys;
pub mod review_list;
mod session_keys;
mod term;
pub mod update;
#[cfg(test)]
mod update_review_tests;
#[cfg(test)]
mod update_tests;
pub mod views;

use std::io::IsTerminal;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;

use crate::config::Config;
use crate::config::keys::Keymap;
use crate::home::Home;

use self::app::App;
use self::data::Data;
use self::loader::{Loader, Request, What};
use self::update::{Effect, Msg};

/// The shortest time between two frames (~30 a second at most).
const FRAME: Duration = Duration::from_millis(33);
/// Woken this much after an age's text changes, so the clock has surely passed the change.
const AGE_SLACK: Duration = Duration::from_millis(20);

/// Whether stdin and stdout are a terminal (the dashboard, `brl attach` need one).
pub fn has_terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Open the dashboard on `home` until the user quits. Returns when the terminal is restored.
pub fn run(home: &Home, config: &Config) -> anyhow::Result<()> {
    if !has_terminal() {
        anyhow::bail!(
            "the dashboard needs a terminal (stdin and stdout); run `brl up --no-tui` for the headless control room"
        );
    }
    let keymap = Keymap::build(&config.keys).map_err(|e| {
        anyhow::anyhow!(
            "{} in {}: {}; fix: {}",
            e.key,
            home.config_path().display(),
            e.message,
            e.fix
        )
    })?;
    let (tx, rx) = mpsc::channel::<Msg>();
    let loader = Loader::spawn(home, config, tx.clone());
    loader.send(Request::Reload(What::ALL.to_vec()));
    event::spawn_log(home, tx.clone(), loader.clone());
    event::spawn_clock(loader.clone());
    let data = Data {
        home: home.root().display().to_string(),
        main: config.main.clone(),
        loading: true,
        ..Data::default()
    };
    let mut app = App::new(keymap, data, Utc::now());
    app.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (mut term, _guard) = term::enter().context("cannot set up the terminal")?;
    let size = term.size()?;
    app.width = size.width;
    app.height = size.height;
    let pause = event::InputPause::default();
    event::spawn_input(tx.clone(), pause.clone());
    let rt = Runtime {
        home: Home::new(home.root()),
        config: config.clone(),
        tx,
        loader,
        pause,
    };
    rt.main_loop(&mut app, &mut term, &rx)
}

struct Runtime {
    home: Home,
    config: Config,
    tx: Sender<Msg>,
    loader: Loader,
    pause: event::InputPause,
}

impl Runtime {
    fn main_loop(
        &self,
        app: &mut App,
        term: &mut term::Term,
        rx: &Receiver<Msg>,
    ) -> anyhow::Result<()> {
        self.draw(app, term)?;
        let mut last_draw = Instant::now();
        // The session whose output the loader follows for the preview.
        let mut previewed: Option<String> = None;
        loop {
            // Asleep until a message, or until an age on screen changes its text.
            let first = match app.next_age_change.get() {
                None => match rx.recv() {
                    Ok(m) => m,
                    Err(_) => return Ok(()),
                },
                Some(at) => {
                    let wait = (at - Utc::now()).to_std().unwrap_or_default() + AGE_SLACK;
                    match rx.recv_timeout(wait) {
                        Ok(m) => m,
                        Err(RecvTimeoutError::Timeout) => Msg::Tick(Utc::now()),
                        Err(RecvTimeoutError::Disconnected) => return Ok(()),
                    }
                }
            };
            let mut pending = vec![first];
            // Gather what else arrives within the frame interval: one draw for the lot.
            let until = last_draw + FRAME;
            loop {
                let left = until.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(m) => pending.push(m),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            while let Ok(m) = rx.try_recv() {
                pending.push(m);
            }
            for m in pending {
                for effect in update::update(app, m) {
                    self.perform(app, term, effect)?;
                }
            }
            if app.quit {
                return Ok(());
            }
            let wanted = open::previewed_session(app);
            if wanted != previewed {
                previewed.clone_from(&wanted);
                self.loader.send(Request::Preview(wanted));
            }
            self.draw(app, term)?;
            last_draw = Instant::now();
        }
    }

    /// Draw at the current time, noting when an age on screen will change next. A frame that
    /// changes no cell writes nothing (`term::QuietBackend`).
    fn draw(&self, app: &mut App, term: &mut term::Term) -> anyhow::Result<()> {
        let _ = update::update(app, Msg::Tick(Utc::now()));
        app.next_age_change.set(None);
        term.draw(|f| views::render(app, f))?;
        Ok(())
    }

    fn perform(&self, app: &mut App, term: &mut term::Term, effect: Effect) -> anyhow::Result<()> {
        let tx = self.tx.clone();
        match effect {
            Effect::Approve { branch } => jobs::approve(&self.home, branch, false, tx),
            Effect::ApproveForced { branch } => jobs::approve(&self.home, branch, true, tx),
            Effect::Reject { branch, reason } => jobs::reject(&self.home, branch, reason, tx),
            Effect::AddTask { title, body, tier } => {
                jobs::add_task(&self.home, title, body, tier, tx)
            }
            Effect::ApproveMany { branches, force } => {
                jobs::approve_many(&self.home, branches, force, tx)
            }
            Effect::RejectMany { branches, reason } => {
                jobs::reject_many(&self.home, branches, reason, tx)
            }
            Effect::RetryTask(id) => jobs::retry_task(&self.home, id, tx),
            Effect::ApproveTask(id) => jobs::approve_task(&self.home, id, tx),
            Effect::DropTask(id) => jobs::drop_task(&self.home, id, tx),
            Effect::LoadDiff { request, branch } => {
                self.loader.send(Request::Diff { request, branch })
            }
            Effect::LoadTranscript { request, path } => {
                self.loader.send(Request::Transcript { request, path })
            }
            Effect::WatchOutput { request, session } => {
                self.loader.send(Request::Output { request, session })
            }
            Effect::Mouse(on) => {
                if let Err(e) = term::set_mouse(on) {
                    app.message = Some(app::Message {
                        level: app::Level::Error,
                        text: format!("cannot switch the mouse: {e}"),
                    });
                }
            }
            Effect::Attach { session } => {
                let text = self.attach(term, &session, app.mouse)?;
                let _ = update::update(
                    app,
                    Msg::Done {
                        what: String::new(),
                        level: text.0,
                        text: text.1,
                    },
                );
            }
            Effect::Session { op, session } => jobs::session_op(&self.home, op, session, tx),
            Effect::Trigger(job) => {
                let (level, text) = jobs::trigger(&self.home, job);
                let _ = update::update(
                    app,
                    Msg::Done {
                        what: String::new(),
                        level,
                        text,
                    },
                );
            }
            Effect::TriggerFix => {
                let (level, text) = match crate::jobs::fix::request(&self.home, &self.config, None)
                {
                    Ok((s, b)) => (
                        app::Level::Info,
                        format!(
                            "repair of {b} handed to session {s}; its fix_result appears in the log"
                        ),
                    ),
                    Err(e) => (app::Level::Warn, format!("{e:#}")),
                };
                let _ = update::update(
                    app,
                    Msg::Done {
                        what: String::new(),
                        level,
                        text,
                    },
                );
            }
            Effect::Quit => {}
        }
        Ok(())
    }

    /// Hand the terminal to `tmux attach` on the session's pane; back here when it detaches.
    fn attach(
        &self,
        term: &mut term::Term,
        session: &str,
        mouse: bool,
    ) -> anyhow::Result<(app::Level, String)> {
        // A host's session is attached over `ssh -t` (see crate::hosts::fleet::session_tmux).
        let (tmux, tag) = match crate::hosts::fleet::session_tmux(&self.home, &self.config, session)
        {
            Ok(t) => t,
            Err(e) => return Ok((app::Level::Error, format!("cannot attach: {e}"))),
        };
        let pane = match tmux.panes(&tag) {
            Ok(p) => p
                .into_iter()
                .find(|p| p.session == session && p.tmux_session == self.config.tmux.session),
            Err(e) => return Ok((app::Level::Error, format!("cannot attach: {e}"))),
        };
        let Some(pane) = pane else {
            return Ok((
                app::Level::Error,
                format!(
                    "no tmux pane for {session} in tmux session `{}`: is the control room running (`brl up`)?",
                    self.config.tmux.session
                ),
            ));
        };
        // Inside tmux: never a nested client (prefix + d would detach the user's whole terminal).
        match tmux.reach() {
            Some(crate::tmux::manners::Reach::Switch { client }) => {
                return Ok(match tmux.switch_client(&client, &pane.id) {
                    Ok(()) => (
                        app::Level::Info,
                        format!(
                            "switched this tmux client to {session}'s pane; prefix + L comes back here"
                        ),
                    ),
                    Err(e) => (
                        app::Level::Error,
                        format!("cannot switch to {session}'s pane: {e}"),
                    ),
                });
            }
            Some(crate::tmux::manners::Reach::Popup) => {
                let title = format!(" brl {session} — prefix + d closes ");
                let status = tmux
                    .popup_command(&self.config.tmux.session, &pane.id, &title)
                    .status();
                return Ok(match status {
                    Ok(s) if s.success() => {
                        (app::Level::Info, format!("back from {session}'s pane"))
                    }
                    Ok(s) => (
                        app::Level::Error,
                        format!(
                            "`tmux display-popup` for {session} ended with {s} (tmux 3.2 or newer has popups)"
                        ),
                    ),
                    Err(e) => (
                        app::Level::Error,
                        format!("cannot run `tmux display-popup`: {e}"),
                    ),
                });
            }
            None => {}
        }
        self.pause.pause();
        term::suspend();
        let status = tmux
            .attach_command(&self.config.tmux.session, Some(&pane.id))
            .env_remove("TMUX")
            .status();
        term::resume(term, mouse)?;
        self.pause.resume();
        Ok(match status {
            Ok(s) if s.success() => (app::Level::Info, format!("back from {session}'s pane")),
            Ok(s) => (
                app::Level::Error,
                format!("`tmux attach` to {session} ended with {s}"),
            ),
            Err(e) => (app::Level::Error, format!("cannot run `tmux attach`: {e}")),
        })
    }
}
