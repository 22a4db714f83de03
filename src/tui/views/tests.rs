//! Snapshots of the screens (as text) at 80×24 and 160×48, the colours (and their absence with
//! NO_COLOR), and renders that must not panic whatever the size.

use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

use crate::config::keys::{Action, Key, KeyCode};
use crate::tui::app::{App, Level, Message, Overlay, ReaderKind, View};
use crate::tui::data::Document;
use crate::tui::fixtures::{busy_home, diff_reader, empty_home, long_transcript};
use crate::tui::update::{Msg, update};

use super::render;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("a valid time")
}

fn busy() -> App {
    busy_home(now(), 30, 40, 300)
}

/// Draw `app` on a `w`×`h` test terminal (after telling it the size, as the runtime does).
fn draw(app: &mut App, w: u16, h: u16) -> Buffer {
    update(app, Msg::Resize(w, h));
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
    term.draw(|f| render(app, f)).expect("drawn");
    term.backend().buffer().clone()
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    update(app, Msg::Resize(w, h));
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
    term.draw(|f| render(app, f)).expect("drawn");
    term.backend().to_string()
}

fn act(app: &mut App, a: Action) {
    update(app, Msg::Action(a));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        update(app, Msg::Key(Key::plain(KeyCode::Char(c))));
    }
}

/// Snapshot `app` at both sizes as `<name>_<w>x<h>`.
fn snap(name: &str, app: &App) {
    for (w, h) in SIZES {
        let mut app = app.clone();
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&mut app, w, h));
    }
}

fn with_view(mut app: App, v: View) -> App {
    app.view = v;
    app
}

#[test]
fn empty_home_views() {
    for v in View::ALL {
        let name = format!("empty_{}", v.title().to_lowercase());
        snap(&name, &with_view(empty_home(now()), v));
    }
}

#[test]
fn busy_home_views() {
    for v in View::ALL {
        let mut app = with_view(busy(), v);
        // A selection away from the top, on the second page at 80×24.
        app.session_sel = 21;
        app.review_sel = 2;
        app.task_sel = 3;
        let name = format!("busy_{}", v.title().to_lowercase());
        snap(&name, &app);
    }
}

#[test]
fn review_with_a_conflict_message() {
    let mut app = with_view(busy(), View::Review);
    app.review_sel = 3;
    app.message = Some(Message {
        level: Level::Error,
        text: "not merged: brl/s2/20261121-093400 conflicts with main in src/cart/total.rs, \
               src/cart/mod.rs; it stays in the queue marked conflict: rebase it on main or \
               reject it (`brl reject brl/s2/20261121-093400`)"
            .into(),
    });
    snap("review_conflict_message", &app);
    let mut short = with_view(busy(), View::Review);
    short.message = Some(Message {
        level: Level::Ok,
        text: "approved brl/s1/20261121-093000: merged into main as 3f2a1c9".into(),
    });
    insta::assert_snapshot!("review_ok_message_80x24", screen(&mut short, 80, 24));
}

#[test]
fn diff_reader_with_files() {
    snap("diff_reader", &diff_reader(now()));
}

#[test]
fn long_transcript_scrolled() {
    for (w, h) in SIZES {
        let mut app = long_transcript(now());
        update(&mut app, Msg::Resize(w, h));
        // Rewrapped to the width: back to the middle.
        if let Some(r) = app.reader.as_mut() {
            r.scroll = r.lines.len() / 2;
        }
        insta::assert_snapshot!(format!("long_transcript_{w}x{h}"), screen(&mut app, w, h));
    }
}

#[test]
#[ignore = "timing, run by hand: cargo test --release --lib -- --ignored render_time"]
fn render_time() {
    let app = busy_home(now(), 30, 500, 10_000);
    for v in View::ALL {
        let mut app = with_view(app.clone(), v);
        let start = std::time::Instant::now();
        for _ in 0..100 {
            draw(&mut app, 200, 60);
        }
        eprintln!("{v:?}: {:?} per frame", start.elapsed() / 100);
    }
}

#[test]
fn help_overlay() {
    let mut app = busy();
    act(&mut app, Action::Help);
    assert_eq!(app.overlay, Some(Overlay::Help));
    snap("help", &app);
}

#[test]
fn approve_confirmation() {
    let mut app = with_view(busy(), View::Review);
    act(&mut app, Action::Approve);
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    snap("confirm_approve", &app);
}

#[test]
fn new_task_form() {
    let mut app = with_view(busy(), View::Tasks);
    act(&mut app, Action::NewTask);
    type_text(&mut app, "Fix the flaky checkout test");
    snap("new_task_form", &app);
}

