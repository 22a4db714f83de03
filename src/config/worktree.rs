//! `[worktree]` of `brl.toml`: the setup command that makes a fresh worktree ready for the checks
//! (installing dependencies), and the files whose contents decide when it runs again.

use std::num::NonZeroU64;
use std::path::{Component, Path};

use serde::Deserialize;

use super::notify::Problem;

/// How a worktree brl owns (a session's, the review's re-check) is made ready for the checks.
/// With no `setup`, nothing runs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorktreeConfig {
    /// Run through `sh -c` in the worktree, after it is at the commit to work on or measure and
    /// before any check runs, e.g. `npm ci --prefer-offline`.
    #[serde(default)]
    pub setup: Option<String>,
    /// Paths relative to the worktree (e.g. `package-lock.json`) whose contents, with the
    /// command's text, key the setup: it runs again only when the key changes. Empty: once per
    /// worktree (and again when the command changes).
    #[serde(default)]
    pub setup_inputs: Vec<String>,
    /// The setup's whole process group is killed past this.
    #[serde(default = "default_setup_timeout")]
    pub setup_timeout_secs: NonZeroU64,
}

impl Default for WorktreeConfig {
    fn default() -> Self {
        WorktreeConfig {
            setup: None,
            setup_inputs: Vec::new(),
            setup_timeout_secs: default_setup_timeout(),
        }
    }
}

fn default_setup_timeout() -> NonZeroU64 {
    NonZeroU64::new(900).expect("900 is not zero")
}

impl WorktreeConfig {
    /// The setup command, if one is configured.
    pub fn setup_command(&self) -> Option<&str> {
        self.setup.as_deref()
    }

    /// The first invalid key, if any.
    pub(super) fn check(&self) -> Result<(), Problem> {
        let problem = |key: &'static str, message: String, fix: String| Problem {
            key: format!("worktree.{key}"),
            places: vec![("worktree", key)],
            message,
            fix,
        };
        if let Some(c) = &self.setup
            && c.trim().is_empty()
        {
            return Err(problem(
                "setup",
                "the setup command is empty".into(),
                "set the command that installs the project's dependencies in a worktree, e.g. \
                 \"npm ci --prefer-offline\", or remove the key"
                    .into(),
            ));
        }
        for input in &self.setup_inputs {
            if let Some(why) = bad_input(input) {
                return Err(problem(
                    "setup_inputs",
                    format!("`{input}` {why}"),
                    "list files by their path inside the repository, e.g. \
                     [\"package-lock.json\"] or [\"requirements.txt\", \"pyproject.toml\"]"
                        .into(),
                ));
            }
        }
        if self.setup.is_none() && !self.setup_inputs.is_empty() {
            return Err(problem(
                "setup_inputs",
                "setup_inputs is set but there is no setup command to run".into(),
                "add `setup = \"<command>\"` under [worktree], or remove setup_inputs".into(),
            ));
        }
        Ok(())
    }
}

/// Why `input` cannot name a file inside the worktree, if it cannot.
fn bad_input(input: &str) -> Option<&'static str> {
    if input.trim().is_empty() {
        return Some("is empty");
    }
    let p = Path::new(input);
    if p.is_absolute() {
        return Some("is an absolute path; setup inputs are relative to the worktree");
    }
    if p.components().any(|c| c == Component::ParentDir) {
        return Some("leaves the worktree (`..`); setup inputs are files of the repository");
    }
    if p.components().all(|c| c == Component::CurDir) {
        return Some("names the worktree itself, not a file in it");
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    const BASE: &str = "repo = \"../app\"\n\n[agent]\ncommand = \"claude -p\"\n";

    fn parse(extra: &str) -> Result<Config, String> {
        Config::parse(Path::new("/h/brl.toml"), &format!("{BASE}{extra}"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn absent_section_means_no_setup() {
        let c = parse("").expect("valid");
        assert_eq!(c.worktree.setup_command(), None);
        assert!(c.worktree.setup_inputs.is_empty());
        assert_eq!(c.worktree.setup_timeout_secs.get(), 900);
    }

    #[test]
    fn a_full_section_parses() {
        let c = parse(
            "\n[worktree]\nsetup = \"npm ci --prefer-offline\"\nsetup_inputs = [\"package-lock.json\", \"sub/x.txt\"]\nsetup_timeout_secs = 60\n",
        )
        .expect("valid");
        assert_eq!(c.worktree.setup_command(), Some("npm ci --prefer-offline"));
        assert_eq!(
            c.worktree.setup_inputs,
            vec!["package-lock.json".to_string(), "sub/x.txt".to_string()]
        );
        assert_eq!(c.worktree.setup_timeout_secs.get(), 60);
    }

    #[test]
    fn bad_values_name_the_key_line_and_fix() {
        let e = parse("\n[worktree]\nsetup = \"  \"\n").expect_err("empty command");
        assert!(e.contains("line 7, key `worktree.setup`"), "{e}");
        assert!(e.contains("the setup command is empty"), "{e}");
        assert!(e.contains("fix: set the command"), "{e}");

        let e = parse("\n[worktree]\nsetup = \"make deps\"\nsetup_inputs = [\"../secret\"]\n")
            .expect_err("escapes");
        assert!(e.contains("line 8, key `worktree.setup_inputs`"), "{e}");
        assert!(e.contains("`../secret` leaves the worktree"), "{e}");

        let e = parse("\n[worktree]\nsetup = \"make deps\"\nsetup_inputs = [\"/etc/passwd\"]\n")
            .expect_err("absolute");
        assert!(e.contains("is an absolute path"), "{e}");

        let e = parse("\n[worktree]\nsetup_inputs = [\"package-lock.json\"]\n")
            .expect_err("inputs without a command");
        assert!(e.contains("no setup command to run"), "{e}");
        assert!(e.contains("add `setup = \"<command>\"`"), "{e}");

        let e = parse("\n[worktree]\nsetup = \"x\"\nsetup_timeout_secs = 0\n").expect_err("zero");
        assert!(e.contains("worktree.setup_timeout_secs"), "{e}");

        let e = parse("\n[worktree]\nsetpu = \"npm ci\"\n").expect_err("typo");
        assert!(e.contains("unknown field `setpu`"), "{e}");
        assert!(e.contains("worktree.setpu"), "{e}");
    }
}
