//! `[gate]` of brl.toml: the user's additions to the safety hook's rules (`brl gate`).

use serde::Deserialize;

use super::Pattern;

/// Regexes matched against each simple command of a Bash call, quotes removed and spaces
/// collapsed, both as written and without its `VAR=x` prefixes and wrappers (`sudo`, `env`,
/// `command`, `timeout`, `npx`, …). A `deny` match blocks the command whatever else says; an
/// `allow` match lets it through the built-in rules (never through a `deny`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// Block simple commands matching any of these.
    #[serde(default)]
    pub deny: Vec<Pattern>,
    /// Exempt simple commands matching any of these from the built-in rules.
    #[serde(default)]
    pub allow: Vec<Pattern>,
    /// Tool names the gate does not know (an MCP server's, a new agent version's) that may run
    /// anyway; unknown tools are blocked otherwise.
    #[serde(default)]
    pub allow_tools: Vec<String>,
}
