//! The wasmtime runtime shared by every plugin: the process's [`Engine`]s and [`Linker`]s,
//! compilation (with an on-disk cache), world detection at load time, and the per-request
//! [`Store`] with its limits.
//!
//! Expensive work (compiling, linking, type-checking against a world, reading metadata)
//! happens once per plugin file in [`PluginEngine::load`] (or [`PluginEngine::load_tiered`]).
//! The request path only creates a store from the plugin's typed `*Pre` and calls it (tens
//! of microseconds with the pooling allocator).
//!
//! # Tiers
//!
//! Cranelift takes ~20 s of CPU for a 12 MB JavaScript component (StarlingMonkey inside).
//! So a plugin whose optimized code is not cached yet is first compiled with Winch,
//! wasmtime's baseline compiler (several times faster to compile, slower code), and served
//! from that [`Tier::Baseline`] version at once; [`PluginEngine::optimize`] then compiles it
//! with Cranelift off to the side (the registry does it on a low-priority thread), and the
//! registry swaps the [`Tier::Optimized`] version in. Only optimized code is written to the
//! disk cache, so the next load of the same file is a cache hit.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{bail, Context as _};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits,
    StoreLimitsBuilder, Strategy,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::{
    self, provider::ProviderPre, router::RouterPre, transformer::TransformerPre, HookSet, LogLevel,
    PluginInfo, PluginKind,
};

/// The contract version this host implements: the `ccr:plugin` package version, read by
/// `build.rs` from `wit/worlds.wit` (the one place it is written).
pub const CONTRACT_VERSION: &str = env!("CCR_CONTRACT_VERSION");

/// How often the epoch ticks. Deadlines are counted in ticks, and a running plugin yields
/// to the async executor at every tick, so a looping plugin never blocks a worker thread.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Plugin instances the pooling allocator holds ready (pre-reserved slots: the fast path),
/// unless the `CCR_PLUGIN_POOL_INSTANCES` environment variable says otherwise. Not a
/// ceiling: when every slot is taken, instances come from the on-demand allocator (see
/// [`PluginEngine`]). Request-path instances live for the microseconds of their calls, and
/// streams share translator instances ([`super::stream_host`]), so this is rarely reached.
pub const DEFAULT_POOLED_INSTANCES: u32 = 1000;

/// The pool size: `CCR_PLUGIN_POOL_INSTANCES` (at least 1) or [`DEFAULT_POOLED_INSTANCES`].
fn pooled_instances() -> u32 {
    match std::env::var("CCR_PLUGIN_POOL_INSTANCES") {
        Ok(v) => match v.trim().parse::<u32>() {
            Ok(n) if n > 0 => n,
            _ => {
                tracing::warn!(
                    "CCR_PLUGIN_POOL_INSTANCES={v:?} is not a whole number above 0; using \
                     {DEFAULT_POOLED_INSTANCES}"
                );
                DEFAULT_POOLED_INSTANCES
            }
        },
        Err(_) => DEFAULT_POOLED_INSTANCES,
    }
}

/// Largest linear memory any plugin may ask for; per-plugin limits are enforced below this
/// by [`StoreLimits`].
const MAX_MEMORY_BYTES: usize = 1 << 30;

/// Linear memory (and table) kept paged in when a pooled slot is reused: zeroed with a
/// memset instead of handed back to the kernel, so the next request does not page-fault
/// its way through the first megabytes again. (Bounded by the slots actually used.)
const KEEP_RESIDENT_BYTES: usize = 8 << 20;

/// Bytes of a plugin's stderr kept per request, shown in the error when the plugin fails
/// (a Rust panic message, a Python traceback...).
const STDERR_CAPTURE: usize = 4096;

/// Resource limits for one plugin's instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginLimits {
    /// Maximum linear memory, in bytes.
    pub memory_bytes: usize,
    /// Wall-clock budget for one call into the plugin.
    pub timeout: Duration,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            memory_bytes: 128 << 20,
            timeout: Duration::from_millis(2000),
        }
    }
}

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// Compiled from `plugins/` and embedded in the binary.
    Bundled,
    /// A `.wasm` file in the plugin folder.
    Folder(PathBuf),
}

impl PluginSource {
    /// `bundled` or `folder`, as shown by `ccr plugin list`.
    pub fn label(&self) -> &'static str {
        match self {
            PluginSource::Bundled => "bundled",
            PluginSource::Folder(_) => "folder",
        }
    }
}

