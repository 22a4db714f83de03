//! The session-control keys (`p`, `P`, `x`, `X`): pure, like the rest of `update` — they set the
//! message or the confirmation and return the effect; the runtime calls
//! [`crate::control::ops`].

use crate::config::keys::Action;
use crate::control::ops::Op;

use super::app::{self, App, Overlay};
use super::data::SessionState;
use super::msg::Effect;

pub(super) fn act(app: &mut App, a: Action) -> Vec<Effect> {
    let selected = app.data.sessions.get(app.session_sel);
    match a {
        Action::PauseSession => match selected {
            Some(s) => {
                let op = match s.state {
                    SessionState::Paused(_) => Op::Resume,
                    _ => Op::Pause,
                };
                let session = s.name.clone();
                app.message = Some(super::update::info(&format!("{} {session}…", op.as_str())));
                vec![Effect::Session {
                    op,
                    session: Some(session),
                }]
            }
            None => vec![],
        },
        Action::PauseFleet => {
            let op = match app.data.fleet_paused {
                Some(_) => Op::Resume,
                None => Op::Pause,
            };
            app.message = Some(super::update::info(&format!("{} the fleet…", op.as_str())));
            vec![Effect::Session { op, session: None }]
        }
        Action::RestartSession | Action::StopCycle => match selected {
            Some(s) => {
                let op = if a == Action::StopCycle {
                    Op::Stop
                } else {
                    Op::Restart
                };
                app.overlay = Some(Overlay::Confirm(app::Confirm::Session {
                    op,
                    session: s.name.clone(),
                }));
                vec![]
            }
            None => vec![],
        },
        _ => vec![],
    }
}
