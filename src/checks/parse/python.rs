//! pytest (failing tests named by their node ids from the short test summary: `FAILED x` → `x`,
//! `ERROR x` → `ERROR x`, a module that fails to collect `ERROR tests/test_x.py`) and mypy
//! (errors named `file: code: message`, `file: error: message` when mypy gives no code).

use super::{Errors, Names, Out, Tests, num, re, tally};

re!(PYTEST_BORDER, r"^=+ (.*?) =+$");
re!(
    PYTEST_SUMMARY,
    r"^(no tests ran|\d+ [a-z]+(?:, \d+ [a-z]+)*) in \d+(?:\.\d+)?(?:s| seconds)(?: \(\d+:\d\d:\d\d\))?$"
);
re!(PYTEST_SHORT_SUMMARY, r"^=+ short test summary info =+$");
re!(PYTEST_OUTCOME, r"^(FAILED|ERROR) (.+)$");

pub(super) fn parse_pytest(o: &Out) -> Result<Tests, String> {
    let summary = o.lines.iter().rev().find_map(|l| {
        let l = l.trim();
        let inner = PYTEST_BORDER
            .captures(l)
            .and_then(|c| c.get(1))
            .map_or(l, |m| m.as_str());
        PYTEST_SUMMARY.captures(inner).and_then(|c| c.get(1))
    });
    let Some(list) = summary else {
        return Err(format!(
            "pytest printed no final summary line like `2 failed, 10 passed in 0.12s` {}",
            o.ctx()
        ));
    };
    let (failures, passed) = tally("pytest", list.as_str(), &["failed", "error", "errors"])?;
    Ok(Tests {
        failures,
        passed,
        failing: pytest_names(o),
    })
}

/// The `FAILED`/`ERROR` lines of the last `short test summary info` section (pytest's default
/// `-r fE` prints them, with or without `-q`). A line may end in ` - <message>`, cut to the
/// terminal's width; a parametrised id may itself hold ` - ` inside its brackets.
fn pytest_names(o: &Out) -> Names {
    let start = o
        .lines
        .iter()
        .rposition(|l| PYTEST_SHORT_SUMMARY.is_match(l.trim_end()));
    let mut names = Names::default();
    let Some(start) = start else {
        return names;
    };
    for l in &o.lines[start + 1..] {
        if PYTEST_BORDER.is_match(l.trim_end()) {
            break; // the next section (or the bordered final summary)
        }
        let Some(caps) = PYTEST_OUTCOME.captures(l) else {
            continue;
        };
        let id = node_id(&caps[2]);
        match &caps[1] {
            "FAILED" => names.push(id),
            _ => names.push(&format!("ERROR {id}")),
        }
    }
    names
}

/// `tests/t.py::test_x[a - b] - AssertionError: …` → `tests/t.py::test_x[a - b]`: cut at the first
/// ` - ` outside brackets.
fn node_id(rest: &str) -> &str {
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ' ' if depth <= 0 && rest[i..].starts_with(" - ") => return &rest[..i],
            _ => {}
        }
    }
    rest
}

re!(MYPY_FOUND, r"^Found (\d+) errors? in \d+ files?\b");
re!(MYPY_SUCCESS, r"^Success: no issues found");
// `file:line: error: msg`, `file:line:col: error: msg` (--show-column-numbers), `file: error:
// msg` (no line, e.g. a module found twice).
re!(MYPY_ERROR, r"^(.+?)(?::\d+)*: error: (.*)$");
re!(MYPY_DIAG, r"^.+?(?::\d+)*: (?:error|note|warning): ");
re!(MYPY_CODE, r"^(.*?)\s+\[([a-z0-9-]+)\]$");

pub(super) fn parse_mypy(o: &Out) -> Result<Errors, String> {
    for l in o.lines.iter().rev() {
        if let Some(caps) = MYPY_FOUND.captures(l) {
            return Ok(Errors {
                count: num("mypy", &caps[1])?,
                ids: mypy_ids(o),
            });
        }
        if MYPY_SUCCESS.is_match(l) {
            return Ok(Errors {
                count: 0,
                ids: Names::default(),
            });
        }
    }
    Err(format!(
        "mypy printed neither `Found N errors` nor `Success: no issues found` {}",
        o.ctx()
    ))
}

/// With `--pretty` mypy wraps a long message onto following unindented lines (its code frame is
/// indented): those are joined back, so plain and pretty runs name an error alike.
fn mypy_ids(o: &Out) -> Names {
    let mut ids = Names::default();
    for (i, line) in o.lines.iter().enumerate() {
        let Some(caps) = MYPY_ERROR.captures(line) else {
            continue;
        };
        let mut message = caps[2].trim().to_string();
        for next in &o.lines[i + 1..] {
            let wrapped = !next.trim().is_empty()
                && !next.starts_with(char::is_whitespace)
                && !MYPY_DIAG.is_match(next)
                && !MYPY_FOUND.is_match(next)
                && !MYPY_SUCCESS.is_match(next);
            if !wrapped {
                break;
            }
            message.push(' ');
            message.push_str(next.trim());
        }
        let message = super::collapse_whitespace(&message);
        let file = &caps[1];
        match MYPY_CODE.captures(&message) {
            Some(c) => ids.push(&format!("{file}: {}: {}", &c[2], &c[1])),
            None => ids.push(&format!("{file}: error: {message}")),
        }
    }
    ids
}
