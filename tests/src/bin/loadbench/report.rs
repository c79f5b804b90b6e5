//! The markdown report: one function per section.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::*;

/// Milliseconds with a precision that suits their magnitude.
pub(crate) fn ms(value: Option<f64>) -> String {
    match value {
        None => "–".into(),
        Some(v) if v.abs() < 10.0 => format!("{v:.3}"),
        Some(v) if v.abs() < 100.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.1}"),
    }
}

pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

pub(crate) fn rate(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// `a / b` as `N×`, or `n/a` when it means nothing.
pub(crate) fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 && b > 0.0 => {
            let r = a / b;
            if r >= 100.0 {
                format!("{r:.0}×")
            } else if r >= 10.0 {
                format!("{r:.1}×")
            } else {
                format!("{r:.2}×")
            }
        }
        _ => "n/a".into(),
    }
}

/// The headline figures of one system, `None` where not measured.
pub(crate) struct Headline {
    pub(crate) rps_low: Option<f64>,
    pub(crate) rps_high: Option<f64>,
    pub(crate) p50: Option<f64>,
    pub(crate) p99: Option<f64>,
    pub(crate) added_p50: Option<f64>,
    pub(crate) added_p99: Option<f64>,
    pub(crate) ttfb_p50: Option<f64>,
    pub(crate) rss_idle_mib: Option<f64>,
    pub(crate) rss_load_mib: Option<f64>,
    pub(crate) cpu_ms_per_request: Option<f64>,
    pub(crate) errors: usize,
}

pub(crate) fn headline(run: &SystemRun, floor: Option<&SystemRun>) -> Headline {
    let first = run.phases.first();
    let last = run.phases.last();
    let lat = first.map(|p| p.latencies(None)).unwrap_or_default();
    let floor_lat = floor
        .and_then(|f| f.phases.first())
        .map(|p| p.latencies(None));
    let p50 = percentile_ms(&lat, 50.0);
    let p99 = percentile_ms(&lat, 99.0);
    let added = |p: f64, own: Option<f64>| {
        let floor = percentile_ms(floor_lat.as_deref()?, p)?;
        Some(own? - floor)
    };
    let requests: usize = run.phases.iter().map(Phase::ok_count).sum();
    let cpu: f64 = run.phases.iter().map(|p| p.cpu_ms).sum();
    Headline {
        rps_low: first.map(Phase::throughput),
        rps_high: (run.phases.len() > 1)
            .then(|| last.map(Phase::throughput))
            .flatten(),
        p50,
        p99,
        added_p50: added(50.0, p50),
        added_p99: added(99.0, p99),
        ttfb_p50: first.and_then(|p| percentile_ms(&p.ttfbs(), 50.0)),
        rss_idle_mib: Some(run.rss_idle_kib as f64 / 1024.0),
        rss_load_mib: Some(run.rss_peak_kib as f64 / 1024.0),
        cpu_ms_per_request: (requests > 0).then(|| cpu / requests as f64),
        errors: run.phases.iter().map(Phase::errors).sum(),
    }
}

/// The whole markdown report: setup, one row per system, ccr against claude-code-router,
/// latency by request kind, per-phase details, then errors and skips.
pub(crate) fn report(
    args: &Args,
    env: &Environment,
    kinds: &[RequestKind],
    systems: &[SystemReport],
) -> String {
    let mut out = String::new();
    write_setup(&mut out, args, env, kinds);
    let headlines = write_systems(&mut out, args, systems);
    if let (Some(Some(ours)), Some(Some(theirs))) = (headlines.get(1), headlines.get(2)) {
        write_against_claude_code_router(&mut out, args, ours, theirs);
    }
    write_latency_by_kind(&mut out, args, kinds, systems);
    write_phases(&mut out, systems);
    write_notes(&mut out, kinds, systems);
    out
}

/// The lowest and highest concurrency of the run.
fn concurrency_bounds(args: &Args) -> (usize, usize) {
    let low = args.concurrency[0];
    let high = *args.concurrency.last().expect("non-empty");
    (low, high)
}

