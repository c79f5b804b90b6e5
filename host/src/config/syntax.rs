//! JSON5 text to a document, with errors that point at the fault and quote it safely.

use std::path::Path;

use serde_json::Value;

use super::{quotable_line, ConfigError};

/// Deepest `{`/`[` nesting accepted in a config file (real configs use fewer than 10).
pub(super) const MAX_NESTING: usize = 128;

/// Parses JSON5 text into a document, turning every failure (including a pathological
/// nesting depth, which would overflow the parser's stack) into [`ConfigError::Syntax`].
pub(super) fn parse_json5(text: &str, source: &Path) -> Result<Value, ConfigError> {
    let syntax = |line, column, message: String| ConfigError::Syntax {
        path: source.to_path_buf(),
        line,
        column,
        message,
    };
    if let Some((line, column)) = find_excessive_nesting(text, MAX_NESTING) {
        return Err(syntax(
            Some(line),
            Some(column),
            format!("nesting deeper than {MAX_NESTING} levels"),
        ));
    }
    if text.trim().is_empty() {
        return Err(syntax(
            None,
            None,
            "the file is empty; expected an object {...}".into(),
        ));
    }
    // json5 should never panic, but a config error must not take the proxy down if it does.
    let parsed = std::panic::catch_unwind(|| json5::from_str::<Value>(text))
        .map_err(|_| syntax(None, None, "the JSON5 parser failed on this input".into()))?;
    parsed.map_err(|e| {
        let json5::Error::Message { msg, location } = e;
        let mut message = tidy_parser_message(&msg);
        let mut position = location.as_ref().map(|l| (l.line, l.column));
        if let Some((line, column)) = position {
            if let Some((l, c, m)) = missing_separator(text, line, column) {
                position = Some((l, c));
                message = m;
            }
        }
        if let Some((line, _)) = position {
            if let Some(quote) = safe_quote(text, line) {
                message.push_str(&format!(" in `{quote}`"));
            }
        }
        syntax(position.map(|p| p.0), position.map(|p| p.1), message)
    })
}

/// Line `line` (1-based), trimmed and cut at 80 characters, if it may be quoted: pest's
/// wording alone ("expected identifier") is hard to act on, but errors get logged and
/// shown, so never a line that may hold a secret ([`quotable_line`]).
fn safe_quote(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let index = line.checked_sub(1)?;
    let src = lines.get(index)?.trim();
    let previous = lines[..index]
        .iter()
        .rev()
        .map(|s| s.trim())
        .find(|s| !s.is_empty());
    let safe = quotable_line(src, previous).filter(|s| !s.is_empty())?;
    let mut shown: String = safe.chars().take(80).collect();
    if shown.len() < safe.len() {
        shown.push('…');
    }
    Some(shown)
}

/// pest reports a missing `,` between two members (`"a": "x" "b": 1`, or `"x" oops`) at the
/// *start* of the complete value before it, as "expected boolean or null". When the error
/// position holds a complete string, number or literal followed by something other than a
/// separator, the fault is right after that value: return that position and what was
/// expected there (`,` or the closing bracket of the enclosing object or array).
fn missing_separator(text: &str, line: usize, column: usize) -> Option<(usize, usize, String)> {
    let start = offset_of(text, line, column)?;
    let rest = &text[start..];
    let token_len = complete_token_len(rest)?;
    let end = start + token_len;
    let after = skip_blank(&text[end..]);
    match after.chars().next() {
        None | Some(',' | '}' | ']' | ':') => return None,
        Some(_) => {}
    }
    let closing = match enclosing_bracket(&text[..start])? {
        '{' => '}',
        _ => ']',
    };
    let (l, c) = line_col(text, end);
    Some((
        l,
        c,
        format!("expected `,` or `{closing}` after the value (a comma is missing?)"),
    ))
}

/// The byte offset of 1-based (line, column), columns counted in characters.
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let within = l
                .char_indices()
                .nth(column.checked_sub(1)?)
                .map(|(b, _)| b)?;
            return Some(offset + within);
        }
        offset += l.len();
    }
    None
}

/// The 1-based (line, column) of byte `offset`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// The length of the string literal, number or bare word (`true`, `Infinity`) `s` starts
/// with, if it is complete.
fn complete_token_len(s: &str) -> Option<usize> {
    let first = s.chars().next()?;
    if first == '"' || first == '\'' {
        let mut escaped = false;
        for (i, c) in s.char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '\n' => return None,
                c if c == first => return Some(i + 1),
                _ => {}
            }
        }
        return None;
    }
    let len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_')))
        .unwrap_or(s.len());
    (len > 0).then_some(len)
}

