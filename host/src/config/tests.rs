use super::settings::EMBEDDED_DEFAULT;
use super::*;
use crate::paths::{self, default_plugins_dir, home_dir, user_home};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn no_env(_: &str) -> Option<String> {
    None
}

fn p(text: &str) -> Result<Config, ConfigError> {
    parse(text, Path::new("/cfg/config.json"), no_env)
}

fn err(text: &str) -> String {
    match p(text) {
        Ok(_) => panic!("expected an error for {text}"),
        Err(e) => e.to_string(),
    }
}

/// The full example from the compatibility reference (a realistic CCR v1/v2 config).
const CCR_EXAMPLE: &str = r#"{
  "APIKEY": "$CCR_KEY", "HOST": "127.0.0.1", "PORT": 3456,
  "PROXY_URL": "http://127.0.0.1:7890", "LOG": true, "LOG_LEVEL": "info",
  "API_TIMEOUT_MS": 600000, "NON_INTERACTIVE_MODE": false,
  "CUSTOM_ROUTER_PATH": "/home/me/.claude-code-router/custom-router.js",
  "transformers": [{ "path": "/home/me/.claude-code-router/plugins/gemini-cli.js", "options": { "project": "x" } }],
  "Providers": [
    { "name": "openrouter", "api_base_url": "https://openrouter.ai/api/v1/chat/completions", "api_key": "${OPENROUTER_API_KEY}",
      "models": ["google/gemini-2.5-pro-preview", "anthropic/claude-sonnet-4", "moonshotai/kimi-k2"],
      "transformer": { "use": ["openrouter"],
        "moonshotai/kimi-k2": { "use": [["openrouter", { "provider": { "only": ["moonshotai/fp8"] } }]] } } },
    { "name": "deepseek", "api_base_url": "https://api.deepseek.com/chat/completions", "api_key": "$DEEPSEEK_API_KEY",
      "models": ["deepseek-chat", "deepseek-reasoner"],
      "transformer": { "use": ["deepseek"], "deepseek-chat": { "use": ["tooluse"] } } },
    { "name": "ollama", "api_base_url": "http://localhost:11434/v1/chat/completions", "api_key": "ollama",
      "models": ["qwen2.5-coder:latest"] },
    { "name": "gemini", "api_base_url": "https://generativelanguage.googleapis.com/v1beta/models/", "api_key": "$GEMINI_API_KEY",
      "models": ["gemini-2.5-flash", "gemini-2.5-pro"], "transformer": { "use": ["gemini"] } },
    { "name": "dashscope", "api_base_url": "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions", "api_key": "$DASHSCOPE_KEY",
      "models": ["qwen3-coder-plus"], "transformer": { "use": [["maxtoken", { "max_tokens": 65536 }], "enhancetool"] } },
    { "name": "anthropic", "api_base_url": "https://api.anthropic.com/v1/messages", "api_key": "$ANTHROPIC_API_KEY",
      "models": ["claude-sonnet-4-20250514"], "transformer": { "use": ["Anthropic"] } }   // passthrough/bypass
  ],
  "Router": {
    "default": "deepseek,deepseek-chat", "background": "ollama,qwen2.5-coder:latest",
    "think": "deepseek,deepseek-reasoner", "longContext": "openrouter,google/gemini-2.5-pro-preview",
    "longContextThreshold": 60000, "webSearch": "gemini,gemini-2.5-flash", "image": "gemini,gemini-2.5-pro"
  },
  "fallback": { "default": ["openrouter,anthropic/claude-sonnet-4"] },            // v2 only
  "StatusLine": { "enabled": true, "currentStyle": "default",
    "default": { "modules": [ { "type": "model", "icon": "x", "text": "{{model}}", "color": "bright_cyan" } ] },
    "powerline": { "modules": [] } }
}"#;

fn example_env(k: &str) -> Option<String> {
    match k {
        "CCR_KEY" => Some("secret-ccr".into()),
        "OPENROUTER_API_KEY" => Some("sk-or".into()),
        "DEEPSEEK_API_KEY" => Some("sk-ds".into()),
        _ => None,
    }
}

