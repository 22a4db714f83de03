//! The Bot API offset, `logs/telegram-offset.json`: the `update_id` after the last update whose
//! command is done (effect and log entry). Saved crash-safely (write-temp + fsync + rename);
//! getUpdates with it confirms every earlier update to Telegram, so they are never sent again.

use serde::{Deserialize, Serialize};

use crate::home::Home;
use crate::store::state::{StateError, StateFile};

const VERSION: u32 = 1;

#[derive(Default, Serialize, Deserialize)]
struct OffsetFile {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    offset: Option<i64>,
}

fn file(home: &Home) -> StateFile {
    StateFile {
        path: home.logs_dir().join("telegram-offset.json"),
        what: "Telegram offset file",
        version: VERSION,
        hint: " (the commands Telegram still holds are then read again; those already in the experiment log are skipped)",
    }
}

/// The saved offset; `None` before the first command.
pub fn load(home: &Home) -> Result<Option<i64>, StateError> {
    Ok(file(home).read::<OffsetFile>()?.and_then(|f| f.offset))
}

/// Save `offset` (never moving it back).
pub fn save(home: &Home, offset: i64) -> Result<(), StateError> {
    file(home).update(OffsetFile::default, |f| {
        f.offset = Some(f.offset.map_or(offset, |o| o.max(offset)));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_offsets_only_move_forward() {
        let d = tempfile::tempdir().expect("tempdir");
        let home = Home::new(d.path());
        assert_eq!(load(&home).expect("load"), None);
        save(&home, 11).expect("save");
        save(&home, 7).expect("save");
        assert_eq!(load(&home).expect("load"), Some(11));
    }
}