/// Which compiler produced the machine code a loaded plugin version runs (see the module
/// docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Winch, wasmtime's baseline compiler: served while the optimized code is compiled in
    /// the background. Its instances are allocated on demand.
    Baseline,
    /// Cranelift, the optimizing compiler (cached on disk).
    Optimized,
}

impl Tier {
    /// `baseline` or `optimized`, as shown by `ccr plugin list` and `/health/detailed`.
    pub fn label(self) -> &'static str {
        match self {
            Tier::Baseline => "baseline",
            Tier::Optimized => "optimized",
        }
    }
}

/// Whether first-seen plugins get a baseline (Winch) tier: `CCR_PLUGIN_BASELINE=off` (or
/// `0`, `false`, `no`) turns it off, so every plugin is compiled by Cranelift before it
/// serves.
fn baseline_wanted() -> bool {
    match std::env::var("CCR_PLUGIN_BASELINE") {
        Ok(v) => !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "0" | "false" | "no"
        ),
        Err(_) => true,
    }
}

/// The typed, pre-linked entry point of a plugin, one per world.
#[derive(Clone)]
pub enum PluginPre {
    /// A `provider` world component.
    Provider(ProviderPre<PluginState>),
    /// A `transformer` world component and the hooks it implements.
    Transformer(TransformerPre<PluginState>, HookSet),
    /// A `router` world component.
    Router(RouterPre<PluginState>),
}

/// A plugin that compiled, linked, type-checked and answered `metadata`: ready to serve.
/// Cloning is cheap (the compiled code is shared).
#[derive(Clone)]
pub struct LoadedPlugin {
    /// What the plugin says about itself.
    pub info: PluginInfo,
    /// Where it came from.
    pub source: PluginSource,
    /// Hex SHA-256 of the `.wasm` bytes.
    pub hash: String,
    /// Size of the `.wasm` file in bytes.
    pub size: usize,
    /// The contract version the plugin was built against (from its interface names).
    pub contract: String,
    /// Limits applied to every instance.
    pub limits: PluginLimits,
    /// The typed pre-instantiated component (in the engine of [`Self::tier`]).
    pub pre: PluginPre,
    /// The plugin name as a shared string (for log lines and errors).
    pub name: Arc<str>,
    /// Which compiler's code this version runs.
    pub tier: Tier,
    /// The compiled component (pooled engine, or the baseline engine for
    /// [`Tier::Baseline`]), kept to build [`Self::overflow_pre`].
    component: Component,
    /// The same component pre-linked in the on-demand engine, built the first time an
    /// instance is wanted there (`Err`: it could not be, with why).
    overflow_pre: Arc<OnceLock<Result<PluginPre, String>>>,
    /// The instances this version's streams are translated in.
    pub streams: Arc<super::stream_host::StreamHosts>,
}

impl LoadedPlugin {
    /// A copy with other limits, for instances created from now on. Streams of the copy
    /// get their own translator instances (created with the new limits).
    pub fn with_limits(&self, limits: PluginLimits) -> LoadedPlugin {
        LoadedPlugin {
            limits,
            streams: Default::default(),
            ..self.clone()
        }
    }
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.name)
            .field("kind", &self.info.kind)
            .field("source", &self.source)
            .field("hash", &self.hash)
            .field("tier", &self.tier)
            .finish()
    }
}

/// The data each plugin store carries: an empty WASI context (no dirs, env, sockets), the
/// resource table, the memory limits and the plugin name for log lines.
pub struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    plugin: Arc<str>,
    stderr: MemoryOutputPipe,
}

