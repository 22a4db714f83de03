//! Dashboard states built by hand, for the view snapshots and the render benchmark. Everything
//! is derived from `now` and the sizes asked for: no randomness, no IO.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::config::keys::Keymap;

mod rows;
mod why;

pub use why::{Held, held_home, preview_home};

use rows::{log_entry, meetings, review, session, tasks, transcript_line};

use super::app::{App, Reader, ReaderKind, View};
use super::data::{Data, Document, Memory, Room, Today};
use super::reader::rewrap;

const HOME: &str = "/home/dev/webshop/.brl";

/// A home just made: no sessions loaded, nothing in the queues or the log, no control room.
pub fn empty_home(now: DateTime<Utc>) -> App {
    let data = Data {
        home: HOME.into(),
        ..Data::default()
    };
    App::new(Keymap::default(), data, now)
}

/// A home in full swing: `sessions` sessions in every state, `reviews` branches in the queue
/// (some conflicting, a few already decided), tasks of every state and tier, three meetings and
/// `log_entries` log entries of several types, the control room running in tmux.
pub fn busy_home(now: DateTime<Utc>, sessions: usize, reviews: usize, log_entries: usize) -> App {
    let sessions_n = sessions.max(1);
    let mut data = Data {
        home: HOME.into(),
        main: "main".into(),
        sessions: (1..=sessions).map(|i| session(now, i)).collect(),
        queue: Ok((0..reviews)
            .map(|j| review(now, j, reviews, sessions_n))
            .collect()),
        tasks: Ok(tasks(now)),
        meetings: Ok(meetings(now)),
        room: Room {
            pid: Some(4242),
            supervisor: Some("tmux".into()),
            agent_limits: vec![],
            ungated_agent: None,
            max_pending: 0,
        },
        memory: Some(Memory {
            used_percent: 41.3,
            gate_percent: 85,
        }),
        typecheck: (1, 2),
        today: Today {
            kept: 3,
            discarded: 5,
            no_change: 4,
            cost_usd: 0.1234,
            by_session: Default::default(),
        },
        ..Data::default()
    };
    for k in 0..log_entries {
        data.log.push(log_entry(now, k, log_entries, sessions_n));
    }
    App::new(Keymap::default(), data, now)
}

/// The meetings view with a long standup transcript open, scrolled to the middle.
pub fn long_transcript(now: DateTime<Utc>) -> App {
    let mut app = busy_home(now, 4, 2, 20);
    app.view = View::Meetings;
    let path = PathBuf::from("logs/meetings/20261121-093000-standup.md");
    let lines = (0..200).map(transcript_line).collect();
    let doc = Document {
        title: "20261121-093000-standup.md".into(),
        lines,
        files: vec![],
        note: None,
    };
    let mut r = reader(ReaderKind::Transcript { path }, doc);
    rewrap(&mut r, app.width);
    r.scroll = r.lines.len() / 2;
    app.reader = Some(r);
    app
}

/// The review view with the first branch's diff open (three files), in its second file.
pub fn diff_reader(now: DateTime<Utc>) -> App {
    let mut app = busy_home(now, 4, 3, 20);
    app.view = View::Review;
    let branch = app
        .open_reviews()
        .first()
        .map(|r| r.entry.branch.clone())
        .unwrap_or_default();
    let mut lines = Vec::new();
    let mut files = Vec::new();
    for (f, path) in [
        "src/cart/total.rs",
        "src/cart/mod.rs",
        "tests/cart_total.rs",
    ]
    .iter()
    .enumerate()
    {
        files.push((path.to_string(), lines.len()));
        lines.push(format!("diff --git a/{path} b/{path}"));
        lines.push(format!("index 3f2a1c{f}..9b8e7d{f} 100644"));
        lines.push(format!("--- a/{path}"));
        lines.push(format!("+++ b/{path}"));
        for h in 0..3 {
            lines.push(format!("@@ -{0},7 +{0},9 @@ impl Cart {{", 10 + h * 40));
            lines.push("     pub fn total(&self) -> Money {".into());
            lines.push(format!(
                "-        let sum = self.items.iter().map(|i| i.price).sum();  // {f}.{h}"
            ));
            lines.push("+        let sum: Money = self".into());
            lines.push("+            .items".into());
            lines.push(format!(
                "+            .iter().map(|i| i.price * i.quantity).sum();  // {f}.{h}"
            ));
            lines.push("\tif self.discount.is_some() {".into());
            lines.push("         sum".into());
            lines.push("     }".into());
        }
    }
    let doc = Document {
        title: format!("diff {branch}"),
        lines,
        files,
        note: None,
    };
    let mut r = reader(ReaderKind::Diff { branch }, doc);
    rewrap(&mut r, app.width);
    r.file = 1;
    r.scroll = r.lines.len() / 3;
    app.reader = Some(r);
    app
}

fn reader(kind: ReaderKind, doc: Document) -> Reader {
    Reader {
        kind,
        request: 1,
        doc: Some(Ok(doc)),
        lines: vec![],
        scroll: 0,
        follow: false,
        search: None,
        file: 0,
    }
}
