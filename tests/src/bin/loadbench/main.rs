//! `loadbench`: proxy overhead side by side: the upstream directly (the floor), `ccr`, and
//! claude-code-router 2.x, in one run, on the same request mix.
//!
//! ```text
//! loadbench [--duration-ms N] [--warmup-ms N] [--concurrency 1,32] [--sizes 20000,80000,300000]
//!           [--ccr-bin PATH] [--mock-bin PATH] [--claude-code-router PATH] [--skip-ccr]
//!           [--mock-threads N] [--client-threads N] [--timeout-ms N]
//!           [--out PATH] [--markdown PATH] [--dump-requests DIR]
//! ```
//!
//! What it does, in order:
//!
//! 1. Builds the request mix: for every size, a Claude Code-shaped `/v1/messages` body
//!    ([`fixtures::ClaudeCodeRequest`]), streaming and not, sent round-robin. Every request
//!    sent carries a new number in its last tool result, so none repeats (see [`numbered`]).
//! 2. Captures the OpenAI body `ccr` sends upstream for each of them (a throwaway `ccr` in
//!    front of an in-process recording mock): that is what the floor sends to the upstream
//!    directly, so all three systems do the same work seen from the upstream.
//! 3. Starts the static upstream (`mock-upstream --static`, a separate process), then for each
//!    system in turn (direct, `ccr`, claude-code-router): starts it, reads its idle RSS,
//!    warms it up, and runs one fixed-duration phase per concurrency, sampling its RSS and
//!    reading its CPU time (`/proc/<pid>/stat`, the process and its descendants) around
//!    every phase; then stops it.
//! 4. Prints a markdown report on stdout (and to `--out`, and between the
//!    `<!-- loadbench:begin -->` / `<!-- loadbench:end -->` markers of `--markdown`): the
//!    machine and versions, one row per system, ratios against claude-code-router, latency by
//!    request kind and per-phase details.
//!
//! Every request must come back 200 with a complete, well-formed body (an Anthropic message or
//! a stream ending in `message_stop`; for the floor, an OpenAI completion or a stream ending
//! in `[DONE]`); anything else counts as an error and is reported. Every process started is
//! killed when the run ends, fails or is interrupted (Ctrl-C, SIGTERM).
//!
//! `loadbench streams ...` is another scenario: many long streams open at once, memory per
//! stream and time to first byte (see the `streams` module, `loadbench streams --help`).
//! `loadbench soak ...` is a third: a long run of the mix with hot reloads of the config and
//! of a plugin in between, ccr's RSS and open descriptors from before the first request to
//! after the last (see the `soak` module, `loadbench soak --help`).
//!
//! claude-code-router is `<workspace>/.tools/ccr/node_modules/.bin/ccr` unless
//! `--claude-code-router` says otherwise (`tests/bench/run.sh` installs it there with npm); if
//! it is missing or does not start, its row says why and the run goes on.

mod environment;
mod measure;
mod processes;
mod report;
mod requests;
mod soak;
mod streams;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use ccr_tests::fixtures::{self};
use ccr_tests::proxy::workspace_root;
use ccr_tests::{Proxy, ProxyOptions};

use environment::*;
use measure::*;
use processes::*;
use report::*;
use requests::*;

/// Set by the Ctrl-C / SIGTERM watcher; every wait and every load loop checks it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

const USAGE: &str = "\
usage: loadbench [options]
       loadbench streams [options]   many streams open at once (loadbench streams --help)
       loadbench soak [options]      a long run with hot reloads: does ccr leak?
                                     (loadbench soak --help)

  --duration-ms N          length of each measured phase (default 15000)
  --warmup-ms N            warm-up before measuring each system (default 3000)
  --concurrency A,B        concurrencies measured (default 1,32); latency figures come from
                           the first, the headline throughput from the first and the last
  --sizes A,B,...          request sizes in bytes (default 20000,80000,300000); each size is
                           sent streaming and non-streaming, round-robin
  --ccr-bin PATH           the ccr binary (default: `ccr` next to this executable)
  --mock-bin PATH          the mock-upstream binary (default: next to this executable)
  --claude-code-router P   claude-code-router's `ccr` script
                           (default <workspace>/.tools/ccr/node_modules/.bin/ccr)
  --skip-ccr               do not run claude-code-router
  --mock-threads N         worker threads of the upstream mock (default 1)
  --client-threads N       worker threads of the load generator (default 2)
  --timeout-ms N           per-request timeout (default 60000)
  --out PATH               also write the report there
  --markdown PATH          replace the text between <!-- loadbench:begin --> and
                           <!-- loadbench:end --> in that file with the report
  --dump-requests DIR      write the mix (Anthropic and upstream OpenAI bodies) as JSON
                           files into DIR and exit, e.g. for other load tools or profilers
