use super::*;

fn words(src: &str) -> Vec<Vec<String>> {
    parse(src).into_iter().map(|c| c.words).collect()
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
        w(&[&["cd", "a"], &["b"], &["{", "c"], &["}"]])
    );
}

#[test]
fn substitutions_are_kept_and_reported() {
    let c = parse("echo $(rm -rf /) \"x `ls` y\" <(cat a)");
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].words[1], "$(rm -rf /)");
    assert_eq!(c[0].words[2], "x `ls` y");
    assert_eq!(c[0].subs, vec!["rm -rf /", "ls", "cat a"]);
    let c = parse("echo $(echo \"$(git push -f)\")");
    assert_eq!(c[0].subs, vec!["echo \"$(git push -f)\""]);
    let c = parse("echo ${X:-$(whoami)}");
    assert_eq!(c[0].subs, vec!["X:-$(whoami)"]);
}

#[test]
fn redirects_heredocs_and_pipes() {
    let c = parse("cat <<'EOF' | psql 2>/dev/null\nDROP TABLE x;\nEOF\necho done > out.txt");
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].words, vec!["cat"]);
    assert_eq!(c[0].stdin_text.as_deref(), Some("DROP TABLE x;\n"));
    assert_eq!(c[1].words, vec!["psql"]);
    assert_eq!(c[1].piped_from, Some(0));
    assert_eq!(c[1].redirects[0].op, "2>");
    assert_eq!(c[2].words, vec!["echo", "done"]);
    assert!(c[2].redirects[0].writes());
    let c = parse("bash <<< 'rm -rf /'");
    assert_eq!(c[0].stdin_text.as_deref(), Some("rm -rf /"));
    let c = parse("make 2>&1 | tee log &>/dev/null");
    assert_eq!(c[0].words, vec!["make"]);
    assert_eq!(c[1].words, vec!["tee", "log"]);
}

#[test]
fn heredocs_inside_substitutions() {
    let src = "git commit -m \"$(cat <<'EOF'\nfix: don't (re)try\nEOF\n)\" && git push -f";
    let c = parse(src);
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!(c[1].words, vec!["git", "push", "-f"]);
    let inner = parse(&c[0].subs[0]);
    assert_eq!(inner[0].stdin_text.as_deref(), Some("fix: don't (re)try\n"));
    assert!(!inner[0].stdin_expands);
    assert!(parse("cat <<EOF\n$X\nEOF")[0].stdin_expands);
}

#[test]
fn odd_input_never_panics() {
    for s in [
        "",
        "'",
        "\"",
        "$(",
        "`",
        "${",
        "\\",
        "<<",
        "<<<",
        "a <<EOF",
        ">",
        "2>",
        "|||",
        "&&&",
        "$'\\",
        "((((",
        "))))",
        "echo \"$(\"",
        "a\\",
        "<(",
        "x >| y",
        "é'ü\"ö`",
    ] {
        let _ = parse(s);
    }
}
