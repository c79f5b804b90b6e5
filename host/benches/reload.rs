//! How long a plugin swap takes to go live: from the moment a new `.wasm` replaces the old
//! one in the plugin folder (atomic rename) until the registry serves the new version.
//! Both versions are in the compiled-code cache after the first round, as on a real
//! machine after the first load of a build.
//!
//! `cargo bench -p ccr --bench reload`

use std::sync::Arc;
use std::time::{Duration, Instant};

use ccr::plugins::{reload, PluginEngine, PluginLimits, PluginRegistry};
use criterion::{criterion_group, criterion_main, Criterion};

fn swap(c: &mut Criterion) {
    let build = tempfile::tempdir().unwrap();
    let v1 = std::fs::read(ccr_tests::wasm::fixture(
        "tag",
        1,
        &build.path().join("v1.wasm"),
    ))
    .unwrap();
    let v2 = std::fs::read(ccr_tests::wasm::fixture(
        "tag",
        2,
        &build.path().join("v2.wasm"),
    ))
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("tag.wasm");
    std::fs::write(&plugin, &v1).unwrap();
    let engine = Arc::new(PluginEngine::new(Some(cache.path().to_path_buf())).unwrap());
    let registry = Arc::new(PluginRegistry::new(
        engine,
        Some(dir.path().to_path_buf()),
        Arc::new(|_: &str| PluginLimits::default()),
    ));
    let _watcher = reload::watch(registry.clone()).unwrap();

    let live_hash = |r: &PluginRegistry| {
        r.snapshot()
            .get("fixture-tag")
            .map(|p| p.hash.clone())
            .unwrap_or_default()
    };
    // The folder starts with v1, so the first swap installs v2.
    let mut versions = [v2, v1].into_iter().cycle();
    let mut swap_once = || {
        let bytes = versions.next().unwrap();
        let before = live_hash(&registry);
        let tmp = dir.path().join("tag.wasm.tmp");
        std::fs::write(&tmp, &bytes).unwrap();
        let start = Instant::now();
        std::fs::rename(&tmp, &plugin).unwrap();
        while live_hash(&registry) == before {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "swap never happened"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        start.elapsed()
    };
    // Fill the compiled-code cache with both versions.
    swap_once();
    swap_once();

    let mut g = c.benchmark_group("reload");
    g.sample_size(20);
    g.bench_function("plugin_swap_live", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| swap_once()).sum())
    });
    g.finish();
}

criterion_group!(reload_bench, swap);
criterion_main!(reload_bench);
