//! `brl pause|resume [<session>]`, `brl stop <session>`, `brl restart <session>`: thin drivers
//! over [`crate::control::ops`].

use crate::control::ops::{self, By};
use crate::home::Home;

fn checked(home: &Home, session: Option<&str>) -> anyhow::Result<()> {
    if let Some(s) = session {
        home.load_config()?.check_session(s)?;
    }
    Ok(())
}

pub fn pause(home: &Home, session: Option<&str>) -> anyhow::Result<i32> {
    checked(home, session)?;
    crate::say!("{}", ops::pause(home, session, By::Cli)?);
    Ok(0)
}

pub fn resume(home: &Home, session: Option<&str>) -> anyhow::Result<i32> {
    checked(home, session)?;
    crate::say!("{}", ops::resume(home, session, By::Cli)?);
    Ok(0)
}

pub fn stop(home: &Home, session: &str) -> anyhow::Result<i32> {
    checked(home, Some(session))?;
    crate::say!("{}", ops::stop(home, session, By::Cli)?);
    Ok(0)
}

pub fn restart(home: &Home, session: &str) -> anyhow::Result<i32> {
    checked(home, Some(session))?;
    crate::say!("{}", ops::restart(home, session, By::Cli)?);
    Ok(0)
}
