//! Building real wasm components from source for the tests: the misbehaving fixture
//! plugins in `tests/plugins/fixture` and the Rust examples.
//!
//! Builds use their own target dir (`target/wasm-fixtures`), so they never wait on the lock
//! of the `cargo test` that runs them, and are serialised within a test process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::proxy::workspace_root;

static BUILD_LOCK: Mutex<()> = Mutex::new(());

fn target_dir() -> PathBuf {
    crate::proxy::target_dir().join("wasm-fixtures")
}

/// Build `package` for `wasm32-wasip2` (release) with `features` and extra environment,
/// and copy `artifact` (a file name under the target's release dir) to `out`.
pub fn build_component(
    package: &str,
    features: &[&str],
    env: &[(&str, &str)],
    artifact: &str,
    out: &Path,
) -> PathBuf {
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            "wasm32-wasip2",
            "-p",
            package,
        ])
        .arg("--target-dir")
        .arg(target_dir());
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env_remove("CARGO_TARGET_DIR");
    let status = cmd.status().expect("running cargo to build a wasm fixture");
    assert!(
        status.success(),
        "building {package} {features:?} for wasm32-wasip2 failed"
    );
    let built = target_dir()
        .join("wasm32-wasip2")
        .join("release")
        .join(artifact);
    std::fs::copy(&built, out)
        .unwrap_or_else(|e| panic!("copying {} to {}: {e}", built.display(), out.display()));
    out.to_path_buf()
}

/// Build the fixture transformer in `mode` (`trap`, `spin`, `hog`, `garbage`, or `tag` with
/// `tag` giving the `max_tokens` it sets) into `out`.
pub fn fixture(mode: &str, tag: u64, out: &Path) -> PathBuf {
    let features: Vec<&str> = if mode == "tag" { vec![] } else { vec![mode] };
    let tag = tag.to_string();
    build_component(
        "ccr-test-fixture",
        &features,
        &[("FIXTURE_TAG", &tag)],
        "ccr_test_fixture.wasm",
        out,
    )
}

/// Build a component of the wrong world (a plain WASI command) into `out`.
pub fn wrong_world(out: &Path) -> PathBuf {
    build_component("ccr-test-fixture", &[], &[], "wrong-world.wasm", out)
}
