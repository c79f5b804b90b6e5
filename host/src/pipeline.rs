//! One Messages request from parsed body to answer: route, transformers, provider plugin,
//! upstream call, translation back, usage. The HTTP handler in `server` is a thin wrapper.
//!
//! ```text
//! parse ─► facts + tokens ─► route (router plugins, built-in rules)
//!   └► for the route and then each `fallback` entry, until one answers:
//!        transformers.transform-request ─► provider.build-request
//!        ─► transformers.transform-upstream ─► upstream call
//!        ─► provider.parse-response / stream-translator ─► transformers (reverse order)
//! ```

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::config::ProviderConfig;
use crate::plugins::bindings::{
    PluginError, PluginKind, ProviderTarget, RouteContext, Target, TransformContext,
};
use crate::plugins::instance::{self, PluginCallError};
use crate::plugins::{LoadedPlugin, PluginSet, ProviderInstance, TransformerInstance};
use crate::request::{self, ParsedRequest, RequestKind};
use crate::routing::{self, RouteDecision, RouteError, RouteFacts, RouteKind};
use crate::server::error::ProxyError;
use crate::state::{AppState, Live};
use crate::stream::{self, StreamJob};
use crate::usage::{self, Usage};

/// The provider plugin used when a provider's `transformer.use` chain names none (CCR's
/// default path: an OpenAI-compatible endpoint).
pub const DEFAULT_PROVIDER_PLUGIN: &str = "openai";

/// Where a request goes, with the label logs show (`default`, `think`, `plugin:NAME`, ...).
#[derive(Debug, Clone)]
pub struct Route {
    /// Provider and model.
    pub decision: RouteDecision,
    /// What chose it.
    pub label: String,
}

/// Handle `POST /v1/messages`.
pub async fn messages(state: Arc<AppState>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    match serve(&state, &headers, body, started).await {
        Ok(response) => response,
        Err((err, route)) => {
            let status = err.status();
            let (provider, model, label) = match &route {
                Some(r) => (
                    r.decision.provider.as_str(),
                    r.decision.model.as_str(),
                    r.label.as_str(),
                ),
                None => ("-", "-", "-"),
            };
            tracing::info!(
                target: "ccr::request",
                route = label,
                provider,
                model,
                status = status.as_u16(),
                latency_ms = started.elapsed().as_millis() as u64,
                error = %err,
                "request failed"
            );
            state.metrics.record(false, &Usage::default());
            err.into_response()
        }
    }
}

type Failure = (ProxyError, Option<Route>);

async fn serve(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    body: Body,
    started: Instant,
) -> Result<Response, Failure> {
    let live = state.live.load_full();
    let plugins = state.plugins.snapshot();
    let raw = request::read_body(body, live.body_read_timeout)
        .await
        .map_err(|e| (e, None))?;
    // The parsed tree borrows from `raw`, which lives as long as this call.
    let mut req = request::parse(&raw, RequestKind::Messages).map_err(|e| (e, None))?;

    let session_header = headers
        .get("x-claude-code-session-id")
        .and_then(|v| v.to_str().ok());
    let facts = RouteFacts::from_request(&req.json, session_header);
    let token_count = state.tokens.count_request(&req.json);
    let previous = facts
        .session_id
        .as_deref()
        .and_then(|s| state.sessions.get(s));
    let changed = facts.subagent_model.is_some() && routing::strip_subagent_tag(&mut req.json);

    let builtin = routing::builtin_route(&facts, token_count, previous, &live.config);
    let route_ctx = route_context(&facts, token_count, previous, &builtin);
    let route = choose_route(state, &live, &plugins, &route_ctx, &req, builtin)
        .await
        .map_err(|e| (e, None))?;

    let mut body = req.body_for_plugins(changed);
    let stream = req.stream();
    // The tree is not needed during the upstream calls.
    drop(req);
    let candidates = candidates(&live, &route);
    let mut last_err = None;
    for (i, candidate) in candidates.iter().enumerate() {
        let attempt = Attempt {
            state,
            live: &live,
            plugins: &plugins,
            route: candidate,
            route_ctx: &route_ctx,
            session: facts.session_id.clone(),
            stream,
            started,
        };
        // Only a fallback needs the body again: the last candidate takes it without a copy.
        let attempt_body = if i + 1 < candidates.len() {
            body.clone()
        } else {
            std::mem::take(&mut body)
        };
        match attempt.run(attempt_body).await {
            Ok(response) => return Ok(response),
            Err(err) if err.is_retryable_elsewhere() && i + 1 < candidates.len() => {
                let next = &candidates[i + 1];
                tracing::warn!(
                    provider = %candidate.decision.provider,
                    model = %candidate.decision.model,
                    "{},{} failed ({err}); trying {},{} ({})",
                    candidate.decision.provider,
                    candidate.decision.model,
                    next.decision.provider,
                    next.decision.model,
                    next.label
                );
                last_err = Some(err);
            }
            Err(err) => return Err((err, Some(candidate.clone()))),
        }
    }
    Err((
        last_err.unwrap_or_else(|| ProxyError::Internal("no route to try".into())),
        Some(route),
    ))
}