impl PluginState {
    /// What the plugin wrote to stderr so far (truncated to a few KB).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).into_owned()
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl bindings::provider::ccr::plugin::types::Host for PluginState {}

impl bindings::provider::ccr::plugin::host::Host for PluginState {
    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        // Plugins may log whatever they like; cap the line so a loop cannot flood the log.
        let message = truncate(&message, 4096);
        let plugin = &*self.plugin;
        match level {
            LogLevel::Trace => tracing::trace!(target: "plugin", plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(target: "plugin", plugin, "{message}"),
            LogLevel::Info => tracing::info!(target: "plugin", plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(target: "plugin", plugin, "{message}"),
            LogLevel::Error => tracing::error!(target: "plugin", plugin, "{message}"),
        }
        Ok(())
    }

    fn log_enabled(&mut self, level: LogLevel) -> wasmtime::Result<bool> {
        Ok(match level {
            LogLevel::Trace => tracing::enabled!(target: "plugin", tracing::Level::TRACE),
            LogLevel::Debug => tracing::enabled!(target: "plugin", tracing::Level::DEBUG),
            LogLevel::Info => tracing::enabled!(target: "plugin", tracing::Level::INFO),
            LogLevel::Warn => tracing::enabled!(target: "plugin", tracing::Level::WARN),
            LogLevel::Error => tracing::enabled!(target: "plugin", tracing::Level::ERROR),
        })
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Which allocator a store's instance comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    /// A pre-reserved slot of the pooling allocator: fast to create, and its memory stays
    /// paged in (zeroed) for the next instance. For the short calls of the request path.
    Pooled,
    /// Memory mapped for this instance alone and handed back to the system when it ends:
    /// slower to create, unbounded in number, resident only for what it touches. For
    /// long-lived instances, and when the pool is full.
    OnDemand,
}

/// The process-wide wasmtime engines, linkers and compiled-code cache.
///
/// Two Cranelift engines with the same settings: one with the pooling allocator
/// (instantiation in microseconds, linear memory kept paged in between requests, a fixed
/// number of slots) and one allocating on demand, used for long-lived instances and when
/// every pooled slot is taken. So the pool is a fast path, never a ceiling: the only limit
/// on concurrent requests and streams is a configured one.
///
/// Unless turned off, two more: a Winch engine (allocating on demand) that runs the
/// [`Tier::Baseline`] of plugins whose optimized code is not ready yet, and a Cranelift
/// engine with the same settings but without the parallel compilation thread pool, which
/// [`PluginEngine::optimize`] compiles on: its work then stays on the (low-priority) thread
/// that asked for it instead of competing with requests on every core.
pub struct PluginEngine {
    engine: Engine,
    linker: Linker<PluginState>,
    /// `None` when `engine` itself allocates on demand (pooling unavailable).
    overflow: Option<(Engine, Linker<PluginState>)>,
    /// The Winch engine and its linker; `None`: no baseline tier.
    baseline: Option<(Engine, Linker<PluginState>)>,
    /// Cranelift on the calling thread only, producing code `engine` loads; `None`: compile
    /// on `engine` (its thread pool).
    background: Option<Engine>,
    cache_dir: Option<PathBuf>,
    engine_key: String,
}

impl PluginEngine {
    /// Build the engines (pooling allocator when the machine allows it; the baseline tier
    /// unless `CCR_PLUGIN_BASELINE=off`), the linkers (WASI p2 with nothing granted, plus the
    /// `host` interface) and start the epoch ticker.
    ///
    /// `cache_dir` holds compiled code keyed by the wasm's hash and the engine's
    /// compatibility hash; `None` disables the cache.
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        Self::build(cache_dir, baseline_wanted())
    }

    /// An engine without the baseline tier: every load is compiled by Cranelift (or read
    /// from the cache), as `ccr plugin check` wants, so that it fills the service's cache.
    pub fn optimized_only(cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        Self::build(cache_dir, false)
    }

    fn build(cache_dir: Option<PathBuf>, tiered: bool) -> anyhow::Result<Self> {
        let on_demand = Engine::new(&engine_config(false))?;
        let (engine, overflow) = match Engine::new(&engine_config(true)) {
            Ok(pooled) => {
                let linker = new_linker(&on_demand)?;
                (pooled, Some((on_demand, linker)))
            }
            Err(err) => {
                // Some VMs cannot reserve the pool's address space: on-demand only.
                tracing::warn!(
                    "pooling allocator unavailable ({err:#}); using on-demand allocation"
                );
                (on_demand, None)
            }
        };
        let linker = new_linker(&engine)?;
        let engine_key = compatibility_key(&engine);

        let (baseline, background) = if tiered {
            let baseline = (|| -> anyhow::Result<_> {
                let winch = Engine::new(engine_config(false).strategy(Strategy::Winch))?;
                Ok((new_linker(&winch)?, winch))
            })();
            let mut serial = engine_config(false);
            serial.parallel_compilation(false);
            let background = Engine::new(&serial).ok().filter(|b| {
                // Its code must load in `engine` (and be cached under `engine_key`).
                compatibility_key(b) == engine_key
            });
            match baseline {
                Ok((linker, winch)) => (Some((winch, linker)), background),
                Err(err) => {
                    tracing::warn!(
                        "the baseline compiler (Winch) is unavailable ({err:#}); new plugins \
                         serve once Cranelift has compiled them"
                    );
                    (None, None)
                }
            }
        } else {
            (None, None)
        };

        let weak = [
            Some(engine.weak()),
            overflow.as_ref().map(|(e, _)| e.weak()),
            baseline.as_ref().map(|(e, _)| e.weak()),
        ];
        std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(EPOCH_TICK);
                let mut alive = false;
                for engine in weak.iter().flatten().filter_map(|w| w.upgrade()) {
                    engine.increment_epoch();
                    alive = true;
                }
                if !alive {
                    break;
                }
            })?;

