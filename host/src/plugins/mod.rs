//! The plugin platform: the wasmtime runtime ([`runtime`]), per-request instances
//! ([`instance`]), the instances streams are translated in ([`stream_host`]), a provider's transformer chain ([`chain`]), the registry of loaded
//! plugins ([`registry`]) and hot reload ([`reload`]). The host-side WIT bindings live in
//! [`bindings`].

pub mod bindings;
pub mod chain;
pub mod instance;
pub mod registry;
pub mod reload;
pub mod runtime;
pub mod stream_host;

pub use bindings::HookSet;
pub use instance::{PluginCallError, ProviderInstance, TransformerInstance};
pub use registry::{PluginRegistry, PluginSet, PluginStatus};
pub use runtime::{LoadedPlugin, PluginEngine, PluginLimits, PluginSource};
pub use stream_host::StreamTranslatorInstance;
