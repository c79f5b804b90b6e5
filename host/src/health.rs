//! The `/health/detailed` document: built and serialised by the server, read back by
//! `ccr status`, `ccr health` and `ccr plugin list`, so both sides share one shape.
//!
//! Every field has a default so a CLI still reads an older or newer service's answer.

use serde::{Deserialize, Serialize};

use crate::usage::MetricsSnapshot;

/// The service's `/health/detailed` answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Health {
    /// `ok` when serving.
    pub status: String,
    /// The service's version.
    pub version: String,
    /// Its process id.
    pub pid: Option<u32>,
    /// Seconds since it started.
    pub uptime_secs: Option<u64>,
    /// The bound address, `127.0.0.1:3456` (`None` before the listener is bound).
    pub listen: Option<String>,
    /// The config file it serves.
    pub config_path: Option<String>,
    /// How the config path was chosen (`--config`, `CCR_CONFIG`, `default`).
    pub config_source: Option<String>,
    /// True when no config file exists and the embedded default serves.
    pub config_embedded_default: bool,
    /// Why the config file could not be (re)loaded, if it could not.
    pub config_error: Option<String>,
    /// The plugin folder.
    pub plugins_dir: Option<String>,
    /// The plugins, as [`crate::plugins::PluginStatus`] rows.
    pub plugins: Vec<PluginRow>,
    /// The rows of `plugins` whose file failed to load.
    pub plugin_errors: Vec<PluginRow>,
    /// Request counters.
    pub requests: MetricsSnapshot,
    /// Streamed answers in progress.
    pub streams: StreamsRow,
}

/// The `streams` object of `/health`: open streams against `MAX_CONCURRENT_STREAMS`, and
/// the plugin instances translating them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamsRow {
    /// Streams open now.
    pub open: usize,
    /// `MAX_CONCURRENT_STREAMS`.
    pub limit: usize,
    /// Provider plugin instances taking new streams (each translates up to 32).
    pub translator_instances: usize,
}

/// One plugin row of `/health` (the JSON form of `crate::plugins::PluginStatus`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginRow {
    /// Plugin name.
    pub name: String,
    /// `provider`, `transformer`, `router` or `-`.
    pub kind: String,
    /// Plugin version.
    pub version: String,
    /// `bundled` or `folder`.
    pub source: String,
    /// The file, for folder plugins.
    pub path: Option<String>,
    /// Short hash of the wasm.
    pub hash: String,
    /// `ok`, `overridden` or `error`.
    pub status: String,
    /// `optimized`, `baseline` (served while the optimized code compiles) or `-`.
    pub tier: String,
    /// Why it failed to load.
    pub error: Option<String>,
    /// What it does.
    pub description: String,
}

impl From<crate::plugins::PluginStatus> for PluginRow {
    fn from(s: crate::plugins::PluginStatus) -> Self {
        PluginRow {
            name: s.name,
            kind: s.kind,
            version: s.version,
            source: s.source,
            path: s.path.map(|p| p.display().to_string()),
            hash: s.hash,
            status: s.status,
            tier: s.tier,
            error: s.error,
            description: s.description,
        }
    }
}
