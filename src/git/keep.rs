//! Judged commits stay inspectable: a discarded cycle's commits are kept under
//! `refs/brl/discarded/<cycle id>` (outside `refs/heads/`, so the `brl/*` branches stay exactly
//! the review queue) for `[checks] keep_discarded_days`, then pruned.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::{Ctx, Result, Target};

pub const DISCARDED_PREFIX: &str = "refs/brl/discarded/";

/// Where the commits of discarded cycle `cycle_id` are kept.
pub fn discarded_ref(cycle_id: &str) -> String {
    format!("{DISCARDED_PREFIX}{cycle_id}")
}

/// When cycle `id` started, read from the id itself (`20261204T101500.123Z-<pid>-<hex>`).
pub fn cycle_started(id: &str) -> Option<DateTime<Utc>> {
    let stamp = id.split('-').next()?;
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S%.3fZ")
        .ok()
        .map(|t| t.and_utc())
}

impl Target {
    /// Delete the kept commits of discarded cycles that started more than `days` days before
    /// `now`. Refs whose name does not carry a time are left alone. Returns the names deleted.
    pub fn prune_discarded(&self, days: u32, now: DateTime<Utc>) -> Result<Vec<String>> {
        let what = || format!("cannot list {DISCARDED_PREFIX}* in {}", self.path.display());
        let cutoff = now - chrono::Duration::days(i64::from(days));
        let mut old = Vec::new();
        for r in self
            .repo
            .references_glob(&format!("{DISCARDED_PREFIX}*"))
            .ctx(what)?
        {
            let r = r.ctx(what)?;
            let Some(name) = r.name() else { continue };
            let id = &name[DISCARDED_PREFIX.len()..];
            if cycle_started(id).is_some_and(|t| t < cutoff) {
                old.push(name.to_string());
            }
        }
        for name in &old {
            self.repo
                .find_reference(name)
                .and_then(|mut r| r.delete())
                .ctx(|| format!("cannot delete {name} in {}", self.path.display()))?;
        }
        Ok(old)
    }

    /// The commit a ref points at, if the ref exists.
    pub fn ref_target(&self, refname: &str) -> Option<git2::Oid> {
        self.repo
            .find_reference(refname)
            .ok()
            .and_then(|r| r.peel_to_commit().ok())
            .map(|c| c.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_id_carries_its_start() {
        let t = cycle_started("20261204T101500.123Z-42-00ff").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-04T10:15:00.123+00:00");
        assert_eq!(cycle_started("not-a-time"), None);
    }
}
