//! Validation of brl.toml and its error messages: each names the file, the line, the dotted key
//! and the fix.

use std::path::{Path, PathBuf};

use super::Config;
use crate::checks::parse::ParserKind;

/// A config that could not be read or is invalid. The message names the file, the line, the key
/// and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}\n  fix: {}", read_fix(source))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a text file ({what}): it is binary or corrupt, so brl will not guess what it meant\n  fix: move it aside (`mv {path} {path}.broken`), then restore brl.toml from a backup or write a fresh one with `brl init --repo <target repo>` in the home"
    )]
    NotText { path: PathBuf, what: String },
    #[error("invalid environment variable {var}: {message}\n  fix: {fix}")]
    Env {
        var: &'static str,
        message: String,
        fix: String,
    },
    #[error("invalid config {path}, line {line}, key `{key}`: {message}\n  fix: {fix}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
        fix: String,
    },
}

impl Config {
    pub(super) fn validate(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let invalid =
            |offset: usize, key: &str, message: String, fix: String| ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of(text, offset),
                key: key.to_string(),
                message,
                fix,
            };
        if self.agent.command.trim().is_empty() {
            let at = find_key(text, "agent", "command").unwrap_or(0);
            return Err(invalid(
                at,
                "agent.command",
                "the agent command is empty".into(),
                "set it to the command that runs your agent, e.g. `claude -p --output-format json`"
                    .into(),
            ));
        }
        self.validate_agent(path, text)?;
        if self.main.trim().is_empty() || git2::Branch::name_is_valid(&self.main) != Ok(true) {
            let at = find_key(text, "", "main").unwrap_or(0);
            return Err(invalid(
                at,
                "main",
                format!("`{}` is not a valid branch name", self.main),
                "set it to the branch approvals merge into, e.g. \"main\"".into(),
            ));
        }
        for (role, check) in [
            ("typecheck", &self.checks.typecheck),
            ("test", &self.checks.test),
        ] {
            let Some(check) = check else { continue };
            let at = check.span().start;
            let c = check.get_ref();
            let key = format!("checks.{role}.parser");
            let usable = if role == "typecheck" {
                c.parser.reports_errors()
            } else {
                c.parser.reports_tests()
            };
            if !usable {
                let fits: Vec<&str> = ParserKind::ALL
                    .iter()
                    .filter(|p| {
                        if role == "typecheck" {
                            p.reports_errors()
                        } else {
                            p.reports_tests()
                        }
                    })
                    .map(|p| p.name())
                    .collect();
                return Err(invalid(
                    at,
                    &key,
                    format!(
                        "parser `{}` does not count what a {role} check reports",
                        c.parser.name()
                    ),
                    format!("use one of: {}", fits.join(", ")),
                ));
            }
            if c.command.trim().is_empty() {
                return Err(invalid(
                    at,
                    &format!("checks.{role}.command"),
                    "the command is empty".into(),
                    format!("set the command, or remove the [checks.{role}] table"),
                ));
            }
            if c.parser == ParserKind::Regex {
                let missing = if role == "typecheck" {
                    c.errors.is_none().then_some("errors")
                } else if c.failures.is_none() {
                    Some("failures")
                } else {
                    c.passed.is_none().then_some("passed")
                };
                if let Some(m) = missing {
                    return Err(invalid(
                        at,
                        &format!("checks.{role}.{m}"),
                        format!(
                            "parser = \"regex\" needs `{m}`, a regex; each output line that matches counts once"
                        ),
                        format!("add `{m} = \"<regex>\"` under [checks.{role}]"),
                    ));
                }
            } else {
                for (name, set) in [
                    ("errors", c.errors.is_some()),
                    ("failures", c.failures.is_some()),
                    ("passed", c.passed.is_some()),
                ] {
                    if set {
                        return Err(invalid(
                            at,
                            &format!("checks.{role}.{name}"),
                            format!(
                                "`{name}` is only used with parser = \"regex\", but the parser is `{}`",
                                c.parser.name()
                            ),
                            format!("remove `{name}`, or set parser = \"regex\""),
                        ));
                    }
                }
            }
        }
        let pct = self.scheduler.max_ram_percent;
        if !(1..=100).contains(&pct) {
            return Err(invalid(
                find_key(text, "scheduler", "max_ram_percent").unwrap_or(0),
                "scheduler.max_ram_percent",
                format!("{pct} is not a percentage of memory"),
                "use a number from 1 to 100 (85 is the default)".into(),
            ));
        }
        if let Some(e) = self.hosts_problem(path, text) {
            return Err(e);
        }
        let s = &self.tmux.session;
        if s.is_empty() || s.contains([':', '.']) || s.chars().any(char::is_whitespace) {
            return Err(invalid(
                find_key(text, "tmux", "session").unwrap_or(0),
                "tmux.session",
                format!("`{s}` cannot name a tmux session"),
                "use letters, digits, `-` or `_`, e.g. \"brl\"".into(),
            ));
        }
        let l = &self.tmux.layout;
        if l.is_empty() || l.contains(['/', '\\']) || l.starts_with('.') {
            return Err(invalid(
                find_key(text, "tmux", "layout").unwrap_or(0),
                "tmux.layout",
                format!("`{l}` is not a layout name"),
                "use the name of a file in layouts/ without `.toml`, e.g. \"tiled\" or \"windows\""
                    .into(),
            ));
        }
        if let Some(sock) = &self.tmux.socket
            && (sock.is_empty() || sock.contains('/'))
        {
            return Err(invalid(
                find_key(text, "tmux", "socket").unwrap_or(0),
                "tmux.socket",
                format!("`{sock}` is not a socket name"),
                "use a plain name like \"brl\" (tmux -L), or remove the key for the default server"
                    .into(),
            ));
        }
        if let Some(usd) = self.budget.daily_usd
            && !(usd.is_finite() && usd > 0.0)
        {
            return Err(invalid(
                find_key(text, "budget", "daily_usd").unwrap_or(0),
                "budget.daily_usd",
                format!("{usd} is not a daily budget"),
                "use a positive amount in US dollars, e.g. 20.0, or remove the key for no limit"
                    .into(),
            ));
        }
        if self.tmux.pane_log_max_bytes < 4096 {
            return Err(invalid(
                find_key(text, "tmux", "pane_log_max_bytes").unwrap_or(0),
                "tmux.pane_log_max_bytes",
                format!(
                    "{} bytes is too small for a pane log",
                    self.tmux.pane_log_max_bytes
                ),
                "use at least 4096 (the default is 2097152, 2 MiB)".into(),
            ));
        }
        if self.server.token_env.trim().is_empty() {
            return Err(invalid(
                find_key(text, "server", "token_env").unwrap_or(0),
                "server.token_env",
                "the variable name is empty".into(),
                "name the environment variable that holds the token, e.g. \"BRL_TOKEN\"".into(),
            ));
        }
        self.notify
            .check()
            .map_err(|p| invalid(p.at(text, find_key), &p.key, p.message, p.fix))?;
        self.worktree
            .check()
            .map_err(|p| invalid(p.at(text, find_key), &p.key, p.message, p.fix))?;
        for (table, secs) in [
            ("review", self.review.timeout_secs),
            ("standup", self.standup.timeout_secs),
            ("doctor", self.doctor.timeout_secs),
        ] {
            if secs < 10 {
                return Err(invalid(
                    find_key(text, table, "timeout_secs").unwrap_or(0),
                    &format!("{table}.timeout_secs"),
                    format!("{secs} s is too short for the whole {table} job"),
                    "use at least 10 (the default is 1800, half an hour)".into(),
                ));
            }
        }
        if self.doctor.loop_cycles < 2 {
            return Err(invalid(
                find_key(text, "doctor", "loop_cycles").unwrap_or(0),
                "doctor.loop_cycles",
                format!("{} cycles cannot show a loop", self.doctor.loop_cycles),
                "use 2 or more (the default is 3)".into(),
            ));
        }
        if let Err(e) = super::keys::Keymap::build(&self.keys) {
            let action = e.key.trim_start_matches("keys.");
            let at = find_key(text, "keys", action).unwrap_or(0);
            return Err(invalid(at, &e.key, e.message, e.fix));
        }
        Ok(())
    }
}

