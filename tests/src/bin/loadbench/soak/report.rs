//! The markdown report of `loadbench soak`.

use std::fmt::Write as _;

use super::*;

/// KiB as MB with one decimal.
pub(crate) fn mb(kib: u64) -> String {
    mib(kib)
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "**PASS**"
    } else {
        "**FAIL**"
    }
}

/// The whole report: setup, the headline row, the verdicts, the timeline, errors.
pub(crate) fn report(args: &SoakArgs, env: &Environment, soak: &SoakRun) -> String {
    let mut out = String::new();
    write_setup(&mut out, args, env, soak);
    write_headline(&mut out, args, soak);
    write_verdicts(&mut out, args, soak);
    write_timeline(&mut out, args, soak);
    write_errors(&mut out, soak);
    out
}

fn write_setup(w: &mut String, args: &SoakArgs, env: &Environment, soak: &SoakRun) {
    let _ = writeln!(w, "Run: {} on {}, {}.", env.date, env.machine, env.os);
    let _ = writeln!(w);
    let _ = writeln!(w, "- machine: {}", env.load);
    let _ = writeln!(
        w,
        "- ccr: {}, bundled `openai` provider plugin, `maxtoken` in the provider's chain; \
         its own plugin folder and compiled-code cache (empty at the start)",
        env.ccr
    );
    let _ = writeln!(
        w,
        "- upstream: `mock-upstream --static --threads {}`; load generator: `loadbench soak` \
         (HTTP/1.1 keep-alive, {} closed-loop workers, {} threads)",
        args.mock_threads, args.concurrency, args.client_threads
    );
    let mix: Vec<String> = soak
        .kinds
        .iter()
        .map(|(label, bytes)| format!("{label} ({bytes} B)"))
        .collect();
    let _ = writeln!(
        w,
        "- request mix, round-robin (every request numbered in its last tool result, so none \
         repeats): {}",
        mix.join("; ")
    );
    let plugin = args
        .plugin
        .file_name()
        .map_or("?".into(), |n| n.to_string_lossy().into_owned());
    let versions = match args.plugin_versions {
        0 => "each version a new custom section: a new hash, compiled afresh".to_string(),
        n => format!(
            "{n} versions in a cycle, told apart by a custom section: after the first {n}, \
             ccr's compiled-code cache answers"
        ),
    };
    let _ = writeln!(
        w,
        "- {} warm-up requests, then {} with a hot reload every {} requests, {} in turn, each waited for until ccr reports it while the load goes on. Config: the file \
         replaced by rename, `PING_INTERVAL_MS`, `Router.background`, maxtoken's `max_tokens` \
         and a marker model changed (seen in `GET /v1/models`). Plugin: the previous folder \
         copy deleted, `{plugin}` dropped in, then replaced by a changed version ({versions}; seen \
         in `GET /health/detailed`)",
        args.warmup_requests,
        args.requests,
        args.reload_every,
        args.reload_kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        w,
        "- idle: 1 s after ccr answered `/health`, before any request; then one request of \
         each kind (first use: what ccr sets up then and keeps, sockets aside, joins the \
         descriptor baseline); settled RSS: median of the samples (every {} ms) over the last \
         fifth of the warm-up, load on; end: after the config and the plugin folder are put \
         back as they started, the client's connections closed and the mock stopped (closing \
         ccr's pooled upstream connections), {} s of rest",
        args.sample_every.as_millis(),
        args.rest.as_secs_f64()
    );
    let _ = writeln!(w);
}

