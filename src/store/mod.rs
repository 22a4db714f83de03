//! The files on disk. This is the only code that opens brl's state files; each has one owner
//! module here, and every write is crash-safe (see [`atomic`]).

pub mod atomic;
pub mod control;
mod control_pause;
mod control_types;
mod control_watch;
pub mod follow;
pub mod journal;
pub mod log;
pub mod queue;
pub mod state;
pub mod tasks;
pub mod watch;
