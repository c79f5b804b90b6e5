// Shared by the build scripts of the SDK (`plugin-sdk/build.rs`) and the host
// (`host/build.rs`, through `include!`): the contract version is written once, in the
// `package` line of `wit/worlds.wit`, and both crates read it from there.

/// The WIT file that holds the contract's `package ccr:plugin@X.Y.Z;` line.
const CONTRACT_PACKAGE_FILE: &str = "worlds.wit";

/// Reads the contract version from `wit_dir`, tells cargo to rebuild when the WIT changes,
/// exports it to the crate as the `CCR_CONTRACT_VERSION` environment variable, and returns it.
fn export_contract_version(wit_dir: &std::path::Path) -> String {
    let file = wit_dir.join(CONTRACT_PACKAGE_FILE);
    println!("cargo:rerun-if-changed={}", file.display());
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    let version = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("package ccr:plugin@"))
        .and_then(|rest| rest.strip_suffix(';'))
        .unwrap_or_else(|| panic!("no `package ccr:plugin@X.Y.Z;` line in {}", file.display()));
    println!("cargo:rustc-env=CCR_CONTRACT_VERSION={version}");
    version.to_string()
}
