use super::*;

fn queue() -> (tempfile::TempDir, Tasks) {
    let d = tempfile::tempdir().expect("tempdir");
    let t = Tasks::new(&d.path().join("logs/tasks.json"));
    (d, t)
}

fn add(t: &Tasks, title: &str, tier: Tier) -> Task {
    t.add(title, None, tier, "cli", 100).expect("add")
}

fn refusal(e: TaskError) -> String {
    match e {
        TaskError::Refused(m) => m,
        other => panic!("expected a refusal, got {other}"),
    }
}

#[test]
fn missing_file_is_empty_and_add_writes_a_versioned_file() {
    let (_d, t) = queue();
    assert!(t.load().expect("empty").is_empty());
    let a = t
        .add(
            "  Fix the flaky test  ",
            Some("details"),
            Tier::AutoSafe,
            "http",
            5,
        )
        .expect("add");
    assert_eq!(a.id, 1);
    assert_eq!(a.title, "Fix the flaky test");
    assert_eq!(a.body.as_deref(), Some("details"));
    assert_eq!(a.source, "http");
    assert_eq!(a.state, TaskState::Pending);
    assert!(!a.approved && a.attempts == 0 && a.session.is_none());
    assert_eq!(t.load().expect("load"), vec![a]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path()).expect("read")).expect("json");
    assert_eq!(v["version"], 1);
    assert_eq!(v["next_id"], 2);
    assert_eq!(v["tasks"][0]["tier"], "auto_safe");
    assert_eq!(v["tasks"][0]["state"], "pending");
}

#[test]
fn claim_takes_the_oldest_ready_and_skips_unapproved_proposals() {
    let (_d, t) = queue();
    let p = add(&t, "proposed one", Tier::Proposed);
    let a = add(&t, "auto two", Tier::AutoSafe);
    let b = add(&t, "auto three", Tier::AutoSafe);
    assert!(!p.ready() && a.ready());

    let c = t.claim("s1").expect("claim").expect("a task");
    assert_eq!((c.id, c.state), (a.id, TaskState::Running));
    assert_eq!(c.session.as_deref(), Some("s1"));
    assert!(!c.ready());

    t.approve(p.id).expect("approve");
    let c = t.claim("s2").expect("claim").expect("a task");
    assert_eq!(c.id, p.id, "an approved older proposal goes first");
    let c = t.claim("s3").expect("claim").expect("a task");
    assert_eq!(c.id, b.id);
    assert!(t.claim("s4").expect("claim").is_none());
}

#[test]
fn approve_rules() {
    let (_d, t) = queue();
    let p = add(&t, "proposed", Tier::Proposed);
    let a = add(&t, "auto", Tier::AutoSafe);
    assert!(refusal(t.approve(a.id).expect_err("auto")).contains("needs no approval"));
    assert!(refusal(t.approve(99).expect_err("unknown")).contains("no task #99"));
    let ok = t.approve(p.id).expect("approve");
    assert!(ok.approved && ok.ready());
    assert!(t.approve(p.id).expect("again").approved);
    t.claim("s1").expect("claim"); // takes #1 (the approved proposal)
    let m = refusal(t.approve(p.id).expect_err("running"));
    assert!(m.contains("running") && m.contains("only pending"), "{m}");
    let q = add(&t, "dropped proposal", Tier::Proposed);
    t.drop_task(q.id).expect("drop");
    assert!(refusal(t.approve(q.id).expect_err("dropped")).contains("dropped"));
}

#[test]
fn caps_count_pending_and_running_only() {
    let (_d, t) = queue();
    t.add("one", None, Tier::AutoSafe, "cli", 2).expect("add");
    t.add("two", None, Tier::AutoSafe, "cli", 2).expect("add");
    let m = refusal(
        t.add("three", None, Tier::AutoSafe, "cli", 2)
            .expect_err("cap"),
    );
    assert!(
        m.contains("holds 2 pending tasks") && m.contains("[tasks] max_pending = 2"),
        "{m}"
    );
    // A running task still counts.
    let c = t.claim("s1").expect("claim").expect("task");
    assert!(t.add("three", None, Tier::AutoSafe, "cli", 2).is_err());
    // Done, failed and dropped ones do not.
    t.finish(c.id, true, "brl/s1/one", "kept", 3)
        .expect("finish");
    t.add("three", None, Tier::AutoSafe, "cli", 2)
        .expect("room");
    t.drop_task(2).expect("drop");
    let c = t.claim("s1").expect("claim").expect("task");
    t.finish(c.id, false, "", "no gain", 1).expect("fail");
    assert_eq!(t.load().expect("load")[2].state, TaskState::Failed);
    t.add("four", None, Tier::AutoSafe, "cli", 2).expect("room");
    t.add("five", None, Tier::AutoSafe, "cli", 2).expect("room");
}

