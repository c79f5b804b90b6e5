//! Per-request plugin instances: a fresh store and instance from a plugin's typed `Pre`,
//! and the calls the request path makes into it.
//!
//! Every call runs under the plugin's wall-clock budget; a trap, a timeout, a memory-limit
//! hit or a returned `plugin-error` becomes a [`PluginCallError`] naming the plugin and the
//! export, and costs only the request that made the call. After a trap or a timeout the
//! instance refuses further calls (its state can no longer be trusted).

use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Store, Trap};

use super::bindings::{
    provider::Provider, router::Router, transformer::Transformer, PluginError, PluginKind,
    PluginRouteDecision, ProviderTarget, RouteContext, SseEvent, TransformContext, UpstreamRequest,
};
use super::runtime::{
    is_pool_exhausted, root_cause, Allocation, LoadedPlugin, PluginEngine, PluginPre, PluginState,
};
use super::HookSet;

/// Why a call into a plugin failed. Every variant names the plugin and the export.
#[derive(Debug, thiserror::Error)]
pub enum PluginCallError {
    /// The plugin ran fine and returned a `plugin-error`.
    #[error("plugin '{plugin}' refused in {export}: {}", describe(error))]
    Returned {
        /// Plugin name.
        plugin: Arc<str>,
        /// The export that was called.
        export: &'static str,
        /// What the plugin returned.
        error: PluginError,
    },
    /// The plugin trapped: a panic, an out-of-bounds access, hitting its memory limit...
    #[error("plugin '{plugin}' crashed in {export}: {reason}")]
    Trapped {
        /// Plugin name.
        plugin: Arc<str>,
        /// The export that was called.
        export: &'static str,
        /// The trap and anything the plugin printed to stderr.
        reason: String,
    },
    /// The plugin did not return within its budget.
    #[error("plugin '{plugin}' did not finish {export} within {} ms", limit.as_millis())]
    TimedOut {
        /// Plugin name.
        plugin: Arc<str>,
        /// The export that was called.
        export: &'static str,
        /// The budget it exceeded.
        limit: Duration,
    },
    /// The plugin returned something the host cannot use (for example a body that is not
    /// JSON).
    #[error("plugin '{plugin}' returned invalid output from {export}: {reason}")]
    InvalidOutput {
        /// Plugin name.
        plugin: Arc<str>,
        /// The export that was called.
        export: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// No instance of the plugin could be created for a reason that is not the plugin's
    /// fault (no memory could be mapped for it): the proxy is overloaded, try again.
    #[error(
        "plugin '{plugin}' could not be instantiated (the proxy is out of resources): {reason}"
    )]
    Unavailable {
        /// Plugin name.
        plugin: Arc<str>,
        /// Why.
        reason: String,
    },
    /// The plugin is not of the kind the caller needs.
    #[error("plugin '{plugin}' is a {actual}, not a {expected}")]
    WrongKind {
        /// Plugin name.
        plugin: Arc<str>,
        /// The kind the caller needed.
        expected: &'static str,
        /// The plugin's kind.
        actual: &'static str,
    },
}

impl PluginCallError {
    /// Build an [`PluginCallError::InvalidOutput`] for `plugin`.
    pub fn invalid_output(plugin: &LoadedPlugin, export: &'static str, reason: String) -> Self {
        PluginCallError::InvalidOutput {
            plugin: plugin.name.clone(),
            export,
            reason,
        }
    }
}

/// One line describing a `plugin-error`.
pub fn describe(error: &PluginError) -> String {
    match error {
        PluginError::InvalidRequest(msg) => format!("invalid request: {msg}"),
        PluginError::Upstream(e) => {
            format!("upstream {} {}: {}", e.status, e.error_type, e.message)
        }
        PluginError::Internal(msg) => format!("internal error: {msg}"),
    }
}