        Ok(Self {
            engine,
            linker,
            overflow,
            baseline,
            background,
            cache_dir,
            engine_key,
        })
    }

    /// Whether first-seen plugins get a baseline tier ([`PluginEngine::load_tiered`]).
    pub fn has_baseline(&self) -> bool {
        self.baseline.is_some()
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compile, link, type-check and introspect a plugin. CPU-heavy (compilation): call it
    /// off the request path (`spawn_blocking`). Never replaces anything by itself.
    ///
    /// The result is always [`Tier::Optimized`] (Cranelift, or the cache).
    pub fn load(
        &self,
        bytes: &[u8],
        source: PluginSource,
        limits_for: impl Fn(&str) -> PluginLimits,
    ) -> anyhow::Result<LoadedPlugin> {
        check_wasm_header(bytes)?;
        let hash = hex::encode(Sha256::digest(bytes));
        let component = self.compile(bytes, &hash)?;
        self.introspect(
            component,
            Tier::Optimized,
            hash,
            bytes.len(),
            source,
            limits_for,
        )
    }

    /// Like [`PluginEngine::load`], but a plugin whose optimized code is not in the cache is
    /// compiled with the baseline compiler (Winch) and returned as [`Tier::Baseline`], ready
    /// to serve in a fraction of the time; hand it to [`PluginEngine::optimize`] next.
    /// Without a baseline engine, or when Winch cannot compile the component, this is
    /// [`PluginEngine::load`].
    pub fn load_tiered(
        &self,
        bytes: &[u8],
        source: PluginSource,
        limits_for: impl Fn(&str) -> PluginLimits,
    ) -> anyhow::Result<LoadedPlugin> {
        let Some((winch, _)) = &self.baseline else {
            return self.load(bytes, source, limits_for);
        };
        check_wasm_header(bytes)?;
        let hash = hex::encode(Sha256::digest(bytes));
        if let Some(component) = self.cached(&hash) {
            let size = bytes.len();
            return self.introspect(component, Tier::Optimized, hash, size, source, limits_for);
        }
        match Component::new(winch, bytes) {
            Ok(component) => {
                let size = bytes.len();
                self.introspect(component, Tier::Baseline, hash, size, source, limits_for)
            }
            Err(err) => {
                // Invalid input fails Cranelift's validation as quickly; anything else is a
                // feature Winch lacks, and the optimizing compiler is the way.
                tracing::debug!(
                    "the baseline compiler cannot compile this component ({}); using Cranelift",
                    root_cause(&err)
                );
                self.load(bytes, source, limits_for)
            }
        }
    }

    /// The [`Tier::Optimized`] version of a [`Tier::Baseline`] plugin: compiled by Cranelift
    /// (on the calling thread alone when possible, so call it from a low-priority thread)
    /// or read from the cache, and written to the cache. `bytes` are the plugin's wasm.
    /// What the plugin said at load (metadata, hooks) is kept: the code is the same wasm.
    pub fn optimize(&self, plugin: &LoadedPlugin, bytes: &[u8]) -> anyhow::Result<LoadedPlugin> {
        let hash = hex::encode(Sha256::digest(bytes));
        if hash != plugin.hash {
            bail!("these bytes are not the plugin's wasm");
        }
        let component = match (self.cached(&hash), &self.background) {
            (Some(component), _) => component,
            (None, Some(background)) => {
                let code = background.precompile_component(bytes).map_err(|err| {
                    anyhow::anyhow!("not a valid WebAssembly component: {}", root_cause(&err))
                })?;
                if let Some(path) = self.cache_path(&hash) {
                    if let Err(err) = write_cache_bytes(&path, &code) {
                        tracing::debug!(
                            "could not cache compiled plugin at {}: {err:#}",
                            path.display()
                        );
                    }
                }
                // SAFETY: `code` was just produced by wasmtime for an engine whose
                // compatibility hash is this engine's (checked when both were built).
                unsafe { Component::deserialize(&self.engine, &code)? }
            }
            (None, None) => self.compile(bytes, &hash)?,
        };
        let pre = relink(&self.linker, &component, &plugin.pre)?;
        Ok(LoadedPlugin {
            pre,
            tier: Tier::Optimized,
            component,
            overflow_pre: Default::default(),
            streams: Default::default(),
            ..plugin.clone()
        })
    }

    /// Type-check a compiled component against the worlds, ask it who it is, and check the
    /// answer: the common part of every load.
    fn introspect(
        &self,
        component: Component,
        tier: Tier,
        hash: String,
        size: usize,
        source: PluginSource,
        limits_for: impl Fn(&str) -> PluginLimits,
    ) -> anyhow::Result<LoadedPlugin> {
        let (engine, linker) = match (tier, &self.baseline) {
            (Tier::Baseline, Some((engine, linker))) => (engine, linker),
            _ => (&self.engine, &self.linker),
        };
        let contract = check_contract_version(engine, &component)?;
        let pre = typed_pre(engine, linker, &component)?;

        // Ask the plugin who it is, in a throwaway store with default limits.
        let probe_limits = PluginLimits::default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let probe = async {
            let mut store = new_store(engine, Arc::from("<loading>"), &probe_limits);
            let info = match &pre {
                PluginPre::Provider(p) => {
                    let inst = p.instantiate_async(&mut store).await?;
                    inst.call_metadata(&mut store).await?
                }
                PluginPre::Transformer(p, _) => {
                    let inst = p.instantiate_async(&mut store).await?;
                    let info = inst.call_metadata(&mut store).await?;
                    let hooks = inst
                        .ccr_plugin_transformer_api()
                        .call_hooks(&mut store)
                        .await?;
                    return Ok::<_, anyhow::Error>((
                        info,
                        PluginPre::Transformer(p.clone(), hooks),
                    ));
                }
                PluginPre::Router(p) => {
                    let inst = p.instantiate_async(&mut store).await?;
                    inst.call_metadata(&mut store).await?
                }
            };
            Ok((info, pre))
        };
        let (info, pre) = runtime
            .block_on(async { tokio::time::timeout(probe_limits.timeout, probe).await })
            .map_err(|_| {
                anyhow::anyhow!(
                    "`metadata` did not return within {} ms",
                    probe_limits.timeout.as_millis()
                )
            })?
            .context("calling the plugin's `metadata` export")?;

        let world_kind = match &pre {
            PluginPre::Provider(_) => PluginKind::Provider,
            PluginPre::Transformer(..) => PluginKind::Transformer,
            PluginPre::Router(_) => PluginKind::Router,
        };
        if info.kind != world_kind {
            bail!(
                "metadata says kind `{}` but the component implements the `{}` world",
                kind_name(info.kind),
                kind_name(world_kind)
            );
        }
        validate_name(&info.name)?;
        let limits = limits_for(&info.name);
        Ok(LoadedPlugin {
            name: Arc::from(info.name.as_str()),
            info,
            source,
            hash,
            size,
            contract,
            limits,
            pre,
            tier,
            component,
            overflow_pre: Default::default(),
            streams: Default::default(),
        })
    }

    /// A store for one instance of `plugin` and the pre to instantiate in it, from the
    /// allocator asked for (the on-demand engine links the plugin the first time).
    pub fn store_for(
        &self,
        plugin: &LoadedPlugin,
        allocation: Allocation,
    ) -> anyhow::Result<(Store<PluginState>, PluginPre)> {
        if let (Tier::Baseline, Some((engine, _))) = (plugin.tier, &self.baseline) {
            // Baseline code runs in the Winch engine, which allocates on demand.
            return Ok((
                new_store(engine, plugin.name.clone(), &plugin.limits),
                plugin.pre.clone(),
            ));
        }
        let (engine, pre) = match (allocation, &self.overflow) {
            (Allocation::OnDemand, Some((engine, linker))) => {
                let pre = plugin
                    .overflow_pre
                    .get_or_init(|| {
                        link_elsewhere(engine, linker, plugin).map_err(|e| format!("{e:#}"))
                    })
                    .clone()
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                (engine, pre)
            }
            _ => (&self.engine, plugin.pre.clone()),
        };
        Ok((new_store(engine, plugin.name.clone(), &plugin.limits), pre))
    }

    /// Whether instances can come from somewhere else once the pool is full.
    pub fn has_overflow(&self) -> bool {
        self.overflow.is_some()
    }

    /// Compile (or fetch from the disk cache) a component.
    fn compile(&self, bytes: &[u8], hash: &str) -> anyhow::Result<Component> {
        if let Some(component) = self.cached(hash) {
            return Ok(component);
        }
        let component = Component::new(&self.engine, bytes).map_err(|err| {
            anyhow::anyhow!("not a valid WebAssembly component: {}", root_cause(&err))
        })?;
        if let Some(path) = &self.cache_path(hash) {
            if let Err(err) = write_cache(path, &component) {
                tracing::debug!(
                    "could not cache compiled plugin at {}: {err:#}",
                    path.display()
                );
            }
        }
        Ok(component)
    }

    /// Where the optimized code of the wasm with this hash is cached, if there is a cache.
    fn cache_path(&self, hash: &str) -> Option<PathBuf> {
        self.cache_dir
            .as_ref()
            .map(|dir| dir.join(format!("{hash}-{}.cwasm", self.engine_key)))
    }

    /// The optimized code of the wasm with this hash, from the disk cache, if it is there.
    fn cached(&self, hash: &str) -> Option<Component> {
        let path = self.cache_path(hash)?;
        if !path.exists() {
            return None;
        }
        // SAFETY: the file was written by wasmtime from this exact wasm for an engine with
        // the same compatibility hash, in the user's own cache dir.
        match unsafe { Component::deserialize_file(&self.engine, &path) } {
            Ok(component) => Some(component),
            Err(err) => {
                tracing::warn!(
                    "ignoring unreadable compiled-plugin cache {}: {err:#}",
                    path.display()
                );
                None
            }
        }
    }
}

/// Find which world the component implements by building each typed `Pre` in turn (this
/// type-checks imports and exports).
fn typed_pre(
    engine: &Engine,
    linker: &Linker<PluginState>,
    component: &Component,
) -> anyhow::Result<PluginPre> {
    let instance_pre = linker.instantiate_pre(component).map_err(|err| {
        anyhow::anyhow!(
            "the component imports something the host does not provide: {}",
            root_cause(&err)
        )
    })?;
    if let Ok(pre) = ProviderPre::new(instance_pre.clone()) {
        return Ok(PluginPre::Provider(pre));
    }
    if let Ok(pre) = TransformerPre::new(instance_pre.clone()) {
        return Ok(PluginPre::Transformer(pre, HookSet::empty()));
    }
    if let Ok(pre) = RouterPre::new(instance_pre) {
        return Ok(PluginPre::Router(pre));
    }
    let exports: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    bail!(
        "the component does not implement a ccr:plugin@{CONTRACT_VERSION} world \
             (provider, transformer or router); its exports are: [{}]",
        exports.join(", ")
    )
}

/// Refuse, with both versions named, a component built against a contract version this host
/// cannot serve. Versions follow semver (for 0.x, the minor version is the breaking one): a
/// plugin built against an older compatible contract loads, because the host only ever adds
/// to a compatible contract and wasmtime matches interface names by semver. Returns the
/// plugin's contract version.
fn check_contract_version(engine: &Engine, component: &Component) -> anyhow::Result<String> {
    let ty = component.component_type();
    let names: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .chain(ty.exports(engine).map(|(name, _)| name.to_string()))
        .collect();
    let mut found = None;
    for name in names {
        let Some(version) = name
            .strip_prefix("ccr:plugin/")
            .and_then(|rest| rest.split_once('@'))
            .map(|(_, v)| v)
        else {
            continue;
        };
        match contract_compatibility(version, CONTRACT_VERSION) {
            Compatibility::Compatible => {}
            Compatibility::Newer => bail!(
                "the plugin was built against contract ccr:plugin@{version}, newer than this \
                     host's ccr:plugin@{CONTRACT_VERSION}: upgrade ccr, or rebuild the plugin \
                     with an SDK for ccr:plugin@{CONTRACT_VERSION}"
            ),
            Compatibility::Incompatible => bail!(
                "the plugin was built against contract ccr:plugin@{version}, which is not \
                     compatible with this host's ccr:plugin@{CONTRACT_VERSION}: rebuild it \
                     against ccr:plugin@{CONTRACT_VERSION}"
            ),
        }
        found.get_or_insert_with(|| version.to_string());
    }
    Ok(found.unwrap_or_else(|| CONTRACT_VERSION.to_string()))
}

/// The key of an engine's compiled code in the cache: its compatibility hash, hashed.
fn compatibility_key(engine: &Engine) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// A fresh store for one request: empty WASI, memory and instance limits, and an epoch
/// deadline that yields every tick (the caller enforces the wall-clock budget).
fn new_store(engine: &Engine, plugin: Arc<str>, limits: &PluginLimits) -> Store<PluginState> {
    let stderr = MemoryOutputPipe::new(STDERR_CAPTURE);
    let wasi = WasiCtxBuilder::new().stderr(stderr.clone()).build();
    let state = PluginState {
        wasi,
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes)
            .instances(64)
            .trap_on_grow_failure(true)
            .build(),
        plugin,
        stderr,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(1);
    store.epoch_deadline_async_yield_and_update(1);
    store
}

/// The linker every engine uses: WASI p2 with nothing granted, plus the `host` interface.
fn new_linker(engine: &Engine) -> anyhow::Result<Linker<PluginState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    bindings::provider::ccr::plugin::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    bindings::provider::ccr::plugin::types::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    Ok(linker)
}

