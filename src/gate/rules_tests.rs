//! The verdict's own rules: file tools, questions, `cd`, deny/allow, odd input.

use super::*;
use serde_json::{Value, json};

fn input(tool: &str, tool_input: Value) -> HookInput {
    HookInput {
        tool_name: tool.into(),
        tool_input,
        cwd: Some(PathBuf::from("/w/worktrees/s1")),
        session_id: None,
        hook_event_name: None,
    }
}

fn verdict(tool: &str, tool_input: Value) -> Verdict {
    check(
        &input(tool, tool_input),
        &Context::for_tests("/w/worktrees/s1"),
    )
}

fn blocked(cmd: &str) -> bool {
    matches!(
        verdict("Bash", json!({ "command": cmd })),
        Verdict::Block(_)
    )
}

#[test]
fn file_tools_stay_inside_the_worktree() {
    let ok = |tool: &str, key: &str, p: &str| {
        verdict(tool, json!({ key: p, "content": "x" })) == Verdict::Allow
    };
    assert!(ok("Write", "file_path", "/w/worktrees/s1/src/a.rs"));
    assert!(ok("Edit", "file_path", "src/a.rs"));
    assert!(ok("MultiEdit", "file_path", "/w/worktrees/s1/x/../y.rs"));
    assert!(ok(
        "NotebookEdit",
        "notebook_path",
        "/w/worktrees/s1/n.ipynb"
    ));
    assert!(!ok("Write", "file_path", "/etc/passwd"));
    assert!(!ok("Edit", "file_path", "../s2/src/a.rs"));
    assert!(!ok("Write", "file_path", "/w/worktrees/s1/../s2/a"));
    assert!(!ok("Write", "file_path", "~/.bashrc"));
    assert!(!ok("Write", "file_path", "/w/worktrees/s1/.git"));
    assert!(!ok("Write", "file_path", ".claude/settings.json"));
    assert!(!ok("Edit", "file_path", ".claude/settings.local.json"));
    assert!(!ok("NotebookEdit", "file_path", "/w/worktrees/s1/n.ipynb"));
    assert!(ok("Read", "file_path", "/etc/passwd"));
}

#[test]
fn ask_user_is_always_blocked() {
    match verdict("AskUserQuestion", json!({ "questions": [] })) {
        Verdict::Block(b) => assert!(b.reason.contains("nobody is there"), "{b:?}"),
        v => panic!("{v:?}"),
    }
}

#[test]
fn cd_is_followed() {
    assert!(blocked("cd .. && rm -rf s2"));
    assert!(blocked("cd /tmp; rm -rf build"));
    assert!(!blocked("cd src && rm -rf gen"));
    assert!(blocked("cd \"$X\" && rm -rf build"));
    assert!(!blocked("(cd /tmp && ls) ; rm -rf build"));
}

#[test]
fn deny_beats_allow_and_allow_beats_builtins() {
    let mut ctx = Context::for_tests("/w/worktrees/s1");
    ctx.allow = vec![Regex::new(r"^git push --force origin brl/").expect("re")];
    ctx.deny = vec![Regex::new(r"^cargo publish").expect("re")];
    let v = |cmd: &str, ctx: &Context| check(&input("Bash", json!({ "command": cmd })), ctx);
    assert_eq!(v("git push --force origin brl/s1/x", &ctx), Verdict::Allow);
    assert!(matches!(
        v("git push --force origin main", &ctx),
        Verdict::Block(_)
    ));
    assert!(
        matches!(v("FOO=1 cargo publish --dry-run", &ctx), Verdict::Block(b) if b.rule == "deny")
    );
    ctx.allow.push(Regex::new("cargo").expect("re"));
    assert!(matches!(v("cargo publish", &ctx), Verdict::Block(b) if b.rule == "deny"));
    // An allowed outer command does not cover its nested script.
    ctx.allow = vec![Regex::new("^bash -c").expect("re")];
    assert!(matches!(
        v("bash -c 'git reset --hard'", &ctx),
        Verdict::Block(_)
    ));
}

#[test]
fn random_shell_like_input_never_panics() {
    let pieces = [
        "rm", " -rf ", "/", "~", "..", "$", "(", ")", "`", "'", "\"", "\\", "<<", "EOF", "\n", "|",
        "&&", ";", "{", "}", "$HOME", "git push", " -f", "*", "@", "=", "é", "<(", "#", "cd ",
        "sh -c ", "xargs ", "find ", "-exec", "<<<", ">", "2>&1", "\t", "${", ":+",
    ];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let ctx = Context::for_tests("/w/worktrees/s1");
    for _ in 0..3000 {
        let mut cmd = String::new();
        for _ in 0..(x % 24) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cmd.push_str(pieces[(x % pieces.len() as u64) as usize]);
        }
        for v in [
            check(&input("Bash", json!({ "command": cmd })), &ctx),
            check(&input("Write", json!({ "file_path": cmd })), &ctx),
        ] {
            if let Verdict::Block(b) = v {
                assert!(!b.rule.is_empty() && !b.reason.is_empty(), "{cmd:?}: {b:?}");
            }
        }
    }
}

#[test]
fn deep_nesting_is_blocked() {
    let mut cmd = "ls".to_string();
    for _ in 0..20 {
        cmd = format!("echo $({cmd})");
    }
    assert!(blocked(&cmd));
    assert!(!blocked("echo $(echo $(echo $(ls)))"));
}

#[test]
fn what_cannot_be_parsed_is_blocked_with_the_parsers_reason() {
    for cmd in [
        "echo 'unterminated",
        "ls )",
        "if true; then ls",
        "bash -c 'echo \"open'",
        "sh -c \"$(printf '%s' \\\"x\\\")\" )",
    ] {
        match verdict("Bash", json!({ "command": cmd })) {
            Verdict::Block(b) => {
                assert_eq!(b.rule, "unparsable", "{cmd}");
                assert!(b.reason.contains("bash would not run this"), "{}", b.reason);
            }
            v => panic!("{cmd}: {v:?}"),
        }
    }
    let deep = format!("echo {}x{}", "$(".repeat(60), ")".repeat(60));
    match verdict("Bash", json!({ "command": deep })) {
        Verdict::Block(b) => assert!(b.reason.contains("nested"), "{}", b.reason),
        v => panic!("{v:?}"),
    }
}
