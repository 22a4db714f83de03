//! The command a simple command really runs: past `VAR=x` prefixes, shell keywords and wrappers
//! (`sudo`, `env`, `command`, `nice`, `timeout`, `xargs`, `npx`, …); and the scripts it hands to
//! a shell (`sh -c '…'`, `eval`, a heredoc or a pipe into `bash`).

use std::path::Path;

use super::shell::Simple;

/// The effective command of a simple command.
#[derive(Debug)]
pub struct Argv<'a> {
    /// From the program that runs (`words[0]`) on.
    pub words: &'a [String],
    /// Run by `xargs`: more arguments come from stdin, unseen.
    pub via_xargs: bool,
    /// `env` with no command: it prints the environment.
    pub bare_env: bool,
}

impl Argv<'_> {
    /// The program's name without its directory (`/bin/rm` → `rm`); "" when there is none.
    pub fn program(&self) -> &str {
        let name = self.words.first().map(|w| base(w)).unwrap_or("");
        // `npx wrangler@3`: a package's version is not part of its name.
        match name.rfind('@') {
            Some(at) if at > 0 => &name[..at],
            _ => name,
        }
    }
    /// The words after the program.
    pub fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or(&[])
    }
}

/// The last component of a path-like word.
pub fn base(w: &str) -> &str {
    Path::new(w)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(w)
}

const KEYWORDS: &[&str] = &[
    "{", "}", "!", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "time",
    "coproc", "in", "esac",
];

/// Shells whose `-c` argument (or stdin) is a script.
pub const SHELLS: &[&str] = &["sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "busybox"];

/// Tools `yarn <tool>` / `pnpm <tool>` run directly.
const DEPLOY_BINS: &[&str] = &[
    "wrangler",
    "vercel",
    "netlify",
    "firebase",
    "serverless",
    "sls",
];

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            let name = name.strip_suffix('+').unwrap_or(name);
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// Index of the first operand from `from`: options are skipped, those in `with_arg` with their
/// value; `--` ends the options.
fn skip_opts(w: &[String], from: usize, with_arg: &[&str]) -> usize {
    let mut j = from;
    while let Some(a) = w.get(j) {
        if a == "--" {
            return j + 1;
        }
        if a.len() > 1 && a.starts_with('-') {
            j += if with_arg.contains(&a.as_str()) { 2 } else { 1 };
        } else {
            return j;
        }
    }
    j
}

/// The effective command of `words`.
pub fn effective(words: &[String]) -> Argv<'_> {
    let mut i = 0;
    let mut via_xargs = false;
    let mut bare_env = false;
    loop {
        while words
            .get(i)
            .is_some_and(|w| is_assignment(w) || KEYWORDS.contains(&w.as_str()))
        {
            i += 1;
        }
        let Some(w) = words.get(i) else { break };
        let second = words.get(i + 1).map(String::as_str);
        let next = match base(w) {
            "sudo" | "doas" => skip_opts(
                words,
                i + 1,
                &[
                    "-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "--user",
                    "--group", "--host", "--prompt", "--chdir", "--role", "--type",
                ],
            ),
            "command" | "builtin" if !matches!(second, Some("-v" | "-V")) => {
                skip_opts(words, i + 1, &[])
            }
            "exec" => skip_opts(words, i + 1, &["-a"]),
            "nohup" | "setsid" | "chronic" | "unbuffer" | "caffeinate" | "time" => {
                skip_opts(words, i + 1, &[])
            }
            "nice" => skip_opts(words, i + 1, &["-n", "--adjustment"]),
            // `busybox rm -rf /`: the applet is the program (a shell applet's script is found
            // by `scripts`).
            "busybox" | "toybox"
                if second.is_some_and(|s| !s.starts_with('-') && !SHELLS.contains(&s)) =>
            {
                i + 1
            }
            "ionice" => skip_opts(words, i + 1, &["-c", "-n", "-p", "-P", "-u", "--class"]),
            "stdbuf" => skip_opts(words, i + 1, &["-i", "-o", "-e"]),
            "timeout" => skip_opts(words, i + 1, &["-s", "-k", "--signal", "--kill-after"]) + 1,
            "env" => {
                let mut j = skip_opts(words, i + 1, &["-u", "-C", "-S", "--unset", "--chdir"]);
                while words.get(j).is_some_and(|w| is_assignment(w)) {
                    j += 1;
                }
                if j >= words.len() {
                    bare_env = true;
                    break;
                }
                j
            }
            "xargs" => {
                via_xargs = true;
                skip_opts(
                    words,
                    i + 1,
                    &["-I", "-L", "-n", "-P", "-d", "-a", "-s", "-E", "--max-args"],
                )
            }
            "npx" | "bunx" | "pnpx" => skip_opts(words, i + 1, &["-p", "--package"]),
            "npm" | "pnpm" | "yarn" | "bun" if matches!(second, Some("exec" | "dlx" | "x")) => {
                skip_opts(words, i + 2, &["-p", "--package"])
            }
            "pnpm" | "yarn" if second.is_some_and(|s| DEPLOY_BINS.contains(&s)) => i + 1,
            _ => break,
        };
        if next >= words.len() {
            break;
        }
        i = next;
    }
    Argv {
        words: words.get(i..).unwrap_or(&[]),
        via_xargs,
        bare_env,
    }
}

