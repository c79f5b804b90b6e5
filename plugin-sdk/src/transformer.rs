//! The [`Transformer`] trait and [`export_transformer!`](crate::export_transformer).

use crate::{HookSet, PluginError, PluginInfo, SseEvent, TransformContext, UpstreamRequest};

/// A transformer: rewrites requests and responses on their way through.
///
/// Every hook defaults to passing its input through unchanged; override the ones you need
/// and list them in [`Transformer::hooks`] (the host calls only the hooks listed there).
/// Register the implementation with [`export_transformer!`](crate::export_transformer).
pub trait Transformer: 'static {
    /// Name, version and description. Use [`PluginInfo::transformer`].
    fn info() -> PluginInfo;

    /// The hooks this transformer implements, such as `HookSet::REQUEST | HookSet::UPSTREAM`.
    fn hooks() -> HookSet;

    /// Rewrites the Anthropic Messages request (JSON) before the provider translates it.
    /// Parse it with [`MessagesRequest::from_slice`](crate::anthropic::MessagesRequest::from_slice).
    fn transform_request(ctx: &TransformContext, body: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        let _ = ctx;
        Ok(body)
    }

    /// Rewrites the request the provider built (URL, headers, wire body).
    fn transform_upstream(
        ctx: &TransformContext,
        request: UpstreamRequest,
    ) -> Result<UpstreamRequest, PluginError> {
        let _ = ctx;
        Ok(request)
    }

    /// Rewrites a whole Anthropic Messages response (JSON).
    /// Parse it with [`MessagesResponse::from_slice`](crate::anthropic::MessagesResponse::from_slice).
    fn transform_response(ctx: &TransformContext, body: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        let _ = ctx;
        Ok(body)
    }

    /// Rewrites one Anthropic stream event into zero or more events. Parse it with
    /// [`StreamEvent::from_sse`](crate::anthropic::StreamEvent::from_sse).
    ///
    /// One instance serves a whole stream, so state between the events of one stream can
    /// live in a `thread_local!`; it never leaks into another request.
    fn transform_stream_event(
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
/// use ccr_plugin_sdk::{HookSet, PluginInfo, Transformer};
///
/// /// A transformer that changes nothing (every hook defaults to a pass-through).
/// struct Noop;
///
/// impl Transformer for Noop {
///     fn info() -> PluginInfo {
///         PluginInfo::transformer("noop", "0.1.0", "Changes nothing")
///     }
///
///     fn hooks() -> HookSet {
///         HookSet::empty()
///     }
/// }
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
