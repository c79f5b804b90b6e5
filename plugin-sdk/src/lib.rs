//! The Rust SDK for `ccr` plugins: providers, transformers and routers compiled to
//! WebAssembly components that speak the `ccr:plugin` contract (`wit/`, one file per
//! interface; the version is [`CONTRACT_VERSION`]).
//!
//! Implement one trait ([`Provider`], [`Transformer`] or [`Router`]) and register it with one
//! macro ([`export_provider!`], [`export_transformer!`] or [`export_router!`]). The SDK owns
//! the generated bindings; a plugin crate depends on nothing but `ccr-plugin-sdk`.
//!
//! ```
//! use ccr_plugin_sdk::anthropic::MessagesRequest;
//! use ccr_plugin_sdk::{HookSet, PluginError, PluginInfo, TransformContext, Transformer};
//! use ccr_plugin_sdk::UpstreamRequest;
//!
//! /// Caps `max_tokens` and tags the upstream request.
//! pub struct Clamp {
//!     limit: u64,
//! }
//!
//! // `#[transformer]` writes `hooks()` from the hooks defined here: REQUEST | UPSTREAM.
//! #[ccr_plugin_sdk::transformer]
//! impl Transformer for Clamp {
//!     fn info() -> PluginInfo {
//!         PluginInfo::transformer("clamp", "0.1.0", "Caps max_tokens")
//!     }
//!
//!     // Built once per request, before its first hook; the hooks share `self`.
//!     fn new(ctx: &TransformContext) -> Self {
//!         let options = ctx.options().ok();
//!         let limit = options.and_then(|o| o.get_u64("max_tokens")).unwrap_or(8192);
//!         Clamp { limit }
//!     }
//!
//!     fn transform_request(
//!         &mut self,
//!         _ctx: &TransformContext,
//!         body: Vec<u8>,
//!     ) -> Result<Vec<u8>, PluginError> {
//!         let mut req = MessagesRequest::from_slice(&body)?;
//!         req.max_tokens = req.max_tokens.map(|n| n.min(self.limit));
//!         req.to_vec()
//!     }
//!
//!     fn transform_upstream(
//!         &mut self,
//!         _ctx: &TransformContext,
//!         mut req: UpstreamRequest,
//!     ) -> Result<UpstreamRequest, PluginError> {
//!         req.head.set_header("x-clamped", "yes");
//!         Ok(req)
//!     }
//! }
//!
//! ccr_plugin_sdk::export_transformer!(Clamp);
//! #
//! # fn main() -> Result<(), PluginError> {
//! #     assert_eq!(Clamp::hooks(), HookSet::REQUEST | HookSet::UPSTREAM);
//! #     let ctx = TransformContext::default();
//! #     let body = br#"{"model":"m","max_tokens":32000,"messages":[]}"#.to_vec();
//! #     let out = Clamp::new(&ctx).transform_request(&ctx, body)?;
//! #     assert_eq!(out, br#"{"model":"m","max_tokens":8192,"messages":[]}"#);
//! #     Ok(())
//! # }
//! ```
//!
//! Build it with `cargo build --target wasm32-wasip2 --release` (crate type `cdylib`): the
//! output is a component the host loads from its plugins folder.
//!
//! # What is in here
//! - The contract's types, once for all three worlds: [`PluginInfo`], [`PluginError`],
//!   [`UpstreamRequest`], [`SseEvent`], [`TransformContext`], ... with conveniences such as
//!   [`PluginInfo::transformer`], [`HttpHead::set_header`] and [`ApiError::for_status`].
//! - [`anthropic`]: serde models of the Messages request, response and stream events that
//!   keep unknown fields.
//! - [`sse`]: builders for Anthropic stream events in the exact wire shape.
//! - [`provider`]: the provider kit: the borrowed request view, [`provider::AnthropicStreamWriter`]
//!   and the one status → Anthropic error table ([`provider::map_status`]).
//! - [`Options`]: a plugin's options from `config.json`.
//! - [`log`]: logging through the host (and the [`info!`]-style macros).
//!
//! # Contract version
//! The SDK's version is the contract's version ([`CONTRACT_VERSION`]). Every export macro
//! writes it into the plugin's core module as the custom section `ccr:plugin-contract`, so
//! the host can tell which contract a plugin speaks before compiling it.

#![warn(missing_docs)]

// Lets the generated bindings name this crate `ccr_plugin_sdk` both here and inside the
// plugin crates that expand the export macros.
extern crate self as ccr_plugin_sdk;

#[doc(hidden)]
#[path = "export.rs"]
pub mod __private;
pub mod anthropic;
pub mod json;
pub mod log;
mod options;
pub mod provider;
mod router;
pub mod sse;
mod transformer;
mod types;

pub use options::Options;
pub use provider::{Provider, ProviderStream};
pub use router::Router;
pub use transformer::Transformer;

/// Writes [`Transformer::hooks`] from the `transform_*` methods an `impl Transformer` block
/// defines: `#[ccr_plugin_sdk::transformer] impl Transformer for MyPlugin { .. }`.
pub use ccr_plugin_sdk_macros::transformer;

pub use __private::bindings::common::ccr::plugin::host::LogLevel;
pub use __private::bindings::common::ccr::plugin::types::{
    ApiError, Header, HttpHead, PluginError, PluginInfo, PluginKind, RouteContext, SseEvent,
    StreamFraming, Target, UpstreamEvent, UpstreamRequest,
};
pub use __private::bindings::provider::exports::ccr::plugin::provider_api::ProviderTarget;
pub use __private::bindings::router::exports::ccr::plugin::router_api::RouteDecision;
pub use __private::bindings::transformer::exports::ccr::plugin::transformer_api::{
    HookSet, TransformContext,
};

/// The version of the `ccr:plugin` contract this SDK implements; also the SDK's version and
/// the content of the `ccr:plugin-contract` custom section. Read at build time from the
/// `package` line of `wit/worlds.wit`, the one place it is written.
pub const CONTRACT_VERSION: &str = env!("CCR_CONTRACT_VERSION");

/// Name of the custom section holding [`CONTRACT_VERSION`] (UTF-8, no terminator) in every
/// plugin built with this SDK.
pub const CONTRACT_SECTION_NAME: &str = "ccr:plugin-contract";
