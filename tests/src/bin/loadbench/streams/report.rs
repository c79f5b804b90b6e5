//! The markdown report of `loadbench streams`.

use std::fmt::Write as _;

use super::client::{group_failures, StreamSample};
use super::*;

/// The per-stream memory target (KiB of RSS per open stream).
pub(crate) const TARGET_KIB_PER_STREAM: f64 = 64.0;
/// The time-to-first-byte target (p99, ms), at [`TARGET_TTFB_STREAMS`] streams.
pub(crate) const TARGET_TTFB_P99_MS: f64 = 100.0;
/// The stream count the TTFB target is set at.
pub(crate) const TARGET_TTFB_STREAMS: usize = 2000;

/// Percentile of sorted microseconds in ms, or `–`.
fn pct_ms(sorted: &[u64], p: f64) -> String {
    ms(percentile_ms(sorted, p))
}

/// Percentile of sorted microseconds in s, or `–`.
fn pct_s(sorted: &[u64], p: f64) -> String {
    percentile_ms(sorted, p).map_or("–".into(), |v| format!("{:.2}", v / 1000.0))
}

/// `ccr`, `ccr + maxtoken`.
fn system_label(run: &Run) -> String {
    match &run.case.transformer {
        Some(t) => format!("{} + {t}", run.system.name()),
        None => run.system.name().to_string(),
    }
}

/// What carried the upstream requests, from the mock's counters.
fn upstream_label(run: &Run, measured: &Measured) -> String {
    let Some(stats) = &measured.upstream else {
        return "?".into();
    };
    let version = if stats.http2_requests > 0 && stats.http1_requests == 0 {
        "h2c"
    } else if stats.http2_requests > 0 {
        "HTTP/1.1 + h2c"
    } else {
        "HTTP/1.1"
    };
    // The most open at once (a kept-alive connection from the warm-up counts too).
    let connections = stats.max_open_post_connections;
    let plural = if connections == 1 { "" } else { "s" };
    let asked = if run.http2_asked && stats.http2_requests == 0 {
        ", h2c asked"
    } else {
        ""
    };
    format!("{version}, {connections} conn{plural}{asked}")
}

/// The whole report: setup, the main table, details, targets, failures, notes.
pub(crate) fn report(
    args: &StreamsArgs,
    env: &Environment,
    fd_limit: &FdLimit,
    bodies: &Bodies,
    runs: &[Run],
) -> String {
    let mut out = String::new();
    write_setup(&mut out, args, env, fd_limit, bodies);
    write_main_table(&mut out, runs);
    write_details(&mut out, runs);
    write_targets(&mut out, runs);
    write_failures(&mut out, runs);
    out
}

fn write_setup(
    w: &mut String,
    args: &StreamsArgs,
    env: &Environment,
    fd_limit: &FdLimit,
    bodies: &Bodies,
) {
    let stream_ms = args.interval.as_millis() as u64 * (args.events as u64 - 1);
    let _ = writeln!(w, "Run: {} on {}, {}.", env.date, env.machine, env.os);
    let _ = writeln!(w);
    let _ = writeln!(w, "- machine: {}", env.load);
    let _ = writeln!(w, "- ccr: {}, bundled `openai` provider plugin", env.ccr);
    let _ = writeln!(w, "- claude-code-router: {}", env.claude_code_router);
    let _ = writeln!(
        w,
        "- upstream: `mock-upstream --slow-stream {},{} --threads {}`, a fresh process for every run: \
         each streamed chat completion is {} `chat.completion.chunk` events {} ms apart \
         ({} from the first to the last), over HTTP/1.1 or h2c",
        args.events,
        args.interval.as_millis(),
        args.mock_threads,
        args.events,
        args.interval.as_millis(),
        if stream_ms >= 1000 {
            format!("{:.1} s", stream_ms as f64 / 1000.0)
        } else {
            format!("{stream_ms} ms")
        }
    );
    let _ = writeln!(
        w,
        "- request: the Claude Code-shaped `/v1/messages` stream ({} B, {} tools, {} messages; \
         every stream numbered in its last tool result), with Claude Code's headers",
        bodies.anthropic.stream.len(),
        bodies.tools,
        bodies.messages
    );
    let sources = if args.source_addresses == 1 {
        "127.0.0.1".to_string()
    } else {
        format!("127.0.0.1 … 127.0.0.{}", args.source_addresses)
    };
    let _ = writeln!(
        w,
        "- client: `loadbench streams`, {}, one HTTP/1.1 connection each, {} threads, from \
         {sources}; every stream read to its end; a run ends {} s after its last stream was \
         opened",
        if args.ramp.is_zero() {
            "all N streams opened at once".to_string()
        } else {
            format!(
                "the N streams opened evenly over {} s",
                args.ramp.as_secs_f64()
            )
        },
        args.client_threads,
        args.timeout.as_secs()
    );
    let http = match args.upstream_http {
        UpstreamHttp::Auto => format!(
            "h2c prior knowledge (`\"http2PriorKnowledge\": true` in its provider) above {AUTO_HTTP2_ABOVE} streams, HTTP/1.1 up to that"
        ),
        UpstreamHttp::Http1 => "HTTP/1.1 (`--upstream-http 1`)".into(),
        UpstreamHttp::Http2 => {
            "h2c prior knowledge, `\"http2PriorKnowledge\": true` in its provider (`--upstream-http 2`)"
                .into()
        }
    };
    let _ = writeln!(
        w,
        "- configs: one OpenAI-compatible provider at the mock, everything routed to it, \
         `\"LOG\": false`; ccr also `\"MAX_CONNECTIONS_PER_CLIENT\": 0` (every stream comes \
         from loopback), upstream {http}"
    );
    if let Some(name) = &args.transformer {
        let _ = writeln!(
            w,
            "- `+ {name}` rows: the provider's chain is `\"transformer\": {{\"use\": [{}]}}` (both systems)",
            transformer_use(name)
        );
    }
    let raised = if fd_limit.before < fd_limit.soft {
        format!(" (raised from {})", fd_limit.before)
    } else {
        String::new()
    };
    let ports = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .map(|r| r.split_whitespace().collect::<Vec<_>>().join("–"))
        .unwrap_or_else(|_| "?".into());
    let _ = writeln!(
        w,
        "- file descriptors: `RLIMIT_NOFILE` soft {}{raised}, hard {}, for loadbench and every \
         process it starts; ephemeral ports {ports}",
        fd_limit.soft, fd_limit.hard
    );
    let _ = writeln!(w);
}

