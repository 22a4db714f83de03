//! `[worktree] setup` (`brl::checks::setup::ensure`): real git repositories and worktrees made by
//! brl's own `Target::ensure_worktree`, a setup script that counts its runs in a file outside the
//! worktree (tests/fixtures/setup/counting_setup.sh), the review's re-check worktree through
//! `brl review`, and a real TypeScript project installed with `npm ci` whose `tsc` check then sees
//! the dependency.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use brl::checks::setup::{self, SetupCtx, SetupError, SetupRun};
use brl::checks::{self, MeasureCtx};
use brl::config::Config;
use brl::defaults::toml_string;
use brl::git::Target;
use brl::home::Home;
use brl::outcome::CheckState;
use common::{World, agent, git};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A world (tests/common) plus a lockfile `deps.lock` committed on main, and the file the setup
/// counts its runs in.
struct Bed {
    w: World,
    count: PathBuf,
}

impl Bed {
    fn new() -> Bed {
        let w = World::new(2);
        std::fs::write(w.repo.join("deps.lock"), "left-pad 1.0.0\n").expect("write");
        git(&w.repo, &["add", "deps.lock"]);
        git(&w.repo, &["commit", "-q", "-m", "a lockfile"]);
        let count = w.dir.path().join("setup-count");
        Bed { w, count }
    }

    /// The command that runs the counting setup in `mode`.
    fn command(&self, mode: &str) -> String {
        let script = Path::new(ROOT).join("tests/fixtures/setup/counting_setup.sh");
        format!(
            "sh '{}' '{}' {mode}",
            script.display(),
            self.count.display()
        )
    }

    /// A config whose `[worktree]` section is `section`.
    fn config(&self, section: &str) -> Config {
        config_for(&self.w.repo, &self.w.home, section)
    }