/// A plugin's store for one request, with the bookkeeping shared by every kind.
pub(super) struct Guarded {
    pub(super) plugin: Arc<LoadedPlugin>,
    pub(super) store: Store<PluginState>,
    broken: bool,
}

/// A fresh instance's exports, by world.
pub(super) enum Bindings {
    Provider(Provider),
    Transformer(Transformer),
    Router(Router),
}

impl Guarded {
    /// A fresh store and instance of `plugin` from `allocation` (a pooled slot falls back
    /// to memory mapped for it alone when the pool is full). A failure that is not the
    /// plugin's (nothing could be mapped) is [`PluginCallError::Unavailable`], never a
    /// crash.
    pub(super) async fn instantiate(
        engine: &PluginEngine,
        plugin: Arc<LoadedPlugin>,
        mut allocation: Allocation,
    ) -> Result<(Self, Bindings), PluginCallError> {
        let unavailable =
            |plugin: &LoadedPlugin, err: &dyn std::fmt::Display| PluginCallError::Unavailable {
                plugin: plugin.name.clone(),
                reason: err.to_string(),
            };
        loop {
            let (store, pre) = engine
                .store_for(&plugin, allocation)
                .map_err(|e| unavailable(&plugin, &format!("{e:#}")))?;
            let mut g = Guarded {
                plugin: plugin.clone(),
                store,
                broken: false,
            };
            let limit = plugin.limits.timeout;
            let outcome = tokio::time::timeout(limit, instantiate_pre(&pre, &mut g.store)).await;
            match outcome {
                Ok(Err(err))
                    if is_pool_exhausted(&err)
                        && allocation == Allocation::Pooled
                        && engine.has_overflow() =>
                {
                    static SAID: std::sync::Once = std::sync::Once::new();
                    SAID.call_once(|| {
                        tracing::info!(
                            "the plugin instance pool is full; further instances are \
                             allocated on demand (CCR_PLUGIN_POOL_INSTANCES sizes the pool)"
                        )
                    });
                    allocation = Allocation::OnDemand;
                }
                // A trap in the component's start code is the plugin's; anything else
                // (address space, memory) is the machine's.
                Ok(Err(err)) if err.downcast_ref::<Trap>().is_none() => {
                    return Err(unavailable(&plugin, &root_cause(&err)))
                }
                outcome => {
                    let bindings = g.settle("instantiate", outcome)?;
                    return Ok((g, bindings));
                }
            }
        }
    }

    pub(super) fn check_usable(&self, export: &'static str) -> Result<(), PluginCallError> {
        if self.broken {
            return Err(PluginCallError::Trapped {
                plugin: self.plugin.name.clone(),
                export,
                reason: "the instance already failed earlier in this request".into(),
            });
        }
        Ok(())
    }

    /// Whether a call trapped or timed out (the instance can no longer be trusted).
    pub(super) fn is_broken(&self) -> bool {
        self.broken
    }

    /// Turn the outcome of a timed call into the host's error vocabulary.
    pub(super) fn settle<T>(
        &mut self,
        export: &'static str,
        outcome: Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
    ) -> Result<T, PluginCallError> {
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => {
                self.broken = true;
                let mut reason = match err.downcast_ref::<Trap>() {
                    Some(Trap::Interrupt) => "interrupted".to_string(),
                    Some(trap) => format!("{trap}"),
                    None => root_cause(&err),
                };
                if reason.contains("forcing trap when growing memory") {
                    reason = format!(
                        "exceeded its memory limit of {} MiB ({reason})",
                        self.plugin.limits.memory_bytes >> 20
                    );
                }
                let stderr = self.store.data().stderr();
                let stderr = stderr.trim();
                if !stderr.is_empty() {
                    reason = format!("{reason}; stderr: {stderr}");
                }
                Err(PluginCallError::Trapped {
                    plugin: self.plugin.name.clone(),
                    export,
                    reason,
                })
            }
            Err(_) => {
                self.broken = true;
                Err(PluginCallError::TimedOut {
                    plugin: self.plugin.name.clone(),
                    export,
                    limit: self.plugin.limits.timeout,
                })
            }
        }
    }

    fn returned<T>(
        &self,
        export: &'static str,
        result: Result<T, PluginError>,
    ) -> Result<T, PluginCallError> {
        returned(&self.plugin, export, result)
    }
}

