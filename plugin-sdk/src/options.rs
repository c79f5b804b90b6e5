//! A plugin's options: the JSON object the user wrote next to the plugin's name in
//! `config.json`, handed over as [`Target::options`](crate::Target::options).

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::anthropic::JsonMap;
use crate::PluginError;

/// A plugin's options, parsed from the `options` JSON of a [`Target`](crate::Target).
///
/// The `get_*` accessors return `None` when the key is missing or holds another type; use
/// [`Options::deserialize`] for strict, typed options.
///
/// ```
/// use ccr_plugin_sdk::Options;
///
/// let options = Options::parse(r#"{"max_tokens": 4096, "header": "x-tag"}"#)?;
/// assert_eq!(options.get_u64("max_tokens"), Some(4096));
/// assert_eq!(options.get_str("header"), Some("x-tag"));
/// assert_eq!(options.get_bool("missing"), None);
/// # Ok::<(), ccr_plugin_sdk::PluginError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options(JsonMap);

impl Options {
    /// Parses options JSON. An empty string or `null` gives empty options; anything but a
    /// JSON object is a configuration mistake and gives [`PluginError::Internal`].
    pub fn parse(json: &str) -> Result<Self, PluginError> {
        if json.trim().is_empty() {
            return Ok(Options::default());
        }
        match serde_json::from_str(json) {
            Ok(Value::Object(map)) => Ok(Options(map)),
            Ok(Value::Null) => Ok(Options::default()),
            Ok(other) => Err(PluginError::Internal(format!(
                "plugin options must be a JSON object, got {other}"
            ))),
            Err(e) => Err(PluginError::Internal(format!(
                "plugin options are not valid JSON: {e}"
            ))),
        }
    }

    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// `key` as a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key)?.as_str()
    }

    /// `key` as a non-negative integer.
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get(key)?.as_u64()
    }

    /// `key` as a number.
    pub fn get_f64(&self, key: &str) -> Option<f64> {
        self.get(key)?.as_f64()
    }

    /// `key` as a boolean.
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key)?.as_bool()
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All options as a JSON object.
    pub fn as_map(&self) -> &JsonMap {
        &self.0
    }

    /// The options as a typed struct (use `#[serde(default)]` for optional keys). A mismatch
    /// is a configuration mistake and gives [`PluginError::Internal`].
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Clamp {
    ///     max_tokens: u64,
    /// }
    ///
    /// let options = ccr_plugin_sdk::Options::parse(r#"{"max_tokens": 4096}"#)?;
    /// let clamp: Clamp = options.deserialize()?;
    /// assert_eq!(clamp.max_tokens, 4096);
    /// # Ok::<(), ccr_plugin_sdk::PluginError>(())
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        T::deserialize(&Value::Object(self.0.clone()))
            .map_err(|e| PluginError::Internal(format!("invalid plugin options: {e}")))
    }
}
