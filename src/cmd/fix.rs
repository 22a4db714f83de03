//! `brl fix [<branch>] [--session <s>]`: one repair by the fixer, in the foreground.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::home::Home;
use crate::jobs::fix;
use crate::store::control::SessionControl;
use crate::store::log::{self, Filter};

pub fn run(home: &Home, branch: Option<&str>, session: Option<&str>) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    let stop = super::stop_flag()?;
    let branch = fix::pick(home, &config, branch)?;
    let free = |s: &str| !SessionControl::new(home, s).worker_alive().unwrap_or(true);
    let here = match session {
        Some(s) => {
            config.check_local_session(s)?;
            if !free(s) {
                anyhow::bail!(
                    "session {s} has a live worker (the control room's); leave --session out and a waiting worker runs the repair, or stop the workers (`brl down`)"
                );
            }
            Some(s.to_string())
        }
        None => config.session_names().into_iter().find(|s| free(s)),
    };
    let report = match here {
        Some(s) => {
            let echo = std::io::stdout().is_terminal();
            fix::run_one(home, &config, &s, &branch, echo, Some(&stop), None)?.data
        }
        None => {
            let started = Utc::now();
            let (s, branch) = fix::request(home, &config, Some(&branch))?;
            println!(
                "the repair of {branch} is handed to session {s}'s worker; waiting for its result (Ctrl-C stops waiting, not the repair)"
            );
            wait_for_result(home, &s, &branch, started, &stop)?
        }
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if report["ok"].as_bool() == Some(true) {
        0
    } else {
        1
    })
}

/// The `fix_result` entry of `branch` logged since `since`; an error when the worker dropped
/// the grant without one (it could not run the repair: its pane says why) or on Ctrl-C.
fn wait_for_result(
    home: &Home,
    session: &str,
    branch: &str,
    since: chrono::DateTime<Utc>,
    stop: &std::sync::atomic::AtomicBool,
) -> anyhow::Result<serde_json::Value> {
    let filter = Filter {
        kind: Some("fix_result".into()),
        session: None,
    };
    let sc = SessionControl::new(home, session);
    let mut gone_at: Option<Instant> = None;
    loop {
        let t = log::tail(&home.log_path(), 50, &filter)?;
        if let Some(e) = t
            .entries
            .into_iter()
            .rev()
            .find(|e| e.ts >= since && e.data["branch"] == branch)
        {
            return Ok(e.data);
        }
        if stop.load(Ordering::SeqCst) {
            anyhow::bail!("stopped waiting; the repair of {branch} goes on in session {session}");
        }
        let held = sc
            .load()
            .ok()
            .and_then(|c| c.grant)
            .is_some_and(|g| g.fix.as_deref() == Some(branch));
        match (held, gone_at) {
            (true, _) => gone_at = None,
            (false, None) => gone_at = Some(Instant::now()),
            (false, Some(t)) if t.elapsed() > Duration::from_secs(5) => anyhow::bail!(
                "session {session}'s worker ended the repair of {branch} without a result; its pane (`brl attach {session}`) says why"
            ),
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
