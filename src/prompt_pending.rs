//! The `{{pending}}` prompt variable: which changes already wait in the review queue, so a
//! session in its Read phase does not make them again (the twins problem). Bounded: at most
//! [`MAX_ENTRIES`] entries, [`MAX_FILES`] files each.

use crate::config::Config;
use crate::git::Target;
use crate::home::Home;
use crate::store::queue::Queue;

pub const MAX_ENTRIES: usize = 15;
pub const MAX_FILES: usize = 5;

/// One line per open entry, newest first: `- "<subject>" (<session>): <files>`; a sentence when
/// none waits or the queue cannot be read (the cycle goes on either way).
pub fn pending(home: &Home, config: &Config) -> String {
    let entries = match Queue::new(&home.queue_path()).load() {
        Ok(e) => e,
        Err(e) => return format!("(the review queue cannot be read: {e})"),
    };
    let open: Vec<_> = entries
        .iter()
        .rev()
        .filter(|e| e.status.is_open())
        .collect();
    if open.is_empty() {
        return "Nothing waits for review.".into();
    }
    let target = Target::open(&config.repo_path(home.root()), &config.main).ok();
    let mut out = String::new();
    for e in open.iter().take(MAX_ENTRIES) {
        let files = target
            .as_ref()
            .and_then(|t| {
                let head = git2::Oid::from_str(&e.head).ok()?;
                t.change_shape(&e.base, head).ok()
            })
            .map(|s| {
                let names: Vec<&str> = s.files.iter().map(|(f, _)| f.as_str()).collect();
                let more = names.len().saturating_sub(MAX_FILES);
                let mut text = names[..names.len().min(MAX_FILES)].join(", ");
                if more > 0 {
                    text.push_str(&format!(" and {more} more"));
                }
                text
            })
            .unwrap_or_else(|| "files unknown".into());
        out.push_str(&format!("- \"{}\" ({}): {files}\n", e.subject, e.session));
    }
    if open.len() > MAX_ENTRIES {
        out.push_str(&format!(
            "- … and {} older ones\n",
            open.len() - MAX_ENTRIES
        ));
    }
    out
}
