//! The messages into the dashboard's `update` and the effects out of it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::config::keys::{Action, Key};
use crate::store::log::Entry;
use crate::store::tasks::Tier;

use super::app::Level;
use super::data::{Document, Meeting, Memory, ReviewRow, Room, SessionRow, Today};

/// Everything that can happen to the dashboard.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(Key),
    Action(Action),
    Part(Part),
    /// A document for the reader that asked with this request number.
    Doc(u64, Result<Document, String>),
    /// An action finished: what to tell the user.
    Done {
        what: String,
        level: Level,
        text: String,
    },
    Tick(DateTime<Utc>),
    Resize(u16, u16),
    /// A left click at (column, row).
    Click(u16, u16),
}

/// A freshly loaded part of [`super::data::Data`].
#[derive(Debug, Clone)]
pub enum Part {
    Sessions(Vec<SessionRow>),
    Queue(Result<Vec<ReviewRow>, String>),
    Tasks(Result<Vec<crate::store::tasks::Task>, String>),
    Meetings(Result<Vec<Meeting>, String>),
    Log {
        entries: Vec<Entry>,
        malformed: usize,
        notices: Vec<String>,
    },
    Room(Room),
    Memory(Option<Memory>),
    /// The `[[hosts]]` hosts' memory (or why none).
    Hosts(Vec<super::data::HostMemory>),
    Typecheck(usize, usize),
    Today(Today),
    /// Who paused the whole fleet (`None`: not paused).
    Fleet(Option<String>),
    /// Why nothing happens ([`crate::why::explain`]).
    Why(Vec<crate::why::Why>),
    /// The known flaky tests' names.
    Flaky(Vec<String>),
    /// The selected session's output (`None`: no session previewed).
    Preview(Option<super::data::Preview>),
    Jobs(Vec<super::data::JobRow>),
}

/// What the runtime must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Approve {
        branch: String,
    },
    /// Approve with `force` (after the second confirmation of a stale/conflict entry).
    ApproveForced {
        branch: String,
    },
    Reject {
        branch: String,
        reason: Option<String>,
    },
    AddTask {
        title: String,
        body: Option<String>,
        tier: Tier,
    },
    /// Approve these branches in order through the merge train (`force`: past stale/conflict).
    ApproveMany {
        branches: Vec<String>,
        force: bool,
    },
    /// Reject each of these branches with the same reason.
    RejectMany {
        branches: Vec<String>,
        reason: Option<String>,
    },
    ApproveTask(u64),
    DropTask(u64),
    /// A failed task back to pending, its attempts reset.
    RetryTask(u64),
    LoadDiff {
        request: u64,
        branch: String,
    },
    LoadTranscript {
        request: u64,
        path: PathBuf,
    },
    /// Tail this session's pane log into the reader (request), or stop tailing (`None`).
    WatchOutput {
        request: u64,
        session: Option<String>,
    },
    Attach {
        session: String,
    },
    /// Pause, resume, stop or restart a session (`None`: pause or resume the fleet).
    Session {
        op: crate::control::ops::Op,
        session: Option<String>,
    },
    /// Start a periodic job now, in a process of its own (it outlives the dashboard).
    Trigger(crate::jobs::Job),
    /// Hand the fixer's next repair to a waiting worker.
    TriggerFix,
    /// Capture the mouse (clicks, wheel) or release it to the terminal (text selection).
    Mouse(bool),
    Quit,
}
