//! The sessions table across hosts: a host column appears when a session runs on a
//! `[[hosts]]` host ("local" for this machine's), and an unreachable host's sessions say since
//! when. Snapshots at 80×24 and 160×48.

use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::tui::app::{App, View};
use crate::tui::data::SessionState;
use crate::tui::fixtures::busy_home;
use crate::tui::update::{Msg, update};

use super::render;

fn screen(app: &mut App, w: u16, h: u16) -> String {
    update(app, Msg::Resize(w, h));
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
    term.draw(|f| render(app, f)).expect("drawn");
    term.backend().to_string()
}

/// The busy fixture with its sessions 4.. on hosts a and b (renamed as a host names them) and
/// host b unreachable.
fn fleet() -> App {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("a valid time");
    let mut app = busy_home(now, 8, 4, 20);
    app.view = View::Sessions;
    for (i, s) in app.data.sessions.iter_mut().enumerate().skip(3) {
        let (host, n) = if i < 6 { ("a", i - 2) } else { ("b", i - 5) };
        s.name = format!("{host}-s{n}");
        s.host = Some(host.into());
        if host == "b" {
            s.state = SessionState::Unreachable(
                "host b unreachable since 2026-11-21 11:52:00 UTC — Connection refused".into(),
            );
            s.phase = None;
            s.branch = None;
        }
    }
    app
}

#[test]
fn the_sessions_table_names_each_sessions_host() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = fleet();
        let text = screen(&mut app, w, h);
        let line = |name: &str| {
            text.lines()
                .find(|l| l.contains(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} in\n{text}"))
                .to_string()
        };
        assert!(text.contains("host"), "{text}");
        assert!(line("s1").contains("local"), "{text}");
        assert!(line("a-s1").contains(" a "), "{text}");
        let b = line("b-s1");
        assert!(b.contains(" b ") && b.contains("unreach"), "{b}");
        if w >= 160 {
            assert!(b.contains("unreachable since 2026-11-21 11:52"), "{b}");
        }
        insta::assert_snapshot!(format!("hosts_sessions_{w}x{h}"), text);
    }
    // Without hosts, no host column.
    let now = Utc
        .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("a valid time");
    let mut app = busy_home(now, 8, 4, 20);
    app.view = View::Sessions;
    let text = screen(&mut app, 160, 48);
    assert!(!text.contains(" host "), "{text}");
}
