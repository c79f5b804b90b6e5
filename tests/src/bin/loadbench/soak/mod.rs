//! `loadbench soak`: does ccr leak? A long run of the request mix (streamed and not) with
//! hot reloads of the config and of a plugin in between, ccr's RSS and open file descriptors
//! watched from before the first request to after the last.
//!
//! ```text
//! loadbench soak [--requests 100000] [--concurrency 8] [--warmup-requests 5000]
//!                [--reload-every 5000] [--reload-kinds config,plugin]
//!                [--sizes 20000,80000] [--plugin PATH] [--plugin-versions N]
//!                [--ccr-bin PATH] [--mock-bin PATH] [--client-threads N] [--mock-threads N]
//!                [--timeout-ms N] [--sample-ms N] [--rest-ms N] [--reload-timeout-ms N]
//!                [--samples PATH] [--out PATH] [--markdown PATH] [--check]
//! ```
//!
//! In order:
//!
//! 1. `mock-upstream --static` (a separate process), then ccr (the release build next to
//!    this executable unless `--ccr-bin`), with a throwaway `HOME`, its own empty
//!    compiled-code cache (so every plugin version it meets is compiled, as a developer's
//!    edits are), a plugin folder (`--plugins-dir`), and a config with one provider at the
//!    mock whose chain runs the `maxtoken` transformer on every request, and
//!    `"MAX_CONNECTIONS_PER_CLIENT": 0` (every request comes from 127.0.0.1).
//! 2. 1 s of rest, then the **idle** reading: RSS and open descriptors (`/proc/<pid>/fd`)
//!    before any request.
//! 3. `--warmup-requests` then `--requests` requests, without a pause between the two, from
//!    `--concurrency` closed-loop workers over HTTP/1.1 keep-alive: the Claude Code-shaped
//!    bodies of every `--sizes`, each streamed and not, round-robin, every one numbered so
//!    none repeats (the bodies and checks of the main `loadbench`: every answer must be 200
//!    and complete, an Anthropic message or a stream from `message_start` to
//!    `message_stop`; anything else is an error, grouped in the report). RSS and descriptors
//!    are sampled every `--sample-ms`. **Settled** RSS is the median of the samples taken
//!    while the last fifth of the warm-up was being answered, the load still on.
//! 4. Every `--reload-every` requests after the warm-up (while the load goes on), a hot
//!    reload, config and plugin in turn, each waited for until ccr reports it:
//!    - **config**: the config file is replaced (temp file + rename, as editors do) by one
//!      that differs harmlessly: `PING_INTERVAL_MS`, `Router.background`, maxtoken's
//!      `max_tokens`, and a marker model `soak-config-N` in the provider's `models`, which
//!      `GET /v1/models` lists once the new config serves (and `/health/detailed` must show
//!      no `config_error`);
//!    - **plugin**: the file dropped in at the previous plugin reload is deleted (until
//!      `/health/detailed` shows the bundled plugin serving again), a transformer is dropped
//!      into the folder (temp file + rename), then replaced by a changed version; each step
//!      waits until `/health/detailed` lists the file's new hash with status `ok`. The
//!      transformer is `--plugin` (default: the bundled maxtoken's own wasm from
//!      `target/wasm-plugins`, so the folder copy replaces the bundled one in the chain);
//!      every version written carries a custom section with its number, so every one is new
//!      to ccr (new hash, compiled afresh) while doing the same work.
//! 5. After the last answer: the config and the plugin folder are put back as they were at
//!    the start (so the end compares with the idle state like for like), the client's
//!    connections are closed, the mock is stopped (which closes ccr's pooled upstream
//!    connections), and after `--rest-ms` of rest (2 s) the **end** reading.
//!
//! The verdict: **PASS** when every request came back complete, every reload was reported,
//! the end RSS is at most 10 % above the settled one, and the descriptors are back to idle
//! (no more than before the first request). The report (stdout, `--out`, and between the
//! `<!-- soak:begin -->` / `<!-- soak:end -->` markers of `--markdown`) has the figures, one
//! timeline row per reload, the reloads and the errors. Exit status 0 once the report is
//! written, whatever the verdict; with `--check`, 2 when the verdict is FAIL.

mod report;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use ccr_tests::proxy::workspace_root;
use ccr_tests::{fixtures, Proxy, ProxyOptions};
use serde_json::{json, Value};

use crate::*;

const USAGE: &str = "\
usage: loadbench soak [options]

  --requests N             requests after the warm-up (default 100000)
  --concurrency N          closed-loop workers, one keep-alive connection each (default 8)
  --warmup-requests N      requests before the run; the settled RSS is read over the last
                           fifth of them (default 5000)
  --reload-every N         a hot reload every N requests of the run, config and plugin in
                           turn (default 5000; 0: none)
  --reload-kinds L         the reloads, in turn (default config,plugin; config or plugin
                           alone tells which one costs what)
  --sizes A,B,...          request sizes in bytes (default 20000,80000); each size is sent
                           streaming and non-streaming, round-robin
  --plugin PATH            the transformer dropped into the plugin folder (default: the
                           bundled maxtoken's wasm, target/wasm-plugins/wasm32-wasip2/plugin/
                           ccr_plugin_maxtoken.wasm, which then replaces the bundled one)
  --plugin-versions N      write N distinct versions of the plugin in a cycle, so ccr meets
                           each again (its compiled-code cache answers) (default 0: every
                           version new, compiled afresh); 2 or more
  --ccr-bin PATH           the ccr binary (default: `ccr` next to this executable)
  --mock-bin PATH          the mock-upstream binary (default: next to this executable)
  --client-threads N       worker threads of the load generator (default 2)
  --mock-threads N         worker threads of the upstream mock (default 1)
  --timeout-ms N           per-request timeout (default 60000)
  --sample-ms N            RSS and descriptors sampled every N ms (default 100)
  --rest-ms N              rest before the end reading (default 2000)
  --reload-timeout-ms N    how long ccr has to report a reload (default 60000)
  --samples PATH           write every sample as CSV there
  --out PATH               also write the report there
  --markdown PATH          replace the text between <!-- soak:begin --> and
                           <!-- soak:end --> in that file with the report
  --check                  exit with status 2 when the verdict is FAIL