/// The run's date, machine, versions, upstream, load generator and request mix.
fn write_setup(w: &mut String, args: &Args, env: &Environment, kinds: &[RequestKind]) {
    let _ = writeln!(w, "Run: {} on {}, {}.", env.date, env.machine, env.os);
    let _ = writeln!(w);
    let _ = writeln!(w, "- machine: {}", env.load);
    let _ = writeln!(w, "- ccr: {}, bundled `openai` provider plugin", env.ccr);
    let _ = writeln!(w, "- claude-code-router: {}", env.claude_code_router);
    let _ = writeln!(
        w,
        "- upstream: `mock-upstream --static --threads {}` (same process for every system); \
         load generator: `loadbench` (HTTP/1.1 keep-alive, {} threads)",
        args.mock_threads, args.client_threads
    );
    let total: usize = kinds.iter().map(|k| k.anthropic.len()).sum();
    let mix: Vec<String> = kinds
        .iter()
        .map(|k| {
            format!(
                "{} ({} B, {} tools, {} messages; upstream body {} B)",
                k.label,
                k.anthropic.len(),
                k.tools,
                k.messages,
                k.openai.len()
            )
        })
        .collect();
    let _ = writeln!(
        w,
        "- request mix, round-robin (mean {} KB; every request numbered in its last tool result, so none repeats): {}",
        total / kinds.len() / 1000,
        mix.join("; ")
    );
    let _ = writeln!(
        w,
        "- each system: {} s warm-up, then {} s at each concurrency ({})",
        args.warmup.as_secs_f64(),
        args.duration.as_secs_f64(),
        args.concurrency
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(w);
}

/// One row per system (the first is the floor) and the note on what the columns mean;
/// returns each system's headline figures (`None` for a skipped system).
fn write_systems(w: &mut String, args: &Args, systems: &[SystemReport]) -> Vec<Option<Headline>> {
    let (low, high) = concurrency_bounds(args);
    let floor = systems.first().and_then(|s| s.outcome.as_ref().ok());
    let _ = writeln!(
        w,
        "| system | req/s c={low} | req/s c={high} | p50 ms c={low} | p99 ms c={low} | added p50 ms | added p99 ms | stream TTFB p50 ms | RSS idle MB | RSS under load MB | CPU ms/request | errors |"
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    let mut headlines = Vec::new();
    for (i, system) in systems.iter().enumerate() {
        match &system.outcome {
            Ok(run) => {
                let h = headline(run, if i == 0 { None } else { floor });
                let added = |v: Option<f64>| if i == 0 { "0 (floor)".into() } else { ms(v) };
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    system.name,
                    h.rps_low.map_or("–".into(), rate),
                    h.rps_high.map_or("–".into(), rate),
                    ms(h.p50),
                    ms(h.p99),
                    added(h.added_p50),
                    added(h.added_p99),
                    ms(h.ttfb_p50),
                    mib(run.rss_idle_kib),
                    mib(run.rss_peak_kib),
                    ms(h.cpu_ms_per_request),
                    h.errors
                );
                headlines.push(Some(h));
            }
            Err(reason) => {
                let _ = writeln!(
                    w,
                    "| {} | skipped: {} |{}",
                    system.name,
                    first_line(reason),
                    " – |".repeat(10)
                );
                headlines.push(None);
            }
        }
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Added latency is the system's percentile minus the direct upstream's, same mix. \
         For the direct row, RSS and CPU are the upstream mock's own. CPU is user + system \
         time of the process (all threads, any children) over all measured requests."
    );
    let _ = writeln!(w);
    headlines
}

/// Which way a figure is better: the word said when ccr's is the better one.
#[derive(Clone, Copy)]
enum Better {
    /// Higher is better ("more").
    More,
    /// Lower is better, said "lower" (latencies).
    Lower,
    /// Lower is better, said "less" (memory, CPU).
    Less,
}

/// One figure compared: its name, ccr's and claude-code-router's value, how to print a value,
/// and which way is better.
struct Comparison {
    figure: String,
    ours: Option<f64>,
    theirs: Option<f64>,
    format: fn(f64) -> String,
    better: Better,
}

fn comparisons(args: &Args, ours: &Headline, theirs: &Headline) -> Vec<Comparison> {
    let (low, high) = concurrency_bounds(args);
    let msf: fn(f64) -> String = |v| ms(Some(v));
    let mbf: fn(f64) -> String = |v| format!("{v:.1}");
    let row = |figure: String, pick: fn(&Headline) -> Option<f64>, format, better| Comparison {
        figure,
        ours: pick(ours),
        theirs: pick(theirs),
        format,
        better,
    };
    vec![
        row(
            format!("throughput c={low} (req/s)"),
            |h| h.rps_low,
            rate,
            Better::More,
        ),
        row(
            format!("throughput c={high} (req/s)"),
            |h| h.rps_high,
            rate,
            Better::More,
        ),
        row(
            format!("latency p50 c={low} (ms)"),
            |h| h.p50,
            msf,
            Better::Lower,
        ),
        row(
            format!("latency p99 c={low} (ms)"),
            |h| h.p99,
            msf,
            Better::Lower,
        ),
        row(
            "added latency p50 (ms)".into(),
            |h| h.added_p50,
            msf,
            Better::Lower,
        ),
        row(
            "added latency p99 (ms)".into(),
            |h| h.added_p99,
            msf,
            Better::Lower,
        ),
        row(
            "stream TTFB p50 (ms)".into(),
            |h| h.ttfb_p50,
            msf,
            Better::Lower,
        ),
        row(
            "RSS idle (MB)".into(),
            |h| h.rss_idle_mib,
            mbf,
            Better::Less,
        ),
        row(
            "RSS under load (MB)".into(),
            |h| h.rss_load_mib,
            mbf,
            Better::Less,
        ),
        row(
            "CPU per request (ms)".into(),
            |h| h.cpu_ms_per_request,
            msf,
            Better::Less,
        ),
    ]
}

/// "how many times better", turned round when ccr is the worse one ("1.5× more",
/// "2.0× higher").
fn verdict(comparison: &Comparison) -> String {
    let (word, opposite) = match comparison.better {
        Better::More => ("more", "less"),
        Better::Lower => ("lower", "higher"),
        Better::Less => ("less", "more"),
    };
    let (a, b) = (comparison.ours, comparison.theirs);
    let (better, worse) = match comparison.better {
        Better::More => (a, b),
        Better::Lower | Better::Less => (b, a),
    };
    match (better, worse) {
        (Some(x), Some(y)) if x < y => format!("{} {opposite}", ratio(worse, better)),
        _ => format!("{} {word}", ratio(better, worse)),
    }
}

/// The ratio table of ccr against claude-code-router.
fn write_against_claude_code_router(
    w: &mut String,
    args: &Args,
    ours: &Headline,
    theirs: &Headline,
) {
    let _ = writeln!(w, "**ccr against claude-code-router**:");
    let _ = writeln!(w);
    let _ = writeln!(w, "| figure | ccr | claude-code-router | ccr is |");
    let _ = writeln!(w, "|---|--:|--:|--:|");
    for comparison in comparisons(args, ours, theirs) {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} |",
            comparison.figure,
            comparison.ours.map_or("–".into(), comparison.format),
            comparison.theirs.map_or("–".into(), comparison.format),
            verdict(&comparison),
        );
    }
    let _ = writeln!(w);
}

