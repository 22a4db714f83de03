//! `[keys]` of brl.toml: the dashboard's named actions, their default keys, and the user's
//! overrides. One table serves the dashboard's key handling and its `?` help; an unknown action,
//! a key that cannot be read, or a key bound to two actions that can be active at once is a
//! config error naming the key and the fix.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// Where an action applies. `Global` actions apply in every view and in the readers; a dialog is
/// modal (only `Dialog` actions apply while one is open).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Sessions,
    Log,
    Review,
    Tasks,
    Meetings,
    /// A diff, a transcript or a session's output, open over a view.
    Reader,
    /// A yes/no confirmation.
    Dialog,
}

impl Context {
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Global => "everywhere",
            Context::Sessions => "sessions",
            Context::Log => "log",
            Context::Review => "review queue",
            Context::Tasks => "tasks",
            Context::Meetings => "meetings",
            Context::Reader => "diff/transcript/output reader",
            Context::Dialog => "confirmation",
        }
    }

    /// Whether actions of `self` and `other` can be active at the same moment.
    fn overlaps(self, other: Context) -> bool {
        if self == other {
            return true;
        }
        if self == Context::Dialog || other == Context::Dialog {
            return false;
        }
        self == Context::Global || other == Context::Global
    }
}

macro_rules! actions {
    ($($variant:ident $name:literal [$($ctx:ident),+] [$($key:literal),*] $help:literal;)+) => {
        /// Everything a key can do on the dashboard.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant),+ }

        /// Every action with its name (the key in `[keys]`), contexts, default keys and help.
        pub const ACTIONS: &[ActionDef] = &[
            $(ActionDef {
                action: Action::$variant,
                name: $name,
                contexts: &[$(Context::$ctx),+],
                keys: &[$($key),*],
                help: $help,
            }),+
        ];
    };
}

