//! Tests of the demo agent: its reading of calc agrees with the demo repository's
//! scripts, its repairs, and the effect of its runs on a demo target.

use std::path::PathBuf;

use super::super::repo::test_support::{run_checks, sh};
use super::super::repo::{SEEDED_TEST_FAILURES, SEEDED_TYPE_ERRORS, create_target};
use super::*;

const PROMPT: &str = "You are working on the calc demo. Make the checks pass.\n";

/// A demo target with a worktree for branch `branch`, like brl makes for a cycle.
fn setup(branch: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("target");
    create_target(&target).unwrap();
    let repo = git2::Repository::open(&target).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let reference = repo.branch(branch, &head, false).unwrap().into_reference();
    let wt = tmp.path().join("wt");
    let mut opts = git2::WorktreeAddOptions::new();
    opts.reference(Some(&reference));
    repo.worktree(&branch.replace('/', "-"), &wt, Some(&opts))
        .unwrap();
    (tmp, wt)
}

fn head(dir: &Path) -> git2::Oid {
    git2::Repository::open(dir)
        .unwrap()
        .head()
        .unwrap()
        .target()
        .unwrap()
}

fn seed(i: usize) -> String {
    format!("brl/s1/20260101-0000{i}")
}

fn variant(action: &Action) -> usize {
    match action {
        Action::Fixed(_) => 0,
        Action::Broke(_) => 1,
        Action::Nothing => 2,
    }
}

/// Runs the agent in `dir` and checks its effect on the checks' counts and on HEAD.
fn run_and_check(dir: &Path, prompt: &str, seed: &str) -> Action {
    let before = run_checks(dir);
    let head_before = head(dir);
    let action = run(dir, prompt, seed).unwrap();
    let after = run_checks(dir);
    let repo = git2::Repository::open(dir).unwrap();
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true);
    assert!(
        repo.statuses(Some(&mut opts)).unwrap().is_empty(),
        "left changes uncommitted"
    );
    match &action {
        Action::Nothing => {
            assert_eq!(after, before);
            assert_eq!(head(dir), head_before, "committed while doing nothing");
        }
        Action::Fixed(_) | Action::Broke(_) => {
            let fixed = matches!(action, Action::Fixed(_));
            let expected = if fixed {
                before.problems() - 1
            } else {
                before.problems() + 1
            };
            assert_eq!(after.problems(), expected, "{}", action.describe());
            let commit = repo.head().unwrap().peel_to_commit().unwrap();
            assert_eq!(commit.parent_id(0).unwrap(), head_before);
            assert_eq!(commit.author().name(), Some("brl demo-agent"));
            assert_eq!(commit.author().email(), Some("demo-agent@brl.invalid"));
            let verb = if fixed {
                "demo-agent: fix src/"
            } else {
                "demo-agent: break src/"
            };
            assert!(
                commit.message().unwrap().starts_with(verb),
                "{:?}",
                commit.message()
            );
        }
    }
    // The agent's own reading of the language agrees with the scripts.
    let files = load(dir).unwrap();
    let problems = problems(&files);
    let malformed = problems
        .iter()
        .filter(|p| matches!(p.2, Status::Malformed(_)))
        .count();
    assert_eq!(malformed, after.type_errors);
    assert_eq!(problems.len() - malformed, after.test_failures);
    action
}

#[test]
fn seeds_hit_every_action_with_its_effect_and_deterministically() {
    let mut found: [Option<(String, Action)>; 3] = [None, None, None];
    for i in 0..500 {
        let seed = seed(i);
        let (_tmp, wt) = setup(&seed);
        let action = run_and_check(&wt, PROMPT, &seed);
        let v = variant(&action);
        if found[v].is_none() {
            found[v] = Some((seed, action));
        }
        if found.iter().all(Option::is_some) {
            break;
        }
    }
    for (v, found) in found.into_iter().enumerate() {
        let (seed, action) = found.unwrap_or_else(|| panic!("no seed gave action #{v}"));
        // Same seed, same tree: same action, same resulting tree.
        let (_tmp1, wt1) = setup(&seed);
        let (_tmp2, wt2) = setup(&seed);
        assert_eq!(run(&wt1, PROMPT, &seed).unwrap(), action);
        assert_eq!(run(&wt2, PROMPT, &seed).unwrap(), action);
        let tree = |dir: &Path| {
            let repo = git2::Repository::open(dir).unwrap();
            repo.head().unwrap().peel_to_tree().unwrap().id()
        };
        assert_eq!(tree(&wt1), tree(&wt2));
        assert!(action.describe().len() > 5);
    }
}

