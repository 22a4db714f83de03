//! Reading an `[agent] command` the way `sh` would split it into words (with the `shlex` crate),
//! then finding the one simple command that runs the agent, so flags are looked up in the
//! agent's own arguments — never by searching the text (`--bare` inside a quoted prompt is not a
//! flag; `--setting-sources=user` is one).

/// One agent invocation inside a command line: the `VAR=value` assignments before it, the program
/// word and its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub env: Vec<(String, String)>,
    pub program: String,
    pub args: Vec<String>,
}

/// Words that join simple commands in `sh` when written as words of their own.
const SEPARATORS: &[&str] = &["&&", "||", "|", ";", "&", "|&"];
/// Wrappers that run their argument as the real program (their own options are skipped).
const WRAPPERS: &[&str] = &[
    "env", "exec", "nice", "nohup", "timeout", "command", "stdbuf",
];

/// Split `command` into words like `sh` does (quotes and escapes); an unbalanced quote is an error.
pub fn words(command: &str) -> Result<Vec<String>, String> {
    shlex::split(command).ok_or_else(|| {
        "it cannot be split into words like sh would (an unbalanced quote or a trailing \
         backslash?)"
            .to_string()
    })
}

/// The simple commands of `command`, each as its words, split on `&&`, `||`, `|`, `;`, `&`
/// written as separate words or glued to the end of a word (`cd x; claude …`).
fn simple_commands(command: &str) -> Result<Vec<Vec<String>>, String> {
    let mut out = vec![Vec::new()];
    for w in words(command)? {
        if SEPARATORS.contains(&w.as_str()) {
            out.push(Vec::new());
            continue;
        }
        let trimmed = w.trim_end_matches([';', '&']);
        if trimmed.len() != w.len() && !trimmed.is_empty() {
            if let Some(last) = out.last_mut() {
                last.push(trimmed.to_string());
            }
            out.push(Vec::new());
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.push(w);
        }
    }
    out.retain(|c| !c.is_empty());
    Ok(out)
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// The file name of a program word: `/usr/local/bin/claude` → `claude`.
pub fn basename(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// Read one simple command: assignments, wrappers (`env A=1`, `timeout 600`), the program.
fn invocation(words: &[String]) -> Option<Invocation> {
    let mut env = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if is_assignment(w) {
            let (k, v) = w.split_once('=').unwrap_or((w, ""));
            env.push((k.to_string(), v.to_string()));
            i += 1;
            continue;
        }
        if WRAPPERS.contains(&basename(w)) {
            let wrapper = basename(w);
            i += 1;
            // the wrapper's own options, and timeout's duration
            while i < words.len() && words[i].starts_with('-') {
                i += 1;
            }
            if wrapper == "timeout" && i < words.len() {
                i += 1;
            }
            continue;
        }
        return Some(Invocation {
            env,
            program: w.clone(),
            args: words[i + 1..].to_vec(),
        });
    }
    None
}

/// The invocations of `command` whose program is one of `programs` (by file name; `npx <name>` and
/// `bunx <name>` count too).
pub fn find(command: &str, programs: &[&str]) -> Result<Vec<Invocation>, String> {
    let mut found = Vec::new();
    for words in simple_commands(command)? {
        let Some(mut inv) = invocation(&words) else {
            continue;
        };
        if matches!(basename(&inv.program), "npx" | "bunx" | "pnpx")
            && let Some(pos) = inv.args.iter().position(|a| !a.starts_with('-'))
        {
            // `npx @openai/codex exec …` → program `codex`
            let pkg = inv.args[pos].clone();
            let name = pkg.rsplit('/').next().unwrap_or(&pkg).to_string();
            let name = name.split('@').next().unwrap_or(&name).to_string();
            inv.args = inv.args[pos + 1..].to_vec();
            inv.program = name;
        }
        if programs.contains(&basename(&inv.program)) {
            found.push(inv);
        }
    }
    Ok(found)
}

impl Invocation {
    /// Whether a flag is given, alone (`--bare`) or with a value (`--x=v`).
    pub fn has_flag(&self, names: &[&str]) -> bool {
        self.args.iter().any(|a| {
            names
                .iter()
                .any(|n| a == n || a.strip_prefix(n).is_some_and(|r| r.starts_with('=')))
        })
    }

    /// Every value given to a flag: `--x v`, `--x=v` (and `-xv` for a one-letter `-x`).
    pub fn values(&self, names: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.args.len() {
            let a = &self.args[i];
            for n in names {
                if a == n {
                    if let Some(v) = self.args.get(i + 1) {
                        out.push(v.clone());
                    }
                } else if let Some(v) = a.strip_prefix(n).and_then(|r| r.strip_prefix('=')) {
                    out.push(v.to_string());
                } else if n.len() == 2
                    && !n.starts_with("--")
                    && a.starts_with(n)
                    && a.len() > 2
                    && !a.starts_with("--")
                {
                    out.push(a[2..].to_string());
                }
            }
            i += 1;
        }
        out
    }

    /// The value of a `VAR=value` set before the program.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Quote one word for `sh` when it needs it (`Bash(git add:*)` → `'Bash(git add:*)'`).
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_agent_among_other_commands_and_wrappers() {
        let c = "cd sub && IS_SANDBOX=1 timeout 600 /usr/bin/claude -p --bare; echo done";
        let found = find(c, &["claude"]).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].env_value("IS_SANDBOX"), Some("1"));
        assert_eq!(found[0].args, vec!["-p", "--bare"]);
        assert!(found[0].has_flag(&["--bare"]));
        let npx = find("npx -y @openai/codex exec --json", &["codex"]).unwrap();
        assert_eq!(npx[0].args, vec!["exec", "--json"]);
    }

    #[test]
    fn a_flag_inside_a_quoted_word_is_not_a_flag() {
        let found = find(
            r#"claude -p --append-system-prompt "never use --bare""#,
            &["claude"],
        )
        .unwrap();
        assert!(!found[0].has_flag(&["--bare"]));
        assert_eq!(
            found[0].values(&["--append-system-prompt"]),
            vec!["never use --bare"]
        );
    }

    #[test]
    fn values_in_every_spelling() {
        let inv = &find("codex exec -c a=1 --config=b=2 -cc=3 -s x", &["codex"]).unwrap()[0];
        assert_eq!(inv.values(&["-c", "--config"]), vec!["a=1", "b=2", "c=3"]);
    }

    #[test]
    fn unbalanced_quotes_are_an_error() {
        assert!(find("claude -p 'oops", &["claude"]).is_err());
    }

    #[test]
    fn quoting_round_trips() {
        for w in ["Bash(git add:*)", "it's", "plain-word", ""] {
            let q = quote(w);
            assert_eq!(words(&q).unwrap(), vec![w.to_string()], "{q}");
        }
    }
}
