//! Tests of `header.rs`.
use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::tui::app::App;
use crate::tui::fixtures::busy_home;
use crate::tui::update::{Msg, update};

/// The fixtures' clock.
fn noon() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("a valid time")
}

/// The header's two lines of `app` drawn `w` columns wide.
fn header_at(app: &mut App, w: u16) -> String {
    update(app, Msg::Resize(w, 24));
    let mut term = Terminal::new(TestBackend::new(w, 24)).expect("a test terminal");
    term.draw(|f| crate::tui::views::render(app, f))
        .expect("drawn");
    let screen = term.backend().to_string();
    screen.lines().take(2).collect::<Vec<_>>().join("\n")
}

#[test]
fn an_agent_limit_is_a_header_line_that_shortens_before_it_goes() {
    let mut app = busy_home(noon(), 3, 2, 5);
    app.data.room.agent_limits = vec!["agent claude limited (usage limit) until 23:03:00".into()];
    for (w, want) in [
        (160, "agent claude limited (usage limit) until 23:03:00"),
        (80, "claude (usage limit) until 23:03:00"),
    ] {
        let header = header_at(&mut app, w);
        assert!(header.contains(want), "{w}: {header}");
    }
}

#[test]
fn a_full_review_backlog_says_paused_in_the_header() {
    let mut app = busy_home(noon(), 3, 2, 5);
    let open = app
        .data
        .queue
        .as_ref()
        .expect("a queue")
        .iter()
        .filter(|r| r.entry.status.is_open())
        .count();
    assert!(open > 1, "the fixture has open entries");
    let header = |app: &mut App| header_at(app, 200);
    app.data.room.max_pending = open as u32 + 1;
    assert!(!header(&mut app).contains("paused"));
    app.data.room.max_pending = open as u32;
    let h = header(&mut app);
    assert!(
        h.contains(&format!("paused: {open} branches wait for review")),
        "{h}"
    );
}

#[test]
fn an_agent_without_hooks_is_said_plainly_in_the_header() {
    let mut app = busy_home(noon(), 3, 2, 5);
    app.data.room.ungated_agent = Some("aider".into());
    for (w, want) in [
        (200, "aider: no safety gate for this agent"),
        (80, "aider: no gate"),
    ] {
        let header = header_at(&mut app, w);
        assert!(header.contains(want), "{w}: {header}");
    }
}

#[test]
fn each_hosts_memory_is_next_to_the_local_figure() {
    use crate::tui::data::{HostMemory, Memory};
    let mut app = busy_home(noon(), 3, 2, 5);
    let mem = |used_percent| {
        Some(Memory {
            used_percent,
            gate_percent: 80,
        })
    };
    app.data.hosts = vec![
        HostMemory {
            name: "a".into(),
            memory: mem(41.2),
            unreachable_for: None,
            stopped: false,
        },
        HostMemory {
            name: "b".into(),
            memory: None,
            unreachable_for: Some("3m".into()),
            stopped: false,
        },
        HostMemory {
            name: "c".into(),
            memory: mem(91.0),
            unreachable_for: None,
            stopped: false,
        },
    ];
    for (w, want) in [
        (200, "a 41% · b unreachable 3m · c 91% GATED"),
        (80, "a 41% b down 3m c 91% GATED"),
    ] {
        let header = header_at(&mut app, w);
        assert!(header.contains(want), "{w}: {header}");
        insta::assert_snapshot!(format!("header_hosts_{w}"), header);
    }
}
