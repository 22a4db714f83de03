//! git commands that rewrite history, discard work, or touch the main branch.

use super::argv::Argv;
use super::commands::Hit;
use super::rules::Context;

/// git's own options before the subcommand that take a value.
pub(super) const GLOBAL_WITH_ARG: &[&str] = &[
    "-C",
    "-c",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--super-prefix",
    "--config-env",
    "--exec-path",
];

/// The rule a git command trips, if any.
pub fn check(a: &Argv, ctx: &Context) -> Option<Hit> {
    if a.program() != "git" {
        return None;
    }
    let w = a.args();
    let mut i = 0;
    while let Some(x) = w.get(i) {
        if GLOBAL_WITH_ARG.contains(&x.as_str()) {
            i += 2;
        } else if x.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    let sub = w.get(i)?.as_str();
    let args = &w[i + 1..];
    let main = ctx.main.as_str();
    match sub {
        "reset" if args.iter().any(|x| x == "--hard") => Some((
            "git-reset-hard",
            "`git reset --hard` throws work away; to undo your own uncommitted change use \
             `git restore <file>`, to undo a commit use `git revert`"
                .into(),
        )),
        "clean" if args.iter().any(|x| x == "--force" || short_has(x, 'f')) => Some((
            "git-clean-force",
            "`git clean -f` deletes untracked files for good; remove the files you created by \
             name, or see what would go with `git clean -n`"
                .into(),
        )),
        "push" => push(args, main),
        "worktree"
            if args.first().is_some_and(|v| {
                matches!(v.as_str(), "remove" | "prune" | "move" | "add" | "repair")
            }) =>
        {
            Some((
                "git-worktree",
                "brl makes, keeps and removes the sessions' worktrees (this one and the others); \
             do not add, move, prune or remove worktrees: work in the current directory"
                    .into(),
            ))
        }
        "branch" => branch(args, main),
        "checkout" | "switch" => checkout(sub, args, main),
        "update-ref" | "symbolic-ref"
            if args
                .iter()
                .any(|x| is_main(x, main) || x.ends_with(&format!("refs/heads/{main}"))) =>
        {
            Some(to_main(&format!("`git {sub}` on {main}")))
        }
        _ => None,
    }
}

/// A short option cluster (`-fdx`) containing `c`.
fn short_has(x: &str, c: char) -> bool {
    x.starts_with('-') && !x.starts_with("--") && x[1..].contains(c)
}

fn is_main(name: &str, main: &str) -> bool {
    let n = name.strip_prefix("refs/heads/").unwrap_or(name);
    n == main
}

fn to_main(what: &str) -> Hit {
    (
        "git-main",
        format!(
            "{what}: the main branch only changes when a person (or brl's review) approves a \
             branch; stay on this cycle's branch and commit there"
        ),
    )
}

fn push(args: &[String], main: &str) -> Option<Hit> {
    let mut positional = Vec::new();
    let mut force = false;
    let mut every = false;
    let mut opts = true;
    let mut k = 0;
    while let Some(x) = args.get(k) {
        k += 1;
        if !opts || !x.starts_with('-') || x == "-" {
            positional.push(x.as_str());
            continue;
        }
        match x.as_str() {
            "--" => opts = false,
            "--repo" | "-o" | "--push-option" | "--receive-pack" | "--exec" => k += 1,
            "--all" | "--mirror" | "--branches" => every = true,
            x if x == "--force"
                || x.starts_with("--force-with-lease")
                || x == "--force-if-includes" =>
            {
                force = true
            }
            x if short_has(x, 'f') => force = true,
            _ => {}
        }
    }
    let refspecs = positional.get(1..).unwrap_or(&[]);
    if force || refspecs.iter().any(|r| r.starts_with('+')) {
        return Some((
            "git-push-force",
            "a forced push rewrites history on the remote; push without force (new commits on \
             top), or leave publishing to brl"
                .into(),
        ));
    }
    if every {
        return Some(to_main("`git push --all`/`--mirror` pushes main too"));
    }
    for r in refspecs {
        let dst = r.rsplit_once(':').map(|(_, d)| d).unwrap_or(r);
        if is_main(dst, main) {
            return Some(to_main(&format!("`git push` to {main}")));
        }
    }
    None
}

fn branch(args: &[String], main: &str) -> Option<Hit> {
    let has = |long: &[&str], short: &[char]| {
        args.iter()
            .any(|x| long.contains(&x.as_str()) || short.iter().any(|&c| short_has(x, c)))
    };
    let names: Vec<&String> = args.iter().filter(|x| !x.starts_with('-')).collect();
    if has(&["--delete"], &['d', 'D']) {
        if let Some(n) = names
            .iter()
            .find(|n| is_main(n, main) || n.starts_with("brl/"))
        {
            return Some((
                "git-branch-delete",
                format!(
                    "deleting `{n}` is not the agent's call: main stays, and brl's branches are \
                     kept or discarded by the review"
                ),
            ));
        }
    } else if has(&["--force", "--move", "--copy"], &['f', 'm', 'M', 'c', 'C'])
        && names.iter().any(|n| is_main(n, main))
    {
        return Some(to_main(&format!("moving or overwriting {main}")));
    }
    None
}

fn checkout(sub: &str, args: &[String], main: &str) -> Option<Hit> {
    let mut positional = Vec::new();
    let mut creating = false;
    let mut files = false;
    let mut k = 0;
    while let Some(x) = args.get(k) {
        k += 1;
        match x.as_str() {
            "--" => {
                files = true; // paths follow: a file checkout
                break;
            }
            "-b" | "-B" | "-c" | "-C" | "--orphan" => {
                creating = true;
                if args.get(k).is_some_and(|n| is_main(n, main)) {
                    return Some(to_main(&format!(
                        "`git {sub} {x} {main}` (re)creates {main}"
                    )));
                }
                k += 1;
            }
            x if x.starts_with('-') => {}
            _ => positional.push(x.as_str()),
        }
    }
    let tracking = args.iter().any(|x| x == "-t" || x.starts_with("--track"));
    let onto_main = match positional.as_slice() {
        // `--track origin/main` creates and checks out a local `main`.
        [only] => is_main(only, main) || (tracking && only.rsplit('/').next() == Some(main)),
        _ => false,
    };
    (onto_main && !creating && !files).then(|| {
        to_main(&format!(
            "`git {sub} {main}` leaves this cycle's branch (to look at main's files use \
             `git show {main}:<path>` or `git diff {main}`)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::argv::effective;
    use crate::gate::shell::parse;

    fn hit(src: &str) -> Option<&'static str> {
        let c = parse(src).expect("parses");
        check(&effective(&c[0].words), &Context::for_tests("/w")).map(|h| h.0)
    }

    #[test]
    fn git_rules() {
        assert_eq!(hit("git reset --hard HEAD~1"), Some("git-reset-hard"));
        assert_eq!(hit("git -C ../x push --force"), Some("git-push-force"));
        assert_eq!(hit("git push -uf origin x"), Some("git-push-force"));
        assert_eq!(hit("git push origin +feature"), Some("git-push-force"));
        assert_eq!(hit("git push origin HEAD:main"), Some("git-main"));
        assert_eq!(hit("git push origin refs/heads/main"), Some("git-main"));
        assert_eq!(hit("git clean -fdx"), Some("git-clean-force"));
        assert_eq!(hit("git branch -D main"), Some("git-branch-delete"));
        assert_eq!(hit("git checkout main"), Some("git-main"));
        assert_eq!(hit("git switch -C main"), Some("git-main"));
        for ok in [
            "git push",
            "git push origin HEAD",
            "git push -u origin brl/s1/20260101-000000",
            "git checkout main -- src/a.rs",
            "git checkout -b fix main",
            "git clean -n",
            "git branch -d old-experiment",
            "git reset --soft HEAD~1",
            "git diff main",
            "git log --oneline main..HEAD",
        ] {
            assert_eq!(hit(ok), None, "{ok}");
        }
    }
}