/// A `plugin-error` that `plugin`'s `export` returned, in the host's vocabulary.
pub(super) fn returned<T>(
    plugin: &LoadedPlugin,
    export: &'static str,
    result: Result<T, PluginError>,
) -> Result<T, PluginCallError> {
    result.map_err(|error| PluginCallError::Returned {
        plugin: plugin.name.clone(),
        export,
        error,
    })
}

async fn instantiate_pre(
    pre: &PluginPre,
    store: &mut Store<PluginState>,
) -> wasmtime::Result<Bindings> {
    Ok(match pre {
        PluginPre::Provider(p) => Bindings::Provider(p.instantiate_async(store).await?),
        PluginPre::Transformer(p, _) => Bindings::Transformer(p.instantiate_async(store).await?),
        PluginPre::Router(p) => Bindings::Router(p.instantiate_async(store).await?),
    })
}

/// Runs `$call` (a future borrowing `$g.store`) under the plugin's budget and settles it.
macro_rules! timed {
    ($g:expr, $export:expr, $call:expr) => {{
        $g.check_usable($export)?;
        let limit = $g.plugin.limits.timeout;
        let outcome = tokio::time::timeout(limit, $call).await;
        $g.settle($export, outcome)
    }};
}

pub(super) use timed;

pub(super) fn wrong_kind(plugin: &LoadedPlugin, expected: &'static str) -> PluginCallError {
    PluginCallError::WrongKind {
        plugin: plugin.name.clone(),
        expected,
        actual: super::runtime::kind_name(plugin.info.kind),
    }
}

/// A provider plugin instantiated for one request.
pub struct ProviderInstance {
    g: Guarded,
    bindings: Provider,
}

impl ProviderInstance {
    /// Create a fresh instance of `plugin` (which must be a provider).
    pub async fn new(
        engine: &PluginEngine,
        plugin: Arc<LoadedPlugin>,
    ) -> Result<Self, PluginCallError> {
        if plugin.info.kind != PluginKind::Provider {
            return Err(wrong_kind(&plugin, "provider"));
        }
        let (g, Bindings::Provider(bindings)) =
            Guarded::instantiate(engine, plugin.clone(), Allocation::Pooled).await?
        else {
            return Err(wrong_kind(&plugin, "provider"));
        };
        Ok(Self { g, bindings })
    }

    /// The plugin this instance runs.
    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.g.plugin
    }

    /// `build-request`: Anthropic request JSON → upstream request.
    pub async fn build_request(
        &mut self,
        target: &ProviderTarget,
        body: &[u8],
    ) -> Result<UpstreamRequest, PluginCallError> {
        let api = self.bindings.ccr_plugin_provider_api();
        let result = timed!(
            self.g,
            "build-request",
            api.call_build_request(&mut self.g.store, target, body)
        )?;
        self.g.returned("build-request", result)
    }

    /// `parse-response`: whole upstream answer → Anthropic response JSON.
    pub async fn parse_response(
        &mut self,
        target: &ProviderTarget,
        status: u16,
        body: &[u8],
    ) -> Result<Vec<u8>, PluginCallError> {
        let api = self.bindings.ccr_plugin_provider_api();
        let result = timed!(
            self.g,
            "parse-response",
            api.call_parse_response(&mut self.g.store, target, status, body)
        )?;
        self.g.returned("parse-response", result)
    }
}

/// A transformer plugin instantiated for one request (and kept for its whole response).
pub struct TransformerInstance {
    g: Guarded,
    bindings: Transformer,
    hooks: HookSet,
}

