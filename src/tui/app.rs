//! The dashboard's state: what is shown (`Data`, prepared by the loader), where the user is
//! (view, selections, scroll positions, open reader or dialog) and the last result to report.
//! Changed only by [`super::update::update`]; read by the views.

use std::cell::Cell;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::config::keys::{Context, Keymap};
use crate::store::tasks::Tier;

use super::data::{Data, Document};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Sessions,
    Log,
    Review,
    Tasks,
    Meetings,
}

impl View {
    pub const ALL: [View; 5] = [
        View::Sessions,
        View::Log,
        View::Review,
        View::Tasks,
        View::Meetings,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Sessions => "Sessions",
            View::Log => "Log",
            View::Review => "Review",
            View::Tasks => "Tasks",
            View::Meetings => "Meetings",
        }
    }

    pub fn context(self) -> Context {
        match self {
            View::Sessions => Context::Sessions,
            View::Log => Context::Log,
            View::Review => Context::Review,
            View::Tasks => Context::Tasks,
            View::Meetings => Context::Meetings,
        }
    }
}

/// How a result is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Warn,
    Error,
}

/// The result of the last action, shown until the next one or `esc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub level: Level,
    pub text: String,
}

/// What a reader shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReaderKind {
    Diff { branch: String },
    Transcript { path: PathBuf },
    Output { session: String },
}

/// A diff, transcript or session output, open over the current view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    pub kind: ReaderKind,
    /// The load request this reader waits for; older answers are ignored (latest wins).
    pub request: u64,
    /// `None` while loading.
    pub doc: Option<Result<Document, String>>,
    /// The lines as shown: wrapped to the width for transcripts, else the document's lines.
    pub lines: Vec<String>,
    /// The first line shown.
    pub scroll: usize,
    /// Follow the end (session output) until the user scrolls up.
    pub follow: bool,
    pub search: Option<String>,
    /// Diffs: the file the view is in (index into `Document::files`).
    pub file: usize,
}

/// The log view's position: following the end, or paused at an entry (by sequence number, so
/// new entries do not move what is on screen).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogView {
    /// `None`: following. `Some(seq)`: the bottom line shown is the entry with this number.
    pub paused_at: Option<u64>,
    pub kind: Option<String>,
    pub session: Option<String>,
    pub search: Option<String>,
}

/// What a confirmation is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirm {
    Approve {
        branch: String,
    },
    /// The second confirmation an entry the latest re-check marked `stale`/`conflict` needs.
    ForceApprove {
        branch: String,
        why: String,
    },
    Reject {
        branch: String,
        reason: Option<String>,
    },
    DropTask {
        id: u64,
        title: String,
    },
    /// Stop the cycle in flight, or restart the worker, of a session.
    Session {
        op: crate::control::ops::Op,
        session: String,
    },
    /// Approve every marked branch in this order, through the merge train. `force_why`: some
    /// are `stale`/`conflict` (why), and this is the second confirmation that forces them.
    ApproveMany {
        branches: Vec<String>,
        force_why: Option<String>,
    },
    /// Reject every marked branch (the same reason for all).
    RejectMany {
        branches: Vec<String>,
        reason: Option<String>,
    },
}

/// What a text form is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormKind {
    RejectReason {
        branch: String,
    },
    /// The reason for rejecting every marked branch.
    RejectManyReason {
        branches: Vec<String>,
    },
    NewTask,
    Search,
}

/// A small form: text fields and, for a new task, the tier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub kind: FormKind,
    /// (label, text) per field.
    pub fields: Vec<(&'static str, String)>,
    /// The field being edited; `fields.len()` is the tier choice when `tier` is set.
    pub focus: usize,
    pub tier: Option<Tier>,
    /// Why the last submit was refused (e.g. an empty title).
    pub error: Option<String>,
}

/// A whole text over the view (a log entry, a task): wrapped to the width, scrollable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detail {
    pub title: String,
    pub text: String,
    /// The first wrapped line shown.
    pub scroll: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Confirm(Confirm),
    Form(Form),
    Detail(Detail),
}

