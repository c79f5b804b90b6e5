//! Typed serde models of the Anthropic Messages API: the request Claude Code sends, the
//! response it expects and the stream events it reads.
//!
//! Every struct keeps the fields it does not model in a flattened `extra` map, and every enum
//! of "kinds" (content blocks, deltas, stream events, roles, stop reasons) has a catch-all
//! variant, so parsing a body and writing it back keeps every field and value: fields
//! Anthropic adds next month survive a plugin built today. Optional fields are left out when
//! `None`. Named fields are written in Anthropic's order, unknown ones after them.
//!
//! Numbers are written the way JavaScript writes them (`1`, not `1.0`), so a body that Claude
//! Code produced round-trips byte for byte through the float fields (`temperature`, `top_p`).
//!
//! ```
//! use ccr_plugin_sdk::anthropic::MessagesRequest;
//!
//! let body = br#"{"model":"claude-sonnet-4-5","max_tokens":32000,"messages":[],"betas_we_never_heard_of":true}"#;
//! let mut req = MessagesRequest::from_slice(body)?;
//! req.max_tokens = req.max_tokens.map(|n| n.min(8192));
//! let out = req.to_vec()?;
//! assert_eq!(
//!     out,
//!     br#"{"model":"claude-sonnet-4-5","max_tokens":8192,"messages":[],"betas_we_never_heard_of":true}"#
//! );
//! # Ok::<(), ccr_plugin_sdk::PluginError>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{PluginError, SseEvent};

/// The fields of a JSON object that a model does not name. (Written after the named fields,
/// in key order: a round trip keeps every field and value, not the original key order.)
pub type JsonMap = serde_json::Map<String, Value>;

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The human (and tool results).
    User,
    /// The model.
    Assistant,
    /// A mid-conversation system message (Claude Code sends these with `cache_control`).
    System,
    /// A role this SDK does not know yet.
    #[serde(untagged)]
    Other(String),
}

/// A prompt-cache breakpoint: `{"type":"ephemeral","ttl":"5m"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheControl {
    /// Always `ephemeral` today.
    #[serde(rename = "type")]
    pub kind: String,
    /// `5m` or `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl CacheControl {
    /// The default five-minute breakpoint, `{"type":"ephemeral"}`.
    pub fn ephemeral() -> Self {
        CacheControl {
            kind: "ephemeral".to_owned(),
            ttl: None,
            extra: JsonMap::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

/// A `POST /v1/messages` request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest {
    /// The model to ask for (an alias such as `claude-sonnet-4-5`, or `provider,model`).
    pub model: String,
    /// The output cap. Required by `/v1/messages`; absent from `count_tokens` bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// The system prompt: a string or text blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemPrompt>,
    /// Tools the model may call, custom (`input_schema`) or server tools (`type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// How the model must use the tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Extended thinking: enabled (with a budget), disabled or adaptive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
    /// Whether the client wants server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Sampling temperature.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::serialize"
    )]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "js_number::serialize"
    )]
    pub top_p: Option<f64>,
    /// Top-k sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    /// Strings that end the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Request metadata (Claude Code puts its session fingerprint in `user_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Effort and structured-output settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig>,
    /// Fields this SDK does not model (`cache_control`, `service_tier`,
    /// `context_management`, ...).
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl MessagesRequest {
    /// Parses a request body. A body that is not a Messages request is the client's fault,
    /// so the error is [`PluginError::InvalidRequest`].
    pub fn from_slice(body: &[u8]) -> Result<Self, PluginError> {
        serde_json::from_slice(body)
            .map_err(|e| PluginError::InvalidRequest(format!("invalid Messages request: {e}")))
    }

    /// Serialises the request as compact JSON.
    pub fn to_vec(&self) -> Result<Vec<u8>, PluginError> {
        Ok(serde_json::to_vec(self)?)
    }

    /// Whether the request asks for a streamed answer.
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// A string or content blocks.
    pub content: MessageContent,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl Message {
    /// A user message holding one string.
    pub fn user(text: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            content: MessageContent::Text(text.into()),
            extra: JsonMap::new(),
        }
    }

    /// An assistant message holding one string.
    pub fn assistant(text: impl Into<String>) -> Self {
        Message {
            role: Role::Assistant,
            content: MessageContent::Text(text.into()),
            extra: JsonMap::new(),
        }
    }
}

