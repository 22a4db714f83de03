//! What the loader follows besides the home's files: one session's output for the reader, and
//! the previewed session's pane log — watched here for a local session, read over ssh by a
//! poller ([`crate::tui::preview_remote`]) for a `[[hosts]]` host's.

use std::path::{Path, PathBuf};

use super::{Msg, Request, State};
use crate::tui::update::Part;

impl State {
    pub(super) fn follow_output(&mut self, request: u64, session: Option<String>) {
        if let Some((_, _, dir)) = self.output.take()
            && self.preview.as_ref().is_none_or(|p| p.1 != dir)
        {
            self.unwatch(&dir);
        }
        if let Some(s) = session {
            let dir = self.watch_output(&s);
            self.output = Some((request, s, dir));
        }
    }

    /// Follow one session's pane log for the preview: woken by each write to it (the pane's
    /// writer keeps it open), asleep while the pane is quiet.
    pub(super) fn follow_preview(&mut self, session: Option<String>) {
        if let Some((_, dir)) = self.preview.take()
            && self.output.as_ref().is_none_or(|o| o.2 != dir)
        {
            self.unwatch(&dir);
        }
        if let Some((_, stop)) = self.remote_preview.take() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        // A host's session: its pane log is on its host, read over ssh once a second.
        if let Some(s) = &session
            && let Some(h) = self.config.host_of(s)
        {
            let me = self.me.clone();
            let stop = crate::tui::preview_remote::spawn(&self.home, h, s, move |p| {
                me.send(Request::RemotePreview(p)).is_ok()
            });
            self.remote_preview = Some((s.clone(), stop));
            // Until the host answers, the screen says where the preview comes from.
            let waiting = crate::tui::data::Preview {
                session: s.clone(),
                lines: vec![],
                note: Some(format!("(reading the pane log on host {}…)", h.name)),
            };
            self.preview_sent = Some(waiting.clone());
            self.send(Msg::Part(Part::Preview(Some(waiting))));
            return;
        }
        if let Some(s) = session {
            let dir = self.watch_output(&s);
            self.preview = Some((s, dir));
        }
    }

    pub(super) fn watch_output(&self, session: &str) -> PathBuf {
        let dir = self.home.session_logs_dir(session);
        let _ = std::fs::create_dir_all(&dir);
        if let Some(w) = &self.watcher {
            let _ = w.dir_and_writes(&dir);
        }
        dir
    }

    pub(super) fn unwatch(&self, dir: &Path) {
        if let Some(w) = &self.watcher {
            w.unwatch_dir(dir);
        }
    }
}
