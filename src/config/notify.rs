//! `[notify]` of `brl.toml`: where the control room sends notifications (a command, a webhook,
//! Telegram) and how often it sends a heartbeat.

use serde::{Deserialize, Deserializer};

/// Notifications sent by the control room. With none of `command`, `webhook` and `telegram`
/// set, nothing is sent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// Run through `sh -c` in the home for each event, the event as one JSON object on stdin.
    #[serde(default)]
    pub command: Option<String>,
    /// POST each event as JSON to this URL.
    #[serde(default)]
    pub webhook: Option<String>,
    /// Send each event's text with the Telegram Bot API.
    #[serde(default)]
    pub telegram: Option<TelegramConfig>,
    /// A summary of the period this often, so that silence is never ambiguous; 0 = none.
    #[serde(default = "default_heartbeat")]
    pub heartbeat_secs: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            command: None,
            webhook: None,
            telegram: None,
            heartbeat_secs: default_heartbeat(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// The environment variable holding the bot's token (the token itself never goes in a file).
    pub bot_token_env: String,
    /// The chat to write to: a number (`-1001234567890`) or `@channelname`.
    #[serde(deserialize_with = "string_or_integer")]
    pub chat_id: String,
    /// The Bot API's address (tests point it at a local server).
    #[serde(default = "default_api_base")]
    pub api_base: String,
    /// Take commands from the chat (`/status`, `/queue`, `/approve 3` …): the control room
    /// long-polls the Bot API's getUpdates. `false`: notifications only.
    #[serde(default = "yes")]
    pub commands: bool,
    /// May `/approve` and `/reject` from the chat decide (each after a `yes`)? `false` refuses them.
    #[serde(default = "yes")]
    pub allow_decisions: bool,
    /// Telegram user ids whose commands are taken; empty: anyone in `chat_id`.
    #[serde(default)]
    pub allowed_users: Vec<i64>,
    /// The tier of a task queued with `/task`: `proposed` (runs once approved) or `auto_safe`.
    #[serde(default = "default_task_tier")]
    pub task_tier: String,
    /// Commands taken per sender per minute; past it the rest of the minute is ignored (one
    /// answer says so).
    #[serde(default = "default_commands_per_minute")]
    pub max_commands_per_minute: u32,
}

/// An invalid `[notify]` key: where it is, what is wrong, the fix.
#[derive(Debug)]
pub(super) struct Problem {
    /// The dotted key, e.g. `notify.webhook`.
    pub key: String,
    /// `(table, key)` places to look for the line, the first found wins.
    pub places: Vec<(&'static str, &'static str)>,
    pub message: String,
    pub fix: String,
}

impl Problem {
    /// The byte offset of the key in `text`, found with `find(text, table, key)`; 0 if not found.
    pub fn at(&self, text: &str, find: fn(&str, &str, &str) -> Option<usize>) -> usize {
        self.places
            .iter()
            .find_map(|(t, k)| find(text, t, k))
            .or_else(|| header(text, &self.places))
            .unwrap_or(0)
    }
}

/// The offset of the first `[table]` header among `places` (for a key left at its default).
fn header(text: &str, places: &[(&str, &str)]) -> Option<usize> {
    places.iter().find_map(|(table, _)| {
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let t = line.trim();
            if t.starts_with('[') && t.trim_matches(['[', ']', ' ']) == *table {
                return Some(offset);
            }
            offset += line.len();
        }
        None
    })
}

/// Shortest heartbeat period a config may ask for: more often is noise, not reassurance.
pub const MIN_HEARTBEAT_SECS: u64 = 60;

impl NotifyConfig {
    /// Whether this build can send to `https://` addresses: ureq with its `rustls` and
    /// `platform-verifier` features (Cargo.toml).
    pub const HTTPS: bool = true;

    /// Is any notifier configured?
    pub fn any(&self) -> bool {
        self.command.is_some() || self.webhook.is_some() || self.telegram.is_some()
    }

