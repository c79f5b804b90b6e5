//! `ccr plugin list|check|new|build`.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode, Stdio};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{bail, Context as _};
use sha2::{Digest, Sha256};

use super::health::{self, PluginRow};
use super::service::{self, Liveness};
use super::{templates, ConfigFlag, PluginKindArg, PluginLang, RuntimePaths};
use crate::config;
use crate::paths;
use crate::plugins::runtime::{kind_name, CONTRACT_VERSION};
use crate::plugins::{HookSet, PluginEngine, PluginLimits, PluginRegistry, PluginSource};

/// The WebAssembly target Rust plugins build for.
const WASM_TARGET: &str = "wasm32-wasip2";

/// How to install the JavaScript toolchain.
const INSTALL_JS: &str = "npm install -g @bytecodealliance/componentize-js@0.23 \
                          @bytecodealliance/preview2-shim@0.17 (or `npm install` in the project)";
/// The componentize-py version templates are written for (kept in sync with
/// tests/setup/install-plugin-tools.sh and docs/plugins.md).
const COMPONENTIZE_PY: &str = "0.25.1";
/// How to install the Python toolchain.
const INSTALL_PY: &str = "pip install componentize-py==0.25.1";

// ---------------------------------------------------------------------------------------
// list

/// `ccr plugin list`: the running service's plugins (from `/health`), else the plugins this
/// machine would load (bundled + the plugin folder), loaded here.
pub fn list(flag: &ConfigFlag, plugins_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let paths = RuntimePaths::current();
    if plugins_dir.is_none() {
        if let Liveness::Running {
            pid,
            state: Some(state),
        } = service::liveness(&paths)
        {
            match state.fetch_health() {
                Ok((report, _)) => {
                    let dir = report.plugins_dir.as_deref().unwrap_or("?");
                    println!("plugins of the running service (pid {pid}), folder {dir}:");
                    health::print_plugin_table(&report.plugins, "");
                    return Ok(ExitCode::SUCCESS);
                }
                Err(err) => eprintln!(
                    "warning: the running service does not answer ({err:#}); loading locally"
                ),
            }
        }
    }

    let source = service::resolve_config(flag);
    let config = config::load_from(&source)?;
    let dir = plugins_dir.unwrap_or_else(|| config.effective_plugins_dir());
    let registry = load_locally(&config, &dir, &paths)?;
    let rows: Vec<PluginRow> = registry
        .statuses()
        .into_iter()
        .map(PluginRow::from)
        .collect();
    let note = if dir.is_dir() {
        ""
    } else {
        " (does not exist)"
    };
    println!(
        "plugins (service not running; loaded here), folder {}{note}:",
        dir.display()
    );
    health::print_plugin_table(&rows, "");
    Ok(ExitCode::SUCCESS)
}

/// The plugins the service would load for `config` (bundled, then `dir`), loaded in this
/// process with the service's limits and code cache. Blocking (may compile).
pub(super) fn load_locally(
    config: &config::Config,
    dir: &Path,
    paths: &RuntimePaths,
) -> anyhow::Result<PluginRegistry> {
    // Cranelift only: this process is short-lived, and what it compiles fills the service's
    // cache (a baseline tier would be thrown away with the process).
    let engine = Arc::new(PluginEngine::optimized_only(Some(paths.cache_dir.clone()))?);
    let registry = PluginRegistry::with_max_file_bytes(
        engine,
        Some(dir.to_path_buf()),
        crate::state::limits_fn(&config.plugin_limits),
        config.plugin_limits.max_file_bytes(),
    );
    registry.set_extra_files(config.custom_router_wasm().into_iter().collect());
    Ok(registry)
}

// ---------------------------------------------------------------------------------------
// check

