//! Pointing each real CLI at a [`FakeModel`], offline: the environment variables to give the CLI
//! (or brl, which passes its environment on to the agent) and the config files each needs under
//! the CLI's HOME. With these, the presets' own command lines run unchanged against the fake:
//! `claude -p …`, `codex exec …`, `gemini -p …`, `opencode run …`, `aider --yes-always …`.
//!
//! Every CLI's telemetry, update checks and other traffic beyond the model API are switched off
//! here (`tests/real_agents.rs` checks with strace that nothing but loopback is reached).

use std::path::Path;

use serde_json::{Value, json};

use super::FakeModel;

/// The model names the configs below give each CLI.
pub const CODEX_MODEL: &str = "fake-codex";
pub const GEMINI_MODEL: &str = "gemini-2.5-pro";
pub const OPENCODE_MODEL: &str = "fake/fake-model";
pub const AIDER_MODEL: &str = "openai/fake-model";

fn vars(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

impl FakeModel {
    /// Claude Code: `ANTHROPIC_BASE_URL`, an API key, and no nonessential traffic, telemetry,
    /// auto-update or error reporting.
    pub fn claude_env(&self) -> Vec<(String, String)> {
        vars(&[
            ("ANTHROPIC_BASE_URL", self.url()),
            ("ANTHROPIC_API_KEY", "sk-ant-fake-key".into()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            ("DISABLE_TELEMETRY", "1".into()),
            ("DISABLE_AUTOUPDATER", "1".into()),
            ("DISABLE_ERROR_REPORTING", "1".into()),
        ])
    }

    /// Codex: `CODEX_HOME=<home>/.codex` with a config.toml whose custom `model_providers` entry
    /// speaks the Responses API to this server (no retries: a 429 is reported at once), and a
    /// model catalog entry like OpenAI's own (so Codex offers its freeform `apply_patch` tool).
    /// Update checks, analytics, plugin and app sync are off. `extra_config` is appended (hooks).
    pub fn codex_env(&self, home: &Path, extra_config: &str) -> Vec<(String, String)> {
        let dir = home.join(".codex");
        let catalog = dir.join("catalog.json");
        let model = json!({"models": [{
            "slug": CODEX_MODEL, "display_name": CODEX_MODEL, "description": "fake model",
            "default_reasoning_level": "low",
            "supported_reasoning_levels": [{"effort": "low", "description": "Low"}],
            "shell_type": "unified_exec", "visibility": "list", "supported_in_api": true,
            "priority": 1, "base_instructions": "You are a coding agent.",
            "supports_reasoning_summaries": false, "default_reasoning_summary": "none",
            "support_verbosity": false, "default_verbosity": null,
            "apply_patch_tool_type": "freeform",
            "truncation_policy": {"mode": "tokens", "limit": 10000},
            "supports_parallel_tool_calls": false, "context_window": 200000,
            "effective_context_window_percent": 95, "experimental_supported_tools": [],
            "input_modalities": ["text"], "supports_search_tool": false}]});
        write(&catalog, &model.to_string());
        let config = format!(
            r#"model = "{CODEX_MODEL}"
model_catalog_json = "{catalog}"
model_provider = "fake"
check_for_update_on_startup = false

[analytics]
enabled = false

[model_providers.fake]
name = "fake"
base_url = "{url}/v1"
env_key = "FAKE_OPENAI_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

# Off: what would reach the internet (curated plugins from github.com, apps/connectors,
# update checks).
[features]
plugins = false
remote_plugin = false
apps = false
plugin_sharing = false
in_app_updates = false
tool_suggest = false
{extra_config}"#,
            catalog = catalog.display(),
            url = self.url(),
        );
        write(&dir.join("config.toml"), &config);
        vars(&[
            ("CODEX_HOME", dir.display().to_string()),
            ("FAKE_OPENAI_KEY", "sk-fake-key".into()),
        ])
    }

    /// Gemini CLI: `GOOGLE_GEMINI_BASE_URL`, an API key selected as the auth type in
    /// `<home>/.gemini/settings.json` with the model named (no router calls), telemetry, usage
    /// statistics and update checks off, and the workspace trusted.
    pub fn gemini_env(&self, home: &Path) -> Vec<(String, String)> {
        let settings = json!({
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "model": {"name": GEMINI_MODEL},
            "privacy": {"usageStatisticsEnabled": false},
            "telemetry": {"enabled": false},
            "general": {"disableAutoUpdate": true, "disableUpdateNag": true},
        });
        write(&home.join(".gemini/settings.json"), &settings.to_string());
        vars(&[
            ("GOOGLE_GEMINI_BASE_URL", self.url()),
            ("GEMINI_API_KEY", "fake-gemini-key".into()),
            ("GEMINI_CLI_TRUST_WORKSPACE", "true".into()),
        ])
    }

    /// opencode: an `OPENCODE_CONFIG` file at `<home>/opencode.json` with an
    /// `@ai-sdk/openai-compatible` provider on this server (priced, so per-step cost is real),
    /// `permission` when given, and opencode's config dir `<home>/.config/opencode` holding the
    /// plugin package from `plugin_dir` (`opencode-config=` of tests/agent-clis.sh; opencode
    /// would fetch it from npm). Model list fetch, auto-update, LSP downloads, default plugins
    /// and sharing are off.
    pub fn opencode_env(
        &self,
        home: &Path,
        plugin_dir: &Path,
        permission: Option<Value>,
    ) -> Vec<(String, String)> {
        let mut config = json!({
            "$schema": "https://opencode.ai/config.json",
            "autoupdate": false,
            "share": "disabled",
            "provider": {"fake": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Fake",
                "options": {"baseURL": format!("{}/v1", self.url()), "apiKey": "sk-fake-key"},
                "models": {"fake-model": {"name": "Fake model",
                                          "cost": {"input": 3.0, "output": 15.0}}},
            }},
            "model": OPENCODE_MODEL,
            "small_model": OPENCODE_MODEL,
        });
        if let Some(p) = permission {
            config["permission"] = p;
        }
        let config_dir = home.join(".config/opencode");
        std::fs::create_dir_all(&config_dir).expect("mkdir opencode config dir");
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(plugin_dir.join(f), config_dir.join(f))
                .unwrap_or_else(|e| panic!("copy {}: {e}", plugin_dir.join(f).display()));
        }
        let modules = config_dir.join("node_modules");
        if !modules.exists() {
            std::os::unix::fs::symlink(plugin_dir.join("node_modules"), &modules)
                .expect("link opencode plugin modules");
        }
        let path = home.join("opencode.json");
        write(&path, &config.to_string());
        vars(&[
            ("OPENCODE_CONFIG", path.display().to_string()),
            ("OPENCODE_DISABLE_MODELS_FETCH", "1".into()),
            ("OPENCODE_DISABLE_AUTOUPDATE", "1".into()),
            ("OPENCODE_DISABLE_LSP_DOWNLOAD", "1".into()),
            ("OPENCODE_DISABLE_DEFAULT_PLUGINS", "1".into()),
            ("OPENCODE_DISABLE_SHARE", "1".into()),
        ])
    }

    /// aider: everything through its `AIDER_*` variables, so the preset's own flags
    /// (`--yes-always --no-pretty --message-file /dev/stdin`) are all the command line needs —
    /// the model, this server as the OpenAI base, the model's metadata and price in
    /// `<home>/model-metadata.json` (else aider fetches litellm's price list from GitHub), no
    /// update check, analytics, release notes or model warnings.
    pub fn aider_env(&self, home: &Path) -> Vec<(String, String)> {
        let metadata = home.join("model-metadata.json");
        let info = json!({AIDER_MODEL: {
            "max_input_tokens": 128000, "max_output_tokens": 8192, "max_tokens": 8192,
            "input_cost_per_token": 0.000003, "output_cost_per_token": 0.000015,
            "litellm_provider": "openai", "mode": "chat"}});
        write(&metadata, &info.to_string());
        vars(&[
            ("AIDER_MODEL", AIDER_MODEL.into()),
            ("AIDER_OPENAI_API_BASE", format!("{}/v1", self.url())),
            ("AIDER_MODEL_METADATA_FILE", metadata.display().to_string()),
            ("AIDER_CHECK_UPDATE", "false".into()),
            ("AIDER_ANALYTICS_DISABLE", "true".into()),
            ("AIDER_SHOW_RELEASE_NOTES", "false".into()),
            ("AIDER_SHOW_MODEL_WARNINGS", "false".into()),
            ("OPENAI_API_KEY", "sk-fake-key".into()),
            ("LITELLM_LOCAL_MODEL_COST_MAP", "True".into()),
        ])
    }
}
