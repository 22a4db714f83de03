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
    println!(
        "Dashboard closed. {}",
        running_now(
            status::control_room_pid(home),
            live_workers(home, config),
            &socket_note(config)
        )
    );
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

/// The sessions whose worker holds its life lock now.
fn live_workers(home: &Home, config: &Config) -> Vec<String> {
    config
        .session_names()
        .into_iter()
        .filter(|s| {
            crate::store::control::SessionControl::new(home, s)
                .worker_alive()
                .unwrap_or(false)
        })
        .collect()
}

/// What still runs once the dashboard is closed, as it is — not as it usually is (after
/// `brl down` nothing does).
fn running_now(room: Option<u32>, workers: Vec<String>, tmux: &str) -> String {
    let workers = match workers.len() {
        0 => "no worker is running".to_string(),
        1 => format!("1 worker ({}) keeps running in tmux{tmux}", workers[0]),
        n => format!(
            "{n} workers ({}) keep running in tmux{tmux}",
            workers.join(", ")
        ),
    };
    match room {
        Some(pid) => format!("The control room (pid {pid}) keeps scheduling; {workers}."),
        None => format!("No control room is running (see logs/brl.log.*); {workers}."),
    }
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
        // Holding the home's lock is not enough: the control room takes it first, then starts its
        // HTTP server and its panes, and may still fail (a port in use). Its `control_started`
        // entry says it got through.
        if let Some(pid) = status::control_room_pid(home)
            && has_started(home, pid)
        {
            return Ok(true);
        }
        // A pane that cannot be listed any more (its session or the tmux server ended) is as
        // dead as one tmux reports dead.
        let dead = match tmux.control_panes(&tag) {
            Ok(panes) => panes
                .into_iter()
                .find(|p| p.id == pane)
                .is_none_or(|p| p.dead),
            Err(e) => {
                tracing::warn!("listing the control pane: {e}");
                true
            }
        };
        if dead || Instant::now() >= end {
            let said = last_words(home, &tmux, &pane);
            if dead {
                let _ = tmux.kill_pane(&pane);
            }
            anyhow::bail!(
                "the control room did not start{}; it said:\n{}\nfix what it says, then run `brl up` again (or `brl up --no-tui` to see it in this terminal)",
                if dead { "" } else { " within 20 s" },
                said
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Has the control room `pid` logged `control_started`?
fn has_started(home: &Home, pid: u32) -> bool {
    let filter = crate::store::log::Filter {
        kind: Some("control_started".into()),
        session: None,
    };
    crate::store::log::tail(&home.log_path(), 3, &filter).is_ok_and(|t| {
        t.entries
            .iter()
            .any(|e| e.data["pid"].as_u64() == Some(u64::from(pid)))
    })
}

/// What a control room that did not start said: its pane's last lines, else (the pane is gone,
/// or it printed nothing) the end of its log file `logs/brl.log.<date>`. Never empty.
fn last_words(home: &Home, tmux: &Tmux, pane: &str) -> String {
    let screen = match tmux.capture(pane, 200) {
        // The pane is taller than what it printed: blank lines, and tmux's own "Pane is dead"
        // line (remain-on-exit), would push the words off the user's screen.
        Ok(text) => {
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim_end)
                .filter(|l| !l.is_empty() && !l.starts_with("Pane is dead"))
                .collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        }
        Err(e) => format!("(its pane {pane} cannot be read: {e})"),
    };
    if !screen.trim().is_empty() && !screen.starts_with("(its pane") {
        return screen;
    }
    match newest_log(home) {
        Some((path, tail)) if !tail.trim().is_empty() => format!(
            "{screen}\nthe end of {}:\n{}",
            path.display(),
            tail.trim_end()
        )
        .trim_start()
        .to_string(),
        _ => format!(
            "{}\n(nothing in {}/brl.log.* either; run `brl up --no-tui` to see it start)",
            if screen.is_empty() {
                "(its pane showed nothing)"
            } else {
                &screen
            },
            home.logs_dir().display()
        ),
    }
}

/// The newest `logs/brl.log.*` and its last 10 lines.
fn newest_log(home: &Home) -> Option<(std::path::PathBuf, String)> {
    let newest = std::fs::read_dir(home.logs_dir())
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            name.starts_with("brl.log")
                .then(|| Some((e.metadata().ok()?.modified().ok()?, e.path())))?
        })
        .max()?
        .1;
    let text = std::fs::read_to_string(&newest).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(10)..].join("\n");
    Some((newest, tail))
}

#[cfg(test)]
mod exit_tests {
    use super::running_now;

    #[test]
    fn the_exit_message_says_what_actually_runs() {
        assert_eq!(
            running_now(None, vec![], " (session brl)"),
            "No control room is running (see logs/brl.log.*); no worker is running."
        );
        assert_eq!(
            running_now(Some(7), vec!["s1".into(), "s2".into()], " (session brl)"),
            "The control room (pid 7) keeps scheduling; 2 workers (s1, s2) keep running in tmux (session brl)."
        );
    }
}
