//! The [`Router`] trait and [`export_router!`](crate::export_router).

use crate::{PluginError, PluginInfo, RouteContext, RouteDecision};

/// A router: picks the provider and model that answer a request.
///
/// Register the implementation with [`export_router!`](crate::export_router).
pub trait Router: 'static {
    /// Name, version and description. Use [`PluginInfo::router`].
    fn info() -> PluginInfo;

    /// Picks where a request goes. `config` is the whole config as JSON with secrets removed;
    /// `body` is the Anthropic request. Return `Ok(None)` to fall back to the built-in rules.
    fn route(
        ctx: &RouteContext,
        config: &str,
        body: &[u8],
    ) -> Result<Option<RouteDecision>, PluginError>;
}

/// Exports a [`Router`] as the plugin's `router` world. Call it once, at the top level of
/// the plugin crate (a `cdylib`).
///
/// ```
/// use ccr_plugin_sdk::{PluginError, PluginInfo, RouteContext, RouteDecision, Router};
///
/// /// Sends long conversations to a long-context model.
/// struct LongContext;
///
/// impl Router for LongContext {
///     fn info() -> PluginInfo {
///         PluginInfo::router("long-context", "0.1.0", "Long conversations go to Gemini")
///     }
///
///     fn route(ctx: &RouteContext, _config: &str, _body: &[u8]) -> Result<Option<RouteDecision>, PluginError> {
///         Ok((ctx.token_count > 60_000).then(|| RouteDecision::new("gemini", "gemini-2.5-pro")))
///     }
/// }
///
/// ccr_plugin_sdk::export_router!(LongContext);
/// ```
#[macro_export]
macro_rules! export_router {
    ($plugin:ty) => {
        // The export glue exists only in WebAssembly builds: native builds (a plugin's unit
        // tests, clippy) just check that the type implements the trait.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __CcrPluginExport = $crate::__private::RouterExport<$plugin>;
            $crate::__private::bindings::router::export_world!(
                __CcrPluginExport with_types_in $crate::__private::bindings::router
            );
            $crate::__contract_section!();
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() = $crate::__private::assert_router::<$plugin>;
    };
}
