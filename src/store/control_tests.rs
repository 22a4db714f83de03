use super::*;

fn home() -> (tempfile::TempDir, Home) {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = Home::new(dir.path());
    (dir, home)
}

#[test]
fn grant_take_finish_round_trip() {
    let (_d, home) = home();
    let sc = SessionControl::new(&home, "s1");
    sc.set_state(42, WorkerState::Waiting, None).expect("state");
    assert!(sc.load().expect("load").idle());
    let g = sc.grant(None).expect("grant").expect("granted");
    assert_eq!(g.id, 1);
    assert!(
        sc.grant(None).expect("grant").is_none(),
        "one grant at a time"
    );
    assert!(!sc.load().expect("load").idle());
    let taken = sc.take(42).expect("take").expect("a grant");
    assert_eq!(taken.taken_by, Some(42));
    assert_eq!(sc.load().expect("load").state, WorkerState::Cycle);
    sc.set_phase("hack", Some("brl/s1/x")).expect("phase");
    assert_eq!(sc.load().expect("load").phase.as_deref(), Some("hack"));
    let last = LastCycle {
        outcome: "kept".into(),
        branch: "brl/s1/x".into(),
        reason: "ok".into(),
        at: Utc::now(),
    };
    sc.finish(1, Some(last.clone())).expect("finish");
    let c = sc.load().expect("load");
    assert!(c.grant.is_none());
    assert_eq!(c.last, Some(last));
    assert_eq!(sc.grant(None).expect("grant").expect("granted").id, 2);
}

#[test]
fn take_back_only_when_the_worker_is_dead() {
    let (_d, home) = home();
    let sc = SessionControl::new(&home, "s1");
    let task = GrantTask {
        id: 7,
        title: "t".into(),
        body: None,
    };
    sc.grant(Some(task.clone())).expect("grant");
    {
        let _alive = LockGuard::exclusive(&worker_lock_path(&home, "s1")).expect("lock");
        assert!(sc.take_back().expect("take back").is_none());
    }
    let back = sc.take_back().expect("take back").expect("taken back");
    assert_eq!(back.task, Some(task));
    assert!(sc.load().expect("load").grant.is_none());
}

#[test]
fn blocked_is_shown_set_once_and_lifted() {
    let (_d, home) = home();
    let sc = SessionControl::new(&home, "s1");
    sc.set_state(42, WorkerState::Waiting, None).expect("state");
    assert!(sc.set_blocked("index.lock").expect("block"), "news");
    let since = sc.load().expect("load").blocked.expect("blocked").since;
    assert!(
        !sc.set_blocked("index.lock").expect("block"),
        "the same block"
    );
    assert!(
        !sc.set_blocked("another").expect("block"),
        "still the same block"
    );
    let c = sc.load().expect("load");
    assert_eq!(c.blocked.as_ref().map(|b| b.since), Some(since));
    assert_eq!(c.shown_state(true, Utc::now()), "blocked");
    assert_eq!(c.shown_state(false, Utc::now()), "dead");
    let lifted = sc.clear_blocked().expect("clear").expect("was blocked");
    assert_eq!(lifted.reason, "another");
    assert!(sc.clear_blocked().expect("clear").is_none());
    assert_eq!(
        sc.load().expect("load").shown_state(true, Utc::now()),
        "waiting"
    );
}

#[test]
fn a_corrupt_file_is_reported_and_kept() {
    let (_d, home) = home();
    let sc = SessionControl::new(&home, "s1");
    std::fs::create_dir_all(home.control_dir()).expect("mkdir");
    std::fs::write(sc.path(), "{not json").expect("write");
    let e = sc.grant(None).expect_err("corrupt");
    assert!(e.to_string().contains("s1.json"), "{e}");
    assert_eq!(
        std::fs::read_to_string(sc.path()).expect("read"),
        "{not json"
    );
}