";

// Arguments

/// Parsed command line.
#[derive(Debug, Clone)]
struct Args {
    duration: Duration,
    warmup: Duration,
    concurrency: Vec<usize>,
    sizes: Vec<usize>,
    ccr_bin: PathBuf,
    mock_bin: PathBuf,
    claude_code_router: PathBuf,
    skip_ccr: bool,
    mock_threads: usize,
    client_threads: usize,
    timeout: Duration,
    out: Option<PathBuf>,
    markdown: Option<PathBuf>,
    dump_requests: Option<PathBuf>,
}

impl Args {
    fn parse() -> Result<Args> {
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let exe = |name: &str| exe_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let mut args = Args {
            duration: Duration::from_millis(15_000),
            warmup: Duration::from_millis(3_000),
            concurrency: vec![1, 32],
            sizes: vec![20_000, 80_000, 300_000],
            ccr_bin: exe("ccr"),
            mock_bin: exe("mock-upstream"),
            claude_code_router: workspace_root().join(".tools/ccr/node_modules/.bin/ccr"),
            skip_ccr: false,
            mock_threads: 1,
            client_threads: 2,
            timeout: Duration::from_millis(60_000),
            out: None,
            markdown: None,
            dump_requests: None,
        };
        let mut argv = std::env::args().skip(1);
        while let Some(flag) = argv.next() {
            let mut value = || {
                argv.next()
                    .ok_or_else(|| anyhow!("{flag} needs a value (try --help)"))
            };
            match flag.as_str() {
                "--duration-ms" => args.duration = Duration::from_millis(number(&value()?)?),
                "--warmup-ms" => args.warmup = Duration::from_millis(number(&value()?)?),
                "--concurrency" => args.concurrency = list(&value()?)?,
                "--sizes" => args.sizes = list(&value()?)?,
                "--ccr-bin" => args.ccr_bin = value()?.into(),
                "--mock-bin" => args.mock_bin = value()?.into(),
                "--claude-code-router" => args.claude_code_router = value()?.into(),
                "--skip-ccr" => args.skip_ccr = true,
                "--mock-threads" => args.mock_threads = number(&value()?)?,
                "--client-threads" => args.client_threads = number(&value()?)?,
                "--timeout-ms" => args.timeout = Duration::from_millis(number(&value()?)?),
                "--out" => args.out = Some(value()?.into()),
                "--markdown" => args.markdown = Some(value()?.into()),
                "--dump-requests" => args.dump_requests = Some(value()?.into()),
                "-h" | "--help" => {
                    print!("{USAGE}");
                    std::process::exit(0);
                }
                other => bail!("unknown argument {other:?} (try --help)"),
            }
        }
        if args.concurrency.is_empty() || args.concurrency.contains(&0) {
            bail!("--concurrency needs positive numbers");
        }
        if args.sizes.is_empty() {
            bail!("--sizes needs at least one size");
        }
        Ok(args)
    }
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T> {
    text.trim()
        .replace('_', "")
        .parse()
        .map_err(|_| anyhow!("not a number: {text:?}"))
}

fn list<T: std::str::FromStr>(text: &str) -> Result<Vec<T>> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(number)
        .collect()
}

fn main() {
    let mut argv = std::env::args().skip(1).peekable();
    let outcome = match argv.peek().map(String::as_str) {
        Some("streams") => {
            argv.next();
            streams::run(argv)
        }
        Some("soak") => {
            argv.next();
            soak::run(argv)
        }
        _ => run(),
    };
    let code = match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("loadbench: {e:#}");
            if INTERRUPTED.load(Ordering::Relaxed) {
                130
            } else {
                1
            }
        }
    };
    std::process::exit(code);
}

