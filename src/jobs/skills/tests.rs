use std::collections::HashMap;

use serde_json::json;

use super::file::{self, Saved};
use super::note::{self, Note, parse, slug};
use super::*;

fn note(title: &str, when: &str, technique: &str) -> Note {
    Note {
        title: title.into(),
        when: when.into(),
        technique: technique.into(),
    }
}

#[test]
fn two_well_formed_notes_are_read() {
    let answer = "SKILL: Fix one ERR line at a time\n\
                  WHEN: the type check counts ERR lines\n\
                  TECHNIQUE:\n\
                  Change the first ERR line only.\n\
                  \n\
                  Commit it alone.\n\
                  \n\
                  skill: Name the file in the commit\n\
                  when: every commit\n\
                  technique: Say which file changed.\n";
    let p = parse(answer);
    assert_eq!(p.problems, Vec::<String>::new());
    assert_eq!(
        p.notes,
        [
            note(
                "Fix one ERR line at a time",
                "the type check counts ERR lines",
                "Change the first ERR line only.\n\nCommit it alone."
            ),
            note(
                "Name the file in the commit",
                "every commit",
                "Say which file changed."
            ),
        ]
    );
}

#[test]
fn malformed_notes_are_recorded_never_guessed() {
    let answer = "Here are my notes.\n\
                  SKILL: No when\n\
                  TECHNIQUE:\nsomething\n\
                  SKILL: Stray line\n\
                  WHEN: always\n\
                  Because I said so.\n\
                  TECHNIQUE:\nsomething\n\
                  SKILL: No technique\n\
                  WHEN: always\n\
                  SKILL:\n\
                  WHEN: always\n\
                  TECHNIQUE: x\n\
                  SKILL: Good one\n\
                  WHEN: always\n\
                  TECHNIQUE: do it\n";
    let p = parse(answer);
    assert_eq!(p.notes, [note("Good one", "always", "do it")]);
    assert_eq!(p.problems.len(), 5, "{:#?}", p.problems);
    assert!(
        p.problems[0].starts_with("text before the first `SKILL:` was ignored: Here are my notes.")
    );
    assert!(p.problems[1].starts_with("skill note 1 (\"No when\"): no `WHEN:` line"));
    assert!(p.problems[2].contains("\"Stray line\"): a line that is not `WHEN:` or `TECHNIQUE:`"));
    assert!(p.problems[2].ends_with("Because I said so."));
    assert!(p.problems[3].contains("\"No technique\"): no `TECHNIQUE:` text"));
    assert!(p.problems[4].contains("the title after `SKILL:` is empty"));

    let p = parse("I found nothing special.");
    assert!(p.notes.is_empty());
    assert_eq!(
        p.problems,
        ["no `SKILL:` block in the answer: I found nothing special."]
    );
    assert_eq!(parse("  NONE \n"), note::Parsed::default());
    assert_eq!(parse(""), note::Parsed::default());
    let long = format!(
        "SKILL: t\nWHEN: w\nTECHNIQUE:\n{}",
        "x".repeat(note::MAX_TECHNIQUE + 1)
    );
    assert!(
        parse(&long).problems[0].contains("longer than 2000"),
        "{:?}",
        parse(&long)
    );
    let p = parse("SKILL: !!!\nWHEN: w\nTECHNIQUE: t");
    assert!(p.problems[0].contains("no letters or digits"), "{p:?}");
}

#[test]
fn slugs() {
    assert_eq!(
        slug("Read the failing output before editing").as_deref(),
        Some("read-the-failing-output-before-editing")
    );
    assert_eq!(
        slug("  Don't use `any` (TypeScript)! ").as_deref(),
        Some("don-t-use-any-typescript")
    );
    assert_eq!(
        slug("Ünïcode naïve café").as_deref(),
        Some("n-code-na-ve-caf")
    );
    assert_eq!(slug("?!").as_deref(), None);
    let long = slug(&"word ".repeat(30)).expect("slug");
    assert!(
        long.len() <= 60 && long.ends_with("word") && !long.ends_with('-'),
        "{long}"
    );
}

#[test]
fn near_identical_titles_are_the_same_skill() {
    let a = note::title_words("Read the failing output before editing");
    let b = note::title_words("Read failing output before editing");
    assert!(note::jaccard(&a, &b) >= file::SAME_TITLE);
    let c = note::title_words("Read the failing test before editing");
    assert!(note::jaccard(&a, &c) < file::SAME_TITLE);
    assert_eq!(
        note::jaccard(&note::title_words(""), &note::title_words("")),
        0.0
    );
}

