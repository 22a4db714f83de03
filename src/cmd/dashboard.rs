//! `brl up` with a terminal: make sure a control room schedules the home (PM2's, one already in
//! tmux, or one started now in the `control` window of the home's tmux session), then open the
//! dashboard over the same home. The dashboard never schedules: quitting it, or losing the SSH
//! connection it runs over, leaves the control room and the workers running.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::config::Config;
use crate::home::Home;
use crate::status;
use crate::tmux::Tmux;

/// How long a new control room has to take the home's lock.
const START_WAIT: Duration = Duration::from_secs(20);

pub fn up(home: &Home, config: &Config, sessions: Option<NonZeroU32>) -> anyhow::Result<i32> {
    if !crate::tui::has_terminal() {
        anyhow::bail!(
            "`brl up` opens the dashboard, which needs a terminal; without one run `brl up --no-tui` (the control room alone, e.g. under PM2)"
        );
    }
    let started = ensure_control_room(home, config, sessions)?;
    crate::tui::run(home, config)?;
    let b = super::demo::invocation_for(home);
    let room = match status::control_room_pid(home) {
        Some(pid) => format!("The control room (pid {pid}) and the workers keep running"),
        None => "No control room is running now (see logs/brl.log.*); the workers keep running"
            .to_string(),
    };
    println!("Dashboard closed. {room} in tmux{}.", socket_note(config));
    println!("  come back:          {b} up");
    println!("  watch the workers:  {b} attach");
    println!("  stop everything:    {b} down");
    if started {
        println!(
            "(this `brl up` started the control room in the `control` window of tmux session `{}`)",
            config.tmux.session
        );
    }
    Ok(0)
}

fn socket_note(config: &Config) -> String {
    match &config.tmux.socket {
        Some(s) => format!(" (socket {s}, session {})", config.tmux.session),
        None => format!(" (session {})", config.tmux.session),
    }
}

/// Returns true when it started one.
fn ensure_control_room(
    home: &Home,
    config: &Config,
    sessions: Option<NonZeroU32>,
) -> anyhow::Result<bool> {
    if let Some(pid) = status::control_room_pid(home) {
        eprintln!(
            "brl up: a control room already schedules this home (pid {pid}); opening the dashboard over it"
        );
        return Ok(false);
    }
    let exe = std::env::current_exe()
        .context("cannot find the brl executable to start the control room")?;
    let mut command = format!(
        "exec {} --home {} up --no-tui",
        super::demo::shell_quote(&exe.display().to_string()),
        super::demo::shell_quote(&home.root().display().to_string())
    );
    if let Some(n) = sessions {
        command.push_str(&format!(" --sessions {n}"));
    }
    let tmux = Tmux::new(config.tmux.socket.as_deref());
    let tag = home.root().display().to_string();
    let pane = tmux.start_control(&config.tmux.session, &tag, &command)?;
    eprintln!(
        "brl up: starting the control room in the `control` window of tmux session `{}`{}",
        config.tmux.session,
        config
            .tmux
            .socket
            .as_deref()
            .map(|s| format!(" (socket {s})"))
            .unwrap_or_default()
    );
    let end = Instant::now() + START_WAIT;
    loop {
        if status::control_room_pid(home).is_some() {
            return Ok(true);
        }
        let dead = tmux
            .control_panes(&tag)?
            .into_iter()
            .find(|p| p.id == pane)
            .is_none_or(|p| p.dead);
        if dead || Instant::now() >= end {
            let said = tmux.capture(&pane, 40).unwrap_or_default();
            if dead {
                let _ = tmux.kill_pane(&pane);
            }
            anyhow::bail!(
                "the control room did not start{}; it said:\n{}\nfix what it says, then run `brl up` again (or `brl up --no-tui` to see it in this terminal)",
                if dead { "" } else { " within 20 s" },
                said.trim_end()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