fn write_main_table(w: &mut String, runs: &[Run]) {
    let _ = writeln!(
        w,
        "| system | streams | upstream | completed | failed | RSS idle MB | RSS peak MB | KB per stream | TTFB p50 ms | TTFB p90 ms | TTFB p99 ms | TTFB max ms | full stream p50 s | full stream p99 s | full stream max s |"
    );
    let _ = writeln!(
        w,
        "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    for run in runs {
        let n = run.case.streams;
        match &run.outcome {
            Ok(m) => {
                let ttfb = m.sorted(|s| s.ttfb_us);
                let total = m.sorted(|s| s.total_us);
                let _ = writeln!(
                    w,
                    "| {} | {n} | {} | {} | {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
                    system_label(run),
                    upstream_label(run, m),
                    m.completed(),
                    n - m.completed(),
                    mib(m.rss_idle_kib),
                    mib(m.rss_peak_kib),
                    m.kib_per_stream(n),
                    pct_ms(&ttfb, 50.0),
                    pct_ms(&ttfb, 90.0),
                    pct_ms(&ttfb, 99.0),
                    pct_ms(&ttfb, 100.0),
                    pct_s(&total, 50.0),
                    pct_s(&total, 99.0),
                    pct_s(&total, 100.0),
                );
            }
            Err(reason) => {
                let _ = writeln!(
                    w,
                    "| {} | {n} | not measured: {} |{}",
                    system_label(run),
                    first_line(reason).replace('|', "\\|"),
                    " – |".repeat(12)
                );
            }
        }
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "KB per stream is (RSS peak − RSS idle) ÷ streams (KB and MB are KiB and MiB); RSS is the \
         process's and its children's, idle after one warm-up request. TTFB is from sending \
         the request to the first body byte; full stream to its last byte; both over the \
         completed streams. Upstream is what the mock saw: the protocol of the requests and the most connections open at once. The \
         floor is the client straight to the mock with the OpenAI body ccr sends upstream: \
         its RSS, fds and CPU are the mock's own."
    );
    let _ = writeln!(w);
}

