//! `brl trigger task|review|standup|doctor`: ask the control room's HTTP server (`brl up`) to do
//! something, with the token from the environment variable named by `[server] token_env`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::cli::TierArg;
use crate::home::Home;

/// How long to wait for the control room, connecting and answering together.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Subcommand)]
pub enum TriggerCommand {
    /// Add a task through the control room's HTTP server.
    Task {
        /// A short title: what to do.
        title: String,
        /// More detail for the agent.
        #[arg(long, value_name = "TEXT")]
        body: Option<String>,
        /// auto_safe (docs, tests, refactors) runs without approval; proposed (features, fixes) waits for `brl task approve`. Default: auto_safe.
        #[arg(long, value_enum)]
        tier: Option<TierArg>,
    },
    /// Ask the control room to run an automated review now.
    Review,
    /// Ask the control room to hold a standup now.
    Standup,
    /// Ask the control room to run the doctor now.
    Doctor,
}

/// Send the trigger; 0 when the control room accepted it, 1 when it answered with an error (which
/// is printed with the status). Not reaching the control room is an error.
pub fn run(home: &Home, cmd: TriggerCommand) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    let server = &config.server;
    let config_path = home.config_path();
    if !server.enabled {
        bail!(
            "the control room of this home serves no HTTP ([server] enabled = false in {}); set it to true and restart `brl up`",
            config_path.display()
        );
    }
    let env = &server.token_env;
    let token = crate::server::token_from_env(env).with_context(|| {
        format!(
            "no token: the environment variable {env} ([server] token_env in {}) is not set; \
             set it to the same value as in the control room's environment",
            config_path.display()
        )
    })?;
    let addr = connect_addr(server.listen);
    let (what, path, body) = request(&cmd);
    let url = format!("http://{addr}{path}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into();
    let sent = agent
        .post(&url)
        .header("Authorization", format!("Bearer {token}"))
        .content_type("application/json")
        .send(body.to_string());
    let mut response = match sent {
        Ok(r) => r,
        Err(e) => return Err(unreachable(e, addr, &config_path)),
    };
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("cannot read the control room's answer from {url}"))?;
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !status.is_success() {
        let error = answer
            .get("error")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| text.trim().to_string());
        eprintln!("brl trigger {what}: the control room answered {status}: {error}");
        return Ok(1);
    }
    println!("{}", success_line(&cmd, &answer));
    Ok(0)
}

/// The address to connect to: a wildcard listen address means this machine.
fn connect_addr(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// (name for messages, path, JSON body).
fn request(cmd: &TriggerCommand) -> (&'static str, &'static str, Value) {
    match cmd {
        TriggerCommand::Task { title, body, tier } => {
            let mut b = json!({ "title": title });
            if let Some(text) = body {
                b["body"] = json!(text);
            }
            if let Some(tier) = tier {
                b["tier"] = json!(match tier {
                    TierArg::AutoSafe => "auto_safe",
                    TierArg::Proposed => "proposed",
                });
            }
            ("task", "/trigger/task", b)
        }
        TriggerCommand::Review => ("review", "/trigger/review", json!({})),
        TriggerCommand::Standup => ("standup", "/trigger/standup", json!({})),
        TriggerCommand::Doctor => ("doctor", "/trigger/doctor", json!({})),
    }
}

/// What to print when the control room accepted the trigger.
fn success_line(cmd: &TriggerCommand, answer: &Value) -> String {
    match cmd {
        TriggerCommand::Task { title, .. } => {
            let id = answer.get("id").and_then(Value::as_u64).unwrap_or(0);
            let tier = answer.get("tier").and_then(Value::as_str).unwrap_or("?");
            let title = answer.get("title").and_then(Value::as_str).unwrap_or(title);
            let wait = match answer.get("ready").and_then(Value::as_bool) {
                Some(false) => ", waits for `brl task approve`",
                Some(true) => ", ready for the next idle session",
                None => "",
            };
            format!("task #{id} added ({tier}{wait}): {title}")
        }
        _ => {
            let (what, _, _) = request(cmd);
            match answer.get("message").and_then(Value::as_str) {
                Some(m) => format!("{what}: {m}"),
                None => format!("{what} started"),
            }
        }
    }
}

/// The error for a request that got no answer.
fn unreachable(e: ureq::Error, addr: SocketAddr, config_path: &std::path::Path) -> anyhow::Error {
    let refused = match &e {
        ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
        ureq::Error::ConnectionFailed => true,
        _ => false,
    };
    if refused {
        return anyhow::anyhow!(
            "no control room is serving {addr}: start one with `brl up`, or check [server] enabled and [server] listen in {}",
            config_path.display()
        );
    }
    if matches!(e, ureq::Error::Timeout(_)) {
        return anyhow::anyhow!(
            "the control room at {addr} did not answer within {} s; check that `brl up` is running and not stuck (see logs/brl.log)",
            TIMEOUT.as_secs()
        );
    }
    anyhow::anyhow!("cannot reach the control room at {addr}: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listen_connects_to_loopback() {
        let a: SocketAddr = "0.0.0.0:7878".parse().expect("addr");
        assert_eq!(connect_addr(a).to_string(), "127.0.0.1:7878");
        let a: SocketAddr = "[::]:9".parse().expect("addr");
        assert_eq!(connect_addr(a).to_string(), "[::1]:9");
        let a: SocketAddr = "192.0.2.1:80".parse().expect("addr");
        assert_eq!(connect_addr(a), a);
    }
}
