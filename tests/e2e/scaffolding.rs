//! `ccr plugin new` + `ccr plugin build` + `ccr plugin check`, for every language and kind:
//! a freshly scaffolded project builds with the documented command and yields a component
//! the host loads, with the name and kind asked for. Plus the errors `ccr plugin new` gives
//! for a bad name or an existing folder.
//!
//! Each command runs the real `ccr` binary with a throwaway `HOME`. Rust projects build with
//! `CARGO_TARGET_DIR=<target>/scaffold` (shared between runs, so only the first run compiles
//! the SDK). JavaScript and Python projects use the toolchains of
//! `tests/setup/install-plugin-tools.sh` (installed on first use, found by `ccr plugin build`
//! in the checkout's `.tools/`); when npm or PyPI is unreachable those cases are skipped
//! with a message (`CCR_REQUIRE_PLUGIN_TOOLS=1` makes that a failure).
//!
//! Cost on 2 cores: a JS or Python build is 10-35 s and its check compiles a 12-19 MB
//! component (10-30 s); the first Rust build compiles the SDK (~1.5 min).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use ccr_tests::proxy::{ccr_binary, workspace_root};

/// The contract version (`package ccr:plugin@X;` in wit/worlds.wit).
fn contract() -> String {
    let wit = std::fs::read_to_string(workspace_root().join("wit/worlds.wit")).unwrap();
    wit.lines()
        .find_map(|l| l.trim().strip_prefix("package ccr:plugin@"))
        .map(|v| v.trim_end_matches(';').to_string())
        .expect("package line in wit/worlds.wit")
}

fn target_dir() -> PathBuf {
    ccr_tests::proxy::target_dir()
}

/// The real user's home (before we replace `HOME`), for rustup and cargo.
fn real_home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// Runs `ccr ARGS` with `home` as `HOME` and returns (exit code, stdout, stderr).
fn ccr(home: &Path, args: &[&str]) -> (i32, String, String) {
    ccr_with(home, args, &[])
}

/// [`ccr`] with extra environment variables, applied last.
fn ccr_with(home: &Path, args: &[&str], env: &[(&str, &Path)]) -> (i32, String, String) {
    let mut cmd = Command::new(ccr_binary());
    cmd.args(args);
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy().to_ascii_uppercase();
        // The service's settings must not leak in; CCR_TOOLS_DIR is how tools are found.
        if name.starts_with("CCR_") && name != "CCR_TOOLS_DIR" {
            cmd.env_remove(&key);
        }
    }
    // rustup and cargo find their toolchains and registry through HOME unless told.
    if let Some(real) = real_home() {
        if std::env::var_os("RUSTUP_HOME").is_none() {
            cmd.env("RUSTUP_HOME", real.join(".rustup"));
        }
        if std::env::var_os("CARGO_HOME").is_none() {
            cmd.env("CARGO_HOME", real.join(".cargo"));
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        // Compiled plugin code is shared with the other tests' proxies.
        .env("XDG_CACHE_HOME", target_dir().join("ccr-tests-cache"))
        .env("CARGO_TARGET_DIR", target_dir().join("scaffold"))
        .env("NO_COLOR", "1");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", ccr_binary().display()));
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

static TOOLS: Mutex<Option<bool>> = Mutex::new(None);

/// Installs the JS and Python toolchains once per test process. `false` (after printing
/// why) when the registries are unreachable; panics on any other failure.
fn plugin_tools_available() -> bool {
    let mut done = TOOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(available) = *done {
        return available;
    }
    let script = workspace_root().join("tests/setup/install-plugin-tools.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let available = if out.status.success() {
        true
    } else {
        let offline = ccr_tests::registry::unreachable(&stderr);
        let required = std::env::var("CCR_REQUIRE_PLUGIN_TOOLS").is_ok_and(|v| v == "1");
        if !offline || required {
            panic!("{} failed:\n{stderr}", script.display());
        }
        eprintln!(
            "the JavaScript/Python plugin toolchains cannot be installed: npm or PyPI is \
             unreachable:\n{stderr}"
        );
        false
    };
    *done = Some(available);
    available
}

/// `ccr plugin new NAME --kind KIND --lang LANG --dir TMP`, `ccr plugin build TMP/NAME`,
/// `ccr plugin check <the .wasm>`, with the checks on each step.
fn scaffold_build_check(lang: &str, kind: &str) {
    if lang != "rust" && !plugin_tools_available() {
        eprintln!("SKIPPED: {lang} {kind}: no {lang} plugin toolchain (see above)");
        return;
    }
    let name = format!("my-{lang}-{kind}");
    let home = tempfile::Builder::new()
        .prefix("ccr-scaffold-home-")
        .tempdir()
        .unwrap();
    let parent = tempfile::Builder::new()
        .prefix("ccr-scaffold-")
        .tempdir()
        .unwrap();
    let parent_str = parent.path().to_str().unwrap();
    let project = parent.path().join(&name);

    // new
    let (code, out, err) = ccr(
        home.path(),
        &[
            "plugin", "new", &name, "--kind", kind, "--lang", lang, "--dir", parent_str,
        ],
    );
    assert_eq!(code, 0, "ccr plugin new {name}:\n{out}\n{err}");
    assert!(
        out.contains(&format!("created {}", project.display())),
        "{out}"
    );
    assert!(out.contains(&format!("{lang} {kind} plugin")), "{out}");
    let wit = std::fs::read_to_string(project.join("wit/worlds.wit")).unwrap();
    assert_eq!(
        wit,
        std::fs::read_to_string(workspace_root().join("wit/worlds.wit")).unwrap(),
        "the project carries the host's contract"
    );
    let mut texts = Vec::new();
    collect_files(&project, &mut texts);
    for file in &texts {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            !text.contains("{{"),
            "{} has an unreplaced placeholder",
            file.display()
        );
    }
    let build_sh = project.join("build.sh");
    assert!(build_sh.is_file(), "{name} has a build.sh");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&build_sh).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "build.sh is executable ({mode:o})");
    }

    // build
    let started = std::time::Instant::now();
    let (code, out, err) = ccr(home.path(), &["plugin", "build", project.to_str().unwrap()]);
    let took = started.elapsed();
    assert_eq!(code, 0, "ccr plugin build {name} failed:\n{out}\n{err}");
    let wasm = PathBuf::from(
        out.lines()
            .last()
            .unwrap_or_else(|| panic!("ccr plugin build printed nothing:\n{err}"))
            .trim(),
    );
    assert_eq!(
        wasm,
        project.join(format!("{name}.wasm")),
        "the build writes NAME.wasm in the project:\n{out}\n{err}"
    );
    let bytes = std::fs::read(&wasm).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\0asm\x0d\0\x01\0",
        "{} is a component",
        wasm.display()
    );
    eprintln!("{lang} {kind}: built {} bytes in {took:?}", bytes.len());

    // check
    let started = std::time::Instant::now();
    let (code, out, err) = ccr(home.path(), &["plugin", "check", wasm.to_str().unwrap()]);
    assert_eq!(code, 0, "ccr plugin check {name}:\n{out}\n{err}");
    eprintln!("{lang} {kind}: checked in {:?}", started.elapsed());
    assert!(out.contains("is a valid ccr plugin"), "{out}");
    assert!(out.contains(&format!("name:        {name}\n")), "{out}");
    assert!(out.contains(&format!("kind:        {kind}\n")), "{out}");
    let contract = contract();
    assert!(
        out.contains(&format!(
            "contract:    ccr:plugin@{contract} (this host: ccr:plugin@{contract})"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("size:        {} bytes", bytes.len())),
        "{out}"
    );
    if kind == "transformer" {
        assert!(out.contains("hooks:"), "{out}");
    }
}