impl TransformerInstance {
    /// Create a fresh instance of `plugin` (which must be a transformer).
    pub async fn new(
        engine: &PluginEngine,
        plugin: Arc<LoadedPlugin>,
    ) -> Result<Self, PluginCallError> {
        let PluginPre::Transformer(_, hooks) = &plugin.pre else {
            return Err(wrong_kind(&plugin, "transformer"));
        };
        let hooks = *hooks;
        let (g, Bindings::Transformer(bindings)) =
            Guarded::instantiate(engine, plugin.clone(), Allocation::Pooled).await?
        else {
            return Err(wrong_kind(&plugin, "transformer"));
        };
        Ok(Self { g, bindings, hooks })
    }

    /// The plugin this instance runs.
    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.g.plugin
    }

    /// The hooks the plugin implements.
    pub fn hooks(&self) -> HookSet {
        self.hooks
    }

    /// `transform-request` (skipped, returning the body as is, if not implemented).
    pub async fn transform_request(
        &mut self,
        ctx: &TransformContext,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, PluginCallError> {
        if !self.hooks.contains(HookSet::REQUEST) {
            return Ok(body);
        }
        let api = self.bindings.ccr_plugin_transformer_api();
        let result = timed!(
            self.g,
            "transform-request",
            api.call_transform_request(&mut self.g.store, ctx, &body)
        )?;
        self.g.returned("transform-request", result)
    }

    /// `transform-upstream` (skipped if not implemented).
    pub async fn transform_upstream(
        &mut self,
        ctx: &TransformContext,
        request: UpstreamRequest,
    ) -> Result<UpstreamRequest, PluginCallError> {
        if !self.hooks.contains(HookSet::UPSTREAM) {
            return Ok(request);
        }
        let api = self.bindings.ccr_plugin_transformer_api();
        let result = timed!(
            self.g,
            "transform-upstream",
            api.call_transform_upstream(&mut self.g.store, ctx, &request)
        )?;
        self.g.returned("transform-upstream", result)
    }

    /// `transform-response` (skipped if not implemented).
    pub async fn transform_response(
        &mut self,
        ctx: &TransformContext,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, PluginCallError> {
        if !self.hooks.contains(HookSet::RESPONSE) {
            return Ok(body);
        }
        let api = self.bindings.ccr_plugin_transformer_api();
        let result = timed!(
            self.g,
            "transform-response",
            api.call_transform_response(&mut self.g.store, ctx, &body)
        )?;
        self.g.returned("transform-response", result)
    }

    /// `transform-stream-event` (skipped if not implemented).
    pub async fn transform_stream_event(
        &mut self,
        ctx: &TransformContext,
        event: SseEvent,
    ) -> Result<Vec<SseEvent>, PluginCallError> {
        if !self.hooks.contains(HookSet::STREAM_EVENT) {
            return Ok(vec![event]);
        }
        let api = self.bindings.ccr_plugin_transformer_api();
        let result = timed!(
            self.g,
            "transform-stream-event",
            api.call_transform_stream_event(&mut self.g.store, ctx, &event)
        )?;
        self.g.returned("transform-stream-event", result)
    }
}

/// Call a router plugin once: fresh instance, `route`, done.
pub async fn call_router(
    engine: &PluginEngine,
    plugin: Arc<LoadedPlugin>,
    ctx: &RouteContext,
    config: &str,
    body: &[u8],
) -> Result<Option<PluginRouteDecision>, PluginCallError> {
    if plugin.info.kind != PluginKind::Router {
        return Err(wrong_kind(&plugin, "router"));
    }
    let (mut g, Bindings::Router(bindings)) =
        Guarded::instantiate(engine, plugin.clone(), Allocation::Pooled).await?
    else {
        return Err(wrong_kind(&plugin, "router"));
    };
    let api = bindings.ccr_plugin_router_api();
    let result = timed!(g, "route", api.call_route(&mut g.store, ctx, config, body))?;
    g.returned("route", result)
}
