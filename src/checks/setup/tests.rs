//! The setup's pure parts: its key, its stamp's place, the output tail.

use super::report::tail;
use super::*;

#[test]
fn the_tail_is_bounded_and_starts_a_line() {
    let long: String = (0..1000).map(|i| format!("line {i}\n")).collect();
    let t = tail(&long);
    assert!(t.len() <= TAIL_BYTES, "{}", t.len());
    assert!(t.starts_with("line "), "{t}");
    assert!(t.ends_with("line 999"), "{t}");
    assert_eq!(tail("short\n\n"), "short");
    let wide = "é".repeat(3000);
    assert!(tail(&wide).len() <= TAIL_BYTES);
}

#[test]
fn the_key_follows_the_command_and_the_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = vec!["lock.json".to_string()];
    let missing = setup_key("npm ci", &inputs, dir.path()).expect("key");
    std::fs::write(dir.path().join("lock.json"), "a").expect("write");
    let a = setup_key("npm ci", &inputs, dir.path()).expect("key");
    assert_ne!(missing, a);
    assert_eq!(a, setup_key("npm ci", &inputs, dir.path()).expect("key"));
    assert_ne!(
        a,
        setup_key("npm install", &inputs, dir.path()).expect("key")
    );
    std::fs::write(dir.path().join("lock.json"), "b").expect("write");
    assert_ne!(a, setup_key("npm ci", &inputs, dir.path()).expect("key"));
    std::fs::create_dir(dir.path().join("d")).expect("mkdir");
    let e = setup_key("npm ci", &["d".into()], dir.path()).expect_err("a directory");
    assert!(e.to_string().contains("cannot read `d`"), "{e}");
    assert!(e.to_string().contains("not a file"), "{e}");
}

#[test]
fn stamps_of_two_worktrees_differ_and_name_them() {
    let home = Home::new(Path::new("/h"));
    let a = stamp_path(&home, Path::new("/h/worktrees/s1"));
    let b = stamp_path(&home, Path::new("/other/worktrees/s1"));
    assert_ne!(a, b);
    assert!(a.starts_with("/h/logs/worktrees"), "{}", a.display());
    let name = a.file_name().and_then(|n| n.to_str()).unwrap_or("");
    assert!(
        name.starts_with("s1-") && name.ends_with(".setup.json"),
        "{name}"
    );
}