actions! {
    Quit "quit" [Global] ["q", "ctrl-c"] "quit the dashboard (the control room and the workers keep running)";
    Help "help" [Global] ["?"] "show or hide this help";
    ToggleMouse "mouse" [Global] ["M"] "release the mouse to the terminal (to select text) or take it back";
    NextView "next_view" [Global] ["tab"] "next view";
    PrevView "prev_view" [Global] ["shift-tab"] "previous view";
    ViewSessions "view_sessions" [Global] ["1"] "sessions";
    ViewLog "view_log" [Global] ["2"] "experiment log";
    ViewReview "view_review" [Global] ["3"] "review queue";
    ViewTasks "view_tasks" [Global] ["4"] "tasks";
    ViewMeetings "view_meetings" [Global] ["5"] "meetings";
    Up "up" [Global] ["up", "k"] "move up / scroll up";
    Down "down" [Global] ["down", "j"] "move down / scroll down";
    PageUp "page_up" [Global] ["pageup", "ctrl-b"] "a page up";
    PageDown "page_down" [Global] ["pagedown", "ctrl-f"] "a page down";
    PageDownSpace "page_down_space" [Sessions, Log, Tasks, Meetings, Reader] ["space"] "a page down (in the review queue, space marks)";
    Top "top" [Global] ["home", "g"] "to the top";
    Bottom "bottom" [Global] ["end", "G"] "to the bottom (the log follows again)";
    TriggerReview "trigger_review" [Sessions, Log, Review, Meetings, Reader] ["R"] "run the automated review now (in the background)";
    TriggerStandup "trigger_standup" [Global] ["S"] "hold a standup meeting now (in the background)";
    TriggerDoctor "trigger_doctor" [Global] ["D"] "run the session doctor now (in the background)";
    TriggerFix "trigger_fix" [Global] ["F"] "hand the next repair (a conflict or stale branch) to a waiting session";
    Open "open" [Global] ["enter"] "open: a session's output, a branch's diff, a transcript";
    Back "back" [Global] ["esc"] "close what is open, clear a message";
    PauseSession "pause_session" [Sessions] ["p"] "pause the selected session (no new cycle; the one in flight finishes), or resume it";
    PauseFleet "pause_fleet" [Global] ["P"] "pause the whole fleet (no session gets a new cycle), or resume it";
    RestartSession "restart_session" [Sessions] ["x"] "restart the selected session's worker (a cycle in flight is recorded as interrupted; asks y/n)";
    StopCycle "stop_cycle" [Sessions] ["X"] "stop the selected session's cycle in flight (recorded as interrupted; asks y/n)";
    Attach "attach" [Sessions, Reader] ["t"] "attach this terminal to the session's tmux pane (detach to come back)";
    Search "search" [Log, Reader] ["/"] "search";
    SearchNext "search_next" [Log, Reader] ["n"] "next match";
    SearchPrev "search_prev" [Log, Reader] ["N"] "previous match";
    FilterType "filter_type" [Log, Review] ["f"] "filter: log by entry type; review by status/verdict (open, decided, …)";
    FilterSession "filter_session" [Log, Review] ["s"] "filter by session (cycles through the sessions)";
    ClearFilter "clear_filter" [Log, Review] ["c"] "clear the filters and the search";
    SortReview "sort_review" [Review] ["o"] "sort the review queue (oldest, newest, session, verdict, status)";
    ToggleMark "toggle_mark" [Review] ["space"] "mark/unmark a branch: approve/reject then act on every marked one";
    RetryTask "retry_task" [Tasks] ["R"] "retry a failed task (back to pending, attempts reset)";
    Approve "approve" [Review, Reader] ["a"] "approve: merge the branch into main (asks y/n)";
    Reject "reject" [Review, Reader] ["r"] "reject: delete the branch, with an optional reason (asks y/n)";
    NextFile "next_file" [Reader] ["]", "right"] "diff: next file";
    PrevFile "prev_file" [Reader] ["[", "left"] "diff: previous file";
    NewTask "new_task" [Tasks] ["n"] "add a task (title, optional body, tier)";
    ApproveTask "approve_task" [Tasks] ["A"] "approve a proposed task";
    DropTask "drop_task" [Tasks] ["d"] "drop a task";
    Confirm "confirm" [Dialog] ["y"] "yes, do it";
    Cancel "cancel" [Dialog] ["n", "esc"] "no, leave it";
}

/// One entry of [`ACTIONS`].
#[derive(Debug)]
pub struct ActionDef {
    pub action: Action,
    pub name: &'static str,
    pub contexts: &'static [Context],
    pub keys: &'static [&'static str],
    pub help: &'static str,
}

impl Action {
    pub fn def(self) -> &'static ActionDef {
        ACTIONS
            .iter()
            .find(|d| d.action == self)
            .expect("every action is in ACTIONS")
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }
}

/// A key as the dashboard sees it: a code and the Ctrl/Alt modifiers (Shift is in the character:
/// `A`, or `shift-tab`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCode {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    F(u8),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("shift-tab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("space", KeyCode::Char(' ')),
];

impl Key {
    pub fn plain(code: KeyCode) -> Key {
        Key {
            code,
            ctrl: false,
            alt: false,
        }
    }

    /// `a`, `A`, `?`, `enter`, `shift-tab`, `pagedown`, `space`, `f5`, `ctrl-c`, `alt-x`.
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut rest = s.trim();
        let (mut ctrl, mut alt) = (false, false);
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.chars().count() > 1 && lower.starts_with("ctrl-") {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.chars().count() > 1 && lower.starts_with("alt-") {
                alt = true;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        let code = if let Some((_, c)) = NAMED.iter().find(|(n, _)| *n == lower) {
            *c
        } else if let [c] = rest.chars().collect::<Vec<_>>()[..] {
            if c.is_control() {
                return Err(format!("`{s}` is a control character"));
            }
            KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
        } else if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok())
            && (1..=12).contains(&n)
        {
            KeyCode::F(n)
        } else {
            return Err(format!(
                "`{s}` is not a key; write one character (`a`, `A`, `?`), a name ({}, f1…f12), optionally after `ctrl-` or `alt-`",
                NAMED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ));
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            code => f.write_str(
                NAMED
                    .iter()
                    .find(|(_, c)| *c == code)
                    .map(|(n, _)| *n)
                    .unwrap_or("?"),
            ),
        }
    }
}

