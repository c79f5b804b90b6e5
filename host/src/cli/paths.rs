//! Where the service keeps its runtime files, all under `~/.claude-code-router` (`~` is
//! `$HOME`, so tests can use a throwaway home).

use std::path::PathBuf;

/// The runtime files of the service.
#[derive(Debug, Clone)]
pub struct RuntimePaths {
    /// `~/.claude-code-router`.
    pub home: PathBuf,
    /// `~/.claude-code-router/.claude-code-router.pid`: CCR's pid file (the pid, one line).
    pub pid_file: PathBuf,
    /// `~/.claude-code-router/.ccr-state.json`: pid, address, options and start time of
    /// the running service (see `service::ServiceState`).
    pub state_file: PathBuf,
    /// `~/.claude-code-router/logs`.
    pub log_dir: PathBuf,
    /// `~/.claude-code-router/logs/daemon.out`: stdout/stderr of a `--daemon` service
    /// (start-up failures land here).
    pub daemon_output: PathBuf,
    /// `~/.claude-code-router/cache/wasm`: compiled plugin code (shared with the service).
    pub cache_dir: PathBuf,
}

impl RuntimePaths {
    /// The paths for the current `$HOME`.
    pub fn current() -> Self {
        let home = crate::config::home_dir();
        let log_dir = crate::logging::default_log_dir();
        RuntimePaths {
            pid_file: home.join(".claude-code-router.pid"),
            state_file: home.join(".ccr-state.json"),
            daemon_output: log_dir.join("daemon.out"),
            cache_dir: crate::plugins::runtime::default_cache_dir(),
            log_dir,
            home,
        }
    }
}
