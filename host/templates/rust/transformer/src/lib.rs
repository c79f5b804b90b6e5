//! {{name}}: a ccr transformer plugin. It passes requests through unchanged; override the
//! hooks you need (every hook defaults to a pass-through): `#[transformer]` lists them in
//! `hooks()`, and `new` builds the per-request state the hooks share through `&mut self`.

use ccr_plugin_sdk::anthropic::MessagesRequest;
use ccr_plugin_sdk::{PluginError, PluginInfo, TransformContext, Transformer};

pub struct Plugin;

#[ccr_plugin_sdk::transformer]
impl Transformer for Plugin {
    fn info() -> PluginInfo {
        PluginInfo::transformer("{{name}}", env!("CARGO_PKG_VERSION"), "A ccr transformer")
    }

    fn new(_ctx: &TransformContext) -> Self {
        Plugin
    }

    /// The Anthropic Messages request; `ctx.options()` holds this transformer's options.
    fn transform_request(
        &mut self,
        ctx: &TransformContext,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, PluginError> {
        let request = MessagesRequest::from_slice(&body)?;
        ccr_plugin_sdk::log::debug(&format!(
            "request for {},{} ({} tokens)",
            ctx.target.provider, ctx.target.model, ctx.route.token_count
        ));
        request.to_vec()
    }
}

ccr_plugin_sdk::export_transformer!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_the_request_through() {
        let body = br#"{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}"#;
        let out = Plugin.transform_request(&TransformContext::default(), body.to_vec()).unwrap();
        let out: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let want: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(out, want);
    }

    #[test]
    fn rejects_a_body_that_is_not_json() {
        let err = Plugin.transform_request(&TransformContext::default(), b"nope".to_vec());
        assert!(matches!(err, Err(PluginError::InvalidRequest(_))));
    }
}
