use super::*;

#[test]
fn pytest_fixtures() {
    assert_eq!(tests(Pytest, fixture!("pytest-clean"), 0), (0, 4));
    assert_eq!(tests(Pytest, fixture!("pytest-clean-q"), 0), (0, 4));
    assert_eq!(tests(Pytest, fixture!("pytest-failures"), 1), (2, 4));
    assert_eq!(tests(Pytest, fixture!("pytest-failures-q"), 1), (2, 4));
    assert_eq!(tests(Pytest, fixture!("pytest-mixed"), 1), (3, 5));
    assert_eq!(tests(Pytest, fixture!("pytest-mixed-q"), 1), (3, 5));
    assert_eq!(
        tests(Pytest, fixture!("pytest-collection-error"), 2),
        (1, 0)
    );
    assert_eq!(tests(Pytest, fixture!("pytest-no-tests"), 5), (0, 0));
    assert_eq!(tests(Pytest, fixture!("pytest-no-tests-q"), 5), (0, 0));
    let e = err(Pytest, fixture!("pytest-usage-error"), Some(4));
    assert!(
        e.contains("exit code 4") && e.contains("ERROR: usage"),
        "{e}"
    );
}

#[test]
fn pytest_summary_forms() {
    let t = |s: &str| tests(Pytest, s, 1);
    assert_eq!(
        t("==== 10 passed, 2 failed, 3 errors in 65.20s (0:01:05) ===="),
        (5, 10)
    );
    assert_eq!(t("1 passed, 1 deselected in 0.3 seconds"), (0, 1));
    assert_eq!(t("= 1 failed in 0.01s =\n"), (1, 0));
    // Only the last summary counts (e.g. pytester output earlier in the log).
    assert_eq!(t("3 passed in 0.1s\n== 1 passed in 0.2s =="), (0, 1));
}

#[test]
fn mypy_fixtures() {
    assert_eq!(errs(Mypy, fixture!("mypy-clean"), 0), 0);
    assert_eq!(errs(Mypy, fixture!("mypy-errors"), 1), 3);
    assert_eq!(errs(Mypy, fixture!("mypy-errors-pretty"), 1), 3);
    assert_eq!(errs(Mypy, fixture!("mypy-one-error"), 1), 1);
    assert_eq!(errs(Mypy, fixture!("mypy-syntax-error"), 2), 2);
    let e = err(Mypy, fixture!("mypy-usage-error"), Some(2));
    assert!(
        e.contains("exit code 2") && e.contains("usage: mypy"),
        "{e}"
    );
}

#[test]
fn pytest_names_node_ids_from_the_short_summary() {
    let names = |first: &str| {
        v(&[
            first,
            "tests/test_calc.py::TestParse::test_nan",
            "tests/test_calc.py::test_words[a b-1]",
            // A parametrised id holding ` - `: only the message after the id is cut.
            "tests/test_calc.py::test_words[c - d-2]",
            "ERROR tests/test_calc.py::test_uses_broken",
        ])
    };
    assert_eq!(
        named(Pytest, fixture!("pytest-names-q"), 1),
        (5, 3, names("tests/test_calc.py::test_sub"))
    );
    // Swap: test_sub fixed, test_add broken; same counts, different names.
    assert_eq!(
        named(Pytest, fixture!("pytest-swap-q"), 1),
        (5, 3, names("tests/test_calc.py::test_add"))
    );
    let two = v(&["test_math.py::test_sub", "test_str.py::test_lower"]);
    assert_eq!(
        named(Pytest, fixture!("pytest-failures"), 1),
        (2, 4, two.clone())
    );
    assert_eq!(
        named(Pytest, fixture!("pytest-failures-q"), 1),
        (2, 4, two.clone())
    );
    let mixed = [&two[..], &v(&["ERROR test_misc.py::test_uses_broken"])].concat();
    assert_eq!(
        named(Pytest, fixture!("pytest-mixed"), 1),
        (3, 5, mixed.clone())
    );
    assert_eq!(named(Pytest, fixture!("pytest-mixed-q"), 1), (3, 5, mixed));
    assert_eq!(named(Pytest, fixture!("pytest-clean-q"), 0), (0, 4, v(&[])));
    assert_eq!(
        named(Pytest, fixture!("pytest-no-tests-q"), 5),
        (0, 0, v(&[]))
    );
}

