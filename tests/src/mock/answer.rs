//! What the mock answers, independent of the wire it is written on: text pieces, reasoning,
//! tool calls, the finish reason and the usage numbers every answer reports.

use serde_json::Value;

use super::behaviour::{Behaviour, Plan};
use super::BASH_TOOL_ARGUMENTS;

/// `usage.prompt_tokens` of every mock answer (includes the cached tokens).
pub const PROMPT_TOKENS: u64 = 120;
/// `usage.prompt_tokens_details.cached_tokens` of every mock answer.
pub const CACHED_TOKENS: u64 = 80;
/// `usage.completion_tokens` of every mock answer without reasoning.
pub const COMPLETION_TOKENS: u64 = 5;
/// `usage.completion_tokens_details.reasoning_tokens` of the reasoning answers (added to
/// [`COMPLETION_TOKENS`] in `completion_tokens`).
pub const REASONING_TOKENS: u64 = 12;
/// The text of the `text`, `stop` and `static` answers (and of the reasoning answers after
/// their reasoning).
pub const TEXT_ANSWER: &str = "Hello from mock";
/// The reasoning text of the `reasoning` and `reasoning-or` answers.
pub const REASONING_TEXT: &str = "Let me think about this.";
/// The signature on the last OpenRouter `reasoning_details` item of `reasoning-or`.
pub const REASONING_SIGNATURE: &str = "EqQBCkgIBhABGAIiQMockSignatureForTests0123456789abcdef";

/// Where the reasoning text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningStyle {
    /// `reasoning_content` (DeepSeek, vLLM, many OpenAI-compatible servers).
    DeepSeek,
    /// `reasoning` + `reasoning_details` (OpenRouter).
    OpenRouter,
}

/// One tool call of an answer, with its `arguments` split into stream fragments.
#[derive(Debug, Clone)]
pub struct ToolCall {
    /// OpenAI-style id (`call_...`); other wires derive theirs from it.
    pub id: String,
    /// The function name.
    pub name: String,
    /// `arguments` split into the fragments a stream sends.
    pub fragments: Vec<String>,
}

impl ToolCall {
    /// The whole `arguments` JSON string.
    pub fn arguments(&self) -> String {
        self.fragments.concat()
    }
}

/// One answer, rendered either as a `chat.completion` object or as stream chunks.
#[derive(Debug, Clone)]
pub struct Answer {
    pub reasoning: Vec<String>,
    pub reasoning_style: ReasoningStyle,
    /// Text fragments; empty means `content: null`.
    pub content: Vec<String>,
    /// Parallel tool calls; their fragments are interleaved by index when streamed.
    pub tool_calls: Vec<ToolCall>,
    /// Legacy `function_call` (name, argument fragments).
    pub function_call: Option<(String, Vec<String>)>,
    /// OpenAI's `finish_reason` (`stop`, `length`, `tool_calls`...); other wires map it.
    pub finish_reason: &'static str,
    /// The stop sequence that ended the text, for wires that report it (Anthropic's
    /// `stop_sequence`); OpenAI only says `stop`.
    pub stop_sequence: Option<String>,
}

/// Per-response identity shared by all chunks of one answer.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub id: String,
    pub created: u64,
    pub model: String,
    /// `stream_options.include_usage` was true: chunks carry `usage: null` and a final
    /// `choices: []` chunk carries the usage.
    pub include_usage: bool,
}

impl Answer {
    /// A plain text answer split into `pieces`.
    pub fn text(pieces: &[&str], finish_reason: &'static str) -> Answer {
        Answer {
            reasoning: Vec::new(),
            reasoning_style: ReasoningStyle::DeepSeek,
            content: pieces.iter().map(|s| s.to_string()).collect(),
            tool_calls: Vec::new(),
            function_call: None,
            finish_reason,
            stop_sequence: None,
        }
    }

    /// `reasoning_tokens` of this answer: [`REASONING_TOKENS`] when it reasons, else 0.
    pub fn reasoning_tokens(&self) -> u64 {
        if self.reasoning.is_empty() {
            0
        } else {
            REASONING_TOKENS
        }
    }