/// The scripts the command at `cmds[i]` (effective command `argv`) hands to a shell: the `-c`
/// argument of `sh`/`bash`/…, a heredoc, here-string or `echo … |` piped into one, `eval`'s
/// arguments, `su -c`, `watch`, and `find -exec`'s command.
pub fn scripts(argv: &Argv, cmds: &[Simple], i: usize) -> Vec<String> {
    let w = argv.words;
    let mut out = Vec::new();
    match argv.program() {
        p if SHELLS.contains(&p) => {
            let mut j = 1;
            if p == "busybox" {
                if !w.get(1).is_some_and(|s| SHELLS.contains(&s.as_str())) {
                    return out;
                }
                j = 2;
            }
            let mut dash_c = false;
            let mut stdin = false;
            while let Some(a) = w.get(j) {
                if a == "--" {
                    j += 1;
                    break;
                }
                if a.starts_with('-') || a.starts_with('+') {
                    if !a.starts_with("--") {
                        dash_c |= a.contains('c');
                        stdin |= a.contains('s');
                    }
                    // `-o pipefail`, `-O extglob`: options with a value.
                    j += if matches!(a.as_str(), "-o" | "+o" | "-O" | "+O") {
                        2
                    } else {
                        1
                    };
                } else {
                    break;
                }
            }
            if dash_c {
                out.extend(w.get(j).cloned());
            } else if stdin || j >= w.len() {
                out.extend(stdin_script(cmds, i));
            }
        }
        "eval" => out.push(w[1..].join(" ")),
        // `trap 'cleanup' EXIT`: the handler runs later, in this shell.
        "trap" => out.extend(w.iter().skip(1).find(|a| !a.starts_with('-')).cloned()),
        "flock" => {
            if let Some(k) = w.iter().position(|a| a == "-c" || a == "--command") {
                out.extend(w.get(k + 1).cloned());
            }
        }
        "su" => {
            if let Some(k) = w.iter().position(|a| a == "-c" || a == "--command") {
                out.extend(w.get(k + 1).cloned());
            }
        }
        "watch" => {
            let j = skip_opts(w, 1, &["-n", "--interval", "-d"]);
            if j < w.len() {
                out.push(w[j..].join(" "));
            }
        }
        "find" => {
            // `{}` is each path found: something below one of the start paths.
            let starts = find_starts(w);
            let mut k = 0;
            while k < w.len() {
                if matches!(w[k].as_str(), "-exec" | "-execdir" | "-ok" | "-okdir") {
                    let end = (k + 1..w.len())
                        .find(|&e| w[e] == ";" || w[e] == "+")
                        .unwrap_or(w.len());
                    for start in &starts {
                        let below = format!("{}/*", start.trim_end_matches('/'));
                        let words: Vec<String> = w[k + 1..end]
                            .iter()
                            .map(|x| x.replace("{}", &below))
                            .collect();
                        out.push(quote(&words));
                    }
                    k = end;
                }
                k += 1;
            }
        }
        _ => {}
    }
    out
}

