use std::path::Path;

use serde_json::{json, Value};

use super::*;
use crate::config;
use crate::json::Json;

const CONFIG: &str = r#"{
  Providers: [
    { name: "deepseek", api_base_url: "https://api.deepseek.com/chat/completions", api_key: "k",
      models: ["deepseek-chat", "deepseek-reasoner"] },
    { name: "OpenRouter", api_base_url: "https://openrouter.ai/api/v1/chat/completions", api_key: "k",
      models: ["google/gemini-2.5-pro-preview", "anthropic/claude-sonnet-4", "Moonshotai/Kimi-K2"] },
    { name: "ollama", api_base_url: "http://127.0.0.1:11434/v1/chat/completions", api_key: "ollama",
      models: ["qwen2.5-coder:latest"] },
    { name: "gemini", api_base_url: "https://generativelanguage.googleapis.com/v1beta/models/", api_key: "k",
      models: ["gemini-2.5-flash", "gemini-2.5-pro"] },
  ],
  Router: {
    default: "deepseek,deepseek-chat",
    background: "ollama,qwen2.5-coder:latest",
    think: "deepseek,deepseek-reasoner",
    longContext: "OpenRouter,google/gemini-2.5-pro-preview",
    longContextThreshold: 60000,
    webSearch: "gemini,gemini-2.5-flash",
    image: "gemini,gemini-2.5-pro",
  },
}"#;

fn cfg() -> Config {
    config::parse(CONFIG, Path::new("c.json"), |_| None).unwrap()
}

fn cfg_with_router(router: &str) -> Config {
    let text = CONFIG.replace(
        &CONFIG[CONFIG.find("Router:").unwrap()..CONFIG.rfind('}').unwrap()],
        &format!("Router: {router},\n"),
    );
    config::parse(&text, Path::new("c.json"), |_| None).unwrap()
}

/// A request shaped like Claude Code's main-loop traffic.
fn claude_code_body(model: &str) -> Value {
    json!({
        "model": model,
        "max_tokens": 32000,
        "stream": true,
        "metadata": {"user_id": "user_0123abcd_account_7f1c2d3e-aaaa-bbbb-cccc-000000000000_session_9a8b7c6d-1111-2222-3333-444455556666"},
        "system": [
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "You are an interactive CLI tool that helps users with software engineering tasks.\n<env>\nWorking directory: /repo\n</env>", "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>\nAs you answer the user's questions, you can use the following context...\n</system-reminder>"},
                {"type": "text", "text": "fix the failing test in src/lib.rs", "cache_control": {"type": "ephemeral"}}
            ]}
        ],
        "tools": [
            {"name": "Task", "description": "Launch a new agent", "input_schema": {"type": "object", "properties": {"prompt": {"type": "string"}}}},
            {"name": "Bash", "description": "Executes a given bash command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}},
            {"name": "Read", "description": "Reads a file", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}
        ]
    })
}

fn route(
    body: &Value,
    tokens: u32,
    prev: Option<u32>,
    c: &Config,
) -> Result<RouteDecision, RouteError> {
    builtin_route(&facts(body, None), tokens, prev, c)
}

/// The facts of a `json!` body, read through the request tree as a real body is.
fn facts(body: &Value, session_header: Option<&str>) -> RouteFacts {
    let text = body.to_string();
    RouteFacts::from_request(&Json::parse(text.as_bytes()).unwrap(), session_header)
}

/// [`strip_subagent_tag`] on a `json!` body, which becomes the re-encoded result (as the
/// pipeline hands it to plugins).
fn strip(body: &mut Value) -> bool {
    let text = body.to_string();
    let mut tree = Json::parse(text.as_bytes()).unwrap();
    let stripped = strip_subagent_tag(&mut tree);
    *body = serde_json::to_value(&tree).unwrap();
    stripped
}

fn pm(d: &RouteDecision) -> (String, String, RouteKind) {
    (d.provider.clone(), d.model.clone(), d.kind)
}

fn t(p: &str, m: &str, k: RouteKind) -> (String, String, RouteKind) {
    (p.into(), m.into(), k)
}

// ----- facts -----

#[test]
fn facts_of_a_claude_code_request() {
    let body = claude_code_body("claude-sonnet-4-5-20250929");
    let f = facts(&body, None);
    assert_eq!(f.model, "claude-sonnet-4-5-20250929");
    assert!(!f.thinking);
    assert!(f.stream);
    assert_eq!(f.tool_names, ["Task", "Bash", "Read"]);
    assert!(!f.has_web_search);
    assert!(!f.has_images && !f.last_user_has_image);
    assert_eq!(f.message_count, 1);
    assert_eq!(
        f.session_id.as_deref(),
        Some("9a8b7c6d-1111-2222-3333-444455556666")
    );
    assert_eq!(f.subagent_model, None);
}

