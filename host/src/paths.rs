//! Every on-disk location `ccr` uses, in one place: CCR's home `~/.claude-code-router`
//! (`~` is `$HOME`, so tests can use a throwaway home) with the config file, the plugin
//! folder, the log folder and the service's pid and state files; and the caches outside it
//! (compiled plugin code, fetched plugin toolchains).

use std::path::PathBuf;

/// The user's home directory: `$HOME`, else the platform's notion of it, else `.`.
pub fn user_home() -> PathBuf {
    match std::env::var_os("HOME") {
        Some(h) if !h.is_empty() => PathBuf::from(h),
        _ => dirs::home_dir().unwrap_or_else(|| PathBuf::from(".")),
    }
}

/// CCR's home folder, `~/.claude-code-router`.
pub fn home_dir() -> PathBuf {
    user_home().join(".claude-code-router")
}

/// The default config file, `~/.claude-code-router/config.json`.
pub fn default_config_file() -> PathBuf {
    home_dir().join("config.json")
}

/// The default plugin folder, `~/.claude-code-router/plugins` (CCR keeps its JavaScript
/// transformers there too; only `*.wasm` files are plugins for us).
pub fn default_plugins_dir() -> PathBuf {
    home_dir().join("plugins")
}

/// The default log folder, `~/.claude-code-router/logs`.
pub fn default_log_dir() -> PathBuf {
    home_dir().join("logs")
}

/// Where compiled plugin code is cached: `$CCR_CACHE_DIR`, else `$XDG_CACHE_HOME/ccr/wasm`,
/// else `~/.claude-code-router/cache/wasm`.
pub fn wasm_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CCR_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("ccr").join("wasm");
    }
    home_dir().join("cache").join("wasm")
}

/// `$CCR_TOOLS_DIR` when set: the only folder plugin toolchains are looked for in.
pub fn tools_dir_override() -> Option<PathBuf> {
    std::env::var_os("CCR_TOOLS_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// Where `ccr plugin build` installs the toolchains it fetches (the Python venv):
/// `$CCR_TOOLS_DIR`, else `$XDG_CACHE_HOME/ccr/tools` (`~/.cache/ccr/tools`).
pub fn toolchain_cache_dir() -> PathBuf {
    tools_dir_override().unwrap_or_else(|| {
        dirs::cache_dir()
            .unwrap_or_else(|| home_dir().join("cache"))
            .join("ccr")
            .join("tools")
    })
}

/// The runtime files of the service (what the CLI manages).
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
        let home = home_dir();
        let log_dir = default_log_dir();
        RuntimePaths {
            pid_file: home.join(".claude-code-router.pid"),
            state_file: home.join(".ccr-state.json"),
            daemon_output: log_dir.join("daemon.out"),
            cache_dir: wasm_cache_dir(),
            log_dir,
            home,
        }
    }
}