#[test]
fn duplicates_are_refused_case_insensitively_while_pending() {
    let (_d, t) = queue();
    let a = add(&t, "Fix the Parser", Tier::AutoSafe);
    let m = refusal(
        t.add("  fix THE parser ", None, Tier::Proposed, "meeting", 100)
            .expect_err("duplicate"),
    );
    assert!(
        m.contains("task #1 has the same title and is still pending"),
        "{m}"
    );
    t.claim("s1").expect("claim");
    assert!(
        t.add("fix the parser", None, Tier::AutoSafe, "cli", 100)
            .is_err()
    );
    t.finish(a.id, true, "brl/s1/x", "kept", 3).expect("finish");
    let again = add(&t, "fix the parser", Tier::AutoSafe);
    assert_eq!(again.id, 2, "a done task's title may be reused");
}

#[test]
fn title_and_body_limits() {
    let (_d, t) = queue();
    assert!(
        refusal(
            t.add("   ", None, Tier::AutoSafe, "cli", 10)
                .expect_err("empty")
        )
        .contains("title")
    );
    let long = "é".repeat(201);
    assert!(
        refusal(
            t.add(&long, None, Tier::AutoSafe, "cli", 10)
                .expect_err("long")
        )
        .contains("200")
    );
    t.add(&"é".repeat(200), None, Tier::AutoSafe, "cli", 10)
        .expect("200 chars fit");
    let body = "x".repeat(16 * 1024 + 1);
    let m = refusal(
        t.add("b", Some(&body), Tier::AutoSafe, "cli", 10)
            .expect_err("body"),
    );
    assert!(m.contains("16384") && m.contains("16 KiB"), "{m}");
    let ok = t
        .add("c", Some(&"x".repeat(16 * 1024)), Tier::AutoSafe, "cli", 10)
        .expect("16 KiB fits");
    assert_eq!(ok.body.map(|b| b.len()), Some(16 * 1024));
    assert_eq!(t.load().expect("load").len(), 2);
}

#[test]
fn finish_kept_not_kept_and_failed_after_max_attempts() {
    let (_d, t) = queue();
    let a = add(&t, "a", Tier::AutoSafe);
    let b = add(&t, "b", Tier::AutoSafe);
    assert!(
        refusal(t.finish(a.id, true, "x", "y", 3).expect_err("pending")).contains("not running")
    );

    t.claim("s1").expect("claim");
    let done = t
        .finish(a.id, true, "brl/s1/a", "errors 2 → 1", 3)
        .expect("kept");
    assert_eq!(done.state, TaskState::Done);
    assert_eq!(done.branch.as_deref(), Some("brl/s1/a"));
    assert_eq!(done.attempts, 0);
    assert_eq!(done.session.as_deref(), Some("s1"));

    for n in 1..=2 {
        let c = t.claim("s2").expect("claim").expect("task");
        assert_eq!(c.id, b.id);
        let f = t
            .finish(b.id, false, "", &format!("no gain {n}"), 3)
            .expect("not kept");
        assert_eq!((f.state, f.attempts), (TaskState::Pending, n));
        assert_eq!(f.last_reason, Some(format!("no gain {n}")));
        assert!(f.branch.is_none());
    }
    t.claim("s2").expect("claim").expect("task");
    let f = t.finish(b.id, false, "", "still nothing", 3).expect("last");
    assert_eq!((f.state, f.attempts), (TaskState::Failed, 3));
    assert!(t.claim("s2").expect("claim").is_none());
}

