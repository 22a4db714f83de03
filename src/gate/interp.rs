//! Interpreters: code given inline (`python -c`, `perl -e`, `node -e`, `ruby -e`, `php -r`, a
//! heredoc on stdin) and downloads fed into a shell or interpreter (`curl … | sh`,
//! `sh <(curl …)`, `bash -c "$(curl …)"`, `eval "$(curl …)"`).
//!
//! Inline code can reach anything the user can, and what it touches cannot be read off its
//! words the way `cp`'s targets can. The heuristic, conservative on purpose: inline code is
//! allowed only when it *only reads* — it names none of the ways the languages change files,
//! start processes or build code at run time (`open(…, 'w')`, `write`, `remove`, `unlink`,
//! `rmtree`, `rename`, `system`, `subprocess`, `exec`, `eval`, `__import__`, `child_process`,
//! backticks, …). Code that does is blocked, wherever it points: the agent is told to use the
//! shell's own commands (`cp`, `mv`, `rm`, `sed -i`), whose targets the gate checks.

use std::sync::LazyLock;

use regex::Regex;

use super::argv::{self, SHELLS};
use super::commands::{Cmd, Hit};
use super::shell;

/// Programs that run code (besides the shells).
const INTERPRETERS: &[&str] = &[
    "python",
    "python2",
    "python3",
    "pypy",
    "pypy3",
    "perl",
    "ruby",
    "node",
    "nodejs",
    "deno",
    "bun",
    "php",
    "lua",
    "luajit",
    "Rscript",
    "osascript",
    "tclsh",
    "awk",
    "gawk",
    "mawk",
];

/// Programs that fetch from the network.
const DOWNLOADERS: &[&str] = &[
    "curl",
    "wget",
    "fetch",
    "http",
    "https",
    "xh",
    "aria2c",
    "lwp-request",
    "GET",
];

/// Ways code changes files, starts processes or builds code at run time.
static EFFECTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?x)",
        r"\b(remove|removedirs|unlink|unlinkSync|rmtree|remove_tree|rmdir|rmdirSync|rmSync|rm_r|rm_rf|rm_f|",
        r"rename|renames|renameSync|truncate|truncateSync|ftruncate|",
        r"writeFile|writeFileSync|appendFile|appendFileSync|copyFile|copyFileSync|cpSync|",
        r"write_text|write_bytes|writelines|symlink|symlinkSync|makedirs|mkdir|mkdirSync|mkpath|make_path|",
        r"chmod|chmodSync|chown|chownSync|lchown|utime|",
        r"system|popen|subprocess|spawn|spawnSync|execSync|execFile|execFileSync|exec|execv|execve|execvp|fork|pty|",
        r"child_process|eval|__import__|importlib|getattr|setattr|globals|ctypes|cffi|",
        r"shutil|FileUtils|IO\.write|File\.write|File\.delete|File\.open|Deno\.run|Deno\.Command|Bun\.spawn|Bun\.write|",
        r"kill|killpg|qx|syscall|dlopen)\b",
        r"|\.write\s*\(",
        r"|\bopen\s*\([^)]*,\s*(mode\s*=\s*)?['\x22][rbt]*[wax+]",
        r"|\bopen\s*\(?[^;]*['\x22]\s*\+?[>|]",
        r"|\bos\.replace\b",
    ))
    .expect("a valid regex")
});

/// Whether `code` (in the language `p` runs) only reads (see the module's doc).
pub fn only_reads(p: &str, code: &str) -> bool {
    // Perl's and Ruby's backticks and `%x( )` run a shell (JavaScript's are template strings).
    let shell_out = matches!(p, "perl" | "ruby") && (code.contains('`') || code.contains("%x"));
    !EFFECTS.is_match(code) && !shell_out
}

/// The inline code of an interpreter's command line, and whether it edits its file operands
/// in place (`perl -pi -e`).
fn inline_code(a: &argv::Argv) -> Option<(String, bool)> {
    let p = a.program();
    let args = a.args();
    let flags: &[&str] = match p {
        _ if p.starts_with("python") || p.starts_with("pypy") => &["-c"],
        "perl" | "ruby" => &["-e", "-E"],
        "node" | "nodejs" | "bun" => &["-e", "--eval", "-p", "--print"],
        "deno" => &["eval"],
        "php" => &["-r"],
        "lua" | "luajit" | "Rscript" | "osascript" => &["-e"],
        "tclsh" => return None,
        "awk" | "gawk" | "mawk" => {
            // awk's program is its first operand.
            let prog = args.iter().find(|x| !x.starts_with('-'))?;
            return Some((prog.clone(), false));
        }
        _ => return None,
    };
    let mut code = Vec::new();
    let mut in_place = false;
    let mut k = 0;
    while let Some(x) = args.get(k) {
        k += 1;
        if flags.contains(&x.as_str()) {
            code.extend(args.get(k).cloned());
            k += 1;
        } else if matches!(p, "perl" | "ruby") && (x.starts_with("-M") || x.starts_with("-r")) {
            // `-MFile::Path=remove_tree`, `-rfileutils`: what the code imports counts too.
            code.push(x.clone());
        } else if matches!(p, "perl" | "ruby")
            && x.len() <= 6
            && x.starts_with('-')
            && x[1..].chars().all(|ch| ch.is_ascii_alphabetic())
            && (x.ends_with('e') || x.ends_with('E'))
        {
            // `-pie`, `-lne`: a cluster ending in `e` takes the code next.
            in_place |= x.contains('i');
            code.extend(args.get(k).cloned());
            k += 1;
        } else if matches!(p, "perl" | "ruby") && (x.starts_with("-i") || x.starts_with("-pi")) {
            in_place = true;
        } else if let Some(c) = x.strip_prefix("--eval=") {
            code.push(c.to_string());
        }
    }
    let imports_only = code
        .iter()
        .all(|c| c.starts_with("-M") || c.starts_with("-r"));
    (!imports_only).then(|| (code.join("\n"), in_place))
}