#[test]
fn the_ccr_reference_example_loads() {
    let c = parse(CCR_EXAMPLE, Path::new("/cfg/config.json"), example_env).unwrap();
    assert_eq!(c.api_key.as_deref(), Some("secret-ccr"));
    assert_eq!(c.host, "127.0.0.1");
    assert_eq!(c.port, 3456);
    assert!(c.log);
    assert_eq!(c.log_level, "info");
    assert_eq!(c.api_timeout_ms, 600_000);
    assert_eq!(c.proxy_url.as_deref(), Some("http://127.0.0.1:7890"));
    assert!(!c.non_interactive_mode);
    assert_eq!(c.providers.len(), 6);

    let or = c.find_provider("openrouter").unwrap();
    assert_eq!(or.api_key.as_deref(), Some("sk-or"));
    assert_eq!(
        or.transformer.chain,
        vec![TransformerUse::named("openrouter")]
    );
    let kimi: Vec<_> = or.chain_for("moonshotai/kimi-k2").collect();
    assert_eq!(kimi.len(), 2);
    assert_eq!(kimi[0].name, "openrouter");
    assert_eq!(kimi[0].options, json!({}));
    assert_eq!(
        kimi[1].options,
        json!({"provider": {"only": ["moonshotai/fp8"]}})
    );
    assert_eq!(or.chain_for("anthropic/claude-sonnet-4").count(), 1);

    let ds = c.find_provider("deepseek").unwrap();
    let names: Vec<_> = ds
        .chain_for("deepseek-chat")
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["deepseek", "tooluse"]);
    let names: Vec<_> = ds
        .chain_for("deepseek-reasoner")
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["deepseek"]);

    let dash = c.find_provider("dashscope").unwrap();
    assert_eq!(
        dash.transformer.chain[0].options,
        json!({"max_tokens": 65536})
    );
    assert_eq!(
        dash.transformer.chain[1],
        TransformerUse::named("enhancetool")
    );
    // Unset variables stay literal (and are reported).
    assert_eq!(dash.api_key.as_deref(), Some("$DASHSCOPE_KEY"));
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("Providers[4].api_key") && w.contains("DASHSCOPE_KEY")));

    let r = &c.router;
    assert_eq!(
        r.default.as_ref().unwrap().to_string(),
        "deepseek,deepseek-chat"
    );
    assert_eq!(r.background.as_ref().unwrap().model, "qwen2.5-coder:latest");
    assert_eq!(
        r.long_context.as_ref().unwrap().model,
        "google/gemini-2.5-pro-preview"
    );
    assert_eq!(r.long_context_threshold, 60_000);
    assert_eq!(r.web_search.as_ref().unwrap().provider, "gemini");
    assert_eq!(r.image.as_ref().unwrap().model, "gemini-2.5-pro");
    assert_eq!(r.scenario("think").unwrap().model, "deepseek-reasoner");

    assert_eq!(
        c.fallback.for_scenario("default"),
        &[ModelRef::parse("openrouter,anthropic/claude-sonnet-4").unwrap()]
    );
    assert!(c.fallback.for_scenario("think").is_empty());

    // JS extension points are kept for warnings only.
    assert_eq!(c.custom_router_wasm(), None);
    assert!(c.warnings.iter().any(|w| w.contains("CUSTOM_ROUTER_PATH")));
    assert_eq!(c.transformers_js.len(), 1);
    assert_eq!(c.transformers_js[0].options, json!({"project": "x"}));
    assert!(c.warnings.iter().any(|w| w.contains("gemini-cli.js")));
    // StatusLine is a known UI key: no typo warning, kept in raw.
    assert!(!c.warnings.iter().any(|w| w.contains("StatusLine")));
    assert_eq!(c.raw["StatusLine"]["enabled"], true);
    assert_eq!(c.raw["APIKEY"], "secret-ccr");
}

#[test]
fn minimal_and_empty_configs_get_defaults() {
    // What CCR writes when the file is missing.
    let c = p(r#"{"PORT":3456,"Providers":[],"Router":{}}"#).unwrap();
    assert_eq!(c.port, 3456);
    assert!(c.providers.is_empty());
    assert_eq!(c.router, RouterConfig::default());

    let c = p("{}").unwrap();
    assert_eq!(c.host, "127.0.0.1");
    assert_eq!(c.port, 3456);
    assert!(c.log);
    assert_eq!(c.log_level, "info");
    assert_eq!(c.api_timeout_ms, 600_000);
    assert_eq!(c.api_key, None);
    assert_eq!(c.proxy_url, None);
    assert_eq!(c.router.long_context_threshold, 60_000);
    assert_eq!(c.plugin_limits, PluginLimits::default());
    assert!(c.router_plugins.is_empty());
    assert_eq!(c.plugins_dir, None);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.source, Path::new("/cfg/config.json"));
}

