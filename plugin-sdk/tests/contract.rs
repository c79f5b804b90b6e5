//! The SDK, its contract version and the helpers on the contract's types agree.

use ccr_plugin_sdk::{
    ApiError, HttpHead, Options, PluginError, PluginInfo, PluginKind, TransformContext,
    UpstreamRequest, CONTRACT_VERSION,
};

#[test]
fn contract_version_matches_the_wit_package() {
    let wit = include_str!("../../wit/worlds.wit");
    assert!(wit.contains(&format!("package ccr:plugin@{CONTRACT_VERSION};")));
    assert_eq!(env!("CARGO_PKG_VERSION"), CONTRACT_VERSION);
    assert_eq!(
        ccr_plugin_sdk::__private::CONTRACT_SECTION,
        CONTRACT_VERSION.as_bytes()
    );
}

#[test]
fn plugin_info_constructors_set_the_kind() {
    let info = PluginInfo::transformer("clamp", "0.1.0", "Caps max_tokens");
    assert_eq!(info.kind, PluginKind::Transformer);
    assert_eq!(info.name, "clamp");
    assert_eq!(
        PluginInfo::provider("p", "1", "").kind,
        PluginKind::Provider
    );
    assert_eq!(PluginInfo::router("r", "1", "").kind, PluginKind::Router);
}

#[test]
fn headers_are_case_insensitive() {
    let mut head = HttpHead {
        method: "POST".into(),
        url: "https://x".into(),
        headers: vec![
            ("Authorization".into(), "a".into()),
            ("x-a".into(), "1".into()),
        ],
    };
    assert_eq!(head.header("authorization"), Some("a"));
    head.set_header("AUTHORIZATION", "b");
    assert_eq!(
        head.headers,
        [
            ("x-a".to_owned(), "1".to_owned()),
            ("AUTHORIZATION".to_owned(), "b".to_owned())
        ]
    );
    head.remove_header("X-A");
    assert_eq!(head.headers.len(), 1);

    let req = UpstreamRequest::post_json(
        "https://api.example.com/v1/chat/completions",
        b"{}".to_vec(),
    );
    assert_eq!(req.head.method, "POST");
    assert_eq!(req.head.header("Content-Type"), Some("application/json"));
}

#[test]
fn api_errors_follow_the_status() {
    assert_eq!(
        ApiError::for_status(429, "slow down").error_type,
        "rate_limit_error"
    );
    assert_eq!(
        ApiError::for_status(529, "busy").error_type,
        "overloaded_error"
    );
    assert_eq!(
        ApiError::for_status(422, "bad").error_type,
        "invalid_request_error"
    );
    // One table for every provider and the host: 502/503 become 529, which Claude Code retries.
    let e = ApiError::for_status(502, "bad gateway");
    assert_eq!((e.status, e.error_type.as_str()), (529, "overloaded_error"));
    let e = ApiError::for_status(503, "unavailable");
    assert_eq!((e.status, e.error_type.as_str()), (529, "overloaded_error"));
    let e = ApiError::for_status(501, "not implemented");
    assert_eq!((e.status, e.error_type.as_str()), (501, "api_error"));
    let err: PluginError = ApiError::for_status(401, "no key").into();
    assert!(
        matches!(err, PluginError::Upstream(e) if e.status == 401 && e.error_type == "authentication_error")
    );
}

#[test]
fn json_errors_are_internal() {
    fn parse() -> Result<serde_json::Value, PluginError> {
        Ok(serde_json::from_str("{")?)
    }
    assert!(matches!(parse(), Err(PluginError::Internal(_))));
}

#[test]
fn options_parse_and_read() {
    let mut ctx = TransformContext::default();
    assert!(ctx.options().unwrap().is_empty());

    ctx.target.options = r#"{"max_tokens":4096,"ratio":0.5,"name":"x","on":true}"#.into();
    let options = ctx.options().unwrap();
    assert_eq!(options.get_u64("max_tokens"), Some(4096));
    assert_eq!(options.get_f64("ratio"), Some(0.5));
    assert_eq!(options.get_str("name"), Some("x"));
    assert_eq!(options.get_bool("on"), Some(true));
    assert_eq!(options.get_u64("name"), None);
    assert_eq!(options.get_u64("missing"), None);

    #[derive(serde::Deserialize)]
    struct Typed {
        max_tokens: u64,
        #[serde(default)]
        absent: Option<String>,
    }
    let typed: Typed = options.deserialize().unwrap();
    assert_eq!(typed.max_tokens, 4096);
    assert_eq!(typed.absent, None);

    assert!(Options::parse("").unwrap().is_empty());
    assert!(Options::parse("null").unwrap().is_empty());
    assert!(matches!(
        Options::parse("[1]"),
        Err(PluginError::Internal(_))
    ));
    assert!(matches!(Options::parse("{"), Err(PluginError::Internal(_))));
}
