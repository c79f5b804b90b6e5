//! Process-wide logging: `tracing` events to stderr (compact) and, unless the config says
//! `LOG: false`, to a daily-rotated file `~/.claude-code-router/logs/ccr.log.<YYYY-MM-DD>`
//! (the 7 newest files are kept).
//!
//! The level comes from the config's `LOG_LEVEL` (CCR's pino levels, mapped onto tracing's);
//! `RUST_LOG`, when set, overrides it with a full `tracing` filter directive. File writes go
//! through a background thread ([`tracing_appender::non_blocking`]), so logging never blocks
//! a request on disk I/O; keep the returned [`LogGuard`] alive until exit so the last lines
//! are flushed.
//!
//! Nothing here logs configuration or environment values: what the server logs is the
//! server's business, and it never logs secrets.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

/// File name prefix of the rotated log files: `ccr.log.2025-01-31`.
pub const LOG_FILE_PREFIX: &str = "ccr.log";

/// How many daily log files are kept (older ones are deleted at rotation).
pub const MAX_LOG_FILES: usize = 7;

/// Keeps the background log writer alive; dropping it flushes what is buffered.
#[must_use = "dropping the guard stops the file writer"]
pub struct LogGuard {
    _file: Option<WorkerGuard>,
    file_dir: Option<PathBuf>,
}

impl LogGuard {
    /// The folder the log files are written to, if file logging is on.
    pub fn file_dir(&self) -> Option<&Path> {
        self.file_dir.as_deref()
    }
}

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogGuard")
            .field("file_dir", &self.file_dir)
            .finish()
    }
}

/// Where and how [`init_with`] logs.
#[derive(Debug, Clone)]
pub struct LogOptions<'a> {
    /// CCR `LOG_LEVEL`: `fatal`, `error`, `warn`, `info`, `debug` or `trace` (anything else
    /// is treated as `info`).
    pub level: &'a str,
    /// CCR `LOG`: whether to write the rotated log file.
    pub file: bool,
    /// The folder of the log files; `None` means [`crate::paths::default_log_dir`].
    pub dir: Option<&'a Path>,
    /// Whether to log to stderr too. A detached service whose stderr is a file turns this
    /// off when the log file is on, so every line is not written twice.
    pub stderr: bool,
}

/// Installs the global subscriber: stderr plus, when `log_enabled`, the rotated file in
/// `log_dir` (`None`: [`crate::paths::default_log_dir`]). See [`init_with`].
pub fn init(level: &str, log_enabled: bool, log_dir: Option<&Path>) -> anyhow::Result<LogGuard> {
    init_with(LogOptions {
        level,
        file: log_enabled,
        dir: log_dir,
        stderr: true,
    })
}

/// Colour codes only for a terminal (not a pipe, a file or systemd's journal), and never
/// with `NO_COLOR` set (<https://no-color.org>).
fn stderr_wants_colour() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Installs the global subscriber. Fails if the log folder cannot be created or a
/// subscriber is already installed.
pub fn init_with(opts: LogOptions<'_>) -> anyhow::Result<LogGuard> {
    let directive = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => v,
        _ => tracing_level(opts.level).to_owned(),
    };
    let filter = EnvFilter::try_new(&directive)
        .with_context(|| format!("invalid log filter {directive:?} (from RUST_LOG/LOG_LEVEL)"))?;

    let stderr_layer = opts.stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .compact()
            .with_writer(std::io::stderr)
            .with_ansi(stderr_wants_colour())
            .with_target(false)
    });

    let mut guard = LogGuard {
        _file: None,
        file_dir: None,
    };
    let file_layer = if opts.file {
        let dir = opts
            .dir
            .map(Path::to_path_buf)
            .unwrap_or_else(crate::paths::default_log_dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the log folder {}", dir.display()))?;
        let appender = RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix(LOG_FILE_PREFIX)
            .max_log_files(MAX_LOG_FILES)
            .build(&dir)
            .with_context(|| format!("opening a log file in {}", dir.display()))?;
        let (writer, worker) = tracing_appender::non_blocking(appender);
        guard._file = Some(worker);
        guard.file_dir = Some(dir);
        Some(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer),
        )
    } else {
        None
    };

    tracing_subscriber::registry()
        .with(filter)
        .with(stderr_layer)
        .with(file_layer)
        .try_init()
        .context("installing the logger")?;
    Ok(guard)
}

/// Maps a CCR (pino) level onto a `tracing` level filter: `fatal` has no equivalent and
/// becomes `error`; unknown values become `info`.
pub fn tracing_level(ccr_level: &str) -> &'static str {
    match ccr_level.trim().to_ascii_lowercase().as_str() {
        "fatal" | "error" => "error",
        "warn" | "warning" => "warn",
        "debug" => "debug",
        "trace" => "trace",
        "silent" | "off" => "off",
        _ => "info",
    }
}

#[cfg(test)]
mod tests {
    use super::tracing_level;

    #[test]
    fn ccr_levels_map_onto_tracing_levels() {
        assert_eq!(tracing_level("fatal"), "error");
        assert_eq!(tracing_level("error"), "error");
        assert_eq!(tracing_level("WARN"), "warn");
        assert_eq!(tracing_level("info"), "info");
        assert_eq!(tracing_level("debug"), "debug");
        assert_eq!(tracing_level(" trace "), "trace");
        assert_eq!(tracing_level("loud"), "info");
    }
}
