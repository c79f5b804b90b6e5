//! claude-code-router's `maxtoken` transformer: `["maxtoken", {"max_tokens": 16384}]` caps
//! the request's `max_tokens` (providers reject values above their own limit).

use ccr_plugin_sdk::json::TopLevel;
use ccr_plugin_sdk::{PluginError, PluginInfo, TransformContext, Transformer};

/// The transformer.
pub struct MaxToken;

#[ccr_plugin_sdk::transformer]
impl Transformer for MaxToken {
    fn info() -> PluginInfo {
        PluginInfo::transformer(
            "maxtoken",
            env!("CARGO_PKG_VERSION"),
            "Caps max_tokens at the `max_tokens` option (claude-code-router compatible)",
        )
    }

    fn new(_ctx: &TransformContext) -> Self {
        MaxToken
    }

    fn transform_request(
        &mut self,
        ctx: &TransformContext,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, PluginError> {
        let Some(limit) = ctx.options()?.get_u64("max_tokens") else {
            return Ok(body); // no cap configured: nothing to do
        };
        // Only a top-level number changes: don't decode the 100 KB below it.
        let mut req = TopLevel::parse(&body)?;
        match req.get_u64("max_tokens") {
            Some(n) if n <= limit => Ok(body),
            _ => {
                req.set("max_tokens", &limit)?;
                Ok(req.to_vec())
            }
        }
    }
}

ccr_plugin_sdk::export_transformer!(MaxToken);

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(options: &str) -> TransformContext {
        let mut ctx = TransformContext::default();
        ctx.target.options = options.to_owned();
        ctx
    }

    #[test]
    fn caps_and_keeps_everything_else() {
        let body = br#"{"model":"m","max_tokens":32000,"messages":[],"x":{"y":1}}"#;
        let out = MaxToken
            .transform_request(&ctx(r#"{"max_tokens":16384}"#), body.to_vec())
            .unwrap();
        assert_eq!(
            out,
            br#"{"model":"m","max_tokens":16384,"messages":[],"x":{"y":1}}"#
        );
    }

    #[test]
    fn smaller_values_and_missing_options_pass_untouched() {
        let body = br#"{"model":"m","max_tokens":10,"messages":[]}"#;
        let out = MaxToken
            .transform_request(&ctx(r#"{"max_tokens":16384}"#), body.to_vec())
            .unwrap();
        assert_eq!(out, body);
        let out = MaxToken
            .transform_request(&ctx("{}"), body.to_vec())
            .unwrap();
        assert_eq!(out, body);
    }
}
