//! The state file `.ccr-state.json` ([`ServiceState`]): what a running service is, how it
//! was started, and the control token that opens its `/health/detailed` to the CLI.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::api_key_of;
use crate::cli::health::{self, Health};
use crate::cli::RuntimePaths;
use crate::config::ConfigSource;

/// The contents of `.ccr-state.json`: what a running service is and how it was started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceState {
    /// The service's process id.
    pub pid: u32,
    /// Its version.
    pub version: String,
    /// The bound address, e.g. `127.0.0.1:3456`.
    pub listen: String,
    /// The config file it loaded.
    pub config_path: PathBuf,
    /// How that path was chosen (`--config`, `CCR_CONFIG`, `default`).
    pub config_origin: String,
    /// Unix time (seconds) at which it became ready.
    pub started_at: u64,
    /// The log folder, when file logging is on.
    pub log_dir: Option<PathBuf>,
    /// The command-line options it was started with (reused by `ccr restart`).
    pub options: StoredOptions,
    /// The secret that opens its `/health/detailed` to the CLI (the file is the owner's
    /// only: mode 0600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_token: Option<String>,
}

impl ServiceState {
    /// `http://127.0.0.1:3456`: where clients reach the service.
    pub fn base_url(&self) -> String {
        health::base_url(&self.listen)
    }

    /// Its `/health/detailed` report, opened with its control token (and the config's
    /// `APIKEY` when the config loads, for a service that has no token).
    pub fn fetch_health(&self) -> anyhow::Result<(Health, serde_json::Value)> {
        let api_key = match &self.control_token {
            Some(_) => None,
            None => api_key_of(&self.config_source()),
        };
        health::fetch(
            &self.base_url(),
            api_key.as_deref(),
            self.control_token.as_deref(),
        )
    }

    /// The config source it serves, as it was chosen (a default path that does not exist
    /// means the embedded default).
    pub fn config_source(&self) -> ConfigSource {
        let path = self.config_path.clone();
        match self.config_origin.as_str() {
            "default" => ConfigSource::Default(path),
            "CCR_CONFIG" => ConfigSource::Env(path),
            _ => ConfigSource::Flag(path),
        }
    }
}

/// The `start` options worth repeating on `restart` (paths absolute).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredOptions {
    /// `--config` (or `CCR_CONFIG`) as an absolute path; `None` for the default path.
    pub config: Option<PathBuf>,
    /// `--host`.
    pub host: Option<String>,
    /// `--port`.
    pub port: Option<u16>,
    /// `--plugins-dir`.
    pub plugins_dir: Option<PathBuf>,
}

pub(super) fn read_state(paths: &RuntimePaths) -> Option<ServiceState> {
    let text = fs::read_to_string(&paths.state_file).ok()?;
    serde_json::from_str(&text).ok()
}

/// A fresh random control token (two v4 UUIDs: 244 random bits from the OS).
pub(super) fn new_control_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Writes the state file atomically (temp file + rename), readable by its owner only (it
/// holds the control token).
pub(super) fn write_state(path: &Path, state: &ServiceState) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(state)?;
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::io::Write::write_all(&mut file, &json)
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(file);
    fs::rename(&tmp, path).with_context(|| format!("renaming {} into place", tmp.display()))?;
    Ok(())
}