#[test]
fn release_returns_to_pending_without_an_attempt() {
    let (_d, t) = queue();
    let a = add(&t, "a", Tier::AutoSafe);
    t.claim("s1").expect("claim");
    let r = t.release(a.id, "interrupted").expect("release");
    assert_eq!((r.state, r.attempts), (TaskState::Pending, 0));
    assert_eq!(r.last_reason.as_deref(), Some("interrupted"));
    assert!(r.ready());
    assert_eq!(t.release(a.id, "again").expect("no-op"), r);
    t.claim("s1").expect("claim");
    t.finish(a.id, true, "brl/s1/a", "kept", 3).expect("finish");
    assert!(refusal(t.release(a.id, "late").expect_err("done")).contains("not running"));
    assert!(t.release(42, "x").is_err());
}

#[test]
fn drop_rules() {
    let (_d, t) = queue();
    let a = add(&t, "a", Tier::AutoSafe);
    let b = add(&t, "b", Tier::Proposed);
    t.claim("s1").expect("claim");
    let m = refusal(t.drop_task(a.id).expect_err("running"));
    assert!(
        m.contains("a cycle is running it; try after it ends"),
        "{m}"
    );
    assert_eq!(
        t.drop_task(b.id).expect("pending").state,
        TaskState::Dropped
    );
    assert!(refusal(t.drop_task(b.id).expect_err("twice")).contains("already dropped"));
    t.finish(a.id, false, "", "nothing", 1).expect("fail");
    assert_eq!(t.drop_task(a.id).expect("failed").state, TaskState::Dropped);
    let c = add(&t, "c", Tier::AutoSafe);
    t.claim("s1").expect("claim");
    t.finish(c.id, true, "brl/s1/c", "kept", 3).expect("done");
    assert!(refusal(t.drop_task(c.id).expect_err("done")).contains("done"));
    assert!(refusal(t.drop_task(7).expect_err("unknown")).contains("no task #7"));
}

#[test]
fn ids_are_never_reused_after_drop() {
    let (_d, t) = queue();
    add(&t, "a", Tier::AutoSafe);
    let b = add(&t, "b", Tier::AutoSafe);
    t.drop_task(b.id).expect("drop");
    assert_eq!(add(&t, "c", Tier::AutoSafe).id, 3);
    // Even if someone edits the file and removes the newest task, or lowers next_id.
    let text = std::fs::read_to_string(t.path()).expect("read");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["next_id"] = 1.into();
    std::fs::write(t.path(), v.to_string()).expect("write");
    assert_eq!(add(&t, "d", Tier::AutoSafe).id, 4);
}

