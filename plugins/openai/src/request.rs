//! Anthropic Messages request → OpenAI chat-completions request.
//!
//! The request is read with the provider kit's borrowed view
//! ([`ccr_plugin_sdk::provider::request`]: short strings borrow from the input, tool schemas and
//! inputs stay [`RawValue`]s, text that is only copied stays escaped) and the output is
//! serialized straight from the borrowed structs below, so no `serde_json::Value` tree of the
//! (often 100+ KB) request is ever built and most of its text is never decoded nor re-escaped.
//!
//! Only fields with an OpenAI meaning are read; everything else (`cache_control`,
//! `context_management`, `metadata`, `output_config.format`, `service_tier`, `container`,
//! `mcp_servers`, beta tool fields, signatures, citations, ...) is never copied.

use std::borrow::Cow;
use std::fmt;

use ccr_plugin_sdk::provider::request::{
    parse, Block, BlockContent, BlockSource, Content, Request, Source, Tool, ToolChoice,
};
use ccr_plugin_sdk::provider::text::{join, prefixed, Str, Text};
use ccr_plugin_sdk::PluginError;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Provider options (`target.options`), all optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Options {
    /// Name of the output-token limit field: `max_tokens` (default, what most compatible
    /// servers accept) or `max_completion_tokens` (what newer OpenAI models require).
    pub max_tokens_field: Option<String>,
    /// `false`: never send `reasoning_effort` (for models that reject it; Claude Code sends
    /// adaptive thinking to model names it does not know). A string: always send that value.
    pub reasoning_effort: Option<ReasoningOption>,
    /// `false`: do not send prior thinking back as `reasoning_content` on assistant turns.
    pub reasoning_content: Option<bool>,
}

/// The `reasoning_effort` option: off, or a fixed value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ReasoningOption {
    /// `false` disables the field; `true` keeps the default mapping.
    Enabled(bool),
    /// Always send this effort.
    Fixed(String),
}

impl Options {
    /// Parses `target.options` (a JSON object; empty or `null` means defaults).
    pub fn from_json(options: &str) -> Result<Options, PluginError> {
        let trimmed = options.trim();
        if trimmed.is_empty() || trimmed == "null" {
            return Ok(Options::default());
        }
        // serde would also accept a struct as an array; options are always an object.
        if !trimmed.starts_with('{') {
            return Err(PluginError::Internal(
                "invalid openai provider options: expected a JSON object".to_owned(),
            ));
        }
        let opts: Options = serde_json::from_str(trimmed)
            .map_err(|e| PluginError::Internal(format!("invalid openai provider options: {e}")))?;
        match opts.max_tokens_field.as_deref() {
            None | Some("max_tokens") | Some("max_completion_tokens") => Ok(opts),
            Some(other) => Err(PluginError::Internal(format!(
                "invalid openai provider options: max_tokens_field must be \"max_tokens\" or \
                 \"max_completion_tokens\", got {other:?}"
            ))),
        }
    }
}

/// Translates an Anthropic Messages request body into an OpenAI chat-completions body for
/// `model`.
pub fn translate_request(body: &[u8], model: &str, opts: &Options) -> Result<Vec<u8>, PluginError> {
    let req = parse(body)?;
    let out = build(&req, model, opts)?;
    // Capacity guess: the output is about as large as the input.
    let mut buf = Vec::with_capacity(body.len() + 256);
    serde_json::to_writer(&mut buf, &out).map_err(|e| {
        PluginError::Internal(format!("failed to serialize the upstream request: {e}"))
    })?;
    Ok(buf)
}

// ---------------------------------------------------------------------------------------------
// Output (OpenAI)
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct OaRequest<'b> {
    model: &'b str,
    messages: Vec<OaMessage<'b>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<&'b [Str<'b>]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<OaTool<'b>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<OaToolChoice<'b>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<Cow<'b, str>>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct OaMessage<'b> {
    role: &'static str,
    content: OaContent<'b>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<Text<'b>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<OaToolCall<'b>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'b str>,
}

