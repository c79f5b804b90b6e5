//! Watching the config file for changes (hot reload).
//!
//! Editors and tools rarely write a file in place: they write a temporary file and rename it
//! over the original, which replaces the inode a file watch would be attached to. So we watch
//! the file's *parent directory* and pick out events that name the file. Events are debounced
//! (~100 ms) so one save triggers one reload.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};

/// How long events are collected before `on_change` fires.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

/// A running watch on a config file. Dropping it stops the watch (the background thread
/// exits within one debounce tick).
pub struct ConfigWatcher {
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    path: PathBuf,
}

impl ConfigWatcher {
    /// The file being watched.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::fmt::Debug for ConfigWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigWatcher")
            .field("path", &self.path)
            .finish()
    }
}

/// Calls `on_change` (on a background thread) whenever the file at `path` is created,
/// written, replaced by a rename, or removed. The file itself need not exist yet, but its
/// folder must. If `path` is a symlink, the folder of its target is watched too.
///
/// Read-only access does not count, so re-reading the file in `on_change` is safe.
pub fn watch(
    path: PathBuf,
    on_change: impl Fn() + Send + 'static,
) -> anyhow::Result<ConfigWatcher> {
    // (folder, file name) pairs to watch.
    let mut targets: Vec<(PathBuf, OsString)> = Vec::new();
    let split = |p: &Path| -> anyhow::Result<(PathBuf, OsString)> {
        let name = p
            .file_name()
            .with_context(|| format!("config path {} has no file name", p.display()))?
            .to_owned();
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok((dir, name))
    };
    targets.push(split(&path)?);
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        if let Ok(real) = std::fs::canonicalize(&path) {
            let t = split(&real)?;
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
    }

    let names: Vec<OsString> = targets.iter().map(|(_, n)| n.clone()).collect();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let Ok(events) = result else {
            // Watch errors (e.g. the folder was deleted) are not config changes.
            return;
        };
        let relevant = events.iter().any(|e| {
            !matches!(e.event.kind, EventKind::Access(_))
                && e.event
                    .paths
                    .iter()
                    .any(|p| p.file_name().is_some_and(|n| names.iter().any(|w| w == n)))
        });
        if relevant {
            on_change();
        }
    })
    .context("starting the config file watcher")?;

    for (dir, _) in &targets {
        debouncer
            .watch(dir, RecursiveMode::NonRecursive)
            .with_context(|| format!("watching {} for config changes", dir.display()))?;
    }
    Ok(ConfigWatcher {
        _debouncer: debouncer,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn wait(rx: &mpsc::Receiver<()>, secs: u64) -> bool {
        rx.recv_timeout(Duration::from_secs(secs)).is_ok()
    }

    fn drain(rx: &mpsc::Receiver<()>) {
        while rx.recv_timeout(Duration::from_millis(400)).is_ok() {}
    }

    #[test]
    fn reports_writes_renames_and_removal_of_the_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(&file, "{}").unwrap();
        let (tx, rx) = mpsc::channel();
        let w = watch(file.clone(), move || {
            let _ = tx.send(());
        })
        .unwrap();
        assert_eq!(w.path(), file);

        // In-place write.
        std::fs::write(&file, "{ PORT: 1 }").unwrap();
        assert!(wait(&rx, 5), "in-place write not reported");
        drain(&rx);

        // Atomic replace, the way editors save.
        let tmp = dir.path().join(".config.json.swp");
        std::fs::write(&tmp, "{ PORT: 2 }").unwrap();
        std::fs::rename(&tmp, &file).unwrap();
        assert!(wait(&rx, 5), "rename over the file not reported");
        drain(&rx);

        // Another file in the same folder is not a config change.
        std::fs::write(dir.path().join("other.json"), "{}").unwrap();
        assert!(!wait(&rx, 1), "unrelated file reported");

        // Reading the file is not a change either.
        let _ = std::fs::read_to_string(&file).unwrap();
        assert!(!wait(&rx, 1), "read reported as a change");

        std::fs::remove_file(&file).unwrap();
        assert!(wait(&rx, 5), "removal not reported");
        drain(&rx);

        // Dropping the watcher stops it.
        drop(w);
        std::thread::sleep(Duration::from_millis(200));
        std::fs::write(&file, "{}").unwrap();
        assert!(!wait(&rx, 1), "reported after drop");
    }

    #[test]
    fn the_file_may_not_exist_yet() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        let (tx, rx) = mpsc::channel();
        let _w = watch(file.clone(), move || {
            let _ = tx.send(());
        })
        .unwrap();
        std::fs::write(&file, "{}").unwrap();
        assert!(wait(&rx, 5), "creation not reported");
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nope").join("config.json");
        let err = watch(file, || {}).unwrap_err();
        assert!(format!("{err:#}").contains("nope"), "{err:#}");
    }
}
