//! The claude-code-router (CCR) compatible configuration: `~/.claude-code-router/config.json`.
//!
//! One typed schema ([`Config`]) with its defaults in one place. A CCR user's existing file
//! works as is: JSON5 syntax, `$VAR` / `${VAR}` interpolation, `Providers`, `Router`,
//! transformer `use` chains, `fallback`, ... Our own extensions sit beside CCR's keys with
//! clear names (`PLUGINS_DIR`, `PLUGIN_LIMITS`, `ROUTER_PLUGINS`). Every key is documented in
//! `docs/config.md`.
//!
//! Loading is pure apart from reading the file: [`parse`] takes the environment as a closure.
//! Errors name the file, the key path and what was expected; nothing in here panics on user
//! input. Problems that do not stop the proxy (a JavaScript transformer that cannot run, a key
//! that looks misspelled, an unset `$VAR`) are collected in [`Config::warnings`].

mod error;
mod interpolate;
mod provider;
mod reader;
mod redact;
mod router;
mod syntax;
pub mod watch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::paths;

pub use error::ConfigError;
pub use interpolate::{interpolate_str, interpolate_value};
pub use provider::{ProviderConfig, TransformerChain, TransformerUse};
pub use redact::{is_secret_key, quotable_line, redact, redact_text, REDACTED};
pub use router::{
    FallbackConfig, ModelRef, RouterConfig, DEFAULT_LONG_CONTEXT_THRESHOLD, SCENARIOS,
};
pub use watch::{watch, ConfigWatcher};

use reader::{join, Reader};
use syntax::parse_json5;

/// Default `HOST`.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// Default `PORT`.
pub const DEFAULT_PORT: u16 = 3456;
/// Default `LOG_LEVEL`. CCR defaults to `debug`, which floods the log; we default to `info`.
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// The accepted `LOG_LEVEL` values (pino's levels).
pub const LOG_LEVELS: &[&str] = &["fatal", "error", "warn", "info", "debug", "trace"];
/// Default `API_TIMEOUT_MS` (10 minutes).
pub const DEFAULT_API_TIMEOUT_MS: u64 = 600_000;
/// The source path recorded for [`Config::embedded_default`].
pub const EMBEDDED_SOURCE: &str = "<embedded default config>";

const EMBEDDED_DEFAULT: &str = include_str!("default.json5");

