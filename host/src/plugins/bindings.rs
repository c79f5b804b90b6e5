//! Host-side bindings for the three plugin worlds of the contract in `wit/` (`worlds.wit`).
//!
//! Each world gets its own typed bindings (and so its own typed `*Pre`), but the shared
//! `types` and `host` interfaces are generated once, in [`provider`], and reused by the other
//! two through `with`, so a `RouteContext` or `PluginInfo` is the same Rust type everywhere.

/// Bindings for the `provider` world (and the shared `types` / `host` interfaces).
pub mod provider {
    wasmtime::component::bindgen!({
        world: "provider",
        path: "../wit",
        imports: { default: trappable },
        exports: { default: async },
    });
}

/// Bindings for the `transformer` world.
pub mod transformer {
    wasmtime::component::bindgen!({
        world: "transformer",
        path: "../wit",
        imports: { default: trappable },
        exports: { default: async },
        with: {
            "ccr:plugin/types": super::provider::ccr::plugin::types,
            "ccr:plugin/host": super::provider::ccr::plugin::host,
        },
    });
}

/// Bindings for the `router` world.
pub mod router {
    wasmtime::component::bindgen!({
        world: "router",
        path: "../wit",
        imports: { default: trappable },
        exports: { default: async },
        with: {
            "ccr:plugin/types": super::provider::ccr::plugin::types,
            "ccr:plugin/host": super::provider::ccr::plugin::host,
        },
    });
}

pub use provider::ccr::plugin::host::LogLevel;
pub use provider::ccr::plugin::types::{
    ApiError, HttpHead, PluginError, PluginInfo, PluginKind, RouteContext, SseEvent, StreamFraming,
    Target, UpstreamEvent, UpstreamRequest,
};
pub use provider::exports::ccr::plugin::provider_api::ProviderTarget;
pub use router::exports::ccr::plugin::router_api::RouteDecision as PluginRouteDecision;
pub use transformer::exports::ccr::plugin::transformer_api::{HookSet, TransformContext};
