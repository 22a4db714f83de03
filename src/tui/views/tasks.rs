//! The task queue: open tasks first (running, pending), then failed, done and dropped, newest
//! first within each; proposed tasks nobody approved yet are marked.

use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use ratatui::text::Span;

use crate::config::keys::Action;
use crate::store::tasks::{Task, TaskState, Tier};
use crate::tui::app::App;

use super::table::{Body, Cell, Col, cell, draw_table, draw_text, title, window};
use super::theme::Theme;

const COLS: [Col; 5] = [
    Col::new("id", 3, 6, 10),
    Col::new("state", 5, 8, 9),
    Col::new("tier", 8, 14, 7),
    Col::new("title", 12, 200, 8).fill(),
    Col::new("session", 7, 44, 5),
];

pub fn draw(app: &App, buf: &mut Buffer, body: Body, t: Theme) {
    let rows = usize::from(body.list.height);
    if let Err(msg) = &app.data.tasks {
        title(buf, body, "task queue", t);
        draw_text(buf, body.list, msg, t.error());
        return;
    }
    let tasks = app.listed_tasks();
    if tasks.is_empty() {
        title(buf, body, "task queue", t);
        let text = format!(
            "No tasks. `{}` adds one; sessions take ready tasks before working on their own.",
            super::keys(app, Action::NewTask)
        );
        draw_text(buf, body.list, &text, t.dim());
        return;
    }
    let sel = app.task_sel.min(tasks.len() - 1);
    let shown = window(sel, tasks.len(), rows);
    let wide = body.list.width >= 120;
    let start = shown.start;
    let cells = tasks[shown]
        .iter()
        .map(|task| cells(task, wide, t))
        .collect();
    draw_table(buf, body, t, &COLS, cells, Some(sel - start));
}

fn cells<'a>(task: &'a Task, wide: bool, t: Theme) -> Vec<Cell<'a>> {
    let state_style = match task.state {
        TaskState::Running => t.ok(),
        TaskState::Pending => t.plain(),
        TaskState::Failed => t.error(),
        TaskState::Done | TaskState::Dropped => t.dim(),
    };
    let tier = if task.tier == Tier::Proposed && !task.approved && task.state == TaskState::Pending
    {
        cell("needs approval", t.warn().add_modifier(Modifier::BOLD))
    } else {
        cell(task.tier.as_str(), t.plain())
    };
    let mut title = vec![Span::raw(task.title.as_str())];
    if wide && let Some(r) = &task.last_reason {
        title.push(Span::styled(format!(" — {r}"), t.dim()));
    }
    let mut at = Vec::new();
    if let Some(s) = &task.session {
        at.push(Span::raw(s.as_str()));
    }
    // The branch when wide (narrow, the title matters more; the review queue names it).
    if let Some(b) = task.branch.as_ref().filter(|_| wide) {
        if !at.is_empty() {
            at.push(Span::styled(" · ", t.dim()));
        }
        at.push(Span::raw(b.as_str()));
    }
    if at.is_empty() {
        at.push(Span::styled("-", t.dim()));
    }
    vec![
        cell(format!("#{}", task.id), t.bold()),
        cell(task.state.as_str(), state_style),
        tier,
        title,
        at,
    ]
}
