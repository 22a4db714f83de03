//! Editing a small form: typed characters go into the focused field; Enter submits, Esc cancels,
//! Tab/shift-Tab (or up/down) move between fields, and on the tier choice any of space, left or
//! right switches the tier. These keys are fixed (they are how text is typed), not in `[keys]`.

use crate::config::keys::{Key, KeyCode};
use crate::store::tasks::Tier;

use super::app::Form;

/// The longest text a field takes.
const MAX_FIELD_CHARS: usize = 4000;

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Editing,
    Submit,
    Cancel,
}

pub fn edit(form: &mut Form, key: Key) -> Outcome {
    let slots = form.fields.len() + usize::from(form.tier.is_some());
    let on_tier = form.tier.is_some() && form.focus == form.fields.len();
    match key.code {
        KeyCode::Enter => return Outcome::Submit,
        KeyCode::Esc => return Outcome::Cancel,
        KeyCode::Char('c') if key.ctrl => return Outcome::Cancel,
        KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % slots,
        KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + slots - 1) % slots,
        KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') if on_tier => {
            form.tier = Some(match form.tier {
                Some(Tier::Proposed) => Tier::AutoSafe,
                _ => Tier::Proposed,
            });
        }
        KeyCode::Char('u') if key.ctrl && !on_tier => form.fields[form.focus].1.clear(),
        KeyCode::Backspace if !on_tier => {
            form.fields[form.focus].1.pop();
        }
        KeyCode::Char(c) if !key.ctrl && !key.alt && !on_tier => {
            let field = &mut form.fields[form.focus].1;
            if field.chars().count() < MAX_FIELD_CHARS {
                field.push(c);
            }
        }
        _ => {}
    }
    form.error = None;
    Outcome::Editing
}