impl<'b> OaMessage<'b> {
    fn new(role: &'static str, content: OaContent<'b>) -> Self {
        OaMessage {
            role,
            content,
            reasoning_content: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum OaContent<'b> {
    Null(()),
    Text(Text<'b>),
    Parts(Vec<OaPart<'b>>),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum OaPart<'b> {
    Text { text: Text<'b> },
    ImageUrl { image_url: ImageUrl<'b> },
    File { file: OaFile<'b> },
}

#[derive(Serialize)]
struct ImageUrl<'b> {
    url: DataUrl<'b>,
}

#[derive(Serialize)]
struct OaFile<'b> {
    filename: &'b str,
    file_data: DataUrl<'b>,
}

/// A URL as-is, or a `data:` URL assembled while serializing (no copy of the base64 data).
enum DataUrl<'b> {
    Url(&'b str),
    Base64 { media_type: &'b str, data: &'b str },
}

impl Serialize for DataUrl<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DataUrl::Url(u) => s.serialize_str(u),
            DataUrl::Base64 { media_type, data } => {
                s.collect_str(&format_args!("data:{media_type};base64,{data}"))
            }
        }
    }
}

#[derive(Serialize)]
struct OaToolCall<'b> {
    id: &'b str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: OaFunctionCall<'b>,
}

#[derive(Serialize)]
struct OaFunctionCall<'b> {
    name: &'b str,
    /// The tool input's JSON text, verbatim, as a string.
    arguments: &'b str,
}

#[derive(Serialize)]
struct OaTool<'b> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: OaFunction<'b>,
}

#[derive(Serialize)]
struct OaFunction<'b> {
    name: &'b str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Text<'b>>,
    parameters: &'b RawValue,
}

#[derive(Serialize)]
#[serde(untagged)]
enum OaToolChoice<'b> {
    Mode(&'static str),
    Function {
        #[serde(rename = "type")]
        kind: &'static str,
        function: OaChoiceName<'b>,
    },
}

#[derive(Serialize)]
struct OaChoiceName<'b> {
    name: &'b str,
}

// ---------------------------------------------------------------------------------------------
// Translation
// ---------------------------------------------------------------------------------------------

/// The attribution block Claude Code puts first in `system`; it means nothing to other models
/// and changes every request (it would defeat upstream prompt caching).
const ATTRIBUTION_PREFIX: &str = "x-anthropic-billing-header:";

/// Separator between system text blocks.
const SYSTEM_JOIN: &str = "\n\n";
/// Separator between assistant text (and thinking) blocks, as CCR joins them.
const ASSISTANT_JOIN: &str = "\n";
/// Separator between text blocks of a tool result.
const TOOL_RESULT_JOIN: &str = "\n";

fn build<'b>(
    req: &'b Request<'b>,
    model: &'b str,
    opts: &Options,
) -> Result<OaRequest<'b>, PluginError> {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    // The top-level system prompt and every `role: "system"` message, folded into one
    // leading system message: Claude Code sends a system message (the Agent tool's agent
    // types) after the user's turn, and a conversation that ends on a system message makes
    // models answer it instead of the user (strict chat templates reject it outright).
    let mut system_texts = Vec::new();
    if let Some(system) = &req.system {
        system_texts.extend(system_text(system, Path::Field("system"))?);
    }

    let send_reasoning = opts.reasoning_content != Some(false);
    for (i, msg) in req.messages.iter().enumerate() {
        match msg.role.as_str() {
            "user" => user_message(&msg.content, i, &mut messages)?,
            "assistant" => messages.push(assistant_message(&msg.content, i, send_reasoning)?),
            "system" => system_texts.extend(system_text(&msg.content, Path::Content(i))?),
            other => {
                return Err(PluginError::InvalidRequest(format!(
                    "`messages[{i}].role`: unknown role {other:?} (expected \
                     \"user\", \"assistant\" or \"system\")"
                )))
            }
        }
    }

    if let Some(text) = join(system_texts, SYSTEM_JOIN) {
        messages.insert(0, OaMessage::new("system", OaContent::Text(text)));
    }

    let tools = tools(req.tools.as_deref().unwrap_or_default())?;
    let (tool_choice, parallel_tool_calls) = match &req.tool_choice {
        // OpenAI rejects `tool_choice` / `parallel_tool_calls` without `tools` (for example
        // when every tool was a server tool and got dropped).
        Some(tc) => match tool_choice(tc, &tools)? {
            _ if tools.is_empty() => (None, None),
            mapped => mapped,
        },
        None => (None, None),
    };

    let streaming = req.stream == Some(true);
    let use_completion_field = opts.max_tokens_field.as_deref() == Some("max_completion_tokens");
    let stop = req.stop_sequences.as_deref().filter(|s| !s.is_empty());

    Ok(OaRequest {
        model,
        messages,
        max_tokens: req.max_tokens.filter(|_| !use_completion_field),
        max_completion_tokens: req.max_tokens.filter(|_| use_completion_field),
        temperature: req.temperature,
        top_p: req.top_p,
        stop,
        stream: req.stream,
        stream_options: streaming.then_some(StreamOptions {
            include_usage: true,
        }),
        tools,
        tool_choice,
        parallel_tool_calls,
        reasoning_effort: reasoning_effort(req, opts),
    })
}