/// `ccr plugin check FILE`: loads the file exactly as the service would and describes it.
/// Any file is accepted as input: a failure is one `error: FILE: reason` line and exit 1.
pub fn check(file: &Path) -> anyhow::Result<ExitCode> {
    let shown = file.display();
    if file.is_dir() {
        bail!("{shown}: is a directory, not a .wasm file");
    }
    if !file.exists() && file.symlink_metadata().is_err() {
        bail!("{shown}: no such file");
    }
    // The same checks and size cap as the service (PLUGIN_LIMITS.max_file_mb of the config).
    let max = config::load_from(&config::resolve_path(None))
        .ok()
        .map(|c| c.plugin_limits.max_file_bytes())
        .unwrap_or_else(|| crate::config::PluginLimits::default().max_file_bytes());
    let bytes = crate::plugins::registry::read_plugin_file(file, max)
        .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    let paths = RuntimePaths::current();
    // The service's optimizing engine and cache: what is compiled here is a cache hit when the
    // file is dropped into the plugin folder.
    let engine = PluginEngine::optimized_only(Some(paths.cache_dir))
        .context("starting the plugin engine")?;
    let source = PluginSource::Folder(file.to_path_buf());
    // The runtime reports bad input as errors; a panic deep in a dependency must not turn
    // into a crash report either.
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.load(&bytes, source, |_| PluginLimits::default())
    }));
    let plugin = match loaded {
        Ok(Ok(p)) => p,
        Ok(Err(err)) => bail!("{shown}: {err:#}"),
        Err(_) => bail!("{shown}: the plugin runtime failed on this file"),
    };
    let info = &plugin.info;
    println!("ok: {shown} is a valid ccr plugin");
    println!("  name:        {}", info.name);
    println!("  kind:        {}", kind_name(info.kind));
    println!("  version:     {}", info.version);
    println!("  description: {}", info.description);
    println!(
        "  contract:    ccr:plugin@{} (this host: ccr:plugin@{CONTRACT_VERSION})",
        plugin.contract
    );
    if let crate::plugins::runtime::PluginPre::Transformer(_, hooks) = &plugin.pre {
        println!("  hooks:       {}", hook_names(*hooks));
    }
    println!("  size:        {} bytes", plugin.size);
    println!("  sha256:      {}", hex::encode(Sha256::digest(&bytes)));
    Ok(ExitCode::SUCCESS)
}

fn hook_names(hooks: HookSet) -> String {
    let names: Vec<&str> = [
        (HookSet::REQUEST, "request"),
        (HookSet::UPSTREAM, "upstream"),
        (HookSet::RESPONSE, "response"),
        (HookSet::STREAM_EVENT, "stream-event"),
    ]
    .into_iter()
    .filter(|(flag, _)| hooks.contains(*flag))
    .map(|(_, name)| name)
    .collect();
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    }
}

// ---------------------------------------------------------------------------------------
// new

/// `ccr plugin new NAME --kind K --lang L [--dir PARENT]`: writes `PARENT/NAME` from the
/// embedded template, with the WIT contract in `wit/`.
pub fn new(
    name: &str,
    kind: PluginKindArg,
    lang: PluginLang,
    parent: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    validate_name(name)?;
    let files = templates::files(lang, kind);
    if files.is_empty() {
        bail!(
            "there is no {} template for a {} plugin in this build of ccr",
            lang.as_str(),
            kind.as_str()
        );
    }
    let parent = parent.unwrap_or_else(|| PathBuf::from("."));
    let project = parent.join(name);
    if project.exists() && std::fs::read_dir(&project).map_or(true, |mut d| d.next().is_some()) {
        bail!(
            "{} already exists and is not empty; pick another name or --dir",
            project.display()
        );
    }
    let sdk = sdk_dependency();
    for (rel, text) in &files {
        let target = project.join(rel);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let content = text
            .replace("{{name}}", name)
            .replace("{{contract}}", CONTRACT_VERSION)
            .replace("{{sdk_dependency}}", &sdk);
        std::fs::write(&target, content)
            .with_context(|| format!("writing {}", target.display()))?;
        if rel.ends_with(".sh") {
            make_executable(&target)?;
        }
    }
    let wit = project.join("wit");
    std::fs::create_dir_all(&wit).with_context(|| format!("creating {}", wit.display()))?;
    for (file, text) in templates::CONTRACT {
        let target = wit.join(file);
        std::fs::write(&target, text).with_context(|| format!("writing {}", target.display()))?;
    }

    println!(
        "created {} ({} {} plugin)",
        project.display(),
        lang.as_str(),
        kind.as_str()
    );
    println!("next:");
    println!("  ccr plugin build {}", project.display());
    println!(
        "  cp <the .wasm it prints> {}/",
        paths::default_plugins_dir().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Plugin names become crate, package and file names: lowercase letters, digits and `-`,
/// starting with a letter.
fn validate_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !ok {
        bail!(
            "invalid plugin name {name:?}: use 1-64 lowercase letters, digits and '-', starting \
             with a letter (e.g. my-router)"
        );
    }
    Ok(())
}

/// The checkout this binary was built from, if it is still there (a development build):
/// its `plugin-sdk` and `.tools` are then used.
fn source_checkout() -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    repo.join("plugin-sdk")
        .join("Cargo.toml")
        .is_file()
        .then(|| repo.to_path_buf())
}

