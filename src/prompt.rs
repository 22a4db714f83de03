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
        .map(|e| cycle_line(e, e.session.as_deref().unwrap_or("?")))
        .collect();
    let skip = lines.len().saturating_sub(max);
    if lines.len() == skip {
        return "(nothing yet)".into();
    }
    lines[skip..].join("\n")
}

/// One `ralph_cycle` entry as a prompt line: `- <lead> <outcome> <branch>: <reason> — "<subject>"
/// (task: …)`.
pub fn cycle_line(e: &Entry, lead: &str) -> String {
    let s = |k: &str| e.data.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let mut line = format!("- {lead} {} {}: {}", s("outcome"), s("branch"), s("reason"));
    if !s("subject").is_empty() {
        line.push_str(&format!(" — \"{}\"", s("subject")));
    }
    if !s("task").is_empty() {
        line.push_str(&format!(" (task: {})", s("task")));
    }
    line
}

/// The skill notes in `dir` (`*.md`) most relevant to `task` first, up to `max_bytes` in all;
/// says how many were left out. Relevance is the overlap of significant words (see
/// [`skill_words`]) between the task and a skill: a word of its title or `when` counts twice, a
/// word only in its body once. Ties, and an empty `task` (a self-planned cycle), keep file-name
/// order. A file with front matter is shown as `### <title>`, `When: <when>` and its body; one
/// without is shown as it is.
pub fn skills(dir: &Path, max_bytes: usize, task: &str) -> String {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect(),
        Err(_) => return "(no skills yet)".into(),
    };
    files.sort();
    let wanted = skill_words(task);
    let mut ranked: Vec<(usize, String)> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .map(|text| {
            let (shown, head, body) = match front_matter(&text) {
                Some((fields, body)) => {
                    let field = |k: &str| {
                        fields
                            .iter()
                            .find(|(key, _)| key == k)
                            .map_or("", |(_, v)| v.as_str())
                    };
                    let (title, when) = (field("title"), field("when"));
                    let shown = format!("### {title}\nWhen: {when}\n\n{}", body.trim());
                    (shown, format!("{title} {when}"), body.to_string())
                }
                None => (text.trim().to_string(), String::new(), text.clone()),
            };
            let head = skill_words(&head);
            let body = skill_words(&body);
            let score = wanted
                .iter()
                .map(|w| match (head.contains(w), body.contains(w)) {
                    (true, _) => 2,
                    (false, true) => 1,
                    (false, false) => 0,
                })
                .sum();
            (score, shown)
        })
        .collect();
    // Stable: equal scores keep the file-name order.
    ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut out = String::new();
    let mut left_out = 0;
    for (_, text) in ranked {
        if out.len() + text.len() > max_bytes {
            left_out += 1;
            continue;
        }
        out.push_str(&text);
        out.push_str("\n\n");
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

/// A skill file's front matter — `---`, `key: value` lines, `---` — and the body after it;
/// `None` when the text does not start with one. Keys are lowercased; values trimmed.
pub fn front_matter(text: &str) -> Option<(Vec<(String, String)>, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut fields = Vec::new();
    let mut pos = 0;
    for line in rest.split_inclusive('\n') {
        pos += line.len();
        let line = line.trim_end();
        if line == "---" {
            return Some((fields, &rest[pos..]));
        }
        if let Some((k, v)) = line.split_once(':') {
            fields.push((k.trim().to_lowercase(), v.trim().to_string()));
        }
    }
    None
}

/// Words that say nothing about what a text is about.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "before",
    "but", "by", "can", "do", "does", "each", "every", "for", "from", "has", "have", "how", "if",
    "in", "into", "is", "it", "its", "no", "not", "of", "on", "one", "only", "or", "other", "so",
    "than", "that", "the", "their", "them", "then", "there", "these", "this", "those", "to", "use",
    "was", "were", "what", "when", "where", "which", "while", "with", "without", "you", "your",
];

/// The significant words of `text`: lowercased runs of letters and digits, at least three long,
/// not a stop word, a plural `s` dropped (`tests` is `test`).
pub fn skill_words(text: &str) -> std::collections::BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3 && !STOP_WORDS.contains(&w.as_str()))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.len() >= 3 && !w.ends_with("ss") => stem.to_string(),
            _ => w,
        })
        .collect()
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
        let s = skills(d.path(), 150, "");
        assert!(s.contains('A') && !s.contains('B') && s.contains("1 more skill files left out"));
    }

    #[test]
    fn skills_most_relevant_to_the_task_come_first() {
        let d = tempfile::tempdir().expect("tempdir");
        let skill = |name: &str, title: &str, when: &str, body: &str| {
            let text =
                format!("---\ntitle: {title}\nwhen: {when}\ncycles: [brl/s1/x]\n---\n{body}\n");
            std::fs::write(d.path().join(name), text).expect("w");
        };
        skill(
            "a.md",
            "Small commits",
            "every cycle",
            "Keep the diff small.",
        );
        skill(
            "b.md",
            "Fix the date parser",
            "parser tests fail",
            "Read the parser's failing tests.",
        );
        skill("c.md", "Lint rules", "linting", "Mention the parser once.");
        let order = |task: &str, max: usize| {
            let s = skills(d.path(), max, task);
            let titles: Vec<String> = s
                .lines()
                .filter_map(|l| l.strip_prefix("### "))
                .map(String::from)
                .collect();
            (titles, s)
        };
        let (titles, s) = order(
            "Fix the failing parser tests\nThe date parser breaks.",
            10_000,
        );
        assert_eq!(
            titles,
            ["Fix the date parser", "Lint rules", "Small commits"],
            "{s}"
        );
        assert!(
            s.contains("When: parser tests fail\n\nRead the parser's failing tests."),
            "{s}"
        );
        assert!(!s.contains("cycles:"), "front matter is not shown: {s}");
        let (titles, _) = order("", 10_000);
        assert_eq!(
            titles,
            ["Small commits", "Fix the date parser", "Lint rules"]
        );
        // The budget goes to the most relevant first.
        let (titles, s) = order("date parser", 90);
        assert_eq!(titles, ["Fix the date parser"], "{s}");
        assert!(s.contains("2 more skill files left out"), "{s}");
    }

    #[test]
    fn front_matter_and_words() {
        let (fields, body) = front_matter("---\ntitle: A: b\nwhen: x\n---\nbody\n").expect("fm");
        assert_eq!(fields[0], ("title".to_string(), "A: b".to_string()));
        assert_eq!(body, "body\n");
        assert!(front_matter("no front matter").is_none());
        assert!(front_matter("---\ntitle: never closed\n").is_none());
        let w = skill_words("Fix the failing Tests, and 2 parsers: tsc's class");
        let w: Vec<&str> = w.iter().map(String::as_str).collect();
        assert_eq!(w, ["class", "failing", "fix", "parser", "test", "tsc"]);
    }
}