    /// A `[worktree]` section running the setup in `mode`, keyed by deps.lock.
    fn section(&self, mode: &str) -> String {
        format!(
            "setup = {}\nsetup_inputs = [\"deps.lock\"]\n",
            toml_string(&self.command(mode))
        )
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(&self.count)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    fn home(&self) -> Home {
        Home::new(&self.w.home)
    }

    fn target(&self) -> Target {
        Target::open(&self.w.repo, "main").expect("open target")
    }

    /// Session `session`'s worktree at its branch's tip, as a cycle's Read phase makes it.
    fn worktree(&self, session: &str) -> PathBuf {
        worktree_of(&self.home(), &self.target(), session)
    }

    fn ensure(&self, config: &Config, session: &str) -> Result<SetupRun, SetupError> {
        ensure_in(
            &self.home(),
            config,
            &self.home().worktree(session),
            session,
        )
    }
}

fn config_for(repo: &Path, home: &Path, section: &str) -> Config {
    let text = format!(
        "repo = {}\n\n[agent]\ncommand = \"claude -p\"\n\n[worktree]\n{section}",
        toml_string(&repo.display().to_string())
    );
    Config::parse(&home.join("brl.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn worktree_of(home: &Home, target: &Target, session: &str) -> PathBuf {
    let branch = format!("brl/{session}/work");
    if !target.branch_exists(&branch) {
        let main = target.main_commit().expect("main");
        target.create_branch(&branch, main).expect("branch");
    }
    let path = home.worktree(session);
    target
        .ensure_worktree(&home.worktree_name(session), &path, &branch)
        .expect("worktree");
    path
}

fn ensure_in(
    home: &Home,
    config: &Config,
    worktree: &Path,
    session: &str,
) -> Result<SetupRun, SetupError> {
    let prefix = home.session_logs_dir(session).join("cycle");
    setup::ensure(&SetupCtx {
        home,
        config,
        worktree,
        session: Some(session),
        log_prefix: &prefix,
        cancel: None,
        pgid_file: None,
    })
}

fn is_ran(r: &SetupRun) -> bool {
    matches!(r, SetupRun::Ran { .. })
}

#[test]
fn the_setup_runs_once_per_worktree_and_input_version() {
    let b = Bed::new();
    let config = b.config(&b.section("ok"));
    let wt = b.worktree("s1");

    let first = b.ensure(&config, "s1").expect("setup");
    let SetupRun::Ran { output, key, .. } = &first else {
        panic!("the first setup of a worktree runs: {first:?}");
    };
    assert_eq!(b.runs(), 1);
    assert!(wt.join("ignored/deps/marker").is_file());
    assert_eq!(
        *output,
        b.home().session_logs_dir("s1").join("cycle.setup.log")
    );
    let saved = std::fs::read_to_string(output).expect("setup output");
    assert!(saved.contains("installing into ignored/deps") && saved.contains("setup done"));
    // The stamp lives outside the worktree; the worktree holds nothing git sees.
    let stamp = setup::stamp_path(&b.home(), &wt);
    assert!(stamp.starts_with(b.w.home.join("logs/worktrees")) && stamp.is_file());
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    let entries = b.w.entries("worktree_setup");
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["session"], "s1");
    assert_eq!(e["data"]["ok"], true, "{e}");
    assert_eq!(e["data"]["exit"], 0);
    assert_eq!(e["data"]["key"], key.as_str());
    assert_eq!(e["data"]["command"], b.command("ok"));
    assert!(e["data"]["duration_ms"].is_u64());
    assert!(
        e["data"]["output_tail"]
            .as_str()
            .is_some_and(|t| t.ends_with("setup done")),
        "{e}"
    );

    // Same worktree, same lockfile: nothing runs, also after the next cycle's checkout (which
    // keeps ignored files).
    assert_eq!(
        b.ensure(&config, "s1").expect("setup"),
        SetupRun::UpToDate { key: key.clone() }
    );
    b.worktree("s1");
    assert!(!is_ran(&b.ensure(&config, "s1").expect("setup")));
    assert_eq!(b.runs(), 1);
    assert_eq!(b.w.entries("worktree_setup").len(), 1);

    // The branch changes the lockfile: the setup runs again, once.
    std::fs::write(wt.join("deps.lock"), "left-pad 1.0.1\n").expect("write");
    git(&wt, &["commit", "-q", "-am", "bump left-pad"]);
    b.worktree("s1");
    assert!(is_ran(&b.ensure(&config, "s1").expect("setup")));
    assert!(!is_ran(&b.ensure(&config, "s1").expect("setup")));
    assert_eq!(b.runs(), 2);

    // A changed command runs again too.
    let other = b.config(&format!(
        "setup = {}\nsetup_inputs = [\"deps.lock\"]\n",
        toml_string(&format!("{} # v2", b.command("ok")))
    ));
    assert!(is_ran(&b.ensure(&other, "s1").expect("setup")));
    assert_eq!(b.runs(), 3);

    // Another session's worktree gets its own setup.
    b.worktree("s2");
    assert!(is_ran(&b.ensure(&config, "s2").expect("setup")));
    assert!(!is_ran(&b.ensure(&config, "s2").expect("setup")));
    assert_eq!(b.runs(), 4);

    // A worktree deleted and made afresh (its ignored files gone) is set up again.
    std::fs::remove_dir_all(&wt).expect("remove worktree");
    b.worktree("s1");
    assert!(!wt.join("ignored/deps/marker").exists());
    assert!(is_ran(&b.ensure(&other, "s1").expect("setup")));
    assert!(wt.join("ignored/deps/marker").is_file());
    assert_eq!(b.runs(), 5);
}

#[test]
fn without_inputs_it_runs_once_per_worktree_and_without_setup_nothing_runs() {
    let b = Bed::new();
    b.worktree("s1");
    let none = b.config("");
    assert_eq!(
        b.ensure(&none, "s1").expect("nothing"),
        SetupRun::NotConfigured
    );
    assert_eq!(b.runs(), 0);
    assert!(b.w.entries("worktree_setup").is_empty());

    let once = b.config(&format!("setup = {}\n", toml_string(&b.command("ok"))));
    assert!(is_ran(&b.ensure(&once, "s1").expect("setup")));
    // Any file may change; with no inputs listed the setup stays done.
    let wt = b.home().worktree("s1");
    std::fs::write(wt.join("deps.lock"), "changed\n").expect("write");
    assert!(!is_ran(&b.ensure(&once, "s1").expect("setup")));
    assert_eq!(b.runs(), 1);
}

#[test]
fn a_failing_setup_is_an_error_with_its_exit_and_output_and_runs_again_next_time() {
    let b = Bed::new();
    let config = b.config(&b.section("fail"));
    let wt = b.worktree("s1");
    let err = b.ensure(&config, "s1").expect_err("the setup fails");
    assert!(matches!(err, SetupError::Failed { .. }), "{err:?}");
    let text = err.to_string();
    let head = format!(
        "worktree setup `{}` failed (exit 3) in {}: ",
        b.command("fail"),
        wt.display()
    );
    assert!(text.starts_with(&head), "{text}");
    assert!(
        text.contains("npm ERR! could not resolve left-pad@9.9.9"),
        "{text}"
    );
    assert!(text.contains("cycle.setup.log"), "{text}");
    assert!(!setup::stamp_path(&b.home(), &wt).exists());
    let e = b.w.entries("worktree_setup").pop().expect("an entry");
    assert_eq!(e["data"]["ok"], false, "{e}");
    assert_eq!(e["data"]["exit"], 3);
    assert_eq!(e["data"]["end"], "exited");
    assert!(
        e["data"]["output_tail"]
            .as_str()
            .is_some_and(|t| t.contains("npm ERR! code E404")),
        "{e}"
    );
    assert!(
        e["data"]["error"]
            .as_str()
            .is_some_and(|t| t.contains("failed (exit 3)")),
        "{e}"
    );
    // Not marked done: the next cycle tries again.
    assert!(b.ensure(&config, "s1").is_err());
    assert_eq!(b.runs(), 2);
    // Fixed, it runs and is done.
    let fixed = b.config(&b.section("ok"));
    assert!(is_ran(&b.ensure(&fixed, "s1").expect("setup")));
    assert!(!is_ran(&b.ensure(&fixed, "s1").expect("setup")));
    assert_eq!(b.runs(), 3);
}

#[test]
fn files_the_setup_leaves_that_git_sees_fail_it_by_name() {
    let b = Bed::new();
    let wt = b.worktree("s1");
    let err = b
        .ensure(&b.config(&b.section("stray")), "s1")
        .expect_err("stray files");
    let text = err.to_string();
    assert!(matches!(err, SetupError::NotIgnored { .. }), "{err:?}");
    assert!(text.contains("build-stamp.txt"), "{text}");
    assert!(text.contains("gen/"), "{text}");
    assert!(text.contains("add them to .gitignore"), "{text}");
    assert!(!setup::stamp_path(&b.home(), &wt).exists());
    let e = b.w.entries("worktree_setup").pop().expect("an entry");
    assert_eq!(e["data"]["ok"], false, "{e}");
    assert_eq!(e["data"]["exit"], 0, "{e}");

    // A setup that rewrites a tracked file is refused the same way.
    b.worktree("s1"); // back at the tip: the strays are gone
    let err = b
        .ensure(&b.config(&b.section("modify")), "s1")
        .expect_err("a tracked file changed");
    assert!(matches!(err, SetupError::ChangedTracked { .. }), "{err:?}");
    assert!(err.to_string().contains("f1.txt"), "{err}");
    assert!(!setup::stamp_path(&b.home(), &wt).exists());
}

#[test]
fn a_setup_past_its_time_limit_is_killed_and_reported() {
    let b = Bed::new();
    b.worktree("s1");
    let config = b.config(&format!(
        "setup = {}\nsetup_timeout_secs = 1\n",
        toml_string(&format!("{} 60", b.command("sleep")))
    ));
    let t = Instant::now();
    let err = b.ensure(&config, "s1").expect_err("timed out");
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    let text = err.to_string();
    assert!(
        text.contains("(ran past [worktree] setup_timeout_secs = 1)"),
        "{text}"
    );
    let e = b.w.entries("worktree_setup").pop().expect("an entry");
    assert_eq!(e["data"]["end"], "timed_out", "{e}");
    assert!(e["data"]["exit"].is_null(), "{e}");
}

#[test]
fn two_ensures_at_once_on_one_worktree_run_the_setup_once() {
    let b = Bed::new();
    b.worktree("s1");
    let config = b.config(&format!(
        "setup = {}\n",
        toml_string(&format!("{} 1", b.command("sleep")))
    ));
    let results: Vec<SetupRun> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2)
            .map(|_| s.spawn(|| b.ensure(&config, "s1").expect("setup")))
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert_eq!(
        results.iter().filter(|r| is_ran(r)).count(),
        1,
        "{results:?}"
    );
    assert_eq!(b.runs(), 1);
}

/// The automated review's re-check worktree is set up before its checks run; a failing setup
/// stops the review with the setup's own words, and the branch stays pending.
#[test]
fn the_review_recheck_worktree_is_set_up_and_a_failing_setup_stops_the_review() {
    let b = Bed::new();
    let review_cfg = |mode: &str| {
        format!(
            "\n[review]\nmode = \"advisory\"\n\n[worktree]\n{}",
            b.section(mode)
        )
    };
    b.w.write_config(1, &agent("review_agent.sh"), 20, &review_cfg("ok"));
    let (code, out, err) = b.w.run(&["cycle", "s1"]);
    assert_eq!(code, 0, "cycle: {out}{err}");
    assert_eq!(b.w.queue().len(), 1);
    std::fs::write(b.w.dir.path().join("verdict"), "approve").expect("verdict");
    let before = b.runs();

    let (code, out, err) = b.w.run(&["review"]);
    assert_eq!(code, 0, "review: {out}{err}");
    let e = b.w.entries("cto_review").pop().expect("a cto_review entry");
    assert_eq!(e["data"]["ok"], true, "{e}");
    let recheck = b.w.home.join("worktrees/_review");
    // Once at main; the merge has the same lockfile, so the setup is not run again for it.
    assert_eq!(b.runs(), before + 1);
    assert!(recheck.join("ignored/deps/marker").is_file());
    assert!(setup::stamp_path(&b.home(), &recheck).is_file());
    let s =
        b.w.entries("worktree_setup")
            .pop()
            .expect("the re-check's setup");
    assert!(s["session"].is_null(), "{s}");
    assert_eq!(s["data"]["worktree"], recheck.display().to_string());
    assert!(
        s["data"]["output"]
            .as_str()
            .is_some_and(|p| p.contains("/logs/jobs/") && p.ends_with("-main.setup.log")),
        "{s}"
    );

    // A setup that fails: the review stops before any reviewer, with the command's output.
    b.w.write_config(1, &agent("review_agent.sh"), 20, &review_cfg("fail"));
    let _ = b.w.run(&["review"]);
    let e = b.w.entries("cto_review").pop().expect("a cto_review entry");
    assert_eq!(e["data"]["ok"], false, "{e}");
    let why = e["data"]["error"].as_str().unwrap_or_default();
    assert!(why.contains("re-check worktree: worktree setup `"), "{e}");
    assert!(why.contains("failed (exit 3)"), "{e}");
    assert!(why.contains("could not resolve left-pad@9.9.9"), "{e}");
    assert_eq!(b.w.queue()[0]["status"], "pending");
}

/// A real TypeScript project: `npm ci --prefer-offline` as the setup installs `typescript` once
/// per worktree and lockfile, and brl's `npx tsc --noEmit` check then type-checks against it.
#[test]
fn a_typescript_project_gets_node_modules_once_and_its_type_check_sees_them() {
    if std::process::Command::new("npm")
        .arg("--version")
        .output()
        .is_err()
    {
        let ok = std::process::Command::new("bash")
            .arg(Path::new(ROOT).join("tests/common/node.sh"))
            .status()
            .expect("bash runs tests/common/node.sh");
        assert!(
            ok.success(),
            "tests/common/node.sh could not install node and npm"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("app");
    let home_dir = dir.path().join("home");
    std::fs::create_dir_all(repo.join("src")).expect("mkdir");
    std::fs::create_dir_all(&home_dir).expect("mkdir");
    let fixture = Path::new(ROOT).join("tests/fixtures/setup/ts");
    for (from, to) in [
        ("package.json", "package.json"),
        ("package-lock.json", "package-lock.json"),
        ("tsconfig.json", "tsconfig.json"),
        ("gitignore", ".gitignore"),
        ("src/index.ts", "src/index.ts"),
    ] {
        std::fs::copy(fixture.join(from), repo.join(to)).expect("copy fixture");
    }
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Test"]);
    git(&repo, &["config", "user.email", "test@example.invalid"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "a TypeScript project"]);

    // npm's cache under target/, so reruns install from it.
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("npm-cache");
    let command = format!(
        "npm_config_cache='{}' npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false npm ci --prefer-offline",
        cache.display()
    );
    let section = format!(
        "setup = {}\nsetup_inputs = [\"package-lock.json\"]\nsetup_timeout_secs = 600\n\n[checks.typecheck]\ncommand = \"npx tsc --noEmit\"\nparser = \"tsc\"\n",
        toml_string(&command)
    );
    let config = config_for(&repo, &home_dir, &section);
    let home = Home::new(&home_dir);
    let target = Target::open(&repo, "main").expect("target");
    let wt = worktree_of(&home, &target, "s1");
    assert!(!wt.join("node_modules").exists());

    let run = ensure_in(&home, &config, &wt, "s1").unwrap_or_else(|e| panic!("{e}"));
    assert!(is_ran(&run), "{run:?}");
    assert!(wt.join("node_modules/.bin/tsc").exists());
    assert!(wt.join("node_modules/typescript/package.json").is_file());
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    // Checks do not install again: the second ensure of the same lockfile is up to date.
    assert!(!is_ran(
        &ensure_in(&home, &config, &wt, "s1").expect("setup")
    ));
    assert_eq!(
        std::fs::read_to_string(home.log_path())
            .expect("log")
            .lines()
            .filter(|l| l.contains("\"worktree_setup\""))
            .count(),
        1
    );

    // brl's type check runs tsc from node_modules against typescript's own declarations: clean,
    // then one error where a file uses `ts.version` (a string) as a number.
    let measure = |label: &str| {
        checks::measure(
            &MeasureCtx {
                home: &home,
                config: &config,
                worktree: &wt,
                output_prefix: home.session_logs_dir("s1").join("ts"),
                cancel: None,
                pgid_file: None,
            },
            label,
        )
        .expect("measure")
    };
    let m = measure("clean");
    assert_eq!(m.typecheck, CheckState::Ran, "{m:?}");
    assert_eq!(m.counts.errors, Some(0), "{m:?}");
    std::fs::write(
        wt.join("src/bad.ts"),
        "import * as ts from \"typescript\";\nexport const n: number = ts.version;\n",
    )
    .expect("write");
    let m = measure("bad");
    assert_eq!(m.typecheck, CheckState::Ran, "{m:?}");
    assert_eq!(m.counts.errors, Some(1), "{m:?}");
}
