//! Errors from loading and validating a config file.

use std::path::PathBuf;

/// Why a config file could not be used.
///
/// Every variant names the file; [`ConfigError::Invalid`] also names the key path
/// (`Providers[2].api_base_url`, `Router.think`) and says what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file does not exist. Callers may fall back to the embedded default.
    #[error("config file {} does not exist", .path.display())]
    NotFound {
        /// The path that was looked up.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read config file {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON5.
    #[error("{}{}: invalid JSON5: {message}", .path.display(), location(*.line, *.column))]
    Syntax {
        /// The file.
        path: PathBuf,
        /// One-based line of the error, when the parser knows it.
        line: Option<usize>,
        /// One-based column of the error, when the parser knows it.
        column: Option<usize>,
        /// What the parser expected.
        message: String,
    },
    /// A key has a value of the wrong shape or an unacceptable value.
    #[error("{}: `{key}`: {message}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key path, e.g. `Providers[2].api_base_url`.
        key: String,
        /// What was expected and what was found.
        message: String,
    },
}

impl ConfigError {
    /// True if the file simply does not exist (so an embedded default may be used).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ConfigError::NotFound { .. })
    }
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}