#[test]
fn facts_session_id_sources() {
    let mut body = claude_code_body("m");
    // Newer Claude Code: user_id is a JSON string.
    body["metadata"]["user_id"] = json!(
        r#"{"device_id":"abc","account_uuid":"u-1","session_id":"0199aaaa-bbbb-7ccc-8ddd-eeeeffff0000"}"#
    );
    let f = facts(&body, Some("from-header"));
    assert_eq!(
        f.session_id.as_deref(),
        Some("0199aaaa-bbbb-7ccc-8ddd-eeeeffff0000")
    );
    // No usable user_id: the header.
    body["metadata"] = json!({});
    let f = facts(&body, Some(" hdr-1 "));
    assert_eq!(f.session_id.as_deref(), Some("hdr-1"));
    assert_eq!(facts(&body, Some("")).session_id, None);
    assert_eq!(facts(&body, None).session_id, None);
    // JS split semantics.
    assert_eq!(
        session_from_user_id("a_session_b_session_c").as_deref(),
        Some("b")
    );
    assert_eq!(session_from_user_id("user_x_session_"), None);
    assert_eq!(session_from_user_id("no marker"), None);
    assert_eq!(session_from_user_id("{\"session_id\": 5}"), None);
    assert_eq!(
        session_from_user_id("{broken json_session_s1").as_deref(),
        Some("s1")
    );
}

#[test]
fn facts_thinking_values() {
    let mut body = claude_code_body("m");
    for (thinking, on) in [
        (json!({"type": "enabled", "budget_tokens": 31999}), true),
        (json!({"type": "adaptive"}), true),
        (json!({"type": "disabled"}), false),
        (json!(null), false),
        (json!(false), false),
        (json!(true), true),
    ] {
        body["thinking"] = thinking.clone();
        assert_eq!(facts(&body, None).thinking, on, "{thinking}");
    }
}