/// The whole configuration, after interpolation, validation and defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was loaded from ([`EMBEDDED_SOURCE`] for the embedded default).
    pub source: PathBuf,
    /// `Providers` (or `providers`): the upstreams.
    pub providers: Vec<ProviderConfig>,
    /// `Router`: the model per routing scenario.
    pub router: RouterConfig,
    /// `APIKEY`: the shared secret clients must present. `None` if unset or empty, in which
    /// case the proxy only listens on loopback (see [`Config::bind_host`]).
    pub api_key: Option<String>,
    /// `HOST`: the address to listen on, as configured (default `127.0.0.1`). Use
    /// [`Config::bind_host`] for the address actually bound.
    pub host: String,
    /// `PORT` (default 3456); the `SERVICE_PORT` environment variable overrides it.
    pub port: u16,
    /// `LOG`: logging to file is on unless the value is exactly `false`.
    pub log: bool,
    /// `LOG_LEVEL`: one of [`LOG_LEVELS`], lower-cased (default `info`).
    pub log_level: String,
    /// `API_TIMEOUT_MS`: the request timeout handed to Claude Code by `ccr code`
    /// (default 600000).
    pub api_timeout_ms: u64,
    /// `PROXY_URL` (or `HTTPS_PROXY` / `https_proxy` / `httpsProxy` config keys): the
    /// outbound HTTP(S) proxy for upstream calls.
    pub proxy_url: Option<String>,
    /// `NON_INTERACTIVE_MODE`: `ccr code` runs Claude Code non-interactively (CI).
    pub non_interactive_mode: bool,
    /// `CLAUDE_PATH`: the `claude` binary `ccr code` runs.
    pub claude_path: Option<String>,
    /// `fallback` (CCR v2): per-scenario targets tried when the upstream fails.
    pub fallback: FallbackConfig,
    /// `CUSTOM_ROUTER_PATH` as written. A `.wasm` path is a router plugin
    /// ([`Config::custom_router_wasm`]); a JavaScript module cannot run and only causes a
    /// warning.
    pub custom_router_path: Option<String>,
    /// CCR's `transformers` (JavaScript modules). They cannot run here; they are kept so the
    /// user can be told to port them to WebAssembly transformer plugins.
    pub transformers_js: Vec<JsTransformer>,
    /// `forceUseImageAgent`: CCR's image-agent mode, which is not implemented (images in the
    /// last user message always switch to `Router.image`); kept for the warning.
    pub force_use_image_agent: bool,
    /// `PLUGINS_DIR` (ours): the folder user plugins (`*.wasm`) are loaded from. `~` is
    /// expanded and a relative path is taken relative to the config file. `None` means
    /// [`paths::default_plugins_dir`].
    pub plugins_dir: Option<PathBuf>,
    /// `PLUGIN_LIMITS` (ours): memory and time limits per plugin call.
    pub plugin_limits: PluginLimits,
    /// `ROUTER_PLUGINS` (ours): names of router plugins consulted, in order, before the
    /// built-in rules; the first to return a decision wins.
    pub router_plugins: Vec<String>,
    /// `PING_INTERVAL_MS` (ours): silence on an upstream stream after which a `ping` event
    /// goes to the client. Default 10000.
    pub ping_interval_ms: u64,
    /// `HEADER_READ_TIMEOUT_SECS` (ours): a client must send a whole request head within this
    /// many seconds of connecting (or of its previous answer), else it is disconnected.
    /// Default 10.
    pub header_read_timeout_secs: u64,
    /// `BODY_READ_TIMEOUT_SECS` (ours): a request body must arrive whole within this many
    /// seconds, else the request gets 408. Default 60.
    pub body_read_timeout_secs: u64,
    /// `MAX_CONNECTIONS_PER_CLIENT` (ours): open connections one client address may hold;
    /// 0 means no cap. Default 256.
    pub max_connections_per_client: usize,
    /// The whole document after `$VAR` interpolation, unknown keys included (it may contain
    /// secrets: use [`Config::redacted`] to show it).
    pub raw: Value,
    /// Non-fatal problems found while loading, one sentence each, for the log and `ccr status`.
    pub warnings: Vec<String>,
}

/// One entry of CCR's `transformers` list: a JavaScript transformer module.
#[derive(Debug, Clone, PartialEq)]
pub struct JsTransformer {
    /// `path`: the `.js` module.
    pub path: String,
    /// `options`: passed to the module's constructor (`{}` if absent).
    pub options: Value,
}

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

