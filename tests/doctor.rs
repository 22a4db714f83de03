//! The session doctor end to end: the real `brl` binary on a real git repository, with the fake
//! agent `tests/agents/doctor_agent.sh` answering as `ralph` (real kept cycles), `doctor`
//! (advice) and `skill` (two skill notes). The classes of crafted histories are unit tests of the
//! pure classification (`jobs::doctor::classify`).

mod common;

use std::path::{Path, PathBuf};

use common::{World, agent};
use serde_json::Value;

fn world() -> World {
    let w = World::new(3);
    w.write_config(
        3,
        &agent("doctor_agent.sh"),
        20,
        "\n[doctor]\nadvise = true\n",
    );
    w
}

fn cycle(w: &World, session: &str) -> Value {
    let (code, out, err) = w.run(&["cycle", session, "--quiet"]);
    assert_eq!(code, 0, "brl cycle failed: {out}\n{err}");
    let e = w.cycles().pop().expect("a ralph_cycle entry");
    assert_eq!(e["data"]["outcome"], "kept", "{e}");
    e
}

/// `brl doctor`, which must exit 0; returns the last `doctor_analysis` entry's data and how
/// many such entries the log holds.
fn doctor(w: &World) -> (Value, usize) {
    let (code, out, err) = w.run(&["doctor"]);
    assert_eq!(code, 0, "brl doctor failed: {out}\n{err}");
    let text = std::fs::read_to_string(w.home.join("logs/experiment-log.jsonl")).expect("log");
    let entries: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "doctor_analysis")
        .collect();
    let last = entries.last().expect("a doctor_analysis entry")["data"].clone();
    (last, entries.len())
}

