//! Logging for the control room. Always into `logs/brl.log.<YYYY-MM-DD>` (tracing-appender, daily
//! files, nothing dropped: the writer blocks rather than lose a line, and the guard flushes at
//! exit); with `--no-tui` also on stdout: JSON lines when stdout is not a terminal or `--json` is
//! given (what PM2 and journald collect), readable lines on a terminal. Other commands log
//! warnings to stderr only.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::home::Home;

/// Filter from `BRL_LOG` (e.g. `debug`, `brl=trace`), else `default`.
fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_env("BRL_LOG").unwrap_or_else(|_| EnvFilter::new(default))
}

/// The one-shot commands: warnings and errors on stderr.
pub fn init_cli() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter("warn"))
        .with_writer(std::io::stderr)
        .try_init();
}

/// What the control room also writes to stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdout {
    /// Nothing: the dashboard owns the terminal.
    Nothing,
    /// JSON lines (PM2, systemd, a pipe).
    Json,
    /// Readable lines (a person at a terminal).
    Human,
}

/// The control room or the dashboard (the file, plus `stdout`). Keep the returned guard alive
/// until exit: dropping it flushes the file.
pub fn init_control(
    home: &Home,
    stdout: Stdout,
) -> anyhow::Result<tracing_appender::non_blocking::WorkerGuard> {
    let dir = home.logs_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create the log directory {}: {e}", dir.display()))?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("brl.log")
        .build(&dir)
        .map_err(|e| anyhow::anyhow!("cannot open {}/brl.log: {e}", dir.display()))?;
    let (file, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(appender);
    let file_layer = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(file)
        .with_ansi(false);
    let registry = tracing_subscriber::registry()
        .with(filter("info"))
        .with(file_layer);
    let result = match stdout {
        Stdout::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stdout)
                    .with_ansi(false),
            )
            .try_init(),
        Stdout::Human => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .compact()
                    .with_target(false)
                    .with_writer(std::io::stdout),
            )
            .try_init(),
        // The dashboard owns the terminal: the file only.
        Stdout::Nothing => registry.try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))?;
    Ok(guard)
}