/// Parses config text. `source` is only used in messages and to resolve relative paths;
/// `env` looks up variables for `$VAR` interpolation and `SERVICE_PORT`.
pub fn parse(
    text: &str,
    source: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let mut doc = parse_json5(text, source)?;
    let mut r = Reader::new(source);

    let mut unset: Vec<(String, String)> = Vec::new();
    interpolate_value(&mut doc, &env, &mut |path, name| {
        if !unset.iter().any(|(p, n)| p == path && n == name) {
            unset.push((path.to_owned(), name.to_owned()));
        }
    });
    for (path, name) in unset {
        r.warn(format!(
            "`{path}`: environment variable {name} is not set; the text is used literally"
        ));
    }

    let Some(top) = doc.as_object() else {
        return Err(r.expected(
            "(top level)",
            "an object { \"Providers\": [...], \"Router\": {...} }",
            &doc,
        ));
    };
    r.warn_typos("", top, TOP_LEVEL_KEYS);

    // Providers first: Router and fallback are validated against them.
    let providers = match first_present(top, &["Providers", "providers"]) {
        Some((key, v)) if !v.is_null() => provider::read_providers(&mut r, key, v)?,
        _ => Vec::new(),
    };
    if top.contains_key("Providers") && top.contains_key("providers") {
        r.warn("both `Providers` and `providers` are set; `providers` is ignored");
    }
    let router = match top.get("Router") {
        None | Some(Value::Null) => RouterConfig::default(),
        Some(v) => router::read_router(&mut r, "Router", v, &providers)?,
    };
    let fallback = match top.get("fallback") {
        None | Some(Value::Null) => FallbackConfig::default(),
        Some(v) => router::read_fallback(&mut r, "fallback", v, &providers)?,
    };

    let api_key = r.opt_string("APIKEY", top.get("APIKEY"))?;
    let host = r
        .opt_string("HOST", top.get("HOST"))?
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|| DEFAULT_HOST.to_owned());

    let mut port = match top.get("PORT") {
        None | Some(Value::Null) => DEFAULT_PORT,
        Some(v) => read_port(&r, "PORT", v)?,
    };
    if let Some(sp) = env("SERVICE_PORT").filter(|s| !s.trim().is_empty()) {
        match sp.trim().parse::<u16>() {
            Ok(p) if p > 0 => port = p,
            _ => r.warn(format!(
                "environment variable SERVICE_PORT={sp:?} is not a port (1-65535); using {port}"
            )),
        }
    }

    // CCR: logging is on unless LOG is exactly `false`.
    let log = !matches!(top.get("LOG"), Some(Value::Bool(false)));

    let log_level = match r.opt_string("LOG_LEVEL", top.get("LOG_LEVEL"))? {
        None => DEFAULT_LOG_LEVEL.to_owned(),
        Some(l) => {
            let l = l.trim().to_ascii_lowercase();
            if !LOG_LEVELS.contains(&l.as_str()) {
                return Err(r.invalid(
                    "LOG_LEVEL",
                    format!("expected one of {}, found {l:?}", LOG_LEVELS.join(", ")),
                ));
            }
            l
        }
    };

    let api_timeout_ms = match top.get("API_TIMEOUT_MS") {
        None | Some(Value::Null) => DEFAULT_API_TIMEOUT_MS,
        Some(Value::String(s)) if s.trim().is_empty() => DEFAULT_API_TIMEOUT_MS,
        Some(v) => r.uint("API_TIMEOUT_MS", v)?,
    };

    let mut proxy_url = None;
    for key in ["PROXY_URL", "HTTPS_PROXY", "https_proxy", "httpsProxy"] {
        if let Some(u) = r.opt_string(key, top.get(key))? {
            if !u.contains("://") {
                // Never echo it: `user:password@host` is a credential even without a scheme.
                return Err(r.invalid(
                    key,
                    "expected a proxy URL with a scheme, such as \"http://127.0.0.1:7890\" or \
                     \"http://user:password@proxy:8080\"",
                ));
            }
            proxy_url = Some(u.trim().to_owned());
            break;
        }
    }

    let non_interactive_mode = match top.get("NON_INTERACTIVE_MODE") {
        None => false,
        Some(v) => r.boolean("NON_INTERACTIVE_MODE", v)?,
    };
    let claude_path = r.opt_string("CLAUDE_PATH", top.get("CLAUDE_PATH"))?;

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

    let transformers_js = match top.get("transformers") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => read_js_transformers(&mut r, v)?,
    };

    let force_use_image_agent = match top.get("forceUseImageAgent") {
        None => false,
        Some(v) => r.boolean("forceUseImageAgent", v)?,
    };
    if force_use_image_agent {
        r.warn(
            "forceUseImageAgent is not supported (CCR's image agent is not implemented); \
             requests whose last user message has an image go to Router.image directly",
        );
    }
    if r.opt_string("REWRITE_SYSTEM_PROMPT", top.get("REWRITE_SYSTEM_PROMPT"))?
        .is_some()
    {
        r.warn("REWRITE_SYSTEM_PROMPT is not supported and is ignored; use a transformer plugin");
    }

    let plugins_dir = r
        .opt_string("PLUGINS_DIR", top.get("PLUGINS_DIR"))?
        .map(|p| resolve_user_path(&p, source));
    let plugin_limits = match top.get("PLUGIN_LIMITS") {
        None | Some(Value::Null) => PluginLimits::default(),
        Some(v) => read_plugin_limits(&mut r, v)?,
    };
    let router_plugins = match top.get("ROUTER_PLUGINS") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => read_name_list(&r, "ROUTER_PLUGINS", v)?,
    };
    let ping_interval_ms = match top.get("PING_INTERVAL_MS") {
        None | Some(Value::Null) => DEFAULT_PING_INTERVAL_MS,
        Some(v) => match r.uint("PING_INTERVAL_MS", v)? {
            0 => return Err(r.invalid("PING_INTERVAL_MS", "must be at least 1 (milliseconds)")),
            ms => ms,
        },
    };

    let header_read_timeout_secs = match top.get("HEADER_READ_TIMEOUT_SECS") {
        None | Some(Value::Null) => DEFAULT_HEADER_READ_TIMEOUT_SECS,
        Some(v) => positive(&r, "HEADER_READ_TIMEOUT_SECS", v)?,
    };
    let body_read_timeout_secs = match top.get("BODY_READ_TIMEOUT_SECS") {
        None | Some(Value::Null) => DEFAULT_BODY_READ_TIMEOUT_SECS,
        Some(v) => positive(&r, "BODY_READ_TIMEOUT_SECS", v)?,
    };
    let max_connections_per_client = match top.get("MAX_CONNECTIONS_PER_CLIENT") {
        None | Some(Value::Null) => DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
        Some(v) => usize::try_from(r.uint("MAX_CONNECTIONS_PER_CLIENT", v)?).unwrap_or(usize::MAX),
    };

    if api_key.is_none() && !is_loopback(&host) {
        r.warn(format!(
            "HOST is {host:?} but APIKEY is not set; listening on {DEFAULT_HOST} only (set APIKEY \
             to accept connections from other machines)"
        ));
    }

    let warnings = r.warnings;
    Ok(Config {
        source: source.to_path_buf(),
        providers,
        router,
        api_key,
        host,
        port,
        log,
        log_level,
        api_timeout_ms,
        proxy_url,
        non_interactive_mode,
        claude_path,
        fallback,
        custom_router_path,
        transformers_js,
        force_use_image_agent,
        plugins_dir,
        plugin_limits,
        router_plugins,
        ping_interval_ms,
        header_read_timeout_secs,
        body_read_timeout_secs,
        max_connections_per_client,
        raw: doc,
        warnings,
    })
}

