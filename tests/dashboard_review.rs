//! The review view end to end, as a person drives it: `brl up` in a real terminal (a tmux pane on
//! this test's private socket), three branches marked with space and approved at once with
//! `a`, `y` — through the merge train, each a journaled approval — and git checked for the result.

mod common;

use std::process::Command;

use common::agent;
use common::room::Room;

fn screen(room: &Room) -> String {
    let out = Command::new("tmux")
        .args(["-L", &room.socket, "capture-pane", "-p", "-t", "=term:"])
        .output()
        .expect("tmux capture-pane");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn keys(room: &Room, keys: &[&str]) {
    let mut args = vec!["send-keys", "-t", "=term:"];
    args.extend_from_slice(keys);
    assert!(room.tmux(&args), "send-keys {keys:?}");
}

fn wait_screen(room: &Room, secs: u64, what: &str, f: impl Fn(&str) -> bool) {
    let mut last = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let s = screen(room);
        if f(&s) {
            return;
        }
        last = if s.is_empty() { last } else { s };
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}; the screen shows:\n{last}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn bulk_approve_three_branches_from_the_review_view() {
    // Three sessions each fix one ERR line in their own file (f1..f3) and add markN.txt: three
    // branches that merge one after the other. The day's budget is spent, so nothing new comes.
    let room = Room::new(
        3,
        &agent("train_agent.sh"),
        "[budget]\nmax_cycles_per_day = 3\n",
    );
    for s in ["s1", "s2", "s3"] {
        let (code, out, err) = room.w.run(&["cycle", s]);
        assert_eq!(code, 0, "cycle {s}: {out}{err}");
    }
    let branches: Vec<String> = room
        .w
        .queue()
        .iter()
        .map(|e| e["branch"].as_str().expect("branch").to_string())
        .collect();
    assert_eq!(branches.len(), 3, "three kept branches");

    let exe = assert_cmd::cargo::cargo_bin("brl");
    let cmd = format!(
        "'{}' --home '{}' up; echo \"[brl up exited $?]\"; sleep 60",
        exe.display(),
        room.w.home.display()
    );
    assert!(room.tmux(&[
        "new-session",
        "-d",
        "-s",
        "term",
        "-x",
        "120",
        "-y",
        "40",
        &cmd
    ]));
    wait_screen(&room, 30, "the dashboard", |s| {
        s.contains("Sessions") && s.contains("scheduling")
    });
    keys(&room, &["3"]);
    wait_screen(&room, 10, "the review queue", |s| {
        branches.iter().all(|b| s.contains(b.as_str()))
    });
    // Space marks the selected row and moves down: three presses mark all three.
    for n in 1..=3 {
        keys(&room, &["Space"]);
        wait_screen(&room, 10, &format!("{n} marked"), |s| {
            s.contains(&format!("{n} marked"))
        });
    }
    keys(&room, &["a"]);
    wait_screen(&room, 10, "the bulk confirmation", |s| {
        s.contains("Approve 3 branches?") && branches.iter().all(|b| s.contains(b.as_str()))
    });
    keys(&room, &["y"]);
    wait_screen(&room, 120, "the train's result", |s| {
        s.contains("bulk approve: 3 of 3 reached main")
    });

    let q = room.w.queue();
    assert!(
        q.iter().all(|e| e["status"] == "approved"),
        "all three approved: {q:?}"
    );
    for n in 1..=3 {
        assert!(
            common::git(&room.w.repo, &["show", &format!("main:mark{n}.txt")]).contains("mark"),
            "main holds mark{n}.txt"
        );
    }
    let decisions = room.entries("review_decision");
    assert_eq!(decisions.len(), 3, "{decisions:?}");
    assert!(decisions.iter().all(|d| d["data"]["by"] == "dashboard"));
    let trains = room.entries("merge_train");
    assert_eq!(trains.len(), 1, "one train entry: {trains:?}");
    // The train published its progress and result, as the jobs do, for the header.
    let text = std::fs::read_to_string(room.w.home.join("logs/jobs/train.progress.json"))
        .expect("the train's progress file");
    let p: brl::jobs::progress::Progress = serde_json::from_str(&text).expect("progress JSON");
    assert!(p.step.starts_with("branch 3 of 3"), "{}", p.step);
    let done = p.done.expect("the result");
    assert!(done.ok && done.summary == "3 of 3 reached main", "{done:?}");
    // The header shows how the train ended (read from its progress file through the watcher).
    wait_screen(&room, 10, "the train's result in the header", |s| {
        s.contains("train done")
    });
    // The marks are gone with the decisions, and the queue view is empty again.
    wait_screen(&room, 10, "the empty queue", |s| {
        s.contains("No branches waiting for review") && !s.contains("marked")
    });
    keys(&room, &["q"]);
    let (code, out, err) = room.w.run(&["down", "--wait-secs", "10"]);
    assert_eq!(code, 0, "brl down: {out}{err}");
}

/// `brl standup` with a fake agent publishes its progress file: at the end it holds the result
/// the dashboard's header shows (who spoke, the transcript to open), written by this process.
#[test]
fn a_standup_leaves_its_result_in_its_progress_file() {
    let w = common::World::new(3);
    w.write_config(3, &agent("standup_agent.sh"), 20, "");
    let (code, out, err) = w.run(&["standup"]);
    assert_eq!(code, 0, "brl standup: {out}{err}");
    let path = w.home.join("logs/jobs/standup.progress.json");
    let text = std::fs::read_to_string(&path).expect("the progress file");
    let p: brl::jobs::progress::Progress = serde_json::from_str(&text).expect("progress JSON");
    assert_eq!(p.job, "standup");
    assert!(
        p.step.starts_with("round 3 of 3"),
        "the last step: {}",
        p.step
    );
    let done = p.done.expect("the result");
    assert!(done.ok, "{done:?}");
    assert!(done.summary.contains("spoke"), "{}", done.summary);
    let transcript = done.transcript.expect("the transcript");
    assert!(
        std::path::Path::new(&transcript).exists(),
        "the transcript it names exists: {transcript}"
    );
    // The dashboard's reader of these files sees the same, and knows the run is over.
    let rows = brl::jobs::progress::read_all(&brl::home::Home::new(&w.home));
    assert_eq!(rows.len(), 1);
    assert!(rows[0].done.is_some());
}

/// The diff the review view opens starts with what a person decides by, read from the real
/// repository and queue: the commit message, why the cycle kept it and its figures.
#[test]
fn the_diff_header_holds_the_commit_message_and_the_cycles_reason() {
    let w = common::World::new(1);
    w.write_config(1, &agent("train_agent.sh"), 20, "");
    let (code, out, err) = w.run(&["cycle", "s1"]);
    assert_eq!(code, 0, "cycle s1: {out}{err}");
    let q = w.queue();
    let branch = q[0]["branch"].as_str().expect("a kept branch").to_string();
    let home = brl::home::Home::new(&w.home);
    let config = home.load_config().expect("config");
    let doc = brl::tui::load::diff(&home, &config, &branch).expect("the diff loads");
    let head: Vec<&String> = doc
        .lines
        .iter()
        .take_while(|l| !l.starts_with("diff --git"))
        .collect();
    let text = head
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("• fix f1.txt, add mark1.txt"), "{text}");
    assert!(text.contains("kept because:"), "{text}");
    assert!(
        text.contains(q[0]["reason"].as_str().expect("reason")),
        "{text}"
    );
    // The files still index the diff itself, below the header.
    let (_, first) = doc.files.first().expect("a file");
    assert!(doc.lines[*first].starts_with("diff --git"));
}