/// p50 / p99 per request kind at the first concurrency, and what each system adds to the
/// floor's.
fn write_latency_by_kind(
    w: &mut String,
    args: &Args,
    kinds: &[RequestKind],
    systems: &[SystemReport],
) {
    let (low, _) = concurrency_bounds(args);
    let floor = systems.first().and_then(|s| s.outcome.as_ref().ok());
    let _ = writeln!(w, "Latency by request kind, concurrency {low}, p50 / p99 ms (added: minus the direct upstream):");
    let _ = writeln!(w);
    let mut head = String::from("| request |");
    let mut rule = String::from("|---|");
    for (i, system) in systems.iter().enumerate() {
        if system.outcome.is_err() {
            continue;
        }
        head.push_str(&format!(" {} |", system.name));
        rule.push_str("--:|");
        if i > 0 {
            head.push_str(&format!(" {} added |", system.name));
            rule.push_str("--:|");
        }
    }
    let _ = writeln!(w, "{head}");
    let _ = writeln!(w, "{rule}");
    for (k, kind) in kinds.iter().enumerate() {
        let mut row = format!("| {} |", kind.label);
        let floor_lat = floor
            .and_then(|f| f.phases.first())
            .map(|p| p.latencies(Some(k)));
        for (i, system) in systems.iter().enumerate() {
            let Ok(run) = &system.outcome else { continue };
            let lat = run
                .phases
                .first()
                .map(|p| p.latencies(Some(k)))
                .unwrap_or_default();
            let (p50, p99) = (percentile_ms(&lat, 50.0), percentile_ms(&lat, 99.0));
            row.push_str(&format!(" {} / {} |", ms(p50), ms(p99)));
            if i > 0 {
                let f = |p| percentile_ms(floor_lat.as_deref()?, p);
                let sub = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
                row.push_str(&format!(
                    " {} / {} |",
                    ms(sub(p50, f(50.0))),
                    ms(sub(p99, f(99.0)))
                ));
            }
        }
        let _ = writeln!(w, "{row}");
    }
    let _ = writeln!(w);
}

