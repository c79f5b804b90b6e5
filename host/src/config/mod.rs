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

mod claude_code;
mod error;
mod interpolate;
mod load;
mod logging;
mod network;
mod plugins;
mod provider;
mod reader;
mod redact;
mod router;
mod schema;
mod settings;
mod syntax;
mod unsupported;
pub mod watch;

pub use claude_code::DEFAULT_API_TIMEOUT_MS;
pub use error::ConfigError;
pub use interpolate::{interpolate_str, interpolate_value};
pub use load::{load, load_from, resolve_path, resolve_path_with, ConfigSource};
pub use logging::{DEFAULT_LOG_LEVEL, LOG_LEVELS};
pub use network::{
    DEFAULT_BODY_READ_TIMEOUT_SECS, DEFAULT_HEADER_READ_TIMEOUT_SECS, DEFAULT_HOST,
    DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_MAX_CONNECTIONS_PER_CLIENT, DEFAULT_PING_INTERVAL_MS,
    DEFAULT_PORT,
};
pub use plugins::{PluginLimitOverride, PluginLimits};
pub use provider::{ProviderConfig, TransformerChain, TransformerUse};
pub use redact::{is_secret_key, quotable_line, redact, redact_text, REDACTED};
pub use router::{
    FallbackConfig, ModelRef, RouterConfig, DEFAULT_LONG_CONTEXT_THRESHOLD, SCENARIOS,
};
pub use schema::parse;
pub use settings::{Config, EMBEDDED_SOURCE};
pub use unsupported::JsTransformer;
pub use watch::{watch, ConfigWatcher};

#[cfg(test)]
mod tests;
