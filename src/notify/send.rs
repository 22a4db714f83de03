//! The three notifiers: a command (the event on stdin), a webhook (the event POSTed as JSON) and
//! Telegram (`sendMessage` with the event's text). One attempt each; retries are the queue's.
//! Error messages never hold a secret: the bot token and the webhook's path are redacted.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde_json::{Value, json};

use super::Event;
use crate::config::{NotifyConfig, TelegramConfig};
use crate::proc::{self, End, Spec};

/// Telegram refuses longer messages.
const TELEGRAM_MAX_CHARS: usize = 4000;
/// How much of an answer or a command's output an error message quotes.
const QUOTE: usize = 300;

/// Where notifications go.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Target {
    Command(String),
    Webhook(String),
    Telegram(TelegramConfig),
}

/// Why one attempt failed. `permanent`: trying again will not help (a missing token, a 4xx).
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: String,
    pub permanent: bool,
}

impl Failure {
    fn retry(error: String) -> Failure {
        Failure {
            error,
            permanent: false,
        }
    }
    fn permanent(error: String) -> Failure {
        Failure {
            error,
            permanent: true,
        }
    }
}

/// Timeouts of one attempt.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    pub http: Duration,
    pub command: Duration,
}

impl Target {
    /// The notifiers `config` asks for.
    pub fn all(config: &NotifyConfig) -> Vec<Target> {
        let mut out = Vec::new();
        if let Some(c) = &config.command {
            out.push(Target::Command(c.clone()));
        }
        if let Some(w) = &config.webhook {
            out.push(Target::Webhook(w.clone()));
        }
        if let Some(t) = &config.telegram {
            out.push(Target::Telegram(t.clone()));
        }
        out
    }

    /// `command`, `webhook` or `telegram`: the `notifier` of a `notify_failed` entry.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Command(_) => "command",
            Target::Webhook(_) => "webhook",
            Target::Telegram(_) => "telegram",
        }
    }

    /// One attempt to deliver `event`. `stop` cancels a running command.
    pub fn send(
        &self,
        event: &Event,
        home: &Path,
        limits: Limits,
        stop: &AtomicBool,
    ) -> Result<(), Failure> {
        match self {
            Target::Command(c) => command(c, event, home, limits.command, stop),
            Target::Webhook(url) => {
                let body = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
                post(url, body, limits.http).map(drop).map_err(|f| Failure {
                    error: redact(&f.error, &[url_secret(url)]),
                    ..f
                })
            }
            Target::Telegram(t) => telegram(t, event, home, limits.http),
        }
    }
}

fn command(
    command: &str,
    event: &Event,
    home: &Path,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<(), Failure> {
    let mut input = serde_json::to_vec(event).unwrap_or_default();
    input.push(b'\n');
    let spec = Spec {
        command,
        cwd: home,
        env: vec![
            ("BRL_HOME".into(), home.display().to_string()),
            ("BRL_EVENT".into(), event.event.clone()),
        ],
        stdin: Some(input),
        timeout,
        cancel: Some(stop),
        pgid_file: None,
    };
    let run = proc::run(spec, &mut |_| {})
        .map_err(|e| Failure::retry(format!("cannot run the command: {e}")))?;
    let said = last_words(&run.output);
    match run.end {
        End::Exited(0) => Ok(()),
        End::Exited(n) => Err(Failure::retry(format!(
            "the command exited with status {n}{said}"
        ))),
        End::Signaled(s) => Err(Failure::retry(format!(
            "the command was killed by signal {s}{said}"
        ))),
        End::TimedOut => Err(Failure::retry(format!(
            "the command ran past {} s and was killed{said}",
            timeout.as_secs_f32()
        ))),
        End::Cancelled => Err(Failure::permanent(
            "cancelled: the control room is stopping".into(),
        )),
    }
}

/// `: <the end of the output>` or nothing.
fn last_words(output: &str) -> String {
    let t = output.trim();
    if t.is_empty() {
        return String::new();
    }
    let start = t.char_indices().rev().nth(QUOTE - 1).map_or(0, |(i, _)| i);
    format!(": {}", t[start..].replace('\n', " | "))
}

/// POST `body` as JSON; the answer's body on a 2xx.
pub(crate) fn post(url: &str, body: String, timeout: Duration) -> Result<String, Failure> {
    // The system's certificate authorities are trusted, as curl does (a company proxy's own
    // authority included), not only the roots bundled with rustls.
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .build()
        .into();
    let mut answer = agent
        .post(url)
        .content_type("application/json")
        .send(body)
        .map_err(|e| Failure::retry(transport_error(&e)))?;
    let status = answer.status();
    let text = answer
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default();
    if status.is_success() {
        return Ok(text);
    }
    let quoted: String = text.trim().chars().take(QUOTE).collect();
    let error = format!("HTTP {}: {quoted}", status.as_u16());
    // 4xx (but timeouts and rate limits) will not get better by trying again.
    let code = status.as_u16();
    if status.is_client_error() && code != 408 && code != 429 {
        Err(Failure::permanent(error))
    } else {
        Err(Failure::retry(error))
    }
}

fn transport_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::TlsRequired => {
            "https needs TLS support, which this build of brl lacks (see the README's Notifications section)".into()
        }
        ureq::Error::Timeout(t) => format!("timed out ({t:?})"),
        other => other.to_string(),
    }
}