#[test]
fn facts_images_anywhere_and_in_the_last_user_message() {
    let img = json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}});
    let mut body = claude_code_body("m");
    body["messages"] = json!([
        {"role": "user", "content": [img.clone(), {"type": "text", "text": "what is this?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
        {"role": "user", "content": "thanks"}
    ]);
    let f = facts(&body, None);
    assert!(f.has_images);
    assert!(!f.last_user_has_image);
    assert_eq!(f.message_count, 3);

    // A screenshot returned by a tool (Read of a .png) counts, inside tool_result.
    body["messages"] = json!([
        {"role": "user", "content": "look at shot.png"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/shot.png"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [img.clone()]}]}
    ]);
    let f = facts(&body, None);
    assert!(f.has_images && f.last_user_has_image);

    // An image in a trailing assistant message is not a user image.
    body["messages"] = json!([{"role": "assistant", "content": [img]}]);
    let f = facts(&body, None);
    assert!(f.has_images && !f.last_user_has_image);
}

#[test]
fn facts_web_search_tool() {
    let mut body = claude_code_body("m");
    body["tools"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 8}));
    let f = facts(&body, None);
    assert!(f.has_web_search);
    assert_eq!(f.tool_names.last().unwrap(), "web_search");
}

#[test]
fn facts_subagent_tag_in_any_system_block() {
    let mut body = claude_code_body("claude-sonnet-4-5");
    // Newer Claude Code puts the agent prompt at system[2] (CCR only checked system[1]).
    body["system"].as_array_mut().unwrap().push(json!({
        "type": "text",
        "text": "<CCR-SUBAGENT-MODEL>openrouter,anthropic/claude-sonnet-4</CCR-SUBAGENT-MODEL>\nYou are a code reviewer."
    }));
    let f = facts(&body, None);
    assert_eq!(
        f.subagent_model.as_deref(),
        Some("openrouter,anthropic/claude-sonnet-4")
    );

    assert!(strip(&mut body));
    assert_eq!(body["system"][2]["text"], "\nYou are a code reviewer.");
    assert_eq!(facts(&body, None).subagent_model, None);
    assert!(!strip(&mut body));

    // As system[1], CCR's position.
    body["system"][1]["text"] = json!(
        "  <CCR-SUBAGENT-MODEL> ollama,qwen2.5-coder:latest </CCR-SUBAGENT-MODEL>Agent prompt"
    );
    let f = facts(&body, None);
    assert_eq!(
        f.subagent_model.as_deref(),
        Some("ollama,qwen2.5-coder:latest")
    );
    assert!(strip(&mut body));
    assert_eq!(body["system"][1]["text"], "  Agent prompt");

    // System as a plain string.
    let mut body = json!({"system": "<CCR-SUBAGENT-MODEL>a,b</CCR-SUBAGENT-MODEL>rest"});
    assert_eq!(facts(&body, None).subagent_model.as_deref(), Some("a,b"));
    assert!(strip(&mut body));
    assert_eq!(body["system"], "rest");

    // The tag must start the block and be closed.
    for text in [
        "prefix <CCR-SUBAGENT-MODEL>a,b</CCR-SUBAGENT-MODEL>",
        "<CCR-SUBAGENT-MODEL>a,b",
    ] {
        let mut body = json!({"system": [{"type": "text", "text": text}]});
        assert_eq!(facts(&body, None).subagent_model, None, "{text}");
        assert!(!strip(&mut body));
    }
}

#[test]
fn facts_never_panic_on_odd_bodies() {
    for body in [
        json!(null),
        json!([]),
        json!("x"),
        json!({"model": 5, "messages": {}, "tools": "x", "system": 3, "metadata": []}),
        json!({"messages": [null, {"content": [null, {"type": "tool_result", "content": "s"}]}], "tools": [null, {"type": 1}]}),
        json!({"system": [null, {"type": "text"}, {"type": "text", "text": 1}], "metadata": {"user_id": 5}}),
    ] {
        let f = facts(&body, None);
        let _ = builtin_route(&f, 0, None, &cfg());
        let mut b = body.clone();
        strip(&mut b);
    }
}

// ----- rules -----

#[test]
fn default_route() {
    let d = route(
        &claude_code_body("claude-sonnet-4-5-20250929"),
        1000,
        None,
        &cfg(),
    )
    .unwrap();
    assert_eq!(pm(&d), t("deepseek", "deepseek-chat", RouteKind::Default));
}

#[test]
fn explicit_provider_model() {
    let c = cfg();
    // Case-insensitive provider and model, canonical names back.
    let d = route(
        &claude_code_body("openrouter,moonshotai/kimi-k2"),
        0,
        None,
        &c,
    )
    .unwrap();
    assert_eq!(
        pm(&d),
        t("OpenRouter", "Moonshotai/Kimi-K2", RouteKind::Explicit)
    );
    // A model not in the list is used as given.
    let d = route(
        &claude_code_body("DEEPSEEK,deepseek-v4-preview"),
        0,
        None,
        &c,
    )
    .unwrap();
    assert_eq!(
        pm(&d),
        t("deepseek", "deepseek-v4-preview", RouteKind::Explicit)
    );
    // Split at the first comma.
    let d = route(&claude_code_body("ollama,a,b"), 0, None, &c).unwrap();
    assert_eq!(d.model, "a,b");
    // Unknown provider: an error naming it and the known ones.
    let e = route(&claude_code_body("openai,gpt-4o"), 0, None, &c).unwrap_err();
    assert_eq!(
        e,
        RouteError::UnknownProvider {
            provider: "openai".into(),
            known: vec![
                "deepseek".into(),
                "OpenRouter".into(),
                "ollama".into(),
                "gemini".into()
            ],
        }
    );
    assert_eq!(
        e.to_string(),
        "unknown provider \"openai\"; known providers: deepseek, OpenRouter, ollama, gemini"
    );
    assert!(matches!(
        route(&claude_code_body(",m"), 0, None, &c),
        Err(RouteError::MalformedModel {
            origin: "model",
            ..
        })
    ));
    assert!(matches!(
        route(&claude_code_body("deepseek,"), 0, None, &c),
        Err(RouteError::MalformedModel { .. })
    ));
}

#[test]
fn explicit_beats_everything() {
    let mut body = claude_code_body("ollama,qwen2.5-coder:latest");
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    body["messages"] = json!([{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "x"}}]}]);
    let d = route(&body, 500_000, Some(500_000), &cfg()).unwrap();
    assert_eq!(d.kind, RouteKind::Explicit);
}

