//! The merge train, against a real repository and real checks: a shell check script counts a
//! failure only when three branches are merged together; the train merges in order, re-checking
//! each merge against the main that holds the previous ones, and stops at the first that makes a
//! count worse. A SIGKILL between two merges loses nothing (the journal finishes the merge done).

mod approve_support;
mod common;

use common::{World, agent, git};

/// Five kept branches s1..s5 (each fixes one error and adds markN.txt); the test check fails
/// once mark1, mark2 and mark3 are all present.
fn five() -> (World, Vec<String>) {
    let w = World::new(5);
    std::fs::write(
        w.repo.join("check.sh"),
        "echo PASS a\nif [ -f mark1.txt ] && [ -f mark2.txt ] && [ -f mark3.txt ]; then echo FAIL together; else echo PASS together; fi\n",
    )
    .expect("write");
    git(&w.repo, &["add", "check.sh"]);
    git(&w.repo, &["commit", "-q", "-m", "check script"]);
    w.write_config(5, &agent("train_agent.sh"), 20, "");
    let text = std::fs::read_to_string(w.home.join("brl.toml")).expect("config");
    let text = text.replace("command = \"cat tests.txt\"", "command = \"sh check.sh\"");
    std::fs::write(w.home.join("brl.toml"), text).expect("config");
    for s in ["s1", "s2", "s3", "s4", "s5"] {
        let (code, out, err) = w.run(&["cycle", s, "--quiet"]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let q = w.queue();
    assert_eq!(q.len(), 5, "{q:?}");
    assert!(q.iter().all(|e| e["status"] == "pending"), "{q:?}");
    let branches = q
        .iter()
        .map(|e| e["branch"].as_str().expect("branch").to_string())
        .collect();
    (w, branches)
}

/// `POST /queue/approve` to a real server over the world's home: (status, JSON answer).
fn http_approve(w: &World, branch: &str, force: bool) -> (u16, serde_json::Value) {
    use brl::server::{self, ServerOptions};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let cancel = tokio_util::sync::CancellationToken::new();
    let opts = ServerOptions {
        home: brl::home::Home::new(&w.home),
        listen: listener.local_addr().expect("addr"),
        token: Some(common::http::TOKEN.into()),
        token_env: "BRL_TEST_TOKEN".into(),
        max_pending: 20,
        status: common::http::status_ok(),
    };
    let task = runtime.spawn(server::serve(listener, opts, cancel.clone()));
    let answer = common::http::answer(
        common::http::agent()
            .post(format!("http://127.0.0.1:{port}/queue/approve"))
            .header("Authorization", format!("Bearer {}", common::http::TOKEN))
            .content_type("application/json")
            .send(serde_json::json!({"branch": branch, "force": force}).to_string()),
    );
    cancel.cancel();
    let _ = runtime.block_on(task);
    answer
}

/// FAIL lines of the check on main's current tree.
fn failures_on_main(w: &World) -> usize {
    let out = std::process::Command::new("sh")
        .arg("check.sh")
        .current_dir(&w.repo)
        .output()
        .expect("check runs");
    String::from_utf8_lossy(&out.stdout).matches("FAIL").count()
}

fn status(w: &World, branch: &str) -> serde_json::Value {
    w.queue()
        .into_iter()
        .find(|e| e["branch"] == branch)
        .expect("entry")
}

#[test]
fn a_train_stops_at_the_branch_that_breaks_a_test_with_the_others() {
    let (w, b) = five();
    let before = git(&w.repo, &["rev-parse", "main"]);
    let args: Vec<&str> = ["queue", "approve"]
        .into_iter()
        .chain(b.iter().map(String::as_str))
        .collect();
    let (code, out, err) = w.run(&args);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("stops rather than skips"), "{err}");
    for i in [0, 1] {
        assert_eq!(status(&w, &b[i])["status"], "approved", "{out}");
    }
    let third = status(&w, &b[2]);
    assert_eq!(third["status"], "stale", "{out}");
    let why = third["decision_reason"].as_str().expect("why");
    assert!(
        why.contains("merge train") && why.contains("failures"),
        "{why}"
    );
    for i in [3, 4] {
        assert_eq!(status(&w, &b[i])["status"], "pending", "{out}");
        assert!(out.contains(&format!("not_tried  {}", b[i])), "{out}");
    }
    // main holds 1 and 2, never 3, and is not worse than before.
    assert!(w.repo.join("mark1.txt").exists() && w.repo.join("mark2.txt").exists());
    assert!(!w.repo.join("mark3.txt").exists());
    assert_eq!(failures_on_main(&w), 0);
    assert_ne!(git(&w.repo, &["rev-parse", "main"]), before);
    assert_eq!(w.entries("merge_train").len(), 1);

    // No blind approvals: the stale third is refused without --force, with the figures…
    let main = git(&w.repo, &["rev-parse", "main"]);
    let (code, _, err) = w.run(&["queue", "approve", &b[2]]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("stale") && err.contains("--force"), "{err}");
    assert!(err.contains("failures"), "the re-check's figures: {err}");
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main);
    // Over HTTP too: 409 with the reason unless "force": true.
    let (code, body) = http_approve(&w, &b[2], false);
    assert_eq!(code, 409, "{body}");
    let why = common::http::error_of(&body);
    assert!(
        why.contains("stale") && why.contains("\"force\": true"),
        "{why}"
    );
    assert_eq!(git(&w.repo, &["rev-parse", "main"]), main);
    // …and merged with it, logged as forced.
    let (code, out, err) = w.run(&["queue", "approve", &b[2], "--force"]);
    assert_eq!(code, 0, "{out}{err}");
    let forced: Vec<_> = w
        .entries("review_decision")
        .into_iter()
        .filter(|d| d["data"]["branch"] == b[2].as_str() && d["data"]["result"] != "refused")
        .collect();
    assert_eq!(forced.len(), 1, "{forced:?}");
    assert_eq!(forced[0]["data"]["forced"], true);
}

