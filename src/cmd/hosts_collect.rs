//! `brl hosts collect`: one collection pass, in the foreground (the control room runs the same
//! pass every `[tmux] check_secs`).

use crate::home::Home;
use crate::hosts::collect;

pub fn run(home: &Home, only: Option<&str>) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    if let Some(name) = only
        && !config.hosts.iter().any(|h| h.name == name)
    {
        let known: Vec<&str> = config.hosts.iter().map(|h| h.name.as_str()).collect();
        anyhow::bail!(
            "there is no host `{name}` in {} (hosts: {})\n  fix: use one of the names of its [[hosts]] tables",
            home.config_path().display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
    }
    if config.hosts.is_empty() {
        crate::say!(
            "no [[hosts]] in {}: every session runs on this machine, nothing to collect",
            home.config_path().display()
        );
        return Ok(0);
    }
    let mut code = 0;
    for h in config
        .hosts
        .iter()
        .filter(|h| only.is_none_or(|n| n == h.name))
    {
        match collect::collect_host(home, &config, h) {
            Ok(r) => crate::say!("{}", r.summary()),
            Err(e) => {
                let state = crate::hosts::cursor::load(home, &h.name)
                    .map(|s| s.describe())
                    .unwrap_or_default();
                crate::say_err!("{}: {state}\n  {e:#}", h.name);
                code = 1;
            }
        }
    }
    Ok(code)
}
