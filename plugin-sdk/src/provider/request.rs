//! The Anthropic Messages request as a provider reads it: borrowed from the body, so short
//! strings point into the input where the JSON has no escapes, tool schemas and tool inputs
//! stay [`RawValue`]s, and text that is only copied stays escaped ([`Text`]). A provider
//! translates from [`Request`] into its own wire structs and serialises those, so no
//! `serde_json::Value` tree of the (often 100+ KB) request is ever built.
//!
//! ```
//! use ccr_plugin_sdk::provider::request::{self, Content};
//!
//! let body = br#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#;
//! let req = request::parse(body)?;
//! assert_eq!(req.max_tokens, Some(5));
//! assert!(matches!(req.messages[0].content, Content::Text(_)));
//! assert_eq!(req.messages[0].role.as_str(), "user");
//! # Ok::<(), ccr_plugin_sdk::PluginError>(())
//! ```

use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::provider::text::{self, in_mode, retry_decoded, Mode, Str, Text};
use crate::PluginError;

/// A Messages request, borrowed from its body: only the fields a translation to another
/// wire format reads (everything else, `cache_control`, `metadata`, signatures, citations,
/// beta fields, ..., is skipped without being decoded).
#[derive(Deserialize)]
pub struct Request<'a> {
    /// The conversation.
    #[serde(borrow)]
    pub messages: Vec<Message<'a>>,
    /// The system prompt: a string or text blocks.
    #[serde(borrow, default)]
    pub system: Option<Content<'a>>,
    /// The tools the model may call.
    #[serde(borrow, default)]
    pub tools: Option<Vec<Tool<'a>>>,
    /// How the model must use the tools.
    #[serde(borrow, default)]
    pub tool_choice: Option<ToolChoice<'a>>,
    /// Whether the answer is streamed.
    #[serde(default)]
    pub stream: Option<bool>,
    /// The output token limit.
    #[serde(default)]
    pub max_tokens: Option<u64>,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Texts that stop generation.
    #[serde(borrow, default)]
    pub stop_sequences: Option<Vec<Str<'a>>>,
    /// Extended thinking: enabled with a budget, adaptive, or disabled.
    #[serde(borrow, default)]
    pub thinking: Option<Thinking<'a>>,
    /// `output_config` (only `effort` is read).
    #[serde(borrow, default)]
    pub output_config: Option<OutputConfig<'a>>,
}

/// One turn of the conversation.
#[derive(Deserialize)]
pub struct Message<'a> {
    /// `user` or `assistant` (some clients also send `system`).
    #[serde(borrow)]
    pub role: Str<'a>,
    /// A string or blocks.
    #[serde(borrow)]
    pub content: Content<'a>,
}

