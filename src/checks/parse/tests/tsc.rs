use super::*;

#[test]
fn tsc_fixtures() {
    assert_eq!(errs(Tsc, fixture!("tsc-clean"), 0), 0);
    assert_eq!(errs(Tsc, fixture!("tsc-errors"), 1), 3);
    assert_eq!(errs(Tsc, fixture!("tsc-errors-pretty"), 1), 3);
    assert_eq!(errs(Tsc, fixture!("tsc-global-errors"), 1), 11);
    assert_eq!(errs(Tsc, fixture!("tsc-v5-errors"), 2), 3);
    assert_eq!(errs(Tsc, fixture!("tsc-v5-errors-pretty"), 2), 3);
    assert_eq!(errs(Tsc, fixture!("tsc-v5-global-errors-pretty"), 2), 11);
    let e = err(Tsc, fixture!("tsc-not-found"), Some(127));
    assert!(
        e.contains("exit code 127") && e.contains("npx-missing: not found"),
        "{e}"
    );
    assert_eq!(
        err(Tsc, "", Some(2)),
        "tsc failed without any `error TS…` diagnostic (exit code 2; no output)"
    );
}

const MATH_TS2322: &str = "src/math.ts: TS2322: Type 'string' is not assignable to type 'number'.";
const STR_TS2345: &str = "src/str.ts: TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.";
const STR_TS2741: &str = "src/str.ts: TS2741: Property 'y' is missing in type '{ x: number; }' but required in type 'Point'.";
const STR_TS2339: &str = "src/str.ts: TS2339: Property 'length' does not exist on type 'number'.";

#[test]
fn tsc_names_errors_without_positions() {
    let want = v(&[MATH_TS2322, STR_TS2345, STR_TS2741]);
    assert_eq!(ids(Tsc, fixture!("tsc-ids"), 1), (3, want.clone()));
    // --pretty (colours, `file:l:c - error`, code frames, related locations) names them alike.
    assert_eq!(ids(Tsc, fixture!("tsc-ids-pretty"), 1), (3, want));
    // TypeScript 5's output names them the same way as 7's.
    let v5 = v(&[
        "src/a.ts: TS2322: Type 'number' is not assignable to type 'string'.",
        "src/a.ts: TS2322: Type 'string' is not assignable to type 'number'.",
        "src/b.ts: TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.",
    ]);
    assert_eq!(ids(Tsc, fixture!("tsc-v5-errors"), 2), (3, v5.clone()));
    assert_eq!(ids(Tsc, fixture!("tsc-v5-errors-pretty"), 2), (3, v5));
    assert_eq!(ids(Tsc, fixture!("tsc-clean"), 0), (0, v(&[])));
}

#[test]
fn tsc_swap_keeps_the_count_but_not_the_names() {
    // One error fixed, another added, a comment line moved every position: equal counts, and
    // the identities show what changed (line numbers play no part).
    let (before_n, before) = ids(Tsc, fixture!("tsc-ids"), 1);
    let (after_n, after) = ids(Tsc, fixture!("tsc-swap"), 1);
    assert_eq!((before_n, after_n), (3, 3));
    assert_eq!(after, v(&[MATH_TS2322, STR_TS2741, STR_TS2339]));
    assert!(!after.contains(&STR_TS2345.to_string()) && !before.contains(&STR_TS2339.to_string()));
}

#[test]
fn tsc_syntax_error_hides_type_errors() {
    // The count goes down (3 → 1) although nothing was fixed: the names say why.
    assert_eq!(
        ids(Tsc, fixture!("tsc-syntax-hides"), 1),
        (1, v(&["src/str.ts: TS1109: Expression expected."]))
    );
}

#[test]
fn tsc_chain_is_part_of_the_identity() {
    let want = v(&[
        "src/fn.ts: TS2322: Type '(a: string) => string' is not assignable to type '(a: number) => string'. \
         Types of parameters 'a' and 'a' are incompatible. Type 'number' is not assignable to type 'string'.",
        "src/fn.ts: TS2322: Type 'string' is not assignable to type 'number'.",
        MATH_TS2322,
        STR_TS2741,
        STR_TS2339,
    ]);
    assert_eq!(ids(Tsc, fixture!("tsc-chain"), 1), (5, want.clone()));
    assert_eq!(ids(Tsc, fixture!("tsc-chain-pretty"), 1), (5, want));
}

#[test]
fn tsc_global_errors_have_no_file() {
    let (n, names) = ids(Tsc, fixture!("tsc-global-errors"), 1);
    assert_eq!(n, 11);
    let globals: Vec<String> = [
        "Array",
        "Boolean",
        "CallableFunction",
        "Function",
        "IArguments",
        "NewableFunction",
        "Number",
        "Object",
        "RegExp",
        "String",
    ]
    .iter()
    .map(|t| format!("TS2318: Cannot find global type '{t}'."))
    .collect();
    assert_eq!(names[..10], globals[..]);
    // The located one keeps its file; its long message is cut to MAX_NAME_CHARS characters.
    assert!(
        names[10]
            .starts_with("tsconfig.json: TS6046: Argument for '--lib' option must be: 'es5', "),
        "{}",
        names[10]
    );
    assert_eq!(names[10].chars().count(), MAX_NAME_CHARS);
    let (n, pretty) = ids(Tsc, fixture!("tsc-v5-global-errors-pretty"), 2);
    assert_eq!((n, &pretty[..10]), (11, &globals[..]));
}
