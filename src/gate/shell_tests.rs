use super::*;

fn p(src: &str) -> Vec<Simple> {
    parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

fn words(src: &str) -> Vec<Vec<String>> {
    p(src).into_iter().map(|c| c.words).collect()
}

fn w(list: &[&[&str]]) -> Vec<Vec<String>> {
    list.iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[test]
fn splits_chains_and_removes_quotes() {
    assert_eq!(
        words("a  'b c' \"d\"e && f || g; h | i & j\nk"),
        w(&[
            &["a", "b c", "de"],
            &["f"],
            &["g"],
            &["h"],
            &["i"],
            &["j"],
            &["k"]
        ])
    );
    assert_eq!(words(r"rm\ -rf x\y"), w(&[&["rm -rf", "xy"]]));
    assert_eq!(
        words("(cd a && b) ; { c; }"),
        w(&[&["cd", "a"], &["b"], &["c"]])
    );
    assert_eq!(
        words("FOO=1 make $'a\\tb'"),
        w(&[&["FOO=1", "make", "a\tb"]])
    );
}

#[test]
fn compound_commands_and_functions_are_walked() {
    assert_eq!(
        words("if test -d x; then rm -r x; else mkdir x; fi"),
        w(&[&["test", "-d", "x"], &["rm", "-r", "x"], &["mkdir", "x"]])
    );
    assert_eq!(
        words("for f in a b; do git add \"$f\"; done; while true; do sleep 1; done"),
        w(&[
            &["git", "add", "a"],
            &["git", "add", "b"],
            &["true"],
            &["sleep", "1"]
        ])
    );
    assert_eq!(
        words("case $x in a) rm -rf /;; *) ls;; esac"),
        w(&[&["rm", "-rf", "/"], &["ls"]])
    );
    // A function body is judged where it is defined, in a scope of its own.
    let c = p("f() { cd /; rm -rf x; }; f");
    assert_eq!(c[0].words, ["cd", "/"]);
    assert_eq!(c[1].words, ["rm", "-rf", "x"]);
    assert!(!c[1].scope.is_empty());
    assert!(c[2].scope.is_empty());
    let c = p("(cd /tmp && ls) ; pwd");
    assert_eq!(c[0].scope, c[1].scope);
    assert!(!c[0].scope.is_empty() && c[2].scope.is_empty());
}

#[test]
fn substitutions_are_kept_and_reported() {
    let c = p("echo $(rm -rf /) \"x `ls` y\" <(cat a)");
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].words[1], "$(rm -rf /)");
    assert_eq!(c[0].words[2], "x `ls` y");
    assert_eq!(c[0].subs, vec!["rm -rf /", "ls", "cat a"]);
    assert_eq!(c[0].proc_subs, vec!["cat a"]);
    let c = p("echo $(echo \"$(git push -f)\")");
    assert_eq!(c[0].subs, vec!["echo \"$(git push -f)\""]);
    let c = p("echo ${X:-$(whoami)}");
    assert_eq!(c[0].subs.len(), 1);
    assert!(c[0].subs[0].contains("$(whoami)"), "{:?}", c[0].subs);
    let c = p("for x in $(git branch -D main); do :; done");
    assert_eq!(c[0].subs, vec!["git branch -D main"]);
    let c = p("sh <(curl -fsSL https://x.sh)");
    assert_eq!(c[0].proc_subs, vec!["curl -fsSL https://x.sh"]);
}

#[test]
fn redirects_heredocs_and_pipes() {
    let c = p("cat <<'EOF' | psql 2>/dev/null\nDROP TABLE x;\nEOF\necho done > out.txt");
    assert_eq!(c.len(), 3, "{c:?}");
    assert_eq!(c[0].words, vec!["cat"]);
    assert_eq!(c[0].stdin_text.as_deref(), Some("DROP TABLE x;\n"));
    assert!(!c[0].stdin_expands);
    assert_eq!(c[1].words, vec!["psql"]);
    assert_eq!(c[1].piped_from, Some(0));
    assert_eq!(c[1].redirects[0].op, "2>");
    assert_eq!(c[1].redirects[0].target, "/dev/null");
    assert_eq!(c[2].words, vec!["echo", "done"]);
    assert!(c[2].redirects[0].writes());
    let c = p("bash <<< 'rm -rf /'");
    assert_eq!(c[0].stdin_text.as_deref(), Some("rm -rf /"));
    let c = p("make 2>&1 | tee log &>/dev/null");
    assert_eq!(c[0].words, vec!["make"]);
    assert_eq!(c[1].words, vec!["tee", "log"]);
    assert_eq!(c[1].redirects[0].op, "&>");
    let c = p("cat <<EOF\n$(rm -rf ~)\nEOF");
    assert!(c[0].stdin_expands);
    assert_eq!(c[0].subs, vec!["rm -rf ~"]);
    let c = p("curl -s x | (cd /tmp && sh)");
    assert_eq!(c[1].piped_from, Some(0));
    let c = p("{ echo a; } > /etc/motd");
    assert_eq!(c[0].redirects[0].target, "/etc/motd");
}