/// Default of `PING_INTERVAL_MS`: Claude Code gives up after 300 s of silence; Anthropic's
/// own streams ping more often than this.
pub const DEFAULT_PING_INTERVAL_MS: u64 = 10_000;

/// Default of `HEADER_READ_TIMEOUT_SECS`: real clients send their headers in one packet.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// Default of `BODY_READ_TIMEOUT_SECS`: a 32 MB body at 1 MB/s still arrives.
pub const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 60;
/// Default of `MAX_CONNECTIONS_PER_CLIENT`: one developer's Claude Code with subagents
/// holds tens; a team behind one NAT address may need more.
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 256;

/// Top-level keys we read or knowingly ignore; anything close to one of these but not equal
/// is reported as a probable typo.
const TOP_LEVEL_KEYS: &[&str] = &[
    "APIKEY",
    "HOST",
    "PORT",
    "LOG",
    "LOG_LEVEL",
    "API_TIMEOUT_MS",
    "PROXY_URL",
    "HTTPS_PROXY",
    "https_proxy",
    "httpsProxy",
    "NON_INTERACTIVE_MODE",
    "CLAUDE_PATH",
    "Providers",
    "providers",
    "Router",
    "fallback",
    "CUSTOM_ROUTER_PATH",
    "REWRITE_SYSTEM_PROMPT",
    "transformers",
    "forceUseImageAgent",
    "StatusLine",
    "plugins",
    "PLUGINS_DIR",
    "PLUGIN_LIMITS",
    "ROUTER_PLUGINS",
    "PING_INTERVAL_MS",
    "HEADER_READ_TIMEOUT_SECS",
    "BODY_READ_TIMEOUT_SECS",
    "MAX_CONNECTIONS_PER_CLIENT",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
];

