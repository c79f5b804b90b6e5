//! Choosing the route of a request: router plugins (`CUSTOM_ROUTER_PATH`, then
//! `ROUTER_PLUGINS`), then the built-in rules, followed by the `fallback` list.

use crate::error::ProxyError;
use crate::plugins::bindings::RouteContext;
use crate::plugins::instance;
use crate::plugins::PluginSet;
use crate::request::ParsedRequest;
use crate::routing::{self, Route, RouteDecision, RouteError, RouteFacts, RouteKind};
use crate::state::{AppState, Live};

/// The WIT route context for plugins.
pub(super) fn route_context(
    facts: &RouteFacts,
    token_count: u32,
    previous: Option<u32>,
    builtin: &Result<RouteDecision, RouteError>,
) -> RouteContext {
    RouteContext {
        model: facts.model.clone(),
        token_count,
        thinking: facts.thinking,
        stream: facts.stream,
        tool_names: facts.tool_names.clone(),
        has_web_search: facts.has_web_search,
        has_images: facts.has_images,
        message_count: facts.message_count,
        session_id: facts.session_id.clone(),
        previous_input_tokens: previous,
        builtin_route: builtin
            .as_ref()
            .map(|d| d.kind.as_str())
            .unwrap_or("default")
            .to_string(),
    }
}

/// Router plugins first (`ROUTER_PLUGINS`, in order; the first that answers wins), then the
/// built-in rules. A failing router plugin is logged and skipped, as CCR does with a
/// throwing custom router.
pub(super) async fn choose_route(
    state: &AppState,
    live: &Live,
    plugins: &PluginSet,
    ctx: &RouteContext,
    req: &ParsedRequest<'_>,
    builtin: Result<RouteDecision, RouteError>,
) -> Result<Route, ProxyError> {
    // CUSTOM_ROUTER_PATH (a .wasm) first, as CCR consults its custom router first.
    let custom = live
        .config
        .custom_router_wasm()
        .and_then(|path| plugins.from_file(&path).cloned());
    let named = live.config.router_plugins.iter().filter_map(|name| {
        let found = plugins.get(name).cloned();
        if found.is_none() {
            state.warn_once(&format!("router:{name}"), || {
                format!("ROUTER_PLUGINS names '{name}', but no such plugin is loaded")
            });
        }
        found
    });
    for plugin in custom.into_iter().chain(named) {
        let name = plugin.name.clone();
        let engine = state.plugins.engine();
        match instance::call_router(engine, plugin, ctx, &live.redacted_json, req.raw).await {
            Ok(Some(d)) => {
                let decision = routing::resolve_chosen(
                    &live.config,
                    &d.provider,
                    &d.model,
                    "router plugin",
                    RouteKind::Default,
                )?;
                return Ok(Route {
                    decision,
                    label: format!("plugin:{name}"),
                });
            }
            Ok(None) => {}
            Err(err) => tracing::warn!("router plugin failed, using the next rule: {err}"),
        }
    }
    let decision = builtin?;
    Ok(Route {
        label: decision.kind.as_str().to_string(),
        decision,
    })
}

/// The route followed by its `fallback` entries (v2 semantics), without repeats.
pub(super) fn candidates(live: &Live, route: &Route) -> Vec<Route> {
    let mut all = vec![route.clone()];
    let scenario = route.decision.kind.fallback_scenario();
    for fallback in live.config.fallback.for_scenario(scenario) {
        let known = all.iter().any(|r| {
            r.decision.provider == fallback.provider && r.decision.model == fallback.model
        });
        if !known {
            all.push(Route {
                label: format!("fallback:{scenario}"),
                decision: RouteDecision {
                    provider: fallback.provider.clone(),
                    model: fallback.model.clone(),
                    kind: route.decision.kind,
                },
            });
        }
    }
    all
}
