//! What every parser shares about names: normalising, caps, completeness, serde.

use super::*;

#[test]
fn names_are_normalised_and_capped() {
    // ANSI codes and runs of whitespace go; a long name is cut to MAX_NAME_CHARS characters
    // (here multi-byte ones, never split).
    let long = "é".repeat(MAX_NAME_CHARS + 50);
    let out = format!(
        "===== short test summary info =====\n\
         FAILED \x1b[31mt.py::test_a\x1b[0m   -  boom\n\
         FAILED t.py::test_\t b\n\
         FAILED t.py::{long}\n\
         3 failed in 0.1s\n"
    );
    let (_, _, names) = named(Pytest, &out, 1);
    assert_eq!(names[..2], v(&["t.py::test_a", "t.py::test_ b"])[..]);
    assert_eq!(names[2].chars().count(), MAX_NAME_CHARS);
    assert!(names[2].starts_with("t.py::éé"));

    // At most MAX_NAMES names; the count stays exact and the list is not complete.
    let mut out = String::from("== short test summary info ==\n");
    for i in 0..MAX_NAMES + 5 {
        out.push_str(&format!("FAILED t.py::test_{i}\n"));
    }
    out.push_str(&format!("{} failed in 2.0s\n", MAX_NAMES + 5));
    let p = run(Pytest, &out, Some(1)).unwrap();
    assert_eq!(p.failures, Some(MAX_NAMES as u64 + 5));
    let failing = p.failing.as_ref().unwrap();
    assert_eq!(failing.len(), MAX_NAMES);
    assert_eq!(
        failing.last().unwrap(),
        &format!("t.py::test_{}", MAX_NAMES - 1)
    );
    assert!(!p.complete());
    // The same holds for generic names (vitest's unhandled errors).
    let p = run(
        Vitest,
        "      Tests  1 passed (1)\n     Errors  5000 errors\n",
        Some(1),
    )
    .unwrap();
    assert_eq!(p.failures, Some(5000));
    assert_eq!(p.failing.map(|f| f.len()), Some(MAX_NAMES));
}

#[test]
fn complete_needs_a_name_per_count() {
    let p = |errors, failures, error_ids: Option<&[&str]>, failing: Option<&[&str]>| Parsed {
        errors,
        failures,
        passed: None,
        error_ids: error_ids.map(v),
        failing: failing.map(v),
    };
    assert!(p(Some(1), None, Some(&["e"]), None).complete());
    assert!(p(None, Some(0), None, Some(&[])).complete());
    assert!(!p(Some(2), None, Some(&["e"]), None).complete());
    assert!(!p(Some(1), None, None, None).complete());
    assert!(!p(None, None, None, None).complete());
    // The parsers that only count name nothing, so they are never complete.
    assert!(!run(ExitCode, "", Some(1)).unwrap().complete());
    let rules = RegexRules {
        errors: Some(Regex::new("E").unwrap()),
        ..RegexRules::default()
    };
    let r = parse(ParserKind::Regex, &rules, "E\n", Some(1)).unwrap();
    assert_eq!(
        (r.errors, &r.error_ids, r.complete()),
        (Some(1), &None, false)
    );
}

#[test]
fn serde_keeps_old_records_readable() {
    // A record written before names existed (a cached baseline) still reads, without names;
    // a record without names is written without the keys.
    let old: Parsed =
        serde_json::from_str(r#"{"errors":2,"failures":null,"passed":null}"#).unwrap();
    assert_eq!(
        (old.errors, &old.error_ids, &old.failing),
        (Some(2), &None, &None)
    );
    assert_eq!(
        serde_json::to_string(&old).unwrap(),
        r#"{"errors":2,"failures":null,"passed":null}"#
    );
    let p = run(Tsc, fixture!("tsc-ids"), Some(1)).unwrap();
    let back: Parsed = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}
