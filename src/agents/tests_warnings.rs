//! Preset::warnings: what a command lets (or does not let) the agent do.

use super::tests::preset;
use super::*;

#[test]
fn defaults_warn_only_that_some_agents_have_no_gate() {
    for kind in PresetKind::ALL {
        let p = preset(kind);
        let w = p.warnings(p.command());
        if kind.hooks().has_gate() {
            assert!(w.is_empty(), "{kind:?}: {w:?}");
        } else {
            assert_eq!(
                w.last().map(String::as_str),
                Some(format!("no safety gate for this agent ({})", kind.name())).as_deref()
            );
            if kind != PresetKind::Custom {
                assert_eq!(w.len(), 1, "{kind:?}: {w:?}");
            }
        }
    }
}

#[test]
fn old_default_claude_command_is_warned_about() {
    let p = Preset::from_config(None, "claude -p --model sonnet --output-format json").unwrap();
    let w = p.warnings(p.command());
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("--permission-mode acceptEdits"), "{w:?}");
    let w = p.warnings("IS_SANDBOX=1 claude -p --dangerously-skip-permissions");
    assert!(
        w.iter().any(|x| x.contains("--output-format json")),
        "{w:?}"
    );
    assert!(!w.iter().any(|x| x.contains("IS_SANDBOX")), "{w:?}");
    let w = p.warnings("claude -p --permission-mode bypassPermissions --output-format json");
    assert!(w.iter().any(|x| x.contains("IS_SANDBOX=1")), "{w:?}");
    let w = p.warnings("claude -p --permission-mode plan --output-format json");
    assert!(w.iter().any(|x| x.contains("only plans")), "{w:?}");
    let c = Preset::unchecked(PresetKind::Codex, "");
    let w = c.warnings("codex exec");
    assert!(
        w.iter().any(|x| x.contains("--json")) && w.iter().any(|x| x.contains("read-only")),
        "{w:?}"
    );
    let g = Preset::unchecked(PresetKind::Gemini, "");
    assert!(
        g.warnings("gemini -p '' -o json")
            .iter()
            .any(|x| x.contains("auto_edit"))
    );
    let a = Preset::unchecked(PresetKind::Aider, "");
    assert!(
        a.warnings("aider --message-file /dev/stdin")
            .iter()
            .any(|x| x.contains("--yes-always"))
    );
}

#[test]
fn state_paths_match_what_the_agents_leave() {
    let aider = preset(PresetKind::Aider);
    for p in [
        ".aider.chat.history.md",
        ".aider.input.history",
        ".aider.tags.cache.v4/cache.db",
        "./.aider.conf.yml",
    ] {
        assert!(aider.is_state_path(p), "{p}");
    }
    // anchored at the root, and only names that start with `.aider`
    for p in [
        "src/.aider.chat.history.md",
        "aider.rs",
        "README.md",
        "docs/.aider",
    ] {
        assert!(!aider.is_state_path(p), "{p}");
    }
    let claude = preset(PresetKind::Claude);
    assert!(claude.is_state_path(".claude/settings.json"));
    assert!(
        !claude.is_state_path(".claude/agents/reviewer.md"),
        "a project's own agents stay"
    );
    let codex = preset(PresetKind::Codex);
    assert!(codex.is_state_path(".codex/config.toml") && !codex.is_state_path(".codexrc"));
    let all = all_state_paths();
    assert!(all.contains(&".aider*") && all.contains(&".gemini/settings.json"));
    assert!(is_state_path(&all, ".opencode/state.json"));
}
