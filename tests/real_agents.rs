//! The real agent CLIs (Claude Code, Codex, Gemini CLI, opencode, aider), installed by
//! `tests/agent-clis.sh` into a cache under `target/`, run headless and fully offline against the
//! scripted fake model API in `tests/common/fake_model/`: each really edits a file in a temp git
//! repo with its own edit tool, and we keep what it printed (its JSON/JSONL result with usage) as
//! fixtures for the presets' parsers. Per CLI also: a run whose edit was denied and a run that got
//! HTTP 429 (what it prints, its exit code).
//!
//! Captured outputs are written to `tests/fixtures/agents/<cli>/` with
//! `BRL_SAVE_AGENT_FIXTURES=1`; without it they stay in the test's temp dir.

#[path = "common/fake_model/mod.rs"]
mod fake_model;
#[path = "real_agents/support.rs"]
mod support;

#[path = "real_agents/aider.rs"]
mod aider;
#[path = "real_agents/capture.rs"]
mod capture;
#[path = "real_agents/claude.rs"]
mod claude;
#[path = "real_agents/claude_hooks.rs"]
mod claude_hooks;
#[path = "real_agents/codex.rs"]
mod codex;
#[path = "real_agents/codex_hooks.rs"]
mod codex_hooks;
#[path = "real_agents/fake_model_self.rs"]
mod fake_model_self;
#[path = "real_agents/gemini.rs"]
mod gemini;
#[path = "real_agents/opencode.rs"]
mod opencode;
#[path = "real_agents/worktree.rs"]
mod worktree;