/// Text files of a project, skipping build output.
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | "node_modules" | "__pycache__" | "wit_world"
            ) {
                collect_files(&path, out);
            }
        } else if !name.ends_with(".wasm") && name != "Cargo.lock" {
            out.push(path);
        }
    }
}

/// A new user with no toolchain anywhere: `ccr plugin build` fetches what the project
/// declares (`npm install` for JavaScript, a venv with componentize-py for Python, in the
/// tools folder) and builds; `--offline` refuses to and says what to run.
#[test]
fn plugin_build_fetches_a_missing_toolchain_unless_offline() {
    for lang in ["js", "python"] {
        let home = tempfile::tempdir().unwrap();
        let tools = tempfile::tempdir().unwrap();
        let parent = tempfile::tempdir().unwrap();
        let name = format!("fresh-{lang}");
        let project = parent.path().join(&name);
        let env = [("CCR_TOOLS_DIR", tools.path())];
        let (code, out, err) = ccr_with(
            home.path(),
            &[
                "plugin",
                "new",
                &name,
                "--kind",
                "transformer",
                "--lang",
                lang,
                "--dir",
                parent.path().to_str().unwrap(),
            ],
            &env,
        );
        assert_eq!(code, 0, "{out}{err}");
        let project_arg = project.to_str().unwrap();

        let (code, out, err) = ccr_with(
            home.path(),
            &["plugin", "build", "--offline", project_arg],
            &env,
        );
        assert_eq!(
            code, 1,
            "{lang}: --offline must not fetch:
{out}{err}"
        );
        assert!(err.contains("--offline"), "{lang}: {err}");
        let hint = if lang == "js" {
            "npm install"
        } else {
            "pip install componentize-py"
        };
        assert!(err.contains(hint), "{lang}: {err}");

        let started = std::time::Instant::now();
        let (code, out, err) = ccr_with(home.path(), &["plugin", "build", project_arg], &env);
        if code != 0 && ccr_tests::registry::unreachable(&err) {
            let required = std::env::var("CCR_REQUIRE_PLUGIN_TOOLS").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "{lang}: the registry is unreachable:
{err}"
            );
            eprintln!(
                "SKIPPED: {lang}: npm or PyPI is unreachable:
{err}"
            );
            continue;
        }
        assert_eq!(
            code, 0,
            "{lang}: the first build fetches its toolchain:
{out}{err}"
        );
        eprintln!(
            "{lang}: fetched the toolchain and built in {:?}",
            started.elapsed()
        );
        assert!(
            err.contains("fetching the"),
            "{lang}: the fetch is announced:
{err}"
        );
        let fetched = if lang == "js" {
            project.join("node_modules/.bin/componentize-js")
        } else {
            tools.path().join("venv/bin/componentize-py")
        };
        assert!(fetched.is_file(), "{lang}: {} is there", fetched.display());
        let wasm = out.lines().last().unwrap().trim().to_string();
        let (code, out, err) = ccr_with(home.path(), &["plugin", "check", &wasm], &env);
        assert_eq!(code, 0, "{lang}: {out}{err}");
        assert!(out.contains(&format!("name:        {name}\n")), "{out}");
    }
}

