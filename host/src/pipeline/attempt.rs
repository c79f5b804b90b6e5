//! One try of one route: the provider's transformers (`transform-request`), its provider
//! plugin (`build-request`), the transformers again (`transform-upstream`), the upstream
//! call and its status check, then the answer translated back, whole or as a stream.

use std::sync::Arc;
use std::time::Instant;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::Value;

use crate::error::ProxyError;
use crate::plugins::bindings::{
    PluginError, ProviderTarget, RouteContext, Target, TransformContext,
};
use crate::plugins::chain::{self, ActiveTransformer};
use crate::plugins::instance::PluginCallError;
use crate::plugins::{
    HookSet, LoadedPlugin, PluginEngine, PluginSet, ProviderInstance, StreamTranslatorInstance,
    TransformerInstance,
};
use crate::routing::{Route, RouteError};
use crate::state::{AdmissionPermit, AppState, Live, StreamPermit};
use crate::stream::{self, StreamJob};
use crate::usage::{self, RequestRecord};

/// One try of one route.
pub(super) struct Attempt<'a> {
    pub(super) state: &'a Arc<AppState>,
    pub(super) live: &'a Arc<Live>,
    pub(super) plugins: &'a PluginSet,
    pub(super) route: &'a Route,
    pub(super) route_ctx: &'a RouteContext,
    pub(super) session: Option<String>,
    pub(super) stream: bool,
    /// The stream's place under `MAX_CONCURRENT_STREAMS`, handed to the stream task.
    pub(super) stream_permit: Option<Arc<StreamPermit>>,
    /// The request's turn to be prepared, given back before the upstream is waited on.
    pub(super) turn: &'a Mutex<Option<AdmissionPermit>>,
    pub(super) started: Instant,
}

impl Attempt<'_> {
    /// Run the attempt: the answer for the client, or why this provider could not give it.
    pub(super) async fn run(&self, mut body: Vec<u8>) -> Result<Response, ProxyError> {
        let decision = &self.route.decision;
        let provider_cfg = self
            .live
            .config
            .find_provider(&decision.provider)
            .ok_or_else(|| RouteError::UnknownProvider {
                provider: decision.provider.clone(),
                known: self.live.config.provider_names(),
            })?;
        let chain = chain::resolve_chain(
            self.plugins,
            provider_cfg,
            &decision.model,
            |key, problem| self.state.warn_once(key, problem),
        )?;
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
        let mut provider = ProviderSlot {
            engine: engine.clone(),
            plugin: chain.provider.clone(),
            instance: Some(ProviderInstance::new(engine, chain.provider).await?),
        };
        let mut upstream_req = provider.get().await?.build_request(&target, &body).await?;
        drop(body);
        for t in &mut transformers {
            upstream_req = t.instance.transform_upstream(&t.ctx, upstream_req).await?;
        }
        // What is left to call: the transformers' answer hooks, and for a whole answer the
        // provider's `parse-response`. Every other instance is freed before the upstream
        // is waited on (a stream's translator lives in a shared instance).
        let answer_hook = if self.stream {
            HookSet::STREAM_EVENT
        } else {
            HookSet::RESPONSE
        };
        transformers.retain(|t| t.instance.hooks().contains(answer_hook));
        if self.stream {
            provider.instance = None;
        }

        let client = &self.live.upstream;
        let pending = client.request(&mut upstream_req, provider_cfg)?;

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
                permit: self.stream_permit.clone(),
            };
            let client = client.clone();
            let mut opening = Box::pin(async move {
                let response = pending.await?;
                let response = check_status(&mut provider, &target, &client, response).await?;
                let translator =
                    StreamTranslatorInstance::open(&provider.engine, &provider.plugin, &target)
                        .await?;
                Ok((response, translator))
            });
            self.turn.lock().take();
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

        self.turn.lock().take();
        let response = pending.await?;
        let response = check_status(&mut provider, &target, client, response).await?;
        let status = response.status().as_u16();
        let raw = client.read_body(response).await?;
        let mut out = provider
            .get()
            .await?
            .parse_response(&target, status, &raw)
            .await?;
        let mut last_plugin = provider.plugin.clone();
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
        self.state.recorder.record(&RequestRecord {
            route: Some(self.route),
            session: self.session.as_deref(),
            started: self.started,
            status: 200,
            usage: &usage,
            stop_reason: stop_reason.as_deref(),
            stream: false,
            error: None,
        });
        Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            out,
        )
            .into_response())
    }
}

/// The provider plugin's instance after the request is built: kept for a whole answer
/// (it parses it), let go for a stream (a fresh one is made if an error needs mapping).
struct ProviderSlot {
    engine: Arc<PluginEngine>,
    plugin: Arc<LoadedPlugin>,
    instance: Option<ProviderInstance>,
}

impl ProviderSlot {
    async fn get(&mut self) -> Result<&mut ProviderInstance, PluginCallError> {
        let instance = match self.instance.take() {
            Some(instance) => instance,
            None => ProviderInstance::new(&self.engine, self.plugin.clone()).await?,
        };
        Ok(self.instance.insert(instance))
    }
}

/// A 2xx upstream answer as it is; any other is read and mapped through the provider
/// plugin into an Anthropic error.
async fn check_status(
    provider: &mut ProviderSlot,
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
    provider: &mut ProviderSlot,
    target: &ProviderTarget,
    status: u16,
    body: &[u8],
    retry_after: Option<String>,
) -> ProxyError {
    let parsed = match provider.get().await {
        Ok(instance) => instance.parse_response(target, status, body).await,
        Err(err) => Err(err),
    };
    match parsed {
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
