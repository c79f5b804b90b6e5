//! {{name}}: a ccr router plugin. It returns `None`, so the built-in rules decide; return
//! `Some(RouteDecision::new(provider, model))` to pick the target yourself.

use ccr_plugin_sdk::{PluginError, PluginInfo, RouteContext, RouteDecision, Router};

pub struct Plugin;

impl Router for Plugin {
    fn info() -> PluginInfo {
        PluginInfo::router("{{name}}", env!("CARGO_PKG_VERSION"), "A ccr router")
    }

    /// `config` is the whole config as JSON (secrets removed); `body` the Anthropic request.
    fn route(
        ctx: &RouteContext,
        _config: &str,
        _body: &[u8],
    ) -> Result<Option<RouteDecision>, PluginError> {
        ccr_plugin_sdk::log::debug(&format!(
            "built-in rules would pick {} for {} tokens",
            ctx.builtin_route, ctx.token_count
        ));
        Ok(None)
    }
}

ccr_plugin_sdk::export_router!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_the_decision_to_the_built_in_rules() {
        let decision = Plugin::route(&RouteContext::default(), "{}", b"{}").unwrap();
        assert_eq!(decision, None);
    }
}
