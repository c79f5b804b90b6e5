//! Where streamed answers are translated: a provider's `stream-translator` resources, many
//! to one instance of the plugin.
//!
//! Streams are the unit of load (a team's router holds thousands open for minutes), so
//! what one keeps resident is what counts. A translator's own state is a few hundred bytes,
//! but a fresh instance to hold it costs ~85 KB (the memory-image pages its first call
//! touches, tables, the store) and the instance that built the request is far bigger (its
//! heap grew while it translated the ~80 KB request). So the request's instance is freed
//! once the request is built, and the translators of up to [`STREAMS_PER_INSTANCE`] streams
//! of one plugin version live side by side in one instance: each is its own resource, fed
//! one event at a time (the instance's store is locked for the few microseconds of a call).
//!
//! Still sandboxed, with the plugin's memory limit and per-call time budget. The trade-off
//! is the blast radius of a plugin bug: a translator that traps or overruns its budget
//! leaves the instance unusable, and every stream translated in it then ends with an
//! Anthropic `error` event naming the plugin (the instance is never reused). Hot reload:
//! the instances belong to one [`LoadedPlugin`], so a stream finishes on the version it
//! started with. An instance is retired (takes no new stream, is dropped when its last
//! stream ends) after [`STREAMS_PER_LIFETIME`] streams, so whatever the plugin's allocator
//! fragments or leaks is bounded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use wasmtime::component::ResourceAny;

use super::bindings::{provider::Provider, ProviderTarget, SseEvent, UpstreamEvent};
use super::instance::{returned, timed, wrong_kind, Bindings, Guarded, PluginCallError};
use super::runtime::{Allocation, LoadedPlugin, PluginEngine};

/// Streams translated at once in one instance.
pub const STREAMS_PER_INSTANCE: usize = 32;

/// Streams one instance translates in its life before it is retired.
pub const STREAMS_PER_LIFETIME: usize = 4096;

/// The translator instances of one plugin version.
#[derive(Default)]
pub struct StreamHosts {
    /// Instances taking new streams (an instance leaves the list when it breaks, retires
    /// or is idle beside another one; the streams it still serves keep it alive).
    hosts: Mutex<Vec<Arc<TranslatorHost>>>,
    /// Held while an instance is being created, so that a burst of streams opening at once
    /// creates one instance per [`STREAMS_PER_INSTANCE`] streams, not one each.
    creating: tokio::sync::Mutex<()>,
}

/// One instance and the bookkeeping of the streams it translates.
struct TranslatorHost {
    instance: tokio::sync::Mutex<HostInstance>,
    /// Open streams and streams ever opened (guarded by the [`StreamHosts`] list lock).
    counts: Mutex<Counts>,
    /// A call trapped or timed out: no new stream, and every open one fails.
    broken: AtomicBool,
}

#[derive(Default)]
struct Counts {
    open: usize,
    served: usize,
}

struct HostInstance {
    g: Guarded,
    bindings: Provider,
}

impl StreamHosts {
    /// A slot for one more stream in an instance with room (created if none has).
    async fn claim(
        &self,
        engine: &PluginEngine,
        plugin: &Arc<LoadedPlugin>,
    ) -> Result<Arc<TranslatorHost>, PluginCallError> {
        if let Some(host) = self.claim_existing() {
            return Ok(host);
        }
        let _creating = self.creating.lock().await;
        if let Some(host) = self.claim_existing() {
            return Ok(host);
        }
        // On demand, not pooled: a pooled slot keeps the pages a request-building instance
        // dirtied (zeroed, for speed), which this long-lived instance would carry for its
        // whole life; fresh memory is resident only for what the translators touch.
        let (g, Bindings::Provider(bindings)) =
            Guarded::instantiate(engine, plugin.clone(), Allocation::OnDemand).await?
        else {
            return Err(wrong_kind(plugin, "provider"));
        };
        let host = Arc::new(TranslatorHost {
            instance: tokio::sync::Mutex::new(HostInstance { g, bindings }),
            counts: Mutex::new(Counts { open: 1, served: 1 }),
            broken: AtomicBool::new(false),
        });
        self.hosts.lock().push(host.clone());
        Ok(host)
    }

    fn claim_existing(&self) -> Option<Arc<TranslatorHost>> {
        let hosts = self.hosts.lock();
        hosts.iter().find_map(|host| {
            let mut counts = host.counts.lock();
            let usable = !host.broken.load(Ordering::Acquire)
                && counts.open < STREAMS_PER_INSTANCE
                && counts.served < STREAMS_PER_LIFETIME;
            usable.then(|| {
                counts.open += 1;
                counts.served += 1;
                host.clone()
            })
        })
    }

