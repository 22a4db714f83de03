//! `brl up`, `brl down`, `brl attach`, `brl status`.

mod down;
pub use down::down;

use std::num::NonZeroU32;

use crate::config::Config;
use crate::control;
use crate::home::Home;
use crate::scheduler::MemoryReader;
use crate::status;
use crate::tmux::Tmux;

pub fn up(
    home: &Home,
    sessions: Option<NonZeroU32>,
    no_tui: bool,
    json: bool,
) -> anyhow::Result<i32> {
    // Check the config before anything else, so a mistake is one clear message.
    let config = home.load_config()?;
    if !no_tui {
        let _guard = crate::headless::init_control(home, crate::headless::Stdout::Nothing)?;
        return super::dashboard::up(home, &config, sessions);
    }
    // Before any thread starts: changing the environment is only sound while single-threaded.
    let supervisor = control::supervisor();
    let scrubbed = scrub_pm2_env();
    use std::io::IsTerminal;
    let stdout = if json || !std::io::stdout().is_terminal() {
        crate::headless::Stdout::Json
    } else {
        crate::headless::Stdout::Human
    };
    let _guard = crate::headless::init_control(home, stdout)?;
    if !scrubbed.is_empty() {
        tracing::info!(
            removed = %scrubbed.join(" "),
            "PM2's variables are kept from the tmux server, the workers and the agents"
        );
    }
    // Which agent runs and whether brl's gate guards it ("no safety gate for this agent"):
    // logged (stdout carries log lines only in this mode).
    let agent = crate::status::agent(home, &config.agent.command);
    let said = crate::status::describe_agent(&agent);
    let said = said.trim_end();
    if agent["gate"].as_bool() == Some(false) {
        tracing::warn!(preset = agent["preset"].as_str().unwrap_or("?"), "{said}");
    } else {
        tracing::info!(preset = agent["preset"].as_str().unwrap_or("?"), "{said}");
    }
    let stop = super::stop_flag()?;
    control::run(
        home,
        &control::Options {
            sessions,
            supervisor,
        },
        &stop,
    )?;
    Ok(0)
}

pub fn attach(home: &Home, session: Option<&str>) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    if !crate::tui::has_terminal() {
        anyhow::bail!(
            "`brl attach` needs a terminal; from a script use `tmux{} attach -t {}`",
            config
                .tmux
                .socket
                .as_deref()
                .map(|s| format!(" -L {s}"))
                .unwrap_or_default(),
            config.tmux.session
        );
    }
    // A host's session: its pane lives in tmux on that host, attached over `ssh -t`.
    let (tmux, tag) = crate::hosts::fleet::session_tmux(home, &config, session.unwrap_or(""))?;
    let panes = tmux.panes(&tag)?;
    if !panes.iter().any(|p| p.tmux_session == config.tmux.session) {
        anyhow::bail!(
            "no tmux session `{}` of this home is running; start it with `brl up`",
            config.tmux.session
        );
    }
    let pane = match session {
        None => None,
        Some(s) => Some(
            panes
                .iter()
                .find(|p| p.session == s && p.tmux_session == config.tmux.session)
                .map(|p| p.id.clone())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no pane for session `{s}` in tmux session `{}`; sessions with panes: {}",
                        config.tmux.session,
                        panes
                            .iter()
                            .map(|p| p.session.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?,
        ),
    };
    // From inside another tmux, attaching nests: the user asked for it, so let tmux do it.
    let status = tmux
        .attach_command(&config.tmux.session, pane.as_deref())
        .env_remove("TMUX")
        .status()?;
    Ok(status.code().unwrap_or(1))
}