#[test]
fn image_switch() {
    let mut body = claude_code_body("claude-sonnet-4-5");
    body["messages"] = json!([{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "x"}},
        {"type": "text", "text": "what's wrong in this screenshot?"}
    ]}]);
    // Beats longContext, as CCR's image agent runs before the rules.
    let d = route(&body, 100_000, None, &cfg()).unwrap();
    assert_eq!(pm(&d), t("gemini", "gemini-2.5-pro", RouteKind::Image));
    // Without Router.image the other rules apply.
    let c = cfg_with_router(r#"{ default: "deepseek,deepseek-chat" }"#);
    assert_eq!(
        route(&body, 100, None, &c).unwrap().kind,
        RouteKind::Default
    );
}

#[test]
fn long_context_threshold_and_carryover() {
    let c = cfg();
    let body = claude_code_body("claude-sonnet-4-5");
    assert_eq!(
        route(&body, 60_000, None, &c).unwrap().kind,
        RouteKind::Default
    );
    let d = route(&body, 60_001, None, &c).unwrap();
    assert_eq!(
        pm(&d),
        t(
            "OpenRouter",
            "google/gemini-2.5-pro-preview",
            RouteKind::LongContext
        )
    );
    // Previous answer was long: stay long if this request has > 20000 tokens.
    assert_eq!(
        route(&body, 20_001, Some(60_001), &c).unwrap().kind,
        RouteKind::LongContext
    );
    assert_eq!(
        route(&body, 20_000, Some(60_001), &c).unwrap().kind,
        RouteKind::Default
    );
    assert_eq!(
        route(&body, 50_000, Some(60_000), &c).unwrap().kind,
        RouteKind::Default
    );
    // Custom threshold.
    let c2 = cfg_with_router(
        r#"{ default: "deepseek,deepseek-chat", longContext: "gemini,gemini-2.5-pro", longContextThreshold: 1000 }"#,
    );
    assert_eq!(
        route(&body, 1001, None, &c2).unwrap().kind,
        RouteKind::LongContext
    );
    // Without Router.longContext nothing happens.
    let c3 = cfg_with_router(r#"{ default: "deepseek,deepseek-chat" }"#);
    assert_eq!(
        route(&body, 1_000_000, Some(1_000_000), &c3).unwrap().kind,
        RouteKind::Default
    );
    // Long context beats subagent, background, webSearch and think.
    let mut haiku = claude_code_body("claude-3-5-haiku-20241022");
    haiku["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    haiku["system"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "text", "text": "<CCR-SUBAGENT-MODEL>ollama,x</CCR-SUBAGENT-MODEL>"}));
    assert_eq!(
        route(&haiku, 70_000, None, &c).unwrap().kind,
        RouteKind::LongContext
    );
}

#[test]
fn subagent_tag_route() {
    let c = cfg();
    let mut body = claude_code_body("claude-3-5-haiku-20241022");
    body["system"].as_array_mut().unwrap().push(json!({
        "type": "text",
        "text": "<CCR-SUBAGENT-MODEL>openrouter,ANTHROPIC/CLAUDE-SONNET-4</CCR-SUBAGENT-MODEL>You review code."
    }));
    // Beats background (haiku) and think.
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    let d = route(&body, 100, None, &c).unwrap();
    assert_eq!(
        pm(&d),
        t(
            "OpenRouter",
            "anthropic/claude-sonnet-4",
            RouteKind::Subagent
        )
    );
    assert_eq!(d.kind.fallback_scenario(), "default");

    body["system"][2]["text"] = json!("<CCR-SUBAGENT-MODEL>nope,x</CCR-SUBAGENT-MODEL>");
    assert!(matches!(
        route(&body, 100, None, &c),
        Err(RouteError::UnknownProvider { .. })
    ));
    body["system"][2]["text"] = json!("<CCR-SUBAGENT-MODEL>just-a-model</CCR-SUBAGENT-MODEL>");
    let e = route(&body, 100, None, &c).unwrap_err();
    assert_eq!(
        e.to_string(),
        "subagent tag \"just-a-model\" is not \"provider,model\""
    );
}

#[test]
fn background_for_haiku() {
    let c = cfg();
    for model in [
        "claude-3-5-haiku-20241022",
        "claude-haiku-4-5-20251001",
        "claude-haiku-4-5",
    ] {
        let d = route(&claude_code_body(model), 100, None, &c).unwrap();
        assert_eq!(
            pm(&d),
            t("ollama", "qwen2.5-coder:latest", RouteKind::Background),
            "{model}"
        );
    }
    // Case-sensitive `includes`, as in CCR; and both words are needed.
    assert_eq!(
        route(&claude_code_body("Claude-Haiku"), 1, None, &c)
            .unwrap()
            .kind,
        RouteKind::Default
    );
    assert_eq!(
        route(&claude_code_body("haiku"), 1, None, &c).unwrap().kind,
        RouteKind::Default
    );
    // Background beats webSearch and think.
    let mut body = claude_code_body("claude-haiku-4-5");
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    body["tools"] = json!([{"type": "web_search_20250305", "name": "web_search"}]);
    assert_eq!(
        route(&body, 1, None, &c).unwrap().kind,
        RouteKind::Background
    );
    // No Router.background: falls through.
    let c2 = cfg_with_router(r#"{ default: "deepseek,deepseek-chat" }"#);
    assert_eq!(
        route(&claude_code_body("claude-haiku-4-5"), 1, None, &c2)
            .unwrap()
            .kind,
        RouteKind::Default
    );
}

#[test]
fn web_search_beats_think() {
    let c = cfg();
    let mut body = claude_code_body("claude-sonnet-4-5");
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    body["tools"] = json!([{"type": "web_search_20250305", "name": "web_search", "max_uses": 8}]);
    let d = route(&body, 100, None, &c).unwrap();
    assert_eq!(
        pm(&d),
        t("gemini", "gemini-2.5-flash", RouteKind::WebSearch)
    );
    // Without Router.webSearch, think applies.
    let c2 = cfg_with_router(
        r#"{ default: "deepseek,deepseek-chat", think: "deepseek,deepseek-reasoner" }"#,
    );
    assert_eq!(route(&body, 100, None, &c2).unwrap().kind, RouteKind::Think);
}

#[test]
fn think_route() {
    let c = cfg();
    let mut body = claude_code_body("claude-opus-4-1");
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 31999});
    let d = route(&body, 100, None, &c).unwrap();
    assert_eq!(pm(&d), t("deepseek", "deepseek-reasoner", RouteKind::Think));
    body["thinking"] = json!({"type": "disabled"});
    assert_eq!(
        route(&body, 100, None, &c).unwrap().kind,
        RouteKind::Default
    );
}

#[test]
fn no_default_is_an_error() {
    let c = cfg_with_router(r#"{ think: "deepseek,deepseek-reasoner" }"#);
    let e = route(&claude_code_body("claude-sonnet-4-5"), 1, None, &c).unwrap_err();
    assert_eq!(e, RouteError::NoDefault);
    assert!(e.to_string().contains("Router.default"));
    // Other rules still work without a default.
    let mut body = claude_code_body("claude-sonnet-4-5");
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 1});
    assert_eq!(route(&body, 1, None, &c).unwrap().kind, RouteKind::Think);
    // And explicit routes need no Router at all.
    let empty = config::parse(
        r#"{ Providers: [{ name: "a", api_base_url: "http://h" }] }"#,
        Path::new("c"),
        |_| None,
    )
    .unwrap();
    assert_eq!(
        route(&claude_code_body("a,m"), 1, None, &empty)
            .unwrap()
            .provider,
        "a"
    );
}

