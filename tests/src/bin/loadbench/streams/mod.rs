//! `loadbench streams`: many long streams open at once, the way a team's Claude Code
//! sessions wait on a thinking model: memory per open stream, time to first byte and
//! failures, for ccr and claude-code-router 2.x side by side.
//!
//! ```text
//! loadbench streams [--streams 2000,10000] [--events 50] [--interval-ms 200] [--size 80000]
//!                   [--transformer NAME] [--transformer-streams 2000] [--upstream-http auto|1|2]
//!                   [--ccr-bin PATH] [--mock-bin PATH] [--claude-code-router PATH] [--skip-ccr]
//!                   [--skip-ours] [--skip-floor]
//!                   [--client-threads N] [--mock-threads N] [--source-addresses N]
//!                   [--ramp-ms N] [--timeout-ms N] [--out PATH] [--markdown PATH]
//! ```
//!
//! For every stream count N (and, with `--transformer`, every count of
//! `--transformer-streams` again with that transformer in the provider's chain), and for each
//! system (the floor, ccr, then claude-code-router; the floor is the client straight to the
//! mock with the OpenAI body ccr sends upstream, so its row is what the client and the mock
//! themselves cost, and its RSS, fds and CPU are the mock's):
//!
//! 1. a fresh `mock-upstream --slow-stream EVENTS,INTERVAL_MS` (every streamed chat
//!    completion: EVENTS chunks INTERVAL_MS apart), then the system, fresh, in front of it;
//! 2. one non-streaming request (the same body without `stream`) warms it up (tokenizer,
//!    compiled plugins, the upstream connection), then the idle RSS and open file descriptors
//!    of the process and its descendants are read;
//! 3. N streaming Claude Code-shaped `/v1/messages` requests are opened at once (or spread
//!    over `--ramp-ms`), one HTTP/1.1
//!    connection each, while RSS is sampled every 50 ms (open fds every 250 ms); every stream
//!    is read to its end and must be a well-formed Anthropic SSE stream from `message_start`
//!    to `message_stop` ([`client::SseCheck`]); anything else is a failure, kept with its
//!    status and the first 200 bytes of its body;
//! 4. the system and the mock are stopped.
//!
//! The report (stdout, `--out`, and between `<!-- streams:begin -->` / `<!-- streams:end -->`
//! of `--markdown`) has one row per run: streams completed, failures, RSS idle and peak,
//! (peak − idle) / N per stream, time to first byte and to the end of the stream; then
//! connection times, fds, CPU, the targets and the failures grouped by status and message.
//!
//! Both proxies get `RLIMIT_NOFILE` raised to its hard limit (set here, inherited by every
//! child). ccr's config lifts its per-client connection cap (every stream comes from
//! 127.0.0.1) and, above 5000 streams (`--upstream-http auto`), asks for HTTP/2 prior
//! knowledge upstream (`"http2PriorKnowledge": true`), so that N streams need one upstream
//! socket instead of N. The mock's own counters (`GET /mock/stats`) tell which HTTP version
//! really carried the upstream requests.

mod client;
mod report;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use ccr_tests::mock::MockStats;
use ccr_tests::proxy::workspace_root;
use ccr_tests::{fixtures, Proxy, ProxyOptions};
use serde_json::{json, Value};

use crate::*;
use client::{StreamSample, StreamTarget};