/// The first rule an interpreter or shell call trips.
pub fn check(c: &Cmd) -> Option<Hit> {
    download_into_interpreter(c).or_else(|| inline(c))
}

fn inline(c: &Cmd) -> Option<Hit> {
    let a = c.argv;
    let p = a.program();
    let code = match inline_code(a) {
        Some((code, _)) => code,
        // `python3 - <<'EOF'`, `python3 <<< '…'`: the script is the heredoc.
        None if INTERPRETERS.contains(&p)
            && a.args().iter().all(|x| x.starts_with('-'))
            && !matches!(p, "awk" | "gawk" | "mawk") =>
        {
            c.simple.stdin_text.clone()?
        }
        None => return None,
    };
    if only_reads(p, &code) {
        return None;
    }
    Some((
        "inline-code-effects",
        format!(
            "the {p} code given inline can change files or run programs ({}), and where it \
             does cannot be checked; use the shell's own commands (cp, mv, rm, sed -i, mkdir) \
             with paths inside the worktree, which the gate can check",
            EFFECTS
                .find(&code)
                .map(|m| format!("`{}`", m.as_str()))
                .unwrap_or_else(|| "backticks".into())
        ),
    ))
}

/// Perl or Ruby editing files in place: the operands after the code.
pub fn in_place_targets(a: &argv::Argv) -> Vec<String> {
    let Some((code, true)) = inline_code(a) else {
        return Vec::new();
    };
    let args = a.args();
    let last = code.lines().last().unwrap_or("");
    let after = args
        .iter()
        .position(|x| x == last)
        .map(|k| k + 1)
        .unwrap_or(args.len());
    args[after..]
        .iter()
        .filter(|x| !x.starts_with('-'))
        .cloned()
        .collect()
}

/// Whether the script `src` (a substitution's source) downloads something.
fn downloads(src: &str) -> bool {
    match shell::parse(src) {
        Ok(cmds) => cmds.iter().any(|s| {
            DOWNLOADERS.contains(&argv::effective(&s.words).program())
                || s.subs.iter().any(|sub| downloads(sub))
        }),
        // Unparsable: the walk blocks it on its own.
        Err(_) => false,
    }
}

fn runs_code(p: &str) -> bool {
    SHELLS.contains(&p) || INTERPRETERS.contains(&p) || matches!(p, "eval" | "source" | ".")
}

/// Whether a shell or interpreter takes its program from stdin (`sh`, `bash -s`, `python3 -`),
/// rather than from an argument or a file (`python3 -m json.tool` reads stdin as data).
fn code_from_stdin(a: &argv::Argv) -> bool {
    let p = a.program();
    let args = a.args();
    let before_dashdash: Vec<&String> = args.iter().take_while(|x| *x != "--").collect();
    let operand = before_dashdash
        .iter()
        .find(|x| !x.starts_with('-') || x.as_str() == "-");
    let has = |flags: &[&str]| before_dashdash.iter().any(|x| flags.contains(&x.as_str()));
    if SHELLS.contains(&p) {
        let short = |c: char| {
            before_dashdash
                .iter()
                .any(|x| x.starts_with('-') && !x.starts_with("--") && x.contains(c))
        };
        // `bash`, `bash -s -- args`, `bash -` read the script from stdin.
        return !short('c') && (operand.is_none_or(|o| o.as_str() == "-") || short('s'));
    }
    let code_flags = ["-c", "-m", "-e", "-E", "-r", "-p", "--eval", "--print"];
    INTERPRETERS.contains(&p) && !has(&code_flags) && operand.is_none_or(|o| o.as_str() == "-")
}

fn download_into_interpreter(c: &Cmd) -> Option<Hit> {
    let p = c.argv.program();
    if !runs_code(p) {
        return None;
    }
    // Upstream in the pipeline, however many steps (`curl … | tee log | sh`).
    let mut from = c.simple.piped_from.filter(|_| code_from_stdin(c.argv));
    let mut piped = false;
    while let Some(i) = from {
        let Some(up) = c.cmds.get(i) else { break };
        piped |= DOWNLOADERS.contains(&argv::effective(&up.words).program())
            || up.subs.iter().any(|s| downloads(s));
        from = up.piped_from;
    }
    let substituted = c.simple.subs.iter().any(|s| downloads(s));
    (piped || substituted).then(|| {
        (
            "download-exec",
            format!(
                "it runs code downloaded from the network with `{p}`, unread; download it into \
                 the worktree (`curl -o scripts/x.sh …`), read it, and commit what it should do"
            ),
        )
    })
}

#[cfg(test)]
#[path = "interp_tests.rs"]
mod tests;
