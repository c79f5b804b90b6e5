//! The state shared by every request: one `Arc<AppState>` whose hot-reloadable parts (the
//! config generation, the plugin set) are swapped atomically, never mutated in place.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use crate::config::{self, Config, ConfigSource};
use crate::plugins::registry::LimitsFn;
use crate::plugins::{PluginLimits, PluginRegistry};
use crate::tokens::TokenCounter;
use crate::upstream::UpstreamClient;
use crate::usage::Recorder;

/// One generation of configuration and everything derived from it.
pub struct Live {
    /// The parsed config.
    pub config: Config,
    /// The upstream HTTP client built with this config's proxy and timeout.
    pub upstream: UpstreamClient,
    /// The config as JSON with secrets removed, handed to router plugins.
    pub redacted_json: String,
    /// Silence after which streams get a `ping`.
    pub ping_interval: Duration,
    /// How long a request body may take to arrive (`BODY_READ_TIMEOUT_SECS`).
    pub body_read_timeout: Duration,
}

impl Live {
    /// Derive a generation from a config.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let upstream = UpstreamClient::new(
            config.proxy_url.as_deref(),
            Duration::from_millis(config.api_timeout_ms.max(1)),
        )?;
        let redacted_json = serde_json::to_string(&config.redacted())?;
        let ping_interval = Duration::from_millis(config.ping_interval_ms);
        let body_read_timeout = Duration::from_secs(config.body_read_timeout_secs);
        Ok(Self {
            config,
            upstream,
            redacted_json,
            ping_interval,
            body_read_timeout,
        })
    }

    /// The plugin limits of this config, as the registry wants them.
    pub fn limits_fn(&self) -> LimitsFn {
        limits_fn(&self.config.plugin_limits)
    }
}

/// `PLUGIN_LIMITS` as the registry wants them: a function of the plugin's name.
pub fn limits_fn(limits: &config::PluginLimits) -> LimitsFn {
    let limits = limits.clone();
    Arc::new(move |name: &str| {
        let (memory_bytes, timeout) = limits.for_plugin(name);
        PluginLimits {
            memory_bytes,
            timeout,
        }
    })
}

/// Everything a request handler needs.
pub struct AppState {
    /// The current config generation.
    pub live: ArcSwap<Live>,
    /// Where the config came from (and is reloaded from).
    pub config_source: ConfigSource,
    /// Why the last config reload was rejected, if it was.
    pub config_error: Mutex<Option<String>>,
    /// Loaded plugins.
    pub plugins: Arc<PluginRegistry>,
    /// Token counting with a cache of repeated pieces.
    pub tokens: TokenCounter,
    /// Where every finished request is recorded (counters, session usage, the log line).
    pub recorder: Recorder,
    /// When the process started serving.
    pub started: Instant,
    /// Wall-clock start time.
    pub started_at: SystemTime,
    /// The address actually bound.
    pub listen: OnceLock<SocketAddr>,
    /// The secret `ccr status` / `ccr health` present (from the service's state file,
    /// readable only by its owner) to read `/health/detailed` without knowing `APIKEY`:
    /// the config on disk may be broken exactly when they are needed.
    pub control_token: Option<String>,
    /// Streams open right now (against `MAX_CONCURRENT_STREAMS`).
    pub streams: OpenStreams,
    /// Requests being prepared (body, parse, route, plugins) at once: see [`Admission`].
    pub admission: Admission,
    /// Transformer names already warned about as unknown (warn once, not per request).
    warned: Mutex<HashSet<String>>,
}

/// How many requests are prepared at once: reading the body, parsing, routing and running
/// the plugins up to the upstream call. That work is CPU-bound and holds the whole request
/// in memory (the body, its parsed tree, the upstream body: ~250 KB for Claude Code's 80 KB
/// requests). Without a bound, a burst of 2000 streams opening at once interleaves all 2000
/// preparations on the executor's threads, so all 2000 requests are in memory together (and
/// the allocator keeps that peak); with it, they are prepared a few at a time, in arrival
/// order (the semaphore is fair), and a waiting request costs only its unread socket.
/// Nothing is refused here: requests wait their turn.
#[derive(Debug)]
pub struct Admission(Arc<tokio::sync::Semaphore>);

/// A request's turn to be prepared; dropping it lets the next one in.
pub type AdmissionPermit = tokio::sync::OwnedSemaphorePermit;

impl Admission {
    /// Two preparations per CPU core: enough to keep the cores busy while one waits on a
    /// plugin instance or a socket.
    fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Admission(Arc::new(tokio::sync::Semaphore::new(2 * cores.max(1))))
    }

    /// Wait for a turn (`None` only if the semaphore were closed, which it never is: the
    /// request then goes ahead without one).
    pub async fn acquire(&self) -> Option<AdmissionPermit> {
        self.0.clone().acquire_owned().await.ok()
    }
}

