//! Dialogs, drawn last over everything: the help (generated from the key table), a yes/no
//! confirmation, and the small forms (new task, rejection reason, search).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::config::keys::Action;
use crate::store::tasks::Tier;
use crate::tui::app::{App, Confirm, Detail, Form, FormKind, Overlay};
use crate::tui::reader::wrap;

use super::table::{fit, fit_spans};
use super::theme::Theme;

mod help;

pub fn draw(app: &App, o: &Overlay, buf: &mut Buffer, area: Rect, t: Theme) {
    match o {
        Overlay::Help => help::draw(app, buf, area, t),
        Overlay::Confirm(c) => confirm(app, c, buf, area, t),
        Overlay::Form(f) => form(f, buf, area, t),
        Overlay::Detail(d) => detail(app, d, buf, area, t),
    }
}

/// A rectangle of (at most) `w`×`h` in the middle of `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A bordered box over `area` holding `lines` (cut to its width), titled.
pub fn boxed(buf: &mut Buffer, area: Rect, title: &str, border: Style, lines: Vec<Line<'_>>) {
    if area.width < 2 || area.height < 2 {
        return;
    }
    Clear.render(area, buf);
    let inner = usize::from(area.width.saturating_sub(4));
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|l| Line::from(fit_spans(l.spans, inner, false)).style(l.style))
        .collect();
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(format!(" {} ", fit(title, inner)), border));
    Paragraph::new(lines)
        .block(block.padding(ratatui::widgets::Padding::horizontal(1)))
        .render(area, buf);
}

/// Text wrapped to `w` as lines in `style`.
fn para(text: &str, w: usize, style: Style) -> Vec<Line<'static>> {
    wrap(text, w.max(10))
        .into_iter()
        .map(|l| Line::styled(l, style))
        .collect()
}

/// The width of a dialog on this screen, and the text width inside it.
fn dialog_width(area: Rect, want: u16) -> (u16, usize) {
    let w = want
        .min(area.width.saturating_sub(4))
        .max(area.width.min(24));
    (w, usize::from(w.saturating_sub(4)))
}

fn confirm(app: &App, c: &Confirm, buf: &mut Buffer, area: Rect, t: Theme) {
    let (w, inner) = dialog_width(area, 72);
    let b = t.bold();
    let (title, mut lines) = match c {
        Confirm::Approve { branch } => {
            let mut l = para(&format!("Approve {branch}?"), inner, b);
            let main = &app.data.main;
            l.extend(para(
                &format!("It is merged into {main}."),
                inner,
                t.plain(),
            ));
            ("Approve", l)
        }
        Confirm::ForceApprove { branch, why } => {
            let mut l = para(
                &format!("{branch} would make {} worse", app.data.main),
                inner,
                b,
            );
            l.extend(para(why, inner, t.error()));
            l.extend(para(
                "Approve it anyway? Confirm again to force the merge (logged as forced).",
                inner,
                t.plain(),
            ));
            ("Force approve", l)
        }
        Confirm::Reject { branch, reason } => {
            let mut l = para(&format!("Reject {branch}?"), inner, b);
            l.extend(para("The branch is deleted.", inner, t.plain()));
            l.extend(match reason {
                Some(r) => para(&format!("Reason: {r}"), inner, t.plain()),
                None => para("No reason given.", inner, t.dim()),
            });
            ("Reject", l)
        }
        Confirm::ApproveMany {
            branches,
            force_why,
        } => {
            let n = branches.len();
            let main = &app.data.main;
            let mut l = match force_why {
                None => para(&format!("Approve {n} branches?"), inner, b),
                Some(_) => para(
                    &format!("Some of the {n} branches would make {main} worse"),
                    inner,
                    b,
                ),
            };
            for br in branches {
                l.push(Line::styled(format!("  {br}"), t.plain()));
            }
            match force_why {
                None => l.extend(para(
                    &format!(
                        "Merged into {main} in this order, each re-checked on the main holding the previous ones; the train stops at the first that conflicts or makes a count worse."
                    ),
                    inner,
                    t.plain(),
                )),
                Some(why) => {
                    for w in why.lines() {
                        l.extend(para(w, inner, t.error()));
                    }
                    l.extend(para(
                        "Approve them anyway? Confirm again to force the merges (logged as forced).",
                        inner,
                        t.plain(),
                    ));
                }
            }
            ("Approve marked", l)
        }
        Confirm::RejectMany { branches, reason } => {
            let mut l = para(&format!("Reject {} branches?", branches.len()), inner, b);
            for br in branches {
                l.push(Line::styled(format!("  {br}"), t.plain()));
            }
            l.extend(para("The branches are deleted.", inner, t.plain()));
            l.extend(match reason {
                Some(r) => para(&format!("Reason: {r}"), inner, t.plain()),
                None => para("No reason given.", inner, t.dim()),
            });
            ("Reject marked", l)
        }
        Confirm::DropTask { id, title } => {
            let mut l = para(&format!("Drop task #{id}?"), inner, b);
            l.extend(para(title, inner, t.plain()));
            ("Drop task", l)
        }
        Confirm::Session { op, session } => {
            let (q, what, title) = match op {
                crate::control::ops::Op::Stop => (
                    format!("Stop the cycle of {session}?"),
                    "The agent is killed and the branch discarded; the cycle is recorded as interrupted. The worker then waits for its next grant.",
                    "Stop cycle",
                ),
                _ => (
                    format!("Restart the worker of {session}?"),
                    "A cycle in flight is recorded as interrupted; the control room starts a new worker in its pane.",
                    "Restart",
                ),
            };
            let mut l = para(&q, inner, b);
            l.extend(para(what, inner, t.plain()));
            (title, l)
        }
    };
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(super::keys(app, Action::Confirm), t.key()),
        Span::raw(" yes   "),
        Span::styled(super::keys(app, Action::Cancel), t.key()),
        Span::raw(" no"),
    ]));
    let h = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let border = match c {
        Confirm::Approve { .. }
        | Confirm::ApproveMany {
            force_why: None, ..
        } => t.ok(),
        _ => t.warn(),
    };
    boxed(buf, centered(area, w, h), title, border, lines);
}