/// The WIT route context for plugins.
fn route_context(
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
async fn choose_route(
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
                let value = format!("{},{}", d.provider, d.model);
                let decision = routing::resolve_requested(
                    &live.config,
                    &value,
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
fn candidates(live: &Live, route: &Route) -> Vec<Route> {
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

/// The provider plugin and transformers a provider's chain resolves to.
struct Chain {
    provider: Arc<LoadedPlugin>,
    provider_options: String,
    transformers: Vec<(Arc<LoadedPlugin>, String)>,
}

fn resolve_chain(
    state: &AppState,
    plugins: &PluginSet,
    provider: &ProviderConfig,
    model: &str,
) -> Result<Chain, ProxyError> {
    let mut chosen: Option<(Arc<LoadedPlugin>, String)> = None;
    let mut transformers = Vec::new();
    for used in provider.chain_for(model) {
        let options = used.options.to_string();
        let found = plugins.get_ignore_case(&used.name);
        match found {
            Some(p) if p.info.kind == PluginKind::Provider => chosen = Some((p.clone(), options)),
            Some(p) if p.info.kind == PluginKind::Transformer => {
                transformers.push((p.clone(), options))
            }
            _ => state.warn_once(&chain_warning_key(&provider.name, &used.name), || {
                chain_entry_problem(&provider.name, &used.name, found.map(|p| &**p))
                    .unwrap_or_default()
            }),
        }
    }
    let (provider_plugin, provider_options) = match chosen {
        Some(c) => c,
        None => match plugins.get(DEFAULT_PROVIDER_PLUGIN) {
            Some(p) => (p.clone(), "{}".to_string()),
            None => {
                return Err(ProxyError::Misconfigured(format!(
                    "no provider plugin for provider '{}' (the default '{DEFAULT_PROVIDER_PLUGIN}' \
                     plugin is not loaded)",
                    provider.name
                )))
            }
        },
    };
    Ok(Chain {
        provider: provider_plugin,
        provider_options,
        transformers,
    })
}

/// Why chain entry `name` of provider `provider` does nothing, given the plugin of that
/// name (`None`: there is none); `None` when it is a provider or transformer plugin.
fn chain_entry_problem(
    provider: &str,
    name: &str,
    plugin: Option<&LoadedPlugin>,
) -> Option<String> {
    match plugin {
        Some(p) if matches!(p.info.kind, PluginKind::Provider | PluginKind::Transformer) => None,
        Some(_) => Some(format!(
            "provider '{provider}': '{name}' is a router plugin and cannot be used in a \
             transformer chain"
        )),
        None => Some(format!(
            "provider '{provider}': transformer '{name}' is not available (no bundled or folder \
             plugin has that name); it is skipped"
        )),
    }
}

/// The `warn_once` key of a chain entry's warning: once per provider and name.
pub fn chain_warning_key(provider: &str, name: &str) -> String {
    format!("chain:{provider}:{name}")
}

/// Every transformer chain entry of `config` that no plugin of `plugins` provides, as
/// (its [`chain_warning_key`], one sentence), for `ccr config validate` and the log at start and reload: a
/// provider whose chain names a missing plugin would otherwise pass validation and only
/// misbehave at request time.
pub fn chain_warnings(
    config: &crate::config::Config,
    plugins: &PluginSet,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for provider in &config.providers {
        let per_model = provider.transformer.per_model.values().flatten();
        for used in provider.transformer.chain.iter().chain(per_model) {
            let found = plugins.get_ignore_case(&used.name).map(|p| &**p);
            if let Some(problem) = chain_entry_problem(&provider.name, &used.name, found) {
                let key = chain_warning_key(&provider.name, &used.name);
                if !out.iter().any(|(k, _)| *k == key) {
                    out.push((key, problem));
                }
            }
        }
    }
    out
}

/// One try of one route.
struct Attempt<'a> {
    state: &'a Arc<AppState>,
    live: &'a Arc<Live>,
    plugins: &'a PluginSet,
    route: &'a Route,
    route_ctx: &'a RouteContext,
    session: Option<String>,
    stream: bool,
    started: Instant,
}

/// A transformer instance with the context it is called with.
pub struct ActiveTransformer {
    /// The instance (kept for the whole response).
    pub instance: TransformerInstance,
    /// Its context (target with its own options, route).
    pub ctx: TransformContext,
}

impl Attempt<'_> {
    async fn run(&self, mut body: Vec<u8>) -> Result<Response, ProxyError> {
        let decision = &self.route.decision;
        let provider_cfg = self
            .live
            .config
            .find_provider(&decision.provider)
            .ok_or_else(|| RouteError::UnknownProvider {
                provider: decision.provider.clone(),
                known: self.live.config.provider_names(),
            })?;
        let chain = resolve_chain(self.state, self.plugins, provider_cfg, &decision.model)?;
        let engine = self.state.plugins.engine();
        let target_for = |options: String| Target {
            provider: provider_cfg.name.clone(),
            base_url: provider_cfg.api_base_url.clone(),
            model: decision.model.clone(),
            options,
        };

        let mut transformers = Vec::with_capacity(chain.transformers.len());
        for (plugin, options) in chain.transformers {
            transformers.push(ActiveTransformer {
                instance: TransformerInstance::new(engine, plugin).await?,
                ctx: TransformContext {
                    target: target_for(options),
                    route: self.route_ctx.clone(),
                },
            });
        }
        for t in &mut transformers {
            body = t.instance.transform_request(&t.ctx, body).await?;
            check_json(t.instance.plugin(), "transform-request", &body)?;
        }

        let target = ProviderTarget {
            target: target_for(chain.provider_options),
            api_key: provider_cfg.api_key.clone().unwrap_or_default(),
        };
        let mut provider = ProviderInstance::new(engine, chain.provider).await?;
        let mut upstream_req = provider.build_request(&target, &body).await?;
        drop(body);
        for t in &mut transformers {
            upstream_req = t.instance.transform_upstream(&t.ctx, upstream_req).await?;
        }

        let client = &self.live.upstream;
        let pending = client.request(&mut upstream_req, &provider_cfg.name)?;

        if self.stream {
            let job = StreamJob {
                state: self.state.clone(),
                route: self.route.clone(),
                session: self.session.clone(),
                started: self.started,
                framing: upstream_req.framing,
                ping_interval: self.live.ping_interval,
                idle_timeout: client.timeout(),
                estimated_input_tokens: self.route_ctx.token_count,
            };
            let client = client.clone();
            let mut opening = Box::pin(async move {
                let response = pending.await?;
                let response = check_status(&mut provider, &target, &client, response).await?;
                let translator = provider.open_stream(&target).await?;
                Ok((response, translator))
            });
            // A quick head keeps the upstream's status (and lets `fallback` try the next
            // target); a silent one gets the client's stream started, with pings, at once.
            return match tokio::time::timeout(self.live.ping_interval, &mut opening).await {
                Ok(Ok((response, translator))) => {
                    Ok(stream::respond(job, response, translator, transformers))
                }
                Ok(Err(err)) => Err(err),
                Err(_) => Ok(stream::respond_when_open(job, opening, transformers)),
            };
        }

        let response = pending.await?;
        let response = check_status(&mut provider, &target, client, response).await?;
        let status = response.status().as_u16();
        let raw = client.read_body(response).await?;
        let mut out = provider.parse_response(&target, status, &raw).await?;
        let mut last_plugin = provider.plugin().clone();
        for t in transformers.iter_mut().rev() {
            out = t.instance.transform_response(&t.ctx, out).await?;
            last_plugin = t.instance.plugin().clone();
        }
        let json: Value = serde_json::from_slice(&out).map_err(|e| {
            PluginCallError::invalid_output(
                &last_plugin,
                "parse-response",
                format!("not JSON: {e}"),
            )
        })?;
        let (usage, stop_reason) = usage::from_response(&json);
        finish_request(
            self.state,
            self.route,
            self.session.as_deref(),
            self.started,
            200,
            &usage,
            stop_reason.as_deref(),
            false,
        );
        Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            out,
        )
            .into_response())
    }
}

