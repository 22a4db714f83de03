//! The flood guard (pure): at most `max` commands per sender in any 60 s; past it, the sender's
//! commands are ignored until the window has room again, and only the first refused one in a
//! window is answered (and logged), so a flood costs one message and one log entry a minute.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The window of the limit.
pub const WINDOW: Duration = Duration::from_secs(60);

/// What to do with a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Take,
    /// The first refused one in this window: answer that the rest of the minute is ignored.
    RefuseAndSay,
    RefuseQuietly,
}

#[derive(Default)]
pub struct Flood {
    seen: HashMap<String, (VecDeque<Instant>, bool)>,
}

impl Flood {
    pub fn check(&mut self, sender: &str, max: u32, now: Instant) -> Verdict {
        let (times, told) = self.seen.entry(sender.to_string()).or_default();
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
        {
            times.pop_front();
        }
        if times.len() < max as usize {
            times.push_back(now);
            *told = false;
            return Verdict::Take;
        }
        if *told {
            Verdict::RefuseQuietly
        } else {
            *told = true;
            Verdict::RefuseAndSay
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_and_answered_once_per_window() {
        let mut f = Flood::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(f.check("u1", 3, t0), Verdict::Take);
        }
        assert_eq!(f.check("u1", 3, t0), Verdict::RefuseAndSay);
        assert_eq!(f.check("u1", 3, t0), Verdict::RefuseQuietly);
        assert_eq!(f.check("u2", 3, t0), Verdict::Take, "per sender");
        let later = t0 + WINDOW;
        assert_eq!(f.check("u1", 3, later), Verdict::Take);
    }
}
