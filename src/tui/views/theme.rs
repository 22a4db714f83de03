//! The dashboard's styles. Only the 16 basic ANSI colours (they follow the terminal's palette,
//! light or dark); with `NO_COLOR` no colour at all, and modifiers (bold, reversed, underlined)
//! carry selection and emphasis.

use ratatui::style::{Color, Modifier, Style};

use crate::store::log::Entry;
use crate::tui::app::{App, Level};
use crate::tui::data::SessionState;

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    color: bool,
}

impl Theme {
    pub fn new(app: &App) -> Theme {
        Theme {
            color: !app.no_color,
        }
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn plain(self) -> Style {
        Style::new()
    }

    pub fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    /// Errors: red; bold without colours so they still stand out.
    pub fn error(self) -> Style {
        if self.color {
            self.fg(Color::Red)
        } else {
            self.bold()
        }
    }

    /// What needs attention now (the control room not running): red and bold.
    pub fn alarm(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn info(self) -> Style {
        self.fg(Color::Cyan)
    }

    /// Secondary text (times, separators, empty cells).
    pub fn dim(self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// A view's title line and column headings.
    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn heading(self) -> Style {
        self.bold()
    }

    /// The selected row, the current tab, the current file.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn tab_active(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    /// Search matches.
    pub fn hit(self) -> Style {
        if self.color {
            Style::new().fg(Color::Black).bg(Color::Yellow)
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
        }
    }

    /// Keys in hints and the help.
    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn level(self, l: Level) -> Style {
        match l {
            Level::Info => self.plain(),
            Level::Ok => self.ok(),
            Level::Warn => self.warn().add_modifier(Modifier::BOLD),
            Level::Error => self.error().add_modifier(Modifier::BOLD),
        }
    }

    pub fn session_state(self, s: &SessionState) -> Style {
        match s {
            SessionState::Cycle => self.ok(),
            SessionState::Stale | SessionState::Paused(_) => self.warn(),
            SessionState::Dead
            | SessionState::Error(_)
            | SessionState::Blocked(_)
            | SessionState::Unreachable(_) => self.error(),
            SessionState::Granted | SessionState::Waiting | SessionState::Pausing => self.plain(),
            SessionState::Stopped => self.dim(),
        }
    }

    /// A cycle's outcome: kept green, discarded yellow, failures red, nothing dim.
    pub fn outcome(self, outcome: &str) -> Style {
        match outcome {
            "kept" => self.ok(),
            "discarded" => self.warn(),
            "no_change" | "interrupted" => self.dim(),
            "error" | "agent_failed" | "timeout" => self.error(),
            _ => self.plain(),
        }
    }

    /// A log entry's colour, by its type (and a cycle's outcome).
    pub fn log_entry(self, e: &Entry) -> Style {
        match e.kind.as_str() {
            "ralph_cycle" => self.outcome(e.data["outcome"].as_str().unwrap_or("")),
            "review_decision" => self.info(),
            "notify_failed" | "control_error" | "worker_died" | "control_room_crashed" => {
                self.error()
            }
            k if k.ends_with("_error") => self.error(),
            "assignment_skipped" | "budget_reached" | "gate_block" => self.warn(),
            _ => self.plain(),
        }
    }

    /// A diff line: additions green, removals red, hunks cyan, file headers bold.
    pub fn diff_line(self, line: &str) -> Style {
        if line.starts_with("diff --git")
            || line.starts_with("+++ ")
            || line.starts_with("--- ")
            || line.starts_with("index ")
        {
            self.bold()
        } else if line.starts_with("@@") {
            self.info()
        } else if line.starts_with('+') {
            self.ok()
        } else if line.starts_with('-') {
            self.fg(Color::Red)
        } else {
            self.plain()
        }
    }
}
