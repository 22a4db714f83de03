//! Memory figures for the RAM gate, from sysinfo; where a cgroup limit is tighter than the host
//! (a container, a systemd slice), the cgroup's figures count.

use serde::Serialize;

/// Used and total memory, in bytes, and where the figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Memory {
    pub used: u64,
    pub total: u64,
    /// `host` or `cgroup`.
    pub source: &'static str,
}

impl Memory {
    /// Used memory in percent of the total (0 when the total is unknown).
    pub fn used_percent(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.used as f64 * 100.0 / self.total as f64
        }
    }

    /// [`Memory::used_percent`] to one decimal, as shown and logged.
    pub fn used_percent_rounded(&self) -> f64 {
        (self.used_percent() * 10.0).round() / 10.0
    }

    /// The tighter of the host's and the cgroup's figures. `host_available` counts reclaimable
    /// caches as free, as the kernel's MemAvailable does.
    pub fn pick(host_total: u64, host_available: u64, cgroup: Option<(u64, u64)>) -> Memory {
        match cgroup {
            Some((total, free)) if total > 0 && total < host_total => Memory {
                used: total.saturating_sub(free),
                total,
                source: "cgroup",
            },
            _ => Memory {
                used: host_total.saturating_sub(host_available),
                total: host_total,
                source: "host",
            },
        }
    }
}

/// Reads memory figures; keeps sysinfo's state between reads (only memory is refreshed).
pub struct MemoryReader {
    sys: sysinfo::System,
}

impl Default for MemoryReader {
    fn default() -> Self {
        MemoryReader {
            sys: sysinfo::System::new(),
        }
    }
}

impl MemoryReader {
    /// The current figures; `None` when the system reports no memory at all.
    pub fn read(&mut self) -> Option<Memory> {
        self.sys.refresh_memory();
        let total = self.sys.total_memory();
        if total == 0 {
            return None;
        }
        let cgroup = self
            .sys
            .cgroup_limits()
            .map(|c| (c.total_memory, c.free_memory));
        Some(Memory::pick(total, self.sys.available_memory(), cgroup))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tighter_limit_counts() {
        let gib = 1 << 30;
        let host = Memory::pick(24 * gib, 20 * gib, None);
        assert_eq!(
            (host.used, host.total, host.source),
            (4 * gib, 24 * gib, "host")
        );
        let cg = Memory::pick(24 * gib, 20 * gib, Some((2 * gib, gib / 2)));
        assert_eq!(cg.source, "cgroup");
        assert!((cg.used_percent() - 75.0).abs() < 0.01);
        // A cgroup "limit" above the host's memory is no limit.
        assert_eq!(
            Memory::pick(24 * gib, 20 * gib, Some((64 * gib, 60 * gib))).source,
            "host"
        );
    }

    #[test]
    fn reads_this_machine() {
        let m = MemoryReader::default()
            .read()
            .expect("memory figures on Linux");
        assert!(m.total > 0 && m.used <= m.total, "{m:?}");
    }
}
