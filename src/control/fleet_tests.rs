//! The pure pane plan of the fleet.

use super::*;

fn pane(id: &str, session: &str, tmux_session: &str, dead: bool) -> Pane {
    Pane {
        id: id.into(),
        tmux_session: tmux_session.into(),
        window_id: "@1".into(),
        window_name: "sessions".into(),
        home: "/h".into(),
        session: session.into(),
        dead,
        dead_status: dead.then_some(1),
        pid: Some(1),
        piped: true,
    }
}

#[test]
fn missing_panes_are_created_dead_ones_respawned() {
    let sessions: Vec<String> = ["s1", "s2", "s3"].iter().map(|s| s.to_string()).collect();
    let panes = [
        pane("%1", "s1", "brl", false),
        pane("%2", "s2", "brl", true),
    ];
    let (actions, strays) = plan(&sessions, &panes, "brl");
    assert_eq!(
        actions,
        vec![
            Action::Respawn {
                session: "s2".into(),
                pane: "%2".into(),
                status: Some(1),
                piped: true,
            },
            Action::Create {
                session: "s3".into()
            },
        ]
    );
    assert!(strays.is_empty());
}

#[test]
fn duplicates_and_foreign_panes_are_left_alone() {
    let sessions = vec!["s1".to_string()];
    let panes = [
        pane("%1", "s1", "brl", false),
        pane("%2", "s1", "brl", false),
        pane("%3", "s1", "other", false),
        pane("%4", "s9", "brl", false),
    ];
    let (actions, strays) = plan(&sessions, &panes, "brl");
    assert!(actions.is_empty());
    let ids: Vec<&str> = strays.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, vec!["%3", "%4", "%2"]);
}

#[test]
fn a_live_duplicate_keeps_the_session_alive() {
    let sessions = vec!["s1".to_string()];
    let panes = [
        pane("%1", "s1", "brl", true),
        pane("%2", "s1", "brl", false),
    ];
    assert!(plan(&sessions, &panes, "brl").0.is_empty());
}

#[test]
fn quoting_survives_quotes() {
    assert_eq!(shell_quote("/a b/it's"), "'/a b/it'\\''s'");
}
