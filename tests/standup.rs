//! Standup meetings end to end: real cycles first, live workers, `brl standup` with a fake agent
//! (tests/agents/standup_agent.sh) that records every prompt it gets.

mod common;

use std::path::PathBuf;
use std::process::Child;

use common::room::wait_for;
use common::{World, agent};
use serde_json::Value;

const SESSIONS: [&str; 3] = ["s1", "s2", "s3"];

/// Workers this test started; killed by their own pid when the test ends, however it ends.
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn world(agent_cmd: &str) -> World {
    let w = World::new(3);
    w.write_config(3, agent_cmd, 20, "");
    w
}

/// The prompts the fake agent got as `role` for `who` (a session or "cto").
fn prompts(w: &World, role: &str, who: &str) -> Vec<String> {
    let dir = w.dir.path().join("agent-stdin");
    let prefix = format!("{role}-{who}-");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return vec![];
    };
    rd.filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| std::fs::read_to_string(e.path()).expect("read prompt"))
        .collect()
}

fn tasks(w: &World) -> Vec<Value> {
    let text = std::fs::read_to_string(w.home.join("logs/tasks.json")).expect("tasks.json");
    let v: Value = serde_json::from_str(&text).expect("tasks json");
    v["tasks"].as_array().cloned().unwrap_or_default()
}

/// `brl standup`, which must succeed; its data.
fn standup(w: &World) -> Value {
    let (code, out, err) = w.run(&["standup", "--json"]);
    assert_eq!(code, 0, "brl standup failed:\n{out}\n{err}");
    serde_json::from_str(&out).expect("standup prints its data as JSON")
}