impl Config {
    /// The configuration used when no config file exists: a local Ollama provider `ollama`
    /// (`http://127.0.0.1:11434/v1/chat/completions`) as `Router.default`. It lives in
    /// `config/default.json5` and goes through the same parser as user files.
    pub fn embedded_default() -> Config {
        parse(EMBEDDED_DEFAULT, Path::new(EMBEDDED_SOURCE), |k| {
            std::env::var(k).ok()
        })
        .expect("the embedded default config is valid (checked by a unit test)")
    }

    /// True if this is [`Config::embedded_default`].
    pub fn is_embedded_default(&self) -> bool {
        self.source == Path::new(EMBEDDED_SOURCE)
    }

    /// The address to listen on: `HOST`, except that without an `APIKEY` a non-loopback
    /// `HOST` is replaced by `127.0.0.1` (CCR does the same; a warning was recorded at load).
    pub fn bind_host(&self) -> &str {
        if self.api_key.is_none() && !is_loopback(&self.host) {
            DEFAULT_HOST
        } else {
            &self.host
        }
    }

    /// The provider named exactly `name` (CCR's lookup is case-sensitive).
    pub fn find_provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.name == name)
    }

    /// The provider named `name` ignoring case (exact matches first), as used for the
    /// `provider,model` a user picks with `/model`.
    pub fn find_provider_ci(&self, name: &str) -> Option<&ProviderConfig> {
        self.find_provider(name).or_else(|| {
            let lower = name.to_lowercase();
            self.providers
                .iter()
                .find(|p| p.name.to_lowercase() == lower)
        })
    }

    /// The names of all providers, in config order.
    pub fn provider_names(&self) -> Vec<String> {
        self.providers.iter().map(|p| p.name.clone()).collect()
    }

    /// The interpolated document with secrets replaced by `"***"` (see [`redact`]): safe to
    /// log, show in the UI or hand to a router plugin.
    pub fn redacted(&self) -> Value {
        redact(&self.raw)
    }

    /// The router plugin file named by `CUSTOM_ROUTER_PATH`, if it is a `.wasm` file.
    pub fn custom_router_wasm(&self) -> Option<PathBuf> {
        self.custom_router_path
            .as_deref()
            .filter(|p| is_wasm_path(p))
            .map(|p| resolve_user_path(p, &self.source))
    }

    /// `PLUGINS_DIR`, or [`paths::default_plugins_dir`] when unset.
    pub fn effective_plugins_dir(&self) -> PathBuf {
        self.plugins_dir
            .clone()
            .unwrap_or_else(paths::default_plugins_dir)
    }
}

fn is_wasm_path(p: &str) -> bool {
    p.trim().to_ascii_lowercase().ends_with(".wasm")
}