fn write_details(w: &mut String, runs: &[Run]) {
    let _ = writeln!(
        w,
        "Details (CPU in seconds over the streams; open fds of the process and its children):"
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "| system | streams | connect p50 ms | connect p99 ms | connect max ms | SSE events per stream | upstream streams open at once | RSS at start MB | open fds idle → peak | system CPU s | mock CPU s | loadbench CPU s | wall s |"
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for run in runs {
        let Ok(m) = &run.outcome else { continue };
        let mut connect: Vec<u64> = m.samples.iter().filter_map(|s| s.connect_us).collect();
        connect.sort_unstable();
        let mut events: Vec<u64> = m
            .samples
            .iter()
            .filter(|s| s.failure.is_none())
            .map(|s: &StreamSample| s.events as u64)
            .collect();
        events.sort_unstable();
        let events = match (events.first(), events.last()) {
            (Some(lo), Some(hi)) if lo == hi => lo.to_string(),
            (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
            _ => "–".into(),
        };
        let open = m
            .upstream
            .map_or("?".into(), |s| s.max_open_slow_streams.to_string());
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {events} | {open} | {} | {} → {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            system_label(run),
            run.case.streams,
            pct_ms(&connect, 50.0),
            pct_ms(&connect, 99.0),
            pct_ms(&connect, 100.0),
            mib(m.rss_start_kib),
            m.fds_idle,
            m.fds_peak,
            m.cpu_ms / 1000.0,
            m.mock_cpu_ms / 1000.0,
            m.client_cpu_ms / 1000.0,
            m.wall.as_secs_f64(),
        );
    }
    let _ = writeln!(w);
}

/// The targets, for the ccr runs measured.
fn write_targets(w: &mut String, runs: &[Run]) {
    let mut rows = Vec::new();
    let yes = |ok: bool| if ok { "yes" } else { "**no**" };
    for run in runs.iter().filter(|r| r.system == System::Ccr) {
        let n = run.case.streams;
        let label = format!("{}, {n} streams", system_label(run));
        let Ok(m) = &run.outcome else {
            rows.push(format!(
                "| {label}: every stream completes | not measured | **no** |"
            ));
            continue;
        };
        let completed = m.completed();
        rows.push(format!(
            "| {label}: every stream completes | {completed} of {n} | {} |",
            yes(completed == n)
        ));
        if run.case.transformer.is_none() {
            let kb = m.kib_per_stream(n);
            rows.push(format!(
                "| {label}: ≤ {TARGET_KIB_PER_STREAM:.0} KB per stream | {kb:.1} KB | {} |",
                yes(kb <= TARGET_KIB_PER_STREAM)
            ));
        }
        if n == TARGET_TTFB_STREAMS && run.case.transformer.is_none() {
            let p99 = percentile_ms(&m.sorted(|s| s.ttfb_us), 99.0);
            rows.push(format!(
                "| {label}: TTFB p99 < {TARGET_TTFB_P99_MS:.0} ms | {} ms | {} |",
                ms(p99),
                yes(completed == n && p99.is_some_and(|p| p < TARGET_TTFB_P99_MS))
            ));
        }
    }
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(w, "Targets:");
    let _ = writeln!(w);
    let _ = writeln!(w, "| target | measured | met |");
    let _ = writeln!(w, "|---|--:|---|");
    for row in rows {
        let _ = writeln!(w, "{row}");
    }
    let _ = writeln!(w);
}

/// Failures grouped by status and message (first example shown), skipped runs with their
/// reason, warm-up failures.
fn write_failures(w: &mut String, runs: &[Run]) {
    let mut notes = Vec::new();
    for run in runs {
        let label = format!("{}, {} streams", system_label(run), run.case.streams);
        match &run.outcome {
            Err(reason) => notes.push(format!(
                "- **{label}** not measured: {}",
                tail(reason.trim(), 2000).replace('\n', "\n  ")
            )),
            Ok(m) => {
                if run.http2_asked && m.upstream.is_some_and(|u| u.http2_requests == 0) {
                    notes.push(format!(
                        "- **{label}**: ccr was given `\"http2PriorKnowledge\": true`, but the mock saw \
                         only HTTP/1.1 requests: this ccr does not know the key (see its log)"
                    ));
                }
                if let Some(e) = &m.warmup_error {
                    notes.push(format!("- **{label}**: the warm-up request failed: {e}"));
                }
                let groups = group_failures(&m.samples);
                let shown = groups.len().min(8);
                for (count, failure) in &groups[..shown] {
                    let status = failure
                        .status
                        .map_or("no response".to_string(), |s| format!("HTTP {s}"));
                    let body = if failure.excerpt.is_empty() {
                        String::new()
                    } else {
                        format!(": `{}`", failure.excerpt.replace('`', "'"))
                    };
                    let reason = if failure.reason == status {
                        String::new()
                    } else {
                        format!(", {}", failure.reason)
                    };
                    notes.push(format!("- **{label}**: {count} × {status}{reason}{body}"));
                }
                if groups.len() > shown {
                    let rest: usize = groups[shown..].iter().map(|(n, _)| n).sum();
                    notes.push(format!(
                        "- **{label}**: {rest} more failures in {} other groups",
                        groups.len() - shown
                    ));
                }
            }
        }
    }
    if notes.is_empty() {
        let _ = writeln!(w, "No stream failed.");
        return;
    }
    let _ = writeln!(
        w,
        "Failures, grouped by status and message (ids and numbers aside), each with its first \
         example's first 200 bytes of body; and notes:"
    );
    let _ = writeln!(w);
    for note in notes {
        let _ = writeln!(w, "{note}");
    }
}
