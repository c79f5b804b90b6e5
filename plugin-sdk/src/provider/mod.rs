//! Providers: the [`Provider`] trait, [`export_provider!`](crate::export_provider), and the
//! provider kit every provider is written on (see `docs/provider-kit.md`):
//! - [`request`]: the Anthropic Messages request, borrowed from its body, to translate from;
//! - [`text`]: the zero-copy strings that view is made of ([`Str`], [`Text`]);
//! - [`AnthropicStreamWriter`]: the Anthropic side of a stream translator (`message_start`,
//!   block indices, deltas, `message_delta`/`message_stop`);
//! - [`errors`]: the one status → Anthropic error table ([`map_status`]) and reading upstream
//!   error bodies;
//! - [`ids`]: stable generated message ids, tool ids and thinking signatures.

pub mod errors;
pub mod ids;
pub mod request;
pub mod stream_writer;
pub mod text;

pub use errors::{
    error_body_message, error_from_body, error_from_value, is_context_overflow, map_status,
    upstream_error,
};
pub use ids::{generated_tool_id, message_id, thinking_signature, Fnv};
pub use stream_writer::{AnthropicStreamWriter, BlockKind};
pub use text::{Str, Text};

use crate::{PluginError, PluginInfo, ProviderTarget, SseEvent, UpstreamEvent, UpstreamRequest};

/// A provider adapter: translates an Anthropic Messages request into one upstream's wire
/// format, and the upstream's answer (whole or streamed) back into Anthropic's format.
///
/// Register the implementation with [`export_provider!`](crate::export_provider).
pub trait Provider: 'static {
    /// Translates one streamed answer; the host creates one per response.
    type Stream: ProviderStream;

    /// Name, version and description. Use [`PluginInfo::provider`].
    fn info() -> PluginInfo;

    /// Turns an Anthropic Messages request (JSON, see
    /// [`MessagesRequest`](crate::anthropic::MessagesRequest)) into the upstream request.
    fn build_request(target: &ProviderTarget, body: &[u8]) -> Result<UpstreamRequest, PluginError>;

    /// Turns a whole upstream answer into an Anthropic Messages response (JSON, see
    /// [`MessagesResponse`](crate::anthropic::MessagesResponse)). Called for every status; a
    /// non-2xx status should come back as [`PluginError::Upstream`] (see
    /// [`ApiError::for_status`](crate::ApiError::for_status)).
    fn parse_response(
        target: &ProviderTarget,
        status: u16,
        body: &[u8],
    ) -> Result<Vec<u8>, PluginError>;
}

/// The state of one streamed answer: the host feeds it every upstream event in order and
/// it answers with Anthropic events (build them with [`crate::sse`]).
pub trait ProviderStream: Sized + 'static {
    /// Starts translating an answer to a request sent to `target`.
    fn new(target: ProviderTarget) -> Self;

    /// Translates one upstream event into zero or more Anthropic events.
    fn feed(&mut self, event: UpstreamEvent) -> Result<Vec<SseEvent>, PluginError>;

    /// The upstream stream ended: close open blocks and finish the message
    /// (`message_delta`, `message_stop`) if the upstream did not.
    fn finish(&mut self) -> Result<Vec<SseEvent>, PluginError>;
}

/// Exports a [`Provider`] as the plugin's `provider` world. Call it once, at the top level
/// of the plugin crate (a `cdylib`).
///
/// ```
/// use ccr_plugin_sdk::{sse, ApiError, PluginError, PluginInfo, Provider, ProviderStream};
/// use ccr_plugin_sdk::{ProviderTarget, SseEvent, UpstreamEvent, UpstreamRequest};
///
/// /// Sends the Anthropic request as it is and streams the upstream's text back.
/// struct Passthrough;
///
/// impl Provider for Passthrough {
///     type Stream = TextStream;
///
///     fn info() -> PluginInfo {
///         PluginInfo::provider("passthrough", "0.1.0", "Forwards requests unchanged")
///     }
///
///     fn build_request(t: &ProviderTarget, body: &[u8]) -> Result<UpstreamRequest, PluginError> {
///         let mut req = UpstreamRequest::post_json(&t.target.base_url, body.to_vec());
///         req.head.set_header("x-api-key", &t.api_key);
///         Ok(req)
///     }
///
///     fn parse_response(_: &ProviderTarget, status: u16, body: &[u8]) -> Result<Vec<u8>, PluginError> {
///         if status >= 400 {
///             return Err(ApiError::for_status(status, String::from_utf8_lossy(body)).into());
///         }
///         Ok(body.to_vec())
///     }
/// }
///
/// struct TextStream;
///
/// impl ProviderStream for TextStream {
///     fn new(_target: ProviderTarget) -> Self {
///         TextStream
///     }
///
///     fn feed(&mut self, event: UpstreamEvent) -> Result<Vec<SseEvent>, PluginError> {
///         Ok(vec![sse::text_delta(0, &String::from_utf8_lossy(&event.data))])
///     }
///
///     fn finish(&mut self) -> Result<Vec<SseEvent>, PluginError> {
///         Ok(vec![sse::content_block_stop(0), sse::message_stop()])
///     }
/// }
///
/// ccr_plugin_sdk::export_provider!(Passthrough);
/// ```
#[macro_export]
macro_rules! export_provider {
    ($plugin:ty) => {
        // The export glue exists only in WebAssembly builds: native builds (a plugin's unit
        // tests, clippy) just check that the type implements the trait.
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __CcrPluginExport = $crate::__private::ProviderExport<$plugin>;
            $crate::__private::bindings::provider::export_world!(
                __CcrPluginExport with_types_in $crate::__private::bindings::provider
            );
            $crate::__contract_section!();
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() = $crate::__private::assert_provider::<$plugin>;
    };
}
