//! Finding and loading the config file: `--config`, else `$CCR_CONFIG`, else the default
//! location, whose absence means the embedded default.

use std::path::{Path, PathBuf};

use super::{parse, Config, ConfigError};
use crate::paths;

/// Where the config file path came from (for messages such as "config: ~/x (from --config)").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// The `--config` command-line flag.
    Flag(PathBuf),
    /// The `CCR_CONFIG` environment variable.
    Env(PathBuf),
    /// The default location, [`paths::default_config_file`].
    Default(PathBuf),
}

impl ConfigSource {
    /// The config file path.
    pub fn path(&self) -> &Path {
        match self {
            ConfigSource::Flag(p) | ConfigSource::Env(p) | ConfigSource::Default(p) => p,
        }
    }

    /// How the path was chosen: `--config`, `CCR_CONFIG` or `default`.
    pub fn origin(&self) -> &'static str {
        match self {
            ConfigSource::Flag(_) => "--config",
            ConfigSource::Env(_) => "CCR_CONFIG",
            ConfigSource::Default(_) => "default",
        }
    }
}

/// Picks the config file: the `--config` flag, else `$CCR_CONFIG`, else [`paths::default_config_file`].
pub fn resolve_path(flag: Option<&Path>) -> ConfigSource {
    resolve_path_with(flag, |k| std::env::var(k).ok())
}

/// [`resolve_path`] with the environment given as a closure (for tests).
pub fn resolve_path_with(
    flag: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> ConfigSource {
    if let Some(p) = flag {
        return ConfigSource::Flag(p.to_path_buf());
    }
    match env("CCR_CONFIG") {
        Some(p) if !p.trim().is_empty() => ConfigSource::Env(PathBuf::from(p)),
        _ => ConfigSource::Default(paths::default_config_file()),
    }
}

/// Reads and parses the config file at `path`, interpolating from the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::NotFound {
                path: path.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    parse(&text, path, |k| std::env::var(k).ok())
}

/// Loads the config chosen by [`resolve_path`]. When the *default* file does not exist, the
/// [embedded default](Config::embedded_default) is used (with a warning saying so); a file
/// named by `--config` or `CCR_CONFIG` must exist.
pub fn load_from(source: &ConfigSource) -> Result<Config, ConfigError> {
    match load(source.path()) {
        Err(e) if e.is_not_found() && matches!(source, ConfigSource::Default(_)) => {
            let mut config = Config::embedded_default();
            config.warnings.insert(
                0,
                format!(
                    "no config file at {}; using the embedded default (a local Ollama at \
                     http://127.0.0.1:11434)",
                    source.path().display()
                ),
            );
            Ok(config)
        }
        other => other,
    }
}