pub fn status(home: &Home, json: bool) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    let mut snap = status::snapshot(home, &config, &mut MemoryReader::default());
    // The panes as tmux has them (one `list-panes`): a pane list brl cannot read is shown here,
    // not hidden behind the control files.
    let tmux = Tmux::new(config.tmux.socket.as_deref());
    let panes = tmux.panes(&home.root().display().to_string());
    if json {
        let (mut t, h) = where_json(&config);
        t["panes"] = match &panes {
            Ok(list) => serde_json::json!(
                list.iter()
                    .map(|p| serde_json::json!({"pane": p.id, "session": p.session,
                    "tmux_session": p.tmux_session, "dead": p.dead}))
                    .collect::<Vec<_>>()
            ),
            Err(e) => serde_json::json!({"error": e.to_string()}),
        };
        if let Some(map) = snap.as_object_mut() {
            map.insert("tmux".into(), t);
            map.insert("http".into(), h);
        }
        println!("{}", serde_json::to_string_pretty(&snap)?);
    } else {
        print!("{}", status::describe(&snap));
        for line in where_lines(&config) {
            println!("{line}");
        }
        match &panes {
            Ok(list) if list.is_empty() => println!("panes: none of this home"),
            Ok(list) => println!(
                "panes: {}",
                list.iter()
                    .map(|p| {
                        let mut s = format!("{} {}", p.session, p.id);
                        if p.dead {
                            s.push_str(" DEAD");
                        }
                        if p.tmux_session != config.tmux.session {
                            s.push_str(&format!(" (in tmux session {})", p.tmux_session));
                        }
                        s
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(e) => println!("panes: ERROR {e}"),
        }
    }
    Ok(0)
}

/// Where this home's panes and HTTP server live: (`tmux`, `http`) for `brl status --json`.
fn where_json(config: &Config) -> (serde_json::Value, serde_json::Value) {
    (
        serde_json::json!({
            "socket": config.tmux.socket,
            "session": config.tmux.session,
            "session_derived": config.tmux.session_derived,
        }),
        serde_json::json!({
            "enabled": config.server.enabled,
            "listen": config.server.listen.to_string(),
            "listen_derived": config.server.listen_derived,
        }),
    )
}

/// Where this home's panes and HTTP server live, in words (`brl init`, `brl status`); a value
/// derived from the home says so.
pub fn where_lines(config: &Config) -> Vec<String> {
    let server = match &config.tmux.socket {
        Some(s) => format!("the tmux server on socket `{s}`"),
        None => "your default tmux server".into(),
    };
    let from_home = |derived: bool, key: &str| {
        if derived {
            format!(" (derived from this home's path; `{key}` in brl.toml sets another)")
        } else {
            " (set in brl.toml)".to_string()
        }
    };
    let http = if config.server.enabled {
        format!(
            "http:  listens on {}{}",
            config.server.listen,
            from_home(config.server.listen_derived, "[server] listen")
        )
    } else {
        "http:  off ([server] enabled = false)".to_string()
    };
    vec![
        format!(
            "tmux:  session `{}` on {server}{}",
            config.tmux.session,
            from_home(config.tmux.session_derived, "[tmux] session")
        ),
        http,
    ]
}

/// Under PM2 the control room's environment carries PM2's own variables (`PM2_HOME`, `pm_id`,
/// and generic names such as `name`, `status`, `args`, `env`). The tmux server that `brl up`
/// starts would hand them to every worker and agent: an agent running `pm2` would drive the
/// daemon that runs brl, and the generic names collide with other tools. Only when PM2 is
/// detected (`pm_id` or `PM2_HOME` set) are they removed; returns the names removed.
fn scrub_pm2_env() -> Vec<String> {
    if std::env::var_os("pm_id").is_none() && std::env::var_os("PM2_HOME").is_none() {
        return vec![];
    }
    let keys: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| is_pm2_var(k))
        .collect();
    for k in &keys {
        // SAFETY: called by `brl up` before it starts any thread (see the caller).
        unsafe { std::env::remove_var(k) };
    }
    keys
}

/// Variables PM2 (6.x) sets for the processes it runs.
fn is_pm2_var(k: &str) -> bool {
    const NAMES: &[&str] = &[
        "name",
        "status",
        "args",
        "env",
        "namespace",
        "unique_id",
        "exec_mode",
        "instances",
        "autorestart",
        "vizion",
        "vizion_running",
        "treekill",
        "automation",
        "pmx",
        "node_args",
        "username",
        "windowsHide",
        "kill_retry_time",
        "created_at",
        "restart_time",
        "unstable_restarts",
        "version",
        "km_link",
        "filter_env",
        "merge_logs",
        "exit_code",
        "prev_restart_delay",
        "NODE_APP_INSTANCE",
        "kill_timeout",
        "stop_exit_codes",
        "min_uptime",
        "max_restarts",
        "restart_delay",
        "out_file",
        "error_file",
        "time",
        "interpreter",
        "interpreter_args",
        "script",
        "instance_var",
        "exp_backoff_restart_delay",
    ];
    k.starts_with("PM2_") || k.starts_with("pm_") || k.starts_with("axm_") || NAMES.contains(&k)
}

#[cfg(test)]
mod tests {
    use super::is_pm2_var;

    #[test]
    fn pm2_variables_are_recognised_and_others_kept() {
        for k in [
            "PM2_HOME",
            "pm_id",
            "pm_exec_path",
            "axm_options",
            "name",
            "status",
            "args",
        ] {
            assert!(is_pm2_var(k), "{k}");
        }
        for k in [
            "PATH",
            "HOME",
            "ANTHROPIC_API_KEY",
            "BRL_LOG",
            "TMUX",
            "names",
        ] {
            assert!(!is_pm2_var(k), "{k}");
        }
    }
}