/// `plugin` pre-linked in another engine with the same settings: its compiled code moved
/// over (serialised, not recompiled), the world it was found to implement kept.
fn link_elsewhere(
    engine: &Engine,
    linker: &Linker<PluginState>,
    plugin: &LoadedPlugin,
) -> anyhow::Result<PluginPre> {
    let bytes = plugin.component.serialize()?;
    // SAFETY: the bytes were just serialised by wasmtime from a component compiled by an
    // engine with the same configuration (only the instance allocator differs).
    let component = unsafe { Component::deserialize(engine, &bytes)? };
    relink(linker, &component, &plugin.pre)
}

/// `component` pre-linked with `linker` as the same world as `like` (with its hooks).
fn relink(
    linker: &Linker<PluginState>,
    component: &Component,
    like: &PluginPre,
) -> anyhow::Result<PluginPre> {
    let instance_pre = linker.instantiate_pre(component)?;
    Ok(match like {
        PluginPre::Provider(_) => PluginPre::Provider(ProviderPre::new(instance_pre)?),
        PluginPre::Transformer(_, hooks) => {
            PluginPre::Transformer(TransformerPre::new(instance_pre)?, *hooks)
        }
        PluginPre::Router(_) => PluginPre::Router(RouterPre::new(instance_pre)?),
    })
}