";

/// The end RSS may be this much above the settled one (10 %).
pub(crate) const RSS_TOLERANCE: f64 = 0.10;

/// The options of `loadbench soak`.
#[derive(Debug, Clone)]
pub(crate) struct SoakArgs {
    pub(crate) requests: usize,
    pub(crate) concurrency: usize,
    pub(crate) warmup_requests: usize,
    pub(crate) reload_every: usize,
    /// The reloads in turn (default config, plugin).
    pub(crate) reload_kinds: Vec<ReloadKind>,
    pub(crate) sizes: Vec<usize>,
    pub(crate) plugin: PathBuf,
    /// Distinct plugin versions written in a cycle; 0: every one new.
    pub(crate) plugin_versions: usize,
    pub(crate) ccr_bin: PathBuf,
    pub(crate) mock_bin: PathBuf,
    pub(crate) client_threads: usize,
    pub(crate) mock_threads: usize,
    pub(crate) timeout: Duration,
    pub(crate) sample_every: Duration,
    pub(crate) rest: Duration,
    pub(crate) reload_timeout: Duration,
    pub(crate) samples: Option<PathBuf>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) markdown: Option<PathBuf>,
    pub(crate) check: bool,
}

/// Where host/build.rs leaves the bundled maxtoken component.
fn bundled_maxtoken() -> PathBuf {
    std::env::var_os("CCR_PLUGIN_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target").join("wasm-plugins"))
        .join("wasm32-wasip2")
        .join("plugin")
        .join("ccr_plugin_maxtoken.wasm")
}

impl SoakArgs {
    /// Reads the options that follow `soak` on the command line.
    fn parse(argv: impl IntoIterator<Item = String>) -> Result<SoakArgs> {
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let exe = |name: &str| exe_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let mut args = SoakArgs {
            requests: 100_000,
            concurrency: 8,
            warmup_requests: 5000,
            reload_every: 5000,
            reload_kinds: vec![ReloadKind::Config, ReloadKind::Plugin],
            sizes: vec![20_000, 80_000],
            plugin: bundled_maxtoken(),
            plugin_versions: 0,
            ccr_bin: exe("ccr"),
            mock_bin: exe("mock-upstream"),
            client_threads: 2,
            mock_threads: 1,
            timeout: Duration::from_millis(60_000),
            sample_every: Duration::from_millis(100),
            rest: Duration::from_millis(2000),
            reload_timeout: Duration::from_millis(60_000),
            samples: None,
            out: None,
            markdown: None,
            check: false,
        };
        let mut argv = argv.into_iter();
        while let Some(flag) = argv.next() {
            let mut value = || {
                argv.next()
                    .ok_or_else(|| anyhow!("{flag} needs a value (try --help)"))
            };
            let ms = |text: String| number(&text).map(Duration::from_millis);
            match flag.as_str() {
                "--requests" => args.requests = number(&value()?)?,
                "--concurrency" => args.concurrency = number(&value()?)?,
                "--warmup-requests" => args.warmup_requests = number(&value()?)?,
                "--reload-every" => args.reload_every = number(&value()?)?,
                "--reload-kinds" => {
                    args.reload_kinds = value()?
                        .split(',')
                        .filter(|k| !k.trim().is_empty())
                        .map(|k| match k.trim() {
                            "config" => Ok(ReloadKind::Config),
                            "plugin" => Ok(ReloadKind::Plugin),
                            other => Err(anyhow!(
                                "--reload-kinds takes config and plugin, not {other:?}"
                            )),
                        })
                        .collect::<Result<_>>()?
                }
                "--sizes" => args.sizes = list(&value()?)?,
                "--plugin" => args.plugin = value()?.into(),
                "--plugin-versions" => args.plugin_versions = number(&value()?)?,
                "--ccr-bin" => args.ccr_bin = value()?.into(),
                "--mock-bin" => args.mock_bin = value()?.into(),
                "--client-threads" => args.client_threads = number(&value()?)?,
                "--mock-threads" => args.mock_threads = number(&value()?)?,
                "--timeout-ms" => args.timeout = ms(value()?)?,
                "--sample-ms" => args.sample_every = ms(value()?)?,
                "--rest-ms" => args.rest = ms(value()?)?,
                "--reload-timeout-ms" => args.reload_timeout = ms(value()?)?,
                "--samples" => args.samples = Some(value()?.into()),
                "--out" => args.out = Some(value()?.into()),
                "--markdown" => args.markdown = Some(value()?.into()),
                "--check" => args.check = true,
                "-h" | "--help" => {
                    print!("{USAGE}");
                    std::process::exit(0);
                }
                other => bail!("unknown argument {other:?} (try loadbench soak --help)"),
            }
        }
        if args.requests == 0 || args.concurrency == 0 {
            bail!("--requests and --concurrency need positive numbers");
        }
        if args.sizes.is_empty() {
            bail!("--sizes needs at least one size");
        }
        if args.plugin_versions == 1 {
            bail!("--plugin-versions needs 0 (every version new) or 2 or more: a replacement must differ");
        }
        if args.reload_kinds.is_empty() {
            bail!("--reload-kinds needs config, plugin or both");
        }
        if args.warmup_requests == 0 {
            bail!("--warmup-requests needs a positive number: the settled RSS is read over it");
        }
        if args.sample_every.is_zero() {
            bail!("--sample-ms needs a positive number");
        }
        Ok(args)
    }

    /// The reloads of the run: one every `reload_every` requests strictly inside it.
    pub(crate) fn planned_reloads(&self) -> usize {
        (self.requests - 1)
            .checked_div(self.reload_every)
            .unwrap_or(0)
    }
}

// The config and the plugin

/// The marker model of config generation `n` (`GET /v1/models` lists it as `mock,<it>`).
fn marker_model(generation: usize) -> String {
    format!("soak-config-{generation}")
}