/// What to do about a brl.toml that could not be read, by why.
fn read_fix(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            "create it with `brl init --repo <target repo>` in the home, or point --home / BRL_HOME at a home that has one"
        }
        std::io::ErrorKind::PermissionDenied => {
            "let the user running brl read it (`ls -l` shows its owner and mode)"
        }
        std::io::ErrorKind::IsADirectory => {
            "brl.toml must be a file; move the directory aside and run `brl init --repo <target repo>`"
        }
        _ => "check that the file and its disk are readable, then run the command again",
    }
}

/// The text of brl.toml, or why it is not text (not UTF-8, or control bytes such as NUL that no
/// TOML file holds).
pub(super) fn as_text(path: &Path, bytes: Vec<u8>) -> Result<String, ConfigError> {
    let not_text = |what: String| ConfigError::NotText {
        path: path.to_path_buf(),
        what,
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        not_text(format!(
            "byte {} is not valid UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })?;
    if let Some((at, c)) = text
        .char_indices()
        .find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(not_text(format!(
            "line {} holds the control character U+{:04X}",
            line_of(&text, at),
            c as u32
        )));
    }
    Ok(text)
}

/// Turn a toml/serde error into one that names the line, the dotted key and a fix.
pub(super) fn from_toml_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let offset = e.span().map(|s| s.start).unwrap_or(0);
    let line = line_of(text, offset);
    let message = e.message().trim().to_string();
    let mut key = key_at(text, offset);
    let fix = if message.starts_with("unknown field") {
        "correct the spelling or remove the key; the message lists the valid keys (the README has the full reference)".to_string()
    } else if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|s| s.split('`').next())
    {
        // The span is the table that lacks the field: name the field itself.
        key = match table_at(text, offset) {
            t if t.is_empty() => field.to_string(),
            t => format!("{t}.{field}"),
        };
        format!(
            "add `{field} = ...` (see the README's config reference, or `brl init` for a commented example)"
        )
    } else if message.contains("not a valid regular expression") {
        "correct the regular expression (the message points at where it fails; escape characters \
         meant literally, such as `(`, `[`, `.` or `+`, with a backslash, written `\\\\` in TOML)"
            .to_string()
    } else if message.starts_with("duplicate key") {
        format!("`{key}` is defined twice; keep one of the two definitions")
    } else if message.starts_with("unknown variant") {
        "use one of the values the message lists".to_string()
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        "give the key a value of the expected type".to_string()
    } else {
        "fix the TOML syntax at that line".to_string()
    };
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        key,
        message,
        fix,
    }
}

