//! The [`Config`] struct: every setting after interpolation, validation and defaults, with
//! the accessors that combine settings (the address actually bound, provider look-ups, ...).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::network::{is_loopback, DEFAULT_HOST};
use super::plugins::{is_wasm_path, resolve_user_path};
use super::redact::redact;
use super::{parse, FallbackConfig, JsTransformer, PluginLimits, ProviderConfig, RouterConfig};
use crate::paths;

/// The source path recorded for [`Config::embedded_default`].
pub const EMBEDDED_SOURCE: &str = "<embedded default config>";

pub(super) const EMBEDDED_DEFAULT: &str = include_str!("default.json5");

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
    /// `LOG_LEVEL`: one of [`LOG_LEVELS`](super::LOG_LEVELS), lower-cased (default `info`).
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
    /// `MAX_CONCURRENT_STREAMS` (ours): streamed answers open at once; one more gets 529
    /// `overloaded_error` before anything is sent upstream. Default 20 000.
    pub max_concurrent_streams: usize,
    /// The whole document after `$VAR` interpolation, unknown keys included (it may contain
    /// secrets: use [`Config::redacted`] to show it).
    pub raw: Value,
    /// Non-fatal problems found while loading, one sentence each, for the log and `ccr status`.
    pub warnings: Vec<String>,
}

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
