//! Hot reload of the plugin folder.
//!
//! A debounced watcher on the folder (not the files: editors and cargo replace files by
//! renaming) triggers a rescan on a blocking thread; the rescan compiles and type-checks
//! changed files and swaps the new generation in atomically (see
//! [`PluginRegistry::rescan`]). Requests in flight keep the generation they started with.

use std::sync::Arc;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult};

use super::registry::PluginRegistry;

/// How long the folder must be quiet before a rescan: short, so a swap is live well
/// within 500 ms, but long enough to coalesce the events of one write or rename.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Watches the plugin folder while alive; dropping it stops the watch.
pub struct PluginWatcher {
    _debouncer: notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
}

/// Start watching `registry`'s plugin folder (creating it if needed). Returns `None` when no
/// folder is configured.
pub fn watch(registry: Arc<PluginRegistry>) -> anyhow::Result<Option<PluginWatcher>> {
    let Some(dir) = registry.dir().map(|d| d.to_path_buf()) else {
        return Ok(None);
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("creating plugin folder {}: {e}", dir.display()))?;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |res: DebounceEventResult| match res {
        Ok(events) if events.iter().any(|e| !e.kind.is_access()) => {
            let _ = tx.send(());
        }
        Ok(_) => {}
        Err(errors) => {
            for err in errors {
                tracing::warn!("plugin folder watch error: {err}");
            }
            let _ = tx.send(());
        }
    })?;
    debouncer.watch(&dir, RecursiveMode::NonRecursive)?;
    // One thread applies changes in order; bursts collapse into one rescan.
    std::thread::Builder::new()
        .name("plugin-reload".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                while rx.try_recv().is_ok() {}
                registry.rescan();
            }
        })?;
    Ok(Some(PluginWatcher {
        _debouncer: debouncer,
    }))
}
