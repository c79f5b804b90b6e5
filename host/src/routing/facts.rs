//! What routing needs to know about a request, extracted once from the parsed body.

use crate::json::Json;

/// Opening tag of CCR's subagent model selector.
pub const SUBAGENT_OPEN: &str = "<CCR-SUBAGENT-MODEL>";
/// Closing tag of CCR's subagent model selector.
pub const SUBAGENT_CLOSE: &str = "</CCR-SUBAGENT-MODEL>";

/// Facts about one Anthropic Messages request that the routing rules (and router plugins,
/// through the WIT `route-context`) decide on. Built by [`RouteFacts::from_request`] in one
/// pass over the body; never fails, whatever the body's shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteFacts {
    /// The `model` the client sent (`""` if missing): an alias such as `claude-sonnet-4-5`,
    /// or `provider,model` after `/model`.
    pub model: String,
    /// `thinking` is present and not `{"type": "disabled"}` (enabled or adaptive).
    pub thinking: bool,
    /// `stream` is `true`.
    pub stream: bool,
    /// `name` of every tool offered, in order.
    pub tool_names: Vec<String>,
    /// Some tool's `type` starts with `web_search` (Anthropic's server tool).
    pub has_web_search: bool,
    /// Some message carries an `image` block, directly or inside a `tool_result`.
    pub has_images: bool,
    /// The last message is from the user and carries an image (directly or inside a
    /// `tool_result`): CCR's condition for switching to `Router.image`.
    pub last_user_has_image: bool,
    /// Number of entries in `messages`.
    pub message_count: u32,
    /// Claude Code's session id: from `metadata.user_id` (`…_session_<id>`, or a JSON string
    /// with `session_id`), else from the `x-claude-code-session-id` header.
    pub session_id: Option<String>,
    /// `provider,model` from a `<CCR-SUBAGENT-MODEL>…</CCR-SUBAGENT-MODEL>` tag at the start
    /// of any system text block (CCR only looked at `system[1]`, issue #1564).
    pub subagent_model: Option<String>,
}

impl RouteFacts {
    /// Extracts the facts from a request body. `session_header` is the value of the
    /// `x-claude-code-session-id` request header, if any.
    pub fn from_request(body: &Json<'_>, session_header: Option<&str>) -> RouteFacts {
        let model = body
            .get("model")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned();

        let thinking = match body.get("thinking") {
            None | Some(Json::Null) | Some(Json::Bool(false)) => false,
            Some(t) => t.get("type").and_then(Json::as_str) != Some("disabled"),
        };
        let stream = body.get("stream").and_then(Json::as_bool).unwrap_or(false);

        let mut tool_names = Vec::new();
        let mut has_web_search = false;
        if let Some(tools) = body.get("tools").and_then(Json::as_array) {
            for tool in tools {
                if let Some(name) = tool.get("name").and_then(Json::as_str) {
                    tool_names.push(name.to_owned());
                }
                if tool
                    .get("type")
                    .and_then(Json::as_str)
                    .is_some_and(|t| t.starts_with("web_search"))
                {
                    has_web_search = true;
                }
            }
        }

        let messages = body.get("messages").and_then(Json::as_array).unwrap_or(&[]);
        let has_images = messages.iter().any(message_has_image);
        let last_user_has_image = messages.last().is_some_and(|m| {
            m.get("role").and_then(Json::as_str) == Some("user") && message_has_image(m)
        });

        let session_id = body
            .get("metadata")
            .and_then(|m| m.get("user_id"))
            .and_then(Json::as_str)
            .and_then(session_from_user_id)
            .or_else(|| {
                session_header
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            });

        RouteFacts {
            model,
            thinking,
            stream,
            tool_names,
            has_web_search,
            has_images,
            last_user_has_image,
            message_count: u32::try_from(messages.len()).unwrap_or(u32::MAX),
            session_id,
            subagent_model: find_subagent_tag(body).map(|(_, inner)| inner),
        }
    }
}

/// The session id in Claude Code's `metadata.user_id`: CCR's `user_…_session_<id>` form,
/// or the JSON-string form newer Claude Code sends (`{"session_id": "…", …}`).
pub fn session_from_user_id(user_id: &str) -> Option<String> {
    let trimmed = user_id.trim();
    if trimmed.starts_with('{') {
        if let Ok(v) = Json::parse(trimmed.as_bytes()) {
            return v
                .get("session_id")
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned);
        }
    }
    // JS: `user_id.split("_session_")[1]`, the text between the first and second marker.
    let mut parts = user_id.split("_session_");
    parts.next();
    parts.next().filter(|s| !s.is_empty()).map(str::to_owned)
}

fn message_has_image(message: &Json<'_>) -> bool {
    let Some(blocks) = message.get("content").and_then(Json::as_array) else {
        return false;
    };
    blocks
        .iter()
        .any(|b| match b.get("type").and_then(Json::as_str) {
            Some("image") => true,
            Some("tool_result") => b
                .get("content")
                .and_then(Json::as_array)
                .is_some_and(|inner| {
                    inner
                        .iter()
                        .any(|x| x.get("type").and_then(Json::as_str) == Some("image"))
                }),
            _ => false,
        })
}

/// Where a subagent tag was found: `None` for a string `system`, else the block index.
type TagSite = Option<usize>;

/// The first system text that starts (after leading whitespace) with the subagent tag, and
/// the trimmed `provider,model` inside it.
fn find_subagent_tag(body: &Json<'_>) -> Option<(TagSite, String)> {
    match body.get("system")? {
        Json::Str(s) => tag_inner(s).map(|inner| (None, inner.to_owned())),
        Json::Array(blocks) => blocks.iter().enumerate().find_map(|(i, b)| {
            if b.get("type").and_then(Json::as_str) != Some("text") {
                return None;
            }
            let text = b.get("text").and_then(Json::as_str)?;
            tag_inner(text).map(|inner| (Some(i), inner.to_owned()))
        }),
        _ => None,
    }
}

/// The text between the tags, if `text` starts with an opening tag that is closed.
fn tag_inner(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix(SUBAGENT_OPEN)?;
    let end = rest.find(SUBAGENT_CLOSE)?;
    Some(rest[..end].trim())
}

/// Removes the `<CCR-SUBAGENT-MODEL>…</CCR-SUBAGENT-MODEL>` tag from the system text where
/// [`RouteFacts::subagent_model`] found it, so the upstream model never sees it. Returns
/// whether a tag was removed.
pub fn strip_subagent_tag(body: &mut Json<'_>) -> bool {
    let Some((site, _)) = find_subagent_tag(body) else {
        return false;
    };
    let text = match (site, body.get_mut("system")) {
        (None, Some(Json::Str(s))) => s,
        (Some(i), Some(Json::Array(blocks))) => {
            match blocks.get_mut(i).and_then(|b| b.get_mut("text")) {
                Some(Json::Str(s)) => s,
                _ => return false,
            }
        }
        _ => return false,
    };
    let Some(start) = text.find(SUBAGENT_OPEN) else {
        return false;
    };
    let Some(close) = text[start..].find(SUBAGENT_CLOSE) else {
        return false;
    };
    // Only this text is copied out of the borrowed body.
    text.to_mut()
        .replace_range(start..start + close + SUBAGENT_CLOSE.len(), "");
    true
}
