//! Keeping what the CLIs printed: runs and texts saved as fixtures (with machine paths masked),
//! and a hook command that records what each CLI hands its hooks.

use std::path::{Path, PathBuf};

use crate::support::{Place, ROOT, Run};

/// Saves a run under `tests/fixtures/agents/<cli>/<case>.{stdout,stderr,exit}` when
/// `BRL_SAVE_AGENT_FIXTURES=1` (else into the test's temp dir, removed with it: a failing test prints the whole run), with the
/// temp dir and the server's port replaced by `<TMP>` and `<PORT>` so the fixture is the same on
/// every machine.
pub fn save(cli: &str, case: &str, place: &Place, port: u16, run: &Run) {
    let base = if std::env::var("BRL_SAVE_AGENT_FIXTURES").as_deref() == Ok("1") {
        Path::new(ROOT).join("tests/fixtures/agents").join(cli)
    } else {
        place.dir.path().join("captured").join(cli)
    };
    std::fs::create_dir_all(&base).expect("mkdir fixtures");
    let tmp = place.dir.path().display().to_string();
    let tmp_canon = std::fs::canonicalize(place.dir.path())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| tmp.clone());
    // Claude names its project dir after the path with `/` as `-`.
    let tmp_slug = tmp_canon.replace(['/', '.'], "-");
    let clean = |s: &str| {
        s.replace(&tmp_canon, "<TMP>")
            .replace(&tmp_slug, "<TMP-SLUG>")
            .replace(&tmp, "<TMP>")
            .replace(&format!("127.0.0.1:{port}"), "127.0.0.1:<PORT>")
            .replace(ROOT, "<ROOT>")
    };
    std::fs::write(base.join(format!("{case}.stdout")), clean(&run.stdout)).expect("save");
    std::fs::write(base.join(format!("{case}.stderr")), clean(&run.stderr)).expect("save");
    let exit = match (run.code, run.timed_out) {
        (_, true) => "timeout\n".to_string(),
        (Some(c), _) => format!("{c}\n"),
        (None, _) => "signal\n".to_string(),
    };
    std::fs::write(base.join(format!("{case}.exit")), exit).expect("save");
}

/// Saves `text` as `tests/fixtures/agents/<cli>/<name>` (with `BRL_SAVE_AGENT_FIXTURES=1`; else
/// under the place), cleaned like [`save`].
pub fn save_text(cli: &str, name: &str, place: &Place, port: u16, text: &str) {
    let run = Run {
        code: Some(0),
        stdout: text.to_string(),
        stderr: String::new(),
        timed_out: false,
        traced: false,
        outside: Vec::new(),
        secs: 0.0,
    };
    save(cli, name, place, port, &run);
    // `save` wrote <name>.stdout/.stderr/.exit: keep only the text under its own name.
    let base = if std::env::var("BRL_SAVE_AGENT_FIXTURES").as_deref() == Ok("1") {
        Path::new(ROOT).join("tests/fixtures/agents").join(cli)
    } else {
        place.dir.path().join("captured").join(cli)
    };
    let _ = std::fs::rename(base.join(format!("{name}.stdout")), base.join(name));
    let _ = std::fs::remove_file(base.join(format!("{name}.stderr")));
    let _ = std::fs::remove_file(base.join(format!("{name}.exit")));
}

/// A hook command for the CLIs that run hooks: it appends each hook input (one JSON per line) to
/// `<home>/hook-inputs.jsonl` and blocks (exit 2, reason on stderr) any call whose input
/// mentions `BLOCKME`; it allows everything else (exit 0).
pub fn hook_script(place: &Place) -> PathBuf {
    let path = place.home.join("hook.sh");
    let log = place.home.join("hook-inputs.jsonl");
    let script = format!(
        "#!/bin/sh\ninput=$(cat)\nprintf '%s\\n' \"$input\" | tr -d '\\n' >> '{log}'\necho >> '{log}'\n\
         case \"$input\" in *BLOCKME*) echo 'blocked by the test gate: BLOCKME' >&2; exit 2;; esac\nexit 0\n",
        log = log.display()
    );
    std::fs::write(&path, script).expect("write hook");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod hook");
    path
}

pub fn hook_inputs(place: &Place) -> Vec<serde_json::Value> {
    std::fs::read_to_string(place.home.join("hook-inputs.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