/// `content`: a string or an array of blocks. Strings are rare here (Claude Code sends blocks),
/// so they are decoded: capturing the value raw first would read every block array twice.
pub enum Content<'a> {
    /// A plain string.
    Text(Text<'a>),
    /// Content blocks.
    Blocks(Vec<Block<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Content<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Content::Text(Text::plain(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Content::Text(Text::plain(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Content::Text(Text::plain(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(4));
                while let Some(b) = seq.next_element()? {
                    blocks.push(b);
                }
                Ok(Content::Blocks(blocks))
            }
        }
        // Only a document's nested content gets here in a second-level parse.
        if text::mode() == Mode::Nested {
            return Err(retry_decoded());
        }
        d.deserialize_any(V)
    }
}

/// Every content block type, flattened: only the fields translations read.
/// Every content block type, flattened: only the fields a translation reads.
#[derive(Deserialize)]
pub struct Block<'a> {
    /// `text`, `image`, `document`, `tool_use`, `tool_result`, `thinking`, ...
    #[serde(rename = "type", borrow)]
    pub kind: Str<'a>,
    /// A `text` block's text (or a plain-text document source's).
    #[serde(borrow, default)]
    pub text: Option<Text<'a>>,
    /// A `thinking` block's text.
    #[serde(borrow, default)]
    pub thinking: Option<Text<'a>>,
    /// Boxed: only images and documents have one, and a smaller block is cheaper to move.
    #[serde(borrow, default)]
    pub source: Option<Box<BlockSource<'a>>>,
    /// A `tool_use` block's call id.
    #[serde(borrow, default)]
    pub id: Option<Str<'a>>,
    /// A `tool_use` block's tool name.
    #[serde(borrow, default)]
    pub name: Option<Str<'a>>,
    /// A `tool_use` block's input, its JSON text as sent.
    #[serde(borrow, default)]
    pub input: Option<&'a RawValue>,
    /// A `tool_result` block's call id.
    #[serde(borrow, default)]
    pub tool_use_id: Option<Str<'a>>,
    /// A `tool_result` (or `search_result`) block's content.
    #[serde(borrow, default)]
    pub content: Option<BlockContent<'a>>,
    /// A `tool_result` that reports a failure.
    #[serde(default)]
    pub is_error: Option<bool>,
    /// A document's or search result's title.
    #[serde(borrow, default)]
    pub title: Option<Str<'a>>,
}

/// A block's `content`: a string or blocks (`tool_result`, `search_result`), or an object
/// (server-tool results), which translations never read.
pub enum BlockContent<'a> {
    /// A string, kept escaped.
    Text(Text<'a>),
    /// Content blocks.
    Blocks(Vec<Block<'a>>),
    /// An object (a server tool's result), never read.
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for BlockContent<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BlockContent<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BlockContent::Text(Text::plain(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BlockContent::Text(Text::plain(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(BlockContent::Text(Text::plain(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(2));
                while let Some(b) = seq.next_element()? {
                    blocks.push(b);
                }
                Ok(BlockContent::Blocks(blocks))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(BlockContent::Other)
            }
        }
        match text::mode() {
            Mode::Decoded => d.deserialize_any(V),
            Mode::Nested => Err(retry_decoded()),
            // Tool results are mostly one long string: keep it escaped. That needs the value
            // captured raw, so an array of blocks is then parsed from the capture.
            Mode::Raw => {
                let raw = <&RawValue>::deserialize(d)?;
                match raw.get().as_bytes().first() {
                    Some(b'"') => Text::from_raw(raw).map(BlockContent::Text),
                    Some(b'[') => in_mode(Mode::Nested, || serde_json::from_str(raw.get()))
                        .map(BlockContent::Blocks)
                        .map_err(|_| retry_decoded()),
                    Some(b'{') => Ok(BlockContent::Other),
                    _ => Err(retry_decoded()),
                }
            }
        }
    }
}

/// A block's `source`: an object for images and documents, a string (a URL) for search
/// results, which translations never read.
pub enum BlockSource<'a> {
    /// An image or document source.
    Source(Source<'a>),
    /// A search result's source URL, never read.
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for BlockSource<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BlockSource<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a source object")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(BlockSource::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Source::deserialize(MapAccessDeserializer::new(map)).map(BlockSource::Source)
            }
        }
        d.deserialize_any(V)
    }
}

/// An image or document `source`.
#[derive(Deserialize)]
pub struct Source<'a> {
    /// `base64`, `url`, `text` or `content`.
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Str<'a>>,
    /// The media type of `base64` (and `text`) data.
    #[serde(borrow, default)]
    pub media_type: Option<Str<'a>>,
    /// Base64 (or plain text) data.
    #[serde(borrow, default)]
    pub data: Option<Str<'a>>,
    /// A `url` source's URL.
    #[serde(borrow, default)]
    pub url: Option<Str<'a>>,
    /// A `content` document's blocks.
    #[serde(borrow, default)]
    pub content: Option<Content<'a>>,
}

/// A tool definition.
#[derive(Deserialize)]
pub struct Tool<'a> {
    /// Absent or `custom` for client tools; a server tool's versioned type otherwise.
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Str<'a>>,
    /// The tool's name.
    #[serde(borrow, default)]
    pub name: Option<Str<'a>>,
    /// What the tool does, kept escaped.
    #[serde(borrow, default)]
    pub description: Option<Text<'a>>,
    /// The JSON schema of the input, as sent.
    #[serde(borrow, default)]
    pub input_schema: Option<&'a RawValue>,
}

/// `tool_choice`.
#[derive(Deserialize)]
pub struct ToolChoice<'a> {
    /// `auto`, `any`, `tool` or `none`.
    #[serde(rename = "type", borrow)]
    pub kind: Str<'a>,
    /// The tool `tool` forces.
    #[serde(borrow, default)]
    pub name: Option<Str<'a>>,
    /// At most one call per turn.
    #[serde(default)]
    pub disable_parallel_tool_use: Option<bool>,
}

/// `thinking`.
#[derive(Deserialize)]
pub struct Thinking<'a> {
    /// `enabled`, `adaptive` or `disabled`.
    #[serde(rename = "type", borrow)]
    pub kind: Str<'a>,
    /// The thinking budget of `enabled`.
    #[serde(default)]
    pub budget_tokens: Option<u64>,
}

/// `output_config`.
#[derive(Deserialize)]
pub struct OutputConfig<'a> {
    /// `low`, `medium`, `high`, `xhigh` or `max`.
    #[serde(borrow, default)]
    pub effort: Option<Str<'a>>,
}

/// Parses a Messages request body with text kept escaped; on failure, again with text
/// decoded (see [`text::parse`]), so errors are exactly those of plain string fields, named
/// by their path (`messages[0].content`), as [`PluginError::InvalidRequest`].
pub fn parse(body: &[u8]) -> Result<Request<'_>, PluginError> {
    text::parse(body, || parse_decoded(body))
}

/// Parses the request; on failure re-parses with path tracking so the message names the
/// offending field (the fast path pays nothing for it).
fn parse_decoded(body: &[u8]) -> Result<Request<'_>, PluginError> {
    match serde_json::from_slice::<Request>(body) {
        Ok(r) => Ok(r),
        Err(first) => {
            if first.is_syntax() || first.is_eof() {
                return Err(PluginError::InvalidRequest(format!(
                    "request body is not valid JSON: {first}"
                )));
            }
            let mut de = serde_json::Deserializer::from_slice(body);
            match serde_path_to_error::deserialize::<_, Request>(&mut de) {
                Err(e) if e.path().iter().next().is_some() => Err(PluginError::InvalidRequest(
                    format!("`{}`: {}", e.path(), e.inner()),
                )),
                _ => Err(PluginError::InvalidRequest(first.to_string())),
            }
        }
    }
}