/// Whether `err` says the pooling allocator has no free slot (of any kind) left.
pub fn is_pool_exhausted(err: &wasmtime::Error) -> bool {
    err.chain()
        .any(|e| e.is::<wasmtime::PoolConcurrencyLimitError>())
}

fn engine_config(pooling: bool) -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .memory_init_cow(true);
    if pooling {
        let n = pooled_instances();
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(n)
            .total_core_instances(n * 8)
            .total_memories(n * 2)
            .total_tables(n * 4)
            .total_stacks(n)
            .max_memory_size(MAX_MEMORY_BYTES)
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(KEEP_RESIDENT_BYTES);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

fn write_cache(path: &Path, component: &Component) -> anyhow::Result<()> {
    write_cache_bytes(path, &component.serialize()?)
}

/// Write compiled code to the cache: to a temporary name first, then renamed, so a reader
/// (another process with the same cache) never sees half a file.
fn write_cache_bytes(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Reject obvious non-components early with a precise reason.
fn check_wasm_header(bytes: &[u8]) -> anyhow::Result<()> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        bail!("not a WebAssembly file (missing the \\0asm magic header)");
    }
    // Core modules have version 1 layer 0; components have layer 1.
    if bytes[6..8] != [1, 0] {
        bail!(
            "a core WebAssembly module, not a component: build for wasm32-wasip2 \
             (or wrap it with `wasm-tools component new`)"
        );
    }
    Ok(())
}

