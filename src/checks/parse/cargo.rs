//! `cargo check` / `build` / `clippy` (errors named `file: E0308: message`, `file: error: message`
//! for errors without a code, and without `file: ` when the error points at no file) and
//! `cargo test` (failing tests named `binary::path::to::test`, doctests `src/lib.rs - item`).

use super::{Errors, Names, Out, Tests, add, num, re};

re!(
    CARGO_COULD_NOT,
    r"^error: could not compile (`[^`]*`.*?)(?: due to (\d+) previous errors?)?(?:;.*)?$"
);
re!(
    CARGO_BUILD_SCRIPT,
    r"^error: failed to run custom build command for `"
);
re!(CARGO_DIAG, r"^error(?:\[(E\d+)\])?: (.*)$");
re!(
    CARGO_NOT_DIAG,
    r"^error: (?:could not compile|aborting due to|build failed|test failed|doctest failed|\d+ targets? failed|failed to run custom build command)"
);
re!(
    CARGO_COMPILED,
    r"^\s*(?:Compiling|Checking|Documenting) |^error\[E\d+\]: |^error: aborting due to"
);
// The primary location, on the line after the diagnostic's header.
re!(CARGO_LOCATION, r"^\s*--> (.+?):\d+:\d+\s*$");

pub(super) fn parse_cargo(o: &Out) -> Result<Errors, String> {
    const T: &str = "cargo";
    if o.exit_code == Some(0) {
        return Ok(Errors {
            count: 0,
            ids: Names::default(),
        });
    }
    let ids = cargo_error_ids(o);
    // Preferred: the per-crate summaries `could not compile `x` (lib) due to N previous errors`.
    let (mut summed, mut counted, mut bare) = (0u64, false, 0u64);
    for caps in o.lines.iter().filter_map(|l| CARGO_COULD_NOT.captures(l)) {
        match caps.get(2) {
            Some(n) => (summed, counted) = (add(T, summed, num(T, n.as_str())?)?, true),
            None => bare += 1, // old cargo, or rustc crashed
        }
    }
    let scripts = o.count(&CARGO_BUILD_SCRIPT); // failed build.rs: one error each
    if counted {
        let count = add(T, summed, bare + scripts)?;
        return Ok(Errors { count, ids });
    }
    // Fallback (older cargo, plain rustc): count the diagnostics themselves.
    let diags = o
        .lines
        .iter()
        .filter(|l| CARGO_DIAG.is_match(l) && !CARGO_NOT_DIAG.is_match(l))
        .count();
    let total = diags as u64 + scripts;
    if total == 0 {
        return Err(format!(
            "cargo failed without printing any compiler error {}",
            o.ctx()
        ));
    }
    if scripts == 0 && !o.any(&CARGO_COMPILED) {
        // e.g. a broken Cargo.toml or an unresolvable dependency: nothing was type-checked.
        let first = o
            .lines
            .iter()
            .find(|l| CARGO_DIAG.is_match(l))
            .map_or("", |l| l.trim());
        return Err(format!("cargo failed before compiling anything: `{first}`"));
    }
    Ok(Errors { count: total, ids })
}

/// One identity per compiler error printed, and one per failed build script. Cargo prints a
/// diagnostic once even when two targets hit it (`--all-targets`: `lib` and `lib test`) while
/// each target's summary counts it, so there the names fall short of the count.
fn cargo_error_ids(o: &Out) -> Names {
    let mut ids = Names::default();
    for (i, line) in o.lines.iter().enumerate() {
        if CARGO_BUILD_SCRIPT.is_match(line) {
            ids.push(line);
            continue;
        }
        if CARGO_NOT_DIAG.is_match(line) {
            continue;
        }
        let Some(caps) = CARGO_DIAG.captures(line) else {
            continue;
        };
        let code = caps.get(1).map_or("error", |c| c.as_str());
        let message = &caps[2];
        let file = o
            .lines
            .get(i + 1)
            .and_then(|next| CARGO_LOCATION.captures(next));
        match file {
            Some(f) => ids.push(&format!("{}: {code}: {message}", &f[1])),
            None => ids.push(&format!("{code}: {message}")),
        }
    }
    ids
}

