//! Mouse clicks: a tab switches the view, a row selects it (a click on the selected row opens
//! it, as `enter` does). The wheel arrives as up/down (`event.rs`). Pure, like `update`.

use crate::config::keys::Action;

use super::app::{App, Overlay, View};
use super::update::Effect;

/// What a click at column `x`, row `y` does.
pub fn click(app: &mut App, x: u16, y: u16) -> Vec<Effect> {
    match app.overlay {
        Some(Overlay::Help) => {
            app.overlay = None;
            return vec![];
        }
        // A dialog or form answers to keys only: a stray click must not confirm anything.
        Some(_) => return vec![],
        None => {}
    }
    if y == 2 {
        let Some(v) = super::views::tab_at(app, x) else {
            return vec![];
        };
        let a = match v {
            View::Sessions => Action::ViewSessions,
            View::Log => Action::ViewLog,
            View::Review => Action::ViewReview,
            View::Tasks => Action::ViewTasks,
            View::Meetings => Action::ViewMeetings,
        };
        return super::update::update(app, super::update::Msg::Action(a));
    }
    let Some(i) = super::views::list_row_at(app, y) else {
        return vec![];
    };
    let sel = match app.view {
        View::Sessions => &mut app.session_sel,
        View::Review => &mut app.review_sel,
        View::Tasks => &mut app.task_sel,
        View::Meetings => &mut app.meeting_sel,
        View::Log => return vec![],
    };
    if *sel == i {
        return super::update::update(app, super::update::Msg::Action(Action::Open));
    }
    *sel = i;
    vec![]
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::tui::app::Confirm;
    use crate::tui::fixtures::busy_home;
    use crate::tui::update::{Msg, update};

    fn app() -> App {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
            .single()
            .expect("a valid time");
        let mut app = busy_home(now, 4, 3, 10);
        update(&mut app, Msg::Resize(80, 24));
        app
    }

    #[test]
    fn a_click_on_a_tab_switches_the_view() {
        let mut app = app();
        // " 1 Sessions (4)   2 Log   3 Review (3) …": column 26 is in "3 Review".
        update(&mut app, Msg::Click(26, 2));
        assert_eq!(app.view, View::Review);
        update(&mut app, Msg::Click(2, 2));
        assert_eq!(app.view, View::Sessions);
    }

    #[test]
    fn a_click_selects_a_row_and_a_second_click_opens_it() {
        let mut app = app();
        assert!(update(&mut app, Msg::Click(3, 6)).is_empty());
        assert_eq!(
            app.session_sel, 2,
            "row 6 is the third session (rows start at 4)"
        );
        let fx = update(&mut app, Msg::Click(3, 6));
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::WatchOutput { session: Some(s), .. } if s == "s3")),
            "{fx:?}"
        );
        // Below the table (the detail area) selects nothing.
        app.reader = None;
        update(&mut app, Msg::Click(3, 15));
        assert_eq!(app.session_sel, 2);
    }

    #[test]
    fn a_click_never_answers_a_dialog() {
        let mut app = app();
        app.overlay = Some(Overlay::Confirm(Confirm::Approve {
            branch: "brl/s1/x".into(),
        }));
        assert!(update(&mut app, Msg::Click(40, 12)).is_empty());
        assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    }

    #[test]
    fn the_mouse_can_be_released_for_text_selection() {
        let mut app = app();
        assert!(app.mouse, "on by default");
        let fx = update(&mut app, Msg::Action(Action::ToggleMouse));
        assert_eq!(fx, vec![Effect::Mouse(false)]);
        assert!(
            app.message
                .as_ref()
                .is_some_and(|m| m.text.contains("mouse released")),
            "{:?}",
            app.message
        );
        assert_eq!(
            update(&mut app, Msg::Action(Action::ToggleMouse)),
            vec![Effect::Mouse(true)]
        );
    }
}