    /// The first invalid key, if any.
    pub(super) fn check(&self) -> Result<(), Problem> {
        let problem = |key: &str, places, message: String, fix: &str| Problem {
            key: key.to_string(),
            places,
            message,
            fix: fix.to_string(),
        };
        if let Some(c) = &self.command
            && c.trim().is_empty()
        {
            return Err(problem(
                "notify.command",
                vec![("notify", "command")],
                "the command is empty".into(),
                "set the command that gets each event as JSON on stdin, e.g. \"cat >> ~/brl-events.jsonl\", or remove the key",
            ));
        }
        if let Some(url) = &self.webhook
            && let Err((message, fix)) = check_url(url)
        {
            return Err(problem(
                "notify.webhook",
                vec![("notify", "webhook")],
                message,
                &fix,
            ));
        }
        if let Some(t) = &self.telegram {
            let places = |k| vec![("notify.telegram", k), ("notify", "telegram")];
            let env_ok = !t.bot_token_env.is_empty()
                && t.bot_token_env
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !env_ok {
                return Err(problem(
                    "notify.telegram.bot_token_env",
                    places("bot_token_env"),
                    format!("`{}` is not an environment variable name", t.bot_token_env),
                    "name the variable that holds the bot token, e.g. \"BRL_TELEGRAM_TOKEN\" (the token itself never goes in brl.toml)",
                ));
            }
            if t.chat_id.trim().is_empty() {
                return Err(problem(
                    "notify.telegram.chat_id",
                    places("chat_id"),
                    "the chat id is empty".into(),
                    "set the chat to write to: its number (e.g. -1001234567890) or \"@channelname\"",
                ));
            }
            if !matches!(t.task_tier.as_str(), "proposed" | "auto_safe") {
                return Err(problem(
                    "notify.telegram.task_tier",
                    places("task_tier"),
                    format!("`{}` is not a task tier", t.task_tier),
                    "use \"proposed\" (a task from the chat runs once approved; the default) or \"auto_safe\"",
                ));
            }
            if !(1..=600).contains(&t.max_commands_per_minute) {
                return Err(problem(
                    "notify.telegram.max_commands_per_minute",
                    places("max_commands_per_minute"),
                    format!(
                        "{} commands a minute is not a rate limit",
                        t.max_commands_per_minute
                    ),
                    "use a number from 1 to 600 (the default is 20); set commands = false to take no commands",
                ));
            }
            if let Err((message, fix)) = check_url(&t.api_base) {
                return Err(problem(
                    "notify.telegram.api_base",
                    places("api_base"),
                    message,
                    &fix,
                ));
            }
        }
        let h = self.heartbeat_secs;
        if h != 0 && h < MIN_HEARTBEAT_SECS {
            return Err(problem(
                "notify.heartbeat_secs",
                vec![("notify", "heartbeat_secs")],
                format!("a heartbeat every {h} s is noise, not reassurance"),
                "use at least 60 (the default is 3600, one an hour), or 0 for no heartbeat",
            ));
        }
        Ok(())
    }
}

/// An `http://` or `https://` address with a host; `https://` only when this build has TLS.
/// The error is `(message, fix)`. The URL itself is not repeated: it may hold a secret.
fn check_url(url: &str) -> Result<(), (String, String)> {
    let rest = url
        .strip_prefix("http://")
        .map(|r| (r, false))
        .or_else(|| url.strip_prefix("https://").map(|r| (r, true)));
    let Some((rest, https)) = rest else {
        return Err((
            "not an http:// or https:// URL".into(),
            "write the full address, e.g. \"http://127.0.0.1:9000/hook\"".into(),
        ));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') || url.chars().any(char::is_whitespace) {
        return Err((
            "the URL has no host, or contains spaces".into(),
            "write the full address, e.g. \"http://127.0.0.1:9000/hook\"".into(),
        ));
    }
    if https && !NotifyConfig::HTTPS {
        return Err((
            "this build of brl cannot send to https:// addresses: it is built without TLS support"
                .into(),
            "use an http:// address (e.g. a relay on this machine), or build brl with TLS (ureq's `rustls` feature; see the README's Notifications section)".into(),
        ));
    }
    Ok(())
}

/// Telegram chat ids are numbers or `@names`; accept both spellings in TOML.
fn string_or_integer<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(i64),
    }
    match Id::deserialize(d) {
        Ok(Id::Text(s)) => Ok(s),
        Ok(Id::Number(n)) => Ok(n.to_string()),
        Err(_) => Err(serde::de::Error::custom(
            "expected a chat id: a number or a string like \"@channelname\"",
        )),
    }
}

fn default_heartbeat() -> u64 {
    3600
}

fn yes() -> bool {
    true
}

fn default_task_tier() -> String {
    "proposed".into()
}

fn default_commands_per_minute() -> u32 {
    20
}

fn default_api_base() -> String {
    "https://api.telegram.org".into()
}