/// True for `localhost`, `127.0.0.0/8` and `::1`.
fn is_loopback(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Expands a leading `~` and makes a relative path relative to the config file's folder.
fn resolve_user_path(p: &str, config_file: &Path) -> PathBuf {
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

/// The first of `keys` present in `obj`, with the key spelling found.
fn first_present<'a, 'v>(
    obj: &'v serde_json::Map<String, Value>,
    keys: &[&'a str],
) -> Option<(&'a str, &'v Value)> {
    keys.iter().find_map(|k| obj.get(*k).map(|v| (*k, v)))
}

fn read_port(r: &Reader<'_>, key: &str, v: &Value) -> Result<u16, ConfigError> {
    let n = r
        .uint(key, v)
        .map_err(|_| r.expected(key, "a port number 1-65535", v))?;
    match u16::try_from(n) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(r.expected(key, "a port number 1-65535", v)),
    }
}

fn read_js_transformers(r: &mut Reader<'_>, v: &Value) -> Result<Vec<JsTransformer>, ConfigError> {
    let items = r.array("transformers", v)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = format!("transformers[{i}]");
        let obj = r.object(&key, item)?;
        let path = match obj.get("path") {
            Some(p) => r.string(&join(&key, "path"), p)?.to_owned(),
            None => return Err(r.invalid(&join(&key, "path"), "missing; expected the module path")),
        };
        let options = obj
            .get("options")
            .cloned()
            .unwrap_or_else(|| Value::Object(Default::default()));
        r.warn(format!(
            "`{key}`: JavaScript transformer {path:?} cannot run in ccr and is ignored; port it to a \
             WebAssembly transformer plugin and put the .wasm in the plugins folder"
        ));
        out.push(JsTransformer { path, options });
    }
    Ok(out)
}

fn read_plugin_limits(r: &mut Reader<'_>, v: &Value) -> Result<PluginLimits, ConfigError> {
    const KEY: &str = "PLUGIN_LIMITS";
    let obj = r.object(KEY, v)?;
    r.warn_typos(
        KEY,
        obj,
        &["memory_mb", "timeout_ms", "overrides", "max_file_mb"],
    );
    let mut limits = PluginLimits::default();
    if let Some(v) = obj.get("memory_mb").filter(|v| !v.is_null()) {
        limits.memory_mb = positive(r, &join(KEY, "memory_mb"), v)?;
    }
    if let Some(v) = obj.get("timeout_ms").filter(|v| !v.is_null()) {
        limits.timeout_ms = positive(r, &join(KEY, "timeout_ms"), v)?;
    }
    if let Some(v) = obj.get("max_file_mb").filter(|v| !v.is_null()) {
        limits.max_file_mb = positive(r, &join(KEY, "max_file_mb"), v)?;
    }
    if let Some(v) = obj.get("overrides").filter(|v| !v.is_null()) {
        let okey = join(KEY, "overrides");
        for (name, o) in r.object(&okey, v)? {
            let pkey = join(&okey, name);
            let oo = r.object(&pkey, o)?;
            r.warn_typos(&pkey, oo, &["memory_mb", "timeout_ms"]);
            let mut ov = PluginLimitOverride::default();
            if let Some(v) = oo.get("memory_mb").filter(|v| !v.is_null()) {
                ov.memory_mb = Some(positive(r, &join(&pkey, "memory_mb"), v)?);
            }
            if let Some(v) = oo.get("timeout_ms").filter(|v| !v.is_null()) {
                ov.timeout_ms = Some(positive(r, &join(&pkey, "timeout_ms"), v)?);
            }
            limits.overrides.insert(name.clone(), ov);
        }
    }
    Ok(limits)
}

fn positive(r: &Reader<'_>, key: &str, v: &Value) -> Result<u64, ConfigError> {
    match r.uint(key, v) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(r.expected(key, "a whole number greater than 0", v)),
    }
}

fn read_name_list(r: &Reader<'_>, key: &str, v: &Value) -> Result<Vec<String>, ConfigError> {
    let items = r.array(key, v)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ikey = format!("{key}[{i}]");
        match item {
            Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
            other => return Err(r.expected(&ikey, "a plugin name", other)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
