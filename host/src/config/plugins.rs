//! The plugin settings: `PLUGINS_DIR`, `PLUGIN_LIMITS`, `ROUTER_PLUGINS` (ours) and CCR's
//! `CUSTOM_ROUTER_PATH` (a router plugin when it names a `.wasm` file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use super::reader::{join, Reader};
use super::ConfigError;
use crate::paths;

/// `PLUGIN_LIMITS`: resource limits for one plugin call (one request's instance).
#[derive(Debug, Clone, PartialEq)]
pub struct PluginLimits {
    /// `memory_mb`: linear-memory ceiling per instance, in MiB (default 64).
    pub memory_mb: u64,
    /// `timeout_ms`: wall-clock budget per call, in milliseconds (default 2000).
    pub timeout_ms: u64,
    /// `overrides`: per plugin name, limits that replace the defaults above.
    pub overrides: BTreeMap<String, PluginLimitOverride>,
    /// `max_file_mb`: a plugin file larger than this (MiB, default 64) is rejected without
    /// being read.
    pub max_file_mb: u64,
}

/// Limits for one named plugin; unset fields use the [`PluginLimits`] defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginLimitOverride {
    /// `memory_mb` for this plugin.
    pub memory_mb: Option<u64>,
    /// `timeout_ms` for this plugin.
    pub timeout_ms: Option<u64>,
}

impl PluginLimits {
    /// Default `PLUGIN_LIMITS.memory_mb`.
    pub const DEFAULT_MEMORY_MB: u64 = 64;
    /// Default `PLUGIN_LIMITS.timeout_ms`.
    pub const DEFAULT_TIMEOUT_MS: u64 = 2_000;
    /// Default `PLUGIN_LIMITS.max_file_mb`: far above the largest real plugin (a
    /// JavaScript component is ~12 MB).
    pub const DEFAULT_MAX_FILE_MB: u64 = 64;

    /// `max_file_mb` in bytes.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_mb.saturating_mul(1024 * 1024)
    }

    /// The limits for plugin `name`: (memory in bytes, wall-clock timeout).
    pub fn for_plugin(&self, name: &str) -> (usize, Duration) {
        let o = self.overrides.get(name);
        let mb = o.and_then(|o| o.memory_mb).unwrap_or(self.memory_mb);
        let ms = o.and_then(|o| o.timeout_ms).unwrap_or(self.timeout_ms);
        let bytes = usize::try_from(mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
        (bytes, Duration::from_millis(ms))
    }
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            memory_mb: Self::DEFAULT_MEMORY_MB,
            timeout_ms: Self::DEFAULT_TIMEOUT_MS,
            overrides: BTreeMap::new(),
            max_file_mb: Self::DEFAULT_MAX_FILE_MB,
        }
    }
}

/// `CUSTOM_ROUTER_PATH` as written; a JavaScript module (not `.wasm`) only gets a warning.
pub(super) fn read_custom_router_path(
    r: &mut Reader<'_>,
    top: &Map<String, Value>,
) -> Result<Option<String>, ConfigError> {
    let custom_router_path = r.opt_string("CUSTOM_ROUTER_PATH", top.get("CUSTOM_ROUTER_PATH"))?;
    if let Some(p) = &custom_router_path {
        if !is_wasm_path(p) {
            r.warn(format!(
                "CUSTOM_ROUTER_PATH {p:?} is a JavaScript module, which ccr cannot run; the built-in \
                 rules are used instead. Port it to a router plugin (.wasm) and list it in \
                 ROUTER_PLUGINS or point CUSTOM_ROUTER_PATH at the .wasm file"
            ));
        }
    }
    Ok(custom_router_path)
}

/// `PLUGINS_DIR`, resolved against the config file `source` (see [`resolve_user_path`]).
pub(super) fn read_plugins_dir(
    r: &Reader<'_>,
    top: &Map<String, Value>,
    source: &Path,
) -> Result<Option<PathBuf>, ConfigError> {
    Ok(r.opt_string("PLUGINS_DIR", top.get("PLUGINS_DIR"))?
        .map(|p| resolve_user_path(&p, source)))
}

/// `PLUGIN_LIMITS` ([`PluginLimits::default`] when unset).
pub(super) fn read_plugin_limits(
    r: &mut Reader<'_>,
    top: &Map<String, Value>,
) -> Result<PluginLimits, ConfigError> {
    const KEY: &str = "PLUGIN_LIMITS";
    let v = match top.get(KEY) {
        None | Some(Value::Null) => return Ok(PluginLimits::default()),
        Some(v) => v,
    };
    let obj = r.object(KEY, v)?;
    r.warn_typos(
        KEY,
        obj,
        &["memory_mb", "timeout_ms", "overrides", "max_file_mb"],
    );
    let mut limits = PluginLimits::default();
    if let Some(v) = obj.get("memory_mb").filter(|v| !v.is_null()) {
        limits.memory_mb = r.positive(&join(KEY, "memory_mb"), v)?;
    }
    if let Some(v) = obj.get("timeout_ms").filter(|v| !v.is_null()) {
        limits.timeout_ms = r.positive(&join(KEY, "timeout_ms"), v)?;
    }
    if let Some(v) = obj.get("max_file_mb").filter(|v| !v.is_null()) {
        limits.max_file_mb = r.positive(&join(KEY, "max_file_mb"), v)?;
    }
    if let Some(v) = obj.get("overrides").filter(|v| !v.is_null()) {
        let okey = join(KEY, "overrides");
        for (name, o) in r.object(&okey, v)? {
            let pkey = join(&okey, name);
            let oo = r.object(&pkey, o)?;
            r.warn_typos(&pkey, oo, &["memory_mb", "timeout_ms"]);
            let mut ov = PluginLimitOverride::default();
            if let Some(v) = oo.get("memory_mb").filter(|v| !v.is_null()) {
                ov.memory_mb = Some(r.positive(&join(&pkey, "memory_mb"), v)?);
            }
            if let Some(v) = oo.get("timeout_ms").filter(|v| !v.is_null()) {
                ov.timeout_ms = Some(r.positive(&join(&pkey, "timeout_ms"), v)?);
            }
            limits.overrides.insert(name.clone(), ov);
        }
    }
    Ok(limits)
}

/// `ROUTER_PLUGINS`: plugin names, trimmed (none when unset).
pub(super) fn read_router_plugins(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<Vec<String>, ConfigError> {
    const KEY: &str = "ROUTER_PLUGINS";
    let v = match top.get(KEY) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(v) => v,
    };
    let items = r.array(KEY, v)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ikey = format!("{KEY}[{i}]");
        match item {
            Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
            other => return Err(r.expected(&ikey, "a plugin name", other)),
        }
    }
    Ok(out)
}

pub(super) fn is_wasm_path(p: &str) -> bool {
    p.trim().to_ascii_lowercase().ends_with(".wasm")
}

/// Expands a leading `~` and makes a relative path relative to the config file's folder.
pub(super) fn resolve_user_path(p: &str, config_file: &Path) -> PathBuf {
    let p = p.trim();
    if p == "~" {
        return paths::user_home();
    }
    if let Some(rest) = p.strip_prefix("~/") {
        return paths::user_home().join(rest);
    }
    let path = PathBuf::from(p);
    if path.is_absolute() {
        return path;
    }
    match config_file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(path),
        _ => path,
    }
}