/// Message content: a string (shorthand for one text block) or a list of blocks. Also the
/// shape of `tool_result.content`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// The string shorthand.
    Text(String),
    /// Content blocks, in order.
    Blocks(Vec<ContentBlock>),
}

impl MessageContent {
    /// The blocks, with the string shorthand seen as one text block.
    pub fn into_blocks(self) -> Vec<ContentBlock> {
        match self {
            MessageContent::Text(text) => vec![ContentBlock::text(text)],
            MessageContent::Blocks(blocks) => blocks,
        }
    }
}

/// The `system` field: a string or text blocks (Claude Code sends blocks with
/// `cache_control`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SystemPrompt {
    /// A plain string.
    Text(String),
    /// Blocks, normally `text` blocks.
    Blocks(Vec<ContentBlock>),
}

/// A content block, in a request or a response. Block types this SDK does not model
/// (`document`, `server_tool_use`, `web_search_tool_result`, ...) are kept whole in
/// [`ContentBlock::Other`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    /// `{"type":"text","text":...}`.
    Text(TextBlock),
    /// `{"type":"image","source":...}`.
    Image(ImageBlock),
    /// `{"type":"tool_use","id":...,"name":...,"input":{...}}`.
    ToolUse(ToolUseBlock),
    /// `{"type":"tool_result","tool_use_id":...,"content":...}`.
    ToolResult(ToolResultBlock),
    /// `{"type":"thinking","thinking":...,"signature":...}`; must go back unmodified.
    Thinking(ThinkingBlock),
    /// `{"type":"redacted_thinking","data":...}`; must go back unmodified.
    RedactedThinking(RedactedThinkingBlock),
    /// Any other block, or a known block with an unexpected shape, kept as it came.
    #[serde(untagged, serialize_with = "type_first")]
    Other(Value),
}