#[test]
fn rust_transformer() {
    scaffold_build_check("rust", "transformer");
}

#[test]
fn rust_router() {
    scaffold_build_check("rust", "router");
}

#[test]
fn rust_provider() {
    scaffold_build_check("rust", "provider");
}

#[test]
fn js_transformer() {
    scaffold_build_check("js", "transformer");
}

#[test]
fn js_router() {
    scaffold_build_check("js", "router");
}

#[test]
fn js_provider() {
    scaffold_build_check("js", "provider");
}

#[test]
fn python_transformer() {
    scaffold_build_check("python", "transformer");
}

#[test]
fn python_router() {
    scaffold_build_check("python", "router");
}

#[test]
fn python_provider() {
    scaffold_build_check("python", "provider");
}

#[test]
fn new_rejects_bad_names_and_existing_folders() {
    let home = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().to_str().unwrap();

    for bad in [
        "My-Plugin",
        "1plugin",
        "my_plugin",
        "my plugin",
        "../escape",
        "trailing-",
        "",
    ] {
        let (code, out, err) = ccr(
            home.path(),
            &[
                "plugin",
                "new",
                bad,
                "--kind",
                "transformer",
                "--lang",
                "js",
                "--dir",
                dir,
            ],
        );
        assert_ne!(code, 0, "{bad:?} was accepted:\n{out}");
        assert!(
            err.contains("invalid plugin name") && err.contains("lowercase"),
            "{bad:?}: the error should say what a name may be:\n{err}"
        );
        assert_eq!(
            std::fs::read_dir(parent.path()).unwrap().count(),
            0,
            "{bad:?}: nothing may be written"
        );
    }

    // A folder with something in it is never overwritten...
    let taken = parent.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("keep.txt"), "mine").unwrap();
    let (code, out, err) = ccr(
        home.path(),
        &[
            "plugin", "new", "taken", "--kind", "router", "--lang", "python", "--dir", dir,
        ],
    );
    assert_ne!(code, 0, "an existing folder was accepted:\n{out}");
    assert!(
        err.contains("already exists") && err.contains(&taken.display().to_string()),
        "the error should name the folder:\n{err}"
    );
    assert_eq!(
        std::fs::read_to_string(taken.join("keep.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_dir(&taken).unwrap().count(),
        1,
        "nothing added"
    );

    // ...and neither is a project created a moment ago.
    let (code, out, err) = ccr(
        home.path(),
        &[
            "plugin", "new", "fresh", "--kind", "router", "--lang", "rust", "--dir", dir,
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let lib = parent.path().join("fresh/src/lib.rs");
    let before = std::fs::read_to_string(&lib).unwrap();
    let (code, _, err) = ccr(
        home.path(),
        &[
            "plugin",
            "new",
            "fresh",
            "--kind",
            "transformer",
            "--lang",
            "rust",
            "--dir",
            dir,
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), before);

    // Unknown kind or language: clap says which values exist.
    let (code, _, err) = ccr(
        home.path(),
        &[
            "plugin",
            "new",
            "x",
            "--kind",
            "middleware",
            "--lang",
            "js",
            "--dir",
            dir,
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("provider") && err.contains("router"), "{err}");
    let (code, _, err) = ccr(
        home.path(),
        &[
            "plugin", "new", "x", "--kind", "router", "--lang", "go", "--dir", dir,
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("rust") && err.contains("python"), "{err}");
}

#[test]
fn build_and_check_reject_what_is_not_a_plugin() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();

    // build: a folder that is not a plugin project, and one that does not exist.
    let (code, _, err) = ccr(
        home.path(),
        &["plugin", "build", dir.path().to_str().unwrap()],
    );
    assert_ne!(code, 0);
    assert!(err.contains("not a plugin project"), "{err}");
    let missing = dir.path().join("missing");
    let (code, _, err) = ccr(home.path(), &["plugin", "build", missing.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("no such folder"), "{err}");

    // check: not wasm at all, and a missing file.
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"definitely not wasm").unwrap();
    let (code, out, err) = ccr(home.path(), &["plugin", "check", junk.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("junk.wasm"), "{err}");
    let (code, _, err) = ccr(
        home.path(),
        &[
            "plugin",
            "check",
            dir.path().join("nope.wasm").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("no such file"), "{err}");
}