/// Where a block sits in the request, for error messages: spelled out only when one is
/// raised (most requests raise none, and a `format!` per block is measurable).
#[derive(Clone, Copy)]
enum Path<'p> {
    /// A top-level field.
    Field(&'static str),
    /// `messages[i].content`.
    Content(usize),
    /// `parent[i]`.
    Index(&'p Path<'p>, usize),
    /// `parent.field`.
    Child(&'p Path<'p>, &'static str),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Field(name) => f.write_str(name),
            Path::Content(i) => write!(f, "messages[{i}].content"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
            Path::Child(parent, field) => write!(f, "{parent}.{field}"),
        }
    }
}

/// The text of a system prompt (top-level `system` or a `role:"system"` message): a string
/// as-is, or the text blocks joined, without the attribution block. `None` when empty.
fn system_text<'b>(
    content: &'b Content<'b>,
    path: Path<'_>,
) -> Result<Option<Text<'b>>, PluginError> {
    match content {
        Content::Text(s) if s.is_empty() => Ok(None),
        Content::Text(s) => Ok(Some(s.borrowed())),
        Content::Blocks(blocks) => {
            let mut texts = Vec::with_capacity(blocks.len());
            for (j, b) in blocks.iter().enumerate() {
                if b.kind.as_str() != "text" {
                    continue;
                }
                let text = required_text(b, Path::Index(&path, j))?;
                if text.is_empty() || text.trimmed_starts_with(ATTRIBUTION_PREFIX) {
                    continue;
                }
                texts.push(text.borrowed());
            }
            Ok(join(texts, SYSTEM_JOIN))
        }
    }
}

fn required_text<'b>(b: &'b Block<'b>, path: Path<'_>) -> Result<&'b Text<'b>, PluginError> {
    b.text
        .as_ref()
        .ok_or_else(|| PluginError::InvalidRequest(format!("`{path}.text`: missing field `text`")))
}

/// A user turn: one `tool` message per `tool_result` (in order, first), then one `user` message
/// with everything else in block order, including images lifted out of tool results (a `tool`
/// message can only hold text).
fn user_message<'b>(
    content: &'b Content<'b>,
    i: usize,
    out: &mut Vec<OaMessage<'b>>,
) -> Result<(), PluginError> {
    let blocks = match content {
        Content::Text(s) => {
            out.push(OaMessage::new("user", OaContent::Text(s.borrowed())));
            return Ok(());
        }
        Content::Blocks(blocks) => blocks,
    };
    let mut parts: Vec<OaPart<'b>> = Vec::new();
    let at = Path::Content(i);
    for (j, b) in blocks.iter().enumerate() {
        let path = Path::Index(&at, j);
        match b.kind.as_str() {
            "text" => parts.push(OaPart::Text {
                text: required_text(b, path)?.borrowed(),
            }),
            "image" => parts.push(image_part(b, path)?),
            "document" => document_parts(b, path, &mut parts)?,
            "tool_result" => out.push(tool_result(b, path, &mut parts)?),
            // thinking, server-tool echoes, search results, tool references...: nothing an
            // OpenAI-compatible model can take in a user turn.
            _ => {}
        }
    }
    if parts.is_empty() {
        return Ok(());
    }
    let content = match parts.as_slice() {
        [OaPart::Text { .. }] => match parts.pop() {
            Some(OaPart::Text { text }) => OaContent::Text(text),
            _ => unreachable!("matched a single text part"),
        },
        _ => OaContent::Parts(parts),
    };
    out.push(OaMessage::new("user", content));
    Ok(())
}

