//! The [`Transformer`] trait and [`export_transformer!`](crate::export_transformer).

use crate::{HookSet, PluginError, PluginInfo, SseEvent, TransformContext, UpstreamRequest};

/// A transformer: rewrites requests and responses on their way through.
///
/// The host makes a fresh plugin instance per request, and the SDK builds the transformer
/// with [`Transformer::new`] on the instance's first hook call, then hands the same value
/// (`&mut self`) to every later hook of that request or stream: state such as "inside a
/// thinking block" is a field, and it never leaks into another request.
///
/// Every hook defaults to passing its input through unchanged; override the ones you need.
/// Put [`#[ccr_plugin_sdk::transformer]`](crate::transformer) on the `impl` block and it
/// writes [`Transformer::hooks`] from the hooks you define (the host calls only those).
/// Register the implementation with [`export_transformer!`](crate::export_transformer).
pub trait Transformer: Sized + 'static {
    /// Name, version and description. Use [`PluginInfo::transformer`].
    fn info() -> PluginInfo;

    /// The transformer for one request, built before its first hook runs.
    fn new(ctx: &TransformContext) -> Self;

    /// The hooks this transformer implements, such as `HookSet::REQUEST | HookSet::UPSTREAM`.
    /// Written by [`#[transformer]`](crate::transformer); write it by hand only without it.
    fn hooks() -> HookSet;

    /// Rewrites the Anthropic Messages request (JSON) before the provider translates it.
    /// Parse it with [`MessagesRequest::from_slice`](crate::anthropic::MessagesRequest::from_slice).
    fn transform_request(
        &mut self,
        ctx: &TransformContext,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, PluginError> {
        let _ = ctx;
        Ok(body)
    }

    /// Rewrites the request the provider built (URL, headers, wire body).
    fn transform_upstream(
        &mut self,
        ctx: &TransformContext,
        request: UpstreamRequest,
    ) -> Result<UpstreamRequest, PluginError> {
        let _ = ctx;
        Ok(request)
    }

    /// Rewrites a whole Anthropic Messages response (JSON).
    /// Parse it with [`MessagesResponse::from_slice`](crate::anthropic::MessagesResponse::from_slice).
    fn transform_response(
        &mut self,
        ctx: &TransformContext,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, PluginError> {
        let _ = ctx;
        Ok(body)
    }

    /// Rewrites one Anthropic stream event into zero or more events. Parse it with
    /// [`StreamEvent::from_sse`](crate::anthropic::StreamEvent::from_sse). Every event of
    /// one stream reaches the same `self`.
    fn transform_stream_event(
        &mut self,
        ctx: &TransformContext,
        event: SseEvent,
    ) -> Result<Vec<SseEvent>, PluginError> {
        let _ = ctx;
        Ok(vec![event])
    }
}

/// Exports a [`Transformer`] as the plugin's `transformer` world. Call it once, at the top
/// level of the plugin crate (a `cdylib`).
///
/// ```
/// use ccr_plugin_sdk::{HookSet, PluginInfo, TransformContext, Transformer};
///
/// /// A transformer that changes nothing (every hook defaults to a pass-through).
/// struct Noop;
///
/// #[ccr_plugin_sdk::transformer]
/// impl Transformer for Noop {
///     fn info() -> PluginInfo {
///         PluginInfo::transformer("noop", "0.1.0", "Changes nothing")
///     }
///
///     fn new(_ctx: &TransformContext) -> Self {
///         Noop
///     }
/// }
///
/// assert_eq!(Noop::hooks(), HookSet::empty());
///
/// ccr_plugin_sdk::export_transformer!(Noop);
/// ```
///
/// See the crate documentation for a transformer that does something.
#[macro_export]
macro_rules! export_transformer {
    ($plugin:ty) => {
        // The export glue exists only in WebAssembly builds: native builds (a plugin's unit
        // tests, clippy) just check that the type implements the trait.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __CcrPluginExport = $crate::__private::TransformerExport<$plugin>;
            $crate::__private::bindings::transformer::export_world!(
                __CcrPluginExport with_types_in $crate::__private::bindings::transformer
            );
            $crate::__contract_section!();
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() = $crate::__private::assert_transformer::<$plugin>;
    };
}