const USAGE: &str = "\
usage: loadbench streams [options]

  --streams A,B            stream counts, one run per count and system (default 2000,10000)
  --events N               chat.completion.chunk events per upstream stream (default 50)
  --interval-ms N          time between two upstream events (default 200)
  --size N                 request size in bytes (default 80000: the Claude Code-shaped
                           80 KB request, 24 tools)
  --transformer NAME       also run with NAME in the provider's transformer chain (maxtoken
                           gets {\"max_tokens\": 16384}, other names no options; none: no
                           transformer runs)
  --transformer-streams L  stream counts of the transformer runs (default: the smallest of
                           --streams)
  --upstream-http auto|1|2 ccr to the mock over HTTP/1.1 (1), h2c prior knowledge (2:
                           \"http2PriorKnowledge\": true in its provider), or 2 only above
                           5000 streams (auto, the default)
  --ccr-bin PATH           the ccr binary (default: `ccr` next to this executable)
  --mock-bin PATH          the mock-upstream binary (default: next to this executable)
  --claude-code-router P   claude-code-router's `ccr` script
                           (default <workspace>/.tools/ccr/node_modules/.bin/ccr)
  --skip-ccr               do not run claude-code-router
  --skip-ours              do not run ccr (only claude-code-router)
  --skip-floor             do not run the floor (the client straight to the mock, with the
                           body ccr sends upstream)
  --client-threads N       worker threads of the client (default 2)
  --mock-threads N         worker threads of the mock (default 1)
  --source-addresses N     spread the client's connections over 127.0.0.1 … 127.0.0.N
                           (default 1)
  --ramp-ms N              open the streams evenly over N ms instead of all at once
                           (default 0: at once)
  --timeout-ms N           a run ends this long after its last stream was opened; streams
                           not finished by then are failures (default 300000)
  --out PATH               also write the report there
  --markdown PATH          replace the text between <!-- streams:begin --> and
                           <!-- streams:end --> in that file with the report
";

/// How ccr talks to the mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpstreamHttp {
    /// HTTP/2 prior knowledge above [`AUTO_HTTP2_ABOVE`] streams, else HTTP/1.1.
    Auto,
    /// Always HTTP/1.1 (no `http2PriorKnowledge` key).
    Http1,
    /// Always h2c prior knowledge.
    Http2,
}

/// `--upstream-http auto` switches to HTTP/2 above this many streams: with HTTP/1.1 ccr
/// needs one upstream socket per stream on top of the client's, 2 × N descriptors.
pub(crate) const AUTO_HTTP2_ABOVE: usize = 5000;

/// The options of `loadbench streams`.
#[derive(Debug, Clone)]
pub(crate) struct StreamsArgs {
    pub(crate) streams: Vec<usize>,
    pub(crate) events: usize,
    pub(crate) interval: Duration,
    pub(crate) size: usize,
    pub(crate) transformer: Option<String>,
    pub(crate) transformer_streams: Vec<usize>,
    pub(crate) upstream_http: UpstreamHttp,
    pub(crate) ccr_bin: PathBuf,
    pub(crate) mock_bin: PathBuf,
    pub(crate) claude_code_router: PathBuf,
    pub(crate) skip_claude_code_router: bool,
    pub(crate) skip_ours: bool,
    pub(crate) skip_floor: bool,
    pub(crate) client_threads: usize,
    pub(crate) mock_threads: usize,
    pub(crate) source_addresses: usize,
    pub(crate) ramp: Duration,
    pub(crate) timeout: Duration,
    pub(crate) out: Option<PathBuf>,
    pub(crate) markdown: Option<PathBuf>,
}

