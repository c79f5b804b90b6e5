//! Which behaviour a request asks for, decided from its `model` name.

use std::time::Duration;

/// What the mock does with one chat request (whatever its wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// "Hello from mock", finish `stop` (also the fallback for unknown names).
    Text,
    /// Same answer as [`Behaviour::Text`], explicitly finish `stop`.
    Stop,
    /// `"Hello from"`, ended by the request's first stop sequence (` mock` if it has none):
    /// Anthropic reports `stop_sequence`, OpenAI only `stop`.
    StopSequence,
    /// Two parallel tool calls, finish `tool_calls`.
    Tools,
    /// DeepSeek-style `reasoning_content`, then text.
    Reasoning,
    /// OpenRouter-style `reasoning` + `reasoning_details`, then text.
    ReasoningOpenRouter,
    /// Truncated text, finish `length`.
    Length,
    /// Partial text, finish `content_filter`.
    ContentFilter,
    /// Legacy `function_call`, finish `function_call`.
    FunctionCall,
    /// Non-2xx with the wire's error body.
    HttpError(u16),
    /// 400 `context_length_exceeded`.
    ContextLength,
    /// Text deltas, then the wire's error event, then the stream ends.
    MidstreamError,
    /// 200 with an invalid JSON body or an invalid chunk.
    Malformed,
    /// Connection closed in the middle of the body or stream.
    Drop,
    /// Connection closed after the request was read, before any response byte.
    DropEarly,
    /// Text = the compact JSON of the request body.
    Echo,
    /// Claude Code CLI round trip through a `Bash` tool call.
    BashTool,
    /// Precomputed "Hello from mock" answer (cheapest path).
    Static,
}

/// The behaviour plus the timing modifiers that apply to any behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// What to answer.
    pub behaviour: Behaviour,
    /// Wait this long before sending the response head.
    pub first_byte_delay: Option<Duration>,
    /// Wait this long between two stream events.
    pub chunk_delay: Option<Duration>,
}

/// Keywords checked in this order with `contains`; specific names come before the names they
/// contain (`bash-tool` before `tool`, `context-length` before `length`...).
const KEYWORDS: &[(&str, Behaviour)] = &[
    ("bash-tool", Behaviour::BashTool),
    ("midstream-error", Behaviour::MidstreamError),
    ("context-length", Behaviour::ContextLength),
    ("reasoning-openrouter", Behaviour::ReasoningOpenRouter),
    ("reasoning-or", Behaviour::ReasoningOpenRouter),
    ("reasoning", Behaviour::Reasoning),
    ("content-filter", Behaviour::ContentFilter),
    ("function-call", Behaviour::FunctionCall),
    ("drop-early", Behaviour::DropEarly),
    ("drop", Behaviour::Drop),
    ("malformed", Behaviour::Malformed),
    ("echo", Behaviour::Echo),
    ("static", Behaviour::Static),
    ("length", Behaviour::Length),
    ("tools", Behaviour::Tools),
    ("stop-sequence", Behaviour::StopSequence),
    ("stop", Behaviour::Stop),
];

impl Plan {
    /// Decides the plan for a model name (case-insensitive; see the module docs of
    /// [`crate::mock`] for the names).
    pub fn from_model(model: &str) -> Plan {
        let name = model.to_ascii_lowercase();
        let first_byte_delay = millis_after(&name, "slow-first-byte-");
        let chunk_delay = millis_after(&name, "slow-stream-");
        let behaviour = if let Some(status) = status_after(&name) {
            Behaviour::HttpError(status)
        } else {
            KEYWORDS
                .iter()
                .find(|(keyword, _)| name.contains(keyword))
                .map(|(_, behaviour)| *behaviour)
                .unwrap_or(Behaviour::Text)
        };
        Plan {
            behaviour,
            first_byte_delay,
            chunk_delay,
        }
    }
}

/// `error-NNN` with a status in 400..=599 (not `midstream-error`, checked by the caller's
/// order because `midstream-error` has no digits after it).
fn status_after(name: &str) -> Option<u16> {
    let start = name.find("error-")? + "error-".len();
    let digits: String = name[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let status: u16 = digits.parse().ok()?;
    (400..=599).contains(&status).then_some(status)
}

fn millis_after(name: &str, prefix: &str) -> Option<Duration> {
    let start = name.find(prefix)? + prefix.len();
    let digits: String = name[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_prefixes() {
        let b = |m: &str| Plan::from_model(m).behaviour;
        assert_eq!(b("text"), Behaviour::Text);
        assert_eq!(b("gpt-4o"), Behaviour::Text);
        assert_eq!(b("tools"), Behaviour::Tools);
        assert_eq!(b("stop-sequence"), Behaviour::StopSequence);
        assert_eq!(b("stop"), Behaviour::Stop);
        assert_eq!(b("openrouter/mock-tools"), Behaviour::Tools);
        assert_eq!(b("bash-tool"), Behaviour::BashTool);
        assert_eq!(b("reasoning-or"), Behaviour::ReasoningOpenRouter);
        assert_eq!(b("reasoning"), Behaviour::Reasoning);
        assert_eq!(b("context-length"), Behaviour::ContextLength);
        assert_eq!(b("length"), Behaviour::Length);
        assert_eq!(b("midstream-error"), Behaviour::MidstreamError);
        assert_eq!(b("error-429"), Behaviour::HttpError(429));
        assert_eq!(b("models/error-503"), Behaviour::HttpError(503));
        assert_eq!(b("error-200"), Behaviour::Text);
        assert_eq!(b("drop-early"), Behaviour::DropEarly);
        assert_eq!(b("drop"), Behaviour::Drop);
        let p = Plan::from_model("tools-slow-stream-25");
        assert_eq!(p.behaviour, Behaviour::Tools);
        assert_eq!(p.chunk_delay, Some(Duration::from_millis(25)));
        let p = Plan::from_model("slow-first-byte-300");
        assert_eq!(p.behaviour, Behaviour::Text);
        assert_eq!(p.first_byte_delay, Some(Duration::from_millis(300)));
    }
}
