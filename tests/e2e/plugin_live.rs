//! A new plugin goes live fast: dropped into the folder of a running proxy with a cold
//! code cache, it serves from baseline (Winch) code at once, its optimized (Cranelift) code
//! takes over when ready (`/health/detailed` shows each plugin's `tier`), and a replaced
//! version keeps serving until its successor's first tier is ready. `ccr plugin check`
//! fills the service's cache, so a checked file goes live optimized straight away.
//!
//! No timing is asserted here (`tests/bench/plugin_live.sh` measures it); the deadlines
//! only stop a hung test.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ccr_tests::proxy::ccr_binary;
use ccr_tests::{wasm, MockUpstream, Proxy, ProxyOptions};
use serde_json::{json, Value};

/// Waits for things that take a compile: generous, as CI machines are busy.
const DEADLINE: Duration = Duration::from_secs(120);

/// A proxy whose provider `tagged` runs the `fixture-tag` transformer from `plugins`, with
/// its compiled-code cache in `cache` (its own, so that nothing is cached from other tests).
fn start(mock: &MockUpstream, plugins: &Path, cache: &Path) -> Proxy {
    let mut options = ProxyOptions::new(json!({
        "LOG": false,
        "LOG_LEVEL": "info",
        "Providers": [{
            "name": "tagged",
            "api_base_url": mock.chat_url(),
            "api_key": "sk-test",
            "models": ["echo"],
            "transformer": {"use": ["fixture-tag"]},
        }],
        "Router": { "default": "tagged,echo" },
    }));
    options.plugins_dir = Some(plugins.to_path_buf());
    options
        .env
        .push(("CCR_CACHE_DIR".into(), cache.display().to_string()));
    options.env.push(("RUST_LOG".into(), String::new()));
    Proxy::start(options)
}

/// The `max_tokens` the upstream received (the fixture sets it to its tag; 50 is what the
/// client sent), read back through the mock's `echo` model.
async fn served_tag(proxy: &Proxy) -> u64 {
    let body = json!({
        "model": "tagged,echo",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "hi"}],
    });
    let response = proxy.post_messages(&body).await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{answer}\n{}", proxy.logs());
    let text = answer["content"][0]["text"].as_str().unwrap_or_default();
    let upstream: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not an echo answer ({e}): {answer}"));
    upstream["max_tokens"].as_u64().expect("max_tokens")
}

/// The names of the files in the cache dir (the bundled plugins' code is there too).
fn cache_files(cache: &Path) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(cache)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Writes `bytes` next to `target` and renames it in, as `cp` to a temp name + `mv` would.
fn drop_in(target: &Path, bytes: &[u8]) {
    let staged = target.with_file_name(".staged.wasm.partial");
    std::fs::write(&staged, bytes).unwrap();
    std::fs::rename(&staged, target).unwrap();
}

/// The `/health/detailed` row of the folder plugin `fixture-tag`, if listed.
async fn row(proxy: &Proxy) -> Option<Value> {
    let h = proxy.health().await;
    h["plugins"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == "fixture-tag" && p["source"] == "folder")
        .cloned()
}

/// The short hash of the plugin version being served (read right after it was observed).
async fn served_hash(proxy: &Proxy) -> String {
    let r = row(proxy).await.expect("fixture-tag is listed");
    r["hash"].as_str().expect("a hash").to_string()
}