/// The whole state of one dashboard.
#[derive(Clone, Debug)]
pub struct App {
    pub keymap: Keymap,
    pub view: View,
    pub now: DateTime<Utc>,
    pub data: Data,
    /// Sequence number of `data.log.entries[0]` (entries are numbered as they arrive).
    pub log_first_seq: u64,
    pub log: LogView,
    /// Selected rows (indices into what each view lists).
    pub session_sel: usize,
    pub review_sel: usize,
    /// The review view's filter, sort and marked branches.
    pub review: super::review_list::ReviewView,
    pub task_sel: usize,
    pub meeting_sel: usize,
    pub reader: Option<Reader>,
    pub overlay: Option<Overlay>,
    pub message: Option<Message>,
    /// Actions started and not finished yet (e.g. "approving brl/s1/…").
    pub busy: Vec<String>,
    /// The terminal's size.
    pub width: u16,
    pub height: u16,
    /// The last load request handed out.
    pub next_request: u64,
    pub quit: bool,
    /// Colours off (`NO_COLOR`).
    pub no_color: bool,
    /// The dashboard captures the mouse (clicks, wheel); off: the terminal selects text.
    pub mouse: bool,
    /// Written while rendering: the earliest moment an age on screen changes its text. The main
    /// loop sleeps until then (or an event) instead of ticking; `None`: no age is shown.
    pub next_age_change: Cell<Option<DateTime<Utc>>>,
}

impl App {
    /// Rendering shows an age whose text changes at `at`: remember the earliest such moment.
    pub fn note_age_change(&self, at: DateTime<Utc>) {
        if self.next_age_change.get().is_none_or(|t| at < t) {
            self.next_age_change.set(Some(at));
        }
    }

    pub fn new(keymap: Keymap, data: Data, now: DateTime<Utc>) -> App {
        App {
            keymap,
            view: View::Sessions,
            now,
            data,
            log_first_seq: 0,
            log: LogView::default(),
            session_sel: 0,
            review_sel: 0,
            review: Default::default(),
            task_sel: 0,
            meeting_sel: 0,
            reader: None,
            overlay: None,
            message: None,
            busy: Vec::new(),
            width: 80,
            height: 24,
            next_request: 0,
            quit: false,
            no_color: false,
            mouse: true,
            next_age_change: Cell::new(None),
        }
    }

    /// The contexts active now, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        match (&self.overlay, &self.reader) {
            (Some(Overlay::Confirm(_)), _) => vec![Context::Dialog],
            (Some(_), _) => vec![Context::Global],
            (None, Some(_)) => vec![Context::Reader, Context::Global],
            (None, None) => vec![self.view.context(), Context::Global],
        }
    }

    /// The review entries the queue view lists: those waiting for a decision, oldest first.
    pub fn open_reviews(&self) -> Vec<&super::data::ReviewRow> {
        match &self.data.queue {
            Ok(rows) => rows.iter().filter(|r| r.entry.status.is_open()).collect(),
            Err(_) => vec![],
        }
    }

    /// The review entries the review view lists (its filter, session and sort applied).
    pub fn listed_reviews(&self) -> Vec<&super::data::ReviewRow> {
        super::review_list::listed(self)
    }

    /// Tasks as listed: open ones first (pending, running), then the rest, newest first within.
    pub fn listed_tasks(&self) -> Vec<&crate::store::tasks::Task> {
        let Ok(tasks) = &self.data.tasks else {
            return vec![];
        };
        let mut v: Vec<_> = tasks.iter().collect();
        v.sort_by_key(|t| {
            use crate::store::tasks::TaskState::*;
            let rank = match t.state {
                Running => 0,
                Pending => 1,
                Failed => 2,
                Done => 3,
                Dropped => 4,
            };
            (rank, std::cmp::Reverse(t.id))
        });
        v
    }

    /// Indices (into `data.log.entries`) of the entries the log view's filters let through.
    pub fn filtered_log(&self) -> Vec<usize> {
        let l = &self.log;
        self.data
            .log
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                l.kind.as_deref().is_none_or(|k| k == e.kind)
                    && l.session
                        .as_deref()
                        .is_none_or(|s| Some(s) == e.session.as_deref())
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Rows the log view has for entries (the screen minus header, tabs, title and status).
    pub fn log_rows(&self) -> usize {
        usize::from(self.height.saturating_sub(super::views::CHROME_ROWS)).max(1)
    }

    /// Lines a reader shows at once.
    pub fn reader_rows(&self) -> usize {
        usize::from(self.height.saturating_sub(super::views::READER_CHROME_ROWS)).max(1)
    }
}
