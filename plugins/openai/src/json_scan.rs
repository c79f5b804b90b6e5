//! An incremental JSON nesting scanner, to tell when a streamed tool argument object is
//! complete and to close a truncated one.

/// Tracks the bracket nesting of a JSON text fed in fragments, to tell when a streamed tool
/// argument object is complete and to close a truncated one.
#[derive(Debug, Clone, Default)]
pub struct JsonScan {
    stack: Vec<u8>,
    in_string: bool,
    escape: bool,
    started: bool,
}

impl JsonScan {
    /// Feeds the next fragment.
    pub fn feed(&mut self, s: &str) {
        for b in s.bytes() {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' => {
                    self.started = true;
                    self.stack.push(b'}');
                }
                b'[' => {
                    self.started = true;
                    self.stack.push(b']');
                }
                b'}' | b']' => {
                    self.stack.pop();
                }
                _ => {}
            }
        }
    }

    /// True once a top-level object or array has been opened and closed again.
    pub fn complete(&self) -> bool {
        self.started && self.stack.is_empty() && !self.in_string
    }

    /// The text that would close everything still open (used to repair truncated output).
    pub fn closing(&self) -> String {
        let mut out = String::with_capacity(self.stack.len() + 2);
        if self.in_string {
            if self.escape {
                out.push('\\');
            }
            out.push('"');
        }
        out.extend(self.stack.iter().rev().map(|&b| b as char));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_tracks_completion_across_fragments() {
        let mut s = JsonScan::default();
        assert!(!s.complete());
        s.feed(r#"{"a": "}{\""#);
        assert!(!s.complete());
        assert_eq!(s.closing(), "\"}");
        s.feed(r#"", "b": [1, {"c": 2"#);
        assert_eq!(s.closing(), "}]}");
        s.feed("}]}");
        assert!(s.complete());
    }

    #[test]
    fn scan_closes_dangling_escape() {
        let mut s = JsonScan::default();
        s.feed(r#"{"a": "x\"#);
        assert_eq!(s.closing(), "\\\"}");
        let repaired = format!(r#"{{"a": "x\{}"#, s.closing());
        assert!(serde_json::from_str::<serde_json::Value>(&repaired).is_ok());
    }
}