#[test]
fn saving_writes_new_files_and_updates_duplicates() {
    let d = tempfile::tempdir().expect("tempdir");
    let dir = d.path();
    let t1: DateTime<Utc> = "2026-11-21T01:00:00Z".parse().expect("ts");
    let t2: DateTime<Utc> = "2026-11-21T02:00:00Z".parse().expect("ts");
    let first = note(
        "Read the failing output before editing",
        "a test fails",
        "Run it first.",
    );
    let cycles = ["brl/s1/a".to_string(), "brl/s2/b".to_string()];
    let saved = file::save(dir, &first, &cycles, t1).expect("save");
    let path = dir.join("read-the-failing-output-before-editing.md");
    assert_eq!(saved, Saved::Written(path.clone()));
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "---\ntitle: Read the failing output before editing\nwhen: a test fails\n\
         cycles: [brl/s1/a, brl/s2/b]\nupdated: 2026-11-21T01:00:00Z\n---\nRun it first.\n"
    );

    // Same slug: an update, cycles merged without repeats.
    let again = note(
        "Read the failing output, before editing!",
        "a check fails",
        "Run the check.",
    );
    let saved = file::save(dir, &again, &["brl/s2/b".into(), "brl/s1/c".into()], t2).expect("save");
    assert_eq!(saved, Saved::Updated(path.clone()));
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.contains("cycles: [brl/s1/a, brl/s2/b, brl/s1/c]\nupdated: 2026-11-21T02:00:00Z\n"),
        "{text}"
    );
    assert!(
        text.contains("when: a check fails\n") && text.ends_with("---\nRun the check.\n"),
        "{text}"
    );

    // A near-identical title: the same file, its title kept.
    let near = note("Read failing output before editing", "always", "Read it.");
    assert_eq!(
        file::save(dir, &near, &["brl/s3/d".into()], t2).expect("save"),
        Saved::Updated(path.clone())
    );
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.starts_with("---\ntitle: Read the failing output before editing\n"),
        "{text}"
    );
    assert!(text.contains("brl/s1/c, brl/s3/d]"), "{text}");

    // A different title: a new file.
    let other = note("Keep commits small", "always", "One change.");
    let saved = file::save(dir, &other, &["brl/s1/e".into()], t2).expect("save");
    assert_eq!(saved, Saved::Written(dir.join("keep-commits-small.md")));
    assert_eq!(
        std::fs::read_dir(dir).expect("dir").count(),
        2,
        "no temp files, no duplicates"
    );

    // Files read back, the cycles bounded.
    let all = file::load_all(dir);
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[1].cycles,
        ["brl/s1/a", "brl/s2/b", "brl/s1/c", "brl/s3/d"]
    );
    let many: Vec<String> = (0..30).map(|i| format!("brl/s1/{i}")).collect();
    file::save(dir, &other, &many, t2).expect("save");
    let all = file::load_all(dir);
    assert_eq!(all[0].cycles.len(), file::MAX_CYCLES);
    assert_eq!(all[0].cycles.last().map(String::as_str), Some("brl/s1/29"));
}

#[test]
fn a_skill_file_without_front_matter_is_updated_by_its_name() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("small-diffs.md"), "Keep diffs small.\n").expect("write");
    let n = note("Small diffs", "always", "Keep the diff under 50 lines.");
    let t: DateTime<Utc> = "2026-11-21T01:00:00Z".parse().expect("ts");
    let saved = file::save(d.path(), &n, &["brl/s1/a".into()], t).expect("save");
    assert_eq!(saved, Saved::Updated(d.path().join("small-diffs.md")));
    let text = std::fs::read_to_string(d.path().join("small-diffs.md")).expect("read");
    assert!(
        text.starts_with("---\ntitle: Small diffs\nwhen: always\ncycles: [brl/s1/a]\n"),
        "{text}"
    );
}

#[test]
fn a_kept_cycle_is_described_with_figures_and_the_queue_subject() {
    let e = Entry::new(
        "ralph_cycle",
        Some("s1"),
        json!({"outcome": "kept", "branch": "brl/s1/x", "reason": "errors 2 → 1",
               "before": {"errors": 2, "failures": 1, "passed": null},
               "after": {"errors": 1, "failures": 1, "passed": null},
               "subject": "from the log", "task": "Fix f1"}),
    );
    let mut subjects = HashMap::new();
    assert_eq!(
        describe(&e, &subjects),
        "- brl/s1/x (s1): errors 2 → 1 [errors 2 → 1, failures 1 → 1] — \"from the log\" (task: Fix f1)"
    );
    subjects.insert(
        "brl/s1/x".to_string(),
        "fix one error in f1.txt".to_string(),
    );
    assert!(describe(&e, &subjects).contains("— \"fix one error in f1.txt\""));
}
