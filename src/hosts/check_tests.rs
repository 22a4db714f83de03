use super::*;
use crate::hosts::probe::agent_program;
use crate::hosts::probe::same_platform;
use crate::hosts::remote_home::{cksum, derive_toml};

fn host() -> HostConfig {
    toml::from_str("name = \"box1\"\nssh = \"me@box1\"\nsessions = 2\ndir = \"/srv/brl\"")
        .expect("parses")
}

fn expect() -> Expect {
    Expect {
        version: "brl 0.1.0".into(),
        exe_size: Some(1000),
        main: "main".into(),
        control_main: Some("a".repeat(40)),
        agent_program: Some("claude".into()),
        control_toml: None,
        tools: Vec::new(),
    }
}

fn ready_probe() -> Probe {
    Probe::parse(&format!(
        "abs_dir=/srv/brl\ntmux=tmux 3.3a\ngit=git version 2.47.3\nbrl_size=1000\nbrl_version=brl 0.1.0\ndisk_kb=9000000\nrepo_exists=1\nrepo_git=1\nrepo_main={}\nrepo_deny=updateInstead\nhome_toml=1\nagent=/usr/bin/claude\nend=1\n",
        "a".repeat(40)
    ))
    .expect("complete")
}

fn state_of(items: &[Item], what: &str) -> State {
    items
        .iter()
        .find(|i| i.what == what)
        .map(|i| i.state)
        .unwrap_or_else(|| panic!("no {what} line"))
}

#[test]
fn a_ready_host_is_all_ok() {
    let r = report(&host(), &ready_probe(), &expect());
    assert!(r.ready(), "{}", r.render());
    assert!(
        r.items.iter().all(|i| i.state == State::Ok),
        "{}",
        r.render()
    );
    assert_eq!(r.items.len(), 8);
}

#[test]
fn a_fresh_host_lacks_what_setup_makes() {
    let p = Probe::parse("abs_dir=\ntmux=\ngit=git version 2.30.0\ndisk_kb=500\nend=1\n")
        .expect("complete");
    let r = report(&host(), &p, &expect());
    assert!(!r.ready());
    assert_eq!(state_of(&r.items, "tmux"), State::Missing);
    assert_eq!(state_of(&r.items, "brl"), State::Missing);
    assert_eq!(state_of(&r.items, "repo"), State::Missing);
    assert_eq!(state_of(&r.items, "home"), State::Missing);
    assert_eq!(state_of(&r.items, "agent"), State::Missing);
    assert_eq!(state_of(&r.items, "disk"), State::Warn);
    let text = r.render();
    assert!(
        text.contains("missing  brl    /srv/brl/bin/brl is not there — fix: brl hosts setup"),
        "{text}"
    );
    assert!(
        text.contains("apt-get install tmux") && text.contains("installs no system packages"),
        "{text}"
    );
}

#[test]
fn wrong_versions_and_repos_are_named() {
    let mut p = ready_probe();
    p.tmux = Some("tmux 3.1c".into());
    p.brl_version = Some("brl 0.0.9".into());
    p.repo_git = false;
    let r = report(&host(), &p, &expect());
    assert_eq!(state_of(&r.items, "tmux"), State::Wrong);
    assert_eq!(state_of(&r.items, "brl"), State::Wrong);
    assert_eq!(state_of(&r.items, "repo"), State::Wrong);
    assert!(
        r.render().contains("move /srv/brl/repo aside"),
        "{}",
        r.render()
    );

    let mut p = ready_probe();
    p.repo_main = Some("b".repeat(40));
    p.brl_size = Some(999);
    let r = report(&host(), &p, &expect());
    assert_eq!(state_of(&r.items, "repo"), State::Warn);
    assert_eq!(state_of(&r.items, "brl"), State::Warn);
    assert!(r.ready(), "warnings leave a host ready");
    p.repo_deny = None;
    assert_eq!(
        state_of(&judge(&host(), &p, &expect()), "repo"),
        State::Wrong
    );
}