/// A 2xx upstream answer as it is; any other is read and mapped through the provider
/// plugin into an Anthropic error.
async fn check_status(
    provider: &mut ProviderInstance,
    target: &ProviderTarget,
    client: &crate::upstream::UpstreamClient,
    response: reqwest::Response,
) -> Result<reqwest::Response, ProxyError> {
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = client.read_body(response).await?;
    Err(upstream_error(provider, target, status, &body, retry_after).await)
}

/// Map a non-2xx upstream answer through the provider plugin (which knows the provider's
/// error format) into an Anthropic error.
async fn upstream_error(
    provider: &mut ProviderInstance,
    target: &ProviderTarget,
    status: u16,
    body: &[u8],
    retry_after: Option<String>,
) -> ProxyError {
    match provider.parse_response(target, status, body).await {
        Err(PluginCallError::Returned {
            error: PluginError::Upstream(e),
            ..
        }) => ProxyError::Upstream {
            status: e.status,
            error_type: e.error_type,
            message: e.message,
            retry_after,
        },
        Err(other) => ProxyError::Plugin(other),
        // The plugin did not recognise an error: the one status table every provider uses.
        Ok(_) => {
            let (client_status, error_type) = ccr_plugin_sdk::provider::map_status(status);
            ProxyError::Upstream {
                status: client_status,
                error_type: error_type.into(),
                message: format!(
                    "upstream returned HTTP {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(500)])
                ),
                retry_after,
            }
        }
    }
}

