//! `brl gate` inside the REAL agent CLIs (Claude Code, Codex, Gemini CLI), installed the way brl
//! installs it (Claude: `.claude/settings.json` PreToolUse; Gemini: `.gemini/settings.json`
//! BeforeTool; Codex: the preset's `-c hooks.PreToolUse=[…]` with the trust flag, `$BRL_HOME` and
//! `$BRL_SESSION` from the environment brl gives the agent). The scripted fake model asks for a
//! dangerous command (`rm -rf` of a folder outside the worktree), a write outside the worktree and
//! an ordinary write inside it: the first two are blocked by the gate — a `gate_block` entry in the
//! home's log each, and the folder / file are untouched — and the third happens.
//!
//! Each CLI is run with permissions that would let it do all three without the gate (Claude:
//! acceptEdits and `Bash(rm:*)` allowed; Gemini: `--yolo`; Codex: `workspace-write`), so what stops
//! them is the gate. The CLIs come from `tests/agent-clis.sh` (cached under `target/`).

#[path = "common/fake_model/mod.rs"]
mod fake_model;
#[path = "real_agents/support.rs"]
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use brl::agents::{PresetKind, codex};
use brl::gate::install::{hook_command, install_for};
use brl::gate::tools::{Kind, kind};
use fake_model::{FakeModel, Script, Turn};
use support::{Run, assert_offline, cli, git, run};

const TIMEOUT: Duration = Duration::from_secs(150);
const SESSION: &str = "s1";

/// A brl home with a brl.toml and the session's worktree at `<home>/worktrees/s1` (a linked
/// worktree of `main/`), a folder `victim/` and the place of `outside.txt` beside them, and a
/// HOME for the CLI.
struct Setup {
    dir: tempfile::TempDir,
    brl_home: PathBuf,
    wt: PathBuf,
    agent_home: PathBuf,
}

impl Setup {
    fn new(tag: &str, agent: PresetKind) -> Setup {
        let dir = tempfile::Builder::new()
            .prefix(&format!("gate-{tag}-"))
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("tempdir");
        let root = dir.path().canonicalize().expect("canonical");
        let main = root.join("main");
        let brl_home = root.join("brl");
        let agent_home = root.join("home");
        for d in [
            &main,
            &brl_home.join("logs"),
            &agent_home,
            &root.join("victim"),
        ] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(root.join("victim/keep.txt"), "precious\n").expect("write");
        git(&main, &["init", "-q", "-b", "main"]);
        git(&main, &["config", "user.name", "Test"]);
        git(&main, &["config", "user.email", "test@example.invalid"]);
        std::fs::write(main.join("greeting.txt"), "hello world\n").expect("write");
        git(&main, &["add", "."]);
        git(&main, &["commit", "-q", "-m", "init"]);
        let wt = brl_home.join("worktrees").join(SESSION);
        let wt_text = wt.display().to_string();
        git(
            &main,
            &["worktree", "add", "-q", "-b", "brl/s1/1", &wt_text],
        );
        std::fs::write(
            brl_home.join("brl.toml"),
            format!(
                "repo = \"{}\"\nmain = \"main\"\n[agent]\npreset = \"{}\"\ncommand = \"x\"\n",
                main.display(),
                agent.name()
            ),
        )
        .expect("brl.toml");
        Setup {
            dir,
            brl_home,
            wt,
            agent_home,
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().expect("canonical")
    }

    fn victim(&self) -> PathBuf {
        self.root().join("victim")
    }

    fn outside(&self) -> PathBuf {
        self.root().join("outside.txt")
    }

    /// Install the gate as brl does for this agent (nothing to install for Codex).
    fn install(&self, agent: PresetKind) {
        let cmd = hook_command(
            Path::new(env!("CARGO_BIN_EXE_brl")),
            &self.brl_home,
            SESSION,
        );
        install_for(agent, &self.wt, &cmd).expect("install the gate");
    }

    /// The environment brl gives every agent (the Codex hook reads these two).
    fn brl_env(&self) -> Vec<(String, String)> {
        vec![
            ("BRL_HOME".into(), self.brl_home.display().to_string()),
            ("BRL_SESSION".into(), SESSION.into()),
        ]
    }

    fn run(&self, bin: &str, args: &[&str], mut env: Vec<(String, String)>) -> Run {
        env.extend(self.brl_env());
        run(
            &cli(bin),
            args,
            &self.wt,
            &self.agent_home,
            &env,
            None,
            TIMEOUT,
        )
    }

    fn blocks(&self) -> Vec<Value> {
        std::fs::read_to_string(self.brl_home.join("logs/experiment-log.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "gate_block")
            .collect()
    }

    /// Both dangerous calls were blocked by the gate, with entries naming them, nothing outside
    /// changed, and the ordinary write inside the worktree happened.
    fn assert_blocked(&self, r: &Run, server: &FakeModel, tools: [&str; 2], rules: [&str; 2]) {
        let blocks = self.blocks();
        let diag = format!("{r:#?}\nblocks: {blocks:#?}\nrequests:\n{}", server.dump());
        assert_offline(r);
        assert!(!r.timed_out, "{diag}");
        assert!(
            self.victim().join("keep.txt").is_file(),
            "rm -rf outside happened: {diag}"
        );
        assert!(
            !self.outside().exists(),
            "the write outside happened: {diag}"
        );
        assert_eq!(
            std::fs::read_to_string(self.wt.join("inside.txt"))
                .ok()
                .as_deref(),
            Some("fine\n"),
            "the ordinary write inside the worktree should happen: {diag}"
        );
        assert_eq!(blocks.len(), 2, "{diag}");
        for (i, b) in blocks.iter().enumerate() {
            assert_eq!(b["session"], SESSION, "{diag}");
            assert_eq!(b["data"]["tool"], tools[i], "{diag}");
            assert_eq!(b["data"]["rule"], rules[i], "{diag}");
        }
        // Every tool the CLI offered its model is one the gate knows (else every call of it would
        // be blocked as unknown: a CLI upgrade that adds tools shows up here).
        let offered = offered_tools(server);
        assert!(offered.len() > 3, "{offered:?}\n{diag}");
        let unknown: Vec<&String> = offered
            .iter()
            .filter(|t| kind(t) == Kind::Unknown)
            .collect();
        assert!(
            unknown.is_empty(),
            "tools the gate does not know (add them to src/gate/tools.rs MEASURED or the \
             preset's tool_class): {unknown:?}"
        );
        // The block reason went back to the model.
        let bodies = support::bodies(&server.requests());
        assert!(bodies.contains("brl gate blocked"), "{diag}");
        // The installed hook file is not something the agent's commit would take along.
        let status = git(&self.wt, &["status", "--porcelain"]);
        assert!(
            !status.contains(".claude") && !status.contains(".gemini"),
            "{status}"
        );
    }
}

#[test]
fn claude_code_runs_brl_gate_and_it_blocks() {
    let s = Setup::new("claude", PresetKind::Claude);
    s.install(PresetKind::Claude);
    let wt = s.wt.display().to_string();
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "Bash",
            json!({"command": format!("rm -rf {}", s.victim().display()),
                   "description": "clean up"}),
        ),
        Turn::call(
            "Write",
            json!({"file_path": s.outside().display().to_string(), "content": "x\n"}),
        ),
        Turn::call(
            "Write",
            json!({"file_path": format!("{wt}/inside.txt"), "content": "fine\n"}),
        ),
        Turn::text("Done."),
    ]));
    // The preset's permissions, plus `rm` allowed: only the gate stands in the way.
    let r = s.run(
        "claude",
        &[
            "-p",
            "--allowedTools",
            "Bash(git add:*)",
            "Bash(rm:*)",
            "--output-format",
            "json",
            "--permission-mode",
            "acceptEdits",
            "Tidy up",
        ],
        server.claude_env(),
    );
    s.assert_blocked(
        &r,
        &server,
        ["Bash", "Write"],
        ["rm-outside-worktree", "write-outside-worktree"],
    );
}

