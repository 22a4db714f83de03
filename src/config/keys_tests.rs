//! The keymap: parsing, defaults, overrides and conflicts.

use super::*;

fn keys(toml_text: &str) -> KeysConfig {
    toml::from_str(toml_text).expect("toml")
}

#[test]
fn defaults_are_consistent_and_found_by_context() {
    let m = Keymap::default();
    let a = Key::parse("a").unwrap();
    assert_eq!(
        m.lookup(&[Context::Review, Context::Global], a),
        Some(Action::Approve)
    );
    assert_eq!(m.lookup(&[Context::Tasks, Context::Global], a), None);
    let n = Key::parse("n").unwrap();
    assert_eq!(
        m.lookup(&[Context::Tasks, Context::Global], n),
        Some(Action::NewTask)
    );
    assert_eq!(m.lookup(&[Context::Dialog], n), Some(Action::Cancel));
    assert_eq!(
        m.lookup(&[Context::Log, Context::Global], n),
        Some(Action::SearchNext)
    );
    assert_eq!(m.label(Action::Quit), "q/ctrl-c");
}

#[test]
fn keys_parse_and_print() {
    for s in [
        "a",
        "A",
        "?",
        "/",
        "enter",
        "shift-tab",
        "ctrl-c",
        "alt-x",
        "f5",
        "pagedown",
        "space",
    ] {
        assert_eq!(Key::parse(s).unwrap().to_string(), s);
    }
    assert_eq!(Key::parse("space").unwrap().code, KeyCode::Char(' '));
    assert_eq!(Key::parse("Ctrl-C").unwrap(), Key::parse("ctrl-c").unwrap());
    assert!(Key::parse("banana").unwrap_err().contains("not a key"));
    assert!(Key::parse("").is_err());
}

#[test]
fn overrides_replace_the_defaults() {
    let m = Keymap::build(&keys("approve = \"m\"\nquit = [\"Q\", \"ctrl-q\"]")).unwrap();
    let ctx = [Context::Review, Context::Global];
    assert_eq!(
        m.lookup(&ctx, Key::parse("m").unwrap()),
        Some(Action::Approve)
    );
    assert_eq!(m.lookup(&ctx, Key::parse("a").unwrap()), None);
    assert_eq!(m.lookup(&ctx, Key::parse("q").unwrap()), None);
    assert_eq!(m.label(Action::Quit), "Q/ctrl-q");
}

#[test]
fn unknown_actions_bad_keys_and_double_bindings_are_errors() {
    let e = Keymap::build(&keys("aprove = \"a\"")).unwrap_err();
    assert_eq!(e.key, "keys.aprove");
    assert!(e.fix.contains("approve"), "{e:?}");
    let e = Keymap::build(&keys("approve = \"banana\"")).unwrap_err();
    assert_eq!(e.key, "keys.approve");
    // `q` is quit everywhere: binding it to approve clashes in the review queue.
    let e = Keymap::build(&keys("approve = \"q\"")).unwrap_err();
    assert!(
        e.message.contains("`q`") && e.message.contains("quit"),
        "{e:?}"
    );
    // Two views never show at once: the same key in two views is fine.
    Keymap::build(&keys("approve = \"d\"")).unwrap();
    // A dialog is modal: `y` elsewhere does not clash with confirm.
    Keymap::build(&keys("new_task = \"y\"")).unwrap();
}
