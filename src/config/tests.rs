//! brl.toml read, checked and explained: what parses, what fails and what the message says.

use super::*;

const GOOD: &str = r#"
repo = "../app"
sessions = 2

[agent]
command = "claude -p"

[checks.typecheck]
command = "npx tsc --noEmit"
parser = "tsc"

[checks.test]
command = "sh test.sh"
parser = "regex"
failures = "^FAIL"
passed = "^ok"
"#;

fn err(text: &str) -> String {
    Config::parse(Path::new("/h/brl.toml"), text)
        .expect_err("should fail")
        .to_string()
}

#[test]
fn good_config_parses_with_defaults() {
    let c = Config::parse(Path::new("brl.toml"), GOOD).expect("valid");
    assert_eq!(c.main, "main");
    assert_eq!(c.sessions.get(), 2);
    assert_eq!(c.agent.timeout_secs.get(), 1800);
    assert_eq!(c.checks.max_parallel_typechecks.get(), 2);
    assert_eq!(c.session_names(), vec!["s1", "s2"]);
    assert!(c.check_session("s3").is_err());
}

#[test]
fn unknown_key_names_line_key_and_valid_keys() {
    let text = GOOD.replace("command = \"claude -p\"", "comand = \"claude -p\"");
    let m = err(&text);
    assert!(m.contains("/h/brl.toml"), "{m}");
    assert!(m.contains("line 6"), "{m}");
    assert!(m.contains("`agent.comand`"), "{m}");
    assert!(m.contains("unknown field"), "{m}");
    assert!(m.contains("fix:"), "{m}");
}

#[test]
fn wrong_type_names_key() {
    let m = err(&GOOD.replace("sessions = 2", "sessions = \"two\""));
    assert!(m.contains("line 3") && m.contains("`sessions`"), "{m}");
    let m = err(&GOOD.replace("sessions = 2", "sessions = 0"));
    assert!(m.contains("`sessions`") && m.contains("nonzero"), "{m}");
}

#[test]
fn unknown_parser_lists_choices() {
    let m = err(&GOOD.replace("parser = \"tsc\"", "parser = \"tsx\""));
    assert!(
        m.contains("line 10") && m.contains("checks.typecheck.parser"),
        "{m}"
    );
    assert!(m.contains("vitest"), "{m}");
}

#[test]
fn regex_parser_needs_patterns_and_valid_regex() {
    let m = err(&GOOD.replace("passed = \"^ok\"\n", ""));
    assert!(
        m.contains("checks.test.passed") && m.contains("regex"),
        "{m}"
    );
    let m = err(&GOOD.replace("\"^FAIL\"", "\"(unclosed\""));
    assert!(
        m.contains("checks.test.failures") && m.contains("regular expression"),
        "{m}"
    );
}

#[test]
fn parser_must_fit_the_check() {
    let m = err(&GOOD.replace("parser = \"tsc\"", "parser = \"vitest\""));
    assert!(
        m.contains("checks.typecheck.parser") && m.contains("tsc"),
        "{m}"
    );
}

#[test]
fn control_room_sections_are_checked() {
    let c = Config::parse(Path::new("brl.toml"), GOOD).expect("valid");
    assert_eq!(c.scheduler.interval_secs.get(), 300);
    assert_eq!(c.scheduler.max_ram_percent, 85);
    assert!(c.tmux.session.starts_with("brl-"), "{}", c.tmux.session);
    assert!(c.tmux.session_derived && c.server.listen_derived);
    let m = err(&format!("{GOOD}\n[scheduler]\nmax_ram_percent = 150\n"));
    assert!(
        m.contains("scheduler.max_ram_percent") && m.contains("1 to 100"),
        "{m}"
    );
    let m = err(&format!("{GOOD}\n[server]\nlisten = \"localhost\"\n"));
    assert!(m.contains("server.listen"), "{m}");
    let m = err(&format!("{GOOD}\n[tmux]\nsession = \"a:b\"\n"));
    assert!(m.contains("tmux.session"), "{m}");
    let m = err(&format!("{GOOD}\n[tmux]\nlayout = \"../x\"\n"));
    assert!(m.contains("tmux.layout"), "{m}");
}

