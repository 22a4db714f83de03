//! The header, two lines: what the sessions are doing and what waits for a person (reviews,
//! ready tasks); then who schedules (the control room, or that nobody does), memory, type-check
//! slots and today's figures. Parts shorten, then disappear, least important first, to fit.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::tui::app::App;
use crate::tui::data::SessionState;

use super::table::{fit_spans, put, row};
use super::theme::Theme;

/// A part of a header line: its full form, a shorter one (empty: it goes when space is short),
/// and how long it stays (higher stays longer).
struct Part {
    prio: u8,
    long: Vec<Span<'static>>,
    short: Option<Vec<Span<'static>>>,
}

fn part(prio: u8, long: Vec<Span<'static>>, short: Option<Vec<Span<'static>>>) -> Part {
    Part { prio, long, short }
}

pub fn draw(app: &App, buf: &mut Buffer, area: Rect, t: Theme) {
    let w = usize::from(area.width);
    put(buf, row(area, 0), &fit_line(work(app, t), w, t));
    put(buf, row(area, 1), &fit_line(machine(app, t), w, t));
}

/// Sessions by state, reviews waiting, ready tasks.
fn work(app: &App, t: Theme) -> Vec<Part> {
    let d = &app.data;
    // cycle, waiting (+granted, pausing), stale, dead, error, blocked, stopped, unreachable
    let mut n = [0usize; 8];
    for s in &d.sessions {
        let i = match s.state {
            SessionState::Cycle => 0,
            SessionState::Granted
            | SessionState::Waiting
            | SessionState::Pausing
            | SessionState::Paused(_) => 1,
            SessionState::Stale => 2,
            SessionState::Dead => 3,
            SessionState::Error(_) => 4,
            SessionState::Blocked(_) => 5,
            SessionState::Stopped => 6,
            SessionState::Unreachable(_) => 7,
        };
        n[i] += 1;
    }
    let styles = [
        t.ok(),
        t.plain(),
        t.warn(),
        t.error(),
        t.error(),
        t.alarm(),
        t.dim(),
        t.error(),
    ];
    let names = [
        ("cycle", "cycle"),
        ("waiting", "wait"),
        ("stale", "stale"),
        ("dead", "dead"),
        ("error", "err"),
        ("blocked", "blocked"),
        ("stopped", "stop"),
        ("unreachable", "unreach"),
    ];
    let counts = |short: bool| {
        let mut spans = Vec::new();
        for i in 0..n.len() {
            if n[i] == 0 && i > 0 {
                continue;
            }
            if !spans.is_empty() {
                spans.push(Span::styled(if short { " " } else { " · " }, t.dim()));
            }
            let name = if short { names[i].1 } else { names[i].0 };
            let style = if n[i] > 0 { styles[i] } else { t.plain() };
            spans.push(Span::styled(format!("{} {name}", n[i]), style));
        }
        spans
    };
    let sessions = if d.loading {
        part(8, vec![Span::styled("loading…", t.dim())], None)
    } else if d.sessions.is_empty() {
        part(
            8,
            vec![Span::styled("no sessions configured", t.warn())],
            None,
        )
    } else {
        let total = d.sessions.len();
        let mut long = vec![Span::raw(format!(
            "{total} session{}: ",
            if total == 1 { "" } else { "s" }
        ))];
        long.extend(counts(false));
        part(8, long, Some(counts(true)))
    };
    let reviews = match &d.queue {
        Ok(_) => {
            let n = app.open_reviews().len();
            let style = if n > 0 {
                t.warn().add_modifier(Modifier::BOLD)
            } else {
                t.plain()
            };
            part(7, vec![Span::styled(format!("{n} to review"), style)], None)
        }
        Err(_) => part(
            7,
            vec![Span::styled("review queue unreadable", t.error())],
            Some(vec![Span::styled("queue ?", t.error())]),
        ),
    };
    let ready = match &d.tasks {
        Ok(tasks) => {
            let n = tasks.iter().filter(|t| t.ready()).count();
            let style = if n > 0 { t.ok() } else { t.plain() };
            part(
                6,
                vec![Span::styled(format!("{n} tasks ready"), style)],
                Some(vec![Span::styled(format!("{n} ready"), style)]),
            )
        }
        Err(_) => part(
            6,
            vec![Span::styled("tasks unreadable", t.error())],
            Some(vec![Span::styled("tasks ?", t.error())]),
        ),
    };
    // Why a blocked session does nothing, in its own words: the first one, cut to fit (unless
    // the second line's reason already names it).
    let said = d.why.first().is_some_and(|w| w.key == "blocked");
    let blocked = d
        .sessions
        .iter()
        .filter(|_| !said)
        .find_map(|s| match &s.state {
            SessionState::Blocked(why) => Some(part(
                7,
                vec![Span::styled(
                    format!("{} blocked: {}", s.name, first_words(why, 55)),
                    t.alarm(),
                )],
                Some(vec![Span::styled(
                    format!("{}: {}", s.name, first_words(why, 28)),
                    t.alarm(),
                )]),
            )),
            _ => None,
        });
    let mut parts = vec![
        part(10, vec![Span::styled("brl", t.title())], None),
        part(
            2,
            vec![Span::styled("this dashboard: viewer", t.dim())],
            Some(vec![Span::styled("viewer", t.dim())]),
        ),
        sessions,
        reviews,
        ready,
    ];
    parts.extend(blocked);
    parts.extend(
        super::header_jobs::parts(app, t)
            .into_iter()
            .map(|(p, l, s)| part(p, l, s)),
    );
    parts
}

