//! A cycle's identity: an id that is never reused, and a branch name reserved durably.

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::git::Target;
use crate::home::Home;

/// A cycle id that is never reused: the start time, this process's id and 8 random bytes.
pub fn new_cycle_id(at: DateTime<Utc>) -> String {
    let mut bytes = [0u8; 8];
    // SAFETY: getrandom writes at most `len` bytes into the buffer we own.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        // No entropy source: the clock's nanoseconds stand in (with the pid, still unique).
        bytes = at.timestamp_nanos_opt().unwrap_or_default().to_le_bytes();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{hex}",
        at.format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id()
    )
}

/// `brl/<session>/<YYYYMMDD-HHMMSS>`, with `-2`, `-3`… when taken. A name is taken when its
/// branch exists or its `<stamp>.log` does: the log file is created exclusively (and kept) before
/// the branch, so a name is reserved durably and never reused — even when the cycle that took it
/// died before its branch or its agent existed, and after its branch was deleted.
pub(super) fn reserve_branch(
    home: &Home,
    target: &Target,
    session: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<(String, String)> {
    let ts = at.format("%Y%m%d-%H%M%S").to_string();
    let dir = home.session_logs_dir(session);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for n in 1..10_000 {
        let stamp = if n == 1 {
            ts.clone()
        } else {
            format!("{ts}-{n}")
        };
        let branch = format!("brl/{session}/{stamp}");
        if target.branch_exists(&branch) {
            continue;
        }
        let log = dir.join(format!("{stamp}.log"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&log)
        {
            Ok(f) => {
                f.sync_all()
                    .with_context(|| format!("cannot write {}", log.display()))?;
                std::fs::File::open(&dir)
                    .and_then(|d| d.sync_all())
                    .with_context(|| format!("cannot sync {}", dir.display()))?;
                return Ok((branch, stamp));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "cannot reserve the cycle's name in {}: {e}",
                    log.display()
                ));
            }
        }
    }
    anyhow::bail!(
        "no free branch name brl/{session}/{ts}[-n] in {}; remove old cycle logs",
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &std::path::Path, args: &[&str]) {
        let ok = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .expect("git runs")
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn ids_are_unique_and_names_are_never_reused_in_one_second() {
        let d = tempfile::tempdir().expect("tempdir");
        let repo = d.path().join("repo");
        std::fs::create_dir(&repo).expect("mkdir");
        git(&repo, &["init", "-q", "-b", "main"]);
        git(
            &repo,
            &[
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@example.invalid",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "init",
            ],
        );
        let target = Target::open(&repo, "main").expect("target");
        let home = Home::new(&d.path().join("home"));
        let at = Utc::now();
        let (b1, s1) = reserve_branch(&home, &target, "s1", at).expect("first");
        // The first cycle died before creating its branch: its name stays taken.
        let (b2, _) = reserve_branch(&home, &target, "s1", at).expect("second");
        assert_ne!(b1, b2);
        assert_eq!(b2, format!("{b1}-2"));
        // A branch that was created and deleted: its name stays taken too.
        target
            .create_branch(&b2, target.main_commit().expect("main"))
            .expect("branch");
        target.delete_branch(&b2).expect("delete");
        let (b3, _) = reserve_branch(&home, &target, "s1", at).expect("third");
        assert_eq!(b3, format!("{b1}-3"));
        assert!(
            home.session_logs_dir("s1")
                .join(format!("{s1}.log"))
                .exists()
        );
        let ids: std::collections::HashSet<String> = (0..100).map(|_| new_cycle_id(at)).collect();
        assert_eq!(ids.len(), 100, "same instant, same process: still unique");
    }
}