fn meetings(w: &World) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(w.home.join("logs/meetings"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn live_sessions_report_their_real_record_respond_commit_and_the_cto_sums_up() {
    let w = world(&agent("standup_agent.sh"));
    for s in SESSIONS {
        let (code, out, err) = w.run(&["cycle", s, "--quiet"]);
        assert_eq!(code, 0, "cycle {s}: {out}{err}");
    }
    let cycles = w.cycles();
    let branch_of = |s: &str| -> String {
        let c = cycles
            .iter()
            .find(|c| c["session"] == s)
            .expect("a cycle of the session");
        assert_eq!(c["data"]["outcome"], "kept", "{c}");
        c["data"]["branch"].as_str().expect("branch").to_string()
    };
    let pane = w.home.join("logs/sessions/s1");
    std::fs::create_dir_all(&pane).expect("mkdir");
    std::fs::write(
        pane.join("pane.log"),
        "\x1b[32mpane words of s1\x1b[0m\r\n50%\r100% done\n",
    )
    .expect("write pane log");

    let home = brl::home::Home::new(&w.home);
    let workers = Workers(SESSIONS.iter().map(|s| w.spawn_worker(s)).collect());
    wait_for(20, "the three workers to hold their life locks", || {
        SESSIONS.iter().all(|s| {
            brl::store::control::SessionControl::new(&home, s)
                .worker_alive()
                .unwrap_or(false)
        })
    });

    let data = standup(&w);
    assert_eq!(data["participants"], serde_json::json!(SESSIONS));
    assert_eq!(data["rounds"], 3);
    assert!(data.get("note").is_none(), "{data}");

    // The transcript: a header, 3 rounds × 3 speakers, the tasks and the summary.
    let file = PathBuf::from(data["file"].as_str().expect("file"));
    assert_eq!(meetings(&w), vec![file.clone()]);
    let name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(name.ends_with("-standup.md") && name.len() == "YYYYMMDD-HHMMSS-standup.md".len());
    let t = std::fs::read_to_string(&file).expect("transcript");
    assert!(t.contains("- Participants: s1, s2, s3\n"), "{t}");
    assert!(t.contains("- Agent calls: 10;"), "{t}");
    assert!(t.contains("- Status: finished\n"), "{t}");
    for s in SESSIONS {
        assert_eq!(t.matches(&format!("\n### {s}\n")).count(), 3, "{t}");
        assert!(
            t.contains(&format!("Report of {s}: fixed one ERR line")),
            "{t}"
        );
        assert!(t.contains(&format!("Response of {s}:")), "{t}");
    }
    let r1 = t.find("## Round 1 — reports").expect("round 1");
    let r2 = t.find("## Round 2 — responses").expect("round 2");
    let r3 = t.find("## Round 3 — commitments").expect("round 3");
    let sum = t
        .find("## Summary\n\nThe sessions each kept one fix.")
        .expect("summary");
    assert!(r1 < r2 && r2 < r3 && r3 < sum, "{t}");
    assert_eq!(
        data["summary"],
        "The sessions each kept one fix.\nPriorities: review the branches.\nBlockers: none."
    );

    // Each round-1 prompt holds its own record and nobody else's.
    for s in SESSIONS {
        let p = prompts(&w, "standup-report", s);
        assert_eq!(p.len(), 1, "one report prompt for {s}");
        let p = &p[0];
        assert!(p.contains(&format!("You are {s}")), "{p}");
        assert!(p.contains(&format!("kept {}", branch_of(s))), "{p}");
        assert!(p.contains("type errors 6→5"), "{p}");
        assert!(
            p.contains(&format!("commit: fix one error in f{}.txt", &s[1..])),
            "{p}"
        );
        for other in SESSIONS.iter().filter(|o| **o != s) {
            assert!(
                !p.contains(&branch_of(other)),
                "{s} sees {other}'s branch:\n{p}"
            );
        }
    }
    let p1 = &prompts(&w, "standup-report", "s1")[0];
    assert!(
        p1.contains("pane words of s1\n100% done") && !p1.contains('\x1b'),
        "{p1}"
    );
    let p2 = &prompts(&w, "standup-report", "s2")[0];
    assert!(p2.contains("no pane output"), "{p2}");
    // Round 2 sees every report; round 3 sees reports and responses; the CTO sees it all.
    let respond = &prompts(&w, "standup-respond", "s2")[0];
    assert!(
        SESSIONS
            .iter()
            .all(|s| respond.contains(&format!("Report of {s}"))),
        "{respond}"
    );
    let commit = &prompts(&w, "standup-commit", "s3")[0];
    assert!(
        commit.contains("Report of s1") && commit.contains("Response of s2"),
        "{commit}"
    );
    assert!(
        commit.contains("TASK: <"),
        "the prompt asks for the TASK line: {commit}"
    );
    let cto = prompts(&w, "standup", "cto");
    assert_eq!(cto.len(), 1, "one summary, without a session");
    assert!(
        cto[0].contains("TASK: Fix the last ERR line in f2.txt"),
        "{}",
        cto[0]
    );
    assert!(cto[0].contains("proposed task #"), "{}", cto[0]);

    // Round 3's tasks are proposed tasks from this meeting.
    let list = tasks(&w);
    assert_eq!(list.len(), 3, "{list:?}");
    for (i, s) in SESSIONS.iter().enumerate() {
        let task = &list[i];
        assert_eq!(
            task["title"],
            format!("Fix the last ERR line in f{}.txt", i + 1)
        );
        assert_eq!(task["tier"], "proposed");
        assert_eq!(task["approved"], false);
        assert_eq!(task["source"], format!("meeting:{name}"));
        let body = task["body"].as_str().expect("body");
        assert!(body.contains(s) && body.contains(&name), "{body}");
        assert!(
            body.contains("each session keeps to its own file"),
            "{body}"
        );
    }
    assert_eq!(data["tasks_added"], serde_json::json!([1, 2, 3]));
    assert_eq!(data["tasks_refused"], serde_json::json!([]));

    // Exactly one entry, with the job's figures.
    let logged = w.entries("team_standup");
    assert_eq!(logged.len(), 1, "{logged:?}");
    let d = &logged[0]["data"];
    assert_eq!(d["ok"], true, "{d}");
    assert_eq!(d["calls"], 10, "{d}");
    assert_eq!(d["participants"].as_array().map(Vec::len), Some(3), "{d}");
    assert_eq!(d["file"], data["file"]);
    drop(workers);
}

#[test]
fn a_second_standup_records_duplicate_tasks_as_refused() {
    let w = world(&agent("standup_agent.sh"));
    // No worker is alive: every configured session takes part, and it is said.
    let first = standup(&w);
    assert_eq!(first["participants"], serde_json::json!(SESSIONS));
    assert!(
        first["note"]
            .as_str()
            .is_some_and(|n| n.contains("no session's worker was alive")),
        "{first}"
    );
    assert_eq!(first["tasks_added"], serde_json::json!([1, 2, 3]));
    let report = &prompts(&w, "standup-report", "s1")[0];
    assert!(
        report.contains("No cycles since") && report.contains("No branches"),
        "{report}"
    );

    let second = standup(&w);
    assert_eq!(second["tasks_added"], serde_json::json!([]));
    let refused = second["tasks_refused"].as_array().expect("refusals");
    assert_eq!(refused.len(), 3, "{second}");
    for (r, s) in refused.iter().zip(SESSIONS) {
        let r = r.as_str().expect("a reason");
        assert!(
            r.starts_with(&format!("{s}: ")) && r.contains("same title"),
            "{r}"
        );
    }
    assert_eq!(tasks(&w).len(), 3, "nothing added twice");
    let files = meetings(&w);
    assert_eq!(files.len(), 2, "{files:?}");
    assert_ne!(first["file"], second["file"]);
    let file = second["file"].as_str().expect("file");
    assert!(files.iter().any(|f| f.to_str() == Some(file)), "{files:?}");
    let t = std::fs::read_to_string(file).expect("transcript");
    assert!(
        t.contains("## Tasks from round 3") && t.contains("same title"),
        "{t}"
    );
    // The second meeting covers the time since the first.
    let time = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time")).expect("rfc3339")
    };
    assert_eq!(
        time(&second["since"]),
        time(&w.entries("team_standup")[0]["ts"]),
        "{second}"
    );
    assert_eq!(w.entries("team_standup").len(), 2);
}

#[test]
fn a_failing_call_keeps_the_transcript_and_logs_the_failure() {
    let w = world(&format!(
        "STANDUP_FAIL=standup-respond {}",
        agent("standup_agent.sh")
    ));
    let (code, out, err) = w.run(&["standup"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("standup-respond") && err.contains("logs/meetings"),
        "{err}"
    );
    let files = meetings(&w);
    assert_eq!(files.len(), 1, "{files:?}");
    let t = std::fs::read_to_string(&files[0]).expect("transcript");
    for s in SESSIONS {
        assert!(t.contains(&format!("Report of {s}")), "{t}");
    }
    assert!(t.contains("## Round 2 — responses\n\n(not held"), "{t}");
    assert!(
        t.contains("## Error\n\n") && t.contains("exit code 1"),
        "{t}"
    );
    assert!(t.contains("- Agent calls: 4;"), "{t}");
    let logged = w.entries("team_standup");
    assert_eq!(logged.len(), 1, "{logged:?}");
    let d = &logged[0]["data"];
    assert_eq!(d["ok"], false, "{d}");
    assert_eq!(d["calls"], 4, "{d}");
    assert!(
        d["error"]
            .as_str()
            .is_some_and(|e| e.contains("standup-respond")),
        "{d}"
    );
    assert!(
        !w.home.join("logs/tasks.json").exists(),
        "no task from a failed meeting"
    );
}
