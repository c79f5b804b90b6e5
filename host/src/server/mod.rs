//! The HTTP surface (axum): routes, auth, and the `serve` entry point that builds the state,
//! starts the watchers and runs until SIGINT/SIGTERM. Handlers are thin; the request path
//! lives in [`crate::pipeline`].

pub mod auth;
pub mod listener;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::config::{self, ConfigSource};
use crate::error::ProxyError;
use crate::health::{Health, PluginRow, StreamsRow};
use crate::plugins::{PluginEngine, PluginRegistry};
use crate::request::{self, RequestKind};
use crate::state::{AppState, Live};

/// How to run the proxy (command-line overrides of the config).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where the config comes from.
    pub config: ConfigSource,
    /// Overrides `HOST`.
    pub host: Option<String>,
    /// Overrides `PORT`.
    pub port: Option<u16>,
    /// Overrides `PLUGINS_DIR`.
    pub plugins_dir: Option<PathBuf>,
    /// The secret that opens `/health/detailed` to `ccr status` (see
    /// [`AppState::control_token`]).
    pub control_token: Option<String>,
}

/// The axum router for `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let protected = Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .route("/v1/models", get(models))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ));
    let operator = Router::new()
        .route("/health/detailed", get(health_detailed))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_key_or_control_token,
        ));
    Router::new()
        .route("/", get(root).head(root))
        .route("/health", get(liveness).head(liveness))
        .merge(protected)
        .merge(operator)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(add_request_id))
        // Bodies are read (with their own limit and Anthropic-shaped error) by the handlers.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Every response carries a `request-id` header, as Anthropic's do (SDKs surface it as
/// `request_id`; our log lines are correlated by time and route).
async fn add_request_id(mut response: Response) -> Response {
    let id = format!("req_{}", uuid::Uuid::new_v4().simple());
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("request-id", value);
    }
    response
}

async fn messages(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    crate::pipeline::messages(state, headers, body).await
}

async fn count_tokens(
    State(state): State<Arc<AppState>>,
    body: Body,
) -> Result<Response, ProxyError> {
    let timeout = state.live.load().body_read_timeout;
    let raw = request::read_body(body, timeout).await?;
    let req = request::parse(&raw, RequestKind::CountTokens)?;
    let input_tokens = state.tokens.count_request(&req.json);
    Ok(Json(json!({ "input_tokens": input_tokens })).into_response())
}

async fn root() -> Json<Value> {
    // A client is here (Claude Code probes `/` first): get the tokenizer ready for its first
    // message without holding it while the proxy sits idle.
    crate::tokens::load_in_background();
    Json(json!({ "message": "LLMs API", "version": env!("CARGO_PKG_VERSION") }))
}

/// Liveness only: anyone who can reach the port may ask, so it says nothing else (paths,
/// plugins and counters are in `/health/detailed`, behind the key).
async fn liveness() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn health_detailed(State(state): State<Arc<AppState>>) -> Json<Value> {
    // Through a `Value` (whose keys are sorted) so the bytes stay what clients have seen.
    Json(serde_json::to_value(health(&state)).unwrap_or_default())
}

/// The `/health/detailed` document (also what `ccr status` shows).
pub fn health(state: &AppState) -> Health {
    let live = state.live.load();
    let plugins: Vec<PluginRow> = state
        .plugins
        .statuses()
        .into_iter()
        .map(PluginRow::from)
        .collect();
    let plugin_errors = plugins
        .iter()
        .filter(|p| p.error.is_some())
        .cloned()
        .collect();
    Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        pid: Some(std::process::id()),
        uptime_secs: Some(state.started.elapsed().as_secs()),
        listen: state.listen.get().map(|a| a.to_string()),
        config_path: Some(state.config_source.path().display().to_string()),
        config_source: Some(state.config_source.origin().into()),
        config_embedded_default: live.config.is_embedded_default(),
        config_error: state.config_error.lock().clone(),
        plugins_dir: state.plugins.dir().map(|d| d.display().to_string()),
        plugins,
        plugin_errors,
        requests: state.recorder.metrics().snapshot(),
        streams: StreamsRow {
            open: state.streams.open(),
            limit: live.config.max_concurrent_streams,
            translator_instances: state
                .plugins
                .snapshot()
                .plugins()
                .iter()
                .map(|p| p.streams.usage().0)
                .sum(),
        },
    }
}

