//! claude-code-router's `cleancache` transformer: deletes every `cache_control` field from
//! the request (some OpenAI-compatible servers reject unknown fields).

use ccr_plugin_sdk::{PluginError, PluginInfo, TransformContext, Transformer};
use serde_json::Value;

/// The transformer.
pub struct CleanCache;

/// Remove `cache_control` from `value` and everything below it; true if anything changed.
pub fn strip_cache_control(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut changed = map.remove("cache_control").is_some();
            for v in map.values_mut() {
                changed |= strip_cache_control(v);
            }
            changed
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, v| strip_cache_control(v) | changed),
        _ => false,
    }
}

#[ccr_plugin_sdk::transformer]
impl Transformer for CleanCache {
    fn info() -> PluginInfo {
        PluginInfo::transformer(
            "cleancache",
            env!("CARGO_PKG_VERSION"),
            "Removes cache_control everywhere (claude-code-router compatible)",
        )
    }

    fn new(_ctx: &TransformContext) -> Self {
        CleanCache
    }

    fn transform_request(
        &mut self,
        _ctx: &TransformContext,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, PluginError> {
        let mut json: Value = serde_json::from_slice(&body)
            .map_err(|e| PluginError::InvalidRequest(format!("request is not JSON: {e}")))?;
        if !strip_cache_control(&mut json) {
            return Ok(body);
        }
        serde_json::to_vec(&json).map_err(|e| PluginError::Internal(e.to_string()))
    }
}

ccr_plugin_sdk::export_transformer!(CleanCache);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_cache_control_at_every_depth() {
        let body = br#"{"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}],"cache_control":{"type":"ephemeral"}}"#;
        let out = CleanCache
            .transform_request(&TransformContext::default(), body.to_vec())
            .unwrap();
        assert!(!String::from_utf8(out).unwrap().contains("cache_control"));
    }

    #[test]
    fn untouched_bodies_come_back_byte_identical() {
        let body = br#"{"model":"m",  "messages":[]}"#;
        let out = CleanCache
            .transform_request(&TransformContext::default(), body.to_vec())
            .unwrap();
        assert_eq!(out, body);
    }
}
