//! The generated bindings and the glue between them and the SDK's traits. Not public API:
//! only the `export_*!` macros reach in here.
//!
//! `types` and `host` are generated once (in `common`) and every world maps onto them with
//! `with`, so one `PluginError` serves all three worlds. Each world is generated with
//! `pub_export_macro`: the SDK's own type section lists imports only, and a world's exports
//! are declared (in a custom section emitted by the export macro) only in the plugin crate
//! that invokes it, so a transformer never claims to export the provider API.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;

pub use wit_bindgen;

use crate::{
    HookSet, PluginError, PluginInfo, ProviderTarget, RouteContext, RouteDecision, SseEvent,
    TransformContext, UpstreamEvent, UpstreamRequest,
};
use crate::{Provider, ProviderStream, Router, Transformer};

/// The bytes of the `ccr:plugin-contract` custom section: [`crate::CONTRACT_VERSION`]
/// (a fixed-size array, as a `#[link_section]` static needs).
pub const CONTRACT_SECTION: [u8; crate::CONTRACT_VERSION.len()] = contract_section();

const fn contract_section() -> [u8; crate::CONTRACT_VERSION.len()] {
    let version = crate::CONTRACT_VERSION.as_bytes();
    let mut section = [0; crate::CONTRACT_VERSION.len()];
    let mut i = 0;
    while i < version.len() {
        section[i] = version[i];
        i += 1;
    }
    section
}

/// The output of `wit_bindgen::generate!`, one module per world (`src/bindings.in.rs`, with
/// the contract version filled in by `build.rs`).
#[allow(missing_docs)]
pub mod bindings {
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

use bindings::provider::exports::ccr::plugin::provider_api;
use bindings::router::exports::ccr::plugin::router_api;
use bindings::transformer::exports::ccr::plugin::transformer_api;

/// Implements the `provider` world's generated traits for any [`Provider`].
pub struct ProviderExport<T>(PhantomData<T>);

impl<T: Provider> bindings::provider::Guest for ProviderExport<T> {
    fn metadata() -> PluginInfo {
        T::info()
    }
}

impl<T: Provider> provider_api::Guest for ProviderExport<T> {
    type StreamTranslator = StreamTranslatorExport<T::Stream>;

    fn build_request(
        target: ProviderTarget,
        body: Vec<u8>,
    ) -> Result<UpstreamRequest, PluginError> {
        T::build_request(&target, &body)
    }

    fn parse_response(
        target: ProviderTarget,
        status: u16,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, PluginError> {
        T::parse_response(&target, status, &body)
    }
}

/// The `stream-translator` resource, backed by a [`ProviderStream`]. The host calls one
/// method at a time, so the `RefCell` never sees a second borrow.
pub struct StreamTranslatorExport<S>(RefCell<S>);

impl<S: ProviderStream> provider_api::GuestStreamTranslator for StreamTranslatorExport<S> {
    fn new(target: ProviderTarget) -> Self {
        StreamTranslatorExport(RefCell::new(S::new(target)))
    }

    fn feed(&self, event: UpstreamEvent) -> Result<Vec<SseEvent>, PluginError> {
        self.0.borrow_mut().feed(event)
    }

    fn finish(&self) -> Result<Vec<SseEvent>, PluginError> {
        self.0.borrow_mut().finish()
    }
}

/// Implements the `transformer` world's generated traits for any [`Transformer`].
pub struct TransformerExport<T>(PhantomData<T>);

impl<T: Transformer> bindings::transformer::Guest for TransformerExport<T> {
    fn metadata() -> PluginInfo {
        T::info()
    }
}

impl<T: Transformer> transformer_api::Guest for TransformerExport<T> {
    fn hooks() -> HookSet {
        T::hooks()
    }

    fn transform_request(ctx: TransformContext, body: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        with_transformer::<T, _>(&ctx, |t| t.transform_request(&ctx, body))
    }

    fn transform_upstream(
        ctx: TransformContext,
        request: UpstreamRequest,
    ) -> Result<UpstreamRequest, PluginError> {
        with_transformer::<T, _>(&ctx, |t| t.transform_upstream(&ctx, request))
    }

    fn transform_response(ctx: TransformContext, body: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        with_transformer::<T, _>(&ctx, |t| t.transform_response(&ctx, body))
    }

    fn transform_stream_event(
        ctx: TransformContext,
        event: SseEvent,
    ) -> Result<Vec<SseEvent>, PluginError> {
        with_transformer::<T, _>(&ctx, |t| t.transform_stream_event(&ctx, event))
    }
}

thread_local! {
    /// The instance's transformer. The host makes one instance per request and wasm is
    /// single-threaded, so this is "the transformer of this request"; a component exports one
    /// transformer type, and `Any` stands in for it because a static cannot be generic.
    static TRANSFORMER: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Runs `hook` on the instance's transformer, building it with [`Transformer::new`] on the
/// first hook call. Hooks never call each other, so the `RefCell` is never borrowed twice.
pub fn with_transformer<T: Transformer, R>(
    ctx: &TransformContext,
    hook: impl FnOnce(&mut T) -> R,
) -> R {
    TRANSFORMER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let state = slot.get_or_insert_with(|| Box::new(T::new(ctx)));
        let transformer = state
            .downcast_mut::<T>()
            .expect("a component exports a single transformer type");
        hook(transformer)
    })
}

/// Implements the `router` world's generated traits for any [`Router`].
pub struct RouterExport<T>(PhantomData<T>);

impl<T: Router> bindings::router::Guest for RouterExport<T> {
    fn metadata() -> PluginInfo {
        T::info()
    }
}

impl<T: Router> router_api::Guest for RouterExport<T> {
    fn route(
        ctx: RouteContext,
        config: String,
        body: Vec<u8>,
    ) -> Result<Option<RouteDecision>, PluginError> {
        T::route(&ctx, &config, &body)
    }
}

/// Native stand-ins for the export macros: they only check the trait bound.
pub fn assert_provider<T: Provider>() {}

/// See [`assert_provider`].
pub fn assert_transformer<T: Transformer>() {}

/// See [`assert_provider`].
pub fn assert_router<T: Router>() {}

/// Emits the `ccr:plugin-contract` custom section into the plugin crate (a cdylib's own
/// objects are always linked, so the section cannot be dropped as unused SDK code).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_section {
    () => {
        #[used]
        #[unsafe(link_section = "ccr:plugin-contract")]
        static __CCR_PLUGIN_CONTRACT: [u8; $crate::__private::CONTRACT_SECTION.len()] =
            $crate::__private::CONTRACT_SECTION;
    };
}
