//! The terminal: raw mode and the alternate screen, restored on every way out (drop, error,
//! panic), and a backend that writes nothing when a frame changed nothing.

use std::io::{self, Stdout, Write};

use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::crossterm::{cursor, event, execute, terminal};
use ratatui::layout::{Position, Size};

/// Delegates to crossterm, but skips the colour resets and cursor moves ratatui sends with every
/// frame: an unchanged frame (a clock tick that changed no text) writes zero bytes.
pub struct QuietBackend<W: Write> {
    inner: CrosstermBackend<W>,
    cursor_hidden: Option<bool>,
}

impl<W: Write> QuietBackend<W> {
    pub fn new(w: W) -> Self {
        QuietBackend {
            inner: CrosstermBackend::new(w),
            cursor_hidden: None,
        }
    }
}

impl<W: Write> Backend for QuietBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        self.inner.draw(content)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden == Some(true) {
            return Ok(());
        }
        self.cursor_hidden = Some(true);
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden == Some(false) {
            return Ok(());
        }
        self.cursor_hidden = Some(false);
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

pub type Term = Terminal<QuietBackend<Stdout>>;

/// Raw mode + alternate screen; the returned guard restores the terminal when dropped.
pub fn enter() -> io::Result<(Term, Guard)> {
    install_panic_hook();
    terminal::enable_raw_mode()?;
    let guard = Guard;
    execute!(
        io::stdout(),
        terminal::EnterAlternateScreen,
        cursor::Hide,
        event::EnableMouseCapture
    )?;
    let mut term = Terminal::new(QuietBackend::new(io::stdout()))?;
    term.clear()?;
    Ok((term, guard))
}

/// Leave the terminal as it was found (safe to call more than once).
pub fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        event::DisableMouseCapture,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
}

/// Hand the terminal back for a while (to `tmux attach`), then take it again.
pub fn suspend() {
    restore();
}

pub fn resume(term: &mut Term, mouse: bool) -> io::Result<()> {
    terminal::enable_raw_mode()?;
    execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)?;
    set_mouse(mouse)?;
    term.clear()
}

/// Capture the mouse (clicks and the wheel reach the dashboard) or release it (the terminal
/// selects text).
pub fn set_mouse(on: bool) -> io::Result<()> {
    if on {
        execute!(io::stdout(), event::EnableMouseCapture)
    } else {
        execute!(io::stdout(), event::DisableMouseCapture)
    }
}

pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// On a panic the terminal is restored first, so the message is readable.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A job's panic is caught and reported on screen; any other ends the dashboard.
            if std::thread::current().name() != Some(super::jobs::THREAD) {
                restore();
            }
            previous(info);
        }));
    });
}