    /// Every output token: [`COMPLETION_TOKENS`] plus the reasoning tokens.
    pub fn output_tokens(&self) -> u64 {
        COMPLETION_TOKENS + self.reasoning_tokens()
    }
}

/// The answer a [`Plan`] gives when it answers at all (errors and faults are the wires' and
/// the server's business). `tool_output` is the latest tool result after the last assistant
/// turn, as the wire reads it from `body`.
pub fn answer_for(plan: &Plan, body: &Value, tool_output: Option<String>) -> Answer {
    match plan.behaviour {
        Behaviour::Length => Answer::text(&["Hello", " from"], "length"),
        Behaviour::ContentFilter => Answer::text(&["Hello"], "content_filter"),
        Behaviour::StopSequence => Answer {
            // The text stops where the client's first stop sequence would have started.
            stop_sequence: Some(
                body["stop_sequences"][0]
                    .as_str()
                    .or(body["stop"][0].as_str())
                    .or(body["stop"].as_str())
                    .unwrap_or(" mock")
                    .to_string(),
            ),
            ..Answer::text(&["Hello", " from"], "stop")
        },
        Behaviour::Tools => tools_answer(),
        Behaviour::Reasoning | Behaviour::ReasoningOpenRouter => Answer {
            reasoning: vec!["Let me think".into(), " about this.".into()],
            reasoning_style: if plan.behaviour == Behaviour::Reasoning {
                ReasoningStyle::DeepSeek
            } else {
                ReasoningStyle::OpenRouter
            },
            ..text_answer()
        },
        Behaviour::FunctionCall => Answer {
            function_call: Some((
                "get_weather".into(),
                vec![r#"{"city":"#.into(), r#""Paris"}"#.into()],
            )),
            ..Answer::text(&[], "function_call")
        },
        Behaviour::Echo => Answer {
            content: split_in(&body.to_string(), 3),
            ..text_answer()
        },
        Behaviour::BashTool => bash_tool_answer(tool_output),
        _ => text_answer(),
    }
}

/// "Hello from mock" in three pieces, finish `stop`.
pub fn text_answer() -> Answer {
    debug_assert_eq!(TEXT_ANSWER, "Hello from mock");
    Answer::text(&["Hello", " from", " mock"], "stop")
}

fn tools_answer() -> Answer {
    Answer {
        tool_calls: vec![
            ToolCall {
                id: "call_mock_weather".into(),
                name: "get_weather".into(),
                fragments: vec![r#"{"ci"#.into(), r#"ty":"Pa"#.into(), r#"ris"}"#.into()],
            },
            ToolCall {
                id: "call_mock_time".into(),
                name: "get_time".into(),
                fragments: vec![r#"{"tz"#.into(), r#"":"UTC"}"#.into()],
            },
        ],
        ..Answer::text(&[], "tool_calls")
    }
}

/// A model answering the conversation's last turn: a tool result there gets an answer that
/// quotes it; otherwise (a new request from the user) the model calls Bash.
fn bash_tool_answer(tool_output: Option<String>) -> Answer {
    match tool_output {
        Some(output) => {
            let text = format!("The command printed: {}", output.trim());
            Answer {
                content: split_in(&text, 2),
                ..text_answer()
            }
        }
        None => Answer {
            tool_calls: vec![ToolCall {
                id: "call_mock_bash".into(),
                name: "Bash".into(),
                fragments: split_in(BASH_TOOL_ARGUMENTS, 3),
            }],
            ..Answer::text(&[], "tool_calls")
        },
    }
}

/// Splits `text` into at most `n` non-empty pieces at char boundaries.
pub fn split_in(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    let size = chars.len().div_ceil(n).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_text() {
        assert_eq!(split_in("abcdefg", 3).concat(), "abcdefg");
        assert_eq!(split_in("abcdefg", 3).len(), 3);
        assert_eq!(split_in("é", 3), vec!["é".to_string()]);
    }
}