/// The TOML value of a new Rust project's `ccr-plugin-sdk` dependency: the checkout's SDK by
/// path when running from a checkout, else the published version.
fn sdk_dependency() -> String {
    match source_checkout() {
        Some(repo) => format!(
            "{{ path = \"{}\" }}",
            repo.join("plugin-sdk")
                .display()
                .to_string()
                .replace('\\', "/")
        ),
        None => format!("\"{}\"", sdk_version()),
    }
}

/// `0.1` for ccr 0.1.x: the SDK version tracks the contract's.
fn sdk_version() -> String {
    let mut parts = env!("CARGO_PKG_VERSION").split('.');
    format!(
        "{}.{}",
        parts.next().unwrap_or("0"),
        parts.next().unwrap_or("1")
    )
}

fn make_executable(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mut perms = std::fs::metadata(path)?.permissions();
        perms.set_mode(perms.mode() | 0o755);
        std::fs::set_permissions(path, perms)
            .with_context(|| format!("making {} executable", path.display()))?;
    }
    let _ = path;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// build

/// The language of a plugin project, from its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProjectLang {
    Rust,
    Js,
    Python,
}

fn detect_lang(dir: &Path) -> Option<ProjectLang> {
    if dir.join("Cargo.toml").is_file() {
        Some(ProjectLang::Rust)
    } else if dir.join("package.json").is_file() {
        Some(ProjectLang::Js)
    } else if dir.join("app.py").is_file() || dir.join("pyproject.toml").is_file() {
        Some(ProjectLang::Python)
    } else {
        None
    }
}

