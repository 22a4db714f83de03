//! The default files: every template parses, names its agent preset, and escapes what it embeds.

use super::*;
use crate::config::Config;
use std::path::Path;

const CHECK_PRESETS: [Preset; 4] = [
    Preset::Typescript,
    Preset::Rust,
    Preset::Python,
    Preset::Custom,
];

/// The template without its `preset = …` line: what the config knows before wp-g's
/// `[agent] preset` key is merged.
fn without_preset_key(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("preset = "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn every_preset_is_a_valid_config() {
    for p in CHECK_PRESETS {
        for agent in PresetKind::ALL {
            let text = config_toml("../my \"app\"", p, agent, "/opt/my brl/brl");
            assert!(
                text.contains(&format!("\npreset = \"{}\"\n", agent.name())),
                "{text}"
            );
            assert!(text.contains(agent.comment()), "{agent:?}");
            let c = Config::parse(Path::new("brl.toml"), &without_preset_key(&text))
                .unwrap_or_else(|e| panic!("{p:?} {agent:?}: {e}"));
            assert_eq!(c.repo, Path::new("../my \"app\""));
            assert!(c.checks.typecheck.is_some() && c.checks.test.is_some());
            // No fixed session or port: both come from the home.
            assert!(c.tmux.session_derived && c.server.listen_derived, "{p:?}");
            // The command written is the preset's, and passes the preset's own checks.
            let [(tc, _), (test, _)] = check_commands(p);
            assert_eq!(
                c.agent.command,
                agent.default_command(&[tc, test], "/opt/my brl/brl")
            );
            crate::agents::Preset::from_config(Some(agent.name()), &c.agent.command)
                .unwrap_or_else(|e| panic!("{p:?} {agent:?}: {e}"));
        }
    }
}

/// Every template brl init writes parses, with its `[agent] preset` key.
#[test]
fn the_written_file_parses_with_its_preset_key() {
    for p in CHECK_PRESETS {
        for agent in PresetKind::ALL {
            let text = config_toml("../app", p, agent, "/opt/brl");
            Config::parse(Path::new("brl.toml"), &text)
                .unwrap_or_else(|e| panic!("{p:?} {agent:?}: {e}"));
        }
    }
}

#[test]
fn ralph_prompt_is_embedded() {
    assert!(prompt("ralph").is_some_and(|p| p.contains("{{branch}}")));
    assert!(prompt("nope").is_none());
}

#[test]
fn pm2_app_names_are_safe() {
    assert_eq!(pm2_app_name(Path::new("/srv/brl-app")), "brl-brl-app");
    assert_eq!(pm2_app_name(Path::new("/x/my home \"1\"")), "brl-my-home-1");
    assert_eq!(pm2_app_name(Path::new("/x/42")), "brl-42");
    assert_eq!(pm2_app_name(Path::new("/")), "brl-home");
    assert_eq!(pm2_app_name(Path::new("/x/été")), "brl-t");
    assert_eq!(pm2_app_name(Path::new("/x/--a--b..")), "brl-a-b");
}

#[test]
fn pm2_ecosystem_escapes_every_string() {
    let home = Path::new("/tmp/a \"q\" b\\c\nd/home");
    let exe = Path::new("/opt/it's \"brl\"/brl");
    let text = pm2_ecosystem(home, exe);
    // The object literal between `module.exports = ` and the final `;` is JSON but for
    // unquoted keys and trailing commas: quote the keys, drop the commas, and parse it.
    let body = text
        .split_once("module.exports = ")
        .expect("module.exports")
        .1
        .trim_end()
        .trim_end_matches(';');
    let keys = regex::Regex::new(r"(?m)^(\s*)([a-z_]+):").expect("regex");
    let quoted = keys.replace_all(body, "$1\"$2\":");
    let quoted = quoted.replace("{ BRL_LOG:", "{ \"BRL_LOG\":");
    let trailing = regex::Regex::new(r",(\s*[\]}])").expect("regex");
    let json = trailing.replace_all(&quoted, "$1");
    let v: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}:\n{json}"));
    let app = &v["apps"][0];
    let h = home.display().to_string();
    assert_eq!(app["script"], exe.display().to_string());
    assert_eq!(app["cwd"], h);
    assert_eq!(
        app["args"],
        serde_json::json!(["--home", h, "up", "--no-tui"])
    );
    assert_eq!(app["out_file"], format!("{h}/logs/pm2-out.log"));
    assert_eq!(app["error_file"], format!("{h}/logs/pm2-error.log"));
    assert_eq!(app["name"], "brl-home");
    assert_eq!(app["interpreter"], "none");
    assert_eq!(app["env"]["BRL_LOG"], "info");
    // No raw newline of a path leaked into the text (it would end a `//` comment early).
    assert!(!text.contains("c\nd"));
}

/// Where node is installed (tests/pm2.sh installs it), it `require`s the file as PM2 does.
#[test]
fn node_requires_the_pm2_ecosystem() {
    let Ok(out) = std::process::Command::new("node").arg("--version").output() else {
        eprintln!("node is not installed; skipped (tests/pm2.sh runs it)");
        return;
    };
    assert!(out.status.success());
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("it's a \"home\" \\ with\nnewline");
    std::fs::create_dir_all(&home).expect("mkdir");
    let file = home.join("ecosystem.config.js");
    std::fs::write(&file, pm2_ecosystem(&home, Path::new("/usr/bin/b'r\"l"))).expect("write");
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg("const a = require(process.argv[1]).apps[0]; process.stdout.write(JSON.stringify([a.name, a.cwd, a.script, a.args]))")
        .arg(&file)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let h = home.display().to_string();
    assert_eq!(
        v,
        serde_json::json!([
            "brl-it-s-a-home-with-newline",
            h,
            "/usr/bin/b'r\"l",
            ["--home", h, "up", "--no-tui"]
        ])
    );
}

/// The TypeScript preset installs node_modules in each worktree; the others carry a commented
/// example only, and every example, uncommented, is a valid `[worktree]` section.
#[test]
fn presets_set_up_worktrees() {
    for p in CHECK_PRESETS {
        let text = config_toml("../app", p, PresetKind::Claude, "/opt/brl");
        let c =
            Config::parse(Path::new("brl.toml"), &text).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        if p == Preset::Typescript {
            assert_eq!(c.worktree.setup_command(), Some("npm ci --prefer-offline"));
            assert_eq!(
                c.worktree.setup_inputs,
                vec!["package-lock.json".to_string()]
            );
            assert_eq!(c.worktree.setup_timeout_secs.get(), 900);
        } else {
            assert_eq!(c.worktree.setup_command(), None, "{p:?}");
            let uncommented: String = text
                .lines()
                .map(|l| match l.strip_prefix("# setup") {
                    Some(rest) => format!("setup{rest}\n"),
                    None => format!("{l}\n"),
                })
                .collect();
            let c = Config::parse(Path::new("brl.toml"), &uncommented)
                .unwrap_or_else(|e| panic!("{p:?} uncommented: {e}\n{uncommented}"));
            assert!(c.worktree.setup_command().is_some(), "{p:?}");
            assert_eq!(c.worktree.setup_inputs.len(), 1, "{p:?}");
        }
    }
}