fn write_headline(w: &mut String, args: &SoakArgs, soak: &SoakRun) {
    let (config, _) = soak.reload_counts(ReloadKind::Config);
    let (plugin, _) = soak.reload_counts(ReloadKind::Plugin);
    let _ = writeln!(
        w,
        "| requests | errors | reloads config / plugin | RSS idle MB | RSS settled MB | RSS max MB | RSS end MB | end vs settled | fds idle | + first use | fds max | fds end | verdict |"
    );
    let _ = writeln!(w, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    let run_done = soak.requests_done.saturating_sub(args.warmup_requests);
    let _ = writeln!(
        w,
        "| {run_done} + {} warm-up | {} | {config} / {plugin} | {} | {} | {} | {} | {:+.1} % | {} | {} | {} | {} | {} |",
        soak.requests_done.min(args.warmup_requests),
        soak.error_count(),
        mb(soak.idle.rss_kib),
        mb(soak.settled_rss_kib),
        mb(soak.rss_max_kib()),
        mb(soak.end.rss_kib),
        soak.end_vs_settled_pct(),
        soak.idle.fds,
        soak.first_use_fd_kinds.values().sum::<u64>(),
        soak.fds_max(),
        soak.end.fds,
        verdict(soak.pass(args.planned_reloads()))
    );
    let _ = writeln!(w);
}

fn write_verdicts(w: &mut String, args: &SoakArgs, soak: &SoakRun) {
    let planned = args.planned_reloads();
    let total = args.warmup_requests + args.requests;
    let secs = soak.elapsed.as_secs_f64();
    let errors = soak.error_count();
    let requests = if errors == 0 && soak.requests_done == total {
        format!(
            "all {} answered, complete and well-formed, in {secs:.1} s ({} req/s; p50 {} ms, p99 {} ms)",
            soak.requests_done,
            rate(soak.requests_done as f64 / secs.max(0.001)),
            ms(percentile_ms(&soak.latencies_us, 50.0)),
            ms(percentile_ms(&soak.latencies_us, 99.0)),
        )
    } else {
        format!(
            "{} of {total} sent, {errors} failed (below), in {secs:.1} s",
            soak.requests_done
        )
    };
    let _ = writeln!(
        w,
        "- requests: {requests}: {}",
        verdict(errors == 0 && soak.requests_done == total)
    );
    let run_reloads: Vec<&Reload> = soak
        .reloads
        .iter()
        .filter(|r| r.kind != ReloadKind::Restore)
        .collect();
    let failed = soak.reloads.iter().filter(|r| !r.ok()).count();
    let slowest = soak
        .reloads
        .iter()
        .flat_map(|r| r.steps.iter())
        .filter(|s| s.error.is_none())
        .max_by_key(|s| s.took);
    let steps = |what: &str| {
        soak.reloads
            .iter()
            .flat_map(|r| r.steps.iter())
            .filter(|s| s.what == what && s.error.is_none())
            .count()
    };
    let _ = writeln!(
        w,
        "- reloads: {} of {planned} done, {failed} failed (config files {}, plugin files added \
         {}, replaced {}, removed {}, the restore included){}: {}",
        run_reloads.len(),
        steps("config"),
        steps("add"),
        steps("replace"),
        steps("remove"),
        slowest.map_or(String::new(), |s| format!(
            "; the slowest reported after {} ms ({})",
            s.took.as_millis(),
            s.what
        )),
        verdict(soak.reloads_pass(planned))
    );
    let _ = writeln!(
        w,
        "- RSS: {} MB at the end, {:+.1} % against the settled {} MB (median of {} sample{}); \
         the most under load {} MB; at most {:.0} % above settled allowed: {}",
        mb(soak.end.rss_kib),
        soak.end_vs_settled_pct(),
        mb(soak.settled_rss_kib),
        soak.settled_samples,
        if soak.settled_samples == 1 { "" } else { "s" },
        mb(soak.rss_max_kib()),
        RSS_TOLERANCE * 100.0,
        verdict(soak.rss_pass())
    );
    let first_use: u64 = soak.first_use_fd_kinds.values().sum();
    let first_use = if first_use == 0 {
        String::new()
    } else {
        let kinds: Vec<String> = soak
            .first_use_fd_kinds
            .iter()
            .map(|(k, n)| format!("{n} × `{k}`"))
            .collect();
        format!(
            " + {first_use} that ccr opens on its first requests and keeps ({}), {} in all",
            kinds.join(", "),
            soak.fds_baseline_total()
        )
    };
    let excess = fd_excess(&soak.fd_baseline(), &soak.end_fd_kinds);
    let fds = if !soak.ccr_alive {
        "ccr was not running any more at the end".to_string()
    } else if excess.is_empty() {
        format!(
            "{} at the end (at most {} under load); {} idle before the first request{first_use}: \
             back to idle",
            soak.end.fds,
            soak.fds_max(),
            soak.idle.fds,
        )
    } else {
        let kinds: Vec<String> = excess.iter().map(|(k, n)| format!("{n} × `{k}`")).collect();
        format!(
            "{} at the end; {} idle before the first request{first_use}; more at the end: {}",
            soak.end.fds,
            soak.idle.fds,
            kinds.join(", ")
        )
    };
    let _ = writeln!(w, "- descriptors: {fds}: {}", verdict(soak.fds_pass()));
    let held = soak.held_back;
    if held > 0 {
        let _ = writeln!(
            w,
            "- the load waited for a reload to be reported before {held} request{} ({:.1} s \
             summed over the workers): a reload took longer than {} requests",
            if held == 1 { "" } else { "s" },
            soak.held_back_us as f64 / 1e6,
            args.reload_every
        );
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Verdict: {} (no leak: every request complete, every reload reported, the end RSS \
         within {:.0} % of the settled one, the descriptors back to idle).",
        verdict(soak.pass(planned)),
        RSS_TOLERANCE * 100.0
    );
    let _ = writeln!(w);
}

/// The steps of a reload: `remove 40 ms, add 310 ms, replace 290 ms`.
fn steps_label(reload: &Reload) -> String {
    reload
        .steps
        .iter()
        .map(|s| match &s.error {
            None => format!("{} {} ms", s.what, s.took.as_millis()),
            Some(e) => format!("{} **failed**: {}", s.what, first_line(e)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_timeline(w: &mut String, args: &SoakArgs, soak: &SoakRun) {
    let _ = writeln!(
        w,
        "Timeline (ccr's RSS and open descriptors at each point; \"max since\" is the largest \
         RSS sampled since the previous row):"
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "| point | answered | s | RSS MB | RSS max since MB | fds | reported after |"
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|---|");
    let row = |w: &mut String, point: &str, r: &Reading, max: Option<u64>, note: &str| {
        let _ = writeln!(
            w,
            "| {point} | {} | {:.1} | {} | {} | {} | {note} |",
            r.completed,
            r.at.as_secs_f64(),
            mb(r.rss_kib),
            max.map_or("–".into(), mb),
            r.fds
        );
    };
    let _ = writeln!(
        w,
        "| idle, before any request | 0 | – | {} | – | {} | |",
        mb(soak.idle.rss_kib),
        soak.idle.fds
    );
    let warm = args.warmup_requests;
    let settled_at = soak
        .samples
        .iter()
        .rfind(|s| s.completed < warm.max(1))
        .copied();
    if let Some(at) = settled_at {
        let _ = writeln!(
            w,
            "| end of warm-up: settled (median) | {} | {:.1} | {} | {} | {} | |",
            at.completed,
            at.at.as_secs_f64(),
            mb(soak.settled_rss_kib),
            mb(soak
                .samples
                .iter()
                .filter(|s| s.completed < warm.max(1))
                .map(|s| s.rss_kib)
                .max()
                .unwrap_or(0)),
            at.fds
        );
    }
    for (i, reload) in soak.reloads.iter().enumerate() {
        if reload.kind == ReloadKind::Restore {
            row(w, "last answer", &soak.last_answer, None, "");
        }
        let point = match reload.kind {
            ReloadKind::Restore => "restore (config, plugin folder)".to_string(),
            kind => format!(
                "reload {}: {} (at request {})",
                i + 1,
                kind.name(),
                reload.at_request
            ),
        };
        row(
            w,
            &point,
            &reload.after,
            reload.rss_max_since_kib,
            &steps_label(reload),
        );
    }
    if soak
        .reloads
        .last()
        .is_none_or(|r| r.kind != ReloadKind::Restore)
    {
        row(w, "last answer", &soak.last_answer, None, "");
    }
    let end = format!(
        "end: connections closed, mock stopped, {} s of rest",
        args.rest.as_secs_f64()
    );
    row(w, &end, &soak.end, None, "");
    let _ = writeln!(w);
}

fn write_errors(w: &mut String, soak: &SoakRun) {
    if soak.errors.is_empty() && soak.logs.is_none() {
        let _ = writeln!(w, "No request failed.");
        return;
    }
    if !soak.errors.is_empty() {
        let _ = writeln!(w, "Errors, grouped (numbers masked):");
        let _ = writeln!(w);
        for group in soak.errors.iter().take(10) {
            let _ = writeln!(
                w,
                "- {} × ({}): {}",
                group.count,
                group.kinds.join(", "),
                group.example.replace('\n', " ")
            );
        }
        if soak.errors.len() > 10 {
            let _ = writeln!(w, "- … and {} more kinds", soak.errors.len() - 10);
        }
        let _ = writeln!(w);
    }
    if let Some(logs) = &soak.logs {
        let _ = writeln!(w, "ccr's stderr, the end:");
        let _ = writeln!(w);
        let _ = writeln!(w, "```text\n{}\n```", logs.trim_end());
    }
}
