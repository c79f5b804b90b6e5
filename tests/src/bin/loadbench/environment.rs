//! What the report says about the run and the systems: one row per system, machine,
//! versions, load, date.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Result;
use ccr_tests::proxy::workspace_root;

use crate::*;

/// One row of the report.
pub(crate) struct SystemReport {
    pub(crate) name: String,
    pub(crate) outcome: Result<SystemRun, String>,
}

pub(crate) struct Environment {
    pub(crate) date: String,
    /// `/proc/loadavg` at the start and at the end: other work on the machine skews results.
    pub(crate) load: String,
    pub(crate) machine: String,
    pub(crate) os: String,
    pub(crate) ccr: String,
    pub(crate) claude_code_router: String,
}

/// What the report says about the machine and the versions; `claude_code_router` is its
/// script, `None` when it was not run.
pub(crate) fn environment(
    ccr_bin: &Path,
    claude_code_router: Option<&Path>,
    ccr_version: Option<&str>,
    load_before: &str,
) -> Environment {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let os = fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| "unknown OS".into());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_string())
        .unwrap_or_default();
    let root = workspace_root();
    let git = command_output(
        "git",
        &[
            "-C",
            &root.to_string_lossy(),
            "rev-parse",
            "--short=10",
            "HEAD",
        ],
    );
    let dirty = command_output(
        "git",
        &[
            "-C",
            &root.to_string_lossy(),
            "status",
            "--porcelain",
            "--untracked-files=no",
        ],
    )
    .is_some_and(|s| !s.is_empty());
    let profile = ccr_bin
        .parent()
        .and_then(|p| p.file_name())
        .map_or("?".into(), |p| p.to_string_lossy().into_owned());
    let ccr = format!(
        "{} (git {}{}, {profile} build)",
        ccr_version.unwrap_or("ccr"),
        git.unwrap_or_else(|| "?".into()),
        if dirty { " + uncommitted changes" } else { "" }
    );
    let claude_code_router = match claude_code_router {
        None => "not run (--skip-ccr)".to_string(),
        Some(script) => match claude_code_router_version(script) {
            Some(version) => format!(
                "@musistudio/claude-code-router {version} on Node.js {}",
                command_output("node", &["--version"]).unwrap_or_else(|| "?".into())
            ),
            None => "not installed".to_string(),
        },
    };
    Environment {
        date: utc_now(),
        load: format!(
            "load average (1/5/15 min) {load_before} at the start, {} at the end",
            load_average()
        ),
        machine: format!("{cores} CPUs ({model}), {mem_gib:.1} GiB RAM"),
        os: format!("{os}, Linux {kernel}"),
        ccr,
        claude_code_router,
    }
}

/// The 1, 5 and 15 minute load averages.
pub(crate) fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

pub(crate) fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}
