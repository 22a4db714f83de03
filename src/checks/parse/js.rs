//! vitest and jest. Failing tests are named `file > describe > test`; a test file that fails to
//! load is `file (suite failed to load)`; a vitest suite whose hook threw is
//! `file > describe (suite failed)`; each vitest unhandled error is `(unhandled error)`.

use regex::Regex;

use super::{Names, Out, Tests, add, re, tally};

re!(
    VITEST_TESTS,
    r"^\s*Tests\s+(no tests|\d+ [a-z]+(?: \| \d+ [a-z]+)*)(?: \(\d+\))?\s*$"
);
re!(VITEST_FAILED_SUITES, r"^\W*Failed Suites (\d+)\W*$");
re!(VITEST_FAILED_TESTS, r"^\W*Failed Tests (\d+)\W*$");
// Any other `⎯⎯ Title ⎯⎯` section header (`Unhandled Errors`, `Uncaught Exception`, …).
re!(VITEST_SECTION, r"^⎯+ [^⎯]+ ⎯+$");
re!(VITEST_FAIL, r"^ ?FAIL  ?(.+?)\s*$");
re!(VITEST_ERRORS, r"^\s*Errors\s+(\d+) errors?\b");
re!(
    VITEST_NO_FILES,
    r"^No test files found, exiting with code \d+"
);
re!(JEST_TESTS, r"^\s*Tests:\s+((?:\d+ [a-z]+, )*\d+ total)\s*$");
re!(JEST_SUITE_FAILED, r"^\s*● Test suite failed to run\s*$");
re!(JEST_NO_TESTS, r"^No tests found, exiting with code \d+");
// `FAIL src/x.test.js` or, for a slow file, `FAIL src/x.test.js (5.2 s)`.
re!(
    JEST_FILE,
    r"^(?:FAIL|PASS) (.+?)(?: \(\d+(?:\.\d+)? ?m?s\))?\s*$"
);
re!(JEST_TEST, r"^  ● (.+?)\s*$");
re!(
    JEST_NOT_TEST,
    r"^(?:Console|\w+ (?:Warning|Error):|Multiple configurations found)"
);
re!(JEST_RECAP, r"^Summary of all failing tests\s*$");

/// The summary list of a JS test runner, or `Ok(None)` for a clean run that found no tests
/// (`--passWithNoTests`).
fn js_summary<'o>(
    o: &'o Out,
    tool: &str,
    summary: &Regex,
    what: &str,
    no_tests: &Regex,
) -> Result<Option<regex::Captures<'o>>, String> {
    if let Some(caps) = o.last(summary) {
        return Ok(Some(caps));
    }
    match (o.any(no_tests), o.exit_code) {
        (true, Some(0)) => Ok(None),
        (true, _) => Err(format!(
            "{tool} found no tests {}; fix the command's test paths or pass --passWithNoTests",
            o.ctx()
        )),
        _ => Err(format!(
            "{tool} printed no {what} summary line {}; does the command run {tool}?",
            o.ctx()
        )),
    }
}

fn no_tests() -> Tests {
    Tests {
        failures: 0,
        passed: 0,
        failing: Names::default(),
    }
}

pub(super) fn parse_vitest(o: &Out) -> Result<Tests, String> {
    const T: &str = "vitest";
    let Some(caps) = js_summary(o, T, &VITEST_TESTS, "`Tests`", &VITEST_NO_FILES)? else {
        return Ok(no_tests());
    };
    let (failures, passed) = tally(T, &caps[1], &["failed"])?;
    // Files that failed to load or whose hooks threw (`Failed Suites N`) and unhandled errors
    // (`Errors  N errors`) are not in the `Tests` line; they count as failures so that
    // breaking a test file never looks like an improvement.
    let suites = o.last_num(T, &VITEST_FAILED_SUITES)?;
    let unhandled = o.last_num(T, &VITEST_ERRORS)?;
    let mut failing = vitest_names(o);
    failing.push_n("(unhandled error)", unhandled);
    Ok(Tests {
        failures: add(T, add(T, failures, suites)?, unhandled)?,
        passed,
        failing,
    })
}

/// The ` FAIL  …` headers of the `Failed Suites` and `Failed Tests` sections (the default and
/// the verbose reporter print both the same way).
fn vitest_names(o: &Out) -> Names {
    #[derive(PartialEq)]
    enum Section {
        Other,
        Suites,
        Tests,
    }
    let mut names = Names::default();
    let mut section = Section::Other;
    for l in o.lines {
        if VITEST_FAILED_SUITES.is_match(l) {
            section = Section::Suites;
        } else if VITEST_FAILED_TESTS.is_match(l) {
            section = Section::Tests;
        } else if VITEST_SECTION.is_match(l) {
            section = Section::Other;
        } else if section != Section::Other
            && let Some(caps) = VITEST_FAIL.captures(l)
        {
            let name = &caps[1];
            if section == Section::Tests {
                names.push(name);
            } else if let Some(file) = suite_load_failure(name) {
                names.push(&format!("{file} (suite failed to load)"));
            } else {
                names.push(&format!("{name} (suite failed)"));
            }
        }
    }
    names
}

/// `src/x.test.ts [ src/x.test.ts ]`, the header of a file that failed to load → the file.
fn suite_load_failure(name: &str) -> Option<&str> {
    let (file, rest) = name.split_once(" [ ")?;
    (rest.strip_suffix(" ]")? == file).then_some(file)
}

pub(super) fn parse_jest(o: &Out) -> Result<Tests, String> {
    const T: &str = "jest";
    let Some(caps) = js_summary(o, T, &JEST_TESTS, "`Tests:`", &JEST_NO_TESTS)? else {
        return Ok(no_tests());
    };
    let (failures, passed) = tally(T, &caps[1], &["failed"])?;
    // A suite that fails to run (syntax error, failing import) has no tests in the summary.
    let broken = o.count(&JEST_SUITE_FAILED);
    Ok(Tests {
        failures: add(T, failures, broken)?,
        passed,
        failing: jest_names(o),
    })
}

/// `● describe › test` headers under each `FAIL file` line; the recap jest prints at the end
/// of a run of several files (`Summary of all failing tests`) repeats them and is skipped.
fn jest_names(o: &Out) -> Names {
    let mut names = Names::default();
    let mut file = String::new();
    for l in o.lines {
        if JEST_RECAP.is_match(l) {
            break;
        }
        if let Some(caps) = JEST_FILE.captures(l) {
            file = caps[1].trim_start_matches("./").to_string();
            continue;
        }
        let Some(caps) = JEST_TEST.captures(l) else {
            continue;
        };
        let title = &caps[1];
        if JEST_NOT_TEST.is_match(title) {
            continue;
        }
        let name = if title == "Test suite failed to run" {
            format!("{file} (suite failed to load)")
        } else {
            let title = title.replace(" › ", " > ");
            if file.is_empty() {
                title
            } else {
                format!("{file} > {title}")
            }
        };
        names.push(&name);
    }
    names
}