#[cfg(test)]
mod tests {
    use super::NotifyConfig;
    use crate::config::Config;
    use std::path::Path;

    const BASE: &str = "repo = \"../app\"\n[agent]\ncommand = \"x\"\n";

    fn parse(notify: &str) -> Result<Config, String> {
        Config::parse(Path::new("/h/brl.toml"), &format!("{BASE}{notify}"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_send_nothing_and_beat_hourly() {
        let c = parse("").expect("valid");
        assert!(!c.notify.any());
        assert_eq!(c.notify.heartbeat_secs, 3600);
    }

    #[test]
    fn all_three_notifiers_parse() {
        let c = parse(
            "[notify]\ncommand = \"cat\"\nwebhook = \"http://127.0.0.1:9/h\"\nheartbeat_secs = 0\n\
             [notify.telegram]\nbot_token_env = \"TG\"\nchat_id = -100123\napi_base = \"http://127.0.0.1:8\"\n",
        )
        .expect("valid");
        let t = c.notify.telegram.expect("telegram");
        assert_eq!(
            (t.chat_id.as_str(), t.bot_token_env.as_str()),
            ("-100123", "TG")
        );
        assert_eq!(c.notify.heartbeat_secs, 0);
        let c = parse("[notify]\ntelegram = { bot_token_env = \"TG\", chat_id = \"@ch\", api_base = \"http://x\" }\n")
            .expect("inline table");
        assert_eq!(c.notify.telegram.expect("telegram").chat_id, "@ch");
    }

    #[test]
    fn bad_values_name_the_key_line_and_fix() {
        let m = parse("[notify]\nwebhook = \"ftp://x\"\n").expect_err("invalid");
        assert!(
            m.contains("line 5") && m.contains("`notify.webhook`") && m.contains("fix:"),
            "{m}"
        );
    }

    /// https:// is refused with a fix while the build has no TLS, and accepted once it has.
    #[test]
    fn https_needs_tls() {
        let webhook = parse("[notify]\nwebhook = \"https://hooks.example.com/secret\"\n");
        let telegram = parse("[notify.telegram]\nbot_token_env = \"TG\"\nchat_id = \"1\"\n");
        if NotifyConfig::HTTPS {
            assert!(webhook.is_ok() && telegram.is_ok());
            return;
        }
        let m = webhook.expect_err("no TLS");
        assert!(
            m.contains("TLS") && m.contains("http://") && !m.contains("secret"),
            "{m}"
        );
        let m = telegram.expect_err("no TLS");
        assert!(
            m.contains("notify.telegram.api_base") && m.contains("line 4"),
            "{m}"
        );
    }

    #[test]
    fn more_bad_values() {
        let m = parse("[notify]\nheartbeat_secs = 5\n").expect_err("noise");
        assert!(
            m.contains("notify.heartbeat_secs") && m.contains("60"),
            "{m}"
        );
        let m = parse("[notify]\ncommand = \" \"\n").expect_err("empty");
        assert!(m.contains("notify.command"), "{m}");
        let m = parse("[notify]\nwebhok = \"http://x\"\n").expect_err("typo");
        assert!(m.contains("unknown field"), "{m}");
        let m =
            parse("[notify.telegram]\nbot_token_env = \"T\"\nchat_id = 1\ntask_tier = \"now\"\n")
                .expect_err("tier");
        assert!(
            m.contains("notify.telegram.task_tier") && m.contains("proposed"),
            "{m}"
        );
        let m = parse(
            "[notify.telegram]\nbot_token_env = \"T\"\nchat_id = 1\nmax_commands_per_minute = 0\n",
        )
        .expect_err("rate");
        assert!(
            m.contains("max_commands_per_minute") && m.contains("600"),
            "{m}"
        );
        let c = parse("[notify.telegram]\nbot_token_env = \"T\"\nchat_id = 1\nallowed_users = [42]\nallow_decisions = false\n")
            .expect("valid");
        let t = c.notify.telegram.expect("telegram");
        assert!(t.commands && !t.allow_decisions && t.allowed_users == vec![42]);
        assert_eq!(
            (t.task_tier.as_str(), t.max_commands_per_minute),
            ("proposed", 20)
        );
        let m = parse(
            "[notify.telegram]\nbot_token_env = \"A B\"\nchat_id = 1\napi_base = \"http://x\"\n",
        )
        .expect_err("env");
        assert!(m.contains("bot_token_env") && m.contains("line 5"), "{m}");
    }
}
