//! The registry of loaded plugins: bundled ones embedded in the binary, folder ones from the
//! plugin folder, and the errors of files that failed to load.
//!
//! The live set is an immutable [`PluginSet`] behind an `ArcSwap`: a request takes one
//! snapshot and uses it throughout, so a swap never changes a request mid-flight, and the
//! old generation is freed when its last request finishes.
//!
//! A folder file whose optimized code is not cached is loaded at the baseline tier
//! ([`PluginEngine::load_tiered`]) and published at once; a background thread at a lower
//! CPU priority then compiles it with Cranelift ([`PluginEngine::optimize`]) and publishes
//! a generation with the optimized version in its place, unless the file changed meanwhile.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::runtime::{kind_name, LoadedPlugin, PluginEngine, PluginLimits, PluginSource, Tier};

/// Decides the limits of a plugin from its name (backed by the config's `PLUGIN_LIMITS`).
pub type LimitsFn = Arc<dyn Fn(&str) -> PluginLimits + Send + Sync>;

/// The plugins compiled into this binary: (plugin crate name, wasm bytes).
pub fn bundled_wasm() -> &'static [(&'static str, &'static [u8])] {
    include!(concat!(env!("OUT_DIR"), "/bundled_plugins.rs"))
}

/// A file from the plugin folder that could not be loaded.
#[derive(Debug, Clone, Serialize)]
pub struct LoadFailure {
    /// The file.
    pub path: PathBuf,
    /// Why it was rejected.
    pub error: String,
    /// When (seconds since the Unix epoch).
    pub at: u64,
    /// Whether an earlier version of this file keeps serving.
    pub previous_kept: bool,
}

/// One immutable generation of plugins, looked up by name.
#[derive(Debug, Default)]
pub struct PluginSet {
    plugins: HashMap<String, Arc<LoadedPlugin>>,
    /// Lower-cased name → name, for config chains that spell names differently (CCR's
    /// `Anthropic` is our `anthropic`).
    lowercase: HashMap<String, String>,
    failures: Vec<LoadFailure>,
    generation: u64,
}

impl PluginSet {
    /// The plugin called `name`, if loaded.
    pub fn get(&self, name: &str) -> Option<&Arc<LoadedPlugin>> {
        self.plugins.get(name)
    }

    /// The plugin called `name`, or else the one whose name matches ignoring ASCII case.
    pub fn get_ignore_case(&self, name: &str) -> Option<&Arc<LoadedPlugin>> {
        self.get(name).or_else(|| {
            self.lowercase
                .get(&name.to_ascii_lowercase())
                .and_then(|exact| self.plugins.get(exact))
        })
    }

    /// The plugin loaded from the file at `path`, if any.
    pub fn from_file(&self, path: &Path) -> Option<&Arc<LoadedPlugin>> {
        self.plugins
            .values()
            .find(|p| matches!(&p.source, PluginSource::Folder(f) if f == path))
    }

