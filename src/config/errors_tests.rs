//! The messages of a brl.toml that is missing a key, holds a bad regex, a duplicate key, or is
//! not text at all: each names the right key and a fix that fits the mistake.

use std::path::Path;

use super::Config;

fn err(text: &str) -> String {
    Config::parse(Path::new("/h/brl.toml"), text)
        .expect_err("should fail")
        .to_string()
}

const HEAD: &str = "# brl.toml — a comment first, as `brl init` writes it\n";

#[test]
fn missing_repo_is_named_repo_not_the_line_above() {
    let m = err(&format!(
        "{HEAD}main = \"main\"\n[agent]\ncommand = \"x\"\n"
    ));
    assert!(m.contains("key `repo`"), "{m}");
    assert!(m.contains("add `repo = ...`"), "{m}");
    assert!(!m.contains("# brl.toml"), "a comment is not a key: {m}");
}

#[test]
fn missing_key_inside_a_table_names_table_and_key() {
    let m = err(&format!(
        "{HEAD}repo = \"x\"\n[checks.test]\nparser = \"pytest\"\n"
    ));
    assert!(m.contains("key `checks.test.command`"), "{m}");
}

#[test]
fn bad_regex_is_not_a_toml_syntax_error() {
    let m = err(&format!("{HEAD}repo = \"x\"\n[gate]\ndeny = [\"([a-\"]\n"));
    assert!(m.contains("`gate.deny`"), "{m}");
    assert!(m.contains("correct the regular expression"), "{m}");
    assert!(!m.contains("TOML syntax"), "{m}");
}

#[test]
fn duplicate_key_says_which_and_what_to_do() {
    let m = err(&format!("{HEAD}repo = \"x\"\nrepo = \"y\"\n"));
    assert!(m.contains("defined twice"), "{m}");
    assert!(m.contains("line 3"), "{m}");
}

#[test]
fn binary_or_garbage_file_is_not_told_to_run_init_as_if_missing() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("brl.toml");
    for bytes in [
        vec![0xff, 0xfe, 0x00, 0x41],
        b"repo = \"x\"\n\x00\x01\x02\n".to_vec(),
    ] {
        std::fs::write(&p, &bytes).expect("write");
        let m = Config::load(&p).expect_err("garbage").to_string();
        assert!(m.contains("is not a text file"), "{m}");
        assert!(m.contains(&p.display().to_string()), "{m}");
        assert!(m.contains("move it aside"), "{m}");
        assert!(!m.contains("create it with"), "{m}");
    }
    let m = Config::load(&d.path().join("missing.toml"))
        .expect_err("missing")
        .to_string();
    assert!(m.contains("create it with `brl init"), "{m}");
    let m = Config::load(d.path()).expect_err("a directory").to_string();
    assert!(m.contains("must be a file"), "{m}");
}