/// One row per system and concurrency: throughput, percentiles, CPU of every process, RSS.
fn write_phases(w: &mut String, systems: &[SystemReport]) {
    let _ = writeln!(
        w,
        "Per phase (CPU % is of one core; the upstream is the mock, the client is loadbench):"
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "| system | concurrency | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | stream TTFB p50 ms | system CPU % | upstream CPU % | client CPU % | RSS peak MB | errors |"
    );
    let _ = writeln!(
        w,
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    for system in systems {
        let Ok(run) = &system.outcome else { continue };
        for phase in &run.phases {
            let lat = phase.latencies(None);
            let pct = |cpu: f64| format!("{:.0}", cpu / phase.elapsed.as_secs_f64() / 10.0);
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                system.name,
                phase.concurrency,
                phase.ok_count(),
                rate(phase.throughput()),
                ms(percentile_ms(&lat, 50.0)),
                ms(percentile_ms(&lat, 90.0)),
                ms(percentile_ms(&lat, 99.0)),
                ms(percentile_ms(&lat, 100.0)),
                ms(percentile_ms(&phase.ttfbs(), 50.0)),
                pct(phase.cpu_ms),
                pct(phase.upstream_cpu_ms),
                pct(phase.client_cpu_ms),
                mib(phase.rss_peak_kib),
                phase.errors()
            );
        }
    }
}

/// Skipped systems with their reason, and up to three distinct errors per system.
fn write_notes(w: &mut String, kinds: &[RequestKind], systems: &[SystemReport]) {
    let mut notes = Vec::new();
    for system in systems {
        match &system.outcome {
            Err(reason) => notes.push(format!(
                "- {} skipped: {}",
                system.name,
                tail(reason.trim(), 2000)
            )),
            Ok(run) => {
                let mut seen: Vec<(usize, &str)> = Vec::new();
                for sample in run.phases.iter().flat_map(|p| &p.samples) {
                    if let Some(error) = &sample.error {
                        if !seen.iter().any(|(_, e)| *e == error.as_str()) && seen.len() < 3 {
                            seen.push((sample.kind, error));
                        }
                    }
                }
                for (kind, error) in seen {
                    notes.push(format!(
                        "- {} error ({}): {error}",
                        system.name, kinds[kind].label
                    ));
                }
            }
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(w);
        for note in notes {
            // Keep long child logs out of the table area but readable.
            let _ = writeln!(w, "{}", note.replace('\n', "\n  "));
        }
    }
}

pub(crate) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

/// The first line and the last `max` bytes of a long text (child logs end with the reason).
pub(crate) fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!(
        "{}
[…]
{}",
        first_line(text),
        &text[start..]
    )
}

/// Replaces the text between the loadbench markers of a markdown file.
pub(crate) fn update_markdown(path: &Path, section: &str) -> Result<()> {
    update_markdown_section(path, "loadbench", section)
}

/// Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` of a markdown
/// file with `section`.
pub(crate) fn update_markdown_section(path: &Path, name: &str, section: &str) -> Result<()> {
    let begin_marker = format!("<!-- {name}:begin -->");
    let end_marker = format!("<!-- {name}:end -->");
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let updated = replace_section(&text, &begin_marker, &end_marker, section)
        .with_context(|| path.display().to_string())?;
    fs::write(path, updated).with_context(|| format!("writing {}", path.display()))
}

/// Where `marker` stands alone on a line of `text` (a mention inside prose does not count).
fn marker_line(text: &str, marker: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == marker {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// `text` with the lines between the `begin_marker` and `end_marker` lines replaced by
/// `section`.
fn replace_section(
    text: &str,
    begin_marker: &str,
    end_marker: &str,
    section: &str,
) -> Result<String> {
    let (Some(begin), Some(end)) = (
        marker_line(text, begin_marker),
        marker_line(text, end_marker),
    ) else {
        bail!("no {begin_marker} … {end_marker} section (each marker alone on its line)");
    };
    if end < begin {
        bail!("{end_marker} comes before {begin_marker}");
    }
    Ok(format!(
        "{}{begin_marker}\n{}\n{}",
        &text[..begin],
        section.trim_end(),
        &text[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGIN: &str = "<!-- s:begin -->";
    const END: &str = "<!-- s:end -->";

    #[test]
    fn only_markers_alone_on_their_line_delimit_the_section() {
        let text = "# B\n\nbetween the `<!-- s:begin -->` and `<!-- s:end -->` markers\n\
                    <!-- s:begin -->\nold\n<!-- s:end -->\nafter\n";
        let updated = replace_section(text, BEGIN, END, "new\n").unwrap();
        assert_eq!(
            updated,
            "# B\n\nbetween the `<!-- s:begin -->` and `<!-- s:end -->` markers\n\
             <!-- s:begin -->\nnew\n<!-- s:end -->\nafter\n"
        );
        assert!(replace_section("no markers", BEGIN, END, "x").is_err());
        let reversed = "<!-- s:end -->\n<!-- s:begin -->\n";
        assert!(replace_section(reversed, BEGIN, END, "x").is_err());
    }
}