impl StreamsArgs {
    /// Reads the options that follow `streams` on the command line.
    fn parse(argv: impl IntoIterator<Item = String>) -> Result<StreamsArgs> {
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let exe = |name: &str| exe_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let mut args = StreamsArgs {
            streams: vec![2000, 10_000],
            events: 50,
            interval: Duration::from_millis(200),
            size: 80_000,
            transformer: None,
            transformer_streams: Vec::new(),
            upstream_http: UpstreamHttp::Auto,
            ccr_bin: exe("ccr"),
            mock_bin: exe("mock-upstream"),
            claude_code_router: workspace_root().join(".tools/ccr/node_modules/.bin/ccr"),
            skip_claude_code_router: false,
            skip_ours: false,
            skip_floor: false,
            client_threads: 2,
            mock_threads: 1,
            source_addresses: 1,
            ramp: Duration::ZERO,
            timeout: Duration::from_millis(300_000),
            out: None,
            markdown: None,
        };
        let mut argv = argv.into_iter();
        while let Some(flag) = argv.next() {
            let mut value = || {
                argv.next()
                    .ok_or_else(|| anyhow!("{flag} needs a value (try --help)"))
            };
            match flag.as_str() {
                "--streams" => args.streams = list(&value()?)?,
                "--events" => args.events = number(&value()?)?,
                "--interval-ms" => args.interval = Duration::from_millis(number(&value()?)?),
                "--size" => args.size = number(&value()?)?,
                "--transformer" => args.transformer = Some(value()?).filter(|name| name != "none"),
                "--transformer-streams" => args.transformer_streams = list(&value()?)?,
                "--upstream-http" => {
                    args.upstream_http = match value()?.as_str() {
                        "auto" => UpstreamHttp::Auto,
                        "1" | "1.1" => UpstreamHttp::Http1,
                        "2" => UpstreamHttp::Http2,
                        other => bail!("--upstream-http takes auto, 1 or 2, not {other:?}"),
                    }
                }
                "--ccr-bin" => args.ccr_bin = value()?.into(),
                "--mock-bin" => args.mock_bin = value()?.into(),
                "--claude-code-router" => args.claude_code_router = value()?.into(),
                "--skip-ccr" => args.skip_claude_code_router = true,
                "--skip-ours" => args.skip_ours = true,
                "--skip-floor" => args.skip_floor = true,
                "--client-threads" => args.client_threads = number(&value()?)?,
                "--mock-threads" => args.mock_threads = number(&value()?)?,
                "--source-addresses" => args.source_addresses = number(&value()?)?,
                "--ramp-ms" => args.ramp = Duration::from_millis(number(&value()?)?),
                "--timeout-ms" => args.timeout = Duration::from_millis(number(&value()?)?),
                "--out" => args.out = Some(value()?.into()),
                "--markdown" => args.markdown = Some(value()?.into()),
                "-h" | "--help" => {
                    print!("{USAGE}");
                    std::process::exit(0);
                }
                other => bail!("unknown argument {other:?} (try loadbench streams --help)"),
            }
        }
        if args.streams.contains(&0) || args.transformer_streams.contains(&0) {
            bail!("--streams and --transformer-streams need positive numbers");
        }
        if args.streams.is_empty() && args.transformer.is_none() {
            bail!("--streams needs at least one count");
        }
        if args.events < 3 {
            bail!("--events needs at least 3 (role, text, finish)");
        }
        if !(1..=254).contains(&args.source_addresses) {
            bail!("--source-addresses takes 1 to 254");
        }
        if args.transformer.is_some() && args.transformer_streams.is_empty() {
            let smallest = args.streams.iter().copied().min();
            args.transformer_streams = smallest.into_iter().collect();
        }
        if args.transformer.is_some() && args.transformer_streams.is_empty() {
            bail!("--transformer needs --transformer-streams when --streams is empty");
        }
        Ok(args)
    }

    /// Every run of the scenario, in order: the plain counts, then the transformer ones.
    pub(crate) fn cases(&self) -> Vec<Case> {
        let plain = self.streams.iter().map(|&streams| Case {
            streams,
            transformer: None,
        });
        let transformed = self.transformer_streams.iter().map(|&streams| Case {
            streams,
            transformer: self.transformer.clone(),
        });
        match &self.transformer {
            Some(_) => plain.chain(transformed).collect(),
            None => plain.collect(),
        }
    }

    /// Whether ccr is asked for HTTP/2 prior knowledge upstream at `streams` streams.
    pub(crate) fn http2_for(&self, streams: usize) -> bool {
        match self.upstream_http {
            UpstreamHttp::Auto => streams > AUTO_HTTP2_ABOVE,
            UpstreamHttp::Http1 => false,
            UpstreamHttp::Http2 => true,
        }
    }

    /// The client's source addresses: 127.0.0.1 … 127.0.0.N.
    fn sources(&self) -> Vec<std::net::IpAddr> {
        (1..=self.source_addresses as u8)
            .map(|last| std::net::IpAddr::from([127, 0, 0, last]))
            .collect()
    }
}

/// One run's setting: how many streams, and the transformer in the chain, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Case {
    pub(crate) streams: usize,
    pub(crate) transformer: Option<String>,
}