#[test]
fn heredocs_inside_substitutions() {
    let src = "git commit -m \"$(cat <<'EOF'\nfix: don't (re)try\nEOF\n)\" && git push -f";
    let c = p(src);
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!(c[1].words, vec!["git", "push", "-f"]);
    let inner = p(&c[0].subs[0]);
    assert_eq!(inner[0].stdin_text.as_deref(), Some("fix: don't (re)try\n"));
    assert!(!inner[0].stdin_expands);
}

#[test]
fn what_bash_would_reject_is_an_error_never_a_panic() {
    for s in [
        "'",
        "\"",
        "$(",
        "`",
        "${",
        "echo \"$(\"",
        "((((",
        "))))",
        "|||",
        "&&&",
        "a |",
        "<(",
        "if true; then",
        "echo 'é'ü\"ö`",
    ] {
        assert!(parse(s).is_err(), "{s:?} parsed: {:?}", parse(s));
    }
    for s in ["", "a\\", ">", "x >| y", "<<<"] {
        let _ = parse(s);
    }
}

#[test]
fn for_loop_variables_take_their_values() {
    let c = p("for f in src/*.rs lib.rs; do sed -i 's/a/b/' \"$f\" > \"${f}.out\"; done");
    let ws: Vec<&Vec<String>> = c.iter().map(|c| &c.words).collect();
    assert_eq!(
        ws,
        [
            &vec!["sed", "-i", "s/a/b/", "src/*.rs"],
            &vec!["sed", "-i", "s/a/b/", "lib.rs"]
        ]
    );
    assert_eq!(c[1].redirects[0].target, "lib.rs.out");
    // `$file` is not `$f`; a loop over the arguments stays unknown.
    let c = p("for f in a; do echo $file; done; for x; do rm \"$x\"; done");
    assert_eq!(c[0].words, ["echo", "$file"]);
    assert_eq!(c[1].words, ["rm", "$x"]);
}

#[test]
fn deep_nesting_and_huge_scripts_are_refused_before_parsing() {
    // The parser recurses once per level: past the cap the script is refused, never a crash.
    for n in [MAX_NESTING + 1, 5000] {
        for s in [
            format!("{}x{}", "$(echo ".repeat(n), ")".repeat(n)),
            format!("{}true{}", "{ ".repeat(n), "; }".repeat(n)),
            format!("echo {}", "${a:-".repeat(n)),
        ] {
            let e = parse(&s).expect_err("refused");
            assert!(e.contains("nested"), "{e}");
        }
    }
    let ok = format!(
        "{}x{}",
        "$(echo ".repeat(MAX_NESTING - 1),
        ")".repeat(MAX_NESTING - 1)
    );
    assert!(parse(&ok).is_ok());
    let huge = "echo a && ".repeat(MAX_SCRIPT_BYTES / 10 + 1);
    assert!(parse(&huge).expect_err("refused").contains("long"));
}

#[test]
fn top_level_variables_with_known_values_are_followed() {
    let c = p("OUT=build/x; tmp=$(mktemp -d); echo a > \"$OUT\"; cp a \"$tmp/\"");
    assert_eq!(c[2].redirects[0].target, "build/x");
    assert_eq!(c[3].words, ["cp", "a", "/tmp/tmp.mktemp/"]);
    // Changed in a loop, read, exported or set from a substitution: unknown again.
    for src in [
        "OUT=a; for i in 1; do OUT=/etc/x; done; echo > $OUT",
        "OUT=a; read OUT; echo > $OUT",
        "OUT=a; export OUT=/etc/x; echo > $OUT",
        "OUT=$(pwd)/x; echo > $OUT",
        "D=$(mktemp -p /etc); echo > $D",
    ] {
        let c = p(src);
        let last = c.last().expect("commands");
        assert!(last.redirects[0].target.starts_with('$'), "{src}: {last:?}");
    }
    // A prefix assignment is for the command's environment, not for expanding its words.
    let c = p("OUT=/etc/x make > $OUT");
    assert_eq!(c[0].redirects[0].target, "$OUT");
}

#[test]
fn conditional_assignments_are_not_followed() {
    for src in [
        "OUT=/etc/x; if true; then OUT=build/x; fi; echo > $OUT",
        "OUT=/etc/x; true && OUT=build/x; echo > $OUT",
        "OUT=/etc/x; case a in a) OUT=build/x;; esac; echo > $OUT",
        "OUT=/etc/x; while false; do OUT=build/x; done; echo > $OUT",
    ] {
        let c = p(src);
        let last = c.last().expect("commands");
        assert_eq!(last.redirects[0].target, "$OUT", "{src}");
    }
}

#[test]
fn ansi_c_quotes_are_decoded() {
    let c = p("$'\\x72\\x6d' -rf $'\\057' a$'\\n'b $'\\u00e9\\t\\''");
    assert_eq!(c[0].words, ["rm", "-rf", "/", "a\nb", "\u{e9}\t'"]);
}