#[test]
fn json5_syntax_is_accepted() {
    let c = p(r#"
        // comment
        {
          /* block */ PORT: 4000, // unquoted key, trailing comma
          'HOST': 'localhost',
          Providers: [{name: "a", api_base_url: "http://x/v1", models: ['m',],},],
          Router: {default: "a,m",},
        }
    "#)
    .unwrap();
    assert_eq!(c.port, 4000);
    assert_eq!(c.host, "localhost");
    assert_eq!(c.providers[0].models, ["m"]);
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let e = p("{\n  \"PORT\": 3456,\n  \"HOST\" \"x\"\n}").unwrap_err();
    match &e {
        ConfigError::Syntax {
            path, line, column, ..
        } => {
            assert_eq!(path, Path::new("/cfg/config.json"));
            assert_eq!(*line, Some(3));
            assert!(column.is_some());
        }
        other => panic!("{other:?}"),
    }
    let s = e.to_string();
    assert!(s.starts_with("/cfg/config.json:3:"), "{s}");
    assert!(!s.contains('\n'), "{s}");

    assert!(s.ends_with("in `\"HOST\" \"x\"`"), "{s}");
    // A line that may hold a secret is not quoted.
    let s = err("{\n  \"api_key\": \"sk-live-123\" \"x\"\n}");
    assert!(
        s.starts_with("/cfg/config.json:2:") && !s.contains("sk-live"),
        "{s}"
    );

    assert!(err("").contains("empty"));
    assert!(err("   \n").contains("empty"));
    assert!(err("{").starts_with("/cfg/config.json:1:"));
}

#[test]
fn top_level_must_be_an_object() {
    assert_eq!(
        err("[1]"),
        "/cfg/config.json: `(top level)`: expected an object { \"Providers\": [...], \"Router\": {...} }, found an array of 1 item(s)"
    );
    assert!(err("3").contains("found number 3"));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = err(&deep);
    assert!(e.contains("nesting deeper than"), "{e}");
    // Brackets inside strings and comments do not count.
    let ok = format!(
        "{{ \"s\": \"{}\", /* {} */ // {}\n }}",
        "[".repeat(500),
        "{".repeat(500),
        "[".repeat(500)
    );
    p(&ok).unwrap();
}

#[test]
fn garbage_never_panics() {
    let samples = [
        "{\"a\": \"\\uD800\"}",
        "{\"a\": \"\\uDC00\"}",
        "{a: 0x}",
        "{a: 99999999999999999999999}",
        "{a: NaN, b: Infinity, c: -Infinity}",
        "{PORT: NaN}",
        "{PORT: -1}",
        "{PORT: 1e400}",
        "{\"Providers\": [null, 1, \"x\"]}",
        "{\"Router\": []}",
        "{\"Router\": {\"default\": {}}}",
        "'",
        "\"",
        "/*",
        "{\u{0}}",
        "{a:'\\x'}",
        "\u{feff}{}",
        "{\"$\": \"${\"}",
    ];
    for s in samples {
        let _ = p(s);
    }
    // Truncations of a real config (every 7th, to keep debug-build test time low).
    for i in (0..CCR_EXAMPLE.len()).step_by(7) {
        if CCR_EXAMPLE.is_char_boundary(i) {
            let _ = parse(&CCR_EXAMPLE[..i], Path::new("c"), example_env);
        }
    }
}

#[test]
fn interpolation_uses_the_given_environment() {
    let env = |k: &str| match k {
        "KEY" => Some("sk-live".to_owned()),
        "BASE" => Some("https://api.example.com".to_owned()),
        "P" => Some("5000".to_owned()),
        _ => None,
    };
    let c = parse(
        r#"{ APIKEY: "${KEY}", PORT: "$P",
             Providers: [{ name: "x", api_base_url: "$BASE/v1/chat/completions", api_key: "Bearer $KEY", models: ["m"] }],
             Router: { default: "x,m" } }"#,
        Path::new("c.json"),
        env,
    )
    .unwrap();
    assert_eq!(c.api_key.as_deref(), Some("sk-live"));
    assert_eq!(c.port, 5000);
    assert_eq!(
        c.providers[0].api_base_url,
        "https://api.example.com/v1/chat/completions"
    );
    assert_eq!(c.providers[0].api_key.as_deref(), Some("Bearer sk-live"));
    assert_eq!(c.raw["APIKEY"], "sk-live");
}