/// The two proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum System {
    /// The client straight to the mock.
    Floor,
    Ccr,
    ClaudeCodeRouter,
}

impl System {
    pub(crate) fn name(self) -> &'static str {
        match self {
            System::Floor => "direct upstream (floor)",
            System::Ccr => "ccr",
            System::ClaudeCodeRouter => "claude-code-router",
        }
    }
}

/// One system at one [`Case`]: its measurements, or why there are none.
pub(crate) struct Run {
    pub(crate) system: System,
    pub(crate) case: Case,
    /// ccr was configured with `"http2PriorKnowledge": true`.
    pub(crate) http2_asked: bool,
    pub(crate) outcome: Result<Measured, String>,
}

/// What one run measured.
pub(crate) struct Measured {
    /// RSS 1 s after the system answered `/health`, before any request.
    pub(crate) rss_start_kib: u64,
    /// RSS 1 s after the warm-up request: the base of the per-stream figure.
    pub(crate) rss_idle_kib: u64,
    /// The largest RSS sampled while the streams were open.
    pub(crate) rss_peak_kib: u64,
    pub(crate) fds_idle: u64,
    pub(crate) fds_peak: u64,
    /// CPU time of the system (its process tree), the mock and loadbench, during the streams.
    pub(crate) cpu_ms: f64,
    pub(crate) mock_cpu_ms: f64,
    pub(crate) client_cpu_ms: f64,
    /// From opening the first stream to the end of the last.
    pub(crate) wall: Duration,
    pub(crate) samples: Vec<StreamSample>,
    /// What the mock served during the streams (warm-up excluded).
    pub(crate) upstream: Option<MockStats>,
    /// The warm-up request's failure, if it failed (the run goes on).
    pub(crate) warmup_error: Option<String>,
}

impl Measured {
    /// Streams that ended well.
    pub(crate) fn completed(&self) -> usize {
        self.samples.iter().filter(|s| s.failure.is_none()).count()
    }

    /// (peak − idle) / N in KiB.
    pub(crate) fn kib_per_stream(&self, streams: usize) -> f64 {
        self.rss_peak_kib.saturating_sub(self.rss_idle_kib) as f64 / streams.max(1) as f64
    }

    /// Sorted microseconds of the completed streams, picked by `field`.
    pub(crate) fn sorted(&self, field: fn(&StreamSample) -> Option<u64>) -> Vec<u64> {
        let mut values: Vec<u64> = self
            .samples
            .iter()
            .filter(|s| s.failure.is_none())
            .filter_map(field)
            .collect();
        values.sort_unstable();
        values
    }
}

/// `RLIMIT_NOFILE` as this run has it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FdLimit {
    /// The soft limit found at start.
    pub(crate) before: u64,
    /// The soft limit now (raised to the hard one when it was lower).
    pub(crate) soft: u64,
    pub(crate) hard: u64,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (children inherit it).
// `rlim_t` is u64 on Linux but not everywhere.
#[allow(clippy::unnecessary_cast)]
fn raise_fd_limit() -> Result<FdLimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        bail!(
            "getrlimit(RLIMIT_NOFILE): {}",
            std::io::Error::last_os_error()
        );
    }
    let before = limit.rlim_cur as u64;
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            bail!(
                "setrlimit(RLIMIT_NOFILE, {}): {}",
                limit.rlim_max,
                std::io::Error::last_os_error()
            );
        }
    }
    Ok(FdLimit {
        before,
        soft: limit.rlim_cur as u64,
        hard: limit.rlim_max as u64,
    })
}

/// What a stream sends to one kind of system, and its warm-up twin.
pub(crate) struct Payload {
    /// `/v1/messages` (the proxies) or `/v1/chat/completions` (the floor).
    pub(crate) path: &'static str,
    pub(crate) headers: Vec<(&'static str, &'static str)>,
    /// What the answer must be.
    pub(crate) wire: Wire,
    /// The streaming body, and where its request number goes ([`MARKER`]), if it has one.
    pub(crate) stream: Bytes,
    pub(crate) marker: Option<usize>,
    /// The same request without streaming.
    pub(crate) json: Bytes,
}