/// 1-based line number of a byte offset.
/// The offset of the `n`th `[[table]]` header (0-based).
pub(super) fn find_array_table(text: &str, table: &str, n: usize) -> Option<usize> {
    let mut offset = 0;
    let mut seen = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with("[[") && t.ends_with("]]") && t[2..t.len() - 2].trim() == table {
            if seen == n {
                return Some(offset);
            }
            seen += 1;
        }
        offset += line.len();
    }
    None
}

impl Config {
    /// The first problem of `[[hosts]]`: a bad key, a duplicate name, or a session name that
    /// another host's sessions already use.
    fn hosts_problem(&self, path: &Path, text: &str) -> Option<ConfigError> {
        if let Some(host) = &self.host {
            let at = find_key(text, "", "host").unwrap_or(0);
            let bad = |message: String, fix: &str| ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of(text, at),
                key: "host".into(),
                message,
                fix: fix.into(),
            };
            let probe = super::HostConfig {
                name: host.clone(),
                ssh: "x".into(),
                port: None,
                identity: None,
                options: Vec::new(),
                sessions: 1,
                max_ram_percent: None,
                dir: "x".into(),
            };
            if let Some((_, message, fix)) = probe.problem() {
                return Some(bad(message, &fix));
            }
            if !self.hosts.is_empty() {
                return Some(bad(
                    "a host's own home (with `host`) cannot have [[hosts]] of its own".into(),
                    "remove `host` from this home's brl.toml (it is written by `brl hosts setup` into a host's home only), or remove its [[hosts]]",
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, h) in self.hosts.iter().enumerate() {
            let at = find_array_table(text, "hosts", i).unwrap_or(0);
            let invalid = |key: &str, message: String, fix: String| ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of(text, at),
                key: format!("hosts[{i}].{key}"),
                message,
                fix,
            };
            if let Some((key, message, fix)) = h.problem() {
                return Some(invalid(key, message, fix));
            }
            if !names.insert(h.name.as_str()) {
                return Some(invalid(
                    "name",
                    format!("two [[hosts]] are named `{}`", h.name),
                    "give each host its own name".into(),
                ));
            }
        }
        None
    }
}

pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The `[table]` that holds `offset` (its header line counts as inside it); "" at the top level.
/// An array of tables is named with its index, as the validation names it: `hosts[1]`.
fn table_at(text: &str, offset: usize) -> String {
    let end = offset.min(text.len());
    let line_start = text[..end].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let headers: Vec<&str> = text[..line_end]
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('[') && l.ends_with(']'))
        .collect();
    let Some(last) = headers.last() else {
        return String::new();
    };
    let name = last
        .trim_matches(|c| c == '[' || c == ']')
        .trim()
        .to_string();
    if last.starts_with("[[") {
        let index = headers.iter().filter(|h| **h == *last).count() - 1;
        return format!("{name}[{index}]");
    }
    name
}

/// The dotted key at `offset`: the `[table]` header above it plus the key on its line (a comment
/// or blank line names only the table).
fn key_at(text: &str, offset: usize) -> String {
    let end = offset.min(text.len());
    let line_start = text[..end].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text[line_start..].lines().next().unwrap_or("");
    let trimmed = line.trim();
    let table = table_at(text, offset);
    if trimmed.starts_with('[') {
        return table;
    }
    let key = if trimmed.starts_with('#') {
        ""
    } else {
        trimmed.split('=').next().unwrap_or("").trim()
    };
    match (table.is_empty(), key.is_empty()) {
        (true, true) => "(top level)".into(),
        (true, false) => key.to_string(),
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    }
}

/// Byte offset of `key = ` inside `[table]` ("" for the top level), if present.
pub(super) fn find_key(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            current = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        } else if current == table
            && t.split('=').next().map(str::trim) == Some(key)
            && t.contains('=')
        {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// The offset of the `[table]` header line (`table` as written between the brackets).
pub(super) fn find_table(text: &str, table: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') && t[1..t.len() - 1].trim() == table {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