/// The `[keys]` table as written: action name → one key or a list of keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct KeysConfig(pub BTreeMap<String, KeyList>);

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    fn items(&self) -> Vec<&str> {
        match self {
            KeyList::One(s) => vec![s.as_str()],
            KeyList::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A problem with `[keys]`: the key (`keys.<action>`), what is wrong and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysError {
    pub key: String,
    pub message: String,
    pub fix: String,
}

/// The resolved bindings: defaults with the overrides applied.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<Action, Vec<Key>>,
}

impl Keymap {
    /// The defaults, then `[keys]` replacing the keys of the actions it names.
    pub fn build(config: &KeysConfig) -> Result<Keymap, KeysError> {
        let mut bindings = BTreeMap::new();
        for d in ACTIONS {
            let keys = d
                .keys
                .iter()
                .map(|k| Key::parse(k).expect("default keys parse"))
                .collect();
            bindings.insert(d.action, keys);
        }
        for (name, list) in &config.0 {
            let Some(def) = ACTIONS.iter().find(|d| d.name == name) else {
                return Err(KeysError {
                    key: format!("keys.{name}"),
                    message: format!("`{name}` is not an action of the dashboard"),
                    fix: format!(
                        "use one of: {}",
                        ACTIONS
                            .iter()
                            .map(|d| d.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            };
            let mut keys = Vec::new();
            for k in list.items() {
                let key = Key::parse(k).map_err(|message| KeysError {
                    key: format!("keys.{name}"),
                    message,
                    fix: "e.g. `approve = \"a\"` or `approve = [\"a\", \"ctrl-a\"]`".into(),
                })?;
                keys.push(key);
            }
            bindings.insert(def.action, keys);
        }
        let map = Keymap { bindings };
        map.check()?;
        Ok(map)
    }

    /// No key may do two things at the same moment.
    fn check(&self) -> Result<(), KeysError> {
        let all: Vec<(Action, Key)> = self
            .bindings
            .iter()
            .flat_map(|(a, ks)| ks.iter().map(move |k| (*a, *k)))
            .collect();
        for (i, (a, k)) in all.iter().enumerate() {
            for (b, l) in &all[i + 1..] {
                if k != l || a == b {
                    continue;
                }
                let (da, db) = (a.def(), b.def());
                if let Some((ca, _)) = da
                    .contexts
                    .iter()
                    .flat_map(|ca| db.contexts.iter().map(move |cb| (*ca, *cb)))
                    .find(|(ca, cb)| ca.overlaps(*cb))
                {
                    return Err(KeysError {
                        key: format!("keys.{}", da.name),
                        message: format!(
                            "`{k}` is bound to both `{}` and `{}` (both active in {})",
                            da.name,
                            db.name,
                            ca.as_str()
                        ),
                        fix: format!(
                            "bind `{}` or `{}` to another key in [keys]",
                            da.name, db.name
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// The action `key` means where `contexts` are active, most specific first.
    pub fn lookup(&self, contexts: &[Context], key: Key) -> Option<Action> {
        contexts.iter().find_map(|c| {
            self.bindings
                .iter()
                .find(|(a, ks)| a.def().contexts.contains(c) && ks.contains(&key))
                .map(|(a, _)| *a)
        })
    }

    /// The keys bound to `action`.
    pub fn keys(&self, action: Action) -> &[Key] {
        self.bindings.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    /// `a`, `enter/k`: the keys of `action` for help lines and hints.
    pub fn label(&self, action: Action) -> String {
        let keys = self.keys(action);
        if keys.is_empty() {
            return "(unbound)".into();
        }
        keys.iter()
            .map(Key::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::build(&KeysConfig::default()).expect("the default keymap is consistent")
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
