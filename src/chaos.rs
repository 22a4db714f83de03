//! Named crash points for the chaos harness (`tests/chaos.rs`). When the environment variable
//! `BRL_CHAOS_STOP` names a point (a comma-separated list of names), the process stops itself
//! there with SIGSTOP, so the harness can see it stopped (`T` in `/proc/<pid>/stat`) and SIGKILL it
//! at exactly that instant. Without the variable a point costs one cached lookup and does nothing.
//!
//! Points are named `<operation>:<instant>`, e.g. `approve:after-checkout`; every point in the code
//! is listed in [`POINTS`] so the harness can check that the one it targets exists.

use std::sync::OnceLock;

/// The environment variable the harness sets.
pub const ENV: &str = "BRL_CHAOS_STOP";

/// Every crash point in brl, so the harness (and a typo) can be checked against the code.
pub const POINTS: &[&str] = &[
    // A cycle (src/cycle, src/proc), in order.
    "cycle:after-branch",         // its branch exists, nothing checked out yet
    "cycle:after-agent-spawn",    // the agent's process exists; its group may not be recorded yet
    "cycle:after-agent-recorded", // the agent's group is recorded; the agent may now run
    "cycle:before-leftover-commit",
    "cycle:after-leftover-commit",
    "cycle:before-log", // decided and the branch settled, the entry not yet appended
    "cycle:after-log",  // logged, the in-flight marker not yet cleared
    // Approve (src/decision), in order.
    "approve:after-journal",
    "approve:after-merge-commit", // the merge commit exists, main not moved
    "approve:after-ref",          // main moved, the queue not yet updated
    "approve:after-queue",
    "approve:after-log",
    "approve:inside-checkout", // the user's checked-out main half updated
    "approve:after-checkout",
    // Reject.
    "reject:after-journal",
    "reject:after-delete",
    // Collecting a host's records (src/hosts/collect.rs).
    "collect:after-fetch", // the chunk's kept branches fetched, nothing queued or appended yet
    "collect:after-append", // an entry appended to the central log, the cursor not yet saved
];

fn wanted() -> &'static [String] {
    static WANTED: OnceLock<Vec<String>> = OnceLock::new();
    WANTED.get_or_init(|| {
        std::env::var(ENV)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// A crash point: stop here (SIGSTOP to ourselves) when the harness asked for `name`.
pub fn point(name: &str) {
    debug_assert!(
        POINTS.contains(&name),
        "crash point {name} is not listed in chaos::POINTS"
    );
    if wanted().iter().any(|w| w == name) {
        // SAFETY: raise only sends a signal to this process.
        unsafe {
            libc::raise(libc::SIGSTOP);
        }
    }
}