/// The run, step by step: the request mix, then each system measured in turn against the
/// same upstream, then the report.
fn run() -> Result<()> {
    let args = Args::parse()?;
    let load_before = load_average();
    if !args.ccr_bin.exists() {
        bail!(
            "ccr not found at {}: build it (cargo build --release -p ccr) or pass --ccr-bin",
            args.ccr_bin.display()
        );
    }
    let runtime = client_runtime(args.client_threads)?;
    let kinds = request_mix(&args, &runtime)?;
    if let Some(dir) = &args.dump_requests {
        return dump_requests(dir, &kinds);
    }

    let (mock, mock_port) = start_mock(&args)?;
    let chat_url = format!("http://127.0.0.1:{mock_port}/v1/chat/completions");
    let bench = Bench {
        args: &args,
        runtime: &runtime,
        kinds: &kinds,
        chat_url: &chat_url,
        mock_pid: mock.pid(),
    };
    // In this order: the floor first, so every later figure is measured the same way.
    let direct = bench.direct()?;
    let (ccr, ccr_version) = bench.ccr()?;
    let claude_code_router = bench.claude_code_router()?;
    let systems = vec![direct, ccr, claude_code_router];
    drop(mock);

    let claude_code_router = (!args.skip_ccr).then_some(args.claude_code_router.as_path());
    let env = environment(
        &args.ccr_bin,
        claude_code_router,
        ccr_version.as_deref(),
        &load_before,
    );
    write_report(&args, &report(&args, &env, &kinds, &systems))?;
    runtime.shutdown_background();
    Ok(())
}

/// The load generator's runtime, which also turns Ctrl-C / SIGTERM into [`INTERRUPTED`].
fn client_runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("loadbench")
        .enable_all()
        .build()?;
    // Ctrl-C / SIGTERM: stop the load loops, unwind, and let the guards kill the children.
    runtime.spawn(async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(term) => {
                    term.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        eprintln!("loadbench: interrupted, stopping");
        INTERRUPTED.store(true, Ordering::Relaxed);
    });
    Ok(runtime)
}

/// Every request kind in both wire formats, each checked for its request-number marker.
fn request_mix(args: &Args, runtime: &tokio::runtime::Runtime) -> Result<Vec<RequestKind>> {
    eprintln!("loadbench: building the request mix");
    let requests = build_kinds(&args.sizes);
    eprintln!("loadbench: capturing what ccr sends upstream");
    let upstream_bodies = capture_upstream_bodies(&args.ccr_bin, runtime, &requests)?;
    let kinds: Vec<RequestKind> = requests
        .iter()
        .zip(upstream_bodies)
        .map(|((label, stream, request), openai)| RequestKind {
            label: label.clone(),
            stream: *stream,
            tools: request["tools"].as_array().map_or(0, Vec::len),
            messages: request["messages"].as_array().map_or(0, Vec::len),
            anthropic: Bytes::from(serde_json::to_vec(request).expect("request to JSON")),
            openai,
        })
        .collect();
    check_interrupted()?;
    for kind in &kinds {
        if marker_digits(&kind.anthropic).is_none() {
            bail!("the {} request has no request-number marker", kind.label);
        }
        if marker_digits(&kind.openai).is_none() {
            eprintln!(
                "loadbench: warning: ccr's upstream body for {} lost the request-number marker: the floor sends it unnumbered",
                kind.label
            );
        }
    }
    Ok(kinds)
}

/// `--dump-requests`: writes both bodies of every kind to `dir` instead of measuring.
fn dump_requests(dir: &Path, kinds: &[RequestKind]) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for kind in kinds {
        let stem = kind.label.to_lowercase().replace(' ', "-");
        fs::write(dir.join(format!("{stem}.anthropic.json")), &kind.anthropic)?;
        fs::write(dir.join(format!("{stem}.openai.json")), &kind.openai)?;
    }
    eprintln!(
        "loadbench: wrote {} requests to {}",
        kinds.len() * 2,
        dir.display()
    );
    Ok(())
}