fn check_json(
    plugin: &LoadedPlugin,
    export: &'static str,
    body: &[u8],
) -> Result<(), PluginCallError> {
    serde_json::from_slice::<serde::de::IgnoredAny>(body)
        .map(|_| ())
        .map_err(|e| {
            PluginCallError::invalid_output(plugin, export, format!("body is not JSON: {e}"))
        })
}

/// Record a finished request: metrics, session usage, one log line.
#[allow(clippy::too_many_arguments)]
pub fn finish_request(
    state: &AppState,
    route: &Route,
    session: Option<&str>,
    started: Instant,
    status: u16,
    usage: &Usage,
    stop_reason: Option<&str>,
    stream: bool,
) {
    let ok = (200..300).contains(&status);
    state.metrics.record(ok, usage);
    if let Some(session) = session {
        if usage.total_input() > 0 {
            state
                .sessions
                .record(session, usage.total_input().min(u32::MAX as u64) as u32);
        }
    }
    tracing::info!(
        target: "ccr::request",
        route = %route.label,
        provider = %route.decision.provider,
        model = %route.decision.model,
        status,
        stream,
        latency_ms = started.elapsed().as_millis() as u64,
        input_tokens = usage.total_input(),
        output_tokens = usage.output_tokens,
        stop_reason = stop_reason.unwrap_or("-"),
        "request done"
    );
}
