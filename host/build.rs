//! Builds every crate in `plugins/` for `wasm32-wasip2` and embeds the components in the
//! binary (see `plugins::registry::bundled_wasm`).
//!
//! The nested cargo uses its own target dir (`target/wasm-plugins`) so it never waits on
//! the lock the outer build holds. The `wasm32-wasip2` target is installed with rustup when
//! missing, so a fresh machine needs no manual step. It also exports the contract version
//! (`wit/worlds.wit`) as `CCR_CONTRACT_VERSION` for `plugins::runtime::CONTRACT_VERSION`.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

include!("../plugin-sdk/build/contract_version.rs");

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "plugin";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("host/ has a parent")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    // `plugins::runtime::CONTRACT_VERSION`.
    export_contract_version(&workspace.join("wit"));
    for watched in ["plugins", "plugin-sdk", "wit", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    println!("cargo:rerun-if-env-changed=CCR_PLUGIN_TARGET_DIR");
    println!("cargo:rerun-if-env-changed=CCR_NO_BUNDLED_PLUGINS");

    // Host-only development: a binary with no bundled plugins (folder plugins still load).
    if env::var_os("CCR_NO_BUNDLED_PLUGINS").is_some() {
        std::fs::write(out_dir.join("bundled_plugins.rs"), "&[]")
            .expect("writing bundled_plugins.rs");
        return;
    }
    let plugins = plugin_crates(&workspace.join("plugins"));
    ensure_wasm_target();

    let target_dir = env::var_os("CCR_PLUGIN_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target").join("wasm-plugins"));
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .args(["build", "--target", TARGET, "--profile", PROFILE])
        .arg("--target-dir")
        .arg(&target_dir);
    for (package, _) in &plugins {
        cmd.args(["-p", package]);
    }
    // Don't leak the outer build's settings (host rustflags, jobserver, wrappers) into the
    // wasm build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("running cargo to build the bundled plugins: {e}"));
    if !status.success() {
        panic!("building the bundled plugins for {TARGET} failed (see the output above)");
    }

    let mut list = String::from("&[\n");
    for (package, lib) in &plugins {
        let wasm = target_dir
            .join(TARGET)
            .join(PROFILE)
            .join(format!("{lib}.wasm"));
        let copy = out_dir.join(format!("{lib}.wasm"));
        std::fs::copy(&wasm, &copy).unwrap_or_else(|e| panic!("copying {}: {e}", wasm.display()));
        let short = package.strip_prefix("ccr-plugin-").unwrap_or(package);
        writeln!(
            list,
            "    ({short:?}, include_bytes!({:?}) as &[u8]),",
            copy.display().to_string()
        )
        .unwrap();
    }
    list.push(']');
    std::fs::write(out_dir.join("bundled_plugins.rs"), list).expect("writing bundled_plugins.rs");
}

/// (package name, library file stem) of every crate under `plugins/`.
fn plugin_crates(dir: &Path) -> Vec<(String, String)> {
    let mut crates = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return crates;
    };
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    dirs.sort();
    for path in dirs {
        let manifest = path.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let name = text
            .lines()
            .skip_while(|l| l.trim() != "[package]")
            .find_map(|l| {
                let l = l.trim();
                let rest = l.strip_prefix("name")?.trim_start().strip_prefix('=')?;
                Some(rest.trim().trim_matches('"').to_string())
            })
            .unwrap_or_else(|| panic!("{} has no package name", manifest.display()));
        let lib = name.replace('-', "_");
        crates.push((name, lib));
    }
    crates
}

/// Install the wasm target with rustup if this toolchain lacks it.
fn ensure_wasm_target() {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
        })
        .unwrap_or(false);
    if installed {
        return;
    }
    println!("cargo:warning=installing the {TARGET} target with rustup (first build only)");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    match status {
        Ok(s) if s.success() => {}
        _ => panic!(
            "the {TARGET} target is missing and `rustup target add {TARGET}` failed; \
             install it by hand and rebuild"
        ),
    }
}