/// The request of every stream: the Claude Code-shaped one for the proxies, and for the
/// floor the OpenAI body ccr sends upstream for it.
pub(crate) struct Bodies {
    pub(crate) anthropic: Payload,
    /// Captured through a throwaway ccr; why not, when that failed or was skipped.
    pub(crate) floor: Result<Payload, String>,
    pub(crate) tools: usize,
    pub(crate) messages: usize,
}

fn bodies(args: &StreamsArgs, runtime: &tokio::runtime::Runtime) -> Result<Bodies> {
    let kinds = build_kinds(&[args.size]);
    let pick = |stream: bool| {
        kinds
            .iter()
            .find(|(_, s, _)| *s == stream)
            .map(|(_, _, request)| request.clone())
            .expect("build_kinds makes both kinds")
    };
    let (stream, json) = (pick(true), pick(false));
    let stream_bytes = Bytes::from(serde_json::to_vec(&stream)?);
    let marker = marker_digits(&stream_bytes);
    if marker.is_none() {
        bail!("the stream request has no request-number marker");
    }
    let anthropic = Payload {
        path: "/v1/messages",
        headers: fixtures::claude_code_headers(),
        wire: Wire::Anthropic,
        marker,
        stream: stream_bytes,
        json: Bytes::from(serde_json::to_vec(&json)?),
    };
    let floor = if args.skip_floor {
        Err("--skip-floor".to_string())
    } else if !args.ccr_bin.exists() {
        Err(format!(
            "no ccr at {} to capture its upstream body",
            args.ccr_bin.display()
        ))
    } else {
        eprintln!("loadbench streams: capturing what ccr sends upstream (for the floor)");
        let requests: Vec<(String, bool, Value)> = kinds.to_vec();
        match capture_upstream_bodies(&args.ccr_bin, runtime, &requests) {
            Ok(captured) => {
                let body = |stream: bool| {
                    let at = requests.iter().position(|(_, s, _)| *s == stream);
                    captured[at.expect("both kinds")].clone()
                };
                let stream = body(true);
                Ok(Payload {
                    path: "/v1/chat/completions",
                    headers: vec![
                        ("content-type", "application/json"),
                        ("authorization", "Bearer sk-mock"),
                    ],
                    wire: Wire::OpenAi,
                    marker: marker_digits(&stream),
                    stream,
                    json: body(false),
                })
            }
            Err(e) => {
                check_interrupted()?;
                Err(format!("capturing ccr's upstream body: {e:#}"))
            }
        }
    };
    Ok(Bodies {
        anthropic,
        floor,
        tools: stream["tools"].as_array().map_or(0, Vec::len),
        messages: stream["messages"].as_array().map_or(0, Vec::len),
    })
}

/// The provider's `transformer.use` entry for `name`.
pub(crate) fn transformer_use(name: &str) -> Value {
    match name {
        // Without options maxtoken changes nothing; Claude Code asks for 32000.
        "maxtoken" => json!(["maxtoken", {"max_tokens": 16384}]),
        other => json!(other),
    }
}

/// The bench config plus the case's transformer.
fn config_for(chat_url: &str, port: Option<u16>, case: &Case) -> Value {
    let mut config = bench_config(chat_url, port);
    if let Some(name) = &case.transformer {
        config["Providers"][0]["transformer"] = json!({"use": [transformer_use(name)]});
    }
    config
}

/// ccr's config: the bench config, no per-client connection cap (every stream comes from
/// loopback), and HTTP/2 prior knowledge upstream when asked.
pub(crate) fn ccr_config(chat_url: &str, case: &Case, http2: bool) -> Value {
    let mut config = config_for(chat_url, None, case);
    config["MAX_CONNECTIONS_PER_CLIENT"] = json!(0);
    if http2 {
        config["Providers"][0]["http2PriorKnowledge"] = json!(true);
    }
    config
}