re!(CT_RUNNING, r"^running (\d+) tests?$");
re!(
    CT_RESULT,
    r"^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed;"
);
// `Running unittests src/lib.rs (target/debug/deps/calc-0123456789abcdef)`; before cargo 1.52
// `Running target/debug/deps/calc-0123456789abcdef`.
re!(CT_BINARY, r"^\s+Running (?:.*\()?(.*?)\)?\s*$");
re!(CT_HASH, r"-[0-9a-f]{16}$");
re!(CT_DOCTESTS, r"^\s+Doc-tests \S+\s*$");
re!(CT_FAILED, r"^test (.+?) \.\.\. FAILED\b");
re!(CT_DOC_LINE, r" \(line \d+\)");

/// `target/debug/deps/calc-0123456789abcdef` → `calc`: the file name without cargo's hash.
fn binary_name(path: &str) -> String {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let file = file.strip_suffix(".exe").unwrap_or(file);
    CT_HASH.replace(file, "").into_owned()
}

/// The test binary being read: its name, the tests it announced and how many it named failed.
struct Binary {
    prefix: String,
    announced: u64,
    named: u64,
}

pub(super) fn parse_cargo_test(o: &Out) -> Result<Tests, String> {
    const T: &str = "cargo test";
    let (mut failures, mut passed, mut results) = (0u64, 0u64, 0usize);
    let mut failing = Names::default();
    // `Running …`/`Doc-tests …` name the binary whose `running N tests` comes next.
    let mut prefix = String::new();
    // Tests announced by `running N tests` whose binary never printed `test result:` (it
    // crashed: abort, stack overflow, ...) all count as failed; those it named as FAILED
    // before crashing keep their names, the rest are named after the binary.
    let mut pending: Option<Binary> = None;
    let crashed = |b: Binary, failing: &mut Names| {
        let what = if b.prefix.is_empty() {
            "a test binary".to_string()
        } else {
            b.prefix.trim_end_matches("::").to_string()
        };
        failing.push_n(
            &format!("{what} (test binary crashed)"),
            b.announced.saturating_sub(b.named),
        );
    };
    for l in o.lines {
        if let Some(caps) = CT_BINARY.captures(l) {
            prefix = format!("{}::", binary_name(&caps[1]));
        } else if CT_DOCTESTS.is_match(l) {
            prefix.clear(); // doctest names start with their file
        } else if let Some(caps) = CT_RUNNING.captures(l) {
            if let Some(b) = pending.take() {
                failures = add(T, failures, b.announced)?;
                crashed(b, &mut failing);
            }
            pending = Some(Binary {
                prefix: prefix.clone(),
                announced: num(T, &caps[1])?,
                named: 0,
            });
        } else if let Some(caps) = CT_FAILED.captures(l) {
            let name = caps[1].trim_end_matches(" - should panic");
            let name = CT_DOC_LINE.replace_all(name, "");
            failing.push(&format!("{prefix}{name}"));
            if let Some(b) = pending.as_mut() {
                b.named += 1;
            }
        } else if let Some(caps) = CT_RESULT.captures(l) {
            results += 1;
            passed = add(T, passed, num(T, &caps[1])?)?;
            failures = add(T, failures, num(T, &caps[2])?)?;
            pending = None;
        }
    }
    if results == 0 {
        return Err(match o.last(&CARGO_COULD_NOT) {
            Some(c) => format!(
                "cargo test printed no `test result:` line — the tests did not compile (could not compile {})",
                &c[1]
            ),
            None => format!(
                "cargo test printed no `test result:` line — the tests did not compile or run {}",
                o.ctx()
            ),
        });
    }
    if let Some(b) = pending {
        failures = add(T, failures, b.announced)?;
        crashed(b, &mut failing);
    }
    Ok(Tests {
        failures,
        passed,
        failing,
    })
}