/// The count of streamed answers in progress, checked against the configured limit before
/// anything is sent upstream.
#[derive(Debug, Default)]
pub struct OpenStreams(Arc<AtomicUsize>);

/// One open stream; dropping it closes it.
#[derive(Debug)]
pub struct StreamPermit(Arc<AtomicUsize>);

impl OpenStreams {
    /// Count one more stream, unless `limit` are open already.
    pub fn try_open(&self, limit: usize) -> Option<StreamPermit> {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < limit).then_some(open + 1)
            })
            .ok()
            .map(|_| StreamPermit(self.0.clone()))
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl AppState {
    /// Assemble the state.
    pub fn new(live: Live, config_source: ConfigSource, plugins: Arc<PluginRegistry>) -> Self {
        Self {
            live: ArcSwap::from_pointee(live),
            config_source,
            config_error: Mutex::new(None),
            plugins,
            tokens: TokenCounter::default(),
            recorder: Recorder::new(1000),
            started: Instant::now(),
            started_at: SystemTime::now(),
            listen: OnceLock::new(),
            control_token: None,
            streams: OpenStreams::default(),
            admission: Admission::new(),
            warned: Mutex::new(HashSet::new()),
        }
    }

    /// Re-read the config file; apply it if valid, otherwise keep the current one and
    /// remember why. Blocking (file I/O); called from the watcher thread.
    ///
    /// A reload never weakens what the running listener relies on: a file that disappeared
    /// is a failed load (the embedded default is for start-up only), and a config without
    /// `APIKEY` is refused while the proxy listens on a non-loopback address.
    pub fn reload_config(&self) {
        let result = match config::load(self.config_source.path()) {
            // Still no file, still on the embedded default: nothing changed.
            Err(e) if e.is_not_found() && self.live.load().config.is_embedded_default() => return,
            Err(e) if e.is_not_found() => Err(format!(
                "{e} (it was removed or renamed); the last good config keeps serving (the \
                 embedded default is only used when ccr starts without a config file)"
            )),
            other => other.map_err(|e| e.to_string()),
        }
        .and_then(|config| self.check_keeps_auth(&config).map(|()| config))
        .and_then(|config| Live::new(config).map_err(|e| format!("{e:#}")));
        match result {
            Ok(live) => {
                let old = self.live.load();
                if old.config.port != live.config.port || old.config.host != live.config.host {
                    tracing::warn!("HOST/PORT changes take effect after `ccr restart`");
                }
                for warning in &live.config.warnings {
                    tracing::warn!("config: {warning}");
                }
                self.plugins.set_limits(live.limits_fn());
                self.plugins
                    .set_max_file_bytes(live.config.plugin_limits.max_file_bytes());
                self.plugins
                    .set_extra_files(live.config.custom_router_wasm().into_iter().collect());
                self.live.store(Arc::new(live));
                *self.config_error.lock() = None;
                self.warned.lock().clear();
                self.warn_chain_problems();
                tracing::info!(path = %self.config_source.path().display(), "config reloaded");
            }
            Err(message) => {
                tracing::error!(
                    "config change rejected, the previous config keeps serving: {message}"
                );
                *self.config_error.lock() = Some(message);
            }
        }
    }

    /// A config may replace the running one only if the socket already bound stays
    /// protected: a non-loopback listener always needs a key.
    fn check_keeps_auth(&self, config: &Config) -> Result<(), String> {
        match self.listen.get() {
            Some(addr) if !addr.ip().is_loopback() && config.api_key.is_none() => Err(format!(
                "{}: APIKEY is missing, but ccr listens on {addr}, which other machines can \
                 reach; a non-loopback listener always needs a key. Put APIKEY back, or set \
                 HOST to 127.0.0.1 and run `ccr restart`",
                self.config_source.path().display()
            )),
            _ => Ok(()),
        }
    }

    /// Warn (once, as requests would) about every transformer chain entry no loaded plugin
    /// provides.
    pub fn warn_chain_problems(&self) {
        let live = self.live.load();
        for (key, sentence) in
            crate::plugins::chain::chain_warnings(&live.config, &self.plugins.snapshot())
        {
            self.warn_once(&key, || sentence);
        }
    }

    /// Log `message` once per `key` (until the next config reload).
    pub fn warn_once(&self, key: &str, message: impl FnOnce() -> String) {
        if self.warned.lock().insert(key.to_string()) {
            tracing::warn!("{}", message());
        }
    }
}