#[test]
fn log_paused_with_a_search() {
    let mut app = with_view(busy(), View::Log);
    act(&mut app, Action::Search);
    type_text(&mut app, "discarded");
    update(&mut app, Msg::Key(Key::plain(KeyCode::Enter)));
    act(&mut app, Action::SearchNext);
    act(&mut app, Action::SearchNext);
    assert!(app.log.paused_at.is_some(), "a search match pauses the log");
    snap("log_paused_search", &app);
}

#[test]
fn no_color_has_no_colour_at_all() {
    let mut app = busy();
    app.no_color = true;
    snap("no_color_sessions", &app);
    let mut screens = vec![];
    for v in View::ALL {
        screens.push(with_view(app.clone(), v));
    }
    let mut help = app.clone();
    act(&mut help, Action::Help);
    screens.push(help);
    screens.push(diff_reader(now()));
    for mut s in screens {
        s.no_color = true;
        s.message = Some(Message {
            level: Level::Error,
            text: "failed".into(),
        });
        let buf = draw(&mut s, 120, 40);
        for cell in buf.content() {
            assert_eq!(
                (cell.fg, cell.bg),
                (Color::Reset, Color::Reset),
                "{:?} at {:?}",
                cell.symbol(),
                s.view
            );
        }
    }
}

#[test]
fn colours_are_the_basic_sixteen() {
    let mut screens: Vec<App> = View::ALL.iter().map(|&v| with_view(busy(), v)).collect();
    screens.push(diff_reader(now()));
    screens.push(empty_home(now()));
    let mut seen_green = false;
    for mut s in screens {
        let buf = draw(&mut s, 160, 48);
        for cell in buf.content() {
            for c in [cell.fg, cell.bg] {
                assert!(
                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                    "{c:?} in {:?}",
                    s.view
                );
                seen_green |= c == Color::Green;
            }
        }
    }
    assert!(seen_green);
}

#[test]
fn the_log_and_readers_show_exactly_their_rows() {
    for (w, h) in [(80, 24), (200, 60), (80, 6)] {
        let mut app = with_view(busy(), View::Log);
        let buf = draw(&mut app, w, h);
        let rows = app.log_rows();
        let entry_rows = (0..h)
            .filter(|&y| {
                let line: String = (0..9).map(|x| buf[(x, y)].symbol().to_string()).collect();
                line.len() == 9 && line.as_bytes()[2] == b':' && line.as_bytes()[5] == b':'
            })
            .count();
        assert_eq!(entry_rows, rows, "{w}×{h}");
        // The newest entry is on the row above the status line.
        let last = app.data.log.entries.back().expect("entries");
        let time = last.ts.format("%H:%M:%S").to_string();
        let bottom: String = (0..8)
            .map(|x| buf[(x, h - 2)].symbol().to_string())
            .collect();
        assert_eq!(bottom, time);
    }
    let mut app = long_transcript(now());
    let buf = draw(&mut app, 80, 24);
    let r = app.reader.as_ref().expect("a reader");
    let first = crate::tui::reader::top(r, app.reader_rows());
    let shown: String = (1..79).map(|x| buf[(x, 4)].symbol().to_string()).collect();
    assert_eq!(shown.trim_end(), r.lines[first]);
    let last: String = (1..79).map(|x| buf[(x, 22)].symbol().to_string()).collect();
    assert_eq!(last.trim_end(), r.lines[first + app.reader_rows() - 1]);
}

#[test]
fn the_selection_and_search_matches_are_marked() {
    use ratatui::style::Modifier;
    for no_color in [false, true] {
        let mut app = busy();
        app.no_color = no_color;
        app.session_sel = 2;
        let buf = draw(&mut app, 80, 24);
        // Row 4 is the first session: the third is selected, across the whole row.
        let reversed = |y: u16| (0..80).all(|x| buf[(x, y)].modifier.contains(Modifier::REVERSED));
        assert!(
            !reversed(5) && reversed(6) && !reversed(7),
            "no_color {no_color}"
        );

        let mut log = with_view(app.clone(), View::Log);
        act(&mut log, Action::Search);
        type_text(&mut log, "DISCARDED");
        update(&mut log, Msg::Key(Key::plain(KeyCode::Enter)));
        let buf = draw(&mut log, 80, 24);
        let hit = |c: &ratatui::buffer::Cell| {
            if no_color {
                c.modifier.contains(Modifier::UNDERLINED)
            } else {
                c.bg == Color::Yellow
            }
        };
        let marked: String = buf
            .content()
            .iter()
            .filter(|c| hit(c))
            .map(|c| c.symbol())
            .collect();
        assert!(marked.starts_with("discarded"), "{marked}");
    }
}