#[test]
fn unset_variable_in_a_url_explains_itself() {
    let e = err(r#"{ Providers: [{ name: "x", api_base_url: "$NOPE_URL" }] }"#);
    assert!(e.contains("`Providers[0].api_base_url`"), "{e}");
    assert!(e.contains("environment variable"), "{e}");
}

#[test]
fn service_port_env_overrides_port() {
    let c = parse("{PORT: 1234}", Path::new("c"), |k| {
        (k == "SERVICE_PORT").then(|| "4567".into())
    })
    .unwrap();
    assert_eq!(c.port, 4567);
    let c = parse("{PORT: 1234}", Path::new("c"), |k| {
        (k == "SERVICE_PORT").then(|| "junk".into())
    })
    .unwrap();
    assert_eq!(c.port, 1234);
    assert!(c.warnings.iter().any(|w| w.contains("SERVICE_PORT")));
}

#[test]
fn port_validation() {
    assert_eq!(p("{PORT: \"8080\"}").unwrap().port, 8080);
    assert_eq!(p("{PORT: 65535}").unwrap().port, 65535);
    for bad in ["0", "65536", "-1", "\"http\"", "true", "1.5"] {
        let e = err(&format!("{{PORT: {bad}}}"));
        assert!(
            e.contains("`PORT`: expected a port number 1-65535, found"),
            "{e}"
        );
    }
}

#[test]
fn log_settings() {
    assert!(p("{LOG: true}").unwrap().log);
    assert!(!p("{LOG: false}").unwrap().log);
    // "Enabled unless exactly false", as in CCR.
    assert!(p("{LOG: \"false\"}").unwrap().log);
    assert!(p("{LOG: 0}").unwrap().log);
    assert!(p("{LOG: null}").unwrap().log);
    assert_eq!(p("{LOG_LEVEL: \"DEBUG\"}").unwrap().log_level, "debug");
    assert_eq!(p("{LOG_LEVEL: \"\"}").unwrap().log_level, "info");
    for l in LOG_LEVELS {
        assert_eq!(p(&format!("{{LOG_LEVEL: {l:?}}}")).unwrap().log_level, *l);
    }
    let e = err("{LOG_LEVEL: \"verbose\"}");
    assert_eq!(
        e,
        "/cfg/config.json: `LOG_LEVEL`: expected one of fatal, error, warn, info, debug, trace, found \"verbose\""
    );
    assert!(err("{LOG_LEVEL: 3}").contains("expected a string, found number 3"));
}

#[test]
fn apikey_host_and_bind_host() {
    let c = p("{APIKEY: \"\", HOST: \"0.0.0.0\"}").unwrap();
    assert_eq!(c.api_key, None);
    assert_eq!(c.host, "0.0.0.0");
    assert_eq!(c.bind_host(), "127.0.0.1");
    assert!(c.warnings.iter().any(|w| w.contains("APIKEY is not set")));

    let c = p("{APIKEY: \"k\", HOST: \"0.0.0.0\"}").unwrap();
    assert_eq!(c.bind_host(), "0.0.0.0");
    assert!(c.warnings.is_empty());

    for lo in ["localhost", "127.0.0.2", "::1", "[::1]"] {
        let c = p(&format!("{{HOST: {lo:?}}}")).unwrap();
        assert_eq!(c.bind_host(), lo);
        assert!(c.warnings.is_empty(), "{lo}: {:?}", c.warnings);
    }
    assert_eq!(p("{HOST: \"\"}").unwrap().host, "127.0.0.1");
}

#[test]
fn proxy_url_and_aliases() {
    assert_eq!(
        p("{HTTPS_PROXY: \"http://p:1\"}")
            .unwrap()
            .proxy_url
            .as_deref(),
        Some("http://p:1")
    );
    assert_eq!(
        p("{https_proxy: \"http://p:2\"}")
            .unwrap()
            .proxy_url
            .as_deref(),
        Some("http://p:2")
    );
    assert_eq!(
        p("{httpsProxy: \"http://p:3\"}")
            .unwrap()
            .proxy_url
            .as_deref(),
        Some("http://p:3")
    );
    assert_eq!(
        p("{PROXY_URL: \"http://a:1\", HTTPS_PROXY: \"http://b:1\"}")
            .unwrap()
            .proxy_url
            .as_deref(),
        Some("http://a:1")
    );
    assert_eq!(
        p("{PROXY_URL: \"\", HTTPS_PROXY: \"http://b:1\"}")
            .unwrap()
            .proxy_url
            .as_deref(),
        Some("http://b:1")
    );
    assert!(err("{PROXY_URL: \"127.0.0.1:7890\"}").contains("`PROXY_URL`: expected a proxy URL"));
}

#[test]
fn misc_scalar_keys() {
    let c = p(
        r#"{NON_INTERACTIVE_MODE: true, CLAUDE_PATH: "/usr/bin/claude", API_TIMEOUT_MS: "1000"}"#,
    )
    .unwrap();
    assert!(c.non_interactive_mode);
    assert_eq!(c.claude_path.as_deref(), Some("/usr/bin/claude"));
    assert_eq!(c.api_timeout_ms, 1000);
    assert!(err("{NON_INTERACTIVE_MODE: 3}").contains("expected true or false"));
    assert!(err("{API_TIMEOUT_MS: -5}").contains("`API_TIMEOUT_MS`"));
}

#[test]
fn lowercase_providers_key_is_accepted() {
    let c = p(r#"{ providers: [{ name: "a", api_base_url: "http://h/v1" }] }"#).unwrap();
    assert_eq!(c.providers[0].name, "a");
    assert_eq!(c.providers[0].api_key, None);
    assert!(c.providers[0].models.is_empty());
    let e = err(r#"{ providers: [{ name: "a" }] }"#);
    assert!(e.contains("`providers[0].api_base_url`: missing"), "{e}");
}

#[test]
fn provider_errors_name_the_key() {
    let base = |prov: &str| {
        format!("{{ Providers: [{{name: \"ok\", api_base_url: \"http://h\"}}, {{name: \"b\", api_base_url: \"http://h\"}}, {prov}] }}")
    };
    let e = err(&base(r#"{ name: "c", api_base_url: "api.deepseek.com" }"#));
    assert!(
        e.starts_with("/cfg/config.json: `Providers[2].api_base_url`: expected an http(s) URL"),
        "{e}"
    );
    let e = err(&base(r#"{ name: "c", api_base_url: 3 }"#));
    assert_eq!(
        e,
        "/cfg/config.json: `Providers[2].api_base_url`: expected a string, found number 3"
    );
    let e = err(&base(r#"{ name: "ok", api_base_url: "http://h" }"#));
    assert!(
        e.contains("`Providers[2].name`") && e.contains("Providers[0]") && e.contains("unique"),
        "{e}"
    );
    let e = err(&base(r#"{ api_base_url: "http://h" }"#));
    assert!(e.contains("`Providers[2].name`: missing"), "{e}");
    let e = err(&base(r#"{ name: "", api_base_url: "http://h" }"#));
    assert!(e.contains("`Providers[2].name`"), "{e}");
    let e = err(&base(r#"{ name: "a,b", api_base_url: "http://h" }"#));
    assert!(e.contains("must not contain `,`"), "{e}");
    let e = err(&base(
        r#"{ name: "c", api_base_url: "http://h", models: ["m", 7] }"#,
    ));
    assert_eq!(
        e,
        "/cfg/config.json: `Providers[2].models[1]`: expected a model id string, found number 7"
    );
    let e = err(&base(
        r#"{ name: "c", api_base_url: "http://h", models: "m" }"#,
    ));
    assert!(
        e.contains("`Providers[2].models`: expected an array"),
        "{e}"
    );
    let e = err(&base(
        r#"{ name: "c", api_base_url: "http://h", api_key: 5 }"#,
    ));
    assert!(
        e.contains("`Providers[2].api_key`: expected a string"),
        "{e}"
    );
    let e = err(&base("7"));
    assert!(
        e.contains("`Providers[2]`: expected an object, found number 7"),
        "{e}"
    );
    let e = err("{Providers: {}}");
    assert!(
        e.contains("`Providers`: expected an array, found an object"),
        "{e}"
    );
}

#[test]
fn transformer_chain_shapes() {
    let c = p(r#"{ Providers: [{ name: "a", api_base_url: "http://h",
        transformer: { use: ["x", ["y"], ["z", {k: 1}], ["w", null]], "m1": { use: ["q"] }, "m2": {} } }] }"#)
    .unwrap();
    let t = &c.providers[0].transformer;
    assert_eq!(
        t.chain,
        vec![
            TransformerUse::named("x"),
            TransformerUse::named("y"),
            TransformerUse {
                name: "z".into(),
                options: json!({"k": 1})
            },
            TransformerUse::named("w"),
        ]
    );
    assert_eq!(t.per_model["m1"], vec![TransformerUse::named("q")]);
    assert!(t.per_model["m2"].is_empty());
    let names: Vec<_> = c.providers[0]
        .chain_for("m1")
        .map(|t| t.name.clone())
        .collect();
    assert_eq!(names, ["x", "y", "z", "w", "q"]);
    // Per-model chains are keyed by exact model id.
    assert_eq!(c.providers[0].chain_for("M1").count(), 4);

    let tp = |t: &str| {
        err(&format!(
            "{{ Providers: [{{ name: \"a\", api_base_url: \"http://h\", transformer: {t} }}] }}"
        ))
    };
    assert!(tp("[]").contains("`Providers[0].transformer`: expected an object"));
    assert!(tp("{use: \"x\"}").contains("`Providers[0].transformer.use`: expected an array"));
    assert!(tp("{use: [1]}").contains("`Providers[0].transformer.use[0]`: expected a transformer name or [name, {options}], found number 1"));
    assert!(tp("{use: [[\"x\", 3]]}")
        .contains("`Providers[0].transformer.use[0][1]`: expected an options object"));
    assert!(tp("{use: [[]]}").contains("`Providers[0].transformer.use[0]`"));
    assert!(tp("{use: [[1]]}").contains("`Providers[0].transformer.use[0][0]`"));
    assert!(tp("{m: [\"x\"]}")
        .contains("`Providers[0].transformer.m`: expected an object { \"use\": [...] }"));
}

#[test]
fn router_values_are_validated_against_providers() {
    let cfg = |router: &str| {
        format!(
            r#"{{ Providers: [{{ name: "deepseek", api_base_url: "https://api.deepseek.com/chat/completions", models: ["deepseek-chat"] }},
                              {{ name: "ollama", api_base_url: "http://127.0.0.1:11434/v1/chat/completions" }}],
                 Router: {router} }}"#
        )
    };
    let e = err(&cfg("{ think: 3 }"));
    assert_eq!(
        e,
        "/cfg/config.json: `Router.think`: expected a string \"provider,model\", found number 3"
    );
    let e = err(&cfg("{ default: \"deepseek-chat\" }"));
    assert!(
        e.contains(
            "`Router.default`: expected a string \"provider,model\", found \"deepseek-chat\""
        ),
        "{e}"
    );
    let e = err(&cfg("{ background: \"openai,gpt-4o\" }"));
    assert_eq!(
        e,
        "/cfg/config.json: `Router.background`: \"openai,gpt-4o\" names unknown provider \"openai\"; known providers: deepseek, ollama"
    );
    let e = err(&cfg("{ default: \"DeepSeek,deepseek-chat\" }"));
    assert!(e.contains("did you mean \"deepseek\""), "{e}");

    // Empty strings (what CCR's UI writes for unused slots) and null mean "unset".
    let c = p(&cfg("{ default: \"deepseek,deepseek-chat\", think: \"\", image: null, longContextThreshold: 0 }")).unwrap();
    assert!(c.router.think.is_none() && c.router.image.is_none());
    assert_eq!(c.router.long_context_threshold, 60_000);

    // A model missing from the provider's list is allowed, with a warning.
    let c = p(&cfg(
        "{ default: \"deepseek,deepseek-v4\", background: \"ollama,anything\" }",
    ))
    .unwrap();
    assert_eq!(c.router.default.as_ref().unwrap().model, "deepseek-v4");
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("Router.default"));

    let c = p(&cfg(
        "{ longContextThreshold: \"32000\", longContext: \"ollama,big\" }",
    ))
    .unwrap();
    assert_eq!(c.router.long_context_threshold, 32_000);
    assert!(
        err(&cfg("{ longContextThreshold: \"lots\" }")).contains("`Router.longContextThreshold`")
    );
    assert!(err(&cfg("{ longContextThreshold: 1e12 }")).contains("`Router.longContextThreshold`"));
    assert!(err(&cfg("[]")).contains("`Router`: expected an object"));

    let c = p(&cfg(
        "{ default: \"ollama,m\", long_context: \"ollama,x\" }",
    ))
    .unwrap();
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("`Router.long_context`") && w.contains("`Router.longContext`")));
}

#[test]
fn fallback_is_validated() {
    let base = r#"Providers: [{ name: "a", api_base_url: "http://h" }, { name: "b", api_base_url: "http://h" }]"#;
    let c = p(&format!(
        "{{ {base}, fallback: {{ default: [\"a,m1\", \"b,m2\"], think: [], longContext: null }} }}"
    ))
    .unwrap();
    assert_eq!(c.fallback.for_scenario("default").len(), 2);
    assert_eq!(c.fallback.for_scenario("default")[1].provider, "b");
    assert!(!c.fallback.is_empty());
    let e = err(&format!(
        "{{ {base}, fallback: {{ default: [\"a,m1\", \"zz,m\"] }} }}"
    ));
    assert!(
        e.contains("`fallback.default[1]`") && e.contains("\"zz\""),
        "{e}"
    );
    let e = err(&format!("{{ {base}, fallback: {{ default: \"a,m\" }} }}"));
    assert!(e.contains("`fallback.default`: expected an array"), "{e}");
    let c = p(&format!("{{ {base}, fallback: {{ thnk: [\"a,m\"] }} }}")).unwrap();
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("fallback.thnk") && w.contains("`think`")));
}

#[test]
fn typo_warnings_for_unknown_keys() {
    let c = p(
        r#"{ Provders: [], router: {}, LOGS: true, StatusLine: {}, MY_OWN_KEY: 1,
                   Providers: [{ name: "a", api_base_url: "http://h", api_kye: "x" }] }"#,
    )
    .unwrap();
    let w = c.warnings.join("\n");
    assert!(w.contains("`Provders`") && w.contains("`Providers`"), "{w}");
    assert!(w.contains("`router`") && w.contains("`Router`"), "{w}");
    assert!(w.contains("`LOGS`"), "{w}");
    assert!(
        w.contains("`Providers[0].api_kye`") && w.contains("`Providers[0].api_key`"),
        "{w}"
    );
    assert!(
        !w.contains("StatusLine") && !w.contains("MY_OWN_KEY"),
        "{w}"
    );
    assert_eq!(c.raw["MY_OWN_KEY"], 1);
}

#[test]
fn extension_keys() {
    let c = p(r#"{
        PLUGINS_DIR: "plugins-here",
        PLUGIN_LIMITS: { memory_mb: 128, timeout_ms: 500, overrides: { "slow-router": { timeout_ms: 10000 }, big: { memory_mb: 512 } } },
        ROUTER_PLUGINS: ["my-router", "other"],
        CUSTOM_ROUTER_PATH: "./routers/r.WASM",
    }"#)
    .unwrap();
    assert_eq!(
        c.plugins_dir.as_deref(),
        Some(Path::new("/cfg/plugins-here"))
    );
    assert_eq!(
        c.effective_plugins_dir(),
        PathBuf::from("/cfg/plugins-here")
    );
    assert_eq!(c.router_plugins, ["my-router", "other"]);
    assert_eq!(
        c.custom_router_wasm(),
        Some(PathBuf::from("/cfg/./routers/r.WASM"))
    );
    assert!(!c.warnings.iter().any(|w| w.contains("CUSTOM_ROUTER_PATH")));
    let l = &c.plugin_limits;
    assert_eq!(
        l.for_plugin("anything"),
        (128 << 20, Duration::from_millis(500))
    );
    assert_eq!(
        l.for_plugin("slow-router"),
        (128 << 20, Duration::from_secs(10))
    );
    assert_eq!(l.for_plugin("big"), (512 << 20, Duration::from_millis(500)));

    let d = PluginLimits::default();
    assert_eq!(d.for_plugin("x"), (64 << 20, Duration::from_millis(2000)));

    let c = p(r#"{ PLUGINS_DIR: "/abs/dir" }"#).unwrap();
    assert_eq!(c.plugins_dir.as_deref(), Some(Path::new("/abs/dir")));
    let c = p(r#"{ PLUGINS_DIR: "~/wasm" }"#).unwrap();
    assert_eq!(c.plugins_dir, Some(user_home().join("wasm")));
    assert_eq!(
        p("{}").unwrap().effective_plugins_dir(),
        default_plugins_dir()
    );

    assert!(err("{PLUGIN_LIMITS: {memory_mb: 0}}")
        .contains("`PLUGIN_LIMITS.memory_mb`: expected a whole number greater than 0"));
    assert!(
        err("{PLUGIN_LIMITS: {overrides: {x: {timeout_ms: \"soon\"}}}}")
            .contains("`PLUGIN_LIMITS.overrides.x.timeout_ms`")
    );
    assert!(err("{PLUGIN_LIMITS: []}").contains("`PLUGIN_LIMITS`: expected an object"));
    assert!(err("{ROUTER_PLUGINS: \"x\"}").contains("`ROUTER_PLUGINS`: expected an array"));
    assert!(err("{ROUTER_PLUGINS: [\"\"]}").contains("`ROUTER_PLUGINS[0]`: expected a plugin name"));
    let c = p("{PLUGIN_LIMITS: {memroy_mb: 5}}").unwrap();
    assert!(c
        .warnings
        .iter()
        .any(|w| w.contains("PLUGIN_LIMITS.memory_mb")));
}

#[test]
fn unsupported_ccr_features_warn() {
    let c = p(r#"{ forceUseImageAgent: true, REWRITE_SYSTEM_PROMPT: "/x.md",
                   Providers: [{ name: "a", api_base_url: "http://h", tokenizer: { default: { type: "tiktoken" } } }] }"#)
    .unwrap();
    assert!(c.force_use_image_agent);
    let w = c.warnings.join("\n");
    assert!(w.contains("forceUseImageAgent"), "{w}");
    assert!(w.contains("REWRITE_SYSTEM_PROMPT"), "{w}");
    assert!(w.contains("tokenizer"), "{w}");
    assert!(err("{transformers: [{options: {}}]}").contains("`transformers[0].path`: missing"));
}

#[test]
fn embedded_default_is_valid_and_local() {
    let c = parse(EMBEDDED_DEFAULT, Path::new(EMBEDDED_SOURCE), no_env).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let c = Config::embedded_default();
    assert!(c.is_embedded_default());
    let o = c.find_provider("ollama").unwrap();
    assert_eq!(o.api_base_url, "http://127.0.0.1:11434/v1/chat/completions");
    assert_eq!(o.api_key.as_deref(), Some("ollama"));
    assert!(o.models.iter().any(|m| m == "qwen2.5-coder:latest"));
    assert_eq!(
        c.router.default.as_ref().unwrap().to_string(),
        "ollama,qwen2.5-coder:latest"
    );
    assert_eq!(c.bind_host(), "127.0.0.1");
}

#[test]
fn provider_lookup() {
    let c = parse(CCR_EXAMPLE, Path::new("c"), example_env).unwrap();
    assert!(c.find_provider("OpenRouter").is_none());
    assert_eq!(c.find_provider_ci("OpenRouter").unwrap().name, "openrouter");
    assert_eq!(c.find_provider_ci("nope").map(|p| &p.name), None);
    let ds = c.find_provider("deepseek").unwrap();
    assert_eq!(ds.find_model_ci("DeepSeek-Chat"), Some("deepseek-chat"));
    assert_eq!(ds.find_model_ci("deepseek-v9"), None);
    assert_eq!(c.provider_names()[0], "openrouter");
}

#[test]
fn redacted_hides_secrets() {
    let c = parse(CCR_EXAMPLE, Path::new("c"), example_env).unwrap();
    let r = c.redacted();
    let s = r.to_string();
    assert!(
        !s.contains("secret-ccr") && !s.contains("sk-or") && !s.contains("sk-ds"),
        "{s}"
    );
    assert_eq!(r["APIKEY"], "***");
    assert_eq!(r["Providers"][0]["api_key"], "***");
    assert_eq!(
        r["Providers"][4]["transformer"]["use"][0][1]["max_tokens"],
        65536
    );
    assert_eq!(r["Router"]["default"], "deepseek,deepseek-chat");
}

#[test]
fn config_paths() {
    assert!(paths::default_config_file().ends_with(".claude-code-router/config.json"));
    assert!(home_dir().ends_with(".claude-code-router"));
    let flag = Path::new("/x/c.json");
    let env = |k: &str| (k == "CCR_CONFIG").then(|| "/env/c.json".to_owned());
    assert_eq!(
        resolve_path_with(Some(flag), env),
        ConfigSource::Flag(flag.into())
    );
    let s = resolve_path_with(None, env);
    assert_eq!(s, ConfigSource::Env("/env/c.json".into()));
    assert_eq!(s.origin(), "CCR_CONFIG");
    let s = resolve_path_with(None, no_env);
    assert_eq!(s, ConfigSource::Default(paths::default_config_file()));
    assert_eq!(s.path(), paths::default_config_file());
    let s = resolve_path_with(None, |_| Some(" ".into()));
    assert!(matches!(s, ConfigSource::Default(_)));
}

#[test]
fn load_reads_files_and_falls_back_only_for_the_default_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    std::fs::write(&file, "{ PORT: 4242 }").unwrap();
    assert_eq!(load(&file).unwrap().port, 4242);
    assert_eq!(
        load_from(&ConfigSource::Flag(file.clone())).unwrap().port,
        4242
    );

    let missing = dir.path().join("missing.json");
    let e = load(&missing).unwrap_err();
    assert!(e.is_not_found());
    assert!(e.to_string().contains("missing.json"));
    assert!(load_from(&ConfigSource::Flag(missing.clone()))
        .unwrap_err()
        .is_not_found());
    assert!(load_from(&ConfigSource::Env(missing.clone()))
        .unwrap_err()
        .is_not_found());
    let c = load_from(&ConfigSource::Default(missing)).unwrap();
    assert!(c.is_embedded_default());
    assert!(c.warnings[0].contains("embedded default"));

    // A directory is not a readable file.
    let e = load(dir.path()).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
}

#[test]
fn ping_interval_has_a_default_and_rejects_zero() {
    assert_eq!(p("{}").unwrap().ping_interval_ms, DEFAULT_PING_INTERVAL_MS);
    assert_eq!(
        p(r#"{"PING_INTERVAL_MS": 250}"#).unwrap().ping_interval_ms,
        250
    );
    let e = err(r#"{"PING_INTERVAL_MS": 0}"#);
    assert!(e.contains("PING_INTERVAL_MS"), "{e}");
    let e = err(r#"{"PING_INTERVAL_MS": "soon"}"#);
    assert!(e.contains("PING_INTERVAL_MS"), "{e}");
}
