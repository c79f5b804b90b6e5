//! The load benchmark's harness runs (tiny setting, claude-code-router skipped). Its figures
//! are not checked: benchmarks are never part of the suite's pass/fail, only the harness is.

use std::process::Command;

use ccr_tests::proxy::ccr_binary;

#[test]
fn loadbench_runs_on_a_tiny_setting_and_prints_its_table() {
    let ccr = ccr_binary();
    assert!(
        ccr.exists(),
        "ccr binary not found at {}: build it first: cargo build -p ccr (or set CCR_BIN)",
        ccr.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.md");
    let markdown = dir.path().join("BENCHMARKS.md");
    std::fs::write(
        &markdown,
        "# Benchmarks\n\nbefore\n<!-- loadbench:begin -->\nold results\n<!-- loadbench:end -->\nafter\n",
    )
    .unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_loadbench"))
        .args(["--duration-ms", "300", "--warmup-ms", "100"])
        .args(["--concurrency", "1,4", "--sizes", "20000", "--skip-ccr"])
        .arg("--ccr-bin")
        .arg(&ccr)
        .arg("--mock-bin")
        .arg(env!("CARGO_BIN_EXE_mock-upstream"))
        .arg("--out")
        .arg(&out)
        .arg("--markdown")
        .arg(&markdown)
        .output()
        .expect("running loadbench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "loadbench failed: {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );

    // The machine header, then one row per system.
    assert!(stdout.contains("CPUs ("), "{stdout}");
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no {name} row in:\n{stdout}"))
            .to_string()
    };
    let errors = |row: &str| {
        row.trim_end_matches(['|', ' '])
            .rsplit('|')
            .next()
            .unwrap()
            .trim()
            .to_string()
    };
    // Every request of the floor and of ccr came back complete and well-formed.
    assert_eq!(errors(&row("direct upstream (floor)")), "0", "{stdout}");
    assert_eq!(errors(&row("ccr")), "0", "{stdout}\n{stderr}");
    assert!(row("claude-code-router").contains("skipped"), "{stdout}");
    // Both request kinds (20 KB JSON and stream) and both concurrencies were measured.
    assert!(
        stdout.contains("| 20 KB JSON |") && stdout.contains("| 20 KB stream |"),
        "{stdout}"
    );
    assert!(stdout.contains("| ccr | 4 |"), "{stdout}");

    assert_eq!(std::fs::read_to_string(&out).unwrap(), stdout);
    let updated = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        updated.starts_with("# Benchmarks\n\nbefore\n<!-- loadbench:begin -->\n"),
        "{updated}"
    );
    assert!(
        updated.ends_with("<!-- loadbench:end -->\nafter\n"),
        "{updated}"
    );
    assert!(
        !updated.contains("old results") && updated.contains("| ccr |"),
        "{updated}"
    );
}

#[test]
fn loadbench_streams_runs_on_a_tiny_setting() {
    let ccr = ccr_binary();
    assert!(ccr.exists(), "ccr binary not found at {}", ccr.display());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("streams.md");
    let output = Command::new(env!("CARGO_BIN_EXE_loadbench"))
        .args([
            "streams",
            "--streams",
            "20",
            "--events",
            "3",
            "--interval-ms",
            "20",
        ])
        .args(["--skip-ccr", "--transformer", "none"])
        .arg("--ccr-bin")
        .arg(&ccr)
        .arg("--mock-bin")
        .arg(env!("CARGO_BIN_EXE_mock-upstream"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("running loadbench streams");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "loadbench streams failed: {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    // ccr's row: 20 streams, all completed, none failed.
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| ccr | 20 |"))
        .unwrap_or_else(|| panic!("no ccr row in:\n{stdout}\n{stderr}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!((cells[4], cells[5]), ("20", "0"), "{row}");
}

/// `loadbench soak` on a tiny setting: every request answered, every reload (config and
/// plugin) reported, the report written between its markers. The RSS and descriptor verdicts
/// are not checked: 250 requests are too few to settle anything.
#[test]
fn loadbench_soak_runs_on_a_tiny_setting_with_reloads() {
    let ccr = ccr_binary();
    assert!(
        ccr.exists(),
        "ccr binary not found at {}: build it first: cargo build -p ccr (or set CCR_BIN)",
        ccr.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let markdown = dir.path().join("BENCHMARKS.md");
    std::fs::write(
        &markdown,
        "# Benchmarks\n\n<!-- soak:begin -->\nold results\n<!-- soak:end -->\nafter\n",
    )
    .unwrap();
    let samples = dir.path().join("samples.csv");

    let output = Command::new(env!("CARGO_BIN_EXE_loadbench"))
        .arg("soak")
        .args(["--requests", "200", "--warmup-requests", "50"])
        .args(["--reload-every", "50", "--concurrency", "4"])
        .args(["--sizes", "20000", "--rest-ms", "500"])
        .arg("--ccr-bin")
        .arg(&ccr)
        .arg("--mock-bin")
        .arg(env!("CARGO_BIN_EXE_mock-upstream"))
        .arg("--samples")
        .arg(&samples)
        .arg("--markdown")
        .arg(&markdown)
        .output()
        .expect("running loadbench soak");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "loadbench soak failed: {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );

    // 200 + 50 requests, none failed; reloads at 100, 150, 200 of 250: config, plugin, config.
    assert!(
        stdout.contains("| 200 + 50 warm-up | 0 | 2 / 1 |"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("- requests: all 250 answered, complete and well-formed"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("- reloads: 3 of 3 done, 0 failed"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("add ") && stdout.contains("replace "),
        "{stdout}"
    );
    assert!(stdout.contains("| end: connections closed"), "{stdout}");
    assert!(std::fs::read_to_string(&samples)
        .unwrap()
        .starts_with("seconds,completed,rss_kib,fds\n"));
    let updated = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        updated.starts_with("# Benchmarks\n\n<!-- soak:begin -->\nRun: "),
        "{updated}"
    );
    assert!(updated.ends_with("<!-- soak:end -->\nafter\n"), "{updated}");
    assert!(!updated.contains("old results"), "{updated}");
}
