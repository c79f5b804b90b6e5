//! The settings `ccr code` hands to Claude Code: `API_TIMEOUT_MS`, `NON_INTERACTIVE_MODE`
//! and `CLAUDE_PATH`.

use serde_json::{Map, Value};

use super::reader::Reader;
use super::ConfigError;

/// Default `API_TIMEOUT_MS` (10 minutes).
pub const DEFAULT_API_TIMEOUT_MS: u64 = 600_000;

/// `API_TIMEOUT_MS` ([`DEFAULT_API_TIMEOUT_MS`] when unset or `""`).
pub(super) fn read_api_timeout_ms(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<u64, ConfigError> {
    match top.get("API_TIMEOUT_MS") {
        None | Some(Value::Null) => Ok(DEFAULT_API_TIMEOUT_MS),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(DEFAULT_API_TIMEOUT_MS),
        Some(v) => r.uint("API_TIMEOUT_MS", v),
    }
}

/// `NON_INTERACTIVE_MODE` (false when unset).
pub(super) fn read_non_interactive_mode(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<bool, ConfigError> {
    match top.get("NON_INTERACTIVE_MODE") {
        None => Ok(false),
        Some(v) => r.boolean("NON_INTERACTIVE_MODE", v),
    }
}

/// `CLAUDE_PATH`.
pub(super) fn read_claude_path(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<Option<String>, ConfigError> {
    r.opt_string("CLAUDE_PATH", top.get("CLAUDE_PATH"))
}