/// The directory a wrapper runs the command in: `env -C dir`, `env --chdir=dir`,
/// `sudo -D dir` / `sudo --chdir=dir` (among the words before the effective command).
pub fn wrapper_chdir(words: &[String], argv: &Argv) -> Option<String> {
    let before = &words[..words.len().saturating_sub(argv.words.len())];
    let mut wrapper = "";
    for (k, w) in before.iter().enumerate() {
        if matches!(base(w), "env" | "sudo" | "doas") {
            wrapper = base(w);
            continue;
        }
        let flags: &[&str] = match wrapper {
            "env" => &["-C", "--chdir"],
            "sudo" | "doas" => &["-D", "--chdir"],
            _ => continue,
        };
        for f in flags {
            if w == f {
                return before.get(k + 1).cloned();
            }
            if let Some(v) = w.strip_prefix(&format!("{f}=")) {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// `find`'s start paths (`.` when none is given).
pub fn find_starts(w: &[String]) -> Vec<String> {
    let starts: Vec<String> = w
        .iter()
        .skip(1)
        .skip_while(|x| matches!(x.as_str(), "-H" | "-L" | "-P"))
        .take_while(|x| !x.starts_with('-') && !matches!(x.as_str(), "(" | "!"))
        .cloned()
        .collect();
    if starts.is_empty() {
        vec![".".to_string()]
    } else {
        starts
    }
}

/// Words back into one line of sh, each quoted as needed.
fn quote(words: &[String]) -> String {
    words
        .iter()
        .map(|x| {
            shlex::try_quote(x)
                .map(|q| q.into_owned())
                .unwrap_or_else(|_| x.replace('\0', ""))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a shell reading stdin at `cmds[i]` runs: its heredoc or here-string, or what an `echo`,
/// `printf` or `cat <<EOF` pipes into it.
fn stdin_script(cmds: &[Simple], i: usize) -> Option<String> {
    let c = &cmds[i];
    if let Some(t) = &c.stdin_text {
        return Some(t.clone());
    }
    piped_text(cmds, c)
}

/// The text an `echo`, `printf` or `cat <<EOF` pipes into `c` (one of `cmds`).
pub fn piped_text(cmds: &[Simple], c: &Simple) -> Option<String> {
    let from = cmds.get(c.piped_from?)?;
    let argv = effective(&from.words);
    match argv.program() {
        "echo" | "printf" => Some(
            argv.args()
                .iter()
                .filter(|a| !a.starts_with('-'))
                .map(|a| a.replace("\\n", "\n"))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => from.stdin_text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::shell::parse;

    fn eff(src: &str) -> Vec<String> {
        let c = parse(src).expect("parses");
        effective(&c[0].words).words.to_vec()
    }

    #[test]
    fn wrappers_and_prefixes_are_skipped() {
        assert_eq!(
            eff("FOO=1 BAR=x sudo -u root /bin/rm -rf /"),
            ["/bin/rm", "-rf", "/"]
        );
        assert_eq!(
            eff("command nice -n 5 timeout -s KILL 10 git push"),
            ["git", "push"]
        );
        assert_eq!(
            eff("env -i A=1 npx -y wrangler deploy"),
            ["wrangler", "deploy"]
        );
        assert_eq!(eff("yarn wrangler deploy"), ["wrangler", "deploy"]);
        assert_eq!(eff("if git status; then :; fi"), ["git", "status"]);
        let c = parse("find . | xargs -0 -n 1 rm -rf").expect("parses");
        let a = effective(&c[1].words);
        assert!(a.via_xargs);
        assert_eq!(a.program(), "rm");
        let c = parse("env -u X").expect("parses");
        assert!(effective(&c[0].words).bare_env);
    }

    #[test]
    fn scripts_are_found() {
        let s = |src: &str| {
            let c = parse(src).expect("parses");
            let last = c.len() - 1;
            scripts(&effective(&c[last].words), &c, last)
        };
        assert_eq!(s("bash -lc 'rm -rf /'"), ["rm -rf /"]);
        assert_eq!(s("sh -o pipefail -ec \"git push -f\""), ["git push -f"]);
        assert_eq!(s("sudo sh -c 'x'"), ["x"]);
        assert_eq!(s("bash script.sh"), Vec::<String>::new());
        assert_eq!(s("echo 'rm -rf ~' | bash"), ["rm -rf ~"]);
        assert_eq!(s("bash <<'X'\ngit reset --hard\nX"), ["git reset --hard\n"]);
        assert_eq!(s("eval \"git\" push"), ["git push"]);
        assert_eq!(s("trap 'rm -rf ~' EXIT"), ["rm -rf ~"]);
        assert_eq!(s("flock /tmp/l -c 'git push -f'"), ["git push -f"]);
        assert_eq!(s("find / -exec rm -rf {} \\;"), ["rm -rf '/*'"]);
        assert_eq!(
            s("find a b -exec sed -i 's/x y/z/' {} +"),
            ["sed -i 's/x y/z/' 'a/*'", "sed -i 's/x y/z/' 'b/*'"]
        );
        assert_eq!(s("find -name x -exec rm {} ;"), ["rm './*'"]);
    }
}