fn source<'b>(b: &'b Block<'b>, path: Path<'_>) -> Result<&'b Source<'b>, PluginError> {
    match b.source.as_deref() {
        Some(BlockSource::Source(src)) => Ok(src),
        Some(BlockSource::Other) => Err(PluginError::InvalidRequest(format!(
            "`{path}.source`: expected a source object"
        ))),
        None => Err(PluginError::InvalidRequest(format!(
            "`{path}.source`: missing field `source`"
        ))),
    }
}

/// A required source field.
fn source_field<'b>(
    v: &'b Option<Str<'b>>,
    path: Path<'_>,
    field: &str,
) -> Result<&'b str, PluginError> {
    v.as_deref().ok_or_else(|| {
        PluginError::InvalidRequest(format!("`{path}.source.{field}`: missing field `{field}`"))
    })
}

fn image_part<'b>(b: &'b Block<'b>, path: Path<'_>) -> Result<OaPart<'b>, PluginError> {
    let src = source(b, path)?;
    let url = match src.kind.as_deref().unwrap_or_default() {
        "base64" => DataUrl::Base64 {
            media_type: source_field(&src.media_type, path, "media_type")?,
            data: source_field(&src.data, path, "data")?,
        },
        "url" => DataUrl::Url(source_field(&src.url, path, "url")?),
        other => {
            return Err(PluginError::InvalidRequest(format!(
                "`{path}.source.type`: image source {other:?} is not supported \
                 by OpenAI-compatible providers (use \"base64\" or \"url\")"
            )))
        }
    };
    Ok(OaPart::ImageUrl {
        image_url: ImageUrl { url },
    })
}

/// A `document` block: a base64 file (PDF) becomes a `file` part; text, nested-content and
/// URL documents become text parts (OpenAI has no URL file input).
fn document_parts<'b>(
    b: &'b Block<'b>,
    path: Path<'_>,
    parts: &mut Vec<OaPart<'b>>,
) -> Result<(), PluginError> {
    let src = source(b, path)?;
    let title = b.title.as_deref().filter(|t| !t.is_empty());
    match src.kind.as_deref().unwrap_or_default() {
        "base64" => {
            let media_type = source_field(&src.media_type, path, "media_type")?;
            let data = source_field(&src.data, path, "data")?;
            let filename = title.unwrap_or(if media_type == "application/pdf" {
                "document.pdf"
            } else {
                "document"
            });
            parts.push(OaPart::File {
                file: OaFile {
                    filename,
                    file_data: DataUrl::Base64 { media_type, data },
                },
            });
        }
        "text" => {
            let data = source_field(&src.data, path, "data")?;
            let text = match title {
                Some(t) => Text::plain(format!("{t}\n\n{data}")),
                None => Text::plain(data),
            };
            parts.push(OaPart::Text { text });
        }
        "content" => match &src.content {
            Some(Content::Text(s)) => parts.push(OaPart::Text { text: s.borrowed() }),
            Some(Content::Blocks(blocks)) => {
                let at = Path::Child(&path, "source.content");
                for (k, blk) in blocks.iter().enumerate() {
                    let p = Path::Index(&at, k);
                    match blk.kind.as_str() {
                        "text" => parts.push(OaPart::Text {
                            text: required_text(blk, p)?.borrowed(),
                        }),
                        "image" => parts.push(image_part(blk, p)?),
                        _ => {}
                    }
                }
            }
            None => {}
        },
        "url" => {
            let url = source_field(&src.url, path, "url")?;
            parts.push(OaPart::Text {
                text: Text::plain(format!("[document: {url}]")),
            });
        }
        other => {
            return Err(PluginError::InvalidRequest(format!(
                "`{path}.source.type`: document source {other:?} is not \
                 supported by OpenAI-compatible providers"
            )))
        }
    }
    Ok(())
}

