//! Splitting an upstream byte stream into events: SSE records or NDJSON lines.
//!
//! Works on bytes and splits only at line breaks, so a multi-byte UTF-8 character cut across
//! two network chunks is reassembled before anyone decodes it.

use crate::plugins::bindings::{StreamFraming, UpstreamEvent};

/// One event may not grow beyond this (a runaway upstream must not eat the memory).
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// The upstream sent an event larger than [`MAX_EVENT_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("upstream stream event exceeds {} MB", MAX_EVENT_BYTES >> 20)]
pub struct EventTooLarge;

/// Incremental splitter for one upstream stream.
#[derive(Debug)]
pub struct EventSplitter {
    ndjson: bool,
    buf: Vec<u8>,
    /// SSE: the `event:` of the record being assembled.
    event: Option<String>,
    /// SSE: the `data:` lines of the record being assembled, joined by `\n`.
    data: Vec<u8>,
    has_data: bool,
}

impl EventSplitter {
    /// A splitter for `framing` (anything but NDJSON is treated as SSE).
    pub fn new(framing: &StreamFraming) -> Self {
        EventSplitter {
            ndjson: matches!(framing, StreamFraming::Ndjson),
            buf: Vec::new(),
            event: None,
            data: Vec::new(),
            has_data: false,
        }
    }

    /// Add a chunk of bytes; complete events are appended to `out`.
    pub fn push(
        &mut self,
        chunk: &[u8],
        out: &mut Vec<UpstreamEvent>,
    ) -> Result<(), EventTooLarge> {
        self.buf.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', &self.buf[start..]) {
            let end = start + pos;
            let mut next = end + 1;
            // `\r\n` is one line break; a lone `\r` at the end of the buffer may be the first
            // half of one, so wait for more bytes.
            if self.buf[end] == b'\r' {
                if next == self.buf.len() {
                    break;
                }
                if self.buf[next] == b'\n' {
                    next += 1;
                }
            }
            let line = self.buf[start..end].to_vec();
            self.line(&line, out);
            start = next;
        }
        self.buf.drain(..start);
        if self.buf.len() + self.data.len() > MAX_EVENT_BYTES {
            return Err(EventTooLarge);
        }
        Ok(())
    }

    /// The stream ended: emit whatever was pending.
    pub fn finish(&mut self, out: &mut Vec<UpstreamEvent>) {
        let rest = std::mem::take(&mut self.buf);
        let rest = rest.strip_suffix(b"\r").unwrap_or(&rest);
        if !rest.is_empty() {
            self.line(rest, out);
        }
        if !self.ndjson {
            self.dispatch(out);
        }
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<UpstreamEvent>) {
        if self.ndjson {
            if !line.iter().all(u8::is_ascii_whitespace) {
                out.push(UpstreamEvent {
                    event: None,
                    data: line.to_vec(),
                });
            }
            return;
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // SSE comment (OpenRouter's keep-alives)
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => self.event = Some(String::from_utf8_lossy(value).into_owned()),
            _ => {} // id, retry: nothing to do for a proxy
        }
    }

    fn dispatch(&mut self, out: &mut Vec<UpstreamEvent>) {
        if self.has_data {
            out.push(UpstreamEvent {
                event: self.event.take(),
                data: std::mem::take(&mut self.data),
            });
        }
        self.event = None;
        self.has_data = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(framing: StreamFraming, chunks: &[&[u8]]) -> Vec<(Option<String>, String)> {
        let mut s = EventSplitter::new(&framing);
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out).unwrap();
        }
        s.finish(&mut out);
        out.into_iter()
            .map(|e| (e.event, String::from_utf8(e.data).unwrap()))
            .collect()
    }

    #[test]
    fn sse_records_across_arbitrary_chunk_boundaries() {
        let text = "data: {\"a\":1}\n\n: OPENROUTER PROCESSING\n\nevent: x\ndata: l1\ndata: l2\n\ndata: [DONE]\n\n";
        let whole = split(StreamFraming::Sse, &[text.as_bytes()]);
        assert_eq!(
            whole,
            vec![
                (None, "{\"a\":1}".into()),
                (Some("x".into()), "l1\nl2".into()),
                (None, "[DONE]".into())
            ]
        );
        // Byte by byte gives the same events.
        let bytes: Vec<&[u8]> = text.as_bytes().chunks(1).collect();
        assert_eq!(split(StreamFraming::Sse, &bytes), whole);
    }

    #[test]
    fn crlf_and_utf8_split_inside_a_character() {
        let text = "data: h\u{e9}llo \u{1F600}\r\n\r\n";
        let b = text.as_bytes();
        let events = split(StreamFraming::Sse, &[&b[..8], &b[8..15], &b[15..]]);
        assert_eq!(events, vec![(None, "h\u{e9}llo \u{1F600}".into())]);
    }

    #[test]
    fn unterminated_last_event_is_flushed() {
        assert_eq!(
            split(StreamFraming::Sse, &[b"data: x"]),
            vec![(None, "x".into())]
        );
    }

    #[test]
    fn ndjson_lines() {
        let events = split(
            StreamFraming::Ndjson,
            &[b"{\"a\":1}\n\n{\"b\"", b":2}\n{\"c\":3}"],
        );
        let data: Vec<_> = events.into_iter().map(|e| e.1).collect();
        assert_eq!(data, vec!["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }

    #[test]
    fn oversized_event_is_refused() {
        let mut s = EventSplitter::new(&StreamFraming::Sse);
        let mut out = Vec::new();
        let chunk = vec![b'x'; 1024 * 1024];
        let mut failed = false;
        for _ in 0..20 {
            if s.push(&chunk, &mut out).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed);
    }
}