/// ccr's config, generation `n`: the bench config with maxtoken in the provider's chain and
/// no per-client connection cap; odd generations change `PING_INTERVAL_MS`,
/// `Router.background` and maxtoken's `max_tokens`; every generation has its marker model.
pub(crate) fn soak_config(chat_url: &str, generation: usize) -> Value {
    let mut config = bench_config(chat_url, None);
    let odd = generation % 2 == 1;
    config["MAX_CONNECTIONS_PER_CLIENT"] = json!(0);
    config["PING_INTERVAL_MS"] = json!(if odd { 15_000 } else { 10_000 });
    config["Providers"][0]["models"] = json!(["static", marker_model(generation)]);
    let max_tokens = if odd { 8192 } else { 16_384 };
    config["Providers"][0]["transformer"] =
        json!({"use": [["maxtoken", {"max_tokens": max_tokens}]]});
    if odd {
        config["Router"]["background"] = json!("mock,static");
    }
    config
}

/// `wasm` with a custom section `ccr-soak` saying `version N` appended: the same component,
/// bytes (and hash) of its own. Custom sections may stand anywhere in a component.
pub(crate) fn plugin_version(wasm: &[u8], version: usize) -> Vec<u8> {
    fn leb128(mut value: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = b"ccr-soak";
    let payload = format!("version {version}");
    let mut content = Vec::new();
    leb128(name.len(), &mut content);
    content.extend_from_slice(name);
    content.extend_from_slice(payload.as_bytes());
    let mut out = wasm.to_vec();
    out.push(0); // custom section
    leb128(content.len(), &mut out);
    out.extend_from_slice(&content);
    out
}

/// The file the plugin reloads write, in the plugin folder.
const PLUGIN_FILE: &str = "soak-transformer.wasm";

// Counters and samples

/// Where the load is, shared by the workers, the sampler and the reloader.
#[derive(Default)]
pub(crate) struct Progress {
    /// Requests handed to a worker (warm-up included; may run past the total by one per
    /// worker at the end).
    pub(crate) started: AtomicUsize,
    /// Requests answered (or failed).
    pub(crate) completed: AtomicUsize,
    pub(crate) errors: AtomicUsize,
    /// Reloads finished.
    pub(crate) reloads: AtomicUsize,
    /// Set when the last request is answered.
    pub(crate) done: AtomicBool,
    /// Set when the reloader stops (the load then waits for it no more).
    pub(crate) reloader_gone: AtomicBool,
    /// Requests that waited for a reload before being sent, and for how long in all (µs,
    /// summed over the workers).
    pub(crate) held_back: AtomicUsize,
    pub(crate) held_back_us: AtomicU64,
}

/// Sets [`Progress::reloader_gone`] when the reloader ends, however it ends.
struct ReloaderGone<'a>(&'a Progress);

impl Drop for ReloaderGone<'_> {
    fn drop(&mut self) {
        self.0.reloader_gone.store(true, Ordering::Relaxed);
    }
}

/// How many reloads must be reported before request `i` (0-based, warm-up included) is
/// sent: all but the one in progress, so every reload happens under load even when ccr
/// takes longer to report it than the load takes to reach the next one; and all of them
/// before the very last request, so none is left for after the load.
pub(crate) fn reloads_before(args: &SoakArgs, i: usize) -> usize {
    let total = args.warmup_requests + args.requests;
    let planned = args.planned_reloads();
    if planned == 0 || i < args.warmup_requests {
        0
    } else if i + 1 >= total {
        planned
    } else {
        ((i - args.warmup_requests) / args.reload_every)
            .saturating_sub(1)
            .min(planned)
    }
}

/// One reading of ccr's RSS and descriptors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading {
    /// Since the first request was sent.
    pub(crate) at: Duration,
    /// Requests answered by then.
    pub(crate) completed: usize,
    pub(crate) rss_kib: u64,
    pub(crate) fds: u64,
}

/// Reads ccr's RSS and descriptor count now.
fn read_now(pid: u32, start: Instant, progress: &Progress) -> Reading {
    Reading {
        at: start.elapsed(),
        completed: progress.completed.load(Ordering::Relaxed),
        rss_kib: rss_kib(&[pid]),
        fds: open_fds(&[pid]),
    }
}

/// ccr's open descriptors by kind: `socket`, `pipe`, `anon_inode:[eventpoll]`, a path...
pub(crate) fn fd_kinds(pid: u32) -> BTreeMap<String, u64> {
    let mut kinds = BTreeMap::new();
    if let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) {
        for entry in entries.flatten() {
            let Ok(target) = fs::read_link(entry.path()) else {
                continue;
            };
            let target = target.to_string_lossy().into_owned();
            // socket:[12345] and pipe:[12345] by kind; the rest (paths, anon inodes) as is.
            let kind = match target.split_once(":[") {
                Some((kind, _)) if kind == "socket" || kind == "pipe" => kind.to_string(),
                _ => target,
            };
            *kinds.entry(kind).or_insert(0) += 1;
        }
    }
    kinds
}

/// What first use added to `idle` and kept, sockets and pipes aside (connections, not
/// set-up).
pub(crate) fn first_use_fds(
    idle: &BTreeMap<String, u64>,
    primed: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    fd_excess(idle, primed)
        .into_iter()
        .filter(|(kind, _)| kind != "socket" && kind != "pipe")
        .collect()
}

/// The samples the settled RSS is the median of: those taken while the last fifth of the
/// warm-up was being answered, or, when fewer than 3, the last 5 of the warm-up.
pub(crate) fn settled_samples(samples: &[Reading], warmup: usize) -> Vec<u64> {
    let warm: Vec<&Reading> = samples.iter().filter(|s| s.completed < warmup).collect();
    let last_fifth: Vec<u64> = warm
        .iter()
        .filter(|s| s.completed >= warmup - warmup / 5)
        .map(|s| s.rss_kib)
        .collect();
    if last_fifth.len() >= 3 {
        return last_fifth;
    }
    let from = warm.len().saturating_sub(5);
    warm[from..].iter().map(|s| s.rss_kib).collect()
}

