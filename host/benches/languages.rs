//! What a plugin costs depending on the language it is written in: the same transformer
//! (clamp `max_tokens` to an option, tag the upstream request) in Rust
//! (`examples/rust-transformer`), JavaScript (`examples/js-transformer`, componentize-js)
//! and Python (`examples/python-transformer`, componentize-py), all built from source here.
//!
//! For each one:
//!
//! - the `.wasm` size and the **first compile** (compile + type-check + `metadata`, no
//!   compiled-code cache: what a new file in the plugin folder costs once, off the request
//!   path), printed before the criterion runs;
//! - criterion: `languages/<lang>/instantiate` (a fresh instance, as the host makes per
//!   request), `languages/<lang>/request_small` (fresh instance + `transform-request` on a
//!   ~200 B request) and `languages/<lang>/request_80kb` (the same on a ~80 KB Claude
//!   Code-shaped request with 24 tools). Both requests get clamped (their `max_tokens`
//!   exceeds the option), so each plugin parses and re-serialises the whole body.
//!
//! The host API is used directly (`PluginEngine::load`, `TransformerInstance`), with the
//! host's engine settings: no server, routing or upstream I/O is included.
//!
//! `cargo bench -p ccr --bench languages`
//!
//! The JavaScript and Python plugins are built with `tests/setup/build-example-plugins.sh`
//! (which installs the pinned toolchains into `.tools/` first); if that fails (no
//! node/python, no network), they are skipped with a message and only Rust is measured.
//! The Rust example is built with the workspace's `plugin` profile (size-optimised, stripped)
//! into `target/bench-plugins`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ccr::plugins::bindings::TransformContext;
use ccr::plugins::{LoadedPlugin, PluginEngine, PluginLimits, PluginSource, TransformerInstance};
use criterion::{criterion_group, criterion_main, Criterion};

/// The workspace root (the parent of `host/`).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    ccr_tests::proxy::target_dir()
}

/// `cargo build -p rust-transformer --target wasm32-wasip2 --profile plugin` into its own
/// target dir (so it never waits on the lock of the `cargo bench` running us).
fn build_rust_example() -> PathBuf {
    let dir = target_dir().join("bench-plugins");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace())
        .args([
            "build",
            "--quiet",
            "-p",
            "rust-transformer",
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

/// `tests/setup/build-example-plugins.sh js-transformer python-transformer`: `name -> path`,
/// or the reason it failed.
fn build_script_examples() -> Result<Vec<(String, PathBuf)>, String> {
    let script = workspace().join("tests/setup/build-example-plugins.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(["js-transformer", "python-transformer"])
        .current_dir(workspace())
        .output()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}):\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(name, path)| (name.trim().to_string(), PathBuf::from(path.trim())))
        .collect())
}

fn small_body() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 32000,
        "stream": true,
        "messages": [{"role": "user", "content": "Write a haiku about routers."}],
    }))
    .unwrap()
}

fn big_body() -> Vec<u8> {
    let mut json = ccr_tests::fixtures::claude_code_request(80_000, true);
    json["max_tokens"] = 32000.into();
    serde_json::to_vec(&json).unwrap()
}

fn context() -> TransformContext {
    TransformContext {
        target: common::target(r#"{"max_tokens":1024}"#),
        route: common::route_context(),
    }
}

struct Subject {
    lang: &'static str,
    path: PathBuf,
    size: usize,
    first_compile: Duration,
    plugin: Arc<LoadedPlugin>,
}

fn languages(c: &mut Criterion) {
    let mut files: Vec<(&'static str, PathBuf)> = vec![("rust", build_rust_example())];
    match build_script_examples() {
        Ok(built) => {
            for (lang, name) in [("js", "js-transformer"), ("python", "python-transformer")] {
                match built.iter().find(|(n, _)| n == name) {
                    Some((_, path)) => files.push((lang, path.clone())),
                    None => eprintln!("languages: {name} missing from the build script's output"),
                }
            }
        }
        Err(why) => eprintln!(
            "languages: SKIPPING JavaScript and Python (their toolchains could not be installed \
             or the build failed):\n{why}"
        ),
    }

    // No compiled-code cache: the first load compiles, as for a new file.
    let engine = Arc::new(PluginEngine::new(None).expect("plugin engine"));
    let mut subjects = Vec::new();
    for (lang, path) in files {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let started = Instant::now();
        let plugin = engine
            .load(&bytes, PluginSource::Folder(path.clone()), |_| {
                PluginLimits::default()
            })
            .unwrap_or_else(|e| panic!("loading {}: {e:#}", path.display()));
        let first_compile = started.elapsed();
        subjects.push(Subject {
            lang,
            size: bytes.len(),
            path,
            first_compile,
            plugin: Arc::new(plugin),
        });
    }
    eprintln!("\nlanguages: plugin sizes and first compile (no cache)");
    eprintln!("| lang | plugin | .wasm bytes | first compile |");
    for s in &subjects {
        eprintln!(
            "| {} | {} | {} ({:.1} MiB) | {:.2} s |",
            s.lang,
            s.plugin.info.name,
            s.size,
            s.size as f64 / (1024.0 * 1024.0),
            s.first_compile.as_secs_f64()
        );
        eprintln!("  ({})", s.path.display());
    }
    eprintln!();

    let small = small_body();
    let big = big_body();
    eprintln!(
        "languages: request bodies: small {} B, large {} B\n",
        small.len(),
        big.len()
    );
    let ctx = context();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    // Sanity: every plugin clamps (so the timings include a full parse + serialise).
    for s in &subjects {
        let out = rt.block_on(async {
            let mut t = TransformerInstance::new(&engine, s.plugin.clone())
                .await
                .unwrap();
            t.transform_request(&ctx, big.clone()).await.unwrap()
        });
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json["max_tokens"], 1024, "{} did not clamp", s.lang);
        assert_eq!(
            json["tools"].as_array().map(Vec::len),
            Some(24),
            "{}",
            s.lang
        );
    }

    let mut g = c.benchmark_group("languages");
    g.sample_size(50);
    g.warm_up_time(Duration::from_secs(2));
    g.measurement_time(Duration::from_secs(10));
    for s in &subjects {
        g.bench_function(format!("{}/instantiate", s.lang), |b| {
            b.to_async(&rt).iter(|| async {
                TransformerInstance::new(&engine, s.plugin.clone())
                    .await
                    .unwrap()
            })
        });
        for (label, body) in [("request_small", &small), ("request_80kb", &big)] {
            g.bench_function(format!("{}/{label}", s.lang), |b| {
                b.to_async(&rt).iter(|| async {
                    let mut t = TransformerInstance::new(&engine, s.plugin.clone())
                        .await
                        .unwrap();
                    t.transform_request(&ctx, body.clone()).await.unwrap()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(languages_bench, languages);
criterion_main!(languages_bench);
