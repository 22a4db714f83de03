//! A session that cannot be repaired is **blocked**, never a silent loop of `error`: the reason
//! goes into its control file (shown by `brl status` and the dashboard) and, when it is news, into
//! a `session_blocked` log entry (which notifies). The first cycle that gets past the repair lifts
//! it, with a `session_unblocked` entry.

use serde_json::json;

use crate::home::Home;
use crate::store::control::SessionControl;
use crate::store::log::{self, Entry};

/// Mark `session` blocked for `reason` (an entry only when this is news).
pub fn set(home: &Home, session: &str, reason: &str) {
    let news = match SessionControl::new(home, session).set_blocked(reason) {
        Ok(news) => news,
        Err(e) => {
            crate::say_err!("{session}: cannot record that the session is blocked: {e}");
            true
        }
    };
    if news {
        let entry = Entry::new(
            "session_blocked",
            Some(session),
            json!({ "reason": reason }),
        );
        log::append_or_report(&home.log_path(), &entry);
    }
    crate::say_err!("{session}: BLOCKED: {reason}");
}

/// The session got past its repair: lift a block, if there was one.
pub fn clear(home: &Home, session: &str) {
    match SessionControl::new(home, session).clear_blocked() {
        Ok(Some(b)) => {
            let entry = Entry::new(
                "session_unblocked",
                Some(session),
                json!({ "was": b.reason, "since": b.since }),
            );
            log::append_or_report(&home.log_path(), &entry);
        }
        Ok(None) => {}
        Err(e) => crate::say_err!("{session}: cannot clear the blocked state: {e}"),
    }
}
