//! `tsc`: every diagnostic is one error, named `file: TSnnnn: message` (global ones
//! `TSnnnn: message`), the message with its indented continuation lines (the "elaboration"
//! chain) and without the line/column of the diagnostic.

use super::{Errors, Names, Out, re};

// `file(l,c): error TSn: msg` (plain), `file:l:c - error TSn: msg` (--pretty),
// `error TSn: msg` (global).
re!(
    TSC_DIAG,
    r"^(?:(.*?)(?:\(\d+,\d+\):|:\d+:\d+ -) )?error (TS\d+):(.*)$"
);

pub(super) fn parse_tsc(o: &Out) -> Result<Errors, String> {
    let mut ids = Names::default();
    let mut count = 0u64;
    for (i, line) in o.lines.iter().enumerate() {
        let Some(caps) = TSC_DIAG.captures(line) else {
            continue;
        };
        count += 1;
        let mut message = caps[3].trim().to_string();
        // The chain of a diagnostic follows it directly, indented (plain and --pretty alike);
        // --pretty's code frame and related locations come only after a blank line.
        for next in &o.lines[i + 1..] {
            if next.trim().is_empty() || !next.starts_with(char::is_whitespace) {
                break;
            }
            message.push(' ');
            message.push_str(next.trim());
        }
        let code = &caps[2];
        match caps.get(1).map(|f| f.as_str().trim()) {
            Some(file) if !file.is_empty() => ids.push(&format!("{file}: {code}: {message}")),
            _ => ids.push(&format!("{code}: {message}")),
        }
    }
    if count == 0 && o.exit_code != Some(0) {
        return Err(format!(
            "tsc failed without any `error TS…` diagnostic {}",
            o.ctx()
        ));
    }
    Ok(Errors { count, ids })
}