/// Every view, reader and dialog of the busy home, at many sizes.
fn every_screen() -> Vec<App> {
    let mut out: Vec<App> = View::ALL.iter().map(|&v| with_view(busy(), v)).collect();
    let mut a = with_view(busy(), View::Review);
    act(&mut a, Action::Approve);
    out.push(a.clone());
    act(&mut a, Action::Cancel);
    act(&mut a, Action::Reject);
    type_text(&mut a, "too big to review; split it");
    out.push(a.clone());
    update(&mut a, Msg::Key(Key::plain(KeyCode::Enter)));
    out.push(a);
    let mut t = with_view(busy(), View::Tasks);
    act(&mut t, Action::DropTask);
    out.push(t.clone());
    act(&mut t, Action::Cancel);
    act(&mut t, Action::NewTask);
    update(&mut t, Msg::Key(Key::plain(KeyCode::Enter)));
    out.push(t);
    let mut h = busy();
    act(&mut h, Action::Help);
    out.push(h);
    let mut l = with_view(busy(), View::Log);
    act(&mut l, Action::Search);
    out.push(l);
    out.push(diff_reader(now()));
    out.push(long_transcript(now()));
    let mut o = busy();
    act(&mut o, Action::Open);
    out.push(o.clone());
    let req = o.next_request;
    update(
        &mut o,
        Msg::Doc(
            req,
            Ok(Document {
                title: "s1".into(),
                lines: (0..500)
                    .map(|i| format!("output line {i}\twith a tab"))
                    .collect(),
                files: vec![],
                note: Some("the first 2000 lines are not shown".into()),
            }),
        ),
    );
    out.push(o.clone());
    if let Some(r) = o.reader.as_mut() {
        r.doc = Some(Err("cannot read logs/sessions/s1/pane.log: gone".into()));
        r.kind = ReaderKind::Output {
            session: "s1".into(),
        };
    }
    out.push(o);
    let mut busy_msg = busy();
    busy_msg
        .busy
        .push("approving brl/s1/20261121-093000".into());
    out.push(busy_msg);
    for v in View::ALL {
        let mut e = with_view(empty_home(now()), v);
        e.data.queue = Err("cannot read logs/review-queue.json: version 9 is newer".into());
        e.data.tasks = Err("cannot read logs/tasks.json".into());
        e.data.meetings = Err("cannot list logs/meetings".into());
        out.push(e);
    }
    out
}

#[test]
fn every_screen_renders_at_any_size() {
    for app in every_screen() {
        for (w, h) in [
            (80, 24),
            (200, 60),
            (20, 5),
            (1, 1),
            (0, 0),
            (19, 4),
            (16, 5),
            (40, 7),
            (300, 10),
            (8, 100),
        ] {
            let mut app = app.clone();
            draw(&mut app, w, h);
        }
    }
}

#[test]
fn a_snapshot_of_the_output_reader() {
    let mut o = busy();
    act(&mut o, Action::Open);
    insta::assert_snapshot!("output_loading_80x24", screen(&mut o, 80, 24));
}

#[test]
fn a_blocked_session_shows_its_reason() {
    let mut app = with_view(busy(), View::Sessions);
    app.data.sessions[0].state = crate::tui::data::SessionState::Blocked(
        "cannot make the worktree worktrees/s1 ready: permission denied".into(),
    );
    let text = screen(&mut app, 160, 48);
    let row = text
        .lines()
        .find(|l| {
            l.trim_start_matches('"')
                .starts_with(&format!("{} ", app.data.sessions[0].name))
        })
        .expect("the session's row");
    assert!(
        row.contains("blocked") && row.contains("permission denied"),
        "{row}"
    );
}

#[test]
fn a_session_blocked_by_a_check_is_named_in_the_header() {
    for (w, h) in [(80, 24), (200, 60)] {
        let mut app = with_view(busy(), View::Sessions);
        app.data.sessions[1].state = crate::tui::data::SessionState::Blocked(
            "typecheck: `mypy .`: command not found (exit code 127: `sh: 1: mypy: not found`) — no change can be judged until it runs".into(),
        );
        let text = screen(&mut app, w, h);
        let header = text.lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(header.contains("1 blocked"), "{header}");
        if w >= 200 {
            assert!(
                header.contains("s2 blocked: typecheck: `mypy .`: command not found"),
                "{header}"
            );
        }
        assert!(
            text.contains("`mypy .`: command not found"),
            "the Sessions row: {text}"
        );
        insta::assert_snapshot!(format!("blocked_by_check_{w}x{h}"), text);
    }
}

/// The sizes the why-nothing-happens and preview screens are kept at: a small SSH terminal and a
/// big one.
const WHY_SIZES: [(u16, u16); 2] = [(80, 24), (200, 60)];

