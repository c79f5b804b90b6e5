//! The logging settings: `LOG` (logging to file on or off) and `LOG_LEVEL`.

use serde_json::{Map, Value};

use super::reader::Reader;
use super::ConfigError;

/// Default `LOG_LEVEL`. CCR defaults to `debug`, which floods the log; we default to `info`.
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// The accepted `LOG_LEVEL` values (pino's levels).
pub const LOG_LEVELS: &[&str] = &["fatal", "error", "warn", "info", "debug", "trace"];

/// `LOG`. CCR: logging is on unless `LOG` is exactly `false`.
pub(super) fn read_log(top: &Map<String, Value>) -> bool {
    !matches!(top.get("LOG"), Some(Value::Bool(false)))
}

/// `LOG_LEVEL`, lower-cased: one of [`LOG_LEVELS`] ([`DEFAULT_LOG_LEVEL`] when unset).
pub(super) fn read_log_level(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<String, ConfigError> {
    match r.opt_string("LOG_LEVEL", top.get("LOG_LEVEL"))? {
        None => Ok(DEFAULT_LOG_LEVEL.to_owned()),
        Some(l) => {
            let l = l.trim().to_ascii_lowercase();
            if !LOG_LEVELS.contains(&l.as_str()) {
                return Err(r.invalid(
                    "LOG_LEVEL",
                    format!("expected one of {}, found {l:?}", LOG_LEVELS.join(", ")),
                ));
            }
            Ok(l)
        }
    }
}