/// `ccr plugin build [DIR] [--offline]`: builds the project and prints the `.wasm` it
/// produced. Like cargo, a missing toolchain the project declares is fetched on first use
/// (`npm install` for JavaScript, a cached venv with componentize-py for Python), unless
/// `offline`.
pub fn build(dir: Option<PathBuf>, offline: bool) -> anyhow::Result<ExitCode> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    if !dir.is_dir() {
        bail!("{}: no such folder", dir.display());
    }
    let Some(lang) = detect_lang(&dir) else {
        bail!(
            "{}: not a plugin project (no Cargo.toml, package.json, app.py or pyproject.toml); \
             create one with `ccr plugin new`",
            dir.display()
        );
    };
    let wasm = match lang {
        ProjectLang::Rust if dir.join("build.sh").is_file() => {
            ensure_wasm_target()?;
            build_with_script(&dir, &Tool::Elsewhere, "cargo", "https://rustup.rs")?
        }
        ProjectLang::Rust => build_rust(&dir)?,
        ProjectLang::Js => {
            let tool = found_or_fetched(|| js_tool(&dir), || fetch_js_toolchain(&dir, offline))?;
            build_with_script(&dir, &tool, "componentize-js", INSTALL_JS)?
        }
        ProjectLang::Python => {
            let tool = found_or_fetched(|| python_tool(&dir), || fetch_python_toolchain(offline))?;
            build_with_script(&dir, &tool, "componentize-py", INSTALL_PY)?
        }
    };
    println!("{}", wasm.display());
    eprintln!(
        "check it with `ccr plugin check {}`, then copy it to {}/",
        wasm.display(),
        paths::default_plugins_dir().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Where a JS or Python build tool was found: the folder to export as `CCR_TOOLS_DIR`
/// (the project's build.sh looks there first), or `None` when the script finds it itself
/// (project-local install or PATH).
enum Tool {
    InToolsDir(PathBuf),
    Elsewhere,
    Missing,
}

/// The tools folders searched before the project and PATH: `$CCR_TOOLS_DIR` alone when set;
/// else the checkout's `.tools` (tests/setup/install-plugin-tools.sh), then
/// [`paths::toolchain_cache_dir`].
fn tools_dirs() -> Vec<PathBuf> {
    if let Some(d) = paths::tools_dir_override() {
        return vec![d];
    }
    let mut dirs = Vec::new();
    if let Some(repo) = source_checkout() {
        dirs.push(repo.join(".tools"));
    }
    dirs.push(paths::toolchain_cache_dir());
    dirs
}

fn find_tool(project: &Path, in_tools: &str, in_project: &str, on_path: &str) -> Tool {
    if let Some(d) = tools_dirs()
        .into_iter()
        .find(|d| d.join(in_tools).is_file())
    {
        return Tool::InToolsDir(d);
    }
    if project.join(in_project).is_file() || which(on_path).is_some() {
        return Tool::Elsewhere;
    }
    Tool::Missing
}

fn js_tool(project: &Path) -> Tool {
    find_tool(
        project,
        "node/node_modules/.bin/componentize-js",
        "node_modules/.bin/componentize-js",
        "componentize-js",
    )
}

fn python_tool(project: &Path) -> Tool {
    find_tool(
        project,
        "venv/bin/componentize-py",
        ".venv/bin/componentize-py",
        "componentize-py",
    )
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The tool `find` finds, after running `fetch` once if it finds none.
fn found_or_fetched(
    find: impl Fn() -> Tool,
    fetch: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<Tool> {
    match find() {
        Tool::Missing => {
            fetch()?;
            Ok(find())
        }
        found => Ok(found),
    }
}

/// `npm install` in the project: it declares componentize-js (and the shim it needs) as
/// pinned devDependencies. npm's own progress goes to stderr.
fn fetch_js_toolchain(project: &Path, offline: bool) -> anyhow::Result<()> {
    if offline {
        bail!(
            "componentize-js is not installed and --offline forbids fetching it; run `npm \
             install` in {} (or: {INSTALL_JS})",
            project.display()
        );
    }
    if which("npm").is_none() {
        bail!(
            "building a JavaScript plugin needs Node.js >= 18 with npm (to fetch \
             componentize-js); install it from https://nodejs.org"
        );
    }
    eprintln!(
        "fetching the JavaScript toolchain the project declares: npm install (in {})",
        project.display()
    );
    let status = Process::new("npm")
        .args(["install", "--no-audit", "--no-fund"])
        .current_dir(project)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .context("running npm")?;
    if !status.success() {
        bail!("npm install failed in {} ({status})", project.display());
    }
    Ok(())
}

/// A venv with the pinned componentize-py in [`paths::toolchain_cache_dir`], shared by every Python
/// project (created once, under a lock so parallel builds do not race).
fn fetch_python_toolchain(offline: bool) -> anyhow::Result<()> {
    let tools = paths::toolchain_cache_dir();
    let venv = tools.join("venv");
    if offline {
        bail!(
            "componentize-py is not installed and --offline forbids fetching it; install it \
             with: {INSTALL_PY} (or run `ccr plugin build` once online: it installs it into {})",
            venv.display()
        );
    }
    std::fs::create_dir_all(&tools).with_context(|| format!("creating {}", tools.display()))?;
    let lock = std::fs::File::create(tools.join(".install.lock"))
        .with_context(|| format!("creating a lock in {}", tools.display()))?;
    lock.lock()
        .context("waiting for another toolchain install")?;
    let tool = venv.join("bin").join("componentize-py");
    if tool.is_file() {
        return Ok(());
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| which(p).is_some())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "building a Python plugin needs Python >= 3.10 (to install componentize-py); \
                 install python3"
            )
        })?;
    eprintln!(
        "fetching the Python toolchain (first build only): componentize-py {COMPONENTIZE_PY} \
         into {}",
        venv.display()
    );
    let run = |cmd: &mut Process, what: &str| -> anyhow::Result<()> {
        let status = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::io::stderr()))
            .status()
            .with_context(|| format!("running {what}"))?;
        if !status.success() {
            bail!("{what} failed ({status})");
        }
        Ok(())
    };
    if !venv.join("bin").join("python").is_file() {
        run(
            Process::new(python).args(["-m", "venv"]).arg(&venv),
            &format!(
                "{python} -m venv {} (on Debian/Ubuntu: apt-get install python3-venv)",
                venv.display()
            ),
        )?;
    }
    run(
        Process::new(venv.join("bin").join("python")).args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--progress-bar",
            "on",
            &format!("componentize-py=={COMPONENTIZE_PY}"),
        ]),
        &format!("pip install componentize-py=={COMPONENTIZE_PY}"),
    )?;
    if !tool.is_file() {
        bail!(
            "pip installed componentize-py but {} is missing",
            tool.display()
        );
    }
    Ok(())
}