/// `loadbench streams ...`: every case for every system, then the report.
pub(crate) fn run(argv: impl IntoIterator<Item = String>) -> Result<()> {
    let args = StreamsArgs::parse(argv)?;
    let load_before = load_average();
    let fd_limit = raise_fd_limit()?;
    eprintln!(
        "loadbench streams: RLIMIT_NOFILE soft {} (was {}), hard {}",
        fd_limit.soft, fd_limit.before, fd_limit.hard
    );
    if !args.skip_ours && !args.ccr_bin.exists() {
        bail!(
            "ccr not found at {}: build it (cargo build --release -p ccr) or pass --ccr-bin",
            args.ccr_bin.display()
        );
    }
    let runtime = client_runtime(args.client_threads)?;
    let bodies = bodies(&args, &runtime)?;
    let mut runs = Vec::new();
    let mut ccr_version = None;
    for case in args.cases() {
        // The floor has no transformer chain: once per stream count.
        let floor_done = runs
            .iter()
            .any(|r: &Run| r.system == System::Floor && r.case.streams == case.streams);
        if !args.skip_floor && !floor_done {
            let case = Case {
                streams: case.streams,
                transformer: None,
            };
            runs.push(run_floor(&args, &runtime, &bodies, &case)?);
        }
        if !args.skip_ours {
            let (run, version) = run_ccr(&args, &runtime, &bodies, &case, &fd_limit)?;
            ccr_version = ccr_version.or(version);
            runs.push(run);
        }
        if !args.skip_claude_code_router {
            runs.push(run_claude_code_router(
                &args, &runtime, &bodies, &case, &fd_limit,
            )?);
        }
    }
    let claude_code_router =
        (!args.skip_claude_code_router).then_some(args.claude_code_router.as_path());
    let env = environment(
        &args.ccr_bin,
        claude_code_router,
        ccr_version.as_deref(),
        &load_before,
    );
    let text = report::report(&args, &env, &fd_limit, &bodies, &runs);
    print!("{text}");
    if let Some(path) = &args.out {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.markdown {
        update_markdown_section(path, "streams", &text)?;
    }
    runtime.shutdown_background();
    Ok(())
}

/// A fresh slow mock for one run.
fn start_slow_mock(args: &StreamsArgs) -> Result<(ChildGuard, u16)> {
    let pace = format!("{},{}", args.events, args.interval.as_millis());
    let threads = args.mock_threads.to_string();
    spawn_mock(
        &args.mock_bin,
        &["--slow-stream", &pace, "--threads", &threads],
    )
}

/// What a measurement needs besides the system itself.
struct Setup<'a> {
    args: &'a StreamsArgs,
    runtime: &'a tokio::runtime::Runtime,
    payload: &'a Payload,
    case: &'a Case,
    mock_pid: u32,
    mock_port: u16,
}

fn run_floor(
    args: &StreamsArgs,
    runtime: &tokio::runtime::Runtime,
    bodies: &Bodies,
    case: &Case,
) -> Result<Run> {
    let outcome = match &bodies.floor {
        Err(reason) => Err(reason.clone()),
        Ok(payload) => {
            eprintln!(
                "loadbench streams: direct upstream (floor), {} streams",
                case.streams
            );
            let (mock, mock_port) = start_slow_mock(args)?;
            let setup = Setup {
                args,
                runtime,
                payload,
                case,
                mock_pid: mock.pid(),
                mock_port,
            };
            let measured = measure_streams(&setup, mock_port, mock.pid());
            check_interrupted()?;
            measured.map_err(|e| format!("{e:#}"))
        }
    };
    Ok(Run {
        system: System::Floor,
        case: case.clone(),
        http2_asked: false,
        outcome,
    })
}