/// Polls until the plugin's row shows version `hash` at tier `tier`.
async fn wait_for_tier(proxy: &Proxy, hash: &str, tier: &str) {
    let started = Instant::now();
    loop {
        if let Some(r) = row(proxy).await {
            if r["hash"] == hash && r["tier"] == tier {
                return;
            }
        }
        assert!(
            started.elapsed() < DEADLINE,
            "fixture-tag {hash} never reached tier {tier}: {:?}\n{}",
            row(proxy).await,
            proxy.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The proxy's log lines saying `message` for `fixture-tag` with `tier=<tier>`.
fn log_lines(proxy: &Proxy, message: &str, tier: &str) -> usize {
    let tags = [format!("tier={tier}"), format!("tier=\"{tier}\"")];
    proxy
        .logs()
        .lines()
        .filter(|l| l.contains(message) && l.contains("fixture-tag"))
        .filter(|l| tags.iter().any(|t| l.contains(t.as_str())))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_plugin_serves_from_baseline_code_until_its_optimized_code_is_ready() {
    let build = tempfile::tempdir().unwrap();
    let v1 = std::fs::read(wasm::fixture("tag", 7101, &build.path().join("v1.wasm"))).unwrap();
    let v2 = std::fs::read(wasm::fixture("tag", 7102, &build.path().join("v2.wasm"))).unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mock = MockUpstream::start();
    let proxy = start(&mock, plugins.path(), cache.path());
    let file = plugins.path().join("tag.wasm");
    let bundled = cache_files(cache.path());

    // Nothing in the folder: the unknown transformer is skipped.
    assert_eq!(served_tag(&proxy).await, 50);

    // A first-seen plugin, cold cache: served, first from baseline code, then optimized.
    drop_in(&file, &v1);
    let started = Instant::now();
    while served_tag(&proxy).await != 7101 {
        assert!(
            started.elapsed() < DEADLINE,
            "v1 never served\n{}",
            proxy.logs()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let hash1 = served_hash(&proxy).await;
    wait_for_tier(&proxy, &hash1, "optimized").await;
    assert_eq!(served_tag(&proxy).await, 7101);
    assert_eq!(
        log_lines(&proxy, "plugin loaded", "baseline"),
        1,
        "v1 was loaded at the baseline tier first:\n{}",
        proxy.logs()
    );
    assert_eq!(log_lines(&proxy, "plugin optimized", "optimized"), 1);
    // Only optimized code is cached: one new file, named by v1's hash.
    let cached: Vec<String> = cache_files(cache.path())
        .difference(&bundled)
        .cloned()
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(cached[0].starts_with(&hash1), "{cached:?}");

    // A new version: v1 answers every request until v2's first tier is ready, then only v2
    // does (never the built-in behaviour, never an error).
    drop_in(&file, &v2);
    let started = Instant::now();
    loop {
        match served_tag(&proxy).await {
            7101 => {}
            7102 => break,
            other => panic!("served {other} during the swap\n{}", proxy.logs()),
        }
        assert!(
            started.elapsed() < DEADLINE,
            "v2 never served\n{}",
            proxy.logs()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let hash2 = served_hash(&proxy).await;
    assert_ne!(hash1, hash2);
    for _ in 0..20 {
        assert_eq!(served_tag(&proxy).await, 7102, "v1 came back");
    }
    wait_for_tier(&proxy, &hash2, "optimized").await;
    assert_eq!(log_lines(&proxy, "plugin loaded", "baseline"), 2);
    assert_eq!(log_lines(&proxy, "plugin optimized", "optimized"), 2);

    // v1 again: its optimized code is cached, so it loads optimized, with no baseline step.
    drop_in(&file, &v1);
    let started = Instant::now();
    while served_tag(&proxy).await != 7101 {
        assert!(started.elapsed() < DEADLINE, "v1 never came back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r = row(&proxy).await.expect("listed");
    assert_eq!(r["tier"], "optimized", "{r}");
    assert_eq!(log_lines(&proxy, "plugin loaded", "optimized"), 1);
    assert_eq!(log_lines(&proxy, "plugin loaded", "baseline"), 2);

    // `ccr plugin list` shows the tier too (loaded locally: Cranelift, from the cache).
    let out = Command::new(ccr_binary())
        .args(["plugin", "list", "--plugins-dir"])
        .arg(plugins.path())
        .env("HOME", proxy.home())
        .env("CCR_CACHE_DIR", cache.path())
        .output()
        .expect("running ccr plugin list");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let header = text.lines().find(|l| l.contains("NAME")).expect("a table");
    assert!(header.contains("TIER"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("fixture-tag"))
        .expect("listed");
    assert!(line.contains("optimized"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ccr_plugin_check_fills_the_cache_the_service_loads_from() {
    let build = tempfile::tempdir().unwrap();
    let wasm_file = wasm::fixture("tag", 7103, &build.path().join("checked.wasm"));
    let plugins = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mock = MockUpstream::start();
    let proxy = start(&mock, plugins.path(), cache.path());

    let bundled = cache_files(cache.path());

    // The author checks the file with the service's environment (same cache dir).
    let out = Command::new(ccr_binary())
        .args(["plugin", "check"])
        .arg(&wasm_file)
        .env("HOME", proxy.home())
        .env("CCR_CACHE_DIR", cache.path())
        .output()
        .expect("running ccr plugin check");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let checked = cache_files(cache.path());
    assert_eq!(checked.difference(&bundled).count(), 1, "{checked:?}");

    // Dropped in, it is a cache hit: optimized from the first request on.
    drop_in(
        &plugins.path().join("tag.wasm"),
        &std::fs::read(&wasm_file).unwrap(),
    );
    let started = Instant::now();
    while served_tag(&proxy).await != 7103 {
        assert!(
            started.elapsed() < DEADLINE,
            "never served\n{}",
            proxy.logs()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r = row(&proxy).await.expect("listed");
    assert_eq!(r["tier"], "optimized", "{r}");
    assert_eq!(log_lines(&proxy, "plugin loaded", "baseline"), 0);
    assert_eq!(log_lines(&proxy, "plugin loaded", "optimized"), 1);
    // Nothing new was compiled: the files are the ones `check` left.
    assert_eq!(cache_files(cache.path()), checked);
}