/// `end` minus `idle`, kinds with more descriptors at the end only.
pub(crate) fn fd_excess(
    idle: &BTreeMap<String, u64>,
    end: &BTreeMap<String, u64>,
) -> Vec<(String, u64)> {
    end.iter()
        .filter_map(|(kind, &n)| {
            let before = idle.get(kind).copied().unwrap_or(0);
            (n > before).then(|| (kind.clone(), n - before))
        })
        .collect()
}

// Reloads

/// What a reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReloadKind {
    /// The config file replaced by a harmlessly different one.
    Config,
    /// The previous folder plugin deleted, one dropped in, then replaced.
    Plugin,
    /// After the run: the config and the plugin folder as they were at the start.
    Restore,
}

impl ReloadKind {
    /// `config`, `plugin`, `restore`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ReloadKind::Config => "config",
            ReloadKind::Plugin => "plugin",
            ReloadKind::Restore => "restore",
        }
    }
}

/// One step of a reload, and how long ccr took to report it.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// `config`, `add`, `replace` or `remove`.
    pub(crate) what: &'static str,
    pub(crate) took: Duration,
    pub(crate) error: Option<String>,
}

/// One reload.
#[derive(Debug, Clone)]
pub(crate) struct Reload {
    pub(crate) kind: ReloadKind,
    /// Requests handed out (warm-up included) when it began.
    pub(crate) at_request: usize,
    pub(crate) steps: Vec<Step>,
    /// ccr right after it was reported, and the largest RSS sampled since the previous one.
    pub(crate) after: Reading,
    pub(crate) rss_max_since_kib: Option<u64>,
}

impl Reload {
    /// Every step reported, none failed.
    pub(crate) fn ok(&self) -> bool {
        self.steps.iter().all(|s| s.error.is_none())
    }
}

/// What the reloader needs: where ccr is and how to change what it serves.
struct Reloader<'a> {
    proxy: &'a Proxy,
    chat_url: String,
    plugin_path: PathBuf,
    plugin_wasm: Vec<u8>,
    timeout: Duration,
    /// Config generations written so far (generation 0 is the start).
    config_generation: usize,
    /// Plugin versions written so far.
    plugin_versions: usize,
    /// `--plugin-versions`.
    version_cycle: usize,
    /// The hash ccr showed for the folder file last, if it is there.
    plugin_hash: Option<String>,
}

impl Reloader<'_> {
    /// Polls `/health/detailed` until `check` says done (`Ok(true)`) or fails.
    fn wait_health(&self, mut check: impl FnMut(&Value) -> Result<bool, String>) -> Step {
        self.wait(|port| match get_json(port, "/health/detailed") {
            Some(health) => check(&health),
            None => Ok(false),
        })
    }

    /// Polls `check` (given ccr's port) every 20 ms until it says done or fails, or the
    /// timeout passes.
    fn wait(&self, mut check: impl FnMut(u16) -> Result<bool, String>) -> Step {
        let started = Instant::now();
        let error = loop {
            match check(self.proxy.port()) {
                Ok(true) => break None,
                Ok(false) => {}
                Err(e) => break Some(e),
            }
            if INTERRUPTED.load(Ordering::Relaxed) {
                break Some("interrupted".into());
            }
            if started.elapsed() >= self.timeout {
                break Some(format!("not reported within {:?}", self.timeout));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Step {
            what: "",
            took: started.elapsed(),
            error,
        }
    }

    /// Writes config generation `generation` and waits until `/v1/models` lists its marker.
    fn config(&mut self, generation: usize) -> Step {
        self.config_generation = generation;
        self.proxy
            .write_config(&soak_config(&self.chat_url, generation));
        let marker = format!("mock,{}", marker_model(generation));
        let step = self.wait(|port| {
            if let Some(error) = get_json(port, "/health/detailed")
                .and_then(|h| h["config_error"].as_str().map(str::to_string))
            {
                return Err(format!("config_error: {error}"));
            }
            let Some(models) = get_json(port, "/v1/models") else {
                return Ok(false);
            };
            Ok(models["data"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["id"] == marker.as_str())))
        });
        Step {
            what: "config",
            ..step
        }
    }

    /// The rows of `/health/detailed` for the folder file: the version serving (`ok`) and
    /// the last failure (`error`), when there are.
    fn plugin_rows(&self, health: &Value) -> Vec<Value> {
        let name = self.plugin_path.file_name().map(|n| n.to_os_string());
        health["plugins"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|row| {
                row["path"]
                    .as_str()
                    .is_some_and(|p| Path::new(p).file_name() == name.as_deref())
            })
            .cloned()
            .collect()
    }

    /// Writes the next version of the plugin (temp file + rename) and waits until ccr
    /// serves it.
    fn write_plugin(&mut self) -> Step {
        let what = if self.plugin_hash.is_some() {
            "replace"
        } else {
            "add"
        };
        self.plugin_versions += 1;
        let version = match self.version_cycle {
            0 => self.plugin_versions,
            cycle => (self.plugin_versions - 1) % cycle + 1,
        };
        let bytes = plugin_version(&self.plugin_wasm, version);
        let tmp = self.plugin_path.with_extension("wasm.tmp");
        let written = fs::write(&tmp, &bytes).and_then(|()| fs::rename(&tmp, &self.plugin_path));
        if let Err(e) = written {
            return Step {
                what,
                took: Duration::ZERO,
                error: Some(format!("writing {}: {e}", self.plugin_path.display())),
            };
        }
        let previous = self.plugin_hash.clone();
        let mut seen = None;
        let step = self.wait_health(|health| {
            let rows = self.plugin_rows(health);
            if let Some(failed) = rows.iter().find(|row| row["status"] == "error") {
                return Err(format!(
                    "ccr refused the plugin: {}",
                    failed["error"].as_str().unwrap_or("?")
                ));
            }
            let serving = rows.iter().find(|row| row["status"] == "ok");
            let hash = serving.and_then(|row| row["hash"].as_str());
            match hash {
                Some(hash) if Some(hash) != previous.as_deref() => {
                    seen = Some(hash.to_string());
                    Ok(true)
                }
                _ => Ok(false),
            }
        });
        if seen.is_some() {
            self.plugin_hash = seen;
        }
        Step { what, ..step }
    }

    /// Deletes the plugin file, if there, and waits until ccr lists it no more.
    fn remove_plugin(&mut self) -> Option<Step> {
        self.plugin_path.exists().then_some(())?;
        if let Err(e) = fs::remove_file(&self.plugin_path) {
            return Some(Step {
                what: "remove",
                took: Duration::ZERO,
                error: Some(format!("deleting {}: {e}", self.plugin_path.display())),
            });
        }
        let step = self.wait_health(|health| Ok(self.plugin_rows(health).is_empty()));
        if step.error.is_none() {
            self.plugin_hash = None;
        }
        Some(Step {
            what: "remove",
            ..step
        })
    }

    /// One reload of `kind`.
    fn reload(&mut self, kind: ReloadKind) -> Vec<Step> {
        match kind {
            ReloadKind::Config => vec![self.config(self.config_generation + 1)],
            ReloadKind::Plugin => {
                let mut steps: Vec<Step> = self.remove_plugin().into_iter().collect();
                steps.push(self.write_plugin());
                steps.push(self.write_plugin());
                steps
            }
            ReloadKind::Restore => {
                let mut steps: Vec<Step> = self.remove_plugin().into_iter().collect();
                if self.config_generation != 0 {
                    steps.push(self.config(0));
                }
                steps
            }
        }
    }
}

