use clap::Parser;

use brl::cli::Command;

fn main() {
    let cli = brl::cli::Cli::parse();
    // A command whose output is read by another program ends quietly when that program stops
    // reading (`brl queue list | head -1`), as other Unix tools do, instead of panicking on a
    // closed pipe. The long-lived processes (the control room, the dashboard, workers, the demo,
    // the pane copier) keep ignoring SIGPIPE: they handle a vanished reader themselves. So do
    // the commands that run agents: an agent that exits without reading its whole prompt must not
    // kill brl in the middle of a cycle or a job (their output goes through `say!`, which never
    // panics).
    if !matches!(
        cli.command,
        Command::Up { .. }
            | Command::Worker { .. }
            | Command::Demo { .. }
            | Command::PaneLog { .. }
            | Command::Cycle { .. }
            | Command::Review { .. }
            | Command::Standup { .. }
            | Command::Doctor { .. }
            | Command::Fix { .. }
    ) {
        // SAFETY: setting a signal's disposition to its default before any thread is started.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match brl::cmd::dispatch(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // An error may quote a title, a reason or a file's text: never raw control bytes.
            brl::say_err!("error: {}", brl::term::safe_text(&format!("{e:#}")));
            std::process::exit(1);
        }
    }
}