#[test]
fn gemini_cli_runs_brl_gate_and_it_blocks() {
    let s = Setup::new("gemini", PresetKind::Gemini);
    s.install(PresetKind::Gemini);
    let wt = s.wt.display().to_string();
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "run_shell_command",
            json!({"command": format!("rm -rf {}", s.victim().display()),
                   "description": "clean up"}),
        ),
        Turn::call(
            "write_file",
            json!({"file_path": s.outside().display().to_string(), "content": "x\n"}),
        ),
        Turn::call(
            "write_file",
            json!({"file_path": format!("{wt}/inside.txt"), "content": "fine\n"}),
        ),
        Turn::text("Done."),
    ]));
    let env = server.gemini_env(&s.agent_home);
    // Gemini's own workspace check refuses paths outside the folders it is given before any
    // hook runs; with the parent folder included only the gate keeps the write in the worktree.
    let root = s.root().display().to_string();
    let r = s.run(
        "gemini",
        &[
            "--yolo",
            "--include-directories",
            &root,
            "-o",
            "json",
            "-p",
            "Tidy up",
        ],
        env,
    );
    s.assert_blocked(
        &r,
        &server,
        ["run_shell_command", "write_file"],
        ["rm-outside-worktree", "write-outside-worktree"],
    );
}

#[test]
fn codex_runs_brl_gate_from_its_command_line_and_it_blocks() {
    let s = Setup::new("codex", PresetKind::Codex);
    s.install(PresetKind::Codex);
    assert!(!s.wt.join(".codex").exists() && !s.wt.join(".claude").exists());
    let outside_patch = format!(
        "*** Begin Patch\n*** Add File: {}\n+x\n*** End Patch\n",
        s.outside().display()
    );
    let server = FakeModel::start(Script::new(vec![
        Turn::call(
            "exec_command",
            json!({"cmd": format!("rm -rf {}", s.victim().display())}),
        ),
        Turn::call("apply_patch", Value::String(outside_patch)),
        Turn::call(
            "apply_patch",
            Value::String(
                "*** Begin Patch\n*** Add File: inside.txt\n+fine\n*** End Patch\n".into(),
            ),
        ),
        Turn::text("Done."),
    ]));
    let env = server.codex_env(&s.agent_home, "");
    // The hook exactly as the Codex preset's command carries it.
    let hook = codex::gate_hook(env!("CARGO_BIN_EXE_brl"));
    let r = s.run(
        "codex",
        &[
            "exec",
            "--json",
            "-s",
            "workspace-write",
            "--skip-git-repo-check",
            codex::TRUST_FLAG,
            "-c",
            &hook,
            "Tidy up",
        ],
        env,
    );
    s.assert_blocked(
        &r,
        &server,
        ["Bash", "apply_patch"],
        ["rm-outside-worktree", "write-outside-worktree"],
    );
}

/// The names of every tool the CLI offered the model (Anthropic and Responses: `tools[].name`;
/// Gemini: `tools[].functionDeclarations[].name`).
fn offered_tools(server: &FakeModel) -> Vec<String> {
    let mut names: Vec<String> = server
        .requests()
        .iter()
        .flat_map(|r| {
            r.body["tools"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .flat_map(|t| {
                    let mut v = vec![t["name"].clone()];
                    v.extend(
                        t["functionDeclarations"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|f| f["name"].clone()),
                    );
                    v
                })
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}
