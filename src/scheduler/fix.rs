//! Which review-queue branches the fixer repairs next: a pure function of the queue, the
//! branches being repaired now and the `[fixer]` settings — tested without git or a clock.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::store::queue::{QueueEntry, Status};

/// Why an entry is not repaired now (or `None`: it may be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotNow {
    /// Neither `conflict` nor `stale`.
    NotBroken,
    /// `[fixer] max_attempts` repairs were tried.
    OutOfAttempts { attempts: u32 },
    /// A repair of it runs (its lock is held, or a session holds a grant for it).
    Busy,
    /// Its last attempt ended less than `[fixer] interval_secs` ago.
    TooSoon { wait_secs: i64 },
}

/// Whether `e` may get a repair cycle now. `retry_secs` spaces two attempts on one branch
/// (`None`: no spacing, as for `brl fix`).
pub fn eligible(
    e: &QueueEntry,
    max_attempts: u32,
    busy: &BTreeSet<String>,
    retry_secs: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), NotNow> {
    if !matches!(e.status, Status::Conflict | Status::Stale) {
        return Err(NotNow::NotBroken);
    }
    let attempts = e.fix.as_ref().map_or(0, |f| f.attempts);
    if attempts >= max_attempts {
        return Err(NotNow::OutOfAttempts { attempts });
    }
    if busy.contains(&e.branch) {
        return Err(NotNow::Busy);
    }
    if let (Some(secs), Some(last)) = (retry_secs, e.fix.as_ref().and_then(|f| f.last_at)) {
        let since = (now - last).num_seconds();
        if since < secs {
            return Err(NotNow::TooSoon {
                wait_secs: secs - since,
            });
        }
    }
    Ok(())
}

/// The branches to repair now, first first: fewest attempts so far, then the oldest entry (the
/// one a person has waited on longest), then by name.
pub fn order(
    entries: &[QueueEntry],
    max_attempts: u32,
    busy: &BTreeSet<String>,
    retry_secs: Option<i64>,
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut ok: Vec<&QueueEntry> = entries
        .iter()
        .filter(|e| eligible(e, max_attempts, busy, retry_secs, now).is_ok())
        .collect();
    ok.sort_by(|a, b| {
        let n = |e: &QueueEntry| e.fix.as_ref().map_or(0, |f| f.attempts);
        n(a).cmp(&n(b))
            .then(a.created.cmp(&b.created))
            .then(a.branch.cmp(&b.branch))
    });
    ok.into_iter().map(|e| e.branch.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Counts;
    use crate::store::queue::Fix;

    fn e(branch: &str, status: Status, created: &str, fix: Option<Fix>) -> QueueEntry {
        QueueEntry {
            branch: branch.into(),
            session: "s1".into(),
            status,
            created: created.parse().expect("ts"),
            before: Counts::default(),
            after: Counts::default(),
            reason: String::new(),
            base: String::new(),
            head: String::new(),
            commits: 1,
            subject: String::new(),
            decided: None,
            decision_reason: None,
            merged_as: None,
            conflict_files: vec![],
            cycle_id: None,
            review: None,
            fix,
            group: None,
            twin_of: None,
            superseded_by: None,
        }
    }

    fn tried(n: u32, at: &str) -> Option<Fix> {
        Some(Fix {
            attempts: n,
            last_at: Some(at.parse().expect("ts")),
            ..Fix::default()
        })
    }

    const NOW: &str = "2026-12-04T22:00:00Z";

    #[test]
    fn only_conflict_and_stale_fewest_attempts_then_oldest() {
        let q = [
            e("a", Status::Pending, "2026-12-04T10:00:00Z", None),
            e("b", Status::Stale, "2026-12-04T12:00:00Z", None),
            e(
                "c",
                Status::Conflict,
                "2026-12-04T11:00:00Z",
                tried(1, "2026-12-04T20:00:00Z"),
            ),
            e("d", Status::Conflict, "2026-12-04T13:00:00Z", None),
            e("e", Status::Approved, "2026-12-04T09:00:00Z", None),
            e("f", Status::Rejected, "2026-12-04T09:00:00Z", None),
        ];
        let now = NOW.parse().expect("ts");
        let got = order(&q, 2, &BTreeSet::new(), Some(600), now);
        assert_eq!(got, vec!["b", "d", "c"]);
    }

    #[test]
    fn out_of_attempts_busy_and_too_soon_are_left_out() {
        let now: DateTime<Utc> = NOW.parse().expect("ts");
        let spent = e(
            "x",
            Status::Conflict,
            "2026-12-04T10:00:00Z",
            tried(2, "2026-12-04T11:00:00Z"),
        );
        assert_eq!(
            eligible(&spent, 2, &BTreeSet::new(), None, now),
            Err(NotNow::OutOfAttempts { attempts: 2 })
        );
        let busy: BTreeSet<String> = ["y".to_string()].into();
        let y = e("y", Status::Stale, "2026-12-04T10:00:00Z", None);
        assert_eq!(eligible(&y, 2, &busy, None, now), Err(NotNow::Busy));
        let recent = e(
            "z",
            Status::Conflict,
            "2026-12-04T10:00:00Z",
            tried(1, "2026-12-04T21:58:00Z"),
        );
        assert_eq!(
            eligible(&recent, 2, &BTreeSet::new(), Some(600), now),
            Err(NotNow::TooSoon { wait_secs: 480 })
        );
        // `brl fix` does not wait for the spacing.
        assert_eq!(eligible(&recent, 2, &BTreeSet::new(), None, now), Ok(()));
        let pending = e("p", Status::Pending, "2026-12-04T10:00:00Z", None);
        assert_eq!(
            eligible(&pending, 2, &BTreeSet::new(), None, now),
            Err(NotNow::NotBroken)
        );
        assert!(order(&[spent, y, recent], 2, &busy, Some(600), now).is_empty());
    }
}
