//! The request path runs one way (server → request → routing → pipeline → plugins /
//! upstream → stream → usage): the modules below the pipeline never reach back up into it
//! or into the HTTP surface. This test fails as soon as one of them does.

use std::path::{Path, PathBuf};

/// The modules (files or folders of `src/`) below the pipeline.
const LOWER: &[&str] = &[
    "stream",
    "upstream",
    "plugins",
    "routing",
    "usage",
    "request.rs",
    "tokens",
    "error.rs",
];

/// What they must not name.
const UPPER: &[&str] = &["crate::pipeline", "crate::server"];

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("readable source folder") {
            rust_files(&entry.expect("folder entry").path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

#[test]
fn lower_modules_do_not_import_pipeline_or_server() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for module in LOWER {
        rust_files(&src.join(module), &mut files);
    }
    // Guards against the list going stale (a renamed module would silently pass).
    for must in [
        "stream/mod.rs",
        "plugins/chain.rs",
        "usage/record.rs",
        "request.rs",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(must)),
            "{must} is not among the checked files"
        );
    }
    let mut offenders = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if UPPER.iter().any(|upper| code.contains(upper)) {
                offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "modules below the pipeline reach back up:\n{}",
        offenders.join("\n")
    );
}