fn validate_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        bail!("invalid plugin name {name:?}: use 1-64 characters from [A-Za-z0-9._-]");
    }
    Ok(())
}

/// How a plugin's contract version relates to the host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compatibility {
    /// Same compatibility range, not newer than the host: loads.
    Compatible,
    /// Same range but newer than the host (it may use what the host lacks).
    Newer,
    /// A different range (or not a version at all).
    Incompatible,
}

/// Compare a plugin's contract version with the host's (semver; for 0.x versions the minor
/// number is the breaking one).
pub fn contract_compatibility(plugin: &str, host: &str) -> Compatibility {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let core = v.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        Some((parts.next()??, parts.next()??, parts.next()??))
    };
    let (Some(p), Some(h)) = (parse(plugin), parse(host)) else {
        return Compatibility::Incompatible;
    };
    let same_range = if h.0 == 0 {
        p.0 == 0 && p.1 == h.1
    } else {
        p.0 == h.0
    };
    if !same_range {
        Compatibility::Incompatible
    } else if p > h {
        Compatibility::Newer
    } else {
        Compatibility::Compatible
    }
}

/// `provider`, `transformer` or `router`.
pub fn kind_name(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Provider => "provider",
        PluginKind::Transformer => "transformer",
        PluginKind::Router => "router",
    }
}