/// One `tool_result` → a `tool` message. Its text blocks are joined; its images (and files)
/// are appended to `parts`, the user message that follows the tool messages, after a short
/// label naming the call. `is_error` results are prefixed with `Error: ` so the model can
/// tell a failure from output (OpenAI tool messages have no error flag).
fn tool_result<'b>(
    b: &'b Block<'b>,
    path: Path<'_>,
    parts: &mut Vec<OaPart<'b>>,
) -> Result<OaMessage<'b>, PluginError> {
    let id = b.tool_use_id.as_deref().ok_or_else(|| {
        PluginError::InvalidRequest(format!("`{path}.tool_use_id`: missing field `tool_use_id`"))
    })?;
    let mut texts: Vec<Text<'b>> = Vec::new();
    let mut media: Vec<OaPart<'b>> = Vec::new();
    match &b.content {
        Some(BlockContent::Text(s)) => texts.push(s.borrowed()),
        Some(BlockContent::Blocks(blocks)) => {
            let at = Path::Child(&path, "content");
            for (k, blk) in blocks.iter().enumerate() {
                let p = Path::Index(&at, k);
                match blk.kind.as_str() {
                    "text" => texts.push(required_text(blk, p)?.borrowed()),
                    "image" => media.push(image_part(blk, p)?),
                    "document" => {
                        let mut doc = Vec::new();
                        document_parts(blk, p, &mut doc)?;
                        for part in doc {
                            match part {
                                OaPart::Text { text } => texts.push(text),
                                other => media.push(other),
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Some(BlockContent::Other) => {
            return Err(PluginError::InvalidRequest(format!(
                "`{path}.content`: expected a string or an array of content \
                 blocks"
            )))
        }
        None => {}
    }
    let mut text = join(texts, TOOL_RESULT_JOIN).unwrap_or(Text::plain(""));
    if !media.is_empty() {
        parts.push(OaPart::Text {
            text: Text::plain(format!("[attachments from the result of tool call {id}]")),
        });
        parts.append(&mut media);
        if text.is_empty() {
            text = Text::plain("[the result's attachments follow in the next user message]");
        }
    }
    if b.is_error == Some(true) {
        text = if text.is_empty() {
            Text::plain("Error")
        } else {
            prefixed("Error: ", text)
        };
    }
    let mut msg = OaMessage::new("tool", OaContent::Text(text));
    msg.tool_call_id = Some(id);
    Ok(msg)
}

/// An assistant turn: text blocks joined into `content` (`null` when there are tool calls and
/// no text), `tool_use` → `tool_calls` with the input's JSON text verbatim as `arguments`,
/// thinking → `reasoning_content` (DeepSeek requires it back on tool-call turns).
fn assistant_message<'b>(
    content: &'b Content<'b>,
    i: usize,
    send_reasoning: bool,
) -> Result<OaMessage<'b>, PluginError> {
    let blocks = match content {
        Content::Text(s) => return Ok(OaMessage::new("assistant", OaContent::Text(s.borrowed()))),
        Content::Blocks(blocks) => blocks,
    };
    let mut texts = Vec::new();
    let mut thinking = Vec::new();
    let mut tool_calls = Vec::new();
    let at = Path::Content(i);
    for (j, b) in blocks.iter().enumerate() {
        let path = Path::Index(&at, j);
        match b.kind.as_str() {
            "text" => {
                let t = required_text(b, path)?;
                if !t.is_empty() {
                    texts.push(t.borrowed());
                }
            }
            "thinking" => {
                if let Some(t) = b.thinking.as_ref().filter(|t| !t.is_empty()) {
                    thinking.push(t.borrowed());
                }
            }
            "tool_use" => {
                let missing = |field: &str| {
                    PluginError::InvalidRequest(format!(
                        "`{path}.{field}`: missing field `{field}`"
                    ))
                };
                tool_calls.push(OaToolCall {
                    id: b.id.as_deref().ok_or_else(|| missing("id"))?,
                    kind: "function",
                    function: OaFunctionCall {
                        name: b.name.as_deref().ok_or_else(|| missing("name"))?,
                        arguments: b.input.map_or("{}", RawValue::get),
                    },
                });
            }
            // redacted_thinking is opaque Anthropic ciphertext; server-tool echoes have no
            // OpenAI form.
            _ => {}
        }
    }
    let content = match join(texts, ASSISTANT_JOIN) {
        Some(t) => OaContent::Text(t),
        None if tool_calls.is_empty() => OaContent::Text(Text::plain("")),
        None => OaContent::Null(()),
    };
    let mut msg = OaMessage::new("assistant", content);
    msg.tool_calls = tool_calls;
    if send_reasoning {
        msg.reasoning_content = join(thinking, ASSISTANT_JOIN);
    }
    Ok(msg)
}

/// Custom tools → functions. Server tools (a `type` other than `custom`) cannot run on an
/// OpenAI-compatible upstream and are dropped; beta fields are never read.
fn tools<'b>(tools: &'b [Tool<'b>]) -> Result<Vec<OaTool<'b>>, PluginError> {
    let mut out = Vec::with_capacity(tools.len());
    for (k, t) in tools.iter().enumerate() {
        if t.kind.as_deref().is_some_and(|k| k != "custom") {
            continue;
        }
        let missing = |field: &str| {
            PluginError::InvalidRequest(format!("`tools[{k}].{field}`: missing field `{field}`"))
        };
        out.push(OaTool {
            kind: "function",
            function: OaFunction {
                name: t.name.as_deref().ok_or_else(|| missing("name"))?,
                description: t.description.as_ref().map(Text::borrowed),
                parameters: t.input_schema.ok_or_else(|| missing("input_schema"))?,
            },
        });
    }
    Ok(out)
}

/// `tool_choice` → (`tool_choice`, `parallel_tool_calls`). A forced tool that is not among the
/// translated tools (a dropped server tool) falls back to the default (`auto`).
fn tool_choice<'b>(
    tc: &'b ToolChoice<'b>,
    tools: &[OaTool<'b>],
) -> Result<(Option<OaToolChoice<'b>>, Option<bool>), PluginError> {
    let parallel = (tc.disable_parallel_tool_use == Some(true)).then_some(false);
    let choice = match tc.kind.as_str() {
        "auto" => Some(OaToolChoice::Mode("auto")),
        "any" => Some(OaToolChoice::Mode("required")),
        "none" => Some(OaToolChoice::Mode("none")),
        "tool" => {
            let name = tc.name.as_deref().ok_or_else(|| {
                PluginError::InvalidRequest("`tool_choice.name`: missing field `name`".to_owned())
            })?;
            tools
                .iter()
                .any(|t| t.function.name == name)
                .then_some(OaToolChoice::Function {
                    kind: "function",
                    function: OaChoiceName { name },
                })
        }
        other => {
            return Err(PluginError::InvalidRequest(format!(
                "`tool_choice.type`: unknown tool_choice type {other:?}"
            )))
        }
    };
    Ok((choice, parallel))
}

/// `thinking` → `reasoning_effort`: an enabled budget maps ≤1024 → low, ≤8192 → medium, else
/// high; adaptive thinking maps `output_config.effort` (low → low, medium → medium,
/// high/xhigh/max → high; medium when absent). Disabled or absent thinking sends nothing.
fn reasoning_effort<'b>(req: &Request<'b>, opts: &Options) -> Option<Cow<'b, str>> {
    match &opts.reasoning_effort {
        Some(ReasoningOption::Enabled(false)) => return None,
        Some(ReasoningOption::Fixed(v)) => return Some(Cow::Owned(v.clone())),
        _ => {}
    }
    let thinking = req.thinking.as_ref()?;
    let effort = match thinking.kind.as_str() {
        "enabled" => match thinking.budget_tokens {
            Some(b) if b <= 1024 => "low",
            Some(b) if b <= 8192 => "medium",
            Some(_) => "high",
            None => "medium",
        },
        "adaptive" => match req.output_config.as_ref().and_then(|o| o.effort.as_deref()) {
            Some("low") => "low",
            Some("high" | "xhigh" | "max") => "high",
            _ => "medium",
        },
        _ => return None,
    };
    Some(Cow::Borrowed(effort))
}

#[cfg(test)]
#[path = "tests/request.rs"]
mod tests;
