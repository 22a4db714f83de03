//! The chat remote: commands typed on a phone (Telegram) or sent by any bridge over HTTP
//! (`POST /command`), answered in a few short lines.
//!
//! The interpreter is face-independent: [`commands`] parses a message, [`run`] executes it
//! against the home with the same engine calls as the keys and the CLI (status, queue, approve
//! and reject through `decision`, tasks, jobs, pause/resume), and [`answer`] shapes the reply
//! (plain text for HTTP, escaped HTML pages for Telegram). Every command is one `command` entry
//! in the experiment log.
//!
//! [`telegram`] is the control room's poller: it long-polls getUpdates with an offset persisted
//! in `logs/telegram-offset.json` ([`offset`]), saved only after the command's effect and its
//! log entry, so a restart neither loses nor repeats a command (a replayed update whose
//! `update_id` is already logged is skipped). Branches are named by stable numbers
//! ([`numbers`]) shared by `/queue`, the notifications and the heartbeat.

pub mod answer;
mod branches;
pub mod commands;
mod confirm;
mod diffsum;
pub mod flood;
pub mod numbers;
pub mod offset;
mod run;
pub mod telegram;
mod update;

pub use answer::Answer;
pub use run::{Policy, Source, handle};
pub use telegram::{Options, Poller, spawn, spawn_with};

/// How long an `/approve` or `/reject` waits for its `yes`.
pub const CONFIRM_FOR: std::time::Duration = std::time::Duration::from_secs(300);
