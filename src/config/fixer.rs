//! `[fixer]` of `brl.toml`: repair cycles (role `fix`, prompts/fix.md) for review-queue branches
//! that conflict with the current main or that a re-check found worse (`stale`).

use std::num::NonZeroU32;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixerConfig {
    /// The scheduler grants repair cycles by itself (`brl fix` and `POST /trigger/fix` work
    /// either way).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Repair cycles per branch before the fixer gives up (the entry stays, with a note).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: NonZeroU32,
    /// Seconds between two repair attempts on one branch granted by the scheduler; 0 = the
    /// scheduler grants none, only `brl fix`, `POST /trigger/fix` and the dashboard's key do.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
}

impl Default for FixerConfig {
    fn default() -> Self {
        FixerConfig {
            enabled: true,
            max_attempts: default_max_attempts(),
            interval_secs: default_interval(),
        }
    }
}

impl FixerConfig {
    /// Whether the scheduler grants repairs by itself, and the spacing between two attempts.
    pub fn scheduled(&self) -> Option<i64> {
        (self.enabled && self.interval_secs > 0).then_some(self.interval_secs as i64)
    }
}

fn yes() -> bool {
    true
}

fn default_max_attempts() -> NonZeroU32 {
    NonZeroU32::MIN.saturating_add(1)
}

fn default_interval() -> u64 {
    300
}

#[cfg(test)]
mod tests {
    use super::FixerConfig;

    #[test]
    fn defaults_scheduling_and_bad_values() {
        let d: FixerConfig = toml::from_str("").expect("empty section");
        assert!(d.enabled);
        assert_eq!(d.max_attempts.get(), 2);
        assert_eq!(d.scheduled(), Some(300));
        let on_demand: FixerConfig = toml::from_str("interval_secs = 0").expect("parses");
        assert_eq!(on_demand.scheduled(), None);
        let off: FixerConfig = toml::from_str("enabled = false").expect("parses");
        assert_eq!(off.scheduled(), None);
        let e = toml::from_str::<FixerConfig>("max_attempts = 0").expect_err("zero");
        assert!(e.to_string().contains("max_attempts"), "{e}");
        let e = toml::from_str::<FixerConfig>("attempts = 3").expect_err("unknown key");
        assert!(e.to_string().contains("attempts"), "{e}");
    }
}
