//! Logging through the host: each line lands in the host's log, tagged with the plugin's name.
//!
//! Outside WebAssembly (a plugin's native unit tests) lines go to standard error instead, so
//! plugin code can be tested with `cargo test`.
//!
//! The [`trace!`](crate::trace), [`debug!`](crate::debug), [`info!`](crate::info),
//! [`warn!`](crate::warn) and [`error!`](crate::error) macros take `format!` arguments.

pub use crate::LogLevel;

/// Writes one line at `level`.
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::__private::bindings::common::ccr::plugin::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let level = match level {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        };
        eprintln!("{level} {message}");
    }
}

/// Whether a line at `level` would reach the host's log (skip building costly messages
/// when it would not). Outside WebAssembly: always true.
pub fn enabled(level: LogLevel) -> bool {
    #[cfg(target_arch = "wasm32")]
    return crate::__private::bindings::common::ccr::plugin::host::log_enabled(level);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = level;
        true
    }
}

/// Writes one line at [`LogLevel::Trace`].
pub fn trace(message: &str) {
    log(LogLevel::Trace, message);
}

/// Writes one line at [`LogLevel::Debug`].
pub fn debug(message: &str) {
    log(LogLevel::Debug, message);
}

/// Writes one line at [`LogLevel::Info`].
pub fn info(message: &str) {
    log(LogLevel::Info, message);
}

/// Writes one line at [`LogLevel::Warn`].
pub fn warn(message: &str) {
    log(LogLevel::Warn, message);
}

/// Writes one line at [`LogLevel::Error`].
pub fn error(message: &str) {
    log(LogLevel::Error, message);
}

/// Logs a `format!`-style message at trace level: `ccr_plugin_sdk::trace!("x = {x}")`.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::log::trace(&::std::format!($($arg)+)) };
}

/// Logs a `format!`-style message at debug level: `ccr_plugin_sdk::debug!("x = {x}")`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log::debug(&::std::format!($($arg)+)) };
}

/// Logs a `format!`-style message at info level: `ccr_plugin_sdk::info!("x = {x}")`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log::info(&::std::format!($($arg)+)) };
}

/// Logs a `format!`-style message at warn level: `ccr_plugin_sdk::warn!("x = {x}")`.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log::warn(&::std::format!($($arg)+)) };
}

/// Logs a `format!`-style message at error level: `ccr_plugin_sdk::error!("x = {x}")`.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log::error(&::std::format!($($arg)+)) };
}