/// `s` without its leading whitespace and comments.
fn skip_blank(mut s: &str) -> &str {
    loop {
        let trimmed = s.trim_start();
        if let Some(rest) = trimmed.strip_prefix("//") {
            s = rest.find('\n').map_or("", |i| &rest[i..]);
        } else if let Some(rest) = trimmed.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |i| &rest[i + 2..]);
        } else {
            return trimmed;
        }
    }
}

/// The innermost `{` or `[` still open at the end of `s`.
fn enclosing_bracket(s: &str) -> Option<char> {
    let mut stack = Vec::new();
    for (_, c) in brackets(s) {
        if matches!(c, '{' | '[') {
            stack.push(c);
        } else {
            stack.pop();
        }
    }
    stack.pop()
}

/// The brackets (`{`, `[`, `}`, `]`) of JSON5 text outside strings and comments, with their
/// byte offsets.
fn brackets(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut chars = text.char_indices().peekable();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    std::iter::from_fn(move || {
        while let Some((i, c)) = chars.next() {
            if let Some(q) = quote {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            let next = chars.peek().map(|(_, c)| *c);
            match c {
                '"' | '\'' => quote = Some(c),
                '/' if next == Some('/') => {
                    for (_, c) in chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                '/' if next == Some('*') => {
                    chars.next();
                    let mut prev = ' ';
                    for (_, c) in chars.by_ref() {
                        if prev == '*' && c == '/' {
                            break;
                        }
                        prev = c;
                    }
                }
                '{' | '[' | '}' | ']' => return Some((i, c)),
                _ => {}
            }
        }
        None
    })
}

/// pest renders errors as a multi-line snippet ending in `= expected ...`; keep that line.
fn tidy_parser_message(msg: &str) -> String {
    msg.lines()
        .rev()
        .find_map(|l| l.trim_start().strip_prefix("= "))
        .unwrap_or_else(|| msg.lines().next().unwrap_or(msg))
        .trim()
        .to_owned()
}

/// The (line, column) of the first `{`/`[` nested deeper than `max`, skipping strings and
/// comments.
fn find_excessive_nesting(text: &str, max: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (offset, c) in brackets(text) {
        if matches!(c, '{' | '[') {
            depth += 1;
            if depth > max {
                return Some(line_col(text, offset));
            }
        } else {
            depth = depth.saturating_sub(1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse_json5(text, Path::new("/c.json"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_missing_comma_is_reported_where_the_comma_belongs() {
        assert_eq!(
            error("{\n  \"HOST\": \"0.0.0.0\"\n  \"PORT\": 3456\n}"),
            "/c.json:2:20: invalid JSON5: expected `,` or `}` after the value (a comma is \
             missing?) in `\"HOST\": \"0.0.0.0\"`"
        );
        let e = error("{\n  \"Router\": {\n    \"think\": \"c,d\" oops\n  }\n}");
        assert!(
            e.starts_with("/c.json:3:19: invalid JSON5: expected `,` or `}`"),
            "{e}"
        );
        let e = error("{\"models\": [\"a\" \"b\"]}");
        assert!(
            e.starts_with("/c.json:1:16: invalid JSON5: expected `,` or `]`"),
            "{e}"
        );
        let e = error("{\"a\": 1 // one\n \"b\": 2}");
        assert!(
            e.starts_with("/c.json:1:8: invalid JSON5: expected `,` or `}`"),
            "{e}"
        );
    }

    #[test]
    fn other_errors_keep_the_parser_position() {
        let e = error("{\n  \"a\": tru,\n}");
        assert!(
            e.starts_with("/c.json:2:8: invalid JSON5: expected array"),
            "{e}"
        );
        let e = error("{\n  \"b\": [1, 2,, 3]\n}");
        assert!(e.starts_with("/c.json:2:14: "), "{e}");
        let e = error("{\n  \"a\": \"unterminated,\n  \"b\": 1\n}");
        assert!(e.starts_with("/c.json:2:"), "{e}");
    }

    #[test]
    fn a_value_on_the_line_after_a_secret_key_is_not_quoted() {
        let e = error("{\n  \"api_key\":\n    \"sk-live-1\" \"models\": []\n}");
        assert!(!e.contains("sk-live-1"), "{e}");
        assert!(e.contains("expected `,` or `}`"), "{e}");
    }
}
