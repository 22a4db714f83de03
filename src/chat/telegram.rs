//! The control room's Telegram poller: long-polls getUpdates with the persisted offset, takes
//! text messages from `[notify.telegram] chat_id` (and `allowed_users`, when set), runs each
//! command ([`super::handle`]) and sends the answer back.
//!
//! Exactly once across restarts: for each update, in order — skip it if its `update_id` is
//! already in a `command` entry (a replay after a crash between the entry and the offset save);
//! else run it (effect, then its `command` entry with the `update_id`); send the answer; save
//! the offset past it. Killed between the effect and its entry, a command runs again on replay:
//! the decisions are journaled and refuse a second decision on the same branch, a `yes` is
//! consumed before it acts, pause/resume are idempotent, and a duplicate task title is refused.
//!
//! Other chats and senders are ignored, logged once per sender (`command_ignored`); a flood is
//! cut at `max_commands_per_minute` per sender ([`super::flood`]). The token comes from the
//! environment only and is redacted from every message. When the Bot API cannot be reached the
//! poller retries every few seconds; commands sent meanwhile wait at Telegram and are handled
//! once when it answers again.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

use super::flood::{Flood, Verdict};
use super::run::{Policy, Source, record};
use super::update::{self, Message};
use super::{Answer, offset};
use crate::config::{Config, TelegramConfig};
use crate::home::Home;
use crate::notify::send::{post, redact};
use crate::store::log::{self, Entry, Filter};

/// How many of the log's last `command` entries are searched for a replayed update.
const REPLAY_WINDOW: usize = 500;

/// Internal settings, fixed in production and shortened by the tests.
#[derive(Clone, Debug)]
pub struct Options {
    /// getUpdates' long-poll `timeout`: the request returns at once when a message comes.
    pub poll: Duration,
    /// Wait before asking again after the Bot API could not be reached.
    pub retry: Duration,
    /// Timeout of one sendMessage.
    pub send_timeout: Duration,
    /// How often brl.toml is read again while no commands are configured.
    pub idle_check: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            poll: Duration::from_secs(25),
            retry: Duration::from_secs(5),
            send_timeout: Duration::from_secs(10),
            idle_check: Duration::from_secs(10),
        }
    }
}

/// The running poller. Stop it with [`Poller::stop`].
pub struct Poller {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// Start the poller of the control room of `home` with the production [`Options`]. It runs
/// even with no `[notify.telegram]`, so that adding one to brl.toml takes effect without a
/// restart.
pub fn spawn(home: &Home) -> Poller {
    spawn_with(home, Options::default())
}

pub fn spawn_with(home: &Home, opts: Options) -> Poller {
    let stop = Arc::new(AtomicBool::new(false));
    let mut runner = Runner {
        home: home.clone(),
        opts,
        stop: Arc::clone(&stop),
        ignored: HashSet::new(),
        flood: Flood::default(),
        outage: None,
        token_missing_said: false,
        done_max: None,
        replay_checked: false,
    };
    let handle = std::thread::Builder::new()
        .name("brl-chat".into())
        .spawn(move || runner.run())
        .map_err(|e| tracing::error!("chat commands are off: cannot start their thread: {e}"))
        .ok();
    Poller { stop, handle }
}

impl Poller {
    /// Stop: at once when idle, else within a second; a long-poll in flight is abandoned (its
    /// thread ends when the request returns, and handles nothing after the stop: whatever it
    /// got is read again by the next start, as the offset was not saved past it).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let Some(h) = self.handle.take() else { return };
        h.thread().unpark();
        let deadline = Instant::now() + Duration::from_secs(1);
        while !h.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if h.is_finished() {
            let _ = h.join();
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = &self.handle {
            h.thread().unpark();
        }
    }
}

struct Runner {
    home: Home,
    opts: Options,
    stop: Arc<AtomicBool>,
    /// Senders already logged as ignored (once each per run).
    ignored: HashSet<String>,
    flood: Flood,
    /// Since when the Bot API could not be reached (logged once per outage).
    outage: Option<Instant>,
    token_missing_said: bool,
    /// The highest update id handled by this run (an update offered again because saving the
    /// offset failed is skipped without reading the log).
    done_max: Option<i64>,
    /// Whether a getUpdates answer was handled in this run: only the first can hold an update
    /// the previous run handled without saving the offset (Telegram offers every unconfirmed
    /// update at once), so only its updates are looked up in the log.
    replay_checked: bool,
}

impl Runner {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleep up to `d`, waking for the stop.
    fn pause(&self, d: Duration) {
        let end = Instant::now() + d;
        while !self.stopping() {
            let now = Instant::now();
            if now >= end {
                return;
            }
            // `stop` unparks: no need to wake before the end to look at the flag.
            std::thread::park_timeout(end - now);
        }
    }

    fn run(&mut self) {
        let mut last_good: Option<Config> = None;
        while !self.stopping() {
            let config = match self.home.load_config() {
                Ok(c) => {
                    last_good = Some(c.clone());
                    c
                }
                Err(_) => match &last_good {
                    Some(c) => c.clone(),
                    None => {
                        self.pause(self.opts.idle_check);
                        continue;
                    }
                },
            };
            let Some(t) = config.notify.telegram.clone().filter(|t| t.commands) else {
                self.pause(self.opts.idle_check);
                continue;
            };
            let Some(token) = std::env::var(&t.bot_token_env)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
            else {
                if !self.token_missing_said {
                    self.token_missing_said = true;
                    tracing::error!(
                        "chat commands are off: the environment variable {} ([notify.telegram] bot_token_env) is not set in the control room's environment",
                        t.bot_token_env
                    );
                }
                self.pause(self.opts.idle_check);
                continue;
            };
            self.token_missing_said = false;
            self.poll_once(&config, &t, &token);
        }
    }