#[test]
fn route_kind_names() {
    let all = [
        (RouteKind::Explicit, "explicit", "default"),
        (RouteKind::LongContext, "longContext", "longContext"),
        (RouteKind::Subagent, "subagent", "default"),
        (RouteKind::Background, "background", "background"),
        (RouteKind::WebSearch, "webSearch", "webSearch"),
        (RouteKind::Think, "think", "think"),
        (RouteKind::Image, "image", "default"),
        (RouteKind::Default, "default", "default"),
    ];
    for (k, name, fb) in all {
        assert_eq!(k.as_str(), name);
        assert_eq!(k.to_string(), name);
        assert_eq!(k.fallback_scenario(), fb);
    }
}

#[test]
fn session_usage_feeds_long_context() {
    let c = cfg();
    let usage = SessionUsage::default();
    let body = claude_code_body("claude-sonnet-4-5");
    let f = facts(&body, None);
    let prev = f.session_id.as_deref().and_then(|s| usage.get(s));
    assert_eq!(
        builtin_route(&f, 30_000, prev, &c).unwrap().kind,
        RouteKind::Default
    );
    usage.record(f.session_id.as_deref().unwrap(), 75_000);
    let prev = f.session_id.as_deref().and_then(|s| usage.get(s));
    assert_eq!(
        builtin_route(&f, 30_000, prev, &c).unwrap().kind,
        RouteKind::LongContext
    );
}
