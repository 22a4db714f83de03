//! Each CLI in a linked git worktree — where brl runs its agents — edits as it does in a plain
//! repo; and what each can do with git there (Codex's sandbox cannot commit: the worktree's git
//! dir lives in the main repo, outside its writable roots).

use serde_json::json;

use crate::capture::save;
use crate::fake_model::{FakeModel, Script, Turn};
use crate::support::{Place, assert_offline, git};

fn assert_edited(place: &Place, cli: &str, diag: &str) {
    assert_eq!(
        place.read("hello.txt").as_deref(),
        Some(format!("hi from {cli}\n").as_str()),
        "{diag}"
    );
    assert_eq!(
        place.read("greeting.txt").as_deref(),
        Some(format!("hello {cli}\n").as_str()),
        "{diag}"
    );
}

#[test]
fn claude_edits_in_a_worktree() {
    let place = Place::worktree("wt-claude");
    let server = FakeModel::start(crate::claude::edit_script(&place.repo_abs()));
    let r = crate::claude::claude(
        &place,
        &server,
        &[
            "-p",
            "--permission-mode",
            "acceptEdits",
            "--output-format",
            "json",
            "Edit",
        ],
        &[],
    );
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_edited(&place, "claude", &diag);
}

#[test]
fn codex_edits_in_a_worktree_but_cannot_commit() {
    let place = Place::worktree("wt-codex");
    let server = FakeModel::start(Script::new(vec![
        crate::codex::patch_turn(),
        Turn::call(
            "exec_command",
            json!({"cmd": "git add -A && git commit -q -m 'codex commit'"}),
        ),
        Turn::text("Done."),
    ]));
    let r = crate::codex::codex(
        &place,
        &server,
        &[
            "exec",
            "-s",
            "workspace-write",
            "--skip-git-repo-check",
            "--json",
            "Edit and commit",
        ],
    );
    save("codex", "worktree_commit", &place, server.addr.port(), &r);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_edited(&place, "codex", &diag);
    let log = git(&place.repo, &["log", "--format=%s", "-n", "1"]);
    assert_eq!(log, "init", "the commit failed in the sandbox: {diag}");
    // When Codex reports the command, it reports it failed. On a loaded machine the command may
    // still be running when the scripted model ends the turn, and Codex then reports no
    // command_execution item at all; the commit is missing either way (asserted above).
    let commits: Vec<serde_json::Value> = r
        .jsonl()
        .into_iter()
        .filter(|e| {
            e["type"] == "item.completed"
                && e["item"]["type"] == "command_execution"
                && e["item"]["command"]
                    .as_str()
                    .unwrap_or("")
                    .contains("git commit")
        })
        .collect();
    assert!(
        commits.iter().all(|e| e["item"]["status"] == "failed"),
        "{diag}"
    );
}

#[test]
fn gemini_edits_in_a_worktree() {
    let place = Place::worktree("wt-gemini");
    let server = FakeModel::start(crate::gemini::edit_script(&place.repo_abs()));
    let r = crate::gemini::gemini(
        &place,
        &server,
        &["--approval-mode", "auto_edit", "-o", "json", "-p", "Edit"],
    );
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_edited(&place, "gemini", &diag);
}

#[test]
fn opencode_edits_in_a_worktree() {
    let place = Place::worktree("wt-opencode");
    let server = FakeModel::start(crate::opencode::edit_script(&place.repo_abs()));
    let r = crate::opencode::opencode(&place, &server, None, &["run", "--format", "json", "Edit"]);
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_edited(&place, "opencode", &diag);
}

#[test]
fn aider_edits_and_commits_in_a_worktree() {
    let place = Place::worktree("wt-aider");
    let server =
        FakeModel::start(Script::new(vec![Turn::text(crate::aider::WHOLE_EDIT)]).every_request());
    let r = crate::aider::aider(&place, &server, &["greeting.txt"], "Edit");
    let diag = format!("{r:#?}\nrequests:\n{}", server.dump());
    assert_offline(&r);
    assert_eq!(r.code, Some(0), "{diag}");
    assert_edited(&place, "aider", &diag);
    let count = git(&place.repo, &["rev-list", "--count", "HEAD"]);
    assert_eq!(
        count, "2",
        "aider committed on the worktree's branch: {diag}"
    );
    let branch = git(&place.repo, &["rev-parse", "--abbrev-ref", "HEAD"]);
    assert_eq!(branch, "brl/test", "{diag}");
}
