//! A small Server-Sent Events reader for assertions on streamed responses (the mock's OpenAI
//! chunks, the proxy's Anthropic events).

use serde_json::Value;

/// One SSE event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if any (Anthropic streams name every event; OpenAI's do not).
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

impl SseEvent {
    /// `data` parsed as JSON, or None (e.g. for `[DONE]` or a malformed event).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.data).ok()
    }
}

/// Parses a complete SSE text: events end at a blank line (`\n\n` or `\r\n\r\n`), comment
/// lines (`:`) are skipped, a trailing event without its blank line is kept.
pub fn parse(text: &str) -> Vec<SseEvent> {
    let mut events = Vec::new();
    let mut event = None;
    let mut data: Vec<&str> = Vec::new();
    let mut seen_field = false;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            if seen_field {
                events.push(SseEvent {
                    event: event.take(),
                    data: data.join("\n"),
                });
                data.clear();
                seen_field = false;
            }
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => event = Some(value.to_string()),
            "data" => data.push(value),
            _ => {}
        }
        seen_field = true;
    }
    if seen_field {
        events.push(SseEvent {
            event,
            data: data.join("\n"),
        });
    }
    events
}

/// Reads a whole streamed response and parses it. Panics if the body cannot be read (use
/// `response.text()` and [`parse`] to observe a cut connection).
pub async fn read(response: reqwest::Response) -> Vec<SseEvent> {
    let text = response.text().await.expect("reading the SSE body");
    parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_named_unnamed_comments_and_tail() {
        let text = "event: ping\ndata: {\"type\":\"ping\"}\n\n: keep-alive\n\ndata: a\ndata: b\n\ndata: [DONE]";
        let events = parse(text);
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].event.as_deref(), Some("ping"));
        assert_eq!(events[0].json().unwrap()["type"], "ping");
        assert_eq!(events[1].data, "a\nb");
        assert_eq!(events[2].data, "[DONE]");
    }
}