/// The first `max` characters of `text`, with `…` when cut.
fn first_words(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max - 1).collect();
    s.push('…');
    s
}

/// Who schedules, memory, type-check slots, today's figures, the home.
fn machine(app: &App, t: Theme) -> Vec<Part> {
    let d = &app.data;
    let said = |key: &str| d.why.iter().any(|w| w.key == key);
    // The reason part says RAM-gated already, with its figures.
    let gated = d.memory.is_some_and(|m| m.gated()) && !said("ram");
    let room = match (d.room.pid, gated) {
        _ if d.loading => part(10, vec![Span::styled("loading…", t.dim())], None),
        (Some(pid), g) => {
            let by = d
                .room
                .supervisor
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            if g {
                part(
                    10,
                    vec![Span::styled(
                        format!("RAM-gated: no new cycles, pid {pid}{by}"),
                        t.warn().add_modifier(Modifier::BOLD),
                    )],
                    Some(vec![Span::styled(
                        "RAM-gated",
                        t.warn().add_modifier(Modifier::BOLD),
                    )]),
                )
            } else {
                part(
                    10,
                    vec![Span::styled(format!("scheduling: pid {pid}{by}"), t.ok())],
                    Some(vec![Span::styled(format!("sched: pid {pid}{by}"), t.ok())]),
                )
            }
        }
        (None, _) => part(
            10,
            vec![Span::styled(
                "control room: NOT RUNNING — no cycles granted (brl up)",
                t.alarm(),
            )],
            None,
        ),
    };
    let mem = match d.memory {
        None => vec![Span::styled("mem ?", t.dim())],
        Some(m) => {
            // Two columns whatever the value below 100: a 9% ↔ 10% flicker rewrites one or two
            // cells, not the rest of the header line shifted by one.
            let text = format!("mem {:>2.0}%/{}%", m.used_percent, m.gate_percent);
            if m.gated() {
                vec![Span::styled(
                    format!("{text} GATED"),
                    t.warn().add_modifier(Modifier::BOLD),
                )]
            } else {
                vec![Span::raw(text)]
            }
        }
    };
    // Why nothing happens, from the scheduler's own decision: first, in full when it fits; who
    // schedules then yields first when space is short.
    let mut parts = Vec::new();
    let why_first = !d.loading
        && d.room.pid.is_some()
        && !d.why.is_empty()
        && d.why[0].key != "no_control_room";
    let mut room = room;
    if why_first {
        parts.push(why_part(d, t));
        room.prio = 9;
    }
    parts.push(room);
    // An agent's limit stops every cycle: as important as who schedules.
    for line in d
        .room
        .agent_limits
        .iter()
        .filter(|_| !said("agent_limited"))
    {
        let short = line.replacen("agent ", "", 1).replacen(" limited", "", 1);
        parts.push(part(
            9,
            vec![Span::styled(
                line.clone(),
                t.warn().add_modifier(Modifier::BOLD),
            )],
            Some(vec![Span::styled(
                short,
                t.warn().add_modifier(Modifier::BOLD),
            )]),
        ));
    }
    // Back-pressure: the queue is full, self-planned cycles wait for decisions.
    if let Ok(q) = &d.queue {
        let open = q.iter().filter(|r| r.entry.status.is_open()).count();
        if crate::scheduler::backlog_full(open, d.room.max_pending) && !said("review_backlog") {
            parts.push(part(
                9,
                vec![Span::styled(
                    crate::scheduler::backlog_text(open),
                    t.warn().add_modifier(Modifier::BOLD),
                )],
                Some(vec![Span::styled(
                    format!("paused: {open} to review"),
                    t.warn().add_modifier(Modifier::BOLD),
                )]),
            ));
        }
    }
    if let Some(name) = &d.room.ungated_agent {
        parts.push(part(
            7,
            vec![Span::styled(
                format!("{name}: {}", crate::status::NO_GATE),
                t.warn(),
            )],
            Some(vec![Span::styled(format!("{name}: no gate"), t.warn())]),
        ));
    }
    parts.push(part(8, mem, None));
    if !d.hosts.is_empty() {
        parts.push(part(
            7,
            super::header_hosts::spans(d, t, false),
            Some(super::header_hosts::spans(d, t, true)),
        ));
    }
    let (used, max) = d.typecheck;
    if max > 0 {
        parts.push(part(
            5,
            vec![Span::raw(format!("typecheck {used}/{max}"))],
            Some(vec![Span::raw(format!("tc {used}/{max}"))]),
        ));
    }
    let td = &d.today;
    let cost = format!("${:.2}", td.cost_usd);
    parts.push(part(
        6,
        vec![
            Span::styled("today: ", t.dim()),
            Span::styled(format!("kept {}", td.kept), t.ok()),
            Span::styled(" · ", t.dim()),
            Span::styled(format!("discarded {}", td.discarded), t.warn()),
            Span::styled(" · ", t.dim()),
            Span::styled(format!("no change {}", td.no_change), t.dim()),
            Span::styled(" · ", t.dim()),
            Span::raw(cost.clone()),
        ],
        Some(vec![
            Span::styled(format!("kept {}", td.kept), t.ok()),
            Span::styled(format!(" disc {}", td.discarded), t.warn()),
            Span::styled(format!(" same {}", td.no_change), t.dim()),
            Span::raw(format!(" {cost}")),
        ]),
    ));
    if !d.flaky.is_empty() {
        let n = d.flaky.len();
        parts.push(part(
            4,
            vec![Span::styled(
                format!("{n} flaky test{}", if n == 1 { "" } else { "s" }),
                t.warn(),
            )],
            Some(vec![Span::styled(format!("{n} flaky"), t.warn())]),
        ));
    }
    if !d.home.is_empty() {
        parts.push(part(
            1,
            vec![Span::styled(format!("home {}", d.home), t.dim())],
            Some(vec![]),
        ));
    }
    parts
}