#[test]
fn a_cut_probe_is_no_probe() {
    assert!(Probe::parse("abs_dir=/x\ntmux=tmux 3.3\n").is_none());
}

#[test]
fn versions_and_programs() {
    assert_eq!(tmux_version("tmux 3.3a"), Some((3, 3)));
    assert_eq!(tmux_version("tmux next-3.4"), Some((3, 4)));
    assert_eq!(tmux_version("tmux 3.2"), Some((3, 2)));
    assert_eq!(tmux_version("tmux master"), None);
    assert_eq!(
        agent_program("claude -p --output-format json").as_deref(),
        Some("claude")
    );
    assert_eq!(
        agent_program("FOO=1 BAR='a b' codex exec").as_deref(),
        Some("codex")
    );
    assert_eq!(agent_program("sh '/x y/agent.sh'").as_deref(), Some("sh"));
    assert_eq!(agent_program("  ").as_deref(), None);
}

/// A platform that is not this one, as `uname -s -m` prints it.
fn foreign_uname() -> &'static str {
    if std::env::consts::OS == "linux" {
        "Darwin arm64"
    } else {
        "Linux x86_64"
    }
}

#[test]
fn a_binary_for_another_platform_is_not_offered() {
    assert_eq!(same_platform(foreign_uname()), Some(false));
    assert_eq!(same_platform("Plan9 mips"), None);
    let mut p = ready_probe();
    p.platform = Some(foreign_uname().into());
    p.brl_version = None;
    let items = judge(&host(), &p, &expect());
    let brl = items.iter().find(|i| i.what == "brl").expect("brl line");
    assert_eq!(brl.state, State::Missing);
    assert!(
        brl.fix.as_deref().is_some_and(|f| f.contains("build brl")),
        "{brl:?}"
    );
    // One built there, of this version, is fine whatever its size.
    p.brl_version = Some("brl 0.1.0".into());
    p.brl_size = Some(5);
    assert_eq!(state_of(&judge(&host(), &p, &expect()), "brl"), State::Ok);
}

#[test]
fn a_host_toml_that_no_longer_matches_is_wrong() {
    let control = "repo = \"/x\"\n[agent]\ncommand = \"claude -p\"\n";
    let mut e = expect();
    e.control_toml = Some(control.into());
    let want = derive_toml(control, &host(), "/srv/brl").expect("derives");
    let mut p = ready_probe();
    p.home_cksum = Some(cksum(want.as_bytes()));
    assert_eq!(state_of(&judge(&host(), &p, &e), "home"), State::Ok);
    e.control_toml = Some(format!("{control}timeout_secs = 5\n"));
    let items = judge(&host(), &p, &e);
    assert_eq!(state_of(&items, "home"), State::Wrong);
}

#[test]
fn the_sessions_programs_are_looked_up() {
    let mut e = expect();
    e.tools = vec![
        ("checks.typecheck.command".into(), "npx".into()),
        ("checks.test.command".into(), "npx".into()),
        ("agent.sandbox".into(), "bwrap".into()),
    ];
    let p = Probe::parse("tool=npx=/usr/bin/npx\ntool=bwrap=\nend=1\n").expect("complete");
    assert_eq!(
        p.tools,
        [
            ("npx".to_string(), Some("/usr/bin/npx".to_string())),
            ("bwrap".to_string(), None)
        ]
    );
    let items = judge(&host(), &p, &e);
    let tools = items
        .iter()
        .find(|i| i.what == "tools")
        .expect("tools line");
    assert_eq!(tools.state, State::Missing);
    assert!(
        tools.detail.contains("`bwrap` (agent.sandbox)") && !tools.detail.contains("npx"),
        "{tools:?}"
    );
    let p = Probe::parse("tool=npx=/usr/bin/npx\ntool=bwrap=/usr/bin/bwrap\nend=1\n")
        .expect("complete");
    assert_eq!(state_of(&judge(&host(), &p, &e), "tools"), State::Ok);
}
