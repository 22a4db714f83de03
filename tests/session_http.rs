//! Session control over HTTP: `POST /sessions/<s>/pause|resume|restart|stop`, `POST /pause`,
//! `POST /resume` and a session on `POST /trigger/task`, against the in-process server over a
//! real home (brl.toml, control files, log).

mod common;

use brl::home::Home;
use brl::store::control::{FleetControl, SessionControl};
use common::World;
use common::http::{Server, TOKEN, error_of};

fn server() -> (World, Server) {
    let w = World::new(3);
    let s = Server::with_token();
    std::fs::copy(w.home.join("brl.toml"), s.dir.path().join("brl.toml")).expect("copy brl.toml");
    (w, s)
}

fn entries(s: &Server, kind: &str) -> Vec<serde_json::Value> {
    let text =
        std::fs::read_to_string(s.dir.path().join("logs/experiment-log.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["type"] == kind)
        .collect()
}

#[test]
fn sessions_and_the_fleet_are_paused_and_resumed_over_http_with_the_token() {
    let (_w, s) = server();
    let home = Home::new(s.dir.path());
    let (code, _) = s.post("/sessions/s2/pause", None, "");
    assert!(code == 401 || code == 403, "{code}");
    assert!(
        SessionControl::new(&home, "s2")
            .load()
            .expect("load")
            .paused
            .is_none()
    );

    let (code, v) = s.post("/sessions/s2/pause", Some(TOKEN), "");
    assert_eq!(code, 200, "{v}");
    assert!(
        v["result"].as_str().unwrap_or("").contains("s2 is paused"),
        "{v}"
    );
    let c = SessionControl::new(&home, "s2").load().expect("load");
    assert_eq!(c.paused.map(|p| p.by).as_deref(), Some("http"));
    let paused = entries(&s, "session_paused");
    assert_eq!(paused.len(), 1);
    assert_eq!(paused[0]["data"]["by"], "http");

    let (code, v) = s.post("/sessions/s9/pause", Some(TOKEN), "");
    assert_eq!(code, 404, "{v}");
    assert!(error_of(&v).contains("s9"), "{v}");
    let (code, v) = s.post("/sessions/s2/dance", Some(TOKEN), "");
    assert_eq!(code, 404, "{v}");
    // No cycle runs: nothing to stop, and it says so.
    let (code, v) = s.post("/sessions/s2/stop", Some(TOKEN), "");
    assert_eq!(code, 409, "{v}");
    assert!(error_of(&v).contains("runs no cycle"), "{v}");

    let (code, v) = s.post("/sessions/s2/resume", Some(TOKEN), "");
    assert_eq!(code, 200, "{v}");
    assert!(
        SessionControl::new(&home, "s2")
            .load()
            .expect("load")
            .paused
            .is_none()
    );

    let (code, v) = s.post("/pause", Some(TOKEN), "");
    assert_eq!(code, 200, "{v}");
    let f = FleetControl::new(&home).load().expect("fleet");
    assert_eq!(f.paused.map(|p| p.by).as_deref(), Some("http"));
    let (code, v) = s.post("/resume", Some(TOKEN), "");
    assert_eq!(code, 200, "{v}");
    assert!(
        FleetControl::new(&home)
            .load()
            .expect("fleet")
            .paused
            .is_none()
    );
    assert_eq!(entries(&s, "fleet_resumed")[0]["data"]["by"], "http");
}

#[test]
fn a_task_is_reserved_for_a_session_over_http() {
    let (_w, s) = server();
    let (code, v) = s.post(
        "/trigger/task",
        Some(TOKEN),
        r#"{"title": "for s3", "session": "s3"}"#,
    );
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["session"], "s3");
    assert_eq!(s.tasks()[0]["for_session"], "s3");
    let (code, v) = s.post(
        "/trigger/task",
        Some(TOKEN),
        r#"{"title": "for nobody", "session": "s9"}"#,
    );
    assert_eq!(code, 422, "{v}");
    assert!(error_of(&v).contains("s9"), "{v}");
}
