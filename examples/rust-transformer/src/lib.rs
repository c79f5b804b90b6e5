//! An example `ccr` transformer: caps `max_tokens` and tags the upstream request.
//!
//! Options (in `config.json`): `{"max_tokens": 4096}`; the default cap is 8192.

use ccr_plugin_sdk::anthropic::MessagesRequest;
use ccr_plugin_sdk::UpstreamRequest;
use ccr_plugin_sdk::{PluginError, PluginInfo, TransformContext, Transformer};

/// The cap when the options set none.
const DEFAULT_MAX_TOKENS: u64 = 8192;

/// Caps `max_tokens` and adds `x-ccr-example: clamped` to the upstream request.
pub struct Clamp;

#[ccr_plugin_sdk::transformer]
impl Transformer for Clamp {
    fn info() -> PluginInfo {
        PluginInfo::transformer(
            "rust-transformer",
            env!("CARGO_PKG_VERSION"),
            "Caps max_tokens and tags the upstream request",
        )
    }

    fn new(_ctx: &TransformContext) -> Self {
        Clamp
    }

    fn transform_request(
        &mut self,
        ctx: &TransformContext,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, PluginError> {
        let limit = ctx
            .options()?
            .get_u64("max_tokens")
            .unwrap_or(DEFAULT_MAX_TOKENS);
        let mut req = MessagesRequest::from_slice(&body)?;
        req.max_tokens = req.max_tokens.map(|n| n.min(limit));
        req.to_vec()
    }

    fn transform_upstream(
        &mut self,
        _ctx: &TransformContext,
        mut req: UpstreamRequest,
    ) -> Result<UpstreamRequest, PluginError> {
        req.head.set_header("x-ccr-example", "clamped");
        Ok(req)
    }
}

ccr_plugin_sdk::export_transformer!(Clamp);

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(options: &str) -> TransformContext {
        let mut ctx = TransformContext::default();
        ctx.target.options = options.to_owned();
        ctx
    }

    #[test]
    fn clamps_to_the_option_or_the_default() {
        let body = br#"{"model":"m","max_tokens":32000,"messages":[],"new_field":1}"#;
        let out = Clamp.transform_request(&ctx("{}"), body.to_vec()).unwrap();
        assert_eq!(
            out,
            br#"{"model":"m","max_tokens":8192,"messages":[],"new_field":1}"#
        );

        let out = Clamp
            .transform_request(&ctx(r#"{"max_tokens":100}"#), body.to_vec())
            .unwrap();
        assert_eq!(
            out,
            br#"{"model":"m","max_tokens":100,"messages":[],"new_field":1}"#
        );
    }

    #[test]
    fn leaves_smaller_values_alone() {
        let body = br#"{"model":"m","max_tokens":10,"messages":[]}"#;
        let out = Clamp.transform_request(&ctx("{}"), body.to_vec()).unwrap();
        assert_eq!(out, body);
    }

    #[test]
    fn tags_the_upstream_request() {
        let req = UpstreamRequest::post_json("https://example.com/v1/chat/completions", vec![]);
        let req = Clamp.transform_upstream(&ctx("{}"), req).unwrap();
        assert_eq!(req.head.header("X-CCR-Example"), Some("clamped"));
    }
}
