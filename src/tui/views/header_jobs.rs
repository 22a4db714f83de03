//! The header's job part: a running review/standup/doctor with its step ("branch 2 of 5",
//! "round 2 of 3 · s2 speaks") and how long it runs, then for a few minutes how it ended (verdict
//! counts, the transcript to open), then nothing: the part clears itself (the main loop wakes
//! when it expires, as it does for ages).

use chrono::Duration;
use ratatui::style::Modifier;
use ratatui::text::Span;

use crate::tui::app::App;

use super::age_at;
use super::theme::Theme;

/// How long a job's result stays in the header.
pub const RESULT_SHOWN_MINUTES: i64 = 5;

/// (priority, long form, short form) per job to show, as `header::part` takes them.
pub type JobPart = (u8, Vec<Span<'static>>, Option<Vec<Span<'static>>>);

pub fn parts(app: &App, t: Theme) -> Vec<JobPart> {
    let mut out = Vec::new();
    for j in &app.data.jobs {
        let p = &j.progress;
        let shown_until = |at| {
            let until = at + Duration::minutes(RESULT_SHOWN_MINUTES);
            if app.now < until {
                app.note_age_change(until);
                true
            } else {
                false
            }
        };
        match &p.done {
            None if j.alive => {
                let took = age_at(app, p.started);
                let style = t.info().add_modifier(Modifier::BOLD);
                out.push((
                    9,
                    vec![Span::styled(
                        format!("{} running {took}: {}", p.job, p.step),
                        style,
                    )],
                    Some(vec![Span::styled(
                        format!("{}: {}", p.job, short_step(&p.step)),
                        style,
                    )]),
                ));
            }
            None => {
                if shown_until(p.updated) {
                    out.push((
                        9,
                        vec![Span::styled(
                            format!(
                                "{} ended without a result (pid {} gone, at {})",
                                p.job, p.pid, p.step
                            ),
                            t.error(),
                        )],
                        Some(vec![Span::styled(format!("{} died", p.job), t.error())]),
                    ));
                }
            }
            Some(d) => {
                if shown_until(d.at) {
                    let style = if d.ok { t.ok() } else { t.error() };
                    let mut long = format!("{} done: {}", p.job, d.summary);
                    if d.transcript.is_some() {
                        long.push_str(" · transcript in Meetings");
                    }
                    let short = if d.ok {
                        format!("{} done", p.job)
                    } else {
                        format!("{} failed", p.job)
                    };
                    out.push((
                        9,
                        vec![Span::styled(long, style)],
                        Some(vec![Span::styled(short, style)]),
                    ));
                }
            }
        }
    }
    out
}

/// "branch 2 of 5: brl/s1/…" → "branch 2 of 5".
fn short_step(step: &str) -> &str {
    step.split([':', '·']).next().unwrap_or(step).trim_end()
}