/// The innermost message of an error chain (wasmtime wraps the interesting part deep).
pub fn root_cause(err: &wasmtime::Error) -> String {
    let mut msg = err.to_string();
    for cause in err.chain().skip(1) {
        msg = cause.to_string();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_versions_follow_semver() {
        use Compatibility::*;
        assert_eq!(contract_compatibility("0.1.0", "0.1.0"), Compatible);
        assert_eq!(contract_compatibility("0.1.0", "0.1.3"), Compatible);
        assert_eq!(contract_compatibility("0.1.4", "0.1.3"), Newer);
        assert_eq!(contract_compatibility("0.2.0", "0.1.3"), Incompatible);
        assert_eq!(contract_compatibility("1.0.0", "0.1.3"), Incompatible);
        assert_eq!(contract_compatibility("1.0.0", "1.4.0"), Compatible);
        assert_eq!(contract_compatibility("garbage", "0.1.0"), Incompatible);
    }

    /// `metadata` of a fresh instance from `store_for` (so from the tier's engine).
    fn metadata_of(engine: &PluginEngine, plugin: &LoadedPlugin) -> PluginInfo {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let (mut store, pre) = engine.store_for(plugin, Allocation::Pooled).unwrap();
            match pre {
                PluginPre::Provider(p) => {
                    let i = p.instantiate_async(&mut store).await.unwrap();
                    i.call_metadata(&mut store).await.unwrap()
                }
                PluginPre::Transformer(p, _) => {
                    let i = p.instantiate_async(&mut store).await.unwrap();
                    i.call_metadata(&mut store).await.unwrap()
                }
                PluginPre::Router(p) => {
                    let i = p.instantiate_async(&mut store).await.unwrap();
                    i.call_metadata(&mut store).await.unwrap()
                }
            }
        })
    }

    #[test]
    fn a_first_seen_plugin_serves_from_baseline_code_then_optimized_code_is_cached() {
        let cache = tempfile::tempdir().unwrap();
        let engine = PluginEngine::build(Some(cache.path().to_path_buf()), true).unwrap();
        assert!(engine.has_baseline());
        assert!(
            engine.background.is_some(),
            "the single-threaded compiler's code must load in the pooled engine"
        );
        let limits = |_: &str| PluginLimits::default();
        for (crate_name, bytes) in super::super::registry::bundled_wasm() {
            let baseline = engine
                .load_tiered(bytes, PluginSource::Bundled, limits)
                .unwrap();
            assert_eq!(baseline.tier, Tier::Baseline, "{crate_name}");
            assert_eq!(metadata_of(&engine, &baseline).name, baseline.info.name);
            // Nothing is cached for baseline code.
            assert!(engine.cached(&baseline.hash).is_none());

            let optimized = engine.optimize(&baseline, bytes).unwrap();
            assert_eq!(optimized.tier, Tier::Optimized);
            assert_eq!(optimized.hash, baseline.hash);
            assert_eq!(metadata_of(&engine, &optimized).name, baseline.info.name);
            if let (PluginPre::Transformer(_, a), PluginPre::Transformer(_, b)) =
                (&baseline.pre, &optimized.pre)
            {
                assert_eq!(a, b, "hooks are kept");
            }
            // Now it is cached: the next first load is optimized straight away.
            let again = engine
                .load_tiered(bytes, PluginSource::Bundled, limits)
                .unwrap();
            assert_eq!(again.tier, Tier::Optimized, "{crate_name}");
            assert!(engine.optimize(&again, b"not the same bytes").is_err());
        }
    }

    #[test]
    fn without_the_baseline_tier_every_load_is_optimized() {
        let engine = PluginEngine::optimized_only(None).unwrap();
        assert!(!engine.has_baseline());
        let (_, bytes) = super::super::registry::bundled_wasm()[0];
        let plugin = engine
            .load_tiered(bytes, PluginSource::Bundled, |_| PluginLimits::default())
            .unwrap();
        assert_eq!(plugin.tier, Tier::Optimized);
    }

    #[test]
    fn non_components_are_refused_with_a_reason() {
        assert!(check_wasm_header(b"").is_err());
        assert!(check_wasm_header(b"hello world")
            .unwrap_err()
            .to_string()
            .contains("magic"));
        let core = b"\0asm\x01\0\0\0";
        assert!(check_wasm_header(core)
            .unwrap_err()
            .to_string()
            .contains("core WebAssembly module"));
        assert!(check_wasm_header(b"\0asm\x0d\0\x01\0").is_ok());
    }
}