#[test]
fn corrupt_file_is_reported_and_untouched() {
    let (_d, t) = queue();
    std::fs::create_dir_all(t.path().parent().expect("dir")).expect("mkdir");
    std::fs::write(t.path(), "{ not json").expect("write");
    let e = t
        .add("a", None, Tier::AutoSafe, "cli", 10)
        .expect_err("corrupt");
    assert!(matches!(e, TaskError::Corrupt { .. }));
    let m = e.to_string();
    let p = t.path().display().to_string();
    assert!(
        m.contains(&p) && m.contains("will not overwrite") && m.contains("mv "),
        "{m}"
    );
    assert!(t.claim("s1").is_err() && t.load().is_err());
    assert_eq!(
        std::fs::read_to_string(t.path()).expect("read"),
        "{ not json"
    );
    std::fs::write(t.path(), r#"{"version": 1, "tasks": []}"#).expect("write");
    assert!(matches!(t.load(), Err(TaskError::Corrupt { .. })));
}

#[test]
fn newer_version_is_refused_and_untouched() {
    let (_d, t) = queue();
    std::fs::create_dir_all(t.path().parent().expect("dir")).expect("mkdir");
    let newer = r#"{"version": 2, "next_id": 1, "tasks": [], "extra": true}"#;
    std::fs::write(t.path(), newer).expect("write");
    let e = t
        .add("a", None, Tier::AutoSafe, "cli", 10)
        .expect_err("newer");
    assert!(matches!(e, TaskError::NewerVersion { found: 2, .. }));
    assert!(e.to_string().contains("upgrade brl"), "{e}");
    assert_eq!(std::fs::read_to_string(t.path()).expect("read"), newer);
}

#[test]
fn concurrent_adds_lose_nothing() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("logs/tasks.json");
    let handles: Vec<_> = (0..8)
        .map(|n| {
            let p = p.clone();
            std::thread::spawn(move || {
                let t = Tasks::new(&p);
                for i in 0..20 {
                    t.add(&format!("task {n}-{i}"), None, Tier::AutoSafe, "cli", 1000)
                        .expect("add");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let all = Tasks::new(&p).load().expect("load");
    assert_eq!(all.len(), 160);
    let ids: Vec<u64> = all.iter().map(|t| t.id).collect();
    assert_eq!(ids, (1..=160).collect::<Vec<u64>>());
}

#[test]
fn control_characters_are_refused_in_titles_and_bodies() {
    let e = check_text("fix \u{1b}[2Jthe screen", None).unwrap_err();
    assert_eq!(
        e,
        "the title contains an escape character (ESC) at character 5; a title is one line of plain text"
    );
    assert!(
        check_text("one\nline", None)
            .unwrap_err()
            .contains("a line break")
    );
    assert!(
        check_text("nul\0", None)
            .unwrap_err()
            .contains("a NUL character")
    );
    assert!(
        check_text("ok", Some("a\r\nb"))
            .unwrap_err()
            .contains("a carriage return")
    );
    assert_eq!(check_text("ok", Some("line one\n\tline two")), Ok(()));
    assert_eq!(
        check_text("Fix the date parser (ünïcode is fine)", None),
        Ok(())
    );
}

#[test]
fn task_ids_never_wrap() {
    let (d, t) = queue();
    add(&t, "one", Tier::AutoSafe);
    // A file whose next id is the last one u64 has (a hand edit, or a very long life).
    let path = d.path().join("logs/tasks.json");
    let text = std::fs::read_to_string(&path).expect("read");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["next_id"] = serde_json::json!(u64::MAX - 1);
    std::fs::write(&path, v.to_string()).expect("write");
    let high = add(&t, "two", Tier::AutoSafe);
    assert_eq!(high.id, u64::MAX - 1);
    let m = refusal(
        t.add("three", None, Tier::AutoSafe, "cli", 100)
            .expect_err("full"),
    );
    assert!(
        m.contains("task ids are used up") && m.contains("tasks.json"),
        "{m}"
    );
    // An id of u64::MAX written by hand: no wrap to 0, no panic, no duplicate.
    v["next_id"] = serde_json::json!(1);
    v["tasks"][0]["id"] = serde_json::json!(u64::MAX);
    std::fs::write(&path, v.to_string()).expect("write");
    let m = refusal(
        t.add("four", None, Tier::AutoSafe, "cli", 100)
            .expect_err("full"),
    );
    assert!(m.contains("used up"), "{m}");
    assert!(t.load().expect("load").iter().all(|x| x.id != 0));
}

#[test]
fn a_task_reserved_for_a_session_goes_to_it_first_and_to_no_other() {
    let (_d, t) = queue();
    let older = add(&t, "older, for anyone", Tier::AutoSafe);
    let mine = t
        .add_for("for s3", None, Tier::AutoSafe, "cli", 100, Some("s3"))
        .expect("add for s3");
    assert_eq!(mine.for_session.as_deref(), Some("s3"));
    // s1 never takes s3's task: it gets the older unreserved one, then nothing.
    assert_eq!(t.claim("s1").expect("claim").map(|x| x.id), Some(older.id));
    assert_eq!(t.claim("s1").expect("claim"), None);
    // s3's own task comes before any other ready one.
    let other = add(&t, "another for anyone", Tier::AutoSafe);
    let got = t.claim("s3").expect("claim").expect("s3 gets its task");
    assert_eq!(got.id, mine.id);
    assert_eq!(got.session.as_deref(), Some("s3"));
    assert_eq!(t.claim("s3").expect("claim").map(|x| x.id), Some(other.id));
}

#[test]
fn retry_puts_a_failed_task_back_to_pending_with_attempts_reset() {
    let (_d, t) = queue();
    let a = add(&t, "a", Tier::AutoSafe);
    assert!(refusal(t.retry(a.id).expect_err("pending")).contains("only a failed task"));
    assert!(refusal(t.retry(99).expect_err("missing")).contains("no task #99"));
    t.claim("s1").expect("claim").expect("task");
    let f = t.finish(a.id, false, "", "no gain", 1).expect("failed");
    assert_eq!((f.state, f.attempts), (TaskState::Failed, 1));
    let r = t.retry(a.id).expect("retry");
    assert_eq!((r.state, r.attempts), (TaskState::Pending, 0));
    assert_eq!(r.last_reason.as_deref(), Some("no gain"));
    assert_eq!(t.claim("s2").expect("claim").map(|c| c.id), Some(a.id));
}
