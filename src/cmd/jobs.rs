//! `brl review`, `brl standup`, `brl doctor`: one run of the job in the foreground.

use std::io::IsTerminal;

use crate::home::Home;
use crate::jobs::{self, Job};

pub fn run(home: &Home, job: Job) -> anyhow::Result<i32> {
    let config = home.load_config()?;
    let stop = super::stop_flag()?;
    let echo = std::io::stdout().is_terminal();
    let data = jobs::run(home, &config, job, echo, Some(&stop))?;
    crate::say!("{}", serde_json::to_string_pretty(&data)?);
    Ok(0)
}
