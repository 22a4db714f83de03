//! Nothing hostile reaches the operator's terminal through the CLI: an agent's output, commit
//! subject and diff, a log value and a task title (written into tasks.json by hand) that carry
//! escape sequences are printed escaped — no raw ESC (or 8-bit CSI) in stdout — and the agent's
//! colours survive on its echo.

mod common;

use common::{World, agent};

/// No raw ESC, no 8-bit CSI (U+009B as UTF-8), no BEL in `bytes`.
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(!bytes.contains(&0x1b), "raw ESC in {what}: {text:?}");
    assert!(!bytes.contains(&0x07), "raw BEL in {what}: {text:?}");
    assert!(
        !bytes.windows(2).any(|w| w == [0xc2, 0x9b]),
        "raw 8-bit CSI in {what}: {text:?}"
    );
}

fn stdout(w: &World, args: &[&str]) -> Vec<u8> {
    let out = w.brl().args(args).output().expect("brl runs");
    assert!(
        out.status.success(),
        "brl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn a_hostile_agent_cannot_repaint_the_terminal() {
    let w = World::new(1);
    w.write_config(1, &agent("sandbox-escapes.sh"), 20, "");
    // The cycle echoes the agent's output: the colour stays, the rest is gone.
    let echo = stdout(&w, &["cycle", "s1"]);
    let text = String::from_utf8_lossy(&echo);
    assert!(
        text.contains("\x1b[32mgreen ok\x1b[0m"),
        "colour kept: {text:?}"
    );
    for bad in ["\x1b[2J", "\x1b[H", "\x1b]0;", "\x1b[5A", "\x07"] {
        assert!(
            !text.contains(bad),
            "{bad:?} reached the terminal: {text:?}"
        );
    }
    assert!(text.contains("up"), "{text:?}");
    let e = w.cycles().pop().expect("a cycle");
    assert_eq!(e["data"]["outcome"], "kept", "{e}");
    let branch = e["data"]["branch"].as_str().expect("branch").to_string();

    // The commit subject in the queue, the diff body, the log: escaped.
    let list = stdout(&w, &["queue", "list"]);
    assert_inert("queue list", &list);
    assert!(String::from_utf8_lossy(&list).contains(&branch));
    let diff = stdout(&w, &["queue", "diff", &branch]);
    assert_inert("queue diff", &diff);
    assert!(String::from_utf8_lossy(&diff).contains("+evil \\e[2J\\e]0;title\\x07 line"));
    assert_inert("log", &stdout(&w, &["log"]));
    assert_inert("status", &stdout(&w, &["status"]));
}

#[test]
fn log_values_and_task_titles_are_printed_escaped() {
    let w = World::new(1);
    let data = r#"{"reason": "a\u001b]0;pwned\u0007b \u009b2J c\u007f \u202eevil"}"#;
    stdout(&w, &["emit", "note", "--data", data]);
    let log = stdout(&w, &["log"]);
    assert_inert("log", &log);
    let log = String::from_utf8_lossy(&log);
    assert!(
        log.contains("\\x9b2J") && log.contains("\\u{202e}evil"),
        "{log}"
    );

    // The CLI refuses such a title; one written into tasks.json by hand is shown escaped.
    let (code, _, err) = w.run(&["task", "add", "x\x1b[2Jy"]);
    assert_ne!(code, 0, "a title with ESC is refused");
    assert!(err.contains("title"), "{err}");
    stdout(&w, &["task", "add", "plain title"]);
    let path = w.home.join("logs/tasks.json");
    let text = std::fs::read_to_string(&path).expect("tasks.json");
    std::fs::write(
        &path,
        text.replace("plain title", "plain \\u001b[2J\\u001b]0;t\\u0007 title"),
    )
    .expect("write");
    let (code, out, err) = w.run(&["task", "list"]);
    assert_eq!(code, 0, "{err}");
    assert_inert("task list", out.as_bytes());
    assert!(out.contains("plain \\e[2J\\e]0;t\\x07 title"), "{out}");
    let (_, out, err) = w.run(&["status"]);
    assert_inert("status", out.as_bytes());
    assert_inert("status errors", err.as_bytes());
}
