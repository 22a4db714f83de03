//! Tests of `load.rs`.
use super::*;
use serde_json::json;

#[test]
fn figures_and_today() {
    assert_eq!(
        figures(
            &json!({"errors": 3, "failures": 2}),
            &json!({"errors": 1, "failures": 0})
        ),
        Some("err 3→1 fail 2→0".into())
    );
    assert_eq!(figures(&json!({}), &json!({})), None);
    let e = |s: &str, o: &str, c: f64| {
        Entry::new("ralph_cycle", Some(s), json!({"outcome": o, "cost_usd": c}))
    };
    let t = today(&[
        e("s1", "kept", 0.5),
        e("s1", "discarded", 0.25),
        e("s2", "error", 0.0),
        e("s2", "no_change", 0.1),
    ]);
    assert_eq!((t.kept, t.discarded, t.no_change), (1, 2, 1));
    assert_eq!(t.by_session["s1"], (1, 1, 0));
    assert_eq!(t.by_session["s2"], (0, 1, 1));
    assert!((t.cost_usd - 0.85).abs() < 1e-9);
}

#[test]
fn a_session_shows_the_figures_of_its_newest_cycle_only() {
    let d = tempfile::tempdir().expect("tempdir");
    let home = Home::new(d.path());
    let config: Config =
        toml::from_str("repo = \"r\"\nsessions = 1\n[agent]\ncommand = \"a\"\n").expect("config");
    let kept = Entry::new(
        "ralph_cycle",
        Some("s1"),
        json!({"outcome": "kept", "before": {"errors": 3}, "after": {"errors": 2}}),
    );
    let rows = sessions(
        &home,
        &config,
        Utc::now(),
        std::slice::from_ref(&kept),
        &BTreeMap::new(),
        &mut ControlCache::default(),
    );
    assert_eq!(rows[0].last_figures.as_deref(), Some("err 3→2"));
    // A newer cycle that was not measured after (no change) has no figures: the kept
    // cycle's must not be shown next to it.
    let none = Entry::new(
        "ralph_cycle",
        Some("s1"),
        json!({"outcome": "no_change", "before": {"errors": 2}, "after": null}),
    );
    let rows = sessions(
        &home,
        &config,
        Utc::now(),
        &[kept, none],
        &BTreeMap::new(),
        &mut ControlCache::default(),
    );
    assert_eq!(rows[0].last_figures, None);
    assert_eq!(
        (
            rows[0].kept_today,
            rows[0].discarded_today,
            rows[0].no_change_today
        ),
        (1, 0, 1),
        "a no-change cycle is not a discard"
    );
    assert_eq!(
        rows[0].state,
        SessionState::Stopped,
        "no worker holds its lock and none ever ran: stopped, not dead"
    );
}

#[test]
fn output_strips_escapes_and_carriage_returns() {
    let d = tempfile::tempdir().expect("tempdir");
    let home = Home::new(d.path());
    let dir = home.session_logs_dir("s1");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("pane.log"),
        "\x1b[31mred\x1b[0m text\nprogress 10%\rprogress 100%\n",
    )
    .expect("write");
    let doc = output(&home, "s1").expect("output");
    assert_eq!(
        doc.lines[..2],
        ["red text".to_string(), "progress 100%".to_string()]
    );
    let missing = output(&home, "s9").expect("missing is not an error");
    assert!(missing.lines[0].contains("no output yet"));
}