fn telegram(
    t: &TelegramConfig,
    event: &Event,
    home: &Path,
    timeout: Duration,
) -> Result<(), Failure> {
    let token = std::env::var(&t.bot_token_env)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            Failure::permanent(format!(
                "the environment variable {} ([notify.telegram] bot_token_env) is not set in the control room's environment",
                t.bot_token_env
            ))
        })?;
    let token = token.trim();
    let url = format!(
        "{}/bot{token}/sendMessage",
        t.api_base.trim_end_matches('/')
    );
    let name = home
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text: String = format!("brl {name}: {}", event.text)
        .chars()
        .take(TELEGRAM_MAX_CHARS)
        .collect();
    let body = json!({"chat_id": t.chat_id, "text": text, "disable_web_page_preview": true});
    let result =
        post(&url, body.to_string(), timeout).and_then(|answer| {
            match serde_json::from_str::<Value>(&answer) {
                Ok(v) if v["ok"] == json!(true) => Ok(()),
                _ => Err(Failure::retry(format!(
                    "the Bot API did not answer ok: {}",
                    answer.chars().take(QUOTE).collect::<String>()
                ))),
            }
        });
    result.map_err(|f| Failure {
        error: redact(&f.error, &[token]),
        ..f
    })
}

/// The part of a webhook URL that may be a secret: everything after the host.
fn url_secret(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find(['/', '?', '#']).map_or("", |i| &rest[i..])
}

/// `text` with every occurrence of each secret (of 4 characters or more) replaced.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s, "[redacted]");
    }
    out
}

/// A webhook's address for messages: scheme and host only.
pub(super) fn describe(target: &Target) -> String {
    match target {
        Target::Command(c) => format!("command `{}`", c.chars().take(80).collect::<String>()),
        Target::Webhook(url) => format!("webhook {}", url.replace(url_secret(url), "/…")),
        Target::Telegram(t) => format!("telegram chat {}", t.chat_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show() {
        let url = "http://hooks.example:8080/services/T000/B000/XXXXSECRET?x=1";
        assert_eq!(url_secret(url), "/services/T000/B000/XXXXSECRET?x=1");
        let d = describe(&Target::Webhook(url.into()));
        assert_eq!(d, "webhook http://hooks.example:8080/…");
        assert_eq!(
            redact(&format!("bad uri {url}"), &[url_secret(url)]),
            "bad uri http://hooks.example:8080[redacted]"
        );
        assert_eq!(
            redact("POST /bot123:ABC/sendMessage failed", &["123:ABC"]),
            "POST /bot[redacted]/sendMessage failed"
        );
        assert_eq!(
            redact("a/b", &["", "/"]),
            "a/b",
            "short secrets are not redacted"
        );
    }

    #[test]
    fn output_is_quoted_short() {
        assert_eq!(last_words("  \n"), "");
        assert_eq!(last_words("oops\nbad"), ": oops | bad");
        let long = "x".repeat(1000);
        assert_eq!(last_words(&long).len(), 2 + QUOTE);
    }
}