async fn models(State(state): State<Arc<AppState>>) -> Json<Value> {
    let live = state.live.load();
    let data: Vec<Value> = live
        .config
        .providers
        .iter()
        .flat_map(|p| {
            p.models.iter().map(move |m| {
                json!({
                    "type": "model",
                    "id": format!("{},{}", p.name, m),
                    "display_name": format!("{m} ({})", p.name),
                    "created_at": "1970-01-01T00:00:00Z",
                })
            })
        })
        .collect();
    let first = data
        .first()
        .and_then(|m| m["id"].as_str())
        .map(str::to_string);
    let last = data
        .last()
        .and_then(|m| m["id"].as_str())
        .map(str::to_string);
    Json(json!({ "data": data, "has_more": false, "first_id": first, "last_id": last }))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ProxyError {
    ProxyError::MethodNotAllowed(format!(
        "method {method} is not allowed on {} (see the Allow header)",
        uri.path()
    ))
}

async fn not_found(uri: axum::http::Uri) -> ProxyError {
    ProxyError::NotFound(format!("no route for {}", uri.path()))
}

/// Run the proxy until SIGINT/SIGTERM. `on_ready` gets the bound address once listening.
pub async fn serve(
    opts: ServeOptions,
    on_ready: Box<dyn FnOnce(SocketAddr) + Send>,
) -> anyhow::Result<()> {
    let mut config = config::load_from(&opts.config)?;
    for warning in &config.warnings {
        tracing::warn!("config: {warning}");
    }
    if let Some(host) = &opts.host {
        config.host = host.clone();
    }
    if let Some(port) = opts.port {
        config.port = port;
    }
    let plugins_dir = opts
        .plugins_dir
        .clone()
        .unwrap_or_else(|| config.effective_plugins_dir());
    let host = config.bind_host().to_string();
    // A HOST from the file was already warned about while loading; not one from `--host`.
    if host != config.host && opts.host.is_some() {
        tracing::warn!(
            "--host {} ignored: without an APIKEY the proxy only listens on 127.0.0.1",
            config.host
        );
    }
    let port = config.port;
    let live = Live::new(config)?;
    let limits = live.limits_fn();
    let max_file_bytes = live.config.plugin_limits.max_file_bytes();
    let custom_router: Vec<PathBuf> = live.config.custom_router_wasm().into_iter().collect();
    let cache_dir = crate::paths::wasm_cache_dir();
    let registry = tokio::task::spawn_blocking(move || -> anyhow::Result<PluginRegistry> {
        let engine = Arc::new(PluginEngine::new(Some(cache_dir))?);
        let registry =
            PluginRegistry::with_max_file_bytes(engine, Some(plugins_dir), limits, max_file_bytes);
        registry.set_extra_files(custom_router);
        Ok(registry)
    })
    .await??;
    let registry = Arc::new(registry);
    for plugin in registry.snapshot().plugins() {
        tracing::debug!(plugin = %plugin.name, source = plugin.source.label(), "plugin ready");
    }
    for failure in registry.snapshot().failures() {
        tracing::error!(file = %failure.path.display(), "plugin rejected: {}", failure.error);
    }

    let mut state = AppState::new(live, opts.config.clone(), registry.clone());
    state.control_token = opts.control_token.clone();
    let state = Arc::new(state);
    state.warn_chain_problems();

    let _plugin_watcher =
        crate::plugins::reload::watch(registry.clone()).context("watching the plugin folder")?;
    let watch_state = state.clone();
    let _config_watcher = config::watch::watch(opts.config.path().to_path_buf(), move || {
        watch_state.reload_config()
    })
    .map_err(|e| tracing::warn!("config hot reload disabled: {e:#}"))
    .ok();

    let listener = listen(&host, port).await.with_context(|| {
        format!("cannot listen on {host}:{port} (is another ccr or CCR running?)")
    })?;
    let addr = listener.local_addr()?;
    let _ = state.listen.set(addr);
    let config_note = if state.live.load().config.is_embedded_default() {
        " (no config file: embedded default, a local Ollama)".to_string()
    } else {
        String::new()
    };
    tracing::info!(
        "ccr {} listening on http://{addr}, config {}{config_note}",
        env!("CARGO_PKG_VERSION"),
        opts.config.path().display()
    );
    on_ready(addr);
    let app = router(state.clone());
    listener::serve(listener, app, state, shutdown_signal()).await;
    tracing::info!("ccr stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Connections the kernel queues before `accept` (it caps this at `net.core.somaxconn`):
/// a team's clients opening hundreds of streams at once must not see their SYNs dropped
/// (tokio's default backlog is 128, and a dropped SYN costs the client a 1 s retransmit).
const LISTEN_BACKLOG: u32 = 4096;

/// Bind `host:port` (the first address it resolves to) with [`LISTEN_BACKLOG`].
async fn listen(host: &str, port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let mut last_err = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        // As std's and tokio's `bind`: a restart may bind while old connections linger.
        socket.set_reuseaddr(true)?;
        match socket.bind(addr) {
            Ok(()) => return socket.listen(LISTEN_BACKLOG),
            Err(err) => last_err = Some(err),
        }
    }
    Err(last_err.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the host resolves to no address",
        )
    }))
}