// The run

/// Everything one soak run measured.
pub(crate) struct SoakRun {
    pub(crate) ccr_version: Option<String>,
    pub(crate) kinds: Vec<(String, usize)>,
    /// ccr 1 s after it answered `/health`, before any request.
    pub(crate) idle: Reading,
    pub(crate) idle_fd_kinds: BTreeMap<String, u64>,
    /// Descriptors ccr kept after its first request of each kind, sockets aside.
    pub(crate) first_use_fd_kinds: BTreeMap<String, u64>,
    /// Median of the samples over the last fifth of the warm-up, and how many there were.
    pub(crate) settled_rss_kib: u64,
    pub(crate) settled_samples: usize,
    /// Every sample from the first request to the last answer.
    pub(crate) samples: Vec<Reading>,
    /// Right after the last answer (load just off, connections still open).
    pub(crate) last_answer: Reading,
    /// After the restore, the connections closed, the mock stopped and the rest.
    pub(crate) end: Reading,
    pub(crate) end_fd_kinds: BTreeMap<String, u64>,
    pub(crate) reloads: Vec<Reload>,
    /// Latency of every answered request, µs, sorted.
    pub(crate) latencies_us: Vec<u64>,
    /// Errors grouped: message with numbers masked, count, request kinds seen.
    pub(crate) errors: Vec<ErrorGroup>,
    pub(crate) requests_done: usize,
    /// Requests that waited for a reload ([`reloads_before`]), and how long in all (µs).
    pub(crate) held_back: usize,
    pub(crate) held_back_us: u64,
    /// From the first request to the last answer.
    pub(crate) elapsed: Duration,
    /// Whether ccr was still running at the end reading.
    pub(crate) ccr_alive: bool,
    /// ccr's stderr when something went wrong (errors, failed reloads), its last lines.
    pub(crate) logs: Option<String>,
}

/// Failed requests with the same message.
#[derive(Debug, Clone)]
pub(crate) struct ErrorGroup {
    /// The message with its numbers masked ([`mask_numbers`]).
    pub(crate) key: String,
    pub(crate) count: usize,
    /// The first message of the group, as it was.
    pub(crate) example: String,
    /// The request kinds (labels) it happened to.
    pub(crate) kinds: Vec<String>,
}

impl SoakRun {
    /// The largest RSS sampled from the first request on.
    pub(crate) fn rss_max_kib(&self) -> u64 {
        self.samples
            .iter()
            .map(|s| s.rss_kib)
            .chain([self.last_answer.rss_kib])
            .max()
            .unwrap_or(0)
    }

    /// The most descriptors sampled under load.
    pub(crate) fn fds_max(&self) -> u64 {
        self.samples
            .iter()
            .map(|s| s.fds)
            .chain([self.last_answer.fds])
            .max()
            .unwrap_or(0)
    }

    /// (end − settled) / settled, in %.
    pub(crate) fn end_vs_settled_pct(&self) -> f64 {
        if self.settled_rss_kib == 0 {
            return 0.0;
        }
        (self.end.rss_kib as f64 - self.settled_rss_kib as f64) / self.settled_rss_kib as f64
            * 100.0
    }

    /// The end RSS at most [`RSS_TOLERANCE`] above the settled one.
    pub(crate) fn rss_pass(&self) -> bool {
        self.settled_rss_kib > 0
            && (self.end.rss_kib as f64) <= self.settled_rss_kib as f64 * (1.0 + RSS_TOLERANCE)
    }

    /// What the end's descriptors compare with, by kind: idle plus what first use keeps.
    pub(crate) fn fd_baseline(&self) -> BTreeMap<String, u64> {
        let mut baseline = self.idle_fd_kinds.clone();
        for (kind, n) in &self.first_use_fd_kinds {
            *baseline.entry(kind.clone()).or_insert(0) += n;
        }
        baseline
    }

    /// Idle plus what first use keeps, in all.
    pub(crate) fn fds_baseline_total(&self) -> u64 {
        self.fd_baseline().values().sum()
    }

    /// No more descriptors of any kind at the end than idle plus first use.
    pub(crate) fn fds_pass(&self) -> bool {
        self.ccr_alive && fd_excess(&self.fd_baseline(), &self.end_fd_kinds).is_empty()
    }

    /// Failed requests, first use included.
    pub(crate) fn error_count(&self) -> usize {
        self.errors.iter().map(|g| g.count).sum()
    }

    /// Reloads of the run (the restore excluded) of `kind`, and how many of them failed.
    pub(crate) fn reload_counts(&self, kind: ReloadKind) -> (usize, usize) {
        let of_kind = self.reloads.iter().filter(|r| r.kind == kind);
        let failed = of_kind.clone().filter(|r| !r.ok()).count();
        (of_kind.count(), failed)
    }