    fn url(t: &TelegramConfig, token: &str, method: &str) -> String {
        format!("{}/bot{token}/{method}", t.api_base.trim_end_matches('/'))
    }

    fn poll_once(&mut self, config: &Config, t: &TelegramConfig, token: &str) {
        let saved = match offset::load(&self.home) {
            Ok(o) => o,
            Err(e) => {
                tracing::error!("chat commands wait: {e}");
                self.pause(self.opts.idle_check);
                return;
            }
        };
        let mut body = json!({"timeout": self.opts.poll.as_secs(), "allowed_updates": ["message"]});
        if let Some(o) = saved {
            body["offset"] = json!(o);
        }
        let timeout = self.opts.poll + Duration::from_secs(10);
        let got = post(
            &Self::url(t, token, "getUpdates"),
            body.to_string(),
            timeout,
        )
        .map_err(|f| redact(&f.error, &[token]))
        .and_then(|answer| update::parse(&answer));
        let updates = match got {
            Ok(u) => u,
            Err(e) => {
                if self.outage.is_none() {
                    self.outage = Some(Instant::now());
                    tracing::warn!(
                        "chat commands: the Bot API at {} cannot be reached: {e}; asking again every {} s",
                        t.api_base,
                        self.opts.retry.as_secs_f32()
                    );
                }
                self.pause(self.opts.retry);
                return;
            }
        };
        if let Some(since) = self.outage.take() {
            tracing::info!(
                "chat commands: the Bot API answers again after {} s",
                since.elapsed().as_secs()
            );
        }
        for (id, message) in updates {
            // What comes after a stop is read again by the next start.
            if self.stopping() {
                return;
            }
            if saved.is_some_and(|o| id < o) || self.done_max.is_some_and(|d| id <= d) {
                continue;
            }
            if let Some(m) = message {
                self.take(config, t, token, id, &m);
            }
            self.done_max = Some(id);
            if let Err(e) = offset::save(&self.home, id + 1) {
                tracing::error!("chat commands: {e}");
            }
        }
        self.replay_checked = true;
    }

    /// One message: ignored, refused as a flood, skipped as a replay, or run and answered.
    fn take(&mut self, config: &Config, t: &TelegramConfig, token: &str, id: i64, m: &Message) {
        let allowed = update::from_chat(&t.chat_id, m)
            && (t.allowed_users.is_empty() || t.allowed_users.contains(&m.user_id));
        if !allowed {
            let sender = format!("{}:{}", m.chat_id, m.user_id);
            if self.ignored.insert(sender) {
                tracing::warn!(
                    chat = m.chat_id,
                    user = m.user_id,
                    "chat command ignored: not from the configured chat or an allowed user"
                );
                log::append_or_report(
                    &self.home.log_path(),
                    &Entry::new(
                        "command_ignored",
                        None,
                        json!({"source": "telegram", "chat": m.chat_id, "user": m.user,
                               "user_id": m.user_id, "update_id": id,
                               "why": "not from [notify.telegram] chat_id or allowed_users; later messages of this sender are ignored without an entry"}),
                    ),
                );
            }
            return;
        }
        if !self.replay_checked && already_handled(&self.home, id) {
            tracing::info!(
                update_id = id,
                "chat command already handled before a restart; skipped"
            );
            return;
        }
        let chat = m.chat_id.to_string();
        let source = Source::telegram(&chat, m.user_id, &m.user, id);
        let answer = match self
            .flood
            .check(&m.user, t.max_commands_per_minute, Instant::now())
        {
            Verdict::Take => {
                super::handle(&self.home, &source, &m.text, Some(Policy::telegram(config)))
            }
            Verdict::RefuseQuietly => return,
            Verdict::RefuseAndSay => {
                let a = Answer::line(
                    "ignored",
                    format!(
                        "too many commands: at most {} a minute ([notify.telegram] max_commands_per_minute); the rest of this minute is ignored",
                        t.max_commands_per_minute
                    ),
                );
                record(&self.home, &source, &m.text, "flood", &a);
                a
            }
        };
        for page in answer.telegram_pages() {
            let body = json!({"chat_id": m.chat_id, "text": page, "parse_mode": "HTML",
                              "disable_web_page_preview": true,
                              "reply_parameters": {"message_id": m.message_id, "allow_sending_without_reply": true}});
            if let Err(f) = post(
                &Self::url(t, token, "sendMessage"),
                body.to_string(),
                self.opts.send_timeout,
            ) {
                tracing::warn!(
                    "chat commands: the answer to update {id} was not delivered: {}",
                    redact(&f.error, &[token])
                );
                break;
            }
        }
    }
}

/// Is update `id` already in a `command` entry (handled before a restart)? Reads the log
/// backwards to the last [`REPLAY_WINDOW`] command entries; done only for the first answer of a
/// run.
fn already_handled(home: &Home, id: i64) -> bool {
    let filter = Filter {
        kind: Some("command".into()),
        session: None,
    };
    log::tail(&home.log_path(), REPLAY_WINDOW, &filter).is_ok_and(|t| {
        t.entries
            .iter()
            .any(|e| e.data["source"] == "telegram" && e.data["update_id"].as_i64() == Some(id))
    })
}
