//! The top level of the schema: [`parse`] turns config text into a validated [`Config`],
//! reading the top-level keys in a fixed order (errors and warnings come out in that order)
//! through the concept modules.

use std::path::Path;

use serde_json::Value;

use super::reader::Reader;
use super::syntax::parse_json5;
use super::{
    claude_code, interpolate_value, logging, network, plugins, provider, router, unsupported,
    Config, ConfigError, FallbackConfig, RouterConfig,
};

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
    let host = network::read_host(&r, top)?;
    let port = network::read_port(&mut r, top, &env)?;
    let log = logging::read_log(top);
    let log_level = logging::read_log_level(&r, top)?;
    let api_timeout_ms = claude_code::read_api_timeout_ms(&r, top)?;
    let proxy_url = network::read_proxy_url(&r, top)?;
    let non_interactive_mode = claude_code::read_non_interactive_mode(&r, top)?;
    let claude_path = claude_code::read_claude_path(&r, top)?;
    let custom_router_path = plugins::read_custom_router_path(&mut r, top)?;
    let transformers_js = unsupported::read_js_transformers(&mut r, top)?;
    let force_use_image_agent = unsupported::read_force_use_image_agent(&mut r, top)?;
    unsupported::warn_rewrite_system_prompt(&mut r, top)?;
    let plugins_dir = plugins::read_plugins_dir(&r, top, source)?;
    let plugin_limits = plugins::read_plugin_limits(&mut r, top)?;
    let router_plugins = plugins::read_router_plugins(&r, top)?;
    let ping_interval_ms = network::read_ping_interval_ms(&r, top)?;
    let header_read_timeout_secs = network::read_header_read_timeout_secs(&r, top)?;
    let body_read_timeout_secs = network::read_body_read_timeout_secs(&r, top)?;
    let max_connections_per_client = network::read_max_connections_per_client(&r, top)?;
    let max_concurrent_streams = network::read_max_concurrent_streams(&r, top)?;
    network::warn_open_without_key(&mut r, api_key.as_deref(), &host);

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
        max_concurrent_streams,
        raw: doc,
        warnings,
    })
}

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
    "MAX_CONCURRENT_STREAMS",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
];

/// The first of `keys` present in `obj`, with the key spelling found.
fn first_present<'a, 'v>(
    obj: &'v serde_json::Map<String, Value>,
    keys: &[&'a str],
) -> Option<(&'a str, &'v Value)> {
    keys.iter().find_map(|k| obj.get(*k).map(|v| (*k, v)))
}