    /// Every planned reload done and every step of every reload (the restore included)
    /// reported.
    pub(crate) fn reloads_pass(&self, planned: usize) -> bool {
        let run: Vec<&Reload> = self
            .reloads
            .iter()
            .filter(|r| r.kind != ReloadKind::Restore)
            .collect();
        run.len() == planned && self.reloads.iter().all(Reload::ok)
    }

    /// The verdict: no request failed, every reload reported, RSS and descriptors back.
    pub(crate) fn pass(&self, planned: usize) -> bool {
        self.error_count() == 0 && self.reloads_pass(planned) && self.rss_pass() && self.fds_pass()
    }
}

/// `loadbench soak ...`: the run, then the report.
pub(crate) fn run(argv: impl IntoIterator<Item = String>) -> Result<()> {
    let args = SoakArgs::parse(argv)?;
    let load_before = load_average();
    if !args.ccr_bin.exists() {
        bail!(
            "ccr not found at {}: build it (cargo build --release -p ccr) or pass --ccr-bin",
            args.ccr_bin.display()
        );
    }
    let plugin_wasm = fs::read(&args.plugin).with_context(|| {
        format!(
            "reading the plugin {} (build ccr, which builds the bundled plugins, or pass --plugin)",
            args.plugin.display()
        )
    })?;
    let runtime = client_runtime(args.client_threads)?;
    let soak = soak(&args, &runtime, plugin_wasm)?;
    let env = environment(
        &args.ccr_bin,
        None,
        soak.ccr_version.as_deref(),
        &load_before,
    );
    if let Some(path) = &args.samples {
        write_samples(path, &soak)?;
    }
    let text = report::report(&args, &env, &soak);
    print!("{text}");
    if let Some(path) = &args.out {
        fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.markdown {
        update_markdown_section(path, "soak", &text)?;
    }
    runtime.shutdown_background();
    let pass = soak.pass(args.planned_reloads());
    eprintln!("loadbench soak: {}", if pass { "PASS" } else { "FAIL" });
    if args.check && !pass {
        std::process::exit(2);
    }
    Ok(())
}

/// Every sample as CSV: seconds since the first request, answers, RSS KiB, descriptors.
fn write_samples(path: &Path, soak: &SoakRun) -> Result<()> {
    let mut csv = String::from("seconds,completed,rss_kib,fds\n");
    for s in &soak.samples {
        csv.push_str(&format!(
            "{:.3},{},{},{}\n",
            s.at.as_secs_f64(),
            s.completed,
            s.rss_kib,
            s.fds
        ));
    }
    fs::write(path, csv).with_context(|| format!("writing {}", path.display()))
}

/// Starts the mock and ccr, runs the load with its reloads, and reads ccr at the end.
fn soak(
    args: &SoakArgs,
    runtime: &tokio::runtime::Runtime,
    plugin_wasm: Vec<u8>,
) -> Result<SoakRun> {
    let kinds = build_kinds(&args.sizes);
    let threads = args.mock_threads.to_string();
    let (mock, mock_port) = spawn_mock(&args.mock_bin, &["--static", "--threads", &threads])?;
    let chat_url = format!("http://127.0.0.1:{mock_port}/v1/chat/completions");
    let dir = tempfile::Builder::new()
        .prefix("loadbench-soak-")
        .tempdir()?;
    let plugins_dir = dir.path().join("plugins");
    let cache_dir = dir.path().join("cache");
    fs::create_dir_all(&plugins_dir)?;
    fs::create_dir_all(&cache_dir)?;
    eprintln!("loadbench soak: starting ccr ({})", args.ccr_bin.display());
    let proxy = Proxy::try_start(ProxyOptions {
        binary: Some(args.ccr_bin.clone()),
        plugins_dir: Some(plugins_dir.clone()),
        env: vec![(
            "XDG_CACHE_HOME".into(),
            cache_dir.to_string_lossy().into_owned(),
        )],
        ..ProxyOptions::new(soak_config(&chat_url, 0))
    })
    .context("starting ccr")?;
    let ccr_version = command_output(&args.ccr_bin.to_string_lossy(), &["--version"]);
    let pid = proxy.pid();

    // Idle: start-up work (bundled plugins compiled, tokenizer) settled, no request yet.
    std::thread::sleep(Duration::from_millis(1000));
    check_interrupted()?;
    let progress = Arc::new(Progress::default());
    let idle = read_now(pid, Instant::now(), &progress);
    let idle_fd_kinds = fd_kinds(pid);
    eprintln!(
        "loadbench soak: idle: RSS {} MB, {} fds",
        report::mb(idle.rss_kib),
        idle.fds
    );

    let bodies: Vec<Bytes> = kinds
        .iter()
        .map(|(_, _, body)| Bytes::from(serde_json::to_vec(body).expect("body to JSON")))
        .collect();
    let target = Arc::new(Target {
        url: proxy.messages_url(),
        headers: headers(&fixtures::claude_code_headers()),
        wire: Wire::Anthropic,
        markers: bodies.iter().map(|b| marker_digits(b)).collect(),
        bodies,
        streams: kinds.iter().map(|(_, stream, _)| *stream).collect(),
    });
    let labels: Vec<String> = kinds.iter().map(|(label, _, _)| label.clone()).collect();

    // First use: one request of each kind, one after the other, its connection closed
    // after; what ccr sets up on first use and keeps (a compiled plugin's memory image, made
    // when it is first instantiated) is part of the baseline, its sockets are not.
    let priming = runtime.block_on(prime(&target, args.timeout))?;
    std::thread::sleep(Duration::from_millis(1000));
    check_interrupted()?;
    let first_use_fd_kinds = first_use_fds(&idle_fd_kinds, &fd_kinds(pid));
    let first_use: Vec<String> = first_use_fd_kinds
        .iter()
        .map(|(kind, n)| format!("{n} × {kind}"))
        .collect();
    eprintln!(
        "loadbench soak: after one request of each kind: {} more fds kept ({})",
        first_use_fd_kinds.values().sum::<u64>(),
        first_use.join(", ")
    );

    let total = args.warmup_requests + args.requests;
    let samples: Mutex<Vec<Reading>> = Mutex::new(Vec::new());
    let rss_max_since = AtomicU64::new(0);
    let mut reloader = Reloader {
        proxy: &proxy,
        chat_url: chat_url.clone(),
        plugin_path: plugins_dir.join(PLUGIN_FILE),
        plugin_wasm,
        timeout: args.reload_timeout,
        config_generation: 0,
        plugin_versions: 0,
        version_cycle: args.plugin_versions,
        plugin_hash: None,
    };
    let start = Instant::now();
    eprintln!(
        "loadbench soak: {} warm-up requests, then {} with a reload every {}, concurrency {}",
        args.warmup_requests, args.requests, args.reload_every, args.concurrency
    );
    let (outcomes, reloads, last_answer) = std::thread::scope(|scope| {
        // The sampler, with a progress line every 5 s.
        scope.spawn(|| {
            let mut last_line = Instant::now();
            while !progress.done.load(Ordering::Relaxed) && !INTERRUPTED.load(Ordering::Relaxed)
            {
                let reading = read_now(pid, start, &progress);
                rss_max_since.fetch_max(reading.rss_kib, Ordering::Relaxed);
                samples.lock().expect("samples").push(reading);
                if last_line.elapsed() >= Duration::from_secs(5) {
                    last_line = Instant::now();
                    eprintln!(
                        "loadbench soak: {}/{total} requests ({:.0} req/s), RSS {} MB, {} fds, {} reloads, {} errors",
                        reading.completed,
                        reading.completed as f64 / reading.at.as_secs_f64().max(0.001),
                        report::mb(reading.rss_kib),
                        reading.fds,
                        progress.reloads.load(Ordering::Relaxed),
                        progress.errors.load(Ordering::Relaxed),
                    );
                }
                std::thread::sleep(args.sample_every);
            }
        });
        // The reloader.
        let reloads = scope.spawn(|| {
            let mut reloads = Vec::new();
            let _gone = ReloaderGone(&progress);
            let planned = args.planned_reloads();
            while reloads.len() < planned && !INTERRUPTED.load(Ordering::Relaxed) {
                let due = args.warmup_requests + (reloads.len() + 1) * args.reload_every;
                let at_request = progress.started.load(Ordering::Relaxed).min(total);
                if at_request < due {
                    if progress.done.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                let kind = args.reload_kinds[reloads.len() % args.reload_kinds.len()];
                let steps = reloader.reload(kind);
                for step in steps.iter().filter(|s| s.error.is_some()) {
                    eprintln!(
                        "loadbench soak: {} reload ({}) failed: {}",
                        kind.name(),
                        step.what,
                        step.error.as_deref().unwrap_or("")
                    );
                }
                let reload = Reload {
                    kind,
                    at_request,
                    steps,
                    after: read_now(pid, start, &progress),
                    rss_max_since_kib: Some(rss_max_since.swap(0, Ordering::Relaxed)),
                };
                progress.reloads.fetch_add(1, Ordering::Relaxed);
                reloads.push(reload);
            }
            reloads
        });
        let outcomes = runtime.block_on(drive_count(args, &target, total, &progress));
        let last_answer = read_now(pid, start, &progress);
        progress.done.store(true, Ordering::Relaxed);
        let reloads = reloads.join().expect("the reloader panicked");
        (outcomes, reloads, last_answer)
    });
    let elapsed = last_answer.at;
    check_interrupted()?;
    let outcomes = outcomes?;

    // Back to the start: the config and the plugin folder, then connections closed.
    let mut reloads = reloads;
    let restore = reloader.reload(ReloadKind::Restore);
    if !restore.is_empty() {
        reloads.push(Reload {
            kind: ReloadKind::Restore,
            at_request: total,
            steps: restore,
            after: read_now(pid, start, &progress),
            rss_max_since_kib: None,
        });
    }
    drop(mock);
    std::thread::sleep(args.rest);
    let mut proxy = proxy;
    let ccr_alive = proxy.is_running();
    let end = read_now(pid, start, &progress);
    let end_fd_kinds = fd_kinds(pid);
    eprintln!(
        "loadbench soak: end: RSS {} MB, {} fds",
        report::mb(end.rss_kib),
        end.fds
    );

    let samples = samples.into_inner().expect("samples");
    let mut settled = settled_samples(&samples, args.warmup_requests);
    settled.sort_unstable();
    let settled_samples = settled.len();
    let settled_rss_kib = settled.get(settled.len() / 2).copied().unwrap_or(0);

    let mut latencies_us: Vec<u64> = outcomes
        .iter()
        .filter(|s| s.error.is_none())
        .map(|s| s.latency_us)
        .collect();
    latencies_us.sort_unstable();
    let mut errors = group_errors(&priming, &labels);
    for group in &mut errors {
        group.key = format!("first use: {}", group.key);
        group.example = format!("first use: {}", group.example);
    }
    errors.extend(group_errors(&outcomes, &labels));
    let trouble = !errors.is_empty() || reloads.iter().any(|r| !r.ok()) || !ccr_alive;
    let logs = trouble.then(|| tail(proxy.stderr().trim(), 3000));
    Ok(SoakRun {
        ccr_version,
        kinds: kinds
            .iter()
            .zip(&target.bodies)
            .map(|((label, _, _), body)| (label.clone(), body.len()))
            .collect(),
        idle,
        idle_fd_kinds,
        first_use_fd_kinds,
        settled_rss_kib,
        settled_samples,
        samples,
        last_answer,
        end,
        end_fd_kinds,
        reloads,
        latencies_us,
        errors,
        requests_done: outcomes.len(),
        held_back: progress.held_back.load(Ordering::Relaxed),
        held_back_us: progress.held_back_us.load(Ordering::Relaxed),
        elapsed,
        ccr_alive,
        logs,
    })
}

/// `total` requests from `args.concurrency` closed-loop workers, round-robin over the
/// kinds, counted in `progress`; the client (and its connections) is dropped before it
/// returns.
async fn drive_count(
    args: &SoakArgs,
    target: &Arc<Target>,
    total: usize,
    progress: &Arc<Progress>,
) -> Result<Vec<Sample>> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1024)
        .build()?;
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (client, target, progress) = (client.clone(), target.clone(), progress.clone());
        let (args, timeout) = (args.clone(), args.timeout);
        workers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while !INTERRUPTED.load(Ordering::Relaxed) {
                let i = progress.started.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let needed = reloads_before(&args, i);
                if progress.reloads.load(Ordering::Relaxed) < needed {
                    let waited = Instant::now();
                    while progress.reloads.load(Ordering::Relaxed) < needed
                        && !progress.reloader_gone.load(Ordering::Relaxed)
                        && !INTERRUPTED.load(Ordering::Relaxed)
                    {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    progress.held_back.fetch_add(1, Ordering::Relaxed);
                    progress
                        .held_back_us
                        .fetch_add(waited.elapsed().as_micros() as u64, Ordering::Relaxed);
                }
                let kind = i % target.bodies.len();
                let sample = one_request(&client, &target, kind, timeout).await;
                if sample.error.is_some() {
                    progress.errors.fetch_add(1, Ordering::Relaxed);
                }
                progress.completed.fetch_add(1, Ordering::Relaxed);
                samples.push(sample);
            }
            samples
        }));
    }
    let mut samples = Vec::with_capacity(total);
    for worker in workers {
        samples.extend(worker.await.unwrap_or_default());
    }
    drop(client);
    // Let the connection tasks see the client gone and close their sockets.
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(samples)
}