    /// Every loaded plugin, sorted by name.
    pub fn plugins(&self) -> Vec<&Arc<LoadedPlugin>> {
        let mut all: Vec<_> = self.plugins.values().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Files that failed to load (latest attempt per file).
    pub fn failures(&self) -> &[LoadFailure] {
        &self.failures
    }

    /// Increases with every swap.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// One row of `ccr plugin list` / `/health`.
#[derive(Debug, Clone, Serialize)]
pub struct PluginStatus {
    /// Plugin name (from its metadata), or the file name for a file that never loaded.
    pub name: String,
    /// `provider`, `transformer`, `router`, or `-` when unknown.
    pub kind: String,
    /// Plugin version.
    pub version: String,
    /// `bundled` or `folder`.
    pub source: String,
    /// The file, for folder plugins.
    pub path: Option<PathBuf>,
    /// First 12 hex digits of the SHA-256 of the wasm.
    pub hash: String,
    /// `ok`, `overridden` (a bundled plugin replaced by a folder one), or `error`.
    pub status: String,
    /// Which compiler's code serves: `optimized` (Cranelift), `baseline` (Winch, while
    /// the optimized code is compiled in the background), or `-` for a failed file.
    pub tier: String,
    /// Why the file failed to load, if it did.
    pub error: Option<String>,
    /// The plugin's description.
    pub description: String,
}

#[derive(Clone)]
enum FolderEntry {
    Loaded(Arc<LoadedPlugin>),
    Failed { hash: String },
}

/// All plugins known to the process, and the machinery to change them.
pub struct PluginRegistry {
    engine: Arc<PluginEngine>,
    dir: Option<PathBuf>,
    shared: Arc<Shared>,
    /// Plugin files outside the folder (the config's `CUSTOM_ROUTER_PATH` when it names a
    /// `.wasm`), loaded and reported like folder files.
    extra_files: Mutex<Vec<PathBuf>>,
    /// Files larger than this are rejected unread (`PLUGIN_LIMITS.max_file_mb`).
    max_file_bytes: AtomicU64,
    /// Baseline-tier plugins to optimize; the thread starts with the first one.
    optimizer: Mutex<Option<Sender<OptimizeJob>>>,
}

/// What the registry and its optimizer thread both change.
struct Shared {
    limits: ArcSwap<LimitsHolder>,
    bundled: Vec<Arc<LoadedPlugin>>,
    bundled_failures: Vec<LoadFailure>,
    folder: Mutex<FolderState>,
    current: ArcSwap<PluginSet>,
}

struct LimitsHolder(LimitsFn);

/// A baseline-tier plugin loaded from `path`, and its wasm, to compile with Cranelift.
struct OptimizeJob {
    path: PathBuf,
    plugin: Arc<LoadedPlugin>,
    bytes: Vec<u8>,
}

/// The optimizer thread's nice value (Linux): it shares the CPU with requests, which come
/// first, but not so far below them that a busy proxy never gets its optimized code.
const OPTIMIZER_NICE: i32 = 10;

#[derive(Default)]
struct FolderState {
    entries: BTreeMap<PathBuf, FolderEntry>,
    failures: BTreeMap<PathBuf, LoadFailure>,
    generation: u64,
}

impl PluginRegistry {
    /// Load the bundled plugins and everything in `dir` (blocking: compiles; call from a
    /// blocking context). Folder files that fail are recorded, never fatal.
    pub fn new(engine: Arc<PluginEngine>, dir: Option<PathBuf>, limits: LimitsFn) -> Self {
        let max = crate::config::PluginLimits::default().max_file_bytes();
        Self::with_max_file_bytes(engine, dir, limits, max)
    }

    /// [`PluginRegistry::new`] with a cap on plugin file size other than the default.
    pub fn with_max_file_bytes(
        engine: Arc<PluginEngine>,
        dir: Option<PathBuf>,
        limits: LimitsFn,
        max_file_bytes: u64,
    ) -> Self {
        let mut bundled = Vec::new();
        let mut bundled_failures = Vec::new();
        for (crate_name, bytes) in bundled_wasm() {
            match engine.load(bytes, PluginSource::Bundled, &*limits) {
                Ok(plugin) => bundled.push(Arc::new(plugin)),
                Err(err) => {
                    // A bundled plugin that fails is a build bug; say so loudly but serve on.
                    tracing::error!("bundled plugin {crate_name} failed to load: {err:#}");
                    bundled_failures.push(LoadFailure {
                        path: PathBuf::from(format!("<bundled>/{crate_name}")),
                        error: format!("{err:#}"),
                        at: now(),
                        previous_kept: false,
                    });
                }
            }
        }
        let registry = Self {
            engine,
            dir,
            shared: Arc::new(Shared {
                limits: ArcSwap::from_pointee(LimitsHolder(limits)),
                bundled,
                bundled_failures,
                folder: Mutex::new(FolderState::default()),
                current: ArcSwap::from_pointee(PluginSet::default()),
            }),
            extra_files: Mutex::new(Vec::new()),
            max_file_bytes: AtomicU64::new(max_file_bytes),
            optimizer: Mutex::new(None),
        };
        registry.rescan();
        registry
    }

    /// Load these files too (besides the folder's), then rescan. Blocking (compiles).
    pub fn set_extra_files(&self, files: Vec<PathBuf>) {
        let changed = *self.extra_files.lock() != files;
        if changed {
            *self.extra_files.lock() = files;
            self.rescan();
        }
    }

    /// Change the file-size cap (after a config reload); files already loaded stay.
    pub fn set_max_file_bytes(&self, max: u64) {
        self.max_file_bytes.store(max, Ordering::Relaxed);
    }

    /// The plugin folder, if one is configured.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The engine plugins run on.
    pub fn engine(&self) -> &Arc<PluginEngine> {
        &self.engine
    }

    /// The current generation. Take it once per request and keep it for the whole request.
    pub fn snapshot(&self) -> Arc<PluginSet> {
        self.shared.current.load_full()
    }

    /// Replace the limits (after a config reload) and republish every plugin with them.
    pub fn set_limits(&self, limits: LimitsFn) {
        self.shared.limits.store(Arc::new(LimitsHolder(limits)));
        let mut folder = self.shared.folder.lock();
        for entry in folder.entries.values_mut() {
            if let FolderEntry::Loaded(plugin) = entry {
                *plugin = Arc::new(self.shared.with_current_limits(plugin));
            }
        }
        self.shared.publish(&mut folder);
    }

    /// Whether a baseline-tier plugin is still waiting for its optimized code (or being
    /// compiled). Tests and benchmarks wait on this; requests never need to.
    pub fn optimizing(&self) -> bool {
        self.shared
            .folder
            .lock()
            .entries
            .values()
            .any(|e| matches!(e, FolderEntry::Loaded(p) if p.tier == Tier::Baseline))
    }

    /// Queue a baseline-tier plugin for the optimizer thread (started on first use).
    fn optimize_later(&self, path: &Path, plugin: Arc<LoadedPlugin>, bytes: Vec<u8>) {
        let job = OptimizeJob {
            path: path.to_path_buf(),
            plugin,
            bytes,
        };
        let mut sender = self.optimizer.lock();
        let job = match sender.as_ref() {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                // The thread is gone (it panicked): start another.
                Err(std::sync::mpsc::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let (engine, shared) = (self.engine.clone(), self.shared.clone());
        let spawned = std::thread::Builder::new()
            .name("plugin-optimize".into())
            .spawn(move || optimizer_thread(engine, shared, rx));
        match spawned {
            Ok(_) => {
                let _ = tx.send(job);
                *sender = Some(tx);
            }
            Err(err) => tracing::warn!(
                "could not start the plugin optimizer thread ({err}); {} keeps its baseline \
                 code",
                job.plugin.name
            ),
        }
    }

    /// Bring the folder state in line with the files on disk: load new or changed `.wasm`
    /// files, drop removed ones, keep the previous version of any file that fails.
    /// Blocking (compiles); call from a blocking context.
    pub fn rescan(&self) {
        let mut files = self.dir.as_deref().map(list_wasm_files).unwrap_or_default();
        for extra in self.extra_files.lock().iter() {
            if !files.contains(extra) {
                files.push(extra.clone());
            }
        }
        let mut folder = self.shared.folder.lock();
        folder.entries.retain(|path, _| files.contains(path));
        folder.failures.retain(|path, _| files.contains(path));
        for path in &files {
            let max = self.max_file_bytes.load(Ordering::Relaxed);
            let bytes = match read_plugin_file(path, max) {
                Ok(bytes) => bytes,
                Err(err) => {
                    let kept = matches!(folder.entries.get(path), Some(FolderEntry::Loaded(_)));
                    tracing::error!(file = %path.display(), previous_kept = kept, "plugin rejected: {err}");
                    record_failure(&mut folder, path, err, kept);
                    continue;
                }
            };
            let hash = hex::encode(Sha256::digest(&bytes));
            let unchanged = match folder.entries.get(path) {
                Some(FolderEntry::Loaded(p)) => p.hash == hash,
                Some(FolderEntry::Failed { hash: h }) => *h == hash,
                None => false,
            };
            if unchanged {
                // Back to the version that is serving: its earlier failure is history.
                if matches!(folder.entries.get(path), Some(FolderEntry::Loaded(_))) {
                    folder.failures.remove(path);
                }
                continue;
            }
            let limits = self.shared.limits.load_full();
            let started = Instant::now();
            match self
                .engine
                .load_tiered(&bytes, PluginSource::Folder(path.clone()), &*limits.0)
            {
                Ok(plugin) => {
                    tracing::info!(
                        plugin = %plugin.name,
                        kind = kind_name(plugin.info.kind),
                        version = %plugin.info.version,
                        file = %path.display(),
                        tier = plugin.tier.label(),
                        ms = started.elapsed().as_millis() as u64,
                        "plugin loaded"
                    );
                    folder.failures.remove(path);
                    let plugin = Arc::new(plugin);
                    if plugin.tier == Tier::Baseline {
                        self.optimize_later(path, plugin.clone(), bytes);
                    }
                    folder
                        .entries
                        .insert(path.clone(), FolderEntry::Loaded(plugin));
                }
                Err(err) => {
                    let kept = matches!(folder.entries.get(path), Some(FolderEntry::Loaded(_)));
                    let message = format!("{err:#}");
                    tracing::error!(
                        file = %path.display(),
                        previous_kept = kept,
                        "plugin rejected: {message}"
                    );
                    record_failure(&mut folder, path, message, kept);
                    if !kept {
                        folder
                            .entries
                            .insert(path.clone(), FolderEntry::Failed { hash });
                    }
                }
            }
        }
        self.shared.publish(&mut folder);
    }

    /// Rows for `ccr plugin list`, `ccr status` and `/health`.
    pub fn statuses(&self) -> Vec<PluginStatus> {
        let set = self.snapshot();
        let mut rows = Vec::new();
        for plugin in &self.shared.bundled {
            let live = set.get(&plugin.info.name);
            let overridden = live.is_some_and(|p| p.source != PluginSource::Bundled);
            rows.push(status_row(
                plugin,
                if overridden { "overridden" } else { "ok" },
            ));
        }
        for plugin in set.plugins() {
            if plugin.source != PluginSource::Bundled {
                rows.push(status_row(plugin, "ok"));
            }
        }
        for failure in set.failures() {
            rows.push(PluginStatus {
                name: failure
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                kind: "-".into(),
                version: "-".into(),
                source: "folder".into(),
                path: Some(failure.path.clone()),
                hash: "-".into(),
                status: "error".into(),
                tier: "-".into(),
                error: Some(if failure.previous_kept {
                    format!("{} (the previous version keeps serving)", failure.error)
                } else {
                    failure.error.clone()
                }),
                description: String::new(),
            });
        }
        rows
    }
}

/// The optimizer thread: compiles each queued baseline-tier plugin with Cranelift at a
/// lower CPU priority and swaps the optimized version in, if the file still holds that
/// version. Ends when the registry (the sender) is gone.
fn optimizer_thread(engine: Arc<PluginEngine>, shared: Arc<Shared>, jobs: Receiver<OptimizeJob>) {
    lower_thread_priority();
    while let Ok(job) = jobs.recv() {
        if !shared.serves_baseline(&job.path, &job.plugin.hash) {
            continue; // replaced or removed meanwhile
        }
        let started = Instant::now();
        let optimized = match engine.optimize(&job.plugin, &job.bytes) {
            Ok(p) => p,
            Err(err) => {
                tracing::warn!(
                    plugin = %job.plugin.name,
                    file = %job.path.display(),
                    "the optimizing compiler failed ({err:#}); the baseline code keeps serving"
                );
                continue;
            }
        };
        let mut folder = shared.folder.lock();
        let Some(FolderEntry::Loaded(current)) = folder.entries.get_mut(&job.path) else {
            continue;
        };
        if current.hash != optimized.hash || current.tier != Tier::Baseline {
            continue;
        }
        // The limits may have changed since the load: keep the current ones.
        *current = Arc::new(optimized.with_limits(current.limits));
        shared.publish(&mut folder);
        tracing::info!(
            plugin = %job.plugin.name,
            file = %job.path.display(),
            tier = Tier::Optimized.label(),
            ms = started.elapsed().as_millis() as u64,
            "plugin optimized"
        );
    }
}

/// Give the calling thread a lower CPU priority (Linux: nice values are per thread).
fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on the calling thread's own id, no memory involved.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, OPTIMIZER_NICE);
    }
}

impl Shared {
    fn with_current_limits(&self, plugin: &LoadedPlugin) -> LoadedPlugin {
        plugin.with_limits((self.limits.load().0)(&plugin.name))
    }

    /// Whether `path` is still served by the baseline version with this hash.
    fn serves_baseline(&self, path: &Path, hash: &str) -> bool {
        matches!(
            self.folder.lock().entries.get(path),
            Some(FolderEntry::Loaded(p)) if p.hash == hash && p.tier == Tier::Baseline
        )
    }

    /// Build and swap in a new generation from the bundled plugins and the folder state.
    fn publish(&self, folder: &mut FolderState) {
        let mut plugins: HashMap<String, Arc<LoadedPlugin>> = HashMap::new();
        let limits = self.limits.load_full();
        for plugin in &self.bundled {
            let mut p = (**plugin).clone();
            p.limits = (limits.0)(&p.name);
            plugins.insert(p.info.name.clone(), Arc::new(p));
        }
        let mut failures: Vec<LoadFailure> = self.bundled_failures.clone();
        let mut folder_names: HashMap<String, PathBuf> = HashMap::new();
        for (path, entry) in &folder.entries {
            let FolderEntry::Loaded(plugin) = entry else {
                continue;
            };
            if let Some(first) = folder_names.get(&plugin.info.name) {
                failures.push(LoadFailure {
                    path: path.clone(),
                    error: format!(
                        "plugin name '{}' is already used by {}; this file is ignored",
                        plugin.info.name,
                        first.display()
                    ),
                    at: now(),
                    previous_kept: false,
                });
                continue;
            }
            folder_names.insert(plugin.info.name.clone(), path.clone());
            plugins.insert(plugin.info.name.clone(), plugin.clone());
        }
        failures.extend(folder.failures.values().cloned());
        folder.generation += 1;
        let lowercase = plugins
            .keys()
            .map(|name| (name.to_ascii_lowercase(), name.clone()))
            .collect();
        self.current.store(Arc::new(PluginSet {
            plugins,
            lowercase,
            failures,
            generation: folder.generation,
        }));
    }
}

fn status_row(plugin: &LoadedPlugin, status: &str) -> PluginStatus {
    PluginStatus {
        name: plugin.info.name.clone(),
        kind: kind_name(plugin.info.kind).into(),
        version: plugin.info.version.clone(),
        source: plugin.source.label().into(),
        path: match &plugin.source {
            PluginSource::Folder(p) => Some(p.clone()),
            PluginSource::Bundled => None,
        },
        hash: plugin.hash[..12].to_string(),
        status: status.into(),
        tier: plugin.tier.label().into(),
        error: None,
        description: plugin.info.description.clone(),
    }
}

fn record_failure(folder: &mut FolderState, path: &Path, error: String, previous_kept: bool) {
    folder.failures.insert(
        path.to_path_buf(),
        LoadFailure {
            path: path.to_path_buf(),
            error,
            at: now(),
            previous_kept,
        },
    );
}

/// `*.wasm` files directly in `dir` (not hidden, not editor temp files), sorted.
pub fn list_wasm_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = read
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| is_plugin_file(p))
        .collect();
    files.sort();
    files
}

/// Whether `path` looks like a plugin file: a non-hidden `*.wasm` that is not a folder.
/// FIFOs, devices and broken or looping symlinks count, so that [`read_plugin_file`]
/// reports them instead of the file silently not loading.
pub fn is_plugin_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !name.starts_with('.') && name.ends_with(".wasm") && !path.is_dir()
}

/// Read a plugin file of at most `max` bytes. Only regular files (a symlink to one is fine)
/// are read: the type and size are checked on the opened file before reading (a FIFO is
/// opened non-blocking, so it cannot stall the reload thread), and the read stops past `max`
/// even if the file grows meanwhile. A sparse 64 GB file costs nothing.
pub fn read_plugin_file(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| format!("cannot read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "not a regular file ({}); a plugin must be a .wasm file",
            file_kind(&meta.file_type())
        ));
    }
    let too_big = |size: u64| {
        format!(
            "the file is {} MB, over the {} MB limit for plugin files (PLUGIN_LIMITS.max_file_mb)",
            size.div_ceil(1024 * 1024),
            max / (1024 * 1024)
        )
    };
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