    /// A stream of `host` ended: take the instance out of the list if it is broken, retired
    /// and idle, or idle beside another instance (one idle instance stays, warm).
    fn release(&self, host: &Arc<TranslatorHost>) {
        let mut hosts = self.hosts.lock();
        let (idle, retired) = {
            let mut counts = host.counts.lock();
            counts.open = counts.open.saturating_sub(1);
            (counts.open == 0, counts.served >= STREAMS_PER_LIFETIME)
        };
        let broken = host.broken.load(Ordering::Acquire);
        if broken || (idle && (retired || hosts.len() > 1)) {
            hosts.retain(|h| !Arc::ptr_eq(h, host));
        }
    }

    /// Instances taking streams and the streams open in them (for `/health`).
    pub fn usage(&self) -> (usize, usize) {
        let hosts = self.hosts.lock();
        let open = hosts.iter().map(|h| h.counts.lock().open).sum();
        (hosts.len(), open)
    }
}

/// Call `$call` (with `$api`, the translator resource's functions, and `$store`) in the
/// shared instance, under the plugin's budget; a trap or timeout breaks the instance for
/// every stream in it.
macro_rules! in_shared_instance {
    ($this:expr, $export:literal, |$api:ident, $store:ident| $call:expr) => {{
        $this.check_host($export)?;
        let mut instance = $this.host.instance.lock().await;
        let HostInstance { g, bindings } = &mut *instance;
        let $api = bindings.ccr_plugin_provider_api().stream_translator();
        let outcome = timed!(g, $export, {
            let $store = &mut g.store;
            $call
        });
        if g.is_broken() {
            $this.host.broken.store(true, Ordering::Release);
        }
        outcome
    }};
}

/// A provider's `stream-translator` for one streamed response, in an instance it may share
/// with other streams of the same plugin version.
pub struct StreamTranslatorInstance {
    plugin: Arc<LoadedPlugin>,
    host: Arc<TranslatorHost>,
    /// `None` once the resource has been handed back.
    translator: Option<ResourceAny>,
}

impl StreamTranslatorInstance {
    /// Create the translator for one streamed answer of `plugin` (a provider).
    pub async fn open(
        engine: &PluginEngine,
        plugin: &Arc<LoadedPlugin>,
        target: &ProviderTarget,
    ) -> Result<Self, PluginCallError> {
        let host = plugin.streams.claim(engine, plugin).await?;
        // From here on, dropping `this` gives the slot back, whatever happens.
        let mut this = StreamTranslatorInstance {
            plugin: plugin.clone(),
            host,
            translator: None,
        };
        let translator =
            in_shared_instance!(this, "stream-translator.constructor", |api, store| api
                .call_constructor(store, target))?;
        this.translator = Some(translator);
        Ok(this)
    }

    /// The plugin this translator runs in.
    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.plugin
    }

    /// Translate one upstream event.
    pub async fn feed(&mut self, event: &UpstreamEvent) -> Result<Vec<SseEvent>, PluginCallError> {
        let translator = self.resource("stream-translator.feed")?;
        let result = in_shared_instance!(self, "stream-translator.feed", |api, store| api
            .call_feed(store, translator, event))?;
        returned(&self.plugin, "stream-translator.feed", result)
    }

    /// The upstream stream ended.
    pub async fn finish(&mut self) -> Result<Vec<SseEvent>, PluginCallError> {
        let translator = self.resource("stream-translator.finish")?;
        let result = in_shared_instance!(self, "stream-translator.finish", |api, store| api
            .call_finish(store, translator))?;
        returned(&self.plugin, "stream-translator.finish", result)
    }

    fn resource(&self, export: &'static str) -> Result<ResourceAny, PluginCallError> {
        self.translator.ok_or_else(|| PluginCallError::Trapped {
            plugin: self.plugin.name.clone(),
            export,
            reason: "the stream's translator was not created".into(),
        })
    }

    /// Refuse a call into an instance another stream broke.
    fn check_host(&self, export: &'static str) -> Result<(), PluginCallError> {
        if self.host.broken.load(Ordering::Acquire) {
            return Err(PluginCallError::Trapped {
                plugin: self.plugin.name.clone(),
                export,
                reason: "the instance translating this stream failed while serving another \
                         stream"
                    .into(),
            });
        }
        Ok(())
    }
}

impl Drop for StreamTranslatorInstance {
    fn drop(&mut self) {
        let hosts = self.plugin.streams.clone();
        let host = self.host.clone();
        let Some(translator) = self.translator.take() else {
            hosts.release(&host);
            return;
        };
        // Free the translator's state in the plugin (an async call into the instance),
        // then the slot. Without a runtime (shutting down) only the slot is given back.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if !host.broken.load(Ordering::Acquire) {
                        let mut instance = host.instance.lock().await;
                        let _ = translator.resource_drop_async(&mut instance.g.store).await;
                    }
                    hosts.release(&host);
                });
            }
            Err(_) => hosts.release(&host),
        }
    }
}