impl ContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text(TextBlock {
            text: text.into(),
            cache_control: None,
            extra: JsonMap::new(),
        })
    }

    /// A tool call with its parsed input.
    pub fn tool_use(id: impl Into<String>, name: impl Into<String>, input: Value) -> Self {
        ContentBlock::ToolUse(ToolUseBlock {
            id: id.into(),
            name: name.into(),
            input,
            cache_control: None,
            extra: JsonMap::new(),
        })
    }

    /// A thinking block.
    pub fn thinking(thinking: impl Into<String>, signature: impl Into<String>) -> Self {
        ContentBlock::Thinking(ThinkingBlock {
            thinking: thinking.into(),
            signature: signature.into(),
            extra: JsonMap::new(),
        })
    }

    /// The block's `type`, for every variant (including [`ContentBlock::Other`]).
    pub fn kind(&self) -> &str {
        match self {
            ContentBlock::Text(_) => "text",
            ContentBlock::Image(_) => "image",
            ContentBlock::ToolUse(_) => "tool_use",
            ContentBlock::ToolResult(_) => "tool_result",
            ContentBlock::Thinking(_) => "thinking",
            ContentBlock::RedactedThinking(_) => "redacted_thinking",
            ContentBlock::Other(value) => value.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// A text block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextBlock {
    /// The text.
    pub text: String,
    /// A prompt-cache breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this SDK does not model (`citations`, ...).
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// An image block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageBlock {
    /// Where the image comes from.
    pub source: ImageSource,
    /// A prompt-cache breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// An image's source: `base64` (`media_type` + `data`), `url` (`url`) or `file` (`file_id`,
/// kept in `extra`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSource {
    /// `base64`, `url` or `file`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `image/jpeg`, `image/png`, `image/gif` or `image/webp` (base64 sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The base64 payload (base64 sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The image URL (url sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A tool call (assistant turns and responses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolUseBlock {
    /// `toolu_...`; the matching `tool_result` names it.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, always an object.
    pub input: Value,
    /// A prompt-cache breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A tool's answer (user turns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResultBlock {
    /// The `tool_use` block this answers.
    pub tool_use_id: String,
    /// A string or blocks (text, image, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    /// The tool failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// A prompt-cache breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A thinking block. Anthropic rejects a conversation whose thinking blocks were modified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThinkingBlock {
    /// The (summarised) reasoning.
    pub thinking: String,
    /// The signature that lets Anthropic verify the block.
    #[serde(default)]
    pub signature: String,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// Encrypted reasoning. Must go back unmodified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedactedThinkingBlock {
    /// The opaque payload.
    pub data: String,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A tool the model may call: a custom tool (`name`, `description`, `input_schema`) or a
/// server tool (`type` such as `web_search_20250305`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// The tool's name.
    pub name: String,
    /// `custom` or a server tool type; absent for most custom tools.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// What the tool does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the input (custom tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    /// A prompt-cache breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
    /// Fields this SDK does not model (`strict`, `defer_loading`, `max_uses`, ...).
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl Tool {
    /// Whether this is a server tool (Anthropic runs it), such as `web_search_20250305`.
    pub fn is_server_tool(&self) -> bool {
        self.kind.as_deref().is_some_and(|kind| kind != "custom")
    }
}

/// `tool_choice`: `auto`, `any`, `tool` (with `name`) or `none`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolChoice {
    /// `auto`, `any`, `tool` or `none`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The tool to call, for `tool`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Allow at most one tool call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_use: Option<bool>,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `thinking`: `enabled` (with `budget_tokens`), `disabled` or `adaptive`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thinking {
    /// `enabled`, `disabled` or `adaptive`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The thinking budget, for `enabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u64>,
    /// `summarized` or `omitted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl Thinking {
    /// Whether thinking is on (`enabled` or `adaptive`).
    pub fn is_on(&self) -> bool {
        matches!(self.kind.as_str(), "enabled" | "adaptive")
    }
}

/// `metadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// An opaque user id; Claude Code puts a user/session fingerprint here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `output_config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputConfig {
    /// `low`, `medium`, `high`, `xhigh` or `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// Structured output: `{"type":"json_schema","schema":{...}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

/// Why the model stopped. Serialised as its snake_case string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model finished its turn.
    EndTurn,
    /// `max_tokens` was reached.
    MaxTokens,
    /// A stop sequence matched (`stop_sequence` says which).
    StopSequence,
    /// The model wants tool results.
    ToolUse,
    /// A server tool loop paused; send the conversation back to continue.
    PauseTurn,
    /// The model declined.
    Refusal,
    /// The context window filled up.
    ModelContextWindowExceeded,
    /// A reason this SDK does not know yet.
    #[serde(untagged)]
    Other(String),
}

impl StopReason {
    /// The wire string, such as `end_turn`.
    pub fn as_str(&self) -> &str {
        match self {
            StopReason::EndTurn => "end_turn",
            StopReason::MaxTokens => "max_tokens",
            StopReason::StopSequence => "stop_sequence",
            StopReason::ToolUse => "tool_use",
            StopReason::PauseTurn => "pause_turn",
            StopReason::Refusal => "refusal",
            StopReason::ModelContextWindowExceeded => "model_context_window_exceeded",
            StopReason::Other(other) => other,
        }
    }
}