#[test]
fn pytest_names_collection_errors() {
    assert_eq!(
        named(Pytest, fixture!("pytest-collect-q"), 2),
        (1, 0, v(&["ERROR tests/test_bad.py"]))
    );
    assert_eq!(
        named(Pytest, fixture!("pytest-collection-error"), 2),
        (1, 0, v(&["ERROR test_collect_err.py"]))
    );
    assert_eq!(
        named(Pytest, fixture!("pytest-collect-continue-q"), 1),
        (
            6,
            3,
            v(&[
                "tests/test_calc.py::test_add",
                "tests/test_calc.py::TestParse::test_nan",
                "tests/test_calc.py::test_words[a b-1]",
                "tests/test_calc.py::test_words[c - d-2]",
                "ERROR tests/test_bad.py",
                "ERROR tests/test_calc.py::test_uses_broken",
            ])
        )
    );
}

#[test]
fn pytest_without_short_summary_is_incomplete() {
    // `-rN` (or an old pytest) prints no short summary: counts only.
    let p = run(Pytest, "F.\n1 failed, 1 passed in 0.01s\n", Some(1)).unwrap();
    assert_eq!((p.failures, p.failing.as_deref()), (Some(1), Some(&[][..])));
    assert!(!p.complete());
}

#[test]
fn mypy_names_errors_by_file_code_and_message() {
    let names = |second: &str| {
        v(&[
            "pkg/a.py: assignment: Incompatible types in assignment (expression has type \"str\", variable has type \"int\")",
            second,
            "pkg/b.py: return-value: Incompatible return value type (got \"int\", expected \"str\")",
            "pkg/b.py: attr-defined: \"int\" has no attribute \"upper\"",
        ])
    };
    let arg_type =
        "pkg/a.py: arg-type: Argument 2 to \"add\" has incompatible type \"str\"; expected \"int\"";
    assert_eq!(ids(Mypy, fixture!("mypy-ids"), 1), (4, names(arg_type)));
    // --pretty wraps messages onto following lines; joined back, they name the same errors.
    assert_eq!(
        ids(Mypy, fixture!("mypy-ids-pretty"), 1),
        (4, names(arg_type))
    );
    // Swap: [arg-type] fixed, [operator] added, lines moved; 4 errors before and after.
    assert_eq!(
        ids(Mypy, fixture!("mypy-swap"), 1),
        (
            4,
            names("pkg/a.py: operator: Unsupported operand types for + (\"str\" and \"int\")")
        )
    );
    let old = v(&[
        "a.py: assignment: Incompatible types in assignment (expression has type \"int\", variable has type \"str\")",
        "a.py: assignment: Incompatible types in assignment (expression has type \"str\", variable has type \"int\")",
        "b.py: arg-type: Argument 2 to \"add\" has incompatible type \"str\"; expected \"int\"",
    ]);
    assert_eq!(ids(Mypy, fixture!("mypy-errors"), 1), (3, old.clone()));
    assert_eq!(ids(Mypy, fixture!("mypy-errors-pretty"), 1), (3, old));
    assert_eq!(
        ids(Mypy, fixture!("mypy-syntax-error"), 2),
        (
            2,
            v(&[
                "d.py: syntax: Expected a parameter or the end of the parameter list",
                "d.py: syntax: Unexpected EOF while parsing",
            ])
        )
    );
    assert_eq!(ids(Mypy, fixture!("mypy-clean"), 0), (0, v(&[])));
}

#[test]
fn mypy_errors_without_line_or_code() {
    // Notes are not errors; an error without a line number keeps its file.
    assert_eq!(
        ids(Mypy, fixture!("mypy-found-twice"), 2),
        (
            1,
            v(&[
                "pkg/a.py: error: Source file found twice under different module names: \"a\" and \"pkg.a\""
            ])
        )
    );
    // --show-column-numbers / --show-error-end positions are dropped as well.
    let out = "m.py:3:5: error: Name \"x\" is not defined  [name-defined]\n\
               m.py:4:1:4:9: error: Bad thing\nFound 2 errors in 1 file (checked 1 source file)\n";
    assert_eq!(
        ids(Mypy, out, 1),
        (
            2,
            v(&[
                "m.py: name-defined: Name \"x\" is not defined",
                "m.py: error: Bad thing"
            ])
        )
    );
}
