//! Unit tests of the tmux adapter's pure helpers; the real-tmux tests are in `tests/tmux.rs`.

use std::process::Command;

use super::run::{describe, esc, no_server};
use super::*;

fn line(fields: &[&str]) -> String {
    fields.join("\x1f")
}

#[test]
fn parses_live_and_dead_panes() {
    let live = line(&[
        "%3", "brl", "@1", "/h", "s1", "0", "", "4242", "sessions", "1",
    ]);
    let p = parse_pane(&live).unwrap();
    assert_eq!((p.id.as_str(), p.window_id.as_str()), ("%3", "@1"));
    assert_eq!((p.home.as_str(), p.session.as_str()), ("/h", "s1"));
    assert_eq!((p.dead, p.dead_status, p.pid), (false, None, Some(4242)));
    assert!(p.piped);
    let dead = line(&[
        "%4", "brl", "@1", "/h", "s2", "1", "3", "4243", "sessions", "0",
    ]);
    let p = parse_pane(&dead).unwrap();
    assert_eq!(
        (p.dead, p.dead_status, p.pid, p.piped),
        (true, Some(3), None, false)
    );
}

#[test]
fn malformed_lines_are_skipped() {
    for bad in [
        String::new(),
        "garbage".into(),
        line(&["%3", "brl", "@1", "/h", "s1", "0", "", "1", "w"]),
        line(&[
            "%3", "brl", "@1", "/h", "s1", "0", "", "1", "w", "0", "extra",
        ]),
        line(&["3", "brl", "@1", "/h", "s1", "0", "", "1", "w", "0"]),
    ] {
        assert_eq!(parse_pane(&bad), None, "{bad:?}");
    }
}

#[test]
fn trailing_semicolons_are_escaped() {
    assert_eq!(esc("a; b"), "a; b");
    assert_eq!(esc("echo hi;"), "echo hi\\;");
    assert_eq!(esc(";"), "\\;");
}

#[test]
fn no_server_messages_are_recognised() {
    assert!(no_server("no server running on /tmp/tmux-0/x"));
    assert!(no_server(
        "error connecting to /tmp/tmux-0/x (No such file or directory)"
    ));
    // A client that connected while the server was exiting (its last session just closed).
    assert!(no_server("server exited unexpectedly"));
    assert!(!no_server("can't find session: brl"));
}

#[test]
fn describe_quotes_what_needs_it() {
    let mut cmd = Command::new("tmux");
    cmd.args(["-L", "x", "new-session", "echo hi; it's"]);
    assert_eq!(describe(&cmd), r"tmux -L x new-session 'echo hi; it'\''s'");
    let mut cmd = Command::new("tmux");
    cmd.args(["list-panes", "-F", "#{pane_id}\x1f#{pane_pid}"]);
    assert_eq!(
        describe(&cmd),
        r"tmux list-panes -F '#{pane_id}\u{1f}#{pane_pid}'"
    );
}

#[test]
fn a_hosts_tmux_runs_through_its_ssh_and_attaches_with_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = crate::home::Home::new(dir.path());
    let h: crate::config::HostConfig =
        toml::from_str("name = \"box1\"\nssh = \"me@box1\"\nsessions = 1\nport = 2222\n")
            .expect("host");
    let ssh = crate::hosts::Ssh::new(&home, &h);
    let t = Tmux::remote("brl-x", ssh.clone());
    assert_eq!(t.host().map(|s| s.host.as_str()), Some("box1"));
    assert_ne!(
        t,
        Tmux::new(Some("brl-x")),
        "a host's server is not this machine's"
    );
    let cmd = t.attach_command("brl", Some("%3"));
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert_eq!(cmd.get_program(), "ssh");
    assert!(
        args.contains(&"-t".to_string()) && !args.contains(&"-T".to_string()),
        "{args:?}"
    );
    assert!(args.iter().any(|a| a == "me@box1"), "{args:?}");
    let line = args.last().expect("the remote line");
    assert!(
        line.starts_with("tmux -L brl-x") && line.ends_with("-t =brl") && line.contains("';'"),
        "{line}"
    );
}