/// Template projects carry a `build.sh` that knows the world and the tool's flags and
/// writes `NAME.wasm` in the project folder; run it with the tools folder we found.
fn build_with_script(
    dir: &Path,
    tool: &Tool,
    tool_name: &str,
    install: &str,
) -> anyhow::Result<PathBuf> {
    let script = dir.join("build.sh");
    if !script.is_file() {
        bail!(
            "{}: missing; JavaScript and Python projects are built by their build.sh (create \
             the project with `ccr plugin new`)",
            script.display()
        );
    }
    let mut cmd = Process::new("bash");
    // The script's chatter goes to stderr: stdout carries only the .wasm path, for scripts.
    cmd.arg(&script)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()));
    match tool {
        Tool::InToolsDir(d) => {
            cmd.env("CCR_TOOLS_DIR", d);
        }
        Tool::Elsewhere => {}
        Tool::Missing => bail!("{tool_name} is not installed; install it with: {install}"),
    }
    let started = SystemTime::now();
    let status = cmd
        .status()
        .with_context(|| format!("running {} (is bash installed?)", script.display()))?;
    if !status.success() {
        bail!("{} failed ({status})", script.display());
    }
    newest_wasm(dir, started).with_context(|| {
        format!(
            "{} succeeded but wrote no .wasm in {}",
            script.display(),
            dir.display()
        )
    })
}

/// The most recently modified `.wasm` directly in `dir`, written after `since`.
fn newest_wasm(dir: &Path, since: SystemTime) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            let modified = e.metadata().ok()?.modified().ok()?;
            (p.extension().is_some_and(|x| x == "wasm") && modified >= since)
                .then_some((modified, p))
        })
        .max()
        .map(|(_, p)| p)
}

/// `cargo build --target wasm32-wasip2 --release`, installing the target with rustup if
/// needed. The artifact comes from cargo's JSON messages (the target dir may be a
/// workspace's).
fn build_rust(dir: &Path) -> anyhow::Result<PathBuf> {
    ensure_wasm_target()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Process::new(&cargo)
        .args(["build", "--release", "--target", WASM_TARGET])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {cargo} (install Rust from https://rustup.rs)"))?;
    if !output.status.success() {
        bail!(
            "cargo build failed in {} ({})",
            dir.display(),
            output.status
        );
    }
    let mut wasm = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let is_cdylib = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "cdylib"));
        if !is_cdylib {
            continue;
        }
        if let Some(files) = msg["filenames"].as_array() {
            for f in files.iter().filter_map(|f| f.as_str()) {
                if f.ends_with(".wasm") {
                    wasm = Some(PathBuf::from(f));
                }
            }
        }
    }
    wasm.with_context(|| {
        format!(
            "cargo built no .wasm in {}; is the crate a cdylib (`[lib] crate-type = [\"cdylib\"]`)?",
            dir.display()
        )
    })
}

fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = match Process::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l.trim() == WASM_TARGET),
        // No usable rustup (a distro toolchain, or no default toolchain): let cargo say
        // what is missing.
        _ => return Ok(()),
    };
    if installed {
        return Ok(());
    }
    eprintln!("installing the {WASM_TARGET} target: rustup target add {WASM_TARGET}");
    let status = Process::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
        .context("running rustup")?;
    if !status.success() {
        bail!(
            "the {WASM_TARGET} target is missing; install it with: rustup target add {WASM_TARGET}"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_are_checked() {
        assert!(validate_name("my-router").is_ok());
        assert!(validate_name("a1").is_ok());
        for bad in ["", "1a", "My", "a_b", "a-", "a b", "../x"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sdk_version_is_major_minor() {
        assert_eq!(sdk_version().split('.').count(), 2);
    }
}
