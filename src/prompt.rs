//! Rendering an agent's prompt from `prompts/<role>.md` (the home's, else the embedded default):
//! `{{name}}` placeholders filled from the cycle's facts, each part bounded in size.

use std::path::Path;

use crate::defaults;
use crate::home::Home;
use crate::outcome::{CheckState, Measure};
use crate::store::log::Entry;

/// The template for `role` and where it came from (for messages).
pub fn template(home: &Home, role: &str) -> anyhow::Result<(String, String)> {
    let path = home.prompts_dir().join(format!("{role}.md"));
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((text, path.display().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match defaults::prompt(role) {
            Some(text) => Ok((
                text.to_string(),
                format!("the embedded default prompts/{role}.md"),
            )),
            None => anyhow::bail!(
                "no prompt for role `{role}`: {} does not exist",
                path.display()
            ),
        },
        Err(e) => anyhow::bail!("cannot read prompt {}: {e}", path.display()),
    }
}

/// Replace every `{{name}}` with its value. A placeholder with no value is an error naming the
/// template and the known names: a typo must not silently drop part of the prompt.
pub fn render(template: &str, source: &str, vars: &[(&str, String)]) -> anyhow::Result<String> {
    let mut out = String::with_capacity(template.len() + 4096);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = after[..end].trim();
        match vars.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => out.push_str(v),
            None => {
                let known: Vec<String> = vars.iter().map(|(k, _)| format!("{{{{{k}}}}}")).collect();
                anyhow::bail!(
                    "prompt template {source} uses the unknown placeholder {{{{{name}}}}}; fix: use one of {}",
                    known.join(", ")
                );
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The baseline in words.
pub fn describe_measure(m: &Measure) -> String {
    let mut lines = Vec::new();
    match &m.typecheck {
        CheckState::NotConfigured => lines.push("- type check: not configured".to_string()),
        CheckState::Ran => lines.push(format!("- type check: {} errors", show(m.counts.errors))),
        CheckState::Failed(why) => lines.push(format!("- type check: did not run ({why})")),
    }
    match &m.test {
        CheckState::NotConfigured => lines.push("- tests: not configured".to_string()),
        CheckState::Ran => lines.push(format!(
            "- tests: {} failing, {} passing",
            show(m.counts.failures),
            show(m.counts.passed)
        )),
        CheckState::Failed(why) => lines.push(format!("- tests: did not run ({why})")),
    }
    lines.join("\n")
}

fn show(n: Option<u64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_else(|| "?".into())
}

/// The recent cycles of the sessions other than `me`, newest last, at most `max`.
pub fn recent_others(entries: &[Entry], me: &str, max: usize) -> String {
    let lines: Vec<String> = entries
        .iter()
        .filter(|e| e.kind == "ralph_cycle" && e.session.as_deref() != Some(me))
        .map(|e| {
            let d = &e.data;
            let s = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("");
            let mut line = format!(
                "- {} {} {}: {}",
                e.session.as_deref().unwrap_or("?"),
                s("outcome"),
                s("branch"),
                s("reason")
            );
            if !s("subject").is_empty() {
                line.push_str(&format!(" — \"{}\"", s("subject")));
            }
            if !s("task").is_empty() {
                line.push_str(&format!(" (task: {})", s("task")));
            }
            line
        })
        .collect();
    let skip = lines.len().saturating_sub(max);
    if lines.len() == skip {
        return "(nothing yet)".into();
    }
    lines[skip..].join("\n")
}

/// The skill notes in `dir` (`*.md`, by name), concatenated up to `max_bytes`; says when it cut.
pub fn skills(dir: &Path, max_bytes: usize) -> String {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect(),
        Err(_) => return "(no skills yet)".into(),
    };
    files.sort();
    let mut out = String::new();
    let mut left_out = 0;
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        if out.len() + text.len() > max_bytes {
            left_out += 1;
            continue;
        }
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    if left_out > 0 {
        out.push_str(&format!(
            "({left_out} more skill files left out: [prompt] skills_max_bytes = {max_bytes})\n"
        ));
    }
    if out.is_empty() {
        "(no skills yet)".into()
    } else {
        out
    }
}

/// The context file from the worktree, bounded; says when it is missing or cut.
pub fn context(worktree: &Path, file: Option<&str>, max_bytes: usize) -> String {
    let Some(file) = file else {
        return "(no context file configured)".into();
    };
    match std::fs::read_to_string(worktree.join(file)) {
        Ok(text) if text.len() > max_bytes => {
            let mut cut = max_bytes;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            format!(
                "{}\n(cut at {max_bytes} bytes: [prompt] context_max_bytes)",
                &text[..cut]
            )
        }
        Ok(text) => text,
        Err(_) => format!("({file} does not exist in the repository)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_and_rejects_unknown() {
        let vars = [("a", "1".to_string()), ("b", "two".to_string())];
        assert_eq!(
            render("x {{a}} y {{ b }}.", "t", &vars).expect("ok"),
            "x 1 y two."
        );
        let e = render("{{c}}", "prompts/ralph.md", &vars).expect_err("unknown");
        assert!(e.to_string().contains("prompts/ralph.md") && e.to_string().contains("{{a}}"));
        assert_eq!(render("no end {{a", "t", &vars).expect("ok"), "no end {{a");
    }

    #[test]
    fn recent_others_excludes_me_and_bounds() {
        let mk = |s: &str, o: &str| {
            Entry::new(
                "ralph_cycle",
                Some(s),
                serde_json::json!({"outcome": o, "branch": "b", "reason": "r"}),
            )
        };
        let entries = vec![
            mk("s1", "kept"),
            mk("s2", "discarded"),
            mk("s3", "kept"),
            mk("s2", "no_change"),
        ];
        let text = recent_others(&entries, "s1", 2);
        assert_eq!(text.lines().count(), 2);
        assert!(!text.contains("s1 "));
        assert!(text.contains("s2 no_change"));
        assert_eq!(recent_others(&entries[..1], "s1", 5), "(nothing yet)");
    }

    #[test]
    fn skills_are_bounded() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::write(d.path().join("a.md"), "A".repeat(100)).expect("w");
        std::fs::write(d.path().join("b.md"), "B".repeat(100)).expect("w");
        let s = skills(d.path(), 150);
        assert!(s.contains('A') && !s.contains('B') && s.contains("1 more skill files left out"));
    }
}