/// The first reason nothing happens, with how many more there are (the Sessions view lists
/// them all).
fn why_part(d: &crate::tui::data::Data, t: Theme) -> Part {
    let style = match d.why[0].key {
        // Ordinary waiting: a cap on cycles at once, no task without self-planning.
        "max_running" | "no_task" => t.warn(),
        _ => t.alarm(),
    };
    let more = match d.why.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    let w = &d.why[0];
    part(
        10,
        vec![Span::styled(format!("⏸ {}{more}", w.text), style)],
        Some(vec![Span::styled(format!("⏸ {}{more}", w.short), style)]),
    )
}

/// The parts joined by " │ ": shortened, least important first, then left out, until they fit.
fn fit_line(mut parts: Vec<Part>, w: usize, t: Theme) -> Line<'static> {
    let width = |parts: &[Part]| -> usize {
        let shown: Vec<usize> = parts
            .iter()
            .map(|p| p.long.iter().map(Span::width).sum())
            .filter(|n| *n > 0)
            .collect();
        shown.iter().sum::<usize>() + 3 * shown.len().saturating_sub(1)
    };
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| parts[i].prio);
    let mut shortened = Vec::new();
    for &i in &order {
        if width(&parts) <= w {
            break;
        }
        if let Some(short) = parts[i].short.take() {
            shortened.push((i, std::mem::replace(&mut parts[i].long, short)));
        }
    }
    let mut dropped = Vec::new();
    for &i in &order {
        if width(&parts) <= w || parts.iter().filter(|p| !p.long.is_empty()).count() <= 1 {
            break;
        }
        if parts[i].prio < 10 {
            dropped.push((i, std::mem::take(&mut parts[i].long)));
        }
    }
    // A part dropped early may fit again once a longer one went, and a shortened one may fit
    // in full: most important first.
    for (i, long) in dropped.into_iter().rev() {
        parts[i].long = long;
        if width(&parts) > w {
            parts[i].long.clear();
        }
    }
    for (i, long) in shortened.into_iter().rev() {
        if parts[i].long.is_empty() {
            continue;
        }
        let short = std::mem::replace(&mut parts[i].long, long);
        if width(&parts) > w {
            parts[i].long = short;
        }
    }
    let mut spans = Vec::new();
    for p in parts.into_iter().filter(|p| !p.long.is_empty()) {
        if !spans.is_empty() {
            spans.push(Span::styled(" │ ", t.dim()));
        }
        spans.extend(p.long);
    }
    Line::from(fit_spans(spans, w, false))
}

#[cfg(test)]
#[path = "header_tests.rs"]
mod tests;
