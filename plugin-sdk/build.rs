//! Reads the contract version (the `package` line of `wit/worlds.wit`, the one place it is
//! written) and
//! - exports it as `CCR_CONTRACT_VERSION`, the source of `CONTRACT_VERSION` in `src/lib.rs`;
//! - fills it into the bindings' `generate!` calls (`src/bindings.in.rs` ->
//!   `$OUT_DIR/bindings.rs`).

include!("build/contract_version.rs");

use std::path::PathBuf;

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let version = export_contract_version(&manifest_dir.join("../wit"));

    let template = manifest_dir.join("src/bindings.in.rs");
    println!("cargo:rerun-if-changed={}", template.display());
    let text = std::fs::read_to_string(&template)
        .unwrap_or_else(|e| panic!("reading {}: {e}", template.display()));
    std::fs::write(
        out_dir.join("bindings.rs"),
        text.replace("{{contract}}", &version),
    )
    .expect("writing bindings.rs");
}
