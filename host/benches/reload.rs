//! How long a plugin swap takes to go live: from the moment a new `.wasm` replaces the old
//! one in the plugin folder (atomic rename) until the registry serves the new version.
//! Both versions are in the compiled-code cache after the first round, as on a real
//! machine after the first load of a build.
//!
//! Then the two compilation tiers (`tiers/*`): for the Rust transformer example and, when
//! its toolchain can be installed, the JavaScript router example, how long the first load
//! takes with Winch (baseline) and with Cranelift (optimized), printed as a table, and what
//! a call costs on each tier's code (criterion).
//!
//! `cargo bench -p ccr --bench reload`

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ccr::plugins::bindings::TransformContext;
use ccr::plugins::instance::call_router;
use ccr::plugins::runtime::Tier;
use ccr::plugins::{
    reload, LoadedPlugin, PluginEngine, PluginLimits, PluginRegistry, PluginSource,
    TransformerInstance,
};
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
    // Fill the compiled-code cache with both versions: each first load serves baseline
    // code until the optimized code is compiled (and cached) in the background.
    let settle = |r: &PluginRegistry| {
        let start = Instant::now();
        while r.optimizing() {
            assert!(start.elapsed() < Duration::from_secs(60), "never optimized");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    settle(&registry);
    swap_once();
    settle(&registry);
    swap_once();
    settle(&registry);

    let mut g = c.benchmark_group("reload");
    g.sample_size(20);
    g.bench_function("plugin_swap_live", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| swap_once()).sum())
    });
    g.finish();
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `examples/rust-transformer` for wasm32-wasip2 (`plugin` profile) in its own target dir.
fn build_rust_example() -> PathBuf {
    let dir = ccr_tests::proxy::target_dir().join("bench-plugins");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace())
        .args(["build", "--quiet", "-p", "rust-transformer"])
        .args([
            "--target",
            "wasm32-wasip2",
            "--profile",
            "plugin",
            "--target-dir",
        ])
        .arg(&dir)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("running cargo to build examples/rust-transformer");
    assert!(
        status.success(),
        "building examples/rust-transformer failed"
    );
    dir.join("wasm32-wasip2/plugin/rust_transformer.wasm")
}

/// `examples/js-router/js-router.wasm` via the build script, or why not.
fn build_js_router() -> Result<PathBuf, String> {
    let script = workspace().join("tests/setup/build-example-plugins.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("js-router")
        .current_dir(workspace())
        .output()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("js-router="))
        .map(|p| PathBuf::from(p.trim()))
        .ok_or_else(|| "the build script printed no js-router path".into())
}

/// Both tiers of the plugin at `path`, and how long each first load took (no cache).
fn load_both(engine: &PluginEngine, path: &Path) -> [(Tier, Arc<LoadedPlugin>, Duration); 2] {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let source = PluginSource::Folder(path.to_path_buf());
    let limits = |_: &str| PluginLimits::default();
    let started = Instant::now();
    let baseline = engine.load_tiered(&bytes, source.clone(), limits).unwrap();
    let baseline_took = started.elapsed();
    assert_eq!(baseline.tier, Tier::Baseline, "{}", path.display());
    let started = Instant::now();
    let optimized = engine.load(&bytes, source, limits).unwrap();
    let optimized_took = started.elapsed();
    [
        (Tier::Baseline, Arc::new(baseline), baseline_took),
        (Tier::Optimized, Arc::new(optimized), optimized_took),
    ]
}

fn tiers(c: &mut Criterion) {
    // No cache: every load compiles.
    let engine = PluginEngine::new(None).unwrap();
    if !engine.has_baseline() {
        eprintln!("tiers: SKIPPED, no baseline compiler (CCR_PLUGIN_BASELINE=off?)");
        return;
    }
    let rust = load_both(&engine, &build_rust_example());
    let js = match build_js_router() {
        Ok(path) => Some(load_both(&engine, &path)),
        Err(why) => {
            eprintln!("tiers: SKIPPING the JavaScript router (its build failed):\n{why}");
            None
        }
    };
    eprintln!("\ntiers: first load (compile, link, metadata), no cache");
    eprintln!("| plugin | .wasm bytes | baseline (Winch) | optimized (Cranelift) |");
    for (name, loads) in [
        ("rust-transformer", Some(&rust)),
        ("js-router", js.as_ref()),
    ] {
        if let Some([(_, b, bt), (_, _, ot)]) = loads {
            eprintln!(
                "| {name} | {} | {:.3} s | {:.3} s |",
                b.size,
                bt.as_secs_f64(),
                ot.as_secs_f64()
            );
        }
    }
    eprintln!();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut body = ccr_tests::fixtures::claude_code_request(80_000, true);
    body["max_tokens"] = 32000.into();
    let body = serde_json::to_vec(&body).unwrap();
    let ctx = TransformContext {
        target: common::target(r#"{"max_tokens":1024}"#),
        route: common::route_context(),
    };
    let mut fast = ccr_tests::fixtures::claude_code_request(20_000, false);
    fast["messages"] = serde_json::json!([{"role": "user", "content": "answer quickly #fast"}]);
    let fast = serde_json::to_vec(&fast).unwrap();
    let config = r#"{"Providers":[{"name":"fast","models":["echo-fast"]}]}"#;
    let route = common::route_context();

    let mut g = c.benchmark_group("tiers");
    g.sample_size(30);
    g.warm_up_time(Duration::from_secs(2));
    g.measurement_time(Duration::from_secs(6));
    for (tier, plugin, _) in &rust {
        g.bench_function(format!("rust-transformer/{}", tier.label()), |b| {
            b.to_async(&rt).iter(|| async {
                let mut t = TransformerInstance::new(&engine, plugin.clone())
                    .await
                    .unwrap();
                t.transform_request(&ctx, body.clone()).await.unwrap()
            })
        });
    }
    for (tier, plugin, _) in js.iter().flatten() {
        let decided = rt
            .block_on(call_router(&engine, plugin.clone(), &route, config, &fast))
            .unwrap();
        assert!(
            decided.is_some(),
            "js-router routes #fast ({})",
            tier.label()
        );
        g.bench_function(format!("js-router/{}", tier.label()), |b| {
            b.to_async(&rt).iter(|| async {
                call_router(&engine, plugin.clone(), &route, config, &fast)
                    .await
                    .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(reload_bench, swap, tiers);
criterion_main!(reload_bench);
