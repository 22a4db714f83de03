//! brl — a control room for AI coding agents that work unattended.
//!
//! The crate is a library first: the `brl` binary, the tests and the benches all use it.
//! Layers, bottom to top (arrows only point down):
//! - [`config`], [`home`]: the configuration and the one place that knows the home's paths;
//! - [`store`] (files on disk), [`git`], [`proc`], [`checks`], [`agent`]: adapters that do IO;
//!   [`agents`] knows each agent CLI (its command line, hooks, result format, state files);
//! - [`outcome`] (pure), [`cycle`], [`decision`], [`worker`]: the engine;
//! - [`cmd`]: the command-line face.

pub mod agent;
pub mod agents;
pub mod chaos;
pub mod chat;
pub mod checks;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod control;
pub mod cycle;
pub mod decision;
pub mod defaults;
pub mod demo;
pub mod gate;
pub mod git;
pub mod headless;
pub mod home;
pub mod hosts;
pub mod inflight;
pub mod jobs;
pub mod notify;
pub mod outcome;
pub mod proc;
pub mod prompt;
pub mod prompt_pending;
pub mod scheduler;
pub mod server;
pub mod status;
pub mod store;
pub mod term;
pub mod tmux;
pub mod tui;
pub mod why;
pub mod worker;