#[test]
fn session_and_port_come_from_the_home_unless_written() {
    let a = Config::parse(Path::new("/srv/a b.home/brl.toml"), GOOD).expect("valid");
    let b = Config::parse(Path::new("/srv/other/brl.toml"), GOOD).expect("valid");
    // Two homes: different sessions and ports; the same home: the same ones every time.
    assert_ne!(a.tmux.session, b.tmux.session);
    assert_ne!(a.server.listen, b.server.listen);
    let again = Config::parse(Path::new("/srv/a b.home/brl.toml"), GOOD).expect("valid");
    assert_eq!(
        (&a.tmux.session, a.server.listen),
        (&again.tmux.session, again.server.listen)
    );
    // Readable and a valid tmux session name (no `.`, `:` or blanks).
    assert!(
        a.tmux.session.starts_with("brl-a-b-home-"),
        "{}",
        a.tmux.session
    );
    assert!(
        b.tmux.session.starts_with("brl-other-"),
        "{}",
        b.tmux.session
    );
    for c in [&a, &b] {
        assert!(c.server.listen.ip().is_loopback());
        let port = c.server.listen.port();
        assert!((20000..30000).contains(&port), "{port}");
    }
    // Written values are kept as written, in any home.
    let text =
        format!("{GOOD}\n[tmux]\nsession = \"brl\"\n[server]\nlisten = \"127.0.0.1:7878\"\n");
    let c = Config::parse(Path::new("/srv/other/brl.toml"), &text).expect("valid");
    assert_eq!(c.tmux.session, "brl");
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:7878");
    assert!(!c.tmux.session_derived && !c.server.listen_derived);
    // An empty session written out is an error, not silently derived.
    let m = err(&format!("{GOOD}\n[tmux]\nsession = \"\"\n"));
    assert!(m.contains("tmux.session"), "{m}");
    // The root directory still gives a usable name.
    let root = Config::parse(Path::new("/brl.toml"), GOOD).expect("valid");
    assert!(
        root.tmux.session.starts_with("brl-"),
        "{}",
        root.tmux.session
    );
}

#[test]
fn missing_required_and_syntax_errors() {
    let m = err("sessions = 2\n[agent]\ncommand = \"x\"\n");
    assert!(m.contains("missing field `repo`"), "{m}");
    let m = err("repo = \"x\"\n[agent\ncommand = 1\n");
    assert!(m.contains("line 2"), "{m}");
    let m = err("repo = \"x\"\n[agent]\ncommand = \"  \"\n");
    assert!(m.contains("agent.command") && m.contains("line 3"), "{m}");
}

#[test]
fn fleet_sessions_are_known_to_the_faces_and_local_ones_to_workers() {
    let text = format!("{GOOD}\n[[hosts]]\nname = \"a\"\nssh = \"me@a.example\"\nsessions = 2\n");
    let c = Config::parse(Path::new("brl.toml"), &text).expect("valid");
    c.check_session("a-s2")
        .expect("a host's session is the fleet's");
    c.check_session("s1").expect("a local session");
    let m = c.check_session("a-s3").expect_err("unknown").to_string();
    assert!(
        m.contains("s1..s2") && m.contains("a-s1..a-s2 on host `a`"),
        "{m}"
    );
    assert_eq!(c.host_of("a-s1").map(|h| h.name.as_str()), Some("a"));
    assert!(c.host_of("s1").is_none());
    // A worker or a cycle of a host's session never runs in this home.
    let m = c
        .check_local_session("a-s1")
        .expect_err("on a host")
        .to_string();
    assert!(m.contains("runs on host `a`"), "{m}");
    c.check_local_session("s2").expect("local");
}