#[test]
fn fixes_everything_eventually_then_changes_nothing() {
    let (_tmp, wt) = setup("brl/s1/converge");
    let start = run_checks(&wt);
    assert_eq!(start.problems(), SEEDED_TYPE_ERRORS + SEEDED_TEST_FAILURES);
    let mut seen = [0; 3];
    let mut i = 0;
    while run_checks(&wt).problems() > 0 {
        assert!(i < 1000, "the agent does not converge");
        seen[variant(&run_and_check(&wt, PROMPT, &seed(i)))] += 1;
        i += 1;
    }
    assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
    let counts = run_checks(&wt);
    assert_eq!(counts.tests_passed, 58);
    for i in 0..50 {
        assert_eq!(run_and_check(&wt, PROMPT, &seed(i)), Action::Nothing);
    }
}

#[test]
fn follows_the_task_hint_and_quotes_the_task() {
    let prompt = "Some preamble.\nTASK: fix the failing tests in grid.calc\nMore text.\n";
    let mut fixed = 0;
    for i in 0..40 {
        let (_tmp, wt) = setup(&seed(i));
        let Action::Fixed(what) = run_and_check(&wt, prompt, &seed(i)) else {
            continue;
        };
        assert!(what.starts_with("fixed src/grid.calc:"), "{what}");
        assert!(what.contains("wrong result"), "{what}");
        let repo = git2::Repository::open(&wt).unwrap();
        let message = repo
            .head()
            .unwrap()
            .peel_to_commit()
            .unwrap()
            .message()
            .unwrap()
            .to_string();
        assert!(
            message.contains("Task: fix the failing tests in grid.calc"),
            "{message}"
        );
        fixed += 1;
    }
    assert!(fixed > 10);
}

#[test]
fn repairs_the_seeded_problems_sensibly() {
    let cases = [
        ("ad 4 4 = 8", "add 4 4 = 8"),
        ("mull 3 5 = 15", "mul 3 5 = 15"),
        ("mx 7 2 = 7", "max 7 2 = 7"),
        ("add 1,000 500 = 1500", "add 1000 500 = 1500"),
        ("sub 400 120 280", "sub 400 120 = 280"),
        ("div 1440 0 = 24", "div 1440 60 = 24"),
        ("add 7 8 =", "add 7 8 = 15"),
        ("add -10 = -4", "add -10 6 = -4"),
        ("mul two 3 = 6", "mul 2 3 = 6"),
        ("min 8 3 == 3", "min 8 3 = 3"),
        ("max 4 5 = five", "max 4 5 = 5"),
        ("sub 50 x = 35", "sub 50 15 = 35"),
        ("add 19 23 = 41", "add 19 23 = 42"),
        ("div -7 2 = -4", "div -7 2 = -3"),
        ("mul 2.0 150 = 300", "mul 2 150 = 300"),
        ("add 2 = 3 5", "add 2 3 = 5"),
        ("add 2 3 4 = 6", "add 2 4 = 6"),
        ("ADD 2 3 = 5", "add 2 3 = 5"),
        ("mod 100 60 = 40", "sub 100 60 = 40"),
        ("add 2 3 4 = 24", "add 2 3 = 5"),
        ("ADD 2 3 = 6", "add 2 3 = 5"),
    ];
    for (line, want) in cases {
        assert!(
            !matches!(classify(line), Status::Pass | Status::Ignored),
            "{line}"
        );
        assert_eq!(repair(line).as_deref(), Some(want), "{line}");
    }
    assert_eq!(repair("hello world"), None);
    assert_eq!(repair("= 5"), None);
}

/// Lines that probe the corners of calc.awk.
const EDGE_CASES: &str = "add 2 3 = 5
   add\t2   3 =\t5   
add 2 3 = 5\r
# comment
   # indented comment
#nospace

add 2 3 = 05
add -0 0 = 0
mul -3 0 = -0
mul -3 0 = 5
div -1 2 = 0
div 1 -2 = -0
div -7 -2 = 3
add 999999 999999 = 1999998
mul 999999 999999 = 999998000001
mul -999999 999999 = 999998000001
add 1234567 1 = 1234568
add 0001234 1 = 1235
add 2 3 = 99999999999999999999999
add 2 3 = 00000000000000000000005
= 5
= = 5
add = 5
add 2 3 =
add 2 3 = 5 = 5
add 2 = 3 5
add 2 3 4 = 9
add 2 = 5
add2 3 = 5
ADD 2 3 = 5
add x y = z
add 2 3 = z
div 5 0 = 0
div 5 -0 = 0
div 0 5 = 0
min -5 5 = -5
max -5 5 = 5
sub 2 5 = -3
add -- 1 = 1
add - 1 = 1
add 2 3 = +5
add \u{fc} 3 = 5
add 2 3 = 5 # trailing comment
";