#[test]
fn a_train_killed_between_two_merges_loses_nothing() {
    let (w, b) = five();
    // Stopped and killed once the first merge moved main and brought the checkout along.
    approve_support::kill_at(
        &w,
        "approve:after-checkout",
        &["approve", b[0].as_str(), b[1].as_str()],
    );
    // The next command finishes the first merge from the journal; the second was never tried.
    let q = w.queue();
    let by = |br: &str| q.iter().find(|e| e["branch"] == br).expect("entry").clone();
    assert_eq!(by(&b[0])["status"], "approved");
    assert_eq!(by(&b[1])["status"], "pending");
    assert!(w.repo.join("mark1.txt").exists());
    assert!(!w.branches().contains(&b[0]));
    assert!(
        std::fs::read_dir(w.home.join("logs/journal"))
            .map(|d| d.count() == 0)
            .unwrap_or(true),
        "the journal is empty"
    );
    // The train runs again with the rest.
    let (code, out, err) = w.run(&["queue", "approve", &b[1], &b[3]]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(status(&w, &b[1])["status"], "approved");
    assert_eq!(status(&w, &b[3])["status"], "approved");
    assert_eq!(failures_on_main(&w), 0);
}

/// With no check configured the train is its merges: all five reach main, the user's checked-out
/// main follows (clean, every file there), and no re-check worktree is ever checked out.
#[test]
fn a_train_without_checks_merges_and_checks_nothing_out() {
    let (w, b) = five();
    let text = std::fs::read_to_string(w.home.join("brl.toml")).expect("config");
    let start = text.find("[checks.typecheck]").expect("checks");
    let end = text.find("[worker]").expect("worker");
    let text = format!("{}{}", &text[..start], &text[end..]);
    std::fs::write(w.home.join("brl.toml"), text).expect("config");
    let args: Vec<&str> = ["queue", "approve"]
        .into_iter()
        .chain(b.iter().map(String::as_str))
        .collect();
    let (code, out, err) = w.run(&args);
    assert_eq!(code, 0, "{out}{err}");
    for branch in &b {
        assert_eq!(status(&w, branch)["status"], "approved", "{out}");
    }
    for i in 1..=5 {
        assert!(w.repo.join(format!("mark{i}.txt")).exists(), "mark{i}");
    }
    assert_eq!(git(&w.repo, &["status", "--porcelain"]), "");
    assert!(
        !w.home.join("worktrees/_review").exists(),
        "a re-check worktree was made"
    );
}