fn run_ccr(
    args: &StreamsArgs,
    runtime: &tokio::runtime::Runtime,
    bodies: &Bodies,
    case: &Case,
    fd_limit: &FdLimit,
) -> Result<(Run, Option<String>)> {
    let http2 = args.http2_for(case.streams);
    eprintln!(
        "loadbench streams: ccr, {} streams{}, upstream {}",
        case.streams,
        transformer_label(case),
        if http2 { "h2c" } else { "HTTP/1.1" }
    );
    warn_fds(System::Ccr, case.streams, http2, fd_limit);
    let (mock, mock_port) = start_slow_mock(args)?;
    let chat_url = format!("http://127.0.0.1:{mock_port}/v1/chat/completions");
    let version = command_output(&args.ccr_bin.to_string_lossy(), &["--version"]);
    let setup = Setup {
        args,
        runtime,
        payload: &bodies.anthropic,
        case,
        mock_pid: mock.pid(),
        mock_port,
    };
    let outcome = row_outcome(
        Proxy::try_start(ProxyOptions {
            binary: Some(args.ccr_bin.clone()),
            ..ProxyOptions::new(ccr_config(&chat_url, case, http2))
        }),
        |proxy| measure_streams(&setup, proxy.port(), proxy.pid()),
        |proxy| proxy.logs(),
    )?;
    if let Err(reason) = &outcome {
        eprintln!("loadbench streams: ccr: {}", first_line(reason));
    }
    drop(mock);
    let run = Run {
        system: System::Ccr,
        case: case.clone(),
        http2_asked: http2,
        outcome,
    };
    Ok((run, version))
}

fn run_claude_code_router(
    args: &StreamsArgs,
    runtime: &tokio::runtime::Runtime,
    bodies: &Bodies,
    case: &Case,
    fd_limit: &FdLimit,
) -> Result<Run> {
    eprintln!(
        "loadbench streams: claude-code-router, {} streams{}",
        case.streams,
        transformer_label(case)
    );
    warn_fds(System::ClaudeCodeRouter, case.streams, false, fd_limit);
    let (mock, mock_port) = start_slow_mock(args)?;
    let chat_url = format!("http://127.0.0.1:{mock_port}/v1/chat/completions");
    let config = |port| config_for(&chat_url, Some(port), case);
    let setup = Setup {
        args,
        runtime,
        payload: &bodies.anthropic,
        case,
        mock_pid: mock.pid(),
        mock_port,
    };
    let outcome = row_outcome(
        start_claude_code_router(&args.claude_code_router, config),
        |router| measure_streams(&setup, router.port, router.guard.pid()),
        |router| router.logs(),
    )?;
    if let Err(reason) = &outcome {
        eprintln!(
            "loadbench streams: claude-code-router: {}",
            first_line(reason)
        );
    }
    drop(mock);
    Ok(Run {
        system: System::ClaudeCodeRouter,
        case: case.clone(),
        http2_asked: false,
        outcome,
    })
}

/// ` with maxtoken`, or nothing.
pub(crate) fn transformer_label(case: &Case) -> String {
    case.transformer
        .as_ref()
        .map(|t| format!(" with {t}"))
        .unwrap_or_default()
}

/// Says on stderr when a run cannot fit in the descriptor limit (the report says it too).
fn warn_fds(system: System, streams: usize, http2: bool, limit: &FdLimit) {
    let needed = fds_needed(streams, http2);
    if needed > limit.soft {
        eprintln!(
            "loadbench streams: warning: {} at {streams} streams needs about {needed} file descriptors ({} per stream), over RLIMIT_NOFILE {}",
            system.name(),
            if http2 { 1 } else { 2 },
            limit.soft
        );
    }
}

/// Descriptors a proxy needs for `streams` streams: one inbound socket each, plus one
/// upstream socket each unless the upstream is multiplexed.
pub(crate) fn fds_needed(streams: usize, multiplexed_upstream: bool) -> u64 {
    let per_stream = if multiplexed_upstream { 1 } else { 2 };
    (streams * per_stream) as u64 + 64
}

