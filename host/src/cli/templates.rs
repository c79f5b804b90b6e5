//! The plugin project templates (`host/templates/<lang>/<kind>/`), embedded in the binary
//! for `ccr plugin new`. Files contain `{{name}}`, `{{contract}}` (the contract version)
//! and, for Rust, `{{sdk_dependency}}` placeholders. A file directly under `<lang>/` (such as
//! the helper module `js/ccr.js`) goes into every project of that language.
//!
//! The list is written out by hand (no build script); a unit test checks it against the
//! folder so a new template file cannot be forgotten.

use super::{PluginKindArg, PluginLang};

/// Every template file: (path under `host/templates/`, contents).
const FILES: &[(&str, &str)] = &[
    ("js/ccr.js", include_str!("../../templates/js/ccr.js")),
    (
        "js/provider/app.js",
        include_str!("../../templates/js/provider/app.js"),
    ),
    (
        "js/provider/build.sh",
        include_str!("../../templates/js/provider/build.sh"),
    ),
    (
        "js/provider/package.json",
        include_str!("../../templates/js/provider/package.json"),
    ),
    (
        "js/provider/test.sh",
        include_str!("../../templates/js/provider/test.sh"),
    ),
    (
        "js/router/app.js",
        include_str!("../../templates/js/router/app.js"),
    ),
    (
        "js/router/build.sh",
        include_str!("../../templates/js/router/build.sh"),
    ),
    (
        "js/router/package.json",
        include_str!("../../templates/js/router/package.json"),
    ),
    (
        "js/router/test.sh",
        include_str!("../../templates/js/router/test.sh"),
    ),
    (
        "js/transformer/app.js",
        include_str!("../../templates/js/transformer/app.js"),
    ),
    (
        "js/transformer/build.sh",
        include_str!("../../templates/js/transformer/build.sh"),
    ),
    (
        "js/transformer/package.json",
        include_str!("../../templates/js/transformer/package.json"),
    ),
    (
        "js/transformer/test.sh",
        include_str!("../../templates/js/transformer/test.sh"),
    ),
    (
        "python/ccr.py",
        include_str!("../../templates/python/ccr.py"),
    ),
    (
        "python/provider/app.py",
        include_str!("../../templates/python/provider/app.py"),
    ),
    (
        "python/provider/build.sh",
        include_str!("../../templates/python/provider/build.sh"),
    ),
    (
        "python/provider/provider_api.py",
        include_str!("../../templates/python/provider/provider_api.py"),
    ),
    (
        "python/provider/test.sh",
        include_str!("../../templates/python/provider/test.sh"),
    ),
    (
        "python/router/app.py",
        include_str!("../../templates/python/router/app.py"),
    ),
    (
        "python/router/build.sh",
        include_str!("../../templates/python/router/build.sh"),
    ),
    (
        "python/router/test.sh",
        include_str!("../../templates/python/router/test.sh"),
    ),
    (
        "python/transformer/app.py",
        include_str!("../../templates/python/transformer/app.py"),
    ),
    (
        "python/transformer/build.sh",
        include_str!("../../templates/python/transformer/build.sh"),
    ),
    (
        "python/transformer/test.sh",
        include_str!("../../templates/python/transformer/test.sh"),
    ),
    (
        "rust/provider/Cargo.toml",
        include_str!("../../templates/rust/provider/Cargo.toml"),
    ),
    (
        "rust/provider/build.sh",
        include_str!("../../templates/rust/provider/build.sh"),
    ),
    (
        "rust/provider/src/lib.rs",
        include_str!("../../templates/rust/provider/src/lib.rs"),
    ),
    (
        "rust/provider/test.sh",
        include_str!("../../templates/rust/provider/test.sh"),
    ),
    (
        "rust/router/Cargo.toml",
        include_str!("../../templates/rust/router/Cargo.toml"),
    ),
    (
        "rust/router/build.sh",
        include_str!("../../templates/rust/router/build.sh"),
    ),
    (
        "rust/router/src/lib.rs",
        include_str!("../../templates/rust/router/src/lib.rs"),
    ),
    (
        "rust/router/test.sh",
        include_str!("../../templates/rust/router/test.sh"),
    ),
    (
        "rust/transformer/Cargo.toml",
        include_str!("../../templates/rust/transformer/Cargo.toml"),
    ),
    (
        "rust/transformer/build.sh",
        include_str!("../../templates/rust/transformer/build.sh"),
    ),
    (
        "rust/transformer/src/lib.rs",
        include_str!("../../templates/rust/transformer/src/lib.rs"),
    ),
    (
        "rust/transformer/test.sh",
        include_str!("../../templates/rust/transformer/test.sh"),
    ),
];

/// The WIT contract, one file per interface (`wit/*.wit`): copied into every new project's
/// `wit/` folder, which the JS and Python build scripts read.
pub const CONTRACT: &[(&str, &str)] = &[
    ("host.wit", include_str!("../../../wit/host.wit")),
    ("provider.wit", include_str!("../../../wit/provider.wit")),
    ("router.wit", include_str!("../../../wit/router.wit")),
    (
        "transformer.wit",
        include_str!("../../../wit/transformer.wit"),
    ),
    ("types.wit", include_str!("../../../wit/types.wit")),
    ("worlds.wit", include_str!("../../../wit/worlds.wit")),
];

/// The files of one template: (path inside the new project, contents). The language's
/// shared files come first, then the kind's own.
pub fn files(lang: PluginLang, kind: PluginKindArg) -> Vec<(&'static str, &'static str)> {
    let shared = format!("{}/", lang.as_str());
    let own = format!("{}/{}/", lang.as_str(), kind.as_str());
    let shared_files = FILES.iter().filter_map(|(path, text)| {
        path.strip_prefix(shared.as_str())
            .filter(|rel| !rel.contains('/'))
            .map(|rel| (rel, *text))
    });
    let own_files = FILES
        .iter()
        .filter_map(|(path, text)| path.strip_prefix(own.as_str()).map(|rel| (rel, *text)));
    shared_files.chain(own_files).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Template files on disk (skipping build output and the per-language READMEs).
    fn on_disk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | "node_modules" | "__pycache__") {
                    on_disk(&path, root, out);
                }
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let skip = name.ends_with(".wasm") || name.ends_with(".pyc") || name == "Cargo.lock";
            if rel.contains('/') && !skip {
                out.push(rel);
            }
        }
    }

    #[test]
    fn every_template_file_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut disk = Vec::new();
        on_disk(&root, &root, &mut disk);
        disk.sort();
        let embedded: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(embedded, disk, "update FILES in host/src/cli/templates.rs");
    }

    #[test]
    fn the_whole_contract_is_embedded() {
        let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let mut disk: Vec<String> = std::fs::read_dir(&wit)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".wit"))
            .collect();
        disk.sort();
        let embedded: Vec<String> = CONTRACT.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(
            embedded, disk,
            "update CONTRACT in host/src/cli/templates.rs"
        );
    }

    #[test]
    fn every_language_and_kind_has_a_template() {
        for lang in [PluginLang::Rust, PluginLang::Js, PluginLang::Python] {
            for kind in [
                PluginKindArg::Provider,
                PluginKindArg::Transformer,
                PluginKindArg::Router,
            ] {
                assert!(!files(lang, kind).is_empty(), "{lang:?} {kind:?}");
            }
        }
    }
}
