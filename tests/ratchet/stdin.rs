//! An agent that never reads its prompt (`true`, a CLI that is not installed, a script that
//! ignores stdin) must not take `brl cycle` down with it: writing the prompt into a pipe nobody
//! reads any more is not a reason for brl to die of SIGPIPE with its cycle half done.

use crate::common::{World, git};

#[test]
fn an_agent_that_ignores_its_prompt_does_not_kill_brl_cycle() {
    use std::os::unix::process::ExitStatusExt;
    let w = World::new(1);
    // A prompt larger than a pipe's buffer: the write cannot finish before `true` exits.
    let context = "Context: fix ERR lines.\n".repeat(10_000);
    std::fs::write(w.repo.join("AGENTS.md"), &context).expect("write");
    git(&w.repo, &["commit", "-q", "-am", "a long context file"]);
    w.write_config(1, "true", 20, "\n[prompt]\ncontext_max_bytes = 400000\n");
    let out = w
        .brl()
        .args(["cycle", "s1", "--quiet"])
        .output()
        .expect("brl runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "brl cycle ended by signal {:?}: {}",
        out.status.signal(),
        String::from_utf8_lossy(&out.stderr)
    );
    let cycles = w.cycles();
    assert_eq!(cycles.len(), 1, "the cycle is recorded");
    assert_eq!(cycles[0]["data"]["outcome"], "no_change", "{}", cycles[0]);
}
