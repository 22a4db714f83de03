//! `brl log` and `brl emit`.

use std::io::Write;
use std::time::Duration;

use crate::home::Home;
use crate::store::follow::Follower;
use crate::store::log::{self, Entry, Filter};

pub fn run(
    home: &Home,
    n: usize,
    kind: Option<String>,
    session: Option<String>,
    json: bool,
    follow: bool,
) -> anyhow::Result<i32> {
    let path = home.log_path();
    let filter = Filter { kind, session };
    let tail = log::tail(&path, n, &filter)?;
    let mut out = std::io::stdout().lock();
    for e in &tail.entries {
        print_entry(&mut out, e, json)?;
    }
    out.flush()?;
    if let Some(w) = tail.warning(&path) {
        eprintln!("{w}");
    }
    if !follow {
        return Ok(0);
    }
    let mut follower = Follower::from_end(&path)?;
    loop {
        let batch = follower.next_batch(Duration::from_secs(1))?;
        for note in &batch.notices {
            eprintln!("note: {note}");
        }
        if batch.malformed > 0 {
            eprintln!(
                "warning: skipped {} malformed line(s) in {}",
                batch.malformed,
                path.display()
            );
        }
        for e in batch.entries.iter().filter(|e| filter.matches(e)) {
            print_entry(&mut out, e, json)?;
        }
        out.flush()?;
    }
}

fn print_entry(out: &mut impl Write, e: &Entry, json: bool) -> std::io::Result<()> {
    if json {
        out.write_all(e.to_line().as_bytes())
    } else {
        writeln!(out, "{}", log::format_human(e))
    }
}

pub fn emit(home: &Home, kind: &str, session: Option<&str>, data: &str) -> anyhow::Result<i32> {
    let value: serde_json::Value = serde_json::from_str(data).map_err(|e| {
        anyhow::anyhow!(
            "--data is not valid JSON ({e}); fix: pass a JSON object, e.g. --data '{{\"k\": 1}}'"
        )
    })?;
    if !value.is_object() {
        anyhow::bail!("--data must be a JSON object, e.g. --data '{{\"k\": 1}}'");
    }
    if kind.is_empty()
        || kind
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        anyhow::bail!("the type `{kind}` must be letters, digits, `_` or `-` (e.g. ralph_cycle)");
    }
    log::append(&home.log_path(), &log::Entry::new(kind, session, value))?;
    Ok(0)
}