fn form(f: &Form, buf: &mut Buffer, area: Rect, t: Theme) {
    let (w, inner) = dialog_width(area, 72);
    let title = match &f.kind {
        FormKind::NewTask => "New task".to_string(),
        FormKind::RejectReason { branch } => format!("Reject {branch}"),
        FormKind::RejectManyReason { branches } => format!("Reject {} branches", branches.len()),
        FormKind::Search => "Search".to_string(),
    };
    let mut lines = Vec::new();
    let marker = |focused: bool| {
        if focused {
            Span::styled("› ", t.key())
        } else {
            Span::raw("  ")
        }
    };
    for (i, (label, text)) in f.fields.iter().enumerate() {
        let focused = i == f.focus;
        let label_style = if focused { t.bold() } else { t.dim() };
        lines.push(Line::from(vec![
            marker(focused),
            Span::styled(*label, label_style),
        ]));
        let room = inner.saturating_sub(3);
        let value = if focused {
            // The end of what is typed, where the cursor is.
            let chars: Vec<char> = text.chars().collect();
            let keep = chars.len().min(room.saturating_sub(1));
            let tail: String = chars[chars.len() - keep..].iter().collect();
            vec![
                Span::raw("  "),
                Span::styled(tail, t.plain().add_modifier(Modifier::UNDERLINED)),
                Span::styled("█", t.key()),
            ]
        } else {
            vec![Span::raw("  "), Span::raw(fit(text, room))]
        };
        lines.push(Line::from(value));
    }
    if let Some(tier) = f.tier {
        let focused = f.focus == f.fields.len();
        let choice = |x: Tier| {
            if x == tier {
                Span::styled(format!("[{}]", x.as_str()), t.bold())
            } else {
                Span::styled(x.as_str(), t.dim())
            }
        };
        lines.push(Line::from(vec![
            marker(focused),
            Span::styled("tier: ", if focused { t.bold() } else { t.dim() }),
            choice(Tier::Proposed),
            Span::raw(" "),
            choice(Tier::AutoSafe),
        ]));
        let why = match tier {
            Tier::Proposed => "runs once approved (A in the task list)",
            Tier::AutoSafe => "sessions may run it without approval",
        };
        lines.push(Line::styled(format!("  {why}"), t.dim()));
    }
    if let Some(e) = &f.error {
        lines.extend(para(e, inner, t.error()));
    }
    lines.push(Line::raw(""));
    let keys = if f.tier.is_some() {
        "enter submit · esc cancel · tab next field · space switches the tier"
    } else if f.fields.len() > 1 {
        "enter submit · esc cancel · tab next field"
    } else {
        "enter submit · esc cancel"
    };
    lines.extend(para(keys, inner, t.dim()));
    let h = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    boxed(buf, centered(area, w, h), &title, t.info(), lines);
}

/// A whole entry or task over the view: wrapped to the width, from its scroll position, with
/// where it is ("lines 1–20 of 43") and how to close it.
fn detail(app: &App, d: &Detail, buf: &mut Buffer, area: Rect, t: Theme) {
    let all = crate::tui::detail::lines(&d.text, area.width);
    let rows = crate::tui::detail::rows(area.height);
    let start = d.scroll.min(all.len().saturating_sub(rows));
    let end = (start + rows).min(all.len());
    let mut lines: Vec<Line> = all[start..end]
        .iter()
        .map(|l| Line::styled(l.clone(), t.plain()))
        .collect();
    while lines.len() < rows {
        lines.push(Line::raw(""));
    }
    let place = if all.len() > rows {
        format!("lines {}–{end} of {} · ", start + 1, all.len())
    } else {
        String::new()
    };
    lines.push(Line::from(vec![
        Span::styled(place, t.dim()),
        Span::styled(super::keys(app, Action::Back), t.key()),
        Span::raw(" close  "),
        Span::styled(super::keys(app, Action::Down), t.key()),
        Span::raw(" scroll"),
    ]));
    boxed(buf, area, &d.title, t.info(), lines);
}