/// Warm-up, idle figures, then all the streams at once.
fn measure_streams(setup: &Setup<'_>, port: u16, pid: u32) -> Result<Measured> {
    let Setup {
        args,
        runtime,
        payload,
        case,
        mock_pid,
        mock_port,
    } = *setup;
    let tick_ms = ms_per_tick();
    // Let start-up work (plugin compilation, JIT, GC) settle.
    std::thread::sleep(Duration::from_millis(1000));
    check_interrupted()?;
    let rss_start_kib = rss_kib(&process_tree(pid));
    let target = Arc::new(StreamTarget::new(port, payload, args.sources()));
    let warmup_error = runtime
        .block_on(client::warm_up(&target, Duration::from_secs(60)))
        .err();
    if let Some(e) = &warmup_error {
        eprintln!("loadbench streams: warning: the warm-up request failed: {e}");
    }
    std::thread::sleep(Duration::from_millis(1000));
    check_interrupted()?;
    // The tree once (scanning /proc per sample would cost the client CPU), after the
    // warm-up, when any worker processes exist.
    let tree = Arc::new(process_tree(pid));
    let rss_idle_kib = rss_kib(&tree);
    let fds_idle = open_fds(&tree);
    let mock_before = get_json(mock_port, "/mock/stats").map(|v| MockStats::from_json(&v));
    let (samples, wall, rss_peak_kib, fds_peak, cpu) = runtime.block_on(async {
        let rss = RssSampler::start(tree.clone());
        let fds_peak = Arc::new(AtomicU64::new(fds_idle));
        let fds_task = tokio::spawn({
            let (tree, peak) = (tree.clone(), fds_peak.clone());
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    peak.fetch_max(open_fds(&tree), Ordering::Relaxed);
                }
            }
        });
        let cpu0 = (cpu_ticks(&tree), cpu_ticks(&[mock_pid]), own_cpu_ticks());
        let started = Instant::now();
        eprintln!(
            "loadbench streams: opening {} streams{}",
            case.streams,
            transformer_label(case)
        );
        let samples = client::open_streams(&target, case.streams, args.ramp, args.timeout).await;
        let wall = started.elapsed();
        let cpu1 = (cpu_ticks(&tree), cpu_ticks(&[mock_pid]), own_cpu_ticks());
        fds_task.abort();
        let rss_peak = rss.peak().max(rss_kib(&tree));
        let fds = fds_peak.load(Ordering::Relaxed);
        let cpu = (
            cpu1.0.saturating_sub(cpu0.0) as f64 * tick_ms,
            cpu1.1.saturating_sub(cpu0.1) as f64 * tick_ms,
            cpu1.2.saturating_sub(cpu0.2) as f64 * tick_ms,
        );
        samples.map(|samples| (samples, wall, rss_peak, fds, cpu))
    })?;
    let mock_after = get_json(mock_port, "/mock/stats").map(|v| MockStats::from_json(&v));
    let upstream = match (mock_before, mock_after) {
        (Some(before), Some(after)) => Some(stats_between(&before, &after)),
        _ => None,
    };
    let measured = Measured {
        rss_start_kib,
        rss_idle_kib,
        rss_peak_kib,
        fds_idle,
        fds_peak,
        cpu_ms: cpu.0,
        mock_cpu_ms: cpu.1,
        client_cpu_ms: cpu.2,
        wall,
        samples,
        upstream,
        warmup_error,
    };
    eprintln!(
        "loadbench streams: {} of {} streams completed in {:.1} s, RSS {:.1} → {:.1} MB",
        measured.completed(),
        case.streams,
        wall.as_secs_f64(),
        rss_idle_kib as f64 / 1024.0,
        rss_peak_kib as f64 / 1024.0
    );
    Ok(measured)
}

/// What the mock served between two readings of its counters; the second reading's own
/// connection and request are taken off.
fn stats_between(before: &MockStats, after: &MockStats) -> MockStats {
    MockStats {
        connections: after
            .connections
            .saturating_sub(before.connections)
            .saturating_sub(1),
        http1_requests: after
            .http1_requests
            .saturating_sub(before.http1_requests)
            .saturating_sub(1),
        open_post_connections: after.open_post_connections,
        max_open_post_connections: after.max_open_post_connections,
        http2_requests: after.http2_requests.saturating_sub(before.http2_requests),
        slow_streams: after.slow_streams.saturating_sub(before.slow_streams),
        slow_streams_finished: after
            .slow_streams_finished
            .saturating_sub(before.slow_streams_finished),
        open_slow_streams: after.open_slow_streams,
        max_open_slow_streams: after.max_open_slow_streams,
    }
}
