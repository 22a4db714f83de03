//! Decisions waiting for their `yes`, `logs/chat-confirmations.json`: one per asker (channel and
//! user), replaced by a newer ask, gone once taken or expired ([`super::CONFIRM_FOR`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::home::Home;
use crate::store::state::{StateError, StateFile};

const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Pending {
    /// Who must say yes: `telegram:<chat>:<user id>` or `http:<user>`.
    pub who: String,
    /// `approve` or `reject`.
    pub op: String,
    pub number: u64,
    pub branch: String,
    #[serde(default)]
    pub reason: Option<String>,
    pub expires: DateTime<Utc>,
}

#[derive(Default, Serialize, Deserialize)]
struct ConfirmFile {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    pending: Vec<Pending>,
}

fn file(home: &Home) -> StateFile {
    StateFile {
        path: home.logs_dir().join("chat-confirmations.json"),
        what: "chat confirmations file",
        version: VERSION,
        hint: " (a pending /approve or /reject is then asked again)",
    }
}

/// Store `p`, replacing what its asker had pending.
pub(super) fn ask(home: &Home, p: Pending) -> Result<(), StateError> {
    file(home).update(ConfirmFile::default, |f| {
        let now = Utc::now();
        f.pending.retain(|q| q.who != p.who && q.expires > now);
        f.pending.push(p);
        Ok(())
    })
}

/// Take what `who` has pending (removed whether it expired or not); `None` when nothing waits or
/// it expired.
pub(super) fn take(
    home: &Home,
    who: &str,
    now: DateTime<Utc>,
) -> Result<Option<Pending>, StateError> {
    file(home).update(ConfirmFile::default, |f| {
        let mine = f.pending.iter().position(|q| q.who == who);
        let p = mine.map(|i| f.pending.remove(i));
        f.pending.retain(|q| q.expires > now);
        Ok(p.filter(|p| p.expires > now))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_asker_takes_it_and_only_once_and_in_time() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        let now = Utc::now();
        let p = |who: &str, secs: i64| Pending {
            who: who.into(),
            op: "approve".into(),
            number: 3,
            branch: "brl/s1/x".into(),
            reason: None,
            expires: now + chrono::Duration::seconds(secs),
        };
        ask(&home, p("telegram:1:7", 300)).expect("ask");
        assert_eq!(take(&home, "telegram:1:8", now).expect("take"), None);
        assert_eq!(
            take(&home, "telegram:1:7", now).expect("take"),
            Some(p("telegram:1:7", 300))
        );
        assert_eq!(take(&home, "telegram:1:7", now).expect("take"), None);
        ask(&home, p("http:ci", 300)).expect("ask");
        let later = now + chrono::Duration::seconds(301);
        assert_eq!(
            take(&home, "http:ci", later).expect("take"),
            None,
            "expired"
        );
    }
}