/// The report on stdout, and to `--out` and `--markdown` when given.
fn write_report(args: &Args, text: &str) -> Result<()> {
    print!("{text}");
    if let Some(path) = &args.out {
        fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.markdown {
        update_markdown(path, text)?;
    }
    Ok(())
}

/// What every system's measurement shares: the options, the client runtime, the mix and the
/// upstream.
struct Bench<'a> {
    args: &'a Args,
    runtime: &'a tokio::runtime::Runtime,
    kinds: &'a [RequestKind],
    chat_url: &'a str,
    mock_pid: u32,
}

impl Bench<'_> {
    /// The Anthropic-side target of a proxy listening on `port`.
    fn anthropic_target(&self, port: u16) -> Target {
        Target {
            url: format!("http://127.0.0.1:{port}/v1/messages"),
            headers: headers(&fixtures::claude_code_headers()),
            wire: Wire::Anthropic,
            bodies: self.kinds.iter().map(|k| k.anthropic.clone()).collect(),
            markers: self
                .kinds
                .iter()
                .map(|k| marker_digits(&k.anthropic))
                .collect(),
            streams: self.kinds.iter().map(|k| k.stream).collect(),
        }
    }

    /// The floor: the upstream directly, with the bodies ccr would send it.
    fn direct(&self) -> Result<SystemReport> {
        eprintln!("loadbench: direct upstream");
        let direct = Target {
            url: self.chat_url.to_string(),
            headers: headers(&[
                ("content-type", "application/json"),
                ("authorization", "Bearer sk-mock"),
            ]),
            wire: Wire::OpenAi,
            bodies: self.kinds.iter().map(|k| k.openai.clone()).collect(),
            markers: self
                .kinds
                .iter()
                .map(|k| marker_digits(&k.openai))
                .collect(),
            streams: self.kinds.iter().map(|k| k.stream).collect(),
        };
        let run = measure(
            self.args,
            self.runtime,
            "direct",
            direct,
            self.mock_pid,
            self.mock_pid,
        )?;
        Ok(SystemReport {
            name: "direct upstream (floor)".into(),
            outcome: Ok(run),
        })
    }

    /// `ccr` (a failure ends the run, with its logs), and its `--version`.
    fn ccr(&self) -> Result<(SystemReport, Option<String>)> {
        let args = self.args;
        eprintln!("loadbench: ccr ({})", args.ccr_bin.display());
        let proxy = Proxy::try_start(ProxyOptions {
            binary: Some(args.ccr_bin.clone()),
            ..ProxyOptions::new(bench_config(self.chat_url, None))
        })
        .context("starting ccr")?;
        let version = command_output(&args.ccr_bin.to_string_lossy(), &["--version"]);
        let run = measure(
            args,
            self.runtime,
            "ccr",
            self.anthropic_target(proxy.port()),
            proxy.pid(),
            self.mock_pid,
        );
        if run.is_err() && !INTERRUPTED.load(Ordering::Relaxed) {
            eprintln!("{}", proxy.logs());
        }
        let report = SystemReport {
            name: "ccr".into(),
            outcome: Ok(run?),
        };
        Ok((report, version))
    }

    /// claude-code-router; when it is skipped, missing or fails, its row says why.
    fn claude_code_router(&self) -> Result<SystemReport> {
        let args = self.args;
        let name = "claude-code-router".to_string();
        if args.skip_ccr {
            eprintln!("loadbench: claude-code-router skipped (--skip-ccr)");
            return Ok(SystemReport {
                name,
                outcome: Err("--skip-ccr".into()),
            });
        }
        eprintln!(
            "loadbench: claude-code-router ({})",
            args.claude_code_router.display()
        );
        let config = |port| bench_config(self.chat_url, Some(port));
        let outcome = row_outcome(
            start_claude_code_router(&args.claude_code_router, config),
            |router| {
                eprintln!("loadbench: claude-code-router {} ready", router.version);
                measure(
                    args,
                    self.runtime,
                    "claude-code-router",
                    self.anthropic_target(router.port),
                    router.guard.pid(),
                    self.mock_pid,
                )
            },
            |router| router.logs(),
        )?;
        if let Err(reason) = &outcome {
            eprintln!("loadbench: claude-code-router skipped: {reason}");
        }
        Ok(SystemReport { name, outcome })
    }
}
