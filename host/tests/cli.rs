//! The `ccr` command line, run as a user would: the real binary with a throwaway `$HOME`.
//!
//! Compiled plugin code is shared between tests through a cache folder in the target dir,
//! so only the first run of the service compiles the bundled plugins.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// A throwaway home with `~/.claude-code-router/cache` shared between tests.
struct Home {
    dir: TempDir,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ccr_home = dir.path().join(".claude-code-router");
        std::fs::create_dir_all(&ccr_home).unwrap();
        let shared = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ccr-cli-plugin-cache");
        std::fs::create_dir_all(&shared).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&shared, ccr_home.join("cache")).unwrap();
        Home { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn ccr_home(&self) -> PathBuf {
        self.path().join(".claude-code-router")
    }

    fn write_config(&self, json: &str) -> PathBuf {
        let path = self.ccr_home().join("config.json");
        std::fs::write(&path, json).unwrap();
        path
    }

    /// `ccr` with this home and none of the caller's ccr-related environment.
    fn ccr(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccr"));
        cmd.env("HOME", self.path())
            .current_dir(self.path())
            .env_remove("CCR_CONFIG")
            .env_remove("SERVICE_PORT")
            .env_remove("RUST_LOG")
            .env_remove("CLAUDE_PATH")
            .env_remove("CCR_TOOLS_DIR");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.ccr().args(args).output().unwrap()
    }
}