/// One request of each kind, one after the other, on a client dropped after.
async fn prime(target: &Arc<Target>, timeout: Duration) -> Result<Vec<Sample>> {
    let client = reqwest::Client::builder().no_proxy().http1_only().build()?;
    let mut samples = Vec::new();
    for kind in 0..target.bodies.len() {
        samples.push(one_request(&client, target, kind, timeout).await);
    }
    drop(client);
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(samples)
}

/// Failed requests grouped by message, numbers masked, largest group first.
fn group_errors(samples: &[Sample], labels: &[String]) -> Vec<ErrorGroup> {
    let mut groups: Vec<ErrorGroup> = Vec::new();
    for sample in samples {
        let Some(error) = &sample.error else { continue };
        let key = mask_numbers(error);
        let label = &labels[sample.kind];
        match groups.iter_mut().find(|g| g.key == key) {
            Some(group) => {
                group.count += 1;
                if !group.kinds.contains(label) {
                    group.kinds.push(label.clone());
                }
            }
            None => groups.push(ErrorGroup {
                key,
                count: 1,
                example: error.clone(),
                kinds: vec![label.clone()],
            }),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.count));
    groups
}

/// `text` with every run of digits as `#`, cut at 160 characters: one key per kind of error.
pub(crate) fn mask_numbers(text: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
        if out.chars().count() >= 160 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_versions_differ_and_end_in_a_well_formed_custom_section() {
        let wasm = b"\0asm\x0d\x00\x01\x00".to_vec();
        let v1 = plugin_version(&wasm, 1);
        let v2 = plugin_version(&wasm, 2);
        assert_ne!(v1, v2);
        assert!(v1.starts_with(&wasm));
        let section = &v1[wasm.len()..];
        assert_eq!(section[0], 0, "custom section id");
        assert_eq!(section[1] as usize, section.len() - 2, "section size");
        assert_eq!(section[2] as usize, b"ccr-soak".len());
        assert_eq!(&section[3..11], b"ccr-soak");
        assert_eq!(&section[11..], b"version 1");
    }

    #[test]
    fn the_load_waits_only_for_the_reload_before_the_one_in_progress() {
        let mut args = SoakArgs::parse(
            "--requests 3000 --warmup-requests 500 --reload-every 500"
                .split(' ')
                .map(str::to_string),
        )
        .unwrap();
        // Reloads at 1000, 1500, 2000, 2500, 3000 (requests handed out, warm-up included).
        assert_eq!(args.planned_reloads(), 5);
        assert_eq!(reloads_before(&args, 0), 0);
        assert_eq!(reloads_before(&args, 1499), 0);
        assert_eq!(reloads_before(&args, 1500), 1);
        assert_eq!(reloads_before(&args, 3000), 4);
        assert_eq!(reloads_before(&args, 3498), 4);
        // The very last request waits for every reload.
        assert_eq!(reloads_before(&args, 3499), 5);
        args.reload_every = 0;
        assert_eq!(args.planned_reloads(), 0);
        assert_eq!(reloads_before(&args, 3499), 0);
    }

    #[test]
    fn config_generations_differ_harmlessly_and_carry_their_marker() {
        let even = soak_config("http://127.0.0.1:1/v1/chat/completions", 0);
        let odd = soak_config("http://127.0.0.1:1/v1/chat/completions", 1);
        assert_eq!(even["MAX_CONNECTIONS_PER_CLIENT"], 0);
        assert_eq!(even["Router"]["default"], "mock,static");
        assert_eq!(odd["Router"]["default"], "mock,static");
        assert_ne!(even["PING_INTERVAL_MS"], odd["PING_INTERVAL_MS"]);
        assert_eq!(odd["Router"]["background"], "mock,static");
        assert!(even["Router"].get("background").is_none());
        assert_eq!(even["Providers"][0]["models"][1], "soak-config-0");
        assert_eq!(odd["Providers"][0]["transformer"]["use"][0][0], "maxtoken");
    }

    #[test]
    fn errors_group_by_message_with_numbers_masked() {
        assert_eq!(
            mask_numbers("HTTP 502: request 0000000042 failed after 12 ms"),
            "HTTP #: request # failed after # ms"
        );
        let fd = |kinds: &[(&str, u64)]| -> BTreeMap<String, u64> {
            kinds.iter().map(|(k, n)| (k.to_string(), *n)).collect()
        };
        let idle = fd(&[("socket", 3), ("pipe", 2)]);
        let end = fd(&[("socket", 5), ("pipe", 2), ("/memfd:x (deleted)", 1)]);
        assert_eq!(
            fd_excess(&idle, &end),
            vec![
                ("/memfd:x (deleted)".to_string(), 1),
                ("socket".to_string(), 2)
            ]
        );
    }
}
