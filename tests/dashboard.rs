//! The dashboard end to end, as a user drives it: `brl up` in a real terminal (a tmux pane on
//! this test's private socket), keys sent with `send-keys`, the screen read with `capture-pane`,
//! and git checked for what approving and rejecting did.

mod common;

use std::process::Command;

use common::room::{Room, wait_for};
use common::{agent, git};

/// What the terminal pane `term` shows now.
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

/// A home with two kept branches waiting for review; the day's cycle budget is spent, so the
/// control room grants no more cycles and the queue stays as it is while the keys are sent.
fn home_with_two_pending() -> (Room, Vec<String>) {
    let room = Room::new(
        2,
        &agent("fix_one.sh"),
        "[budget]\nmax_cycles_per_day = 2\n",
    );
    for s in ["s1", "s2"] {
        let (code, out, err) = room.w.run(&["cycle", s]);
        assert_eq!(code, 0, "cycle {s}: {out}{err}");
    }
    let branches: Vec<String> = room
        .w
        .queue()
        .iter()
        .map(|e| e["branch"].as_str().expect("branch").to_string())
        .collect();
    assert_eq!(branches.len(), 2, "two kept branches");
    (room, branches)
}

/// `brl up` (with a terminal: the dashboard) in tmux session `term`, 120×40.
fn open_dashboard(room: &Room, extra_env: &str) {
    let exe = assert_cmd::cargo::cargo_bin("brl");
    let cmd = format!(
        "{extra_env} '{}' --home '{}' up; echo \"[brl up exited $?]\"; sleep 60",
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
}

#[test]
fn approve_and_reject_from_the_dashboard() {
    let (room, branches) = home_with_two_pending();
    let main_before = git(&room.w.repo, &["rev-parse", "main"]);
    open_dashboard(&room, "");
    // It starts a control room in the `control` window, then shows the home.
    wait_screen(
        &room,
        30,
        "the dashboard with a scheduling control room",
        |s| s.contains("Sessions") && s.contains("scheduling"),
    );
    // To the review queue by keys: both branches are listed.
    keys(&room, &["3"]);
    wait_screen(&room, 10, "the review queue", |s| {
        branches.iter().all(|b| s.contains(b.as_str()))
    });
    // Approve the first (selected) one: a, then the one-key confirmation y.
    keys(&room, &["a"]);
    wait_screen(&room, 10, "the approve confirmation", |s| {
        s.contains(&format!("Approve {}", branches[0]))
    });
    keys(&room, &["y"]);
    wait_screen(&room, 20, "the merge result", |s| {
        s.contains(&format!("approved {}", branches[0])) && s.contains("merged into main")
    });
    let main_after = git(&room.w.repo, &["rev-parse", "main"]);
    assert_ne!(main_before, main_after, "main moved");
    assert!(
        !room.w.branches().contains(&branches[0]),
        "the merged branch is deleted"
    );
    // The queue view now lists only the second; reject it with a reason.
    wait_screen(&room, 10, "the queue without the approved branch", |s| {
        !s.contains(&format!("{} ", branches[0])) || s.contains("approved")
    });
    keys(&room, &["r"]);
    wait_screen(&room, 10, "the reason form", |s| s.contains("reason"));
    keys(&room, &["-l", "too risky"]);
    keys(&room, &["Enter"]);
    wait_screen(&room, 10, "the reject confirmation", |s| {
        s.contains(&format!("Reject {}", branches[1]))
    });
    keys(&room, &["y"]);
    wait_screen(&room, 20, "the reject result", |s| {
        s.contains(&format!("rejected {}", branches[1]))
    });
    assert!(
        !room.w.branches().contains(&branches[1]),
        "rejected branch deleted"
    );
    assert_eq!(
        git(&room.w.repo, &["rev-parse", "main"]),
        main_after,
        "rejecting does not touch main"
    );
    let q = room.w.queue();
    assert_eq!(q[0]["status"], "approved");
    assert_eq!(q[1]["status"], "rejected");
    assert_eq!(q[1]["decision_reason"], "too risky");
    let decisions = room.entries("review_decision");
    assert_eq!(decisions.len(), 2);
    assert!(decisions.iter().all(|d| d["data"]["by"] == "dashboard"));

    // Quit: the control room keeps scheduling, and the message says how to come back and stop.
    keys(&room, &["q"]);
    wait_screen(&room, 10, "the exit message", |s| {
        s.contains("Dashboard closed") && s.contains(" down") && s.contains("[brl up exited 0]")
    });
    let pid =
        std::fs::read_to_string(room.w.home.join("logs/locks/control.lock")).expect("control lock");
    assert!(
        brl::store::atomic::LockGuard::is_held(&room.w.home.join("logs/locks/control.lock"))
            .expect("lock"),
        "the control room (pid {pid}) still runs after the dashboard quit"
    );
    let (code, out, err) = room.w.run(&["down", "--wait-secs", "10"]);
    assert_eq!(code, 0, "brl down: {out}{err}");
}

#[test]
fn a_conflict_is_shown_not_swallowed_and_a_second_dashboard_is_a_viewer() {
    let (room, branches) = home_with_two_pending();
    // Main moves on in a way that conflicts with the first branch's change.
    let first_file = git(
        &room.w.repo,
        &["diff", "--name-only", "main", branches[0].as_str()],
    );
    let file = first_file
        .lines()
        .next()
        .expect("a changed file")
        .to_string();
    std::fs::write(room.w.repo.join(&file), "rewritten on main\n").expect("write");
    git(&room.w.repo, &["commit", "-q", "-am", "main moves"]);
    let main_before = git(&room.w.repo, &["rev-parse", "main"]);
    // A control room already runs (as under PM2): the dashboard uses it and starts none.
    let mut room = room;
    room.up(&[]);
    wait_for(20, "the control room's lock", || {
        brl::status::control_room_pid(&brl::home::Home::new(&room.w.home)).is_some()
    });
    open_dashboard(&room, "NO_COLOR=1");
    wait_screen(&room, 30, "the dashboard", |s| s.contains("scheduling"));
    keys(&room, &["3"]);
    wait_screen(&room, 10, "the review queue", |s| {
        s.contains(branches[0].as_str())
    });
    keys(&room, &["a"]);
    keys(&room, &["y"]);
    wait_screen(&room, 20, "the conflict", |s| {
        s.contains("conflicts with main") && s.contains(&file)
    });
    assert_eq!(git(&room.w.repo, &["rev-parse", "main"]), main_before);
    // No control window was started: the one running schedules.
    assert!(
        !room.tmux(&["has-session", "-t", &format!("={}", room.tmux_session())]) || {
            let out = Command::new("tmux")
                .args([
                    "-L",
                    &room.socket,
                    "list-windows",
                    "-a",
                    "-F",
                    "#{window_name}",
                ])
                .output()
                .expect("list-windows");
            !String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|w| w == "control")
        },
        "no second control room"
    );
    keys(&room, &["q"]);
    wait_screen(&room, 10, "the exit message", |s| {
        s.contains("Dashboard closed")
    });
}