/// Stops a service started by a test even when the test fails.
struct StopOnDrop<'a>(&'a Home);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["stop"]);
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure is exactly one `error: …` line and exit status 1, never a panic.
fn assert_one_line_error(o: &Output, must_contain: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    for needle in must_contain {
        assert!(err.contains(needle), "{needle:?} not in {err:?}");
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn version_flags() {
    let home = Home::new();
    for args in [&["-v"][..], &["--version"], &["version"]] {
        let o = home.run(args);
        assert!(o.status.success());
        assert_eq!(
            stdout(&o).trim(),
            format!("ccr {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn config_path_names_the_source() {
    let home = Home::new();
    let o = home.run(&["config", "path"]);
    assert!(o.status.success());
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        home.ccr_home().join("config.json").display().to_string()
    );
    let second = lines.next().unwrap();
    assert!(
        second.contains("default") && second.contains("embedded default"),
        "{out}"
    );

    let o = home.run(&["config", "path", "--config", "/nowhere/c.json"]);
    assert!(stdout(&o).starts_with("/nowhere/c.json\nsource: --config (missing"));

    let o = home
        .ccr()
        .args(["config", "path"])
        .env("CCR_CONFIG", "/env/c.json")
        .output()
        .unwrap();
    assert!(stdout(&o).starts_with("/env/c.json\nsource: CCR_CONFIG"));
}

const CONFIG: &str = r#"{
  // JSON5 with a comment and $VAR interpolation
  "APIKEY": "sk-top-secret",
  "PORT": 45678,
  "Providers": [
    { "name": "deepseek", "api_base_url": "https://api.deepseek.com/chat/completions",
      "api_key": "$CLI_TEST_KEY", "models": ["deepseek-chat"] },
  ],
  "Router": { "default": "deepseek,deepseek-chat" },
}"#;

#[test]
fn config_show_redacts_secrets() {
    let home = Home::new();
    home.write_config(CONFIG);
    let o = home
        .ccr()
        .args(["config", "show"])
        .env("CLI_TEST_KEY", "sk-from-env")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        !out.contains("sk-top-secret") && !out.contains("sk-from-env"),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["APIKEY"], "***");
    assert_eq!(json["Providers"][0]["api_key"], "***");
    assert_eq!(json["PORT"], 45678);
    // `config` alone means `config show`.
    let o = home.run(&["config"]);
    assert!(o.status.success());
    assert!(!stdout(&o).contains("sk-top-secret"));
}

#[test]
fn config_validate_reports_ok_and_errors() {
    let home = Home::new();
    home.write_config(CONFIG);
    let o = home.run(&["config", "validate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("ok: "), "{}", stdout(&o));

    let bad = home.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"Providers":[{"name":"a","api_base_url":"http://x/v1","api_key":"k","models":["m"]}],
            "Router":{"default":"b,m"}}"#,
    )
    .unwrap();
    let o = home.run(&["config", "validate", "--config", bad.to_str().unwrap()]);
    assert_one_line_error(
        &o,
        &[bad.to_str().unwrap(), "Router.default", "unknown provider"],
    );

    let syntax = home.path().join("syntax.json");
    std::fs::write(&syntax, "{\n  \"PORT\": 1,\n  \"HOST\": \n}").unwrap();
    let o = home.run(&["config", "validate", "--config", syntax.to_str().unwrap()]);
    assert_one_line_error(&o, &[&format!("{}:", syntax.display()), "invalid JSON5"]);

    let o = home.run(&["config", "show", "--config", "/nowhere/c.json"]);
    assert_one_line_error(&o, &["/nowhere/c.json", "does not exist"]);
}

#[test]
fn plugin_check_rejects_anything_that_is_not_a_plugin() {
    let home = Home::new();
    let files = [
        (
            "garbage.wasm",
            b"this is not wasm at all, just text".to_vec(),
        ),
        ("core.wasm", b"\0asm\x01\0\0\0".to_vec()),
        ("empty.wasm", Vec::new()),
        ("truncated.wasm", b"\0asm\x0d\0\x01\0\x01".to_vec()),
    ];
    for (name, bytes) in &files {
        let path = home.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let o = home.run(&["plugin", "check", path.to_str().unwrap()]);
        assert_one_line_error(&o, &[&format!("error: {}: ", path.display())]);
    }
    let o = home.run(&["plugin", "check", "core.wasm"]);
    assert_one_line_error(&o, &["core.wasm: ", "core WebAssembly module"]);

    let o = home.run(&["plugin", "check", "missing.wasm"]);
    assert_one_line_error(&o, &["missing.wasm: no such file"]);

    std::fs::create_dir(home.path().join("dir.wasm")).unwrap();
    let o = home.run(&["plugin", "check", "dir.wasm"]);
    assert_one_line_error(&o, &["dir.wasm: is a directory"]);
}

#[test]
fn plugin_check_describes_a_valid_component() {
    // The bundled OpenAI plugin, as built by host/build.rs (absent in a
    // CCR_NO_BUNDLED_PLUGINS build).
    let wasm = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm-plugins/wasm32-wasip2/plugin/ccr_plugin_openai.wasm");
    if !wasm.is_file() {
        eprintln!("skipped: {} is not built", wasm.display());
        return;
    }
    let home = Home::new();
    let o = home.run(&["plugin", "check", wasm.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "name:        openai",
        "kind:        provider",
        "contract:    ccr:plugin@",
        "sha256:",
    ] {
        assert!(out.contains(needle), "{needle:?} not in {out}");
    }
}

#[test]
fn status_when_not_running() {
    let home = Home::new();
    let o = home.run(&["status"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("not running"));

    // A pid file whose process is gone is stale: reported and removed.
    let pid_file = home.ccr_home().join(".claude-code-router.pid");
    std::fs::write(&pid_file, "999999999\n").unwrap();
    let o = home.run(&["status"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(!pid_file.exists());

    let o = home.run(&["stop"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("not running"));

    // `ccr health` reads the same service state as `ccr status`, whatever the config says
    // (a broken or missing one must not send it to another HOME's service on port 3456).
    let o = home.run(&["health", "--config", "/nowhere/c.json"]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("not running"), "{}", stdout(&o));
    home.write_config("{ broken");
    let o = home.run(&["health"]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn claude_code_router_only_commands_say_what_to_use_instead() {
    let home = Home::new();
    for (command, hint) in [
        ("ui", "config.json"),
        ("model", "/model provider,model"),
        ("statusline", "ccr status"),
        ("preset", "config.json"),
        ("install", "Providers"),
    ] {
        let o = home.run(&[command]);
        assert_eq!(o.status.code(), Some(2), "{command}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.starts_with(&format!("error: `ccr {command}`")), "{err}");
        assert!(err.contains(hint), "{command}: {err}");
        assert!(!err.contains("unrecognized subcommand"), "{err}");
    }
}

#[test]
fn config_validate_warns_about_chain_entries_no_plugin_provides() {
    let home = Home::new();
    // CCR's Gemini provider, as its README writes it: no `gemini` plugin here (yet).
    home.write_config(
        r#"{"Providers": [{"name": "gemini",
            "api_base_url": "https://generativelanguage.googleapis.com/v1beta/models/",
            "api_key": "k", "models": ["gemini-2.5-pro"],
            "transformer": {"use": ["gemini"], "gemini-2.5-pro": {"use": ["nosuch"]}}}],
            "Router": {"default": "gemini,gemini-2.5-pro"}}"#,
    );
    let o = home.run(&["config", "validate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for name in ["'gemini'", "'nosuch'"] {
        assert!(
            out.lines().any(|l| l.starts_with("warning: ")
                && l.contains(name)
                && l.contains("not available")),
            "{name}: {out}"
        );
    }
    assert!(out.contains("2 warnings"), "{out}");
}

#[test]
fn activate_prints_the_claude_code_environment() {
    let home = Home::new();
    home.write_config(CONFIG);
    let o = home.run(&["activate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for line in [
        "export ANTHROPIC_BASE_URL=\"http://127.0.0.1:45678\"",
        "export ANTHROPIC_AUTH_TOKEN=\"sk-top-secret\"",
        "unset ANTHROPIC_API_KEY",
        "export API_TIMEOUT_MS=\"600000\"",
        "export NO_PROXY=\"127.0.0.1\"",
        "export DISABLE_TELEMETRY=\"true\"",
        "export DISABLE_COST_WARNINGS=\"true\"",
        "unset CLAUDE_CODE_USE_BEDROCK",
    ] {
        assert!(out.lines().any(|l| l == line), "{line:?} not in\n{out}");
    }
    // Nothing but shell statements on stdout (it is eval'd).
    assert!(out
        .lines()
        .all(|l| l.starts_with("export ") || l.starts_with("unset ")));
    assert_eq!(stdout(&home.run(&["env"])), out);
}

#[test]
fn code_without_claude_says_how_to_install_it_and_starts_nothing() {
    let home = Home::new();
    home.write_config(CONFIG);
    let empty_path = home.path().join("bin");
    std::fs::create_dir(&empty_path).unwrap();
    let o = home
        .ccr()
        .args(["code", "-p", "hi"])
        .env("PATH", &empty_path)
        .output()
        .unwrap();
    assert_one_line_error(
        &o,
        &["npm install -g @anthropic-ai/claude-code", "CLAUDE_PATH"],
    );
    assert!(!home.ccr_home().join(".claude-code-router.pid").exists());
}

#[test]
fn logs_prints_the_tail_of_the_newest_file() {
    let home = Home::new();
    let o = home.run(&["logs"]);
    assert_one_line_error(&o, &["no log files"]);

    let logs = home.ccr_home().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("ccr.log.2025-01-01"), "old 1\nold 2\n").unwrap();
    std::fs::write(logs.join("ccr.log.2025-01-02"), "new 1\nnew 2\nnew 3\n").unwrap();
    let o = home.run(&["logs", "-n", "2"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "new 2\nnew 3\n");
}

#[test]
fn plugin_new_writes_a_project_from_the_template() {
    let home = Home::new();
    let parent = home.path().join("work");
    for (lang, kind) in [
        ("js", "router"),
        ("python", "transformer"),
        ("rust", "provider"),
    ] {
        let name = format!("my-{lang}-{kind}");
        let o = home.run(&[
            "plugin",
            "new",
            &name,
            "--kind",
            kind,
            "--lang",
            lang,
            "--dir",
            parent.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let project = parent.join(&name);
        assert!(project.join("wit/worlds.wit").is_file());
        assert!(project.join("build.sh").is_file());
        for entry in walk(&project) {
            let text = std::fs::read_to_string(&entry).unwrap();
            assert!(
                !text.contains("{{"),
                "placeholder left in {}",
                entry.display()
            );
        }
        if lang == "rust" {
            let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
            assert!(manifest.contains(&format!("name = \"{name}\"")));
            // Run from a checkout: the SDK is a path dependency.
            assert!(
                manifest.contains("ccr-plugin-sdk = { path = \""),
                "{manifest}"
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(project.join("build.sh"))
                .unwrap()
                .permissions()
                .mode();
            assert!(mode & 0o100 != 0);
        }
        // The folder now exists: refuse to overwrite it.
        let o = home.run(&[
            "plugin",
            "new",
            &name,
            "--kind",
            kind,
            "--lang",
            lang,
            "--dir",
            parent.to_str().unwrap(),
        ]);
        assert_one_line_error(&o, &["already exists"]);
    }
    let o = home.run(&[
        "plugin", "new", "Bad_Name", "--kind", "router", "--lang", "js",
    ]);
    assert_one_line_error(&o, &["invalid plugin name"]);

    let o = home.run(&["plugin", "build", home.path().to_str().unwrap()]);
    assert_one_line_error(&o, &["not a plugin project"]);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The whole service life cycle on a free port: start --daemon, refuse a second start,
/// status, health, code (with a fake `claude`), plugin list, restart, stop.
#[test]
fn service_round_trip() {
    let home = Home::new();
    let port = free_port();
    home.write_config(&CONFIG.replace("45678", &port.to_string()));
    let _stop = StopOnDrop(&home);
    let pid_file = home.ccr_home().join(".claude-code-router.pid");
    let state_file = home.ccr_home().join(".ccr-state.json");

    let o = home.run(&["start", "--daemon"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains(&format!("http://127.0.0.1:{port}")),
        "{}",
        stdout(&o)
    );
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(state_file.is_file());

    let o = home.run(&["start", "--daemon"]);
    assert_one_line_error(&o, &["already running", &pid.to_string()]);

    let o = home.run(&["status"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("ccr is running"), "{out}");
    assert!(out.contains(&format!("pid:      {pid}")), "{out}");
    assert!(out.contains(&format!("127.0.0.1:{port}")), "{out}");

    let o = home.run(&["health"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let health: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["pid"], pid);

    // `ccr code` runs claude with every argument verbatim and the router's environment.
    let record = home.path().join("claude-run.txt");
    let fake = home.path().join("fake-claude");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\n{{ for a in \"$@\"; do echo \"arg=$a\"; done; env | grep -E \
             '^(ANTHROPIC|API_TIMEOUT|NO_PROXY|DISABLE_|CLAUDE_CODE|CI=|TERM=)' | sort; \
             echo \"stdin=$(cat)\"; }} > {}\nexit 7\n",
            record.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let o = home
        .ccr()
        .args(["code", "-p", "hi there", "--allowedTools", "Bash", "--help"])
        .env("CLAUDE_PATH", &fake)
        .env("ANTHROPIC_API_KEY", "sk-must-not-leak")
        .env("CLAUDE_CODE_USE_BEDROCK", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    let seen = std::fs::read_to_string(&record).unwrap();
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(
        &lines[..4],
        ["arg=-p", "arg=hi there", "arg=--allowedTools", "arg=Bash"]
    );
    assert_eq!(lines[4], "arg=--help");
    assert!(lines.contains(&format!("ANTHROPIC_BASE_URL=http://127.0.0.1:{port}").as_str()));
    assert!(lines.contains(&"ANTHROPIC_AUTH_TOKEN=sk-top-secret"));
    assert!(lines.contains(&"API_TIMEOUT_MS=600000"));
    assert!(lines.contains(&"DISABLE_TELEMETRY=true"));
    assert!(!seen.contains("ANTHROPIC_API_KEY=") && !seen.contains("CLAUDE_CODE_USE_BEDROCK"));
    // The service outlives claude.
    assert_eq!(home.run(&["status"]).status.code(), Some(0));

    // NON_INTERACTIVE_MODE: CI variables, and claude's stdin is closed even though ours is
    // an open pipe (the fake claude reads stdin to the end).
    home.write_config(
        &CONFIG
            .replace("45678", &port.to_string())
            .replace("\"PORT\"", "\"NON_INTERACTIVE_MODE\": true, \"PORT\""),
    );
    let mut child = home
        .ccr()
        .args(["code", "-p", "x"])
        .env("CLAUDE_PATH", &fake)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _open_stdin = child.stdin.take();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("claude's stdin was not closed in NON_INTERACTIVE_MODE");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(7));
    let seen = std::fs::read_to_string(&record).unwrap();
    for line in ["CI=true", "TERM=dumb", "stdin="] {
        assert!(seen.lines().any(|l| l == line), "{line:?} not in\n{seen}");
    }

    let o = home.run(&["plugin", "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("running service"), "{}", stdout(&o));

    let o = home.run(&["restart"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let new_pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_ne!(new_pid, pid);
    assert!(stdout(&o).contains(&format!("127.0.0.1:{port}")));

    let o = home.run(&["stop"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains(&format!("ccr stopped (pid {new_pid})")));
    assert!(!pid_file.exists() && !state_file.exists());
    assert_eq!(home.run(&["status"]).status.code(), Some(3));
}

/// `ccr start` in the foreground: pid and state files while it runs, a clean exit and no
/// files left after SIGTERM.
#[cfg(unix)]
#[test]
fn foreground_start_cleans_up_on_sigterm() {
    let home = Home::new();
    let port = free_port();
    let mut child = home
        .ccr()
        .args(["start", "--port", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = home.ccr_home().join(".claude-code-router.pid");
    let state_file = home.ccr_home().join(".ccr-state.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !state_file.exists() {
        assert!(std::time::Instant::now() < deadline, "never became ready");
        assert!(child.try_wait().unwrap().is_none(), "exited early");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        child.id().to_string()
    );
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    assert_eq!(state["listen"], format!("127.0.0.1:{port}"));
    assert_eq!(state["options"]["port"], port);

    // SAFETY: signalling the child we spawned.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(!pid_file.exists() && !state_file.exists());
}
