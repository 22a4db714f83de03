//! Printing to a terminal that may be gone. A worker's pane can be closed (or its tmux server
//! killed) at any instant; `println!` then panics on EIO, and a panic in the worker left it hanging
//! with its lock held. These write what they can and ignore a dead terminal (the pane log and the
//! experiment log are where things are recorded).

use std::io::Write;

/// Write one line to stdout; a failed write is ignored.
pub fn out(args: std::fmt::Arguments) {
    let mut s = std::io::stdout().lock();
    let _ = s.write_fmt(args);
    let _ = s.write_all(b"\n");
    let _ = s.flush();
}

/// Write one line to stderr; a failed write is ignored.
pub fn err(args: std::fmt::Arguments) {
    let mut s = std::io::stderr().lock();
    let _ = s.write_fmt(args);
    let _ = s.write_all(b"\n");
}

/// `println!` that never panics.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => { $crate::term::out(format_args!($($t)*)) };
}

/// `eprintln!` that never panics.
#[macro_export]
macro_rules! say_err {
    ($($t:tt)*) => { $crate::term::err(format_args!($($t)*)) };
}