impl From<&str> for StopReason {
    fn from(s: &str) -> Self {
        match s {
            "end_turn" => StopReason::EndTurn,
            "max_tokens" => StopReason::MaxTokens,
            "stop_sequence" => StopReason::StopSequence,
            "tool_use" => StopReason::ToolUse,
            "pause_turn" => StopReason::PauseTurn,
            "refusal" => StopReason::Refusal,
            "model_context_window_exceeded" => StopReason::ModelContextWindowExceeded,
            other => StopReason::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Token counts of a response (and of `message_start`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens, excluding cached ones.
    #[serde(default)]
    pub input_tokens: u64,
    /// Input tokens written to the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// Output tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// Fields this SDK does not model (`service_tier`, `cache_creation`, ...).
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl Usage {
    /// Usage with input and output counts and zero cache counts, the shape Anthropic sends
    /// (clients read the cache counts, so they are written even when zero).
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Usage {
            input_tokens,
            cache_creation_input_tokens: Some(0),
            cache_read_input_tokens: Some(0),
            output_tokens,
            extra: JsonMap::new(),
        }
    }
}

/// A whole (non-streamed) Messages response; also the `message` of `message_start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesResponse {
    /// `msg_...`.
    pub id: String,
    /// Always `message`.
    #[serde(rename = "type", default = "message_type")]
    pub kind: String,
    /// Always `assistant`.
    #[serde(default = "assistant_role")]
    pub role: Role,
    /// The model that answered.
    pub model: String,
    /// The answer's blocks.
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    /// Why the model stopped; `null` only in `message_start`.
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that matched, if any.
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// Token counts.
    #[serde(default)]
    pub usage: Usage,
    /// Fields this SDK does not model (`container`, `stop_details`, ...).
    #[serde(flatten)]
    pub extra: JsonMap,
}

fn message_type() -> String {
    "message".to_owned()
}

fn assistant_role() -> Role {
    Role::Assistant
}

impl MessagesResponse {
    /// An empty assistant message: no content and no stop reason yet (the shape of
    /// `message_start`).
    pub fn new(id: impl Into<String>, model: impl Into<String>, usage: Usage) -> Self {
        MessagesResponse {
            id: id.into(),
            kind: message_type(),
            role: Role::Assistant,
            model: model.into(),
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage,
            extra: JsonMap::new(),
        }
    }

    /// Parses a response body. A malformed response is a plugin or upstream fault, so the
    /// error is [`PluginError::Internal`].
    pub fn from_slice(body: &[u8]) -> Result<Self, PluginError> {
        serde_json::from_slice(body)
            .map_err(|e| PluginError::Internal(format!("invalid Messages response: {e}")))
    }

    /// Serialises the response as compact JSON.
    pub fn to_vec(&self) -> Result<Vec<u8>, PluginError> {
        Ok(serde_json::to_vec(self)?)
    }
}

// ---------------------------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------------------------

/// One Anthropic stream event (the `data:` of an SSE record; its `type` is the `event:` name).
/// Build them with [`crate::sse`]; turn one into an [`SseEvent`] with [`StreamEvent::to_sse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The message begins: an empty [`MessagesResponse`] with the input usage.
    MessageStart {
        /// The message so far (no content, no stop reason).
        message: MessagesResponse,
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// Block `index` begins (text and thinking empty, tool_use with `input: {}`).
    ContentBlockStart {
        /// The block's position in `content`.
        index: usize,
        /// The block's initial state.
        content_block: ContentBlock,
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// A piece of block `index`.
    ContentBlockDelta {
        /// The block's position in `content`.
        index: usize,
        /// What to append.
        delta: ContentDelta,
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// Block `index` is complete.
    ContentBlockStop {
        /// The block's position in `content`.
        index: usize,
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// The stop reason and cumulative usage.
    MessageDelta {
        /// Stop reason and stop sequence.
        delta: MessageDeltaBody,
        /// Cumulative usage (at least `output_tokens`).
        usage: MessageDeltaUsage,
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// The message is complete.
    MessageStop {
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// Keep-alive.
    Ping {
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// The stream failed after it started (the HTTP status is already 200).
    Error {
        /// Anthropic error type and message.
        error: ErrorBody,
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// An event this SDK does not know yet, kept as it came.
    #[serde(untagged, serialize_with = "type_first")]
    Other(Value),
}

impl StreamEvent {
    /// The event's name (its `type`), used as the SSE `event:` line.
    pub fn name(&self) -> &str {
        match self {
            StreamEvent::MessageStart { .. } => "message_start",
            StreamEvent::ContentBlockStart { .. } => "content_block_start",
            StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
            StreamEvent::ContentBlockStop { .. } => "content_block_stop",
            StreamEvent::MessageDelta { .. } => "message_delta",
            StreamEvent::MessageStop { .. } => "message_stop",
            StreamEvent::Ping { .. } => "ping",
            StreamEvent::Error { .. } => "error",
            StreamEvent::Other(value) => value.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// Parses an event's JSON data.
    pub fn from_slice(data: &[u8]) -> Result<Self, PluginError> {
        serde_json::from_slice(data)
            .map_err(|e| PluginError::Internal(format!("invalid stream event: {e}")))
    }

    /// Parses the data of an SSE event.
    pub fn from_sse(event: &SseEvent) -> Result<Self, PluginError> {
        Self::from_slice(&event.data)
    }

    /// Serialises the event's data as compact JSON.
    pub fn to_vec(&self) -> Result<Vec<u8>, PluginError> {
        Ok(serde_json::to_vec(self)?)
    }

    /// The SSE event: `event:` is [`StreamEvent::name`], `data:` the compact JSON.
    pub fn to_sse(&self) -> SseEvent {
        SseEvent {
            event: self.name().to_owned(),
            // Infallible: every field serialises to JSON with string keys.
            data: serde_json::to_vec(self).expect("stream events serialise to JSON"),
        }
    }
}

/// The `delta` of a `content_block_delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentDelta {
    /// More text.
    TextDelta {
        /// The text to append.
        text: String,
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// More tool input JSON (concatenate all pieces, parse at `content_block_stop`).
    InputJsonDelta {
        /// A piece of JSON text.
        partial_json: String,
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// More thinking text.
    ThinkingDelta {
        /// The text to append.
        thinking: String,
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// The thinking block's signature, sent once before `content_block_stop`.
    SignatureDelta {
        /// The signature.
        signature: String,
        /// Fields this SDK does not model.
        #[serde(flatten)]
        extra: JsonMap,
    },
    /// A delta this SDK does not know yet (`citations_delta`, ...), kept as it came.
    #[serde(untagged, serialize_with = "type_first")]
    Other(Value),
}

/// The `delta` of a `message_delta`. Both fields are always written, `null` when unset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageDeltaBody {
    /// Why the model stopped.
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that matched, if any.
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// The cumulative `usage` of a `message_delta`. Only `output_tokens` is required; newer
/// servers also repeat the input counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageDeltaUsage {
    /// Input tokens, excluding cached ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Input tokens written to the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// Output tokens so far.
    #[serde(default)]
    pub output_tokens: u64,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl MessageDeltaUsage {
    /// Usage with only the output count, the minimum `message_delta` carries.
    pub fn output(output_tokens: u64) -> Self {
        MessageDeltaUsage {
            output_tokens,
            ..MessageDeltaUsage::default()
        }
    }
}

/// The `error` object of an error event or error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// `overloaded_error`, `rate_limit_error`, `api_error`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Human-readable message.
    pub message: String,
    /// Fields this SDK does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// Writes a JSON object with its `type` first, as Anthropic does, and the other keys after
/// it; used for the values of the `Other` variants.
fn type_first<S: serde::Serializer>(value: &Value, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;

    let Value::Object(map) = value else {
        return value.serialize(serializer);
    };
    let mut out = serializer.serialize_map(Some(map.len()))?;
    if let Some(kind) = map.get("type") {
        out.serialize_entry("type", kind)?;
    }
    for (key, value) in map.iter().filter(|(key, _)| *key != "type") {
        out.serialize_entry(key, value)?;
    }
    out.end()
}

/// Writes floats the way JavaScript's `JSON.stringify` does: integral values without a
/// fraction (`1`, not `1.0`), so request bodies from Claude Code round-trip exactly.
mod js_number {
    use serde::Serializer;

    /// Largest integer an `f64` holds exactly (2^53).
    const MAX_SAFE: f64 = 9_007_199_254_740_992.0;

    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        match *value {
            Some(v) if v.fract() == 0.0 && v.abs() <= MAX_SAFE => {
                serializer.serialize_i64(v as i64)
            }
            Some(v) => serializer.serialize_f64(v),
            None => serializer.serialize_none(),
        }
    }
}