/// What check.sh and test.sh print for `files`, according to the agent's reading.
fn render(files: &[CalcFile]) -> (String, String) {
    let (mut check, mut test) = (String::new(), String::new());
    let (mut errors, mut passed, mut failed, mut skipped) = (0, 0, 0, 0);
    for file in files {
        for (l, line) in file.lines.iter().enumerate() {
            let place = format!("{}:{}", file.rel, l + 1);
            match classify(line) {
                Status::Ignored => {}
                Status::Malformed(why) => {
                    check += &format!("error: {place}: {why}\n");
                    errors += 1;
                    skipped += 1;
                }
                Status::Pass => {
                    test += &format!("ok {place}\n");
                    passed += 1;
                }
                Status::Fail { expected } => {
                    let t = tokens(line);
                    let eq = format!("{} {} {} = {}", t[0], t[1], t[2], t[4]);
                    test += &format!("FAIL {place}: {eq} (expected {expected})\n");
                    failed += 1;
                }
            }
        }
    }
    check += &format!("check.sh: {errors} error(s)\n");
    test += &format!("test.sh: {passed} passed, {failed} failed, {skipped} skipped (malformed)\n");
    (check, test)
}

#[test]
fn reads_calc_exactly_like_the_scripts() {
    let (_tmp, wt) = setup("brl/s1/edge");
    std::fs::write(wt.join("src/edge.calc"), EDGE_CASES).unwrap();
    std::fs::write(wt.join("src/no-newline.calc"), "add 1 1 = 3").unwrap();
    std::fs::write(wt.join("src/empty.calc"), "").unwrap();
    std::fs::write(wt.join("src/.hidden.calc"), "oops").unwrap();
    std::fs::write(wt.join("src/B.calc"), "add 1 1 = 2\n").unwrap();
    let files = load(&wt).unwrap();
    let (check, test) = render(&files);
    assert_eq!(sh(&wt, "sh check.sh").0, check);
    assert_eq!(sh(&wt, "sh test.sh").0, test);

    // Whatever the agent repairs, it repairs into a passing line.
    for line in EDGE_CASES.lines() {
        if let Some(fixed) = repair(line) {
            assert_eq!(classify(&fixed), Status::Pass, "{line:?} -> {fixed:?}");
        }
    }
}

#[test]
fn seeded_repository_reads_as_seeded() {
    let (_tmp, wt) = setup("brl/s1/seeded");
    let files = load(&wt).unwrap();
    let (check, test) = render(&files);
    assert_eq!(sh(&wt, "sh check.sh").0, check);
    assert_eq!(sh(&wt, "sh test.sh").0, test);
    // Every seeded problem is one the agent can repair.
    for (f, l, _) in problems(&files) {
        let line = &files[f].lines[l];
        assert_eq!(classify(&repair(line).unwrap()), Status::Pass, "{line}");
    }
}

#[test]
fn does_nothing_without_sources_and_fails_outside_a_repository() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(run(tmp.path(), PROMPT, "x").unwrap(), Action::Nothing);
    std::fs::create_dir(tmp.path().join("src")).unwrap();
    std::fs::write(tmp.path().join("src/a.calc"), "ad 1 1 = 2\n").unwrap();
    let fixing_seed = (0..100)
        .map(seed)
        .find(|s| Rng::new(s).below(100) < 70)
        .unwrap();
    assert!(run(tmp.path(), PROMPT, &fixing_seed).is_err());
}

#[test]
fn describes_what_it_did() {
    assert_eq!(Action::Nothing.describe(), "changed nothing");
    assert_eq!(Action::Fixed("fixed x".into()).describe(), "fixed x");
    assert_eq!(Action::Broke("broke y".into()).describe(), "broke y");
    assert_eq!(task("a\n  TASK:  do it \nb"), Some("do it"));
    assert_eq!(task("no task"), None);
}

#[test]
fn a_fix_already_waiting_for_review_is_not_made_again() {
    // Find a seed that fixes something, then list that very fix as pending: the agent picks
    // another problem (or none), never the same line.
    let (_t, dir) = setup("brl/s1/20260101-000000");
    let files = load(&dir).unwrap();
    let problems = problems(&files);
    let mut rng = Rng::new("any");
    let first = fix(&files, &problems, PROMPT, &mut rng).expect("something to fix");
    let place = format!("{}:{}", files[first.file].rel, first.line + 1);
    let prompt = format!(
        "{PROMPT}\n## Changes already waiting for review (do not make them again; pick something else)\n- \"demo-agent: fix {place} (whatever)\" (s2): {}\n\n## Project context\nnone\n",
        files[first.file].rel
    );
    for i in 0..20 {
        let mut rng = Rng::new(&seed(i));
        if let Some(c) = fix(&files, &problems, &prompt, &mut rng) {
            assert_ne!(
                (c.file, c.line),
                (first.file, first.line),
                "the pending fix of {place} was made again"
            );
        }
    }
}