fn stdin_of(w: &World, name: &str) -> String {
    let p = w.dir.path().join("agent-stdin").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn paths(v: &Value) -> Vec<PathBuf> {
    v.as_array()
        .expect("a list of paths")
        .iter()
        .map(|p| PathBuf::from(p.as_str().expect("a path")))
        .collect()
}

fn sorted(mut v: Vec<PathBuf>) -> Vec<PathBuf> {
    v.sort();
    v
}

fn skill_files(home: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(home.join("skills"))
        .expect("skills dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn the_doctor_classifies_sessions_and_writes_then_updates_skills() {
    let w = world();
    let b1 = cycle(&w, "s1")["data"]["branch"].as_str().map(String::from);
    let b2 = cycle(&w, "s1")["data"]["branch"].as_str().map(String::from);
    let (b1, b2) = (b1.expect("branch"), b2.expect("branch"));

    // First run: s1 productive, the others idle; two skill files from both kept cycles.
    let (data, n) = doctor(&w);
    assert_eq!(n, 1, "one entry per run");
    assert_eq!(data["ok"], true, "{data:#}");
    assert_eq!(data["sessions"]["s1"]["class"], "productive", "{data:#}");
    assert_eq!(
        data["sessions"]["s1"]["evidence"][0],
        "2 of the last 2 cycles kept"
    );
    for s in ["s2", "s3"] {
        assert_eq!(data["sessions"][s]["class"], "idle", "{data:#}");
        assert_eq!(
            data["sessions"][s]["advice_skipped"],
            "no cycles in the window to learn from"
        );
    }
    assert_eq!(
        data["summary"],
        "s2 idle: no cycles in the window and no grant (no control file)\n\
         s3 idle: no cycles in the window and no grant (no control file)"
    );
    assert!(
        data["sessions"]["s1"]["advice"]
            .as_str()
            .is_some_and(|a| a.starts_with("Advice for s1:")),
        "{data:#}"
    );
    assert_eq!(data["calls"], 2, "one doctor call (s1) and one skill call");
    let doctor_prompt = stdin_of(&w, "doctor-1.txt");
    assert!(
        doctor_prompt.contains("**productive**")
            && doctor_prompt.contains(&b1)
            && doctor_prompt.contains("## Baseline on main"),
        "{doctor_prompt}"
    );
    let skill_prompt = stdin_of(&w, "skill-1.txt");
    assert!(
        skill_prompt.contains(&format!("- {b1} (s1): errors 6 → 5"))
            && skill_prompt.contains("\"fix one error in f1.txt\"")
            && skill_prompt.contains(&b2),
        "{skill_prompt}"
    );
    let written = paths(&data["skills_written"]);
    assert_eq!(written.len(), 2, "{data:#}");
    assert!(paths(&data["skills_updated"]).is_empty());
    assert_eq!(skill_files(&w.home), sorted(written.clone()));
    let fix = w.home.join("skills/fix-one-err-line-at-a-time.md");
    let text = std::fs::read_to_string(&fix).expect("skill file");
    assert!(
        text.starts_with(&format!(
            "---\ntitle: Fix one ERR line at a time\nwhen: the type check counts ERR lines\ncycles: [{b1}, {b2}]\nupdated: "
        )) && text.contains("(answer 1)"),
        "{text}"
    );

    // Another kept cycle, another run: the same two files are updated, none added.
    let b3 = cycle(&w, "s1")["data"]["branch"]
        .as_str()
        .map(String::from)
        .expect("branch");
    let (data, n) = doctor(&w);
    assert_eq!(n, 2);
    assert!(paths(&data["skills_written"]).is_empty(), "{data:#}");
    assert_eq!(
        sorted(paths(&data["skills_updated"])),
        sorted(written),
        "the same files"
    );
    assert_eq!(skill_files(&w.home).len(), 2);
    let skill_prompt = stdin_of(&w, "skill-2.txt");
    assert!(
        skill_prompt.contains(&b3) && !skill_prompt.contains(&format!("- {b1} ")),
        "only the cycles since the last run: {skill_prompt}"
    );
    assert!(
        skill_prompt.contains("fix-one-err-line-at-a-time.md: Fix one ERR line at a time"),
        "the existing skills are listed: {skill_prompt}"
    );
    let text = std::fs::read_to_string(&fix).expect("skill file");
    assert!(
        text.contains(&format!("cycles: [{b1}, {b2}, {b3}]\n")) && text.contains("(answer 2)"),
        "{text}"
    );

    // The next cycle's prompt shows the skills.
    cycle(&w, "s1");
    let ralph = stdin_of(&w, "ralph-4.txt");
    assert!(
        ralph.contains("### Fix one ERR line at a time")
            && ralph.contains("### Name the file in the commit message"),
        "{ralph}"
    );
}

#[test]
fn without_kept_cycles_no_skill_notes_are_asked_for() {
    let w = World::new(2);
    w.write_config(2, &agent("doctor_agent.sh"), 20, "");
    let (data, _) = doctor(&w);
    assert_eq!(
        data["calls"], 0,
        "advise is off and nothing was kept: {data:#}"
    );
    assert_eq!(data["sessions"]["s1"]["class"], "idle");
    assert!(
        data["skills_note"]
            .as_str()
            .is_some_and(|n| n.starts_with("no kept cycles since ")),
        "{data:#}"
    );
    assert!(!w.dir.path().join("agent-stdin").exists(), "no agent ran");
}

#[test]
fn a_failing_doctor_and_malformed_notes_are_recorded_and_the_run_goes_on() {
    let w = World::new(1);
    let cmd = format!("DOCTOR_AGENT=broken {}", agent("doctor_agent.sh"));
    w.write_config(1, &cmd, 20, "\n[doctor]\nadvise = true\n");
    cycle(&w, "s1");
    let (data, _) = doctor(&w);
    assert_eq!(data["ok"], true, "{data:#}");
    assert_eq!(data["sessions"]["s1"]["class"], "productive");
    assert!(
        data["sessions"]["s1"]["advice_error"]
            .as_str()
            .is_some_and(|e| e.contains("`doctor` for s1 ended with exit code 3")),
        "{data:#}"
    );
    assert_eq!(
        data["skills_unparsed"][0],
        "no `SKILL:` block in the answer: The cycles went well; keep fixing ERR lines."
    );
    assert!(paths(&data["skills_written"]).is_empty());
    assert!(
        !w.home.join("skills").exists(),
        "nothing guessed, nothing written"
    );
}
