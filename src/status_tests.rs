//! Tests of `status.rs`.

#[cfg(test)]
mod agent_tests {
    use super::super::*;

    fn agent_of(toml: &str, command: &str) -> String {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        std::fs::write(home.config_path(), toml).expect("write");
        describe_agent(&agent(&home, command))
    }

    #[test]
    fn agents_without_hooks_say_there_is_no_gate() {
        for (preset, command) in [
            ("opencode", "opencode run --format json"),
            ("aider", "aider --yes-always --message-file /dev/stdin"),
            ("custom", "./my-agent.sh"),
        ] {
            let toml = format!("[agent]\npreset = \"{preset}\"\ncommand = \"{command}\"\n");
            let text = agent_of(&toml, command);
            assert!(
                text.starts_with(&format!(
                    "agent: {preset} — no safety gate for this agent\n"
                )),
                "{text}"
            );
        }
        // Detected from the command when the preset key is absent.
        let text = agent_of("[agent]\ncommand = \"aider -m x\"\n", "aider --message x");
        assert!(text.contains("aider — no safety gate"), "{text}");
    }

    #[test]
    fn agents_with_hooks_say_how_the_gate_runs_and_what_is_wrong() {
        let cmd = "claude -p --output-format json";
        let text = agent_of(&format!("[agent]\ncommand = \"{cmd}\"\n"), cmd);
        assert!(
            text.starts_with(
                "agent: claude — brl gate on (PreToolUse hook in .claude/settings.json)"
            ),
            "{text}"
        );
        assert!(text.contains("  warning: no --permission-mode"), "{text}");
        let cmd = "codex exec --json -s workspace-write";
        let text = agent_of(&format!("[agent]\ncommand = \"{cmd}\"\n"), cmd);
        assert!(text.contains("codex — brl gate on"), "{text}");
        assert!(text.contains("--dangerously-bypass-hook-trust"), "{text}");
        let text = agent_of("[agent]\npreset = \"vi\"\n", "x");
        assert!(
            text.starts_with("agent: ERROR") && text.contains("vi"),
            "{text}"
        );
    }
}

#[cfg(test)]
mod why_tests {
    use super::super::*;

    #[test]
    fn status_says_why_idle_and_counts_no_change_apart() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        let config: Config = toml::from_str(
            "repo = \"r\"\nsessions = 2\n[agent]\ncommand = \"a\"\n[budget]\nmax_cycles_per_day = 2\n",
        )
        .expect("config");
        for o in ["no_change", "discarded"] {
            crate::store::log::append(
                &home.log_path(),
                &crate::store::log::Entry::new("ralph_cycle", Some("s1"), json!({"outcome": o})),
            )
            .expect("append");
        }
        let v = snapshot(&home, &config, &mut MemoryReader::default());
        let text = describe(&v);
        assert!(text.contains("control room: not running"), "{text}");
        assert!(
            text.contains("today's cycles: kept 0 · discarded 1 · no change 1 · other 0"),
            "{text}"
        );
        // No worker ever ran: stopped, not dead.
        assert!(text.contains("  s1   stopped"), "{text}");
        assert_eq!(v["why"][0]["key"], "no_control_room", "{v}");
    }
}