fn snap_why(name: &str, app: &App) -> Vec<String> {
    WHY_SIZES
        .iter()
        .map(|&(w, h)| {
            let mut app = app.clone();
            let s = screen(&mut app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), s);
            s
        })
        .collect()
}

#[test]
fn why_nothing_happens_is_on_screen() {
    use crate::tui::fixtures::{Held, held_home};
    for (held, name, long, short) in [
        (
            Held::Budget,
            "held_budget",
            "budget reached (daily_usd: $5.03 of $5.00 today)",
            "budget reached (daily_usd)",
        ),
        (
            Held::Ram,
            "held_ram",
            "memory 90.6% used (29.0 of 32.0 GiB, cgroup) is above the gate 85%",
            "RAM-gated 91%>85%",
        ),
        (
            Held::Backlog,
            "held_backlog",
            "paused: 5 branches wait for review",
            "paused: 5",
        ),
        (
            Held::RateLimited,
            "held_rate_limited",
            "agent claude rate-limited (usage limit) until",
            "claude limited until",
        ),
        (
            Held::Blocked,
            "held_blocked",
            "s3: setup fails: `npm ci` exited with 1 — npm ERR!",
            "s3: setup fails",
        ),
    ] {
        let app = held_home(now(), held);
        assert!(!app.data.why.is_empty(), "{name}: a reason");
        let screens = snap_why(name, &app);
        let header = |s: &str| s.lines().take(2).collect::<Vec<_>>().join("\n");
        assert!(header(&screens[1]).contains(long), "{name}: {}", screens[1]);
        assert!(
            header(&screens[0]).contains(short),
            "{name}: {}",
            screens[0]
        );
        for s in &screens {
            assert!(
                s.lines().nth(1).is_some_and(|l| l.starts_with("\"⏸ ")),
                "{name}: the reason leads the second line: {s}"
            );
        }
    }
}

#[test]
fn the_blocked_reason_is_shown_in_full_below_the_table() {
    use crate::tui::fixtures::{Held, held_home};
    let mut app = held_home(now(), Held::Blocked);
    app.session_sel = 2;
    let s = screen(&mut app, 80, 24);
    let flat: String = s.lines().skip(4).collect::<Vec<_>>().join(" ");
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("from react-helmet@6.1.0; fix package.json on main"),
        "the whole reason, wrapped: {s}"
    );
}

#[test]
fn the_live_preview_shows_the_selected_sessions_output_in_colour() {
    let app = crate::tui::fixtures::preview_home(now());
    let screens = snap_why("session_preview", &app);
    for s in &screens {
        assert!(s.contains("── output of s2"), "{s}");
        assert!(s.contains("running 12 tests 12/12"), "{s}");
        assert!(
            !s.contains("3/12"),
            "a line redrawn with \\r shows its last state: {s}"
        );
        assert!(s.contains("● Thinking…"), "{s}");
        assert!(
            s.contains("2 flaky tests") || s.contains("flaky tests (2)"),
            "{s}"
        );
    }
    let mut app = app.clone();
    let buf = draw(&mut app, 200, 60);
    // The `+` line of the diff is green, the `-` line red, as the agent printed them.
    let colour_of = |needle: &str| {
        (0..buf.area.height).find_map(|y| {
            let line: String = (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            let x = line.find(needle)?;
            let x = line[..x].chars().count() as u16;
            Some(buf[(x, y)].fg)
        })
    };
    assert_eq!(colour_of("+        let sum"), Some(Color::Indexed(2)));
    assert_eq!(colour_of("-        let sum"), Some(Color::Indexed(1)));
}

#[test]
fn the_first_frame_says_loading_not_that_nothing_runs() {
    let mut app = empty_home(now());
    app.data.loading = true;
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("loading…"), "{s}");
    assert!(!s.contains("NOT RUNNING"), "{s}");
    update(
        &mut app,
        Msg::Part(crate::tui::update::Part::Room(Default::default())),
    );
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("NOT RUNNING"), "once read, the truth: {s}");
}

#[test]
fn no_change_is_not_counted_as_discarded() {
    let mut app = busy();
    let s = screen(&mut app, 200, 60);
    let header: String = s.lines().take(2).collect::<Vec<_>>().join("\n");
    assert!(header.contains("discarded 5 · no change 4"), "{header}");
}

#[test]
fn a_paused_session_says_so() {
    for (w, h) in [(80, 24), (200, 60)] {
        let mut app = with_view(busy(), View::Sessions);
        app.data.sessions[1].state = crate::tui::data::SessionState::Paused("dashboard".into());
        let text = screen(&mut app, w, h);
        assert!(text.contains("paused"), "{text}");
        insta::assert_snapshot!(format!("paused_session_{w}x{h}"), text);
    }
}
