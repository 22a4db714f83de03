//! aider (PyPI `aider-chat`), against the fake Chat Completions API via `--openai-api-base`
//! (litellm), the message on stdin, with the update check, analytics and litellm's price-map
//! download off. aider offers the model no tools: its edits are parsed out of the answer's text
//! (the "whole" edit format it uses for an unknown model: a file name line, then the whole file in
//! a fence).

use std::time::Duration;

use crate::capture::save;
use crate::fake_model::{FakeModel, Script, Turn};
use crate::support::{Place, Run, assert_offline, bodies, cli, git, run};

const TIMEOUT: Duration = Duration::from_secs(120);

/// The preset's own flags; the model, the server and the switches come from `AIDER_*`
/// variables (`FakeModel::aider_env`).
pub(crate) fn aider(place: &Place, server: &FakeModel, extra: &[&str], message: &str) -> Run {
    let mut args = vec![
        "--yes-always",
        "--no-pretty",
        "--message-file",
        "/dev/stdin",
    ];
    args.extend_from_slice(extra);
    let env = server.aider_env(&place.home);
    run(
        &cli("aider"),
        &args,
        &place.repo,
        &place.home,
        &env,
        Some(message),
        TIMEOUT,
    )
}

pub(crate) const WHOLE_EDIT: &str = "I will create hello.txt and update greeting.txt.

hello.txt
```
hi from aider
```

greeting.txt
```
hello aider
```
";

#[test]
fn aider_edits_files_in_whole_format() {
    let place = Place::new("aider");
    let server = FakeModel::start(Script::new(vec![Turn::text(WHOLE_EDIT)]).every_request());
    let r = aider(
        &place,
        &server,
        &["greeting.txt"],
        "Create hello.txt and fix the greeting (prompt-marker-aider-1)",
    );
    save("aider", "edit", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(
        place.read("hello.txt").as_deref(),
        Some("hi from aider\n"),
        "{diag}"
    );
    assert_eq!(
        place.read("greeting.txt").as_deref(),
        Some("hello aider\n"),
        "{diag}"
    );
    // aider commits its own edits unless told not to.
    let log = git(&place.repo, &["log", "--format=%s", "-n", "3"]);
    assert!(log.lines().count() >= 2, "aider committed: {log}\n{diag}");
    assert!(r.stdout.contains("Tokens:"), "its token report: {diag}");
    assert!(r.stdout.contains("Cost: $"), "its cost report: {diag}");
    assert!(
        !r.stdout.contains("githubusercontent"),
        "nothing fetched: {diag}"
    );
    assert!(
        bodies(&server.requests()).contains("prompt-marker-aider-1"),
        "{diag}"
    );
}

#[test]
fn aider_dry_run_changes_nothing() {
    let place = Place::new("aider-deny");
    let server = FakeModel::start(Script::new(vec![Turn::text(WHOLE_EDIT)]).every_request());
    let r = aider(
        &place,
        &server,
        &["--dry-run", "greeting.txt"],
        "Create hello.txt",
    );
    save("aider", "denied", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_eq!(place.read("hello.txt"), None, "{diag}");
    assert_eq!(
        place.read("greeting.txt").as_deref(),
        Some("hello world\n"),
        "{diag}"
    );
}

#[test]
fn aider_rate_limited_reports_the_error() {
    let place = Place::new("aider-429");
    let reset = chrono::Utc::now().timestamp() + 3600;
    let server = FakeModel::start(Script::new(vec![Turn::rate_limited(1, reset)]).every_request());
    let r = aider(&place, &server, &[], "Create hello.txt");
    save("aider", "rate_limited", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    // aider retries with back-off for about a minute, then gives up — and still exits 0.
    assert!(!r.timed_out, "{diag}");
    assert_eq!(r.code, Some(0), "{diag}");
    assert!(r.stdout.contains("litellm.RateLimitError"), "{diag}");
    assert!(
        r.stdout.contains("The API provider has rate limited you"),
        "{diag}"
    );
    assert!(server.turns_taken() >= 2, "{diag}");
}
